"""Pure PyTorch multi-task modules. Every model maps ``(batch, n_features)`` to
``(batch, sum(head_sizes))`` logits; no sigmoid or softmax happens inside."""

from .adaptive import AdaptiveSharing
from .base import GatedMultiTaskModule, MultiTaskModule
from .cross_stitch import CrossStitch, stitch_matrix
from .esmm import ESMM
from .experts import BatchedExperts
from .gates import SoftmaxGate, mix_experts
from .layers import ACTIVATIONS, MLP, make_activation
from .moe import MMoE, OMoE
from .numeric import (
    NUMERIC_EMBEDDINGS,
    NumericEmbedding,
    PeriodicEmbedding,
    PiecewiseLinearEncoding,
)
from .ple import PLE, ExtractionLevel
from .shared_bottom import SharedBottom
from .tabular import Standardize, TabularInput, WithInputLayer
from .towers import TaskTowers

__all__ = [
    "ACTIVATIONS",
    "NUMERIC_EMBEDDINGS",
    "MLP",
    "AdaptiveSharing",
    "BatchedExperts",
    "CrossStitch",
    "ESMM",
    "ExtractionLevel",
    "GatedMultiTaskModule",
    "MMoE",
    "MultiTaskModule",
    "NumericEmbedding",
    "OMoE",
    "PLE",
    "PeriodicEmbedding",
    "PiecewiseLinearEncoding",
    "SharedBottom",
    "SoftmaxGate",
    "Standardize",
    "TabularInput",
    "TaskTowers",
    "WithInputLayer",
    "make_activation",
    "mix_experts",
    "stitch_matrix",
]
