"""PCGrad: project conflicting task gradients (Yu et al., NeurIPS 2020)."""

from __future__ import annotations

import torch
from torch import Tensor

from ._base import TaskWeighting, task_gradients

__all__ = ["PCGrad", "project_conflicts"]


def project_conflicts(gradients: Tensor, order: Tensor | None = None) -> Tensor:
    """PCGrad's projection: each task gradient loses its component along any
    other task gradient it conflicts with (negative dot product).

    Shape: ``(n_tasks, dim) -> (n_tasks, dim)``; each row is projected against
    the original gradients of the other tasks, visited in ``order``
    (a permutation, random in training).
    """
    n_tasks = gradients.shape[0]
    order = torch.arange(n_tasks) if order is None else order
    projected = gradients.clone()
    for t in range(n_tasks):
        for j in order.tolist():
            if j == t:
                continue
            dot = projected[t] @ gradients[j]
            if dot < 0:
                projected[t] -= dot / gradients[j].square().sum().clamp_min(1e-20) * gradients[j]
    return projected


class PCGrad(TaskWeighting):
    """Sum of the task gradients after removing their conflicting components.

    Applied to the shared parameters (those that at least two tasks' losses
    depend on); task-specific parameters get their own task's gradient. Costs
    one backward pass per task.
    """

    name = "pcgrad"
    gradient_based = True

    def backward(self, task_losses: Tensor, representation: Tensor, parameters) -> Tensor:
        parameters = [p for p in parameters if p.requires_grad]
        gradients = task_gradients(task_losses, parameters)
        n_tasks = len(gradients)
        shared = [
            i for i in range(len(parameters)) if sum(g[i] is not None for g in gradients) >= 2
        ]
        if shared:
            flat = torch.stack([_flatten(g, parameters, shared) for g in gradients])  # (T, n)
            combined = project_conflicts(flat, torch.randperm(n_tasks)).sum(dim=0)
            offset = 0
            for i in shared:
                size = parameters[i].numel()
                _accumulate(parameters[i], combined[offset : offset + size].view_as(parameters[i]))
                offset += size
        for i, parameter in enumerate(parameters):
            own = [g[i] for g in gradients if g[i] is not None]
            if i not in shared and own:
                _accumulate(parameter, sum(own))
        return task_losses.sum().detach()


def _flatten(task_gradient: tuple, parameters: list[Tensor], indices: list[int]) -> Tensor:
    """One task's gradient over the parameters ``indices``, zeros where unused."""
    parts = [
        task_gradient[i] if task_gradient[i] is not None else torch.zeros_like(parameters[i])
        for i in indices
    ]
    return torch.cat([part.reshape(-1) for part in parts])


def _accumulate(parameter: Tensor, gradient: Tensor) -> None:
    """Add to ``parameter.grad``, which may already hold another term's gradient."""
    parameter.grad = gradient.clone() if parameter.grad is None else parameter.grad + gradient
