"""Shared-Bottom: hard parameter sharing (Caruana, 1997)."""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from .base import MultiTaskModule
from .ensemble import EnsembleMLP, from_members, to_members
from .layers import MLP
from .towers import task_towers

__all__ = ["SharedBottomModule"]


class SharedBottomModule(MultiTaskModule):
    """``y_k = h_k(f(x))``: one bottom network ``f`` shared by every task tower ``h_k``.

    Shape: ``(batch, in_features) -> (batch, sum(head_sizes))`` logits; with
    ``n_ensemble=k > 1``, ``(batch, k, sum(head_sizes))``, every member's.

    Parameters
    ----------
    in_features : int
        Number of input features.
    head_sizes : sequence of int
        Number of logits of each task.
    bottom_units : sequence of int
        Hidden widths of the shared bottom.
    tower_units : sequence of int
        Hidden widths of every task tower.
    activation : str, default="relu"
        Hidden activation.
    dropout : float, default=0.0
        Dropout after each hidden activation.
    n_ensemble : int, default=1
        Members of an efficient ensemble (:mod:`sklearn_mtl.nn.ensemble`): the
        bottom and towers are BatchEnsemble layers of ``n_ensemble`` members.
    """

    def __init__(
        self,
        in_features: int,
        head_sizes: Sequence[int],
        bottom_units: Sequence[int],
        tower_units: Sequence[int],
        activation: str = "relu",
        dropout: float = 0.0,
        n_ensemble: int = 1,
    ) -> None:
        super().__init__(in_features, head_sizes)
        if n_ensemble == 1:
            self.bottom = MLP(in_features, bottom_units, activation, dropout)
        else:
            self.bottom = EnsembleMLP(
                in_features, bottom_units, n_ensemble, activation, dropout, random_signs=True
            )
        self.towers = task_towers(
            self.bottom.out_features, tower_units, head_sizes, activation, dropout, n_ensemble
        )
        self.n_ensemble = n_ensemble

    def shared_representation(self) -> nn.Module:
        """The layer whose output every task reads: the bottom."""
        return self.bottom

    def forward(self, x: Tensor) -> Tensor:
        k = self.n_ensemble
        h = self.bottom(to_members(x, k))  # (k * batch, bottom_units[-1])
        return from_members(self.towers(h), k)  # (batch, [k,] sum(head_sizes))


# The names before 0.2, where the module and the parameter object shared one; code and
# pickles of 0.1 that name them still find the class.
SharedBottom = SharedBottomModule
