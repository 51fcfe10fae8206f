"""Progressive Layered Extraction (Tang et al., RecSys 2020) and its one-level CGC."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from .base import GatedMultiTaskModule
from .experts import BatchedExperts
from .gates import SoftmaxGate, mix_experts
from .towers import TaskTowers

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
    ``(batch, n_tasks, n_task_experts + n_shared_experts)``.

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
    """

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
    ) -> None:
        super().__init__()
        n_experts = n_tasks * n_task_experts + n_shared_experts
        n_selected = n_task_experts + n_shared_experts
        self.experts = BatchedExperts(in_features, expert_units, n_experts, activation, dropout)
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
        self.out_features = self.experts.out_features

    def forward(self, h: Tensor) -> tuple[Tensor, Tensor]:
        if h.dim() == 2:  # the first level: every expert and gate reads x
            experts = self.experts(h)  # (batch, E, u)
            task_gates = self.task_gates(h)  # (batch, T, n_selected)
            shared_input = h  # (batch, in)
        else:
            experts = self.experts(h[:, self.owner])  # (batch, E, u)
            task_gates = self.task_gates(h[:, : self.n_tasks])  # (batch, T, n_selected)
            shared_input = h[:, -1]  # (batch, in)
        chosen = experts[:, self.selected]  # (batch, T, n_selected, u)
        out = torch.einsum("bts,btsu->btu", task_gates, chosen)  # (batch, T, u)
        if self.shared_gate is not None:
            shared = mix_experts(self.shared_gate(shared_input), experts)  # (batch, 1, u)
            out = torch.cat([out, shared], dim=1)  # (batch, T + 1, u)
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

    Shape: ``(batch, in_features) -> (batch, sum(head_sizes))`` logits.

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
                )
            )
            width = self.levels[-1].out_features
        self.towers = TaskTowers(width, tower_units, head_sizes, activation, dropout)
        self.n_tasks = n_tasks

    def _extract(self, x: Tensor) -> tuple[Tensor, list[Tensor]]:
        h, gates = x, []
        for level in self.levels:
            h, task_gates = level(h)  # (batch, T [+ 1], u), (batch, T, n_selected)
            gates.append(task_gates)
        return h[:, : self.n_tasks], gates  # (batch, T, u)

    def shared_representation(self) -> nn.Module:
        """The first level's experts, whose outputs every task's path starts from."""
        return self.levels[0].experts

    def forward(self, x: Tensor) -> Tensor:
        h, _ = self._extract(x)  # (batch, T, u)
        return self.towers(h)  # (batch, sum(head_sizes))

    def gate_weights(self, x: Tensor) -> list[Tensor]:
        """Task gate weights at every level, each ``(batch, n_tasks, n_experts)``.

        Experts are ordered task 0's, task 1's, ..., then the shared ones; a
        task's weight on another task's experts is zero.
        """
        _, gates = self._extract(x)
        return [level.full_gate_weights(g) for level, g in zip(self.levels, gates)]


# The names before 0.2, where the module and the parameter object shared one; code and
# pickles of 0.1 that name them still find the class.
PLE = PLEModule
