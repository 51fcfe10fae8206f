"""GradNorm: balance the task gradient norms (Chen et al., ICML 2018)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from ._base import TaskWeighting, task_gradients

__all__ = ["GradNorm"]


class GradNorm(TaskWeighting):
    """Learn weights that give every task a gradient norm matching its training rate.

    With ``G_t = w_t ||d L_t / d Z||`` on the shared representation ``Z``,
    relative losses ``L~_t = L_t / L_t(0)`` and rates ``r_t = L~_t / mean(L~)``,
    the weights minimise ``sum_t |G_t - mean(G) r_t^alpha|`` (the target held
    constant) while the model minimises ``sum_t w_t L_t``; after every step
    the weights are renormalised to sum to ``n_tasks``. A task that trains
    slowly gets more weight.

    Parameters
    ----------
    alpha : float, default=1.5
        Strength of the pull towards equal training rates.
    """

    name = "gradnorm"
    gradient_based = True

    def __init__(self, alpha: float = 1.5) -> None:
        super().__init__()
        self.alpha = alpha

    def setup(self, task_types: Sequence[str]) -> None:
        super().setup(task_types)
        self.task_weights = nn.Parameter(torch.ones(self.n_tasks))
        self.register_buffer("initial_losses", torch.zeros(self.n_tasks))
        self.started = False

    def resume(self, history) -> None:
        self.started = bool(self.initial_losses.any())  # set by the first step (clamped > 0)

    def weights(self) -> Tensor:
        weights = self.task_weights.detach().clamp(min=1e-3)
        return weights * (self.n_tasks / weights.sum())

    def backward(self, task_losses: Tensor, representation: Tensor, parameters) -> Tensor:
        with torch.no_grad():  # renormalise after the optimizer's last update
            self.task_weights.copy_(self.weights())
        if not self.started:
            self.initial_losses.copy_(task_losses.detach().clamp_min(1e-12))
            self.started = True
        gradients = task_gradients(task_losses, [representation])
        norms = torch.stack(
            [g[0].norm() if g[0] is not None else task_losses.new_zeros(()) for g in gradients]
        ).detach()  # (T,)
        weighted_norms = self.task_weights * norms  # (T,), differentiable in the weights
        relative = task_losses.detach() / self.initial_losses
        rates = relative / relative.mean()
        target = (weighted_norms.mean() * rates**self.alpha).detach()
        balance = (weighted_norms - target).abs().sum()
        (weight_gradient,) = torch.autograd.grad(balance, self.task_weights)
        objective = (self.task_weights.detach() * task_losses).sum()
        objective.backward()
        self.task_weights.grad = weight_gradient
        return objective
