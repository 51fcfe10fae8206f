"""Progressive Layered Extraction (Tang et al., RecSys 2020) and its one-level CGC."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from .base import GatedMultiTaskModule
from .ensemble import EnsembleExperts, from_members, to_members
from .experts import BatchedExperts
from .gates import SoftmaxGate, mix_experts
from .towers import task_towers

__all__ = ["ExtractionLevel", "PLEModule"]


class ExtractionLevel(nn.Module):
    """One extraction level: Customized Gate Control (CGC).

    Every task owns ``n_task_experts`` experts and all tasks share
    ``n_shared_experts``. Task ``t``'s gate mixes its own experts and the
    shared ones; the shared gate, present at inner levels, mixes all experts
    and feeds the next level's shared experts. All experts of the level run as
    one batched computation. Experts are ordered task 0's, task 1's, ...,
    then the shared ones.

    Shape: ``(batch, in_features)`` at the first level, else
    ``(batch, n_inputs, in_features)`` (one row per task, then the shared one)
    ``-> (batch, n_outputs, units[-1])`` and the task gates
    ``(batch, n_tasks, n_task_experts + n_shared_experts)``. With
    ``n_ensemble=k > 1``, the outputs and gates have ``k * batch`` rows, every
    member's (:mod:`sklearn_mtl.nn.ensemble`), and so has an upper level's input.

    Parameters
    ----------
    in_features : int
        Width of the level's input(s).
    n_tasks : int
        Number of tasks.
    n_task_experts : int
        Experts owned by each task.
    n_shared_experts : int
        Experts shared by all tasks.
    expert_units : sequence of int
        Hidden widths of every expert.
    shared_output : bool
        Whether the level has a shared gate whose mixture feeds the next level.
    gate_temperature : float, default=1.0
        Softmax temperature of the gates.
    activation : str, default="relu"
        Hidden activation.
    dropout : float, default=0.0
        Dropout after each hidden activation.
    n_ensemble : int, default=1
        Members of an efficient ensemble: the experts are BatchEnsemble layers,
        the gates shared by all members.
    """

    n_ensemble: int = 1  # also the members of a level pickled before ensembles existed

    def __init__(
        self,
        in_features: int,
        n_tasks: int,
        n_task_experts: int,
        n_shared_experts: int,
        expert_units: Sequence[int],
        shared_output: bool,
        gate_temperature: float = 1.0,
        activation: str = "relu",
        dropout: float = 0.0,
        n_ensemble: int = 1,
        first: bool = True,
    ) -> None:
        super().__init__()
        n_experts = n_tasks * n_task_experts + n_shared_experts
        n_selected = n_task_experts + n_shared_experts
        if n_ensemble == 1:
            self.experts = BatchedExperts(in_features, expert_units, n_experts, activation, dropout)
        else:
            self.experts = EnsembleExperts(
                in_features, expert_units, n_experts, n_ensemble, activation, dropout,
                random_signs=first,
            )  # fmt: skip
        self.task_gates = SoftmaxGate(in_features, n_selected, n_tasks, gate_temperature)
        self.shared_gate = (
            SoftmaxGate(in_features, n_experts, 1, gate_temperature) if shared_output else None
        )
        shared = list(range(n_tasks * n_task_experts, n_experts))
        selected = [
            [t * n_task_experts + i for i in range(n_task_experts)] + shared for t in range(n_tasks)
        ]
        # The input row each expert reads: its task's, or the shared one (row n_tasks).
        owner = [t for t in range(n_tasks) for _ in range(n_task_experts)]
        owner += [n_tasks] * n_shared_experts
        self.register_buffer("selected", torch.tensor(selected))  # (T, n_selected)
        self.register_buffer("owner", torch.tensor(owner))  # (E,)
        self.n_tasks = n_tasks
        self.n_experts = n_experts
        self.n_ensemble = n_ensemble
        self.out_features = self.experts.out_features

    def forward(self, h: Tensor) -> tuple[Tensor, Tensor]:
        k = self.n_ensemble
        if h.dim() == 2:  # the first level: every expert and gate reads x (member-free)
            experts = self.experts(h)  # (k * batch, E, u)
            task_gates = to_members(self.task_gates(h), k)  # (k * batch, T, n_selected)
            shared_input = h  # (batch, in)
        else:
            experts = self.experts(h[:, self.owner])  # (k * batch, E, u)
            task_gates = self.task_gates(h[:, : self.n_tasks])  # (k * batch, T, n_selected)
            shared_input = h[:, -1]  # (k * batch, in)
        chosen = experts[:, self.selected]  # (k * batch, T, n_selected, u)
        out = torch.einsum("bts,btsu->btu", task_gates, chosen)  # (k * batch, T, u)
        if self.shared_gate is not None:
            shared_gates = self.shared_gate(shared_input)  # ([k *] batch, 1, E)
            if h.dim() == 2:
                shared_gates = to_members(shared_gates, k)  # (k * batch, 1, E)
            shared = mix_experts(shared_gates, experts)  # (k * batch, 1, u)
            out = torch.cat([out, shared], dim=1)  # (k * batch, T + 1, u)
        return out, task_gates

    def full_gate_weights(self, task_gates: Tensor) -> Tensor:
        """Task gates spread over all experts, zero on other tasks' experts.

        Shape: ``(batch, T, n_selected) -> (batch, T, n_experts)``.
        """
        full = task_gates.new_zeros(task_gates.shape[0], self.n_tasks, self.n_experts)
        index = self.selected.expand(task_gates.shape[0], -1, -1)  # (batch, T, n_selected)
        return full.scatter(2, index, task_gates)  # (batch, T, E)


class PLEModule(GatedMultiTaskModule):
    """Progressive Layered Extraction: ``n_levels`` stacked CGC levels, then towers.

    Task-specific experts keep a private path for each task; shared experts
    carry what the tasks have in common. ``n_levels=1`` is CGC.

    Shape: ``(batch, in_features) -> (batch, sum(head_sizes))`` logits; with
    ``n_ensemble=k > 1``, ``(batch, k, sum(head_sizes))``, every member's.

    Parameters
    ----------
    in_features : int
        Number of input features.
    head_sizes : sequence of int
        Number of logits of each task.
    n_task_experts : int
        Experts owned by each task, at every level.
    n_shared_experts : int
        Shared experts at every level.
    n_levels : int
        Number of extraction levels.
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

    def __init__(
        self,
        in_features: int,
        head_sizes: Sequence[int],
        n_task_experts: int,
        n_shared_experts: int,
        n_levels: int,
        expert_units: Sequence[int],
        tower_units: Sequence[int],
        gate_temperature: float = 1.0,
        activation: str = "relu",
        dropout: float = 0.0,
        n_ensemble: int = 1,
    ) -> None:
        super().__init__(in_features, head_sizes)
        if n_task_experts + n_shared_experts < 1:
            raise ValueError("PLE needs at least one expert: n_task_experts + n_shared_experts.")
        n_tasks = len(head_sizes)
        self.levels = nn.ModuleList()
        width = in_features
        for level in range(n_levels):
            inner = level < n_levels - 1
            self.levels.append(
                ExtractionLevel(
                    width,
                    n_tasks,
                    n_task_experts,
                    n_shared_experts,
                    expert_units,
                    shared_output=inner and n_shared_experts > 0,
                    gate_temperature=gate_temperature,
                    activation=activation,
                    dropout=dropout,
                    n_ensemble=n_ensemble,
                    first=level == 0,
                )
            )
            width = self.levels[-1].out_features
        self.towers = task_towers(width, tower_units, head_sizes, activation, dropout, n_ensemble)
        self.n_tasks = n_tasks
        self.n_ensemble = n_ensemble

    def _extract(self, x: Tensor) -> tuple[Tensor, list[Tensor]]:
        h, gates = x, []
        for level in self.levels:
            h, task_gates = level(h)  # (batch, T [+ 1], u), (batch, T, n_selected)
            gates.append(task_gates)
        return h[:, : self.n_tasks], gates  # (k * batch, T, u)

    def shared_representation(self) -> nn.Module:
        """The first level's experts, whose outputs every task's path starts from."""
        return self.levels[0].experts

    def forward(self, x: Tensor) -> Tensor:
        h, _ = self._extract(x)  # (k * batch, T, u)
        return from_members(self.towers(h), self.n_ensemble)  # (batch, [k,] sum(head_sizes))

    def gate_weights(self, x: Tensor) -> list[Tensor]:
        """Task gate weights at every level, each ``(batch, n_tasks, n_experts)``.

        Experts are ordered task 0's, task 1's, ..., then the shared ones; a
        task's weight on another task's experts is zero. With several ensemble
        members, the mean of the members' weights.
        """
        _, gates = self._extract(x)
        k = self.n_ensemble
        gates = [g.view(k, -1, *g.shape[1:]).mean(dim=0) for g in gates]  # (batch, T, n_sel)
        return [level.full_gate_weights(g) for level, g in zip(self.levels, gates)]


# The names before 0.2, where the module and the parameter object shared one; code and
# pickles of 0.1 that name them still find the class.
PLE = PLEModule
