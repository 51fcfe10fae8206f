"""Fast estimator settings shared by the tests."""

import numpy as np

from sklearn_mtl import (
    CrossStitchClassifier,
    CrossStitchRegressor,
    ESMMClassifier,
    MeanRegularizedMultiTaskClassifier,
    MeanRegularizedMultiTaskRegressor,
    MMoEClassifier,
    MMoERegressor,
    MultiTaskL1LqClassifier,
    MultiTaskL1LqClassifierCV,
    MultiTaskL1LqRegressor,
    MultiTaskL1LqRegressorCV,
    MultiTaskNet,
    OMoEClassifier,
    OMoERegressor,
    PLEClassifier,
    PLERegressor,
    SharedBottomClassifier,
    SharedBottomRegressor,
)

FAST = {"max_epochs": 10, "batch_size": 64, "lr": 3e-2, "tower_units": (8,)}
MOE_FAST = {**FAST, "n_experts": 3, "expert_units": (16,)}
SHARED_BOTTOM_FAST = {**FAST, "bottom_units": (16,)}
PLE_FAST = {**FAST, "n_task_experts": 1, "n_shared_experts": 1, "expert_units": (8,)}
CROSS_STITCH_FAST = {**FAST, "column_units": (16,)}

CLASSIFIERS = [
    MMoEClassifier(**MOE_FAST),
    OMoEClassifier(**MOE_FAST),
    SharedBottomClassifier(**SHARED_BOTTOM_FAST),
    PLEClassifier(**PLE_FAST),
    CrossStitchClassifier(**CROSS_STITCH_FAST),
]
REGRESSORS = [
    MMoERegressor(**MOE_FAST),
    OMoERegressor(**MOE_FAST),
    SharedBottomRegressor(**SHARED_BOTTOM_FAST),
    PLERegressor(**PLE_FAST),
    CrossStitchRegressor(**CROSS_STITCH_FAST),
]
FUNNEL_CLASSIFIERS = [ESMMClassifier(**SHARED_BOTTOM_FAST)]
MIXED = [MultiTaskNet(**MOE_FAST)]
NEURAL_ESTIMATORS = CLASSIFIERS + REGRESSORS + FUNNEL_CLASSIFIERS + MIXED

LINEAR_ESTIMATORS = [
    MultiTaskL1LqRegressor(),  # the defaults must learn (alpha="auto")
    MultiTaskL1LqRegressor(alpha=0.05, q=np.inf),
    MultiTaskL1LqClassifier(),
    MultiTaskL1LqClassifier(alpha=0.05, q=np.inf),
    MeanRegularizedMultiTaskRegressor(),
    MeanRegularizedMultiTaskClassifier(),
    MultiTaskL1LqRegressorCV(alphas=5, cv=3),
    MultiTaskL1LqClassifierCV(alphas=5, cv=3),
]

ESTIMATORS = NEURAL_ESTIMATORS + LINEAR_ESTIMATORS
