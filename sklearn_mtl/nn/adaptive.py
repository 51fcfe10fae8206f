"""A branching MLP trunk: which tasks share which layers (Lu et al., CVPR 2017).

Fully-adaptive feature sharing starts from a thin network that every task
shares and splits it, layer by layer from the top down, into branches of
tasks that go together. :class:`AdaptiveSharingModule` is that network for a given
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

__all__ = [
    "AdaptiveSharingModule",
    "branch_of_task",
    "Branches",
    "check_branches",
    "parent_indices",
]

Branches = tuple[tuple[tuple[int, ...], ...], ...]
"""Per layer, bottom first: the partition of the tasks into that layer's branches."""


def check_branches(branches, n_tasks: int, n_layers: int) -> Branches:
    """The tree as tuples, or a ``ValueError`` saying what is wrong with it.

    Every layer must partition the tasks ``0 .. n_tasks - 1``, and every branch
    must lie inside one branch of the layer below (it reads that branch). The
    check is linear in the number of tasks and layers: the tree is bounded by
    ``n_tasks`` and ``n_layers`` before any of it is read (a model file's tree
    is untrusted).
    """
    if branches is None:
        return tuple((tuple(range(n_tasks)),) for _ in range(n_layers))
    try:
        if isinstance(branches, str):
            raise TypeError
        if len(branches) != n_layers:
            raise _WrongSize(f"branches has {len(branches)} layers; the trunk has {n_layers}.")
        layers = []
        for depth, layer in enumerate(branches):
            if isinstance(layer, str):
                raise TypeError
            if len(layer) > n_tasks:
                raise _WrongSize(
                    f"branches[{depth}] has {len(layer)} branches; there are {n_tasks} tasks."
                )
            groups = []
            size = 0
            for group in layer:
                if isinstance(group, str):
                    raise TypeError
                size += len(group)
                if size > n_tasks:
                    raise _WrongSize(
                        f"branches[{depth}] holds more than the {n_tasks} tasks: it must split "
                        "them into non-empty groups, each task in exactly one."
                    )
                groups.append(tuple(operator.index(t) for t in group))
            layers.append(tuple(groups))
    except _WrongSize as error:
        raise ValueError(str(error)) from None
    except TypeError:
        raise ValueError(
            "branches must be a sequence, per layer, of groups of task indices (ints); got "
            f"{str(branches)[:80]!r}."
        ) from None
    for depth, layer in enumerate(layers):
        owner = _branch_of_task(layer, n_tasks)
        if owner is None:
            raise ValueError(
                f"branches[{depth}] must split the tasks 0..{n_tasks - 1} into non-empty "
                f"groups, each task in exactly one; got {str(layer)[:200]}."
            )
        if depth:
            below = _branch_of_task(layers[depth - 1], n_tasks)
            for group in layer:
                if any(below[t] != below[group[0]] for t in group):
                    raise ValueError(
                        f"branch {group} of layer {depth} spans several branches of layer "
                        f"{depth - 1} ({str(layers[depth - 1])[:200]}); a branch reads one "
                        "branch."
                    )
    return tuple(layers)


class _WrongSize(Exception):
    """A tree larger than the tasks and layers it is for."""


def _branch_of_task(layer, n_tasks: int) -> list[int] | None:
    """For each task, the index of the branch of ``layer`` holding it; None unless a partition."""
    owner = [-1] * n_tasks
    for index, group in enumerate(layer):
        if not group:
            return None
        for t in group:
            if not 0 <= t < n_tasks or owner[t] != -1:
                return None
            owner[t] = index
    return None if -1 in owner else owner


def branch_of_task(layer, n_tasks: int) -> list[int]:
    """For each task ``0 .. n_tasks - 1``, the index of the branch of ``layer`` that holds it.

    ``layer`` must partition the tasks (as :func:`check_branches` ensures).
    """
    owner = _branch_of_task(layer, n_tasks)
    if owner is None:
        raise ValueError(f"{str(layer)[:200]} does not partition the tasks 0..{n_tasks - 1}.")
    return owner


def parent_indices(branches: Branches, depth: int) -> list[int]:
    """For each branch of layer ``depth``, which branch of layer ``depth - 1`` it reads."""
    n_tasks = sum(len(group) for group in branches[depth])
    below = branch_of_task(branches[depth - 1], n_tasks)
    return [below[group[0]] for group in branches[depth]]


class AdaptiveSharingModule(MultiTaskModule):
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
        self.register_buffer(  # task -> the top branch it reads
            "task_branch", torch.tensor(branch_of_task(self.branches[-1], len(head_sizes)))
        )
        self._parents = [
            parent_indices(self.branches, depth) if depth else [0] * len(layer)
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

    def grown(self, branches) -> AdaptiveSharingModule:
        """The network of a finer tree, each new branch a copy of the branch it splits from.

        Every branch of ``branches`` must lie inside a branch of the same layer
        of this network's tree. The towers are copied; right after growing, the
        new network computes exactly what this one does.
        """
        n_tasks = len(self.head_sizes)
        branches = check_branches(branches, n_tasks, len(self.units))
        sources = []  # per layer, the branch of this network each new branch copies
        for depth, (old, new) in enumerate(zip(self.branches, branches)):
            owner = branch_of_task(old, n_tasks)
            for group in new:
                if any(owner[t] != owner[group[0]] for t in group):
                    raise ValueError(
                        f"branch {group} of layer {depth} merges branches {str(old)[:200]}; "
                        "growing only splits branches."
                    )
            sources.append([owner[group[0]] for group in new])
        child = type(self)(self.in_features, self.head_sizes, self.units, branches,
                           self.tower_units, self.activation, self.dropout_rate)  # fmt: skip
        child.to(next(self.parameters()).device)
        with torch.no_grad():
            for depth, layer_sources in enumerate(sources):
                for index, source in enumerate(layer_sources):
                    child.layers[depth][index].load_state_dict(
                        self.layers[depth][source].state_dict()
                    )
            child.towers.load_state_dict(self.towers.state_dict())
        return child

    def parameter_sources(self, parent: AdaptiveSharingModule) -> dict[str, str]:
        """For a network grown from ``parent``: each parameter's name -> the one it copies.

        A branch's weights come from the branch of ``parent``'s same layer
        that holds its tasks; the towers from the same towers.
        """
        n_tasks = len(self.head_sizes)
        owners = [branch_of_task(layer, n_tasks) for layer in parent.branches]
        sources = {}
        for name, _ in self.named_parameters():
            parts = name.split(".")
            if parts[0] == "layers":
                depth, index = int(parts[1]), int(parts[2])
                parts[2] = str(owners[depth][self.branches[depth][index][0]])
            sources[name] = ".".join(parts)
        return sources


# The names before 0.2, where the module and the parameter object shared one; code and
# pickles of 0.1 that name them still find the class.
AdaptiveSharing = AdaptiveSharingModule
