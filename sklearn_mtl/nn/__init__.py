"""Pure PyTorch multi-task modules. Every model maps ``(batch, n_features)`` to
``(batch, sum(head_sizes))`` logits; no sigmoid or softmax happens inside.

The architectures' modules end in ``Module`` (``MMoEModule``), which keeps them
apart from the parameter objects of :mod:`sklearn_mtl.architectures` (``MMoE``);
the names of 0.1 (``sklearn_mtl.nn.MMoE``, ...) remain as aliases and are not
in ``__all__``.
"""

from .adaptive import AdaptiveSharingModule
from .base import GatedMultiTaskModule, MultiTaskModule
from .cross_stitch import CrossStitchModule, stitch_matrix
from .ensemble import (
    EnsembleExperts,
    EnsembleHead,
    EnsembleLinear,
    EnsembleMean,
    EnsembleMLP,
    EnsembleTaskTowers,
)
from .esmm import ESMMModule
from .experts import BatchedExperts
from .gates import SoftmaxGate, mix_experts
from .layers import ACTIVATIONS, MLP, make_activation
from .moe import MMoEModule, OMoEModule
from .numeric import (
    NUMERIC_EMBEDDINGS,
    NumericEmbedding,
    PeriodicEmbedding,
    PiecewiseLinearEncoding,
)
from .ple import ExtractionLevel, PLEModule
from .shared_bottom import SharedBottomModule
from .tabular import Standardize, TabularInput, WithInputLayer
from .towers import TaskTowers

# the names of 0.1, aliases of the classes above (not in __all__)
AdaptiveSharing = AdaptiveSharingModule
CrossStitch = CrossStitchModule
ESMM = ESMMModule
MMoE = MMoEModule
OMoE = OMoEModule
PLE = PLEModule
SharedBottom = SharedBottomModule

__all__ = [
    "ACTIVATIONS",
    "NUMERIC_EMBEDDINGS",
    "MLP",
    "AdaptiveSharingModule",
    "BatchedExperts",
    "CrossStitchModule",
    "ESMMModule",
    "EnsembleExperts",
    "EnsembleHead",
    "EnsembleLinear",
    "EnsembleMLP",
    "EnsembleMean",
    "EnsembleTaskTowers",
    "ExtractionLevel",
    "GatedMultiTaskModule",
    "MMoEModule",
    "MultiTaskModule",
    "NumericEmbedding",
    "OMoEModule",
    "PLEModule",
    "PeriodicEmbedding",
    "PiecewiseLinearEncoding",
    "SharedBottomModule",
    "SoftmaxGate",
    "Standardize",
    "TabularInput",
    "TaskTowers",
    "WithInputLayer",
    "make_activation",
    "mix_experts",
    "stitch_matrix",
]
