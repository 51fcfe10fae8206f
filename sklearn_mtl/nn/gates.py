"""Softmax gates that weight experts, one gate or one per task."""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["mix_experts", "SoftmaxGate"]


class SoftmaxGate(nn.Module):
    """``n_gates`` linear softmax gates over ``n_experts`` experts.

    ``g_k(x) = softmax(W_k x / temperature)``. All gates share one ``Linear``
    layer, so the gates of every task cost a single matrix product.

    Shape: ``(batch, in_features) -> (batch, n_gates, n_experts)``, rows sum to 1;
    an input of shape ``(batch, n_gates, in_features)`` gives every gate its own
    input (PLE's task gates read their task's representation).

    Parameters
    ----------
    in_features : int
        Width of the gate input.
    n_experts : int
        Number of experts to weight.
    n_gates : int, default=1
        Number of independent gates (1 for OMoE, one per task for MMoE).
    temperature : float, default=1.0
        Softmax temperature; larger values give flatter expert weights.
    """

    def __init__(
        self,
        in_features: int,
        n_experts: int,
        n_gates: int = 1,
        temperature: float = 1.0,
    ) -> None:
        super().__init__()
        if temperature <= 0:
            raise ValueError(f"temperature must be positive, got {temperature}.")
        self.linear = nn.Linear(in_features, n_gates * n_experts)
        self.n_gates = n_gates
        self.n_experts = n_experts
        self.temperature = temperature

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() == 2:  # one input shared by all gates
            logits = self.linear(x).view(-1, self.n_gates, self.n_experts)  # (batch, G, E)
        else:  # one input per gate
            weight = self.linear.weight.view(self.n_gates, self.n_experts, -1)  # (G, E, in)
            bias = self.linear.bias.view(self.n_gates, self.n_experts)  # (G, E)
            logits = torch.einsum("bgi,gei->bge", x, weight) + bias  # (batch, G, E)
        return torch.softmax(logits / self.temperature, dim=-1)  # (batch, G, E)


def mix_experts(gates: Tensor, experts: Tensor) -> Tensor:
    """Weighted sum of expert outputs for each gate.

    Shape: gates ``(batch, G, E)`` and experts ``(batch, E, units)`` ->
    ``(batch, G, units)``.
    """
    return torch.bmm(gates, experts)  # (batch, G, units)
