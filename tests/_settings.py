"""Fast estimator settings shared by the tests."""

from sklearn_mtl import (
    MMoEClassifier,
    MMoERegressor,
    OMoEClassifier,
    OMoERegressor,
    SharedBottomClassifier,
    SharedBottomRegressor,
)

FAST = {"max_epochs": 30, "batch_size": 64, "lr": 1e-2, "tower_units": (8,)}
MOE_FAST = {**FAST, "n_experts": 3, "expert_units": (16,)}
SHARED_BOTTOM_FAST = {**FAST, "bottom_units": (16,)}

CLASSIFIERS = [
    MMoEClassifier(**MOE_FAST),
    OMoEClassifier(**MOE_FAST),
    SharedBottomClassifier(**SHARED_BOTTOM_FAST),
]
REGRESSORS = [
    MMoERegressor(**MOE_FAST),
    OMoERegressor(**MOE_FAST),
    SharedBottomRegressor(**SHARED_BOTTOM_FAST),
]
ESTIMATORS = CLASSIFIERS + REGRESSORS
