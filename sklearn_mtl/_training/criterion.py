"""The criterion of the package's net: per-task losses and the weighting that combines them."""

from __future__ import annotations

from torch import nn

__all__ = ["MultiTaskCriterion"]


class MultiTaskCriterion(nn.Module):
    """Per-task losses and the weighting that combines them in training.

    Shape: as :class:`~sklearn_mtl.losses.MaskedMultiTaskLoss`, ``-> (n_tasks,)``.

    Parameters
    ----------
    task_loss : MaskedMultiTaskLoss
        The masked, weighted per-task losses.
    weighting : TaskWeighting
        The method that turns them into gradients; its learnable parameters
        are trained with the module's.
    """

    def __init__(self, task_loss: nn.Module, weighting: nn.Module) -> None:
        super().__init__()
        self.task_loss = task_loss
        self.weighting = weighting

    def forward(self, logits, target, weight=None):
        return self.task_loss(logits, target, weight)  # (n_tasks,)
