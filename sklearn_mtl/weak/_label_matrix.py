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

INDICATOR_CHUNK_ENTRIES = 1 << 25
"""Most (item, source, joint label) entries turned into indicators at a time (32 MB of
booleans), so that memory stays bounded whatever the number of joint labels."""

MAX_MOMENT_WORK = 2e9
"""Most multiply-adds one iteration of the label model's fit may take.

Completing ``mu`` (``n_sources * K`` by ``K``) against the ``(n_sources * K)^2``
second moments costs about ``(n_sources * K)^2 * K`` per L-BFGS iteration. 15
sources over 8 joint labels take 1.2e5; 50 sources over 64, 6.6e8; the audit's
three sources with one stray label of 1000 (K = 1001) would take 9e9 for each
of up to ``max_iter`` iterations (118 s and 2 GB before this bound)."""


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
    elif array.dtype.kind == "u":
        raise ValueError(
            f"L has dtype {array.dtype}, which cannot hold -1 (abstain): a -1 stored in it "
            f"wraps to {np.iinfo(array.dtype).max}, a class of its own. Build L with a signed "
            "integer dtype (e.g. np.int64)."
        )
    elif array.dtype.kind not in "ib":
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


def check_fit_size(n_sources: int, n_joint: int) -> None:
    """Raise a ``ValueError`` before a fit whose iterations would exceed ``MAX_MOMENT_WORK``."""
    size = n_sources * n_joint
    work = float(size) * size * n_joint
    if work > MAX_MOMENT_WORK:
        raise ValueError(
            f"{n_sources} sources over {n_joint} joint labels make a label model of "
            f"{size} x {n_joint} conditional probabilities, whose fit costs about {work:.1e} "
            f"multiply-adds an iteration (more than {MAX_MOMENT_WORK:.0e}): give fewer classes "
            "(cardinalities=), a task_graph of the feasible joint labels, or fewer sources."
        )


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
    rows = max(1, INDICATOR_CHUNK_ENTRIES // (n_sources * K))
    for start in range(0, n_items, rows):
        part = L[start : start + rows]  # (rows, m, T)
        voted = (part != ABSTAIN).any(axis=2)  # (rows, m)
        agree = np.ones(part.shape[:2] + (K,), dtype=bool)
        for t in range(part.shape[2]):
            column = part[:, :, t, None]
            agree &= (column == feasible[None, None, :, t]) | (column == ABSTAIN)
        agree &= voted[:, :, None]
        blocks.append(sparse.csr_matrix(agree.reshape(len(part), n_sources * K), dtype=np.float64))
    return sparse.vstack(blocks, format="csr")
