"""Mixture-of-experts models: MMoE (Ma et al., KDD 2018) and its one-gate OMoE."""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from .base import GatedMultiTaskModule
from .ensemble import EnsembleExperts, from_members, to_members
from .experts import BatchedExperts
from .gates import SoftmaxGate, mix_experts
from .towers import task_towers

__all__ = ["MMoEModule", "OMoEModule"]


class MMoEModule(GatedMultiTaskModule):
    """Multi-gate Mixture-of-Experts.

    ``y_k = h_k(sum_i g_k(x)_i f_i(x))`` with ``g_k(x) = softmax(W_k x / T)``:
    experts ``f_i`` are shared and every task ``k`` has its own gate ``g_k``.

    Shape: ``(batch, in_features) -> (batch, sum(head_sizes))`` logits; with
    ``n_ensemble=k > 1``, ``(batch, k, sum(head_sizes))``, every member's.

    Parameters
    ----------
    in_features : int
        Number of input features.
    head_sizes : sequence of int
        Number of logits of each task.
    n_experts : int
        Number of shared experts.
    expert_units : sequence of int
        Hidden widths of every expert.
    tower_units : sequence of int
        Hidden widths of every task tower.
    gate_temperature : float, default=1.0
        Softmax temperature of the gates.
    activation : str, default="relu"
        Hidden activation.
    dropout : float, default=0.0
        Dropout after each hidden activation.
    n_ensemble : int, default=1
        Members of an efficient ensemble (:mod:`sklearn_mtl.nn.ensemble`): the
        experts and towers are BatchEnsemble layers of ``n_ensemble`` members,
        the gates are shared by all members.
    """

    gate_per_task = True

    def __init__(
        self,
        in_features: int,
        head_sizes: Sequence[int],
        n_experts: int,
        expert_units: Sequence[int],
        tower_units: Sequence[int],
        gate_temperature: float = 1.0,
        activation: str = "relu",
        dropout: float = 0.0,
        n_ensemble: int = 1,
    ) -> None:
        super().__init__(in_features, head_sizes)
        n_gates = len(head_sizes) if self.gate_per_task else 1
        if n_ensemble == 1:
            self.experts = BatchedExperts(in_features, expert_units, n_experts, activation, dropout)
        else:
            self.experts = EnsembleExperts(
                in_features, expert_units, n_experts, n_ensemble, activation, dropout
            )
        self.gate = SoftmaxGate(in_features, n_experts, n_gates, gate_temperature)
        self.towers = task_towers(
            self.experts.out_features, tower_units, head_sizes, activation, dropout, n_ensemble
        )
        self.n_ensemble = n_ensemble

    def shared_representation(self) -> nn.Module:
        """The layer whose output every task reads: the experts."""
        return self.experts

    def forward(self, x: Tensor) -> Tensor:
        k = self.n_ensemble
        experts = self.experts(x)  # (k * batch, E, units)
        gates = to_members(self.gate(x), k)  # (k * batch, G, E)
        mixed = mix_experts(gates, experts)  # (k * batch, G, units)
        if mixed.shape[1] == 1:  # one gate: every tower reads the same mixture
            mixed = mixed[:, 0]  # (k * batch, units)
        return from_members(self.towers(mixed), k)  # (batch, [k,] sum(head_sizes))

    def gate_weights(self, x: Tensor) -> Tensor:
        """Each task's weights over the experts, shape ``(batch, n_tasks, n_experts)``.

        With one gate (OMoE), every task reads the same weights.
        """
        gates = self.gate(x)  # (batch, G, E)
        return gates.expand(-1, len(self.towers.head_sizes), -1)  # (batch, T, E)


class OMoEModule(MMoEModule):
    """One-gate Mixture-of-Experts: as :class:`MMoEModule`, but all tasks share one gate.

    ``y_k = h_k(sum_i g(x)_i f_i(x))``, the MoE baseline of the MMoE paper.

    Shape: ``(batch, in_features) -> (batch, sum(head_sizes))`` logits.
    """

    gate_per_task = False


# The names before 0.2, where the module and the parameter object shared one; code and
# pickles of 0.1 that name them still find the class.
MMoE = MMoEModule
OMoE = OMoEModule
