"""One small private module per architecture; the estimators are public in
:mod:`sklearn_mtl`."""

from ._moe import MMoEClassifier, MMoERegressor, OMoEClassifier, OMoERegressor
from ._shared_bottom import SharedBottomClassifier, SharedBottomRegressor

__all__ = [
    "MMoEClassifier",
    "MMoERegressor",
    "OMoEClassifier",
    "OMoERegressor",
    "SharedBottomClassifier",
    "SharedBottomRegressor",
]
