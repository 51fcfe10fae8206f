"""Per-task towers mapping a representation to each task's logits."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from .ensemble import EnsembleTaskTowers
from .layers import MLP

__all__ = ["TaskTowers", "task_towers"]


class TaskTowers(nn.Module):
    """One ``MLP + Linear`` head per task; the outputs are concatenated.

    Task ``t`` produces ``head_sizes[t]`` logits (1 for a binary or regression
    task, ``n_classes`` for a multi-class task).

    Shape: ``(batch, n_tasks, in_features)`` (or ``(batch, in_features)``,
    shared by all towers) ``-> (batch, sum(head_sizes))``.

    Parameters
    ----------
    in_features : int
        Width of each task's input representation.
    units : sequence of int
        Hidden widths of every tower (may be empty: a linear head).
    head_sizes : sequence of int
        Number of logits of each task.
    activation : str, default="relu"
        Activation of the hidden layers.
    dropout : float, default=0.0
        Dropout after each hidden activation.
    """

    def __init__(
        self,
        in_features: int,
        units: Sequence[int],
        head_sizes: Sequence[int],
        activation: str = "relu",
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.towers = nn.ModuleList()
        for size in head_sizes:
            hidden = MLP(in_features, units, activation, dropout)
            self.towers.append(nn.Sequential(hidden, nn.Linear(hidden.out_features, size)))
        self.head_sizes = tuple(head_sizes)

    def forward(self, h: Tensor) -> Tensor:
        if h.dim() == 2:  # one representation shared by all towers
            outputs = [tower(h) for tower in self.towers]  # n_tasks x (batch, size_t)
        else:
            outputs = [tower(h[:, t]) for t, tower in enumerate(self.towers)]
        return torch.cat(outputs, dim=1)  # (batch, sum(head_sizes))


def task_towers(in_features, units, head_sizes, activation, dropout, n_ensemble=1) -> nn.Module:
    """:class:`TaskTowers`, or with ``n_ensemble > 1`` their
    :class:`~sklearn_mtl.nn.EnsembleTaskTowers` of that many members."""
    if n_ensemble == 1:
        return TaskTowers(in_features, units, head_sizes, activation, dropout)
    return EnsembleTaskTowers(in_features, units, head_sizes, n_ensemble, activation, dropout)
