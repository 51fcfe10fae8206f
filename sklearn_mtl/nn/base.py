"""The contract every multi-task architecture keeps.

An architecture is a :class:`MultiTaskModule`: built from the input width and
the number of logits of each task's head, it maps ``(batch, in_features)`` to
``(batch, sum(head_sizes))`` logits and names the layer whose output every
task reads (``shared_representation``), which gradient-based loss weightings
hook. A :class:`GatedMultiTaskModule` also reports its gates
(``gate_weights``); only estimators of gated architectures offer
``gate_weights`` and the expert-utilisation heatmap.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

__all__ = ["GatedMultiTaskModule", "MultiTaskModule"]


class MultiTaskModule(nn.Module):
    """Base of the multi-task architectures: logits for every task's head.

    Shape: ``(batch, in_features) -> (batch, sum(head_sizes))`` logits.

    Parameters
    ----------
    in_features : int
        Number of input features.
    head_sizes : sequence of int
        Number of logits of each task (1 for a binary or regression task,
        ``C`` for a ``C``-class task).
    """

    n_ensemble: int = 1
    """Members of an efficient ensemble; above 1 the output is ``(batch, k, sum(head_sizes))``
    in training, every member's logits (:class:`~sklearn_mtl.nn.EnsembleMean` combines them)."""

    def __init__(self, in_features: int, head_sizes: Sequence[int]) -> None:
        super().__init__()
        self.in_features = int(in_features)
        self.head_sizes = tuple(int(size) for size in head_sizes)

    def shared_representation(self) -> nn.Module:
        """The layer whose output every task reads."""
        raise NotImplementedError

    def forward(self, x: Tensor) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError


class GatedMultiTaskModule(MultiTaskModule):
    """A multi-task architecture whose tasks mix experts through softmax gates."""

    def gate_weights(self, x: Tensor) -> Tensor | list[Tensor]:
        """Each task's weights over the experts, ``(batch, n_tasks, n_experts)`` (per level)."""
        raise NotImplementedError
