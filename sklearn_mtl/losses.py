"""Masked, weighted per-task losses.

Every task encoder names its elementwise loss on logits in :data:`TASK_LOSSES`.
:class:`MaskedMultiTaskLoss` evaluates them for all tasks of a batch and
reduces each task to ``sum_i w_it l_it / sum_i w_it``, where ``w_it`` is the
sample weight of row ``i`` for task ``t`` and is zero where the label is
missing. The loss therefore never sees a NaN label.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = [
    "binary_logistic_loss",
    "FunnelPenalty",
    "MaskedMultiTaskLoss",
    "multiclass_logistic_loss",
    "squared_error",
    "TASK_LOSSES",
]


def binary_logistic_loss(logits: Tensor, target: Tensor) -> Tensor:
    """Binary cross-entropy on logits. Shape: ``(batch, k), (batch, k) -> (batch, k)``."""
    return F.binary_cross_entropy_with_logits(logits, target, reduction="none")


def multiclass_logistic_loss(logits: Tensor, target: Tensor) -> Tensor:
    """Cross-entropy on logits. Shape: ``(batch, C), (batch,) -> (batch,)``."""
    return F.cross_entropy(logits, target.long(), reduction="none")


def squared_error(prediction: Tensor, target: Tensor) -> Tensor:
    """Squared error. Shape: ``(batch, k), (batch, k) -> (batch, k)``."""
    return (prediction - target).square()


TASK_LOSSES: dict[str, Callable[[Tensor, Tensor], Tensor]] = {
    "binary": binary_logistic_loss,
    "multiclass": multiclass_logistic_loss,
    "regression": squared_error,
}
"""Elementwise losses by name; a task encoder's ``loss`` is one of these keys."""

_ONE_LOGIT_TYPES = ("binary", "regression")


class MaskedMultiTaskLoss(nn.Module):
    """Per-task weighted mean losses that ignore missing labels.

    Tasks whose head has one output (binary, regression) are evaluated together
    in one call per type; each multi-class task is one cross-entropy call.

    Parameters
    ----------
    task_losses : sequence of str
        The loss of each task (``TaskEncoder.loss``), a key of :data:`TASK_LOSSES`.
    head_sizes : sequence of int
        Number of logits of each task, in the module's output order.

    Shape: logits ``(batch, sum(head_sizes))``, target and weight
    ``(batch, n_tasks)`` -> ``(n_tasks,)``. Logits ``(batch, k,
    sum(head_sizes))``, an ensemble's ``k`` members, give the mean of the
    members' losses. Targets must hold a finite value
    (e.g. 0) where the weight is zero. Without weights, each task's loss is
    its plain mean over the batch.

    Attributes
    ----------
    row_density : Tensor of shape (n_tasks,) or None
        Each task's mean weight per row over the training set, set by the
        training loop for ``loss_normalization="epoch"``. While it is set and
        the module is in training mode, a task's loss is
        ``sum_i w_it l_it / (row_density_t * batch)``: every labelled row
        counts the same, whichever batch it falls in, instead of a batch's
        few labels of a scarce task each counting as much as a full batch.
        ``None`` (the default, and always in evaluation mode): the weighted
        mean over each batch's labelled rows.
    """

    row_density: Tensor | None = None

    def __init__(self, task_losses: Sequence[str], head_sizes: Sequence[int]) -> None:
        super().__init__()
        unknown = set(task_losses) - set(TASK_LOSSES)
        if unknown:
            raise ValueError(
                f"Unknown task losses {sorted(unknown)}; expected {sorted(TASK_LOSSES)}."
            )
        if len(task_losses) != len(head_sizes):
            raise ValueError("task_losses and head_sizes must have the same length.")
        starts = [sum(head_sizes[:t]) for t in range(len(head_sizes))]
        self.n_tasks = len(task_losses)
        self.task_losses, self.head_sizes = tuple(task_losses), tuple(head_sizes)
        # (type, aligned): aligned when that type's tasks are all tasks, in logit order.
        self.grouped: list[tuple[str, bool]] = []
        for kind in _ONE_LOGIT_TYPES:
            tasks = [t for t, k in enumerate(task_losses) if k == kind]
            if not tasks:
                continue
            aligned = tasks == list(range(self.n_tasks))
            self.grouped.append((kind, aligned))
            if not aligned:  # buffers move to the device once, with the criterion
                self.register_buffer(f"{kind}_columns", torch.tensor([starts[t] for t in tasks]))
                self.register_buffer(f"{kind}_tasks", torch.tensor(tasks))
        self.multiclass = [
            (t, starts[t], starts[t] + head_sizes[t])
            for t, k in enumerate(task_losses)
            if k == "multiclass"
        ]

    def forward(self, logits: Tensor, target: Tensor, weight: Tensor | None = None) -> Tensor:
        if logits.dim() == 3:  # an ensemble's members, (batch, k, S): the mean of their losses
            n_members = logits.shape[1]
            members = self.elementwise(
                logits.reshape(-1, logits.shape[2]), target.repeat_interleave(n_members, dim=0)
            )  # (batch * k, n_tasks)
            elementwise = members.view(len(target), n_members, -1).mean(dim=1)  # (batch, n_tasks)
        else:
            elementwise = self.elementwise(logits, target)  # (batch, n_tasks)
        if weight is None:  # every label present, unit weights
            return elementwise.mean(dim=0)  # (n_tasks,)
        weighted = (weight * elementwise).sum(dim=0)  # (n_tasks,)
        if self.training and self.row_density is not None:
            return weighted / (self.row_density * len(weight)).clamp_min(1e-12)  # (n_tasks,)
        return weighted / weight.sum(dim=0).clamp_min(1e-12)  # (n_tasks,)

    def elementwise(self, logits: Tensor, target: Tensor) -> Tensor:
        """Unreduced loss of every row and task, shape ``(batch, n_tasks)``."""
        if len(self.grouped) == 1 and self.grouped[0][1]:  # one type, aligned
            return TASK_LOSSES[self.grouped[0][0]](logits, target)
        elementwise = torch.zeros_like(target)  # (batch, n_tasks)
        for kind, _ in self.grouped:
            columns, tasks = getattr(self, f"{kind}_columns"), getattr(self, f"{kind}_tasks")
            loss = TASK_LOSSES[kind](logits[:, columns], target[:, tasks])
            elementwise = elementwise.index_copy(1, tasks, loss)  # (batch, n_tasks)
        for task, start, stop in self.multiclass:
            elementwise[:, task] = multiclass_logistic_loss(
                logits[:, start:stop], target[:, task]
            )  # (batch,)
        return elementwise


