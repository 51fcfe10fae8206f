"""A bank of expert MLPs evaluated as one batched contraction per layer."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from .layers import make_activation

__all__ = ["BatchedExperts"]


class BatchedExperts(nn.Module):
    """``n_experts`` independent MLPs of identical shape, run together.

    Each layer is one ``einsum`` over all experts instead of a Python loop, which
    is what makes mixture-of-experts models cheap on CPU and GPU alike.
    Parameters are initialised as ``torch.nn.Linear`` initialises its own
    (uniform in ``+-1/sqrt(fan_in)``), so expert ``e`` is distributed exactly as
    a separately built MLP would be.

    Shape: ``(batch, in_features) -> (batch, n_experts, units[-1])``; an input
    of shape ``(batch, n_experts, in_features)`` gives every expert its own
    input (as in PLE's upper levels and Cross-Stitch columns).

    Parameters
    ----------
    in_features : int
        Width of the input shared by all experts.
    units : sequence of int
        Width of each expert layer; must not be empty.
    n_experts : int
        Number of experts.
    activation : str, default="relu"
        Activation after every expert layer.
    dropout : float, default=0.0
        Dropout after every activation.
    """

    def __init__(
        self,
        in_features: int,
        units: Sequence[int],
        n_experts: int,
        activation: str = "relu",
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if len(units) == 0:
            raise ValueError("BatchedExperts needs at least one layer in 'units'.")
        widths = [in_features, *units]
        self.weights = nn.ParameterList(
            nn.Parameter(torch.empty(n_experts, fan_in, fan_out))
            for fan_in, fan_out in zip(widths[:-1], widths[1:])
        )
        self.biases = nn.ParameterList(
            nn.Parameter(torch.empty(n_experts, fan_out)) for fan_out in widths[1:]
        )
        self.activation = make_activation(activation)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.n_experts = n_experts
        self.out_features = widths[-1]
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for weight, bias in zip(self.weights, self.biases):
            bound = 1.0 / math.sqrt(weight.shape[1])
            nn.init.uniform_(weight, -bound, bound)
            nn.init.uniform_(bias, -bound, bound)

    def forward(self, x: Tensor) -> Tensor:
        first, *rest = zip(self.weights, self.biases)
        if x.dim() == 2:  # one input shared by all experts
            h = torch.einsum("bi,eio->beo", x, first[0]) + first[1]  # (batch, E, u1)
        else:  # one input per expert
            h = torch.einsum("bei,eio->beo", x, first[0]) + first[1]  # (batch, E, u1)
        h = self.dropout(self.activation(h))
        for weight, bias in rest:
            h = torch.einsum("bei,eio->beo", h, weight) + bias  # (batch, E, u_l)
            h = self.dropout(self.activation(h))
        return h  # (batch, E, units[-1])
