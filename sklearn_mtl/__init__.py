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

__version__ = "0.1.0"

PUBLIC = {
    "CrossStitchClassifier": "estimators._cross_stitch",
    "CrossStitchRegressor": "estimators._cross_stitch",
    "ESMMClassifier": "estimators._esmm",
    "MMoEClassifier": "estimators._moe",
    "MMoERegressor": "estimators._moe",
    "MultiTaskNet": "estimators._multitask_net",
    "OMoEClassifier": "estimators._moe",
    "OMoERegressor": "estimators._moe",
    "PLEClassifier": "estimators._ple",
    "PLERegressor": "estimators._ple",
    "SharedBottomClassifier": "estimators._shared_bottom",
    "SharedBottomRegressor": "estimators._shared_bottom",
    "MeanRegularizedMultiTaskClassifier": "linear",
    "MeanRegularizedMultiTaskRegressor": "linear",
    "MultiTaskL1LqClassifier": "linear",
    "MultiTaskL1LqClassifierCV": "linear",
    "MultiTaskL1LqRegressor": "linear",
    "MultiTaskL1LqRegressorCV": "linear",
    "load": "persistence",
    "save": "persistence",
}
"""The registry of public names: each one's module, imported when the name is first used.

A new estimator is one line here; the tests, the persistence allow-list and
``__all__`` are built from it.
"""

__all__ = sorted(PUBLIC, key=str.lower) + ["__version__"]


def __getattr__(name):
    if name not in PUBLIC:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{PUBLIC[name]}"), name)
    globals()[name] = value  # the next access is a plain lookup
    return value


def __dir__():
    return sorted(set(globals()) | set(PUBLIC))
