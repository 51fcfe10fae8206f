"""Label matrices of weak supervision sources: validation, task graphs and indicators.

A label matrix ``L`` holds what every source said about every item:
``L[n, i]`` (one task) or ``L[n, i, t]`` (several) is the class (``0 .. k_t - 1``)
that source ``i`` gave item ``n`` on task ``t``, or ``ABSTAIN`` (-1), as in
Snorkel. A task graph is the set of feasible joint labels: one row of
``feasible`` per joint label ``(y_1, ..., y_T)`` that the tasks can take
together (a hierarchy or a mutual exclusion removes the others).
"""

from __future__ import annotations

import itertools
from numbers import Integral

import numpy as np
from scipy import sparse

ABSTAIN = -1
"""What a source gives for an item it does not label."""

MAX_JOINT_LABELS = 4096
"""The most feasible joint labels (classes of all tasks together) a label model takes.

The label matrix sets the classes (its largest label plus one), and every
indicator, moment and posterior grows with their product: a stray label of
10**9 must be refused before it sizes an allocation.
"""

INDICATOR_CHUNK_ROWS = 200_000
"""Items turned into indicator rows at a time, so that memory stays bounded."""


def check_label_matrix(L, n_sources: int | None = None, n_tasks: int | None = None):
    """``L`` as an int array of shape ``(n_items, n_sources, n_tasks)``, and whether it was 2-D.

    Raises a ``ValueError`` that names what is wrong: not integers, labels
    below ``ABSTAIN``, a wrong number of sources or tasks, no items.
    """
    array = np.asarray(L)
    if array.ndim not in (2, 3):
        raise ValueError(
            f"L must have shape (n_items, n_sources) or (n_items, n_sources, n_tasks); got "
            f"shape {array.shape}."
        )
    if array.dtype.kind == "f":
        if not np.isfinite(array).all():
            raise ValueError("L must hold class indices or -1 (abstain); it holds NaN or inf.")
        if not np.equal(np.mod(array, 1), 0).all():
            raise ValueError("L must hold class indices (integers) or -1 (abstain).")
    elif array.dtype.kind not in "iub":
        raise ValueError(f"L must hold integers (class index, -1 to abstain); got {array.dtype}.")
    if 0 in array.shape:
        raise ValueError(f"L has shape {array.shape}; it needs at least one item and one source.")
    single_task = array.ndim == 2
    array = array.astype(np.int64).reshape(array.shape[0], array.shape[1], -1)
    if (array < ABSTAIN).any():
        raise ValueError(f"L holds {int(array.min())}; labels are 0, 1, ... and -1 abstains.")
    if n_sources is not None and array.shape[1] != n_sources:
        raise ValueError(f"L has {array.shape[1]} sources; the model was fitted with {n_sources}.")
    if n_tasks is not None and array.shape[2] != n_tasks:
        raise ValueError(f"L has {array.shape[2]} tasks; the model was fitted with {n_tasks}.")
    return array, single_task


def check_joint_size(cardinalities) -> None:
    """Raise a ``ValueError`` before classes whose combinations exceed ``MAX_JOINT_LABELS``."""
    size = 1
    for k in cardinalities:
        size *= int(k)
        if size > MAX_JOINT_LABELS:
            raise ValueError(
                f"the tasks' classes {list(cardinalities)} give more than {MAX_JOINT_LABELS} "
                "joint labels; a label in L is far larger than its task's classes, or the "
                "tasks need a task_graph of their feasible joint labels."
            )


def independent_tasks(cardinalities) -> np.ndarray:
    """Every joint label of tasks with no logical relation: the product of their classes."""
    check_joint_size(cardinalities)
    return np.array(list(itertools.product(*[range(k) for k in cardinalities])), dtype=np.int64)


def hierarchy(implications, n_tasks: int) -> np.ndarray:
    """The joint labels of binary tasks where ``child = 1`` implies ``parent = 1``.

    Parameters
    ----------
    implications : list of (child, parent) task index pairs
        E.g. ``[(1, 0)]``: a postgraduate degree (task 1) implies a degree (task 0).
    n_tasks : int
        Number of binary tasks.
    """
    joint = independent_tasks([2] * n_tasks)
    keep = np.ones(len(joint), dtype=bool)
    for child, parent in implications:
        for task in (child, parent):
            if not (isinstance(task, Integral) and 0 <= task < n_tasks):
                raise ValueError(
                    f"implication ({child}, {parent}) names a task outside 0..{n_tasks - 1}."
                )
        keep &= ~((joint[:, child] == 1) & (joint[:, parent] == 0))
    return joint[keep]


def mutually_exclusive(n_tasks: int) -> np.ndarray:
    """The joint labels of binary tasks of which at most one is positive."""
    joint = independent_tasks([2] * n_tasks)
    return joint[joint.sum(axis=1) <= 1]


def check_feasible(feasible, cardinalities) -> np.ndarray:
    """The feasible joint labels as unique int rows within the classes, or a ``ValueError``."""
    feasible = np.asarray(feasible)
    n_tasks = len(cardinalities)
    if feasible.ndim == 2 and len(feasible) > MAX_JOINT_LABELS:
        raise ValueError(f"task_graph lists more than {MAX_JOINT_LABELS} feasible joint labels.")
    if feasible.ndim != 2 or feasible.shape[1] != n_tasks or len(feasible) < 2:
        raise ValueError(
            f"task_graph must list at least 2 feasible joint labels of the {n_tasks} task(s), "
            f"shape (n_feasible, {n_tasks}); got shape {feasible.shape}."
        )
    if feasible.dtype.kind not in "iu":
        raise ValueError("task_graph's joint labels must be class indices (integers).")
    if ((feasible < 0) | (feasible >= np.asarray(cardinalities))).any():
        raise ValueError(
            "task_graph holds a class outside a task's classes (cardinalities "
            f"{list(cardinalities)})."
        )
    if len(np.unique(feasible, axis=0)) != len(feasible):
        raise ValueError("task_graph lists a joint label twice.")
    return feasible.astype(np.int64)


def indicators(L: np.ndarray, feasible: np.ndarray) -> sparse.csr_matrix:
    """MeTaL's source indicators: ``(n_items, n_sources * n_feasible)``, sparse.

    Column ``i * K + y`` is 1 where source ``i`` voted on the item and every
    vote it gave agrees with the joint label ``feasible[y]`` (a source that
    abstains on all tasks agrees with none).
    """
    n_items, n_sources, _ = L.shape
    K = len(feasible)
    blocks = []
    for start in range(0, n_items, INDICATOR_CHUNK_ROWS):
        part = L[start : start + INDICATOR_CHUNK_ROWS]  # (rows, m, T)
        voted = (part != ABSTAIN).any(axis=2)  # (rows, m)
        agree = np.ones(part.shape[:2] + (K,), dtype=bool)
        for t in range(part.shape[2]):
            column = part[:, :, t, None]
            agree &= (column == feasible[None, None, :, t]) | (column == ABSTAIN)
        agree &= voted[:, :, None]
        blocks.append(sparse.csr_matrix(agree.reshape(len(part), n_sources * K), dtype=np.float64))
    return sparse.vstack(blocks, format="csr")
