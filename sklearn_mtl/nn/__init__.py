"""Pure PyTorch multi-task modules. Every model maps ``(batch, n_features)`` to
``(batch, sum(head_sizes))`` logits; no sigmoid or softmax happens inside."""

from .experts import BatchedExperts
from .gates import SoftmaxGate, mix_experts
from .layers import ACTIVATIONS, MLP, make_activation
from .moe import MMoE, OMoE
from .shared_bottom import SharedBottom
from .towers import TaskTowers

__all__ = [
    "ACTIVATIONS",
    "MLP",
    "BatchedExperts",
    "MMoE",
    "OMoE",
    "SharedBottom",
    "SoftmaxGate",
    "TaskTowers",
    "make_activation",
    "mix_experts",
]
