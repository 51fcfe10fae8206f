"""Pictures of task relations: the affinity heatmap and the branching tree."""

from __future__ import annotations

import numpy as np

from ._grouping import group_tasks

__all__ = ["plot_branches", "plot_task_affinity"]


def plot_task_affinity(affinity, task_names=None, *, groups=None, ax=None):
    """Draw an affinity matrix as a heatmap, tasks ordered (and outlined) by group.

    Parameters
    ----------
    affinity : array-like of shape (n_tasks, n_tasks)
        From :func:`task_affinity`.
    task_names : list of str, default=None
        Tick labels; ``task 0, task 1, ...`` by default.
    groups : array-like of shape (n_tasks,), default=None
        Group labels; ``None`` runs :func:`group_tasks` on ``affinity``.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure by default.

    Returns
    -------
    ax : matplotlib Axes
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    affinity = np.asarray(affinity, dtype=float)
    n_tasks = len(affinity)
    names = list(task_names) if task_names is not None else [f"task {t}" for t in range(n_tasks)]
    if len(names) != n_tasks:
        raise ValueError(f"task_names has {len(names)} names for {n_tasks} tasks.")
    groups = group_tasks(affinity) if groups is None else np.asarray(groups)
    order = np.argsort(groups, kind="stable")
    if ax is None:
        _, ax = plt.subplots(figsize=(1 + 0.55 * n_tasks, 0.8 + 0.5 * n_tasks))
    shown = affinity[np.ix_(order, order)].copy()
    np.fill_diagonal(shown, np.nan)  # the diagonal says nothing about pairs
    image = ax.imshow(shown, cmap="viridis")
    ax.figure.colorbar(image, ax=ax, fraction=0.046)
    ax.set_xticks(range(n_tasks), [names[t] for t in order], rotation=45, ha="right")
    ax.set_yticks(range(n_tasks), [names[t] for t in order])
    start = 0
    for label in dict.fromkeys(groups[order]):
        size = int(np.sum(groups == label))
        ax.add_patch(Rectangle((start - 0.5, start - 0.5), size, size, fill=False, lw=2,
                               edgecolor="white"))  # fmt: skip
        start += size
    ax.set_xlabel("task helped (j)")
    ax.set_ylabel("task trained (i)")
    return ax


def plot_branches(branches, task_names=None, *, ax=None):
    """Draw a branching network's tree: which tasks share which trunk layers.

    The input is on the left; each trunk layer is a column of branches, each
    branch joined to the branch of the layer below that it reads; the tasks
    sit on the right, each joined to the top branch that holds it.

    Parameters
    ----------
    branches : sequence of partitions, or a fitted AdaptiveSharing estimator
        Per trunk layer, bottom first, its branches as groups of task
        indices (an estimator's ``branches_``).
    task_names : list of str, default=None
        Labels of the tasks; ``task 0, task 1, ...`` by default.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure by default.

    Returns
    -------
    ax : matplotlib Axes
    """
    import matplotlib.pyplot as plt

    from ..nn.adaptive import check_branches, parent_indices

    branches = getattr(branches, "branches_", branches)
    n_tasks = 1 + max(t for layer in branches for group in layer for t in group)
    branches = check_branches(branches, n_tasks, len(branches))
    names = list(task_names) if task_names is not None else [f"task {t}" for t in range(n_tasks)]
    if len(names) != n_tasks:
        raise ValueError(f"task_names has {len(names)} names for {n_tasks} tasks.")
    order = [t for group in branches[-1] for t in group]  # tasks of a branch side by side
    row = {t: i for i, t in enumerate(order)}
    if ax is None:
        _, ax = plt.subplots(figsize=(2.2 + 1.3 * len(branches), 0.8 + 0.45 * n_tasks))
    n_layers = len(branches)

    def height(group):
        return np.mean([row[t] for t in group])

    everything = tuple(range(n_tasks))
    for depth, layer in enumerate(branches):
        parents = parent_indices(branches, depth) if depth else [0] * len(layer)
        for group, parent in zip(layer, parents):
            below = (
                (0, height(everything))
                if depth == 0
                else (depth, height(branches[depth - 1][parent]))
            )
            ax.plot([below[0], depth + 1], [below[1], height(group)], color="0.4", lw=1.5)
            ax.scatter([depth + 1], [height(group)], s=40 + 25 * len(group), color="C0", zorder=3)
    for group in branches[-1]:
        for t in group:
            ax.plot([n_layers, n_layers + 1], [height(group), row[t]], color="0.7", lw=1)
            ax.text(n_layers + 1.08, row[t], names[t], va="center")
    ax.scatter([0], [height(everything)], marker="s", color="0.2", zorder=3)
    ax.set_xticks(range(n_layers + 2), ["input", *[f"layer {d + 1}" for d in range(n_layers)],
                                        "tasks"])  # fmt: skip
    ax.set_yticks([])
    ax.set_xlim(-0.3, n_layers + 2.2)
    ax.invert_yaxis()
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.set_title("branches: which tasks share which layers")
    return ax
