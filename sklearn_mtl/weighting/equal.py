"""Equal and fixed task weights."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from ._base import TaskWeighting

__all__ = ["Equal", "Fixed"]


class Equal(TaskWeighting):
    """The sum of the task losses, every weight 1."""

    name = "equal"
    data_parallel = True

    def combine(self, task_losses: Tensor) -> Tensor:
        return task_losses.sum()  # the product with ones, without its two autograd nodes


class Fixed(TaskWeighting):
    """The task losses weighted by fixed, user-given weights.

    Parameters
    ----------
    task_weights : sequence of float
        One non-negative weight per task.
    """

    name = "fixed"
    data_parallel = True
    takes_task_weights = True

    def __init__(self, task_weights: Sequence[float]) -> None:
        super().__init__()
        self.task_weights = [float(w) for w in task_weights]

    def setup(self, task_types: Sequence[str]) -> None:
        super().setup(task_types)
        if len(self.task_weights) != self.n_tasks or min(self.task_weights) < 0:
            raise ValueError(
                f"task_weights must hold {self.n_tasks} non-negative weights, one per task; "
                f"got {self.task_weights}."
            )
        self.register_buffer("fixed", torch.tensor(self.task_weights))

    def weights(self) -> Tensor:
        return self.fixed
