"""One small private module per architecture; the estimators are public in
:mod:`sklearn_mtl`."""

from ._cross_stitch import CrossStitchClassifier, CrossStitchRegressor
from ._esmm import ESMMClassifier
from ._moe import MMoEClassifier, MMoERegressor, OMoEClassifier, OMoERegressor
from ._multitask_net import MultiTaskNet
from ._ple import PLEClassifier, PLERegressor
from ._shared_bottom import SharedBottomClassifier, SharedBottomRegressor

__all__ = [
    "CrossStitchClassifier",
    "CrossStitchRegressor",
    "ESMMClassifier",
    "MMoEClassifier",
    "MMoERegressor",
    "MultiTaskNet",
    "OMoEClassifier",
    "OMoERegressor",
    "PLEClassifier",
    "PLERegressor",
    "SharedBottomClassifier",
    "SharedBottomRegressor",
]
