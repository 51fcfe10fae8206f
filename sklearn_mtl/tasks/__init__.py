"""Which tasks should be trained together: task affinity, task grouping, and their plots.

Two published measures of how much tasks help each other, each an
``(n_tasks, n_tasks)`` matrix, are in :func:`task_affinity` (``"lookahead"``,
Fifty et al., NeurIPS 2021; ``"error_margin"``, Lu et al., CVPR 2017).
:func:`group_tasks` turns either matrix into groups of tasks with Lu et al.'s
cost; :func:`plot_task_affinity` draws the matrix as a heatmap with the tasks
ordered by group, and :func:`plot_branches` draws an adaptive-sharing tree.
"""

from ._affinity import ErrorMarginAffinity, LookaheadAffinity, margin_affinity, task_affinity
from ._grouping import EXHAUSTIVE_MAX_TASKS, best_partition, branch_affinity, group_tasks
from ._plot import plot_branches, plot_task_affinity

__all__ = [
    "EXHAUSTIVE_MAX_TASKS",
    "ErrorMarginAffinity",
    "LookaheadAffinity",
    "best_partition",
    "branch_affinity",
    "group_tasks",
    "margin_affinity",
    "plot_branches",
    "plot_task_affinity",
    "task_affinity",
]
