"""The label model's parameters and votes checked against the label matrix ``L``.

Each function reads ``L`` (and one parameter of
:class:`~sklearn_mtl.weak.MultiTaskLabelModel`) and returns what ``fit`` uses,
or raises a ``ValueError`` naming the parameter, the task or the source.
"""

from __future__ import annotations

import warnings

import numpy as np

from ._cross_moments import dependency_cliques
from ._label_matrix import ABSTAIN, check_joint_size

__all__ = [
    "check_voted_classes",
    "class_counts",
    "fixed_class_balance",
    "source_dependency_pairs",
    "warn_unidentifiable",
]


def check_voted_classes(L, seen: list[int]) -> None:
    """Classes read off ``L`` (its largest label plus one) must each be voted for.

    A stray label (a vote of 1000 among 0s and 1s) would otherwise make a
    1,001-class task, and minutes of fitting for a model no vote supports.
    Two classes are always allowed (a source may vote one class only).
    """
    for t, k in enumerate(seen):
        if k <= 2:
            continue
        voted = np.unique(L[:, :, t])
        voted = voted[voted != ABSTAIN]
        if len(voted) < k:
            shown = voted.tolist()[:8]
            raise ValueError(
                f"L's votes on task {t} run up to class {k - 1}, but only {len(voted)} of "
                f"those {k} classes are ever voted ({shown}{'...' if len(voted) > 8 else ''}): "
                "a stray label? Fix L, or declare the classes with cardinalities= (or a "
                "task_graph) if the others exist."
            )


def warn_unidentifiable(L, dependencies) -> None:
    """Warn, per task, when fewer than three conditionally independent sources vote on it.

    The accuracies come from the agreements between independent sources: with
    one or two, many accuracies explain the same votes (one source at 0.6 and
    one at 0.95 look alike), so ``source_accuracies_`` follow ``prec_init``
    and the class balance more than the data.
    """
    group = list(range(L.shape[1]))  # dependent sources count once, as their group
    for members in dependency_cliques(L.shape[1], dependencies):
        for i in members:
            group[i] = members[0]
    for t in range(L.shape[2]):
        voting = np.flatnonzero((L[:, :, t] != ABSTAIN).any(axis=0))
        independent = {group[i] for i in voting}
        if len(independent) < 3:
            names = ", ".join(str(int(i)) for i in voting) or "none"
            warnings.warn(
                f"Task {t} of L is voted on by {len(independent)} conditionally independent "
                f"source(s) (sources {names}); the label model needs at least three to identify "
                "their accuracies, so source_accuracies_ (and the labels) for this task rest on "
                "prec_init and the class balance rather than on the votes. Add sources for it.",
                UserWarning,
                stacklevel=4,  # the caller of fit (through scikit-learn's _fit_context)
            )


def class_counts(L, cardinalities, task_graph) -> list[int]:
    """Each task's number of classes: declared (``cardinalities``), from the task graph, or
    read off ``L`` (its largest label plus one, each class voted for)."""
    seen = [max(int(L[:, :, t].max()) + 1, 2) for t in range(L.shape[2])]
    for k in seen:  # each task's classes size arrays, with or without a task graph
        check_joint_size([k])
    if cardinalities is None and task_graph is None:
        check_voted_classes(L, seen)
    if cardinalities is not None:
        given = [int(k) for k in np.atleast_1d(cardinalities)]
        if len(given) != L.shape[2] or any(k < 2 for k in given):
            raise ValueError(
                f"cardinalities must give at least 2 classes for each of the {L.shape[2]} "
                f"task(s); got {cardinalities!r}."
            )
        too_high = [t for t in range(L.shape[2]) if seen[t] > given[t]]
        if too_high:
            t = too_high[0]
            raise ValueError(
                f"L holds class {seen[t] - 1} on task {t}, which has {given[t]} classes."
            )
        return given
    if task_graph is not None:
        graph = np.asarray(task_graph)
        if graph.ndim == 2 and graph.shape[1] == L.shape[2] and graph.dtype.kind in "iu":
            return [max(s, int(graph[:, t].max()) + 1) for t, s in enumerate(seen)]
    return seen


def source_dependency_pairs(source_dependencies, n_sources: int) -> list[tuple[int, int]]:
    """``source_dependencies`` checked: pairs of two different sources' indices."""
    pairs = []
    for pair in source_dependencies or []:
        try:
            i, j = (int(v) for v in pair)
        except (TypeError, ValueError):
            raise ValueError(
                f"source_dependencies must be pairs of source indices; got {pair!r}."
            ) from None
        if i == j or not (0 <= i < n_sources and 0 <= j < n_sources):
            raise ValueError(
                f"source_dependencies pair {pair!r} must name two different sources "
                f"among 0..{n_sources - 1}."
            )
        pairs.append((i, j))
    return pairs


def fixed_class_balance(class_balance, K: int):
    """The class balance to hold fixed (None: estimate it), checked against ``K`` labels."""
    if isinstance(class_balance, str):
        return None if class_balance == "estimate" else np.full(K, 1.0 / K)
    balance = np.asarray(class_balance, dtype=float)
    if balance.shape != (K,) or (balance <= 0).any() or not np.isclose(balance.sum(), 1):
        raise ValueError(
            f"class_balance must be {K} positive probabilities summing to 1, one per "
            f"feasible joint label; got {class_balance!r}."
        )
    return balance
