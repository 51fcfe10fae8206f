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

from .utils._moved_modules import install as _install_moved_modules
from .utils._registry import MODULE_OF as _MODULE_OF
from .utils._registry import PUBLIC as PUBLIC  # the registry, for tests and readers
from .utils._registry import package_version as _package_version
from .utils._registry import public_object as _public_object

__version__ = _package_version()

__all__ = sorted(_MODULE_OF, key=str.lower) + ["__version__"]


def __getattr__(name):
    if name not in _MODULE_OF:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = _public_object(name)
    globals()[name] = value  # the next access is a plain lookup
    return value


def __dir__():
    return sorted(set(globals()) | set(_MODULE_OF))


_install_moved_modules()  # pickles of 0.1 name modules that have moved