class FunnelPenalty:
    """Penalise predictions that break a funnel: task ``lower`` above task ``upper``.

    For binary tasks the predictions are probabilities (P(conversion) should
    not exceed P(click)); for regression tasks, predicted values in the
    targets' units, divided by ``scale`` so that ``weight`` is unit-free. The
    penalty is ``weight * mean(relu(pred_lower - pred_upper))`` over the batch,
    every row included: it needs no label.

    Shape: logits ``(batch, [k,] sum(head_sizes))`` -> scalar. It holds no
    parameter or tensor, so it is a plain callable rather than a module (skorch
    registers every module attribute of a net).

    Parameters
    ----------
    upper_column, lower_column : int
        Output columns of the two tasks (one logit each).
    kind : {"binary", "regression"}
        Task type of both tasks.
    weight : float
        Strength of the penalty.
    affine : tuple of 4 floats, default=(1, 0, 1, 0)
        ``(scale_upper, shift_upper, scale_lower, shift_lower)`` mapping a
        regression output to the targets' units.
    scale : float, default=1.0
        Divides the regression violation.
    """

    def __init__(
        self,
        upper_column: int,
        lower_column: int,
        kind: str,
        weight: float,
        affine: tuple[float, float, float, float] = (1.0, 0.0, 1.0, 0.0),
        scale: float = 1.0,
    ) -> None:
        if kind not in ("binary", "regression"):
            raise ValueError(f"A funnel links binary or regression tasks, not {kind!r} ones.")
        self.upper_column, self.lower_column = upper_column, lower_column
        self.kind, self.weight, self.affine, self.scale = kind, weight, affine, scale

    @classmethod
    def from_parameter(cls, funnel, weight, tasks, single_output):
        """The penalty an estimator's ``funnel=(upper, lower)`` asks for, or None.

        Validates the task indices and types against the fitted task
        encoders, whose standardisation maps regression outputs to values.
        """
        if funnel is None:
            return None
        if single_output:
            raise ValueError("funnel links two tasks; y has a single task.")
        n_tasks = len(tasks)
        pair = tuple(funnel)
        valid = len(pair) == 2 and all(
            isinstance(t, int | np.integer) and not isinstance(t, bool) for t in pair
        )
        if not valid or not all(0 <= t < n_tasks for t in pair) or pair[0] == pair[1]:
            raise ValueError(
                "funnel must be a pair (upper_task, lower_task) of two different task "
                f"indices in [0, {n_tasks}); got {funnel!r}."
            )
        upper, lower = (int(t) for t in pair)
        losses = {tasks[upper].loss, tasks[lower].loss}
        if len(losses) != 1 or losses & {"multiclass"}:
            raise ValueError(
                "funnel links two binary or two regression tasks; tasks "
                f"{upper} and {lower} are {tasks[upper].kind} and {tasks[lower].kind}."
            )
        starts = np.cumsum([0, *(task.head_size for task in tasks)])  # first output columns
        columns = int(starts[upper]), int(starts[lower])
        if tasks[upper].loss == "binary":
            return cls(*columns, "binary", weight)
        a, b = tasks[upper], tasks[lower]
        affine = (float(a.scale), float(a.mean), float(b.scale), float(b.mean))
        return cls(*columns, "regression", weight, affine, float(b.scale))

    def __call__(self, logits: Tensor) -> Tensor:
        # (batch,), or (batch, k) for an ensemble's members: the mean of their penalties
        upper, lower = logits[..., self.upper_column], logits[..., self.lower_column]
        if self.kind == "binary":
            upper, lower = torch.sigmoid(upper), torch.sigmoid(lower)
        else:
            a, b, c, d = self.affine
            upper, lower = (a * upper + b) / self.scale, (c * lower + d) / self.scale
        return self.weight * torch.relu(lower - upper).mean()
