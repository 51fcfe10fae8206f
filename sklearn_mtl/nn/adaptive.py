"""A branching MLP trunk: which tasks share which layers (Lu et al., CVPR 2017).

Fully-adaptive feature sharing starts from a thin network that every task
shares and splits it, layer by layer from the top down, into branches of
tasks that go together. :class:`AdaptiveSharing` is that network for a given
tree; :meth:`AdaptiveSharing.grown` makes the network of a finer tree whose
new branches start as copies of the branch they split from, so that a split
changes nothing until training moves the copies apart.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from .base import MultiTaskModule
from .layers import make_activation
from .towers import TaskTowers

Branches = tuple[tuple[tuple[int, ...], ...], ...]
"""Per layer, bottom first: the partition of the tasks into that layer's branches."""


def check_branches(branches, n_tasks: int, n_layers: int) -> Branches:
    """The tree as tuples, or a ``ValueError`` saying what is wrong with it.

    Every layer must partition the tasks ``0 .. n_tasks - 1``, and every branch
    must lie inside one branch of the layer below (it reads that branch).
    """
    if branches is None:
        return tuple((tuple(range(n_tasks)),) for _ in range(n_layers))
    try:
        if isinstance(branches, str) or any(isinstance(layer, str) for layer in branches):
            raise TypeError
        branches = tuple(
            tuple(tuple(operator.index(t) for t in group) for group in layer) for layer in branches
        )
    except TypeError:
        raise ValueError(
            "branches must be a sequence, per layer, of groups of task indices (ints); got "
            f"{str(branches)[:80]!r}."
        ) from None
    if len(branches) != n_layers:
        raise ValueError(f"branches has {len(branches)} layers; the trunk has {n_layers}.")
    for depth, layer in enumerate(branches):
        tasks = sorted(t for group in layer for t in group)
        if tasks != list(range(n_tasks)) or any(not group for group in layer):
            raise ValueError(
                f"branches[{depth}] must split the tasks 0..{n_tasks - 1} into non-empty "
                f"groups, each task in exactly one; got {layer}."
            )
        if depth:
            for group in layer:
                if not any(set(group) <= set(parent) for parent in branches[depth - 1]):
                    raise ValueError(
                        f"branch {group} of layer {depth} spans several branches of layer "
                        f"{depth - 1} ({branches[depth - 1]}); a branch reads one branch."
                    )
    return branches


def parent_index(branches: Branches, depth: int, group) -> int:
    """Which branch of layer ``depth - 1`` the branch ``group`` of layer ``depth`` reads."""
    return next(i for i, parent in enumerate(branches[depth - 1]) if set(group) <= set(parent))


class AdaptiveSharing(MultiTaskModule):
    """An MLP trunk whose layers are shared by groups of tasks, then one tower per task.

    Layer ``l`` has one ``Linear(width_{l-1}, units[l]) -> activation`` per
    branch of ``branches[l]``; a branch reads the output of the branch below
    that contains its tasks; task ``t``'s tower reads the top branch holding
    ``t``. With every task in one branch at every layer this is Shared-Bottom;
    with one branch per task from the bottom up, single-task networks.

    Shape: ``(batch, in_features) -> (batch, sum(head_sizes))`` logits.

    Parameters
    ----------
    in_features : int
        Number of input features.
    head_sizes : sequence of int
        Number of logits of each task.
    units : sequence of int
        Width of each trunk layer, bottom first; not empty.
    branches : sequence of sequences of task-index sequences, default=None
        Per layer, the partition of the tasks into branches (see
        :func:`check_branches`); ``None``: all tasks share every layer.
    tower_units : sequence of int, default=()
        Hidden widths of every task tower.
    activation : str, default="relu"
        Hidden activation.
    dropout : float, default=0.0
        Dropout after each hidden activation.
    """

    def __init__(
        self,
        in_features: int,
        head_sizes: Sequence[int],
        units: Sequence[int],
        branches=None,
        tower_units: Sequence[int] = (),
        activation: str = "relu",
        dropout: float = 0.0,
    ) -> None:
        super().__init__(in_features, head_sizes)
        if not units:
            raise ValueError("AdaptiveSharing needs at least one trunk layer in 'units'.")
        self.units = tuple(units)
        self.branches = check_branches(branches, len(head_sizes), len(self.units))
        self.activation = activation
        self.dropout_rate = dropout
        widths = [in_features, *self.units]
        self.layers = nn.ModuleList(
            nn.ModuleList(nn.Linear(widths[depth], widths[depth + 1]) for _ in layer)
            for depth, layer in enumerate(self.branches)
        )
        self.act = make_activation(activation)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        top = self.branches[-1]
        self.register_buffer(  # task -> the top branch it reads
            "task_branch",
            torch.tensor(
                [next(i for i, g in enumerate(top) if t in g) for t in range(len(head_sizes))]
            ),
        )
        self._parents = [
            [parent_index(self.branches, depth, group) if depth else 0 for group in layer]
            for depth, layer in enumerate(self.branches)
        ]
        self.towers = TaskTowers(self.units[-1], tower_units, head_sizes, activation, dropout)
        self.tower_units = tuple(tower_units)

    def shared_representation(self) -> nn.Module:
        """The bottom layer's branches (shared by every task while it is one branch)."""
        return self.layers[0]

    def forward(self, x: Tensor) -> Tensor:
        outputs = [x]
        for layer, parents in zip(self.layers, self._parents):
            outputs = [
                self.dropout(self.act(linear(outputs[p]))) for linear, p in zip(layer, parents)
            ]
        top = torch.stack(outputs, dim=1)  # (batch, n_branches, units[-1])
        return self.towers(top[:, self.task_branch])  # (batch, sum(head_sizes))

    def grown(self, branches) -> AdaptiveSharing:
        """The network of a finer tree, each new branch a copy of the branch it splits from.

        Every branch of ``branches`` must lie inside a branch of the same layer
        of this network's tree. The towers are copied; right after growing, the
        new network computes exactly what this one does.
        """
        branches = check_branches(branches, len(self.head_sizes), len(self.units))
        for depth, (old, new) in enumerate(zip(self.branches, branches)):
            for group in new:
                if not any(set(group) <= set(parent) for parent in old):
                    raise ValueError(
                        f"branch {group} of layer {depth} merges branches {old}; growing "
                        "only splits branches."
                    )
        child = type(self)(self.in_features, self.head_sizes, self.units, branches,
                           self.tower_units, self.activation, self.dropout_rate)  # fmt: skip
        child.to(next(self.parameters()).device)
        with torch.no_grad():
            for depth, layer in enumerate(branches):
                for index, group in enumerate(layer):
                    source = next(
                        i for i, g in enumerate(self.branches[depth]) if set(group) <= set(g)
                    )
                    child.layers[depth][index].load_state_dict(
                        self.layers[depth][source].state_dict()
                    )
            child.towers.load_state_dict(self.towers.state_dict())
        return child

    def parameter_sources(self, parent: AdaptiveSharing) -> dict[str, str]:
        """For a network grown from ``parent``: each parameter's name -> the one it copies.

        A branch's weights come from the branch of ``parent``'s same layer
        that holds its tasks; the towers from the same towers.
        """
        sources = {}
        for name, _ in self.named_parameters():
            parts = name.split(".")
            if parts[0] == "layers":
                depth, index = int(parts[1]), int(parts[2])
                group = self.branches[depth][index]
                source = next(
                    i for i, g in enumerate(parent.branches[depth]) if set(group) <= set(g)
                )
                parts[2] = str(source)
            sources[name] = ".".join(parts)
        return sources
