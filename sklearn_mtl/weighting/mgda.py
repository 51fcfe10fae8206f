"""MGDA-UB: multiple-gradient descent on the shared representation (Sener and Koltun, 2018)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from ._base import TaskWeighting, task_gradients

__all__ = ["MGDA", "min_norm_weights"]


def min_norm_weights(gradients: Tensor, max_iter: int = 1000, tol: float = 1e-10) -> Tensor:
    """The convex combination of the rows of ``gradients`` with the smallest norm.

    Closed form for two rows; otherwise Frank-Wolfe on the Gram matrix, as in
    Sener and Koltun's Algorithm 2, in its pairwise form (weight moves from
    the worst task in the support to the best one), which converges linearly
    where plain Frank-Wolfe zig-zags. Stops when the Frank-Wolfe gap
    ``max_support(M w) - min(M w)`` is below ``tol`` times the largest entry
    of the Gram matrix ``M``.

    Shape: ``(n_tasks, dim) -> (n_tasks,)``, non-negative, summing to one.
    """
    gram = gradients @ gradients.T  # (T, T)
    n_tasks = gram.shape[0]
    if n_tasks == 1:
        return torch.ones(1, dtype=gradients.dtype, device=gradients.device)
    if n_tasks == 2:
        denominator = gram[0, 0] + gram[1, 1] - 2 * gram[0, 1]
        if denominator <= 0:  # equal gradients: any combination is optimal
            return torch.full((2,), 0.5, dtype=gradients.dtype, device=gradients.device)
        first = ((gram[1, 1] - gram[0, 1]) / denominator).clamp(0, 1)
        return torch.stack([first, 1 - first])
    weights = torch.full((n_tasks,), 1.0 / n_tasks, dtype=gradients.dtype, device=gradients.device)
    scale = gram.abs().max().clamp_min(1e-30)
    for _ in range(max_iter):
        products = gram @ weights  # (T,): the gradient of w^T M w / 2
        best = int(torch.argmin(products))
        in_support = torch.where(weights > 0, products, products.new_tensor(-torch.inf))
        worst = int(torch.argmax(in_support))
        gap = products[worst] - products[best]
        if gap <= tol * scale or best == worst:
            break
        curvature = gram[best, best] + gram[worst, worst] - 2 * gram[best, worst]
        step = weights[worst] if curvature <= 0 else torch.minimum(weights[worst], gap / curvature)
        weights = weights.clone()
        weights[best] += step
        weights[worst] -= step
    return weights


class MGDA(TaskWeighting):
    """Weights from the min-norm combination of the task gradients (MGDA-UB).

    At every step, the gradient of each task loss with respect to the shared
    representation ``Z`` (one extra backward pass to ``Z`` per task) gives the
    weights ``alpha`` of the min-norm point of their convex hull, a common
    descent direction; the step then minimises ``sum_t alpha_t L_t``.
    """

    name = "mgda"
    gradient_based = True

    def setup(self, task_types: Sequence[str]) -> None:
        super().setup(task_types)
        self.register_buffer("current", torch.full((self.n_tasks,), 1.0 / self.n_tasks))

    def weights(self) -> Tensor:
        return self.current

    def backward(self, task_losses: Tensor, representation: Tensor, parameters) -> Tensor:
        gradients = task_gradients(task_losses, [representation])
        zeros = torch.zeros_like(representation)
        flat = torch.stack([(g[0] if g[0] is not None else zeros).reshape(-1) for g in gradients])
        self.current = min_norm_weights(flat.detach()).detach()
        objective = (self.current * task_losses).sum()
        objective.backward()
        return objective
