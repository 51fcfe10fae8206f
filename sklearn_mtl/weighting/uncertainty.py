"""Homoscedastic uncertainty weighting (Kendall, Gal and Cipolla, CVPR 2018)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from ._base import TaskWeighting

__all__ = ["Uncertainty"]


class Uncertainty(TaskWeighting):
    """Learn ``s_t = log sigma_t^2`` per task; minimise ``sum_t exp(-s_t) L_t + c_t s_t``.

    ``c_t = 1`` for a regression task (the Gaussian likelihood, up to a factor
    2: at the optimum ``exp(s_t) = L_t``, the residual variance) and
    ``c_t = 1/2`` for a classification task (the tempered softmax form). A
    noisier task gets a larger ``sigma_t`` and so a smaller weight
    ``exp(-s_t)``, which :meth:`weights` reports.
    """

    name = "uncertainty"

    def setup(self, task_types: Sequence[str]) -> None:
        super().setup(task_types)
        self.log_variances = nn.Parameter(torch.zeros(self.n_tasks))
        factors = [1.0 if kind == "regression" else 0.5 for kind in task_types]
        self.register_buffer("factors", torch.tensor(factors))

    def weights(self) -> Tensor:
        return torch.exp(-self.log_variances)

    def combine(self, task_losses: Tensor) -> Tensor:
        return (self.weights() * task_losses + self.factors * self.log_variances).sum()
