"""The network architectures as parameter objects, for :class:`~sklearn_mtl.MultiTaskNet`.

``MultiTaskNet(architecture=MMoE(n_experts=4))`` trains an MMoE whose tasks
may each be binary, multi-class or regression; a grid search reaches the
architecture's parameters as ``architecture__n_experts``, as
``GaussianProcessRegressor`` exposes ``kernel__length_scale``. Each
architecture's own estimators (``MMoEClassifier``, ...) take the same
parameters in their signature and build through the same object.
"""

from .estimators._adaptive import AdaptiveSharing
from .estimators._architecture import Architecture
from .estimators._cross_stitch import CrossStitch
from .estimators._esmm import ESMM
from .estimators._moe import MMoE, OMoE
from .estimators._multitask_net import ARCHITECTURES
from .estimators._ple import PLE
from .estimators._shared_bottom import SharedBottom

__all__ = [
    "ARCHITECTURES",
    "AdaptiveSharing",
    "Architecture",
    "CrossStitch",
    "ESMM",
    "MMoE",
    "OMoE",
    "PLE",
    "SharedBottom",
]
