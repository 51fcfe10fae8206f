"""Dynamic Weight Average (Liu, Johns and Davison, CVPR 2019)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from ._base import TaskWeighting

__all__ = ["DWA"]


class DWA(TaskWeighting):
    """Weights from the rate at which each task's loss fell over the last epochs.

    ``lambda_t(e) = T exp(r_t / tau) / sum_i exp(r_i / tau)`` with
    ``r_t = L_t(e-1) / L_t(e-2)``, the ratio of the task's mean training losses
    over the two previous epochs; equal weights for the first two epochs. A
    task whose loss falls slowly gets more weight.

    Parameters
    ----------
    temperature : float, default=2.0
        ``tau``: larger values flatten the weights towards equal.
    """

    name = "dwa"

    def __init__(self, temperature: float = 2.0) -> None:
        super().__init__()
        self.temperature = temperature

    def setup(self, task_types: Sequence[str]) -> None:
        super().setup(task_types)
        self.register_buffer("current", torch.ones(self.n_tasks))
        self.previous_losses: list[Tensor] = []

    def weights(self) -> Tensor:
        return self.current

    def resume(self, history) -> None:
        losses = [epoch["train_task_losses"] for epoch in history if "train_task_losses" in epoch]
        self.previous_losses = [torch.as_tensor(m).to(self.current) for m in losses[-2:]]

    def end_epoch(self) -> Tensor:
        mean = super().end_epoch()
        self.previous_losses = [*self.previous_losses[-1:], mean.clone()]
        if len(self.previous_losses) == 2:
            older, newer = self.previous_losses
            rates = newer / older.clamp_min(1e-12)  # (n_tasks,)
            self.current = self.n_tasks * torch.softmax(rates / self.temperature, dim=0)
        return mean
