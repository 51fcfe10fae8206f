"""Multi-task learning as scikit-learn estimators.

Neural multi-task models (Shared-Bottom, OMoE, MMoE) trained through skorch,
with scikit-learn's multi-output conventions: ``y`` of shape
``(n_samples, n_tasks)``, NaN for a missing label.
"""

from .estimators import (
    MMoEClassifier,
    MMoERegressor,
    OMoEClassifier,
    OMoERegressor,
    SharedBottomClassifier,
    SharedBottomRegressor,
)

__version__ = "0.1.0"

__all__ = [
    "MMoEClassifier",
    "MMoERegressor",
    "OMoEClassifier",
    "OMoERegressor",
    "SharedBottomClassifier",
    "SharedBottomRegressor",
    "__version__",
]
