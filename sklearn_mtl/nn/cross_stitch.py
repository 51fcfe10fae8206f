"""Cross-Stitch networks (Misra et al., CVPR 2016)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from .base import MultiTaskModule
from .experts import BatchedExperts
from .towers import TaskTowers

__all__ = ["CrossStitchModule", "stitch_matrix"]


def stitch_matrix(n_tasks: int, self_weight: float) -> Tensor:
    """``self_weight`` on the diagonal, the rest of each row spread evenly.

    Rows sum to one; ``self_weight=1`` is the identity (independent columns).
    Shape: ``(n_tasks, n_tasks)``.
    """
    if n_tasks == 1:
        return torch.ones(1, 1)
    off = (1.0 - self_weight) / (n_tasks - 1)
    return torch.full((n_tasks, n_tasks), off) + (self_weight - off) * torch.eye(n_tasks)


class CrossStitchModule(MultiTaskModule):
    """One MLP column per task, mixed after every hidden layer by a learnt stitch.

    After layer ``l`` the column activations become
    ``h_t <- sum_s A_l[t, s] h_s`` with a learnt ``(n_tasks, n_tasks)`` matrix
    ``A_l``, initialised at :func:`stitch_matrix`. The columns of a layer run
    as one batched computation.

    Shape: ``(batch, in_features) -> (batch, sum(head_sizes))`` logits.

    Parameters
    ----------
    in_features : int
        Number of input features.
    head_sizes : sequence of int
        Number of logits of each task.
    column_units : sequence of int
        Hidden widths of every task's column; a stitch follows each.
    tower_units : sequence of int
        Hidden widths of every task tower after the last stitch.
    stitch_init : float, default=0.9
        Initial diagonal of every stitch matrix (1 starts from independent
        columns).
    activation : str, default="relu"
        Hidden activation.
    dropout : float, default=0.0
        Dropout after each hidden activation.
    """

    def __init__(
        self,
        in_features: int,
        head_sizes: Sequence[int],
        column_units: Sequence[int],
        tower_units: Sequence[int],
        stitch_init: float = 0.9,
        activation: str = "relu",
        dropout: float = 0.0,
    ) -> None:
        super().__init__(in_features, head_sizes)
        n_tasks = len(head_sizes)
        widths = [in_features, *column_units]
        self.layers = nn.ModuleList(
            BatchedExperts(fan_in, (fan_out,), n_tasks, activation, dropout)
            for fan_in, fan_out in zip(widths[:-1], widths[1:])
        )
        self.stitches = nn.ParameterList(
            nn.Parameter(stitch_matrix(n_tasks, stitch_init)) for _ in column_units
        )
        self.towers = TaskTowers(widths[-1], tower_units, head_sizes, activation, dropout)

    def shared_representation(self) -> nn.Module:
        """The first column layer: after the first stitch every task reads all of it."""
        return self.layers[0]

    def forward(self, x: Tensor) -> Tensor:
        h = x  # (batch, in), read by every column
        for layer, stitch in zip(self.layers, self.stitches):
            h = layer(h)  # (batch, T, u)
            h = torch.einsum("ts,bsu->btu", stitch, h)  # (batch, T, u)
        return self.towers(h)  # (batch, sum(head_sizes))


# The names before 0.2, where the module and the parameter object shared one; code and
# pickles of 0.1 that name them still find the class.
CrossStitch = CrossStitchModule
