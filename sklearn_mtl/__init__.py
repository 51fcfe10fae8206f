"""Multi-task learning as scikit-learn estimators.

Neural multi-task models (Shared-Bottom, OMoE, MMoE, PLE, Cross-Stitch, ESMM)
trained through skorch
and linear multi-task baselines (l1/lq row-sparse and mean-regularised), all
with scikit-learn's multi-output conventions: ``y`` of shape
``(n_samples, n_tasks)``, NaN for a missing label.
"""

from .estimators import (
    CrossStitchClassifier,
    CrossStitchRegressor,
    ESMMClassifier,
    MMoEClassifier,
    MMoERegressor,
    MultiTaskNet,
    OMoEClassifier,
    OMoERegressor,
    PLEClassifier,
    PLERegressor,
    SharedBottomClassifier,
    SharedBottomRegressor,
)
from .linear import (
    MeanRegularizedMultiTaskClassifier,
    MeanRegularizedMultiTaskRegressor,
    MultiTaskL1LqClassifier,
    MultiTaskL1LqClassifierCV,
    MultiTaskL1LqRegressor,
    MultiTaskL1LqRegressorCV,
)
from .persistence import load, save

__version__ = "0.1.0"

__all__ = [
    "CrossStitchClassifier",
    "CrossStitchRegressor",
    "ESMMClassifier",
    "MeanRegularizedMultiTaskClassifier",
    "MeanRegularizedMultiTaskRegressor",
    "MMoEClassifier",
    "MMoERegressor",
    "OMoEClassifier",
    "MultiTaskL1LqClassifier",
    "MultiTaskL1LqClassifierCV",
    "MultiTaskL1LqRegressor",
    "MultiTaskL1LqRegressorCV",
    "MultiTaskNet",
    "OMoERegressor",
    "PLEClassifier",
    "PLERegressor",
    "SharedBottomClassifier",
    "SharedBottomRegressor",
    "__version__",
    "load",
    "save",
]
