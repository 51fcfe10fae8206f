"""Linear multi-task baselines: row-sparse l1/lq and mean-regularised models.

Each model is a datafit (least squares or logistic) plus a penalty on the
weight matrix ``W`` (n_features, n_tasks), minimised by accelerated proximal
gradient with a duality-gap certificate.
"""

from ._cv import MultiTaskL1LqClassifierCV, MultiTaskL1LqRegressorCV, alpha_max
from ._l1lq import MultiTaskL1LqClassifier, MultiTaskL1LqRegressor
from ._mean_regularized import MeanRegularizedMultiTaskClassifier, MeanRegularizedMultiTaskRegressor

__all__ = [
    "MeanRegularizedMultiTaskClassifier",
    "MeanRegularizedMultiTaskRegressor",
    "MultiTaskL1LqClassifier",
    "MultiTaskL1LqClassifierCV",
    "MultiTaskL1LqRegressor",
    "MultiTaskL1LqRegressorCV",
    "alpha_max",
]
