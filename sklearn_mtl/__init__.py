"""Multi-task learning as scikit-learn estimators.

Neural multi-task models (Shared-Bottom, OMoE, MMoE, PLE, Cross-Stitch, ESMM)
trained through skorch
and linear multi-task baselines (l1/lq row-sparse and mean-regularised), all
with scikit-learn's multi-output conventions: ``y`` of shape
``(n_samples, n_tasks)``, NaN for a missing label.

The neural estimators and :func:`save` / :func:`load` are imported on first
use, so ``import sklearn_mtl.linear`` (numpy and scikit-learn only) does not
load torch.
"""

import importlib
from importlib.metadata import PackageNotFoundError, version

from .utils._moved_modules import install as _install_moved_modules

try:  # the one source of the version is pyproject.toml, through the installed metadata
    __version__ = version("sklearn-mtl")
except PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0+unknown"

PUBLIC = {
    "estimators._adaptive": ("AdaptiveSharingClassifier", "AdaptiveSharingRegressor"),
    "estimators._cross_stitch": ("CrossStitchClassifier", "CrossStitchRegressor"),
    "estimators._esmm": ("ESMMClassifier",),
    "estimators._moe": ("MMoEClassifier", "MMoERegressor", "OMoEClassifier", "OMoERegressor"),
    "estimators._multitask_net": ("MultiTaskNet",),
    "estimators._ple": ("PLEClassifier", "PLERegressor"),
    "estimators._shared_bottom": ("SharedBottomClassifier", "SharedBottomRegressor"),
    "linear": (
        "MeanRegularizedMultiTaskClassifier",
        "MeanRegularizedMultiTaskRegressor",
        "MultiTaskL1LqClassifier",
        "MultiTaskL1LqClassifierCV",
        "MultiTaskL1LqRegressor",
        "MultiTaskL1LqRegressorCV",
    ),
    "persistence": ("load", "save"),
}
"""The registry of public names: each module and the names it gives, imported on first use.

A new architecture is one line here (its module and its estimators); the
tests, the persistence allow-list and ``__all__`` are built from it, and a
test fails for an estimator class of the package that is missing here.
"""

_MODULE_OF = {name: module for module, names in PUBLIC.items() for name in names}

__all__ = sorted(_MODULE_OF, key=str.lower) + ["__version__"]


def __getattr__(name):
    if name not in _MODULE_OF:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_MODULE_OF[name]}"), name)
    globals()[name] = value  # the next access is a plain lookup
    return value


def __dir__():
    return sorted(set(globals()) | set(_MODULE_OF))


_install_moved_modules()  # pickles of 0.1 name modules that have moved
