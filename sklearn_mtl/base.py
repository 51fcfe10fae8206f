"""The bases of the neural estimators, for subclassing: one per task type.

They live in :mod:`sklearn_mtl.estimators`; this module keeps the public
import path ``from sklearn_mtl.base import MultiTaskClassifier``.
"""

from .estimators._base import BaseMultiTaskNet, MultiTaskClassifier, MultiTaskRegressor

__all__ = ["BaseMultiTaskNet", "MultiTaskClassifier", "MultiTaskRegressor"]
