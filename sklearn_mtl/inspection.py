"""A look inside the gated models: per-row gate weights and expert utilisation.

:class:`GateInspectionMixin` gives every network estimator a ``gate_weights``
method that exists only where its architecture is gated (OMoE, MMoE, PLE);
:func:`plot_expert_utilization` draws the mean weight each task gives each
expert as a heatmap, as in the MMoE paper's expert-utilisation figure
(matplotlib is needed for the plot only).
"""

from __future__ import annotations

import numpy as np
from sklearn.utils.metaestimators import available_if

__all__ = ["GateInspectionMixin", "expert_utilization", "plot_expert_utilization"]


def _has_gates(estimator) -> bool:
    """Whether the estimator's architecture is gated (an invalid one is not)."""
    try:
        return estimator._architecture().gated
    except (AttributeError, KeyError, TypeError, ValueError):
        return False


class GateInspectionMixin:
    """``gate_weights(X)``, offered only where the architecture is gated (OMoE, MMoE, PLE)."""

    @available_if(_has_gates)
    def gate_weights(self, X):
        """Per-row gate weights of every task over the experts.

        Available when the architecture is gated (OMoE, MMoE, PLE).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        weights : ndarray of shape (n_samples, n_tasks, n_experts), or list of them
            Row ``i``, task ``t``: the softmax weights task ``t``'s gate gives
            the experts (summing to one). A one-gate model (OMoE) repeats its
            gate for every task. PLE returns one array per extraction level,
            over all the level's experts (task 0's, task 1's, ..., then the
            shared ones), zero where a task's gate cannot reach an expert.
        """
        return self._apply_module(X, lambda module, x: module.gate_weights(x))


def expert_utilization(estimator, X) -> np.ndarray | list[np.ndarray]:
    """Mean gate weight of every task on every expert over the rows of ``X``.

    Parameters
    ----------
    estimator : fitted OMoE, MMoE or PLE estimator
    X : array-like of shape (n_samples, n_features)

    Returns
    -------
    utilization : ndarray of shape (n_tasks, n_experts), or a list (PLE levels)
    """
    if not hasattr(estimator, "gate_weights"):
        raise TypeError(
            f"{type(estimator).__name__} has no gates; expert utilisation needs an OMoE, "
            "MMoE or PLE estimator."
        )
    weights = estimator.gate_weights(X)
    if isinstance(weights, list):
        return [w.mean(axis=0) for w in weights]
    return weights.mean(axis=0)


def plot_expert_utilization(estimator, X, *, task_names=None, axes=None):
    """Heatmap of the mean gate weight of every task (rows) on every expert (columns).

    Parameters
    ----------
    estimator : fitted OMoE, MMoE or PLE estimator
    X : array-like of shape (n_samples, n_features)
        Rows over which the gate weights are averaged.
    task_names : list of str, default=None
        Row labels; "task 0", "task 1", ... by default.
    axes : matplotlib Axes or list of Axes, default=None
        Where to draw (one per PLE level); a new figure by default.

    Returns
    -------
    axes : list of matplotlib Axes
        One per heatmap (one per PLE level).
    """
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError(
            "plot_expert_utilization needs matplotlib: pip install matplotlib"
        ) from error
    utilization = expert_utilization(estimator, X)
    levels = utilization if isinstance(utilization, list) else [utilization]
    if axes is None:
        n_tasks, n_experts = levels[0].shape
        size = (len(levels) * (2.0 + 0.6 * n_experts), 1.5 + 0.5 * n_tasks)
        _, axes = plt.subplots(1, len(levels), figsize=size, squeeze=False)
        axes = list(axes[0])
    axes = list(np.atleast_1d(axes))
    names = task_names or [f"task {t}" for t in range(levels[0].shape[0])]
    for level, (ax, matrix) in enumerate(zip(axes, levels)):
        image = ax.imshow(matrix, vmin=0, vmax=max(float(matrix.max()), 1e-12), cmap="viridis")
        ax.set_xticks(range(matrix.shape[1]))
        ax.set_yticks(range(matrix.shape[0]), labels=names)
        ax.set_xlabel("expert")
        title = "expert utilisation" + (f", level {level + 1}" if len(levels) > 1 else "")
        ax.set_title(title)
        for (t, e), value in np.ndenumerate(matrix):
            ax.text(e, t, f"{value:.2f}", ha="center", va="center", color="w", fontsize=8)
        ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    return axes
