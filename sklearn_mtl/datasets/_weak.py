"""Weak supervision sources of known accuracy, for testing label models."""

from __future__ import annotations

import numpy as np
from sklearn.utils import check_random_state


def make_weak_labels(
    n_items,
    accuracies,
    *,
    propensity=0.5,
    coverage=None,
    task_graph=None,
    cardinalities=None,
    class_balance=None,
    copies=None,
    true_labels=None,
    random_state=None,
):
    """A label matrix of sources whose accuracies are known, and the true labels.

    Each item's true joint label is drawn from the feasible joint labels
    (``task_graph``) with probabilities ``class_balance``. Each source votes
    on an item with probability ``propensity``; when it votes, it labels
    every task of its coverage, each with the true class with probability
    its accuracy and otherwise a uniformly drawn wrong class. Sources are
    independent given the true labels, except the copies: source ``j`` of a
    pair ``(i, j, rate)`` repeats source ``i``'s votes on a share ``rate`` of
    the items.

    Parameters
    ----------
    n_items : int
        Items.
    accuracies : array-like of shape (n_sources,) or (n_sources, n_tasks)
        Each source's accuracy (per task).
    propensity : float or array-like of shape (n_sources,), default=0.5
        Probability that a source votes on an item.
    coverage : list of lists of int or None, default=None
        The tasks each source labels; ``None``: every task.
    task_graph : array-like of shape (n_feasible, n_tasks) or None, default=None
        Feasible joint labels; ``None``: one binary task (``[[0], [1]]``) or,
        with ``cardinalities``, every combination.
    cardinalities : list of int or None, default=None
        Classes per task, when ``task_graph`` is None.
    class_balance : array-like of shape (n_feasible,) or None, default=None
        Probability of each feasible joint label; ``None``: uniform.
    copies : list of (int, int, float) or None, default=None
        Dependent pairs ``(i, j, rate)``.
    true_labels : array-like of shape (n_items, n_tasks) or None, default=None
        The true labels to vote on (e.g. a data set's ``y``), instead of
        labels drawn from ``class_balance``; each row must be feasible.
    random_state : int, RandomState instance or None, default=None

    Returns
    -------
    L : ndarray of shape (n_items, n_sources, n_tasks)
        Class indices, -1 where a source abstains.
    Y : ndarray of shape (n_items, n_tasks)
        The true labels.
    """
    from ..weak._label_matrix import check_feasible, independent_tasks

    rng = check_random_state(random_state)
    accuracies = np.atleast_1d(np.asarray(accuracies, dtype=float))
    given = None if true_labels is None else np.asarray(true_labels).reshape(n_items, -1)
    if task_graph is None:
        if cardinalities is None and given is not None:
            cardinalities = [max(2, int(given[:, t].max()) + 1) for t in range(given.shape[1])]
        n_default = accuracies.shape[1] if accuracies.ndim == 2 else 1
        feasible = independent_tasks(cardinalities or [2] * n_default)
    else:
        feasible = np.asarray(task_graph)
    n_tasks = feasible.shape[1]
    cards = list(cardinalities or (feasible.max(axis=0) + 1).clip(min=2))
    feasible = check_feasible(feasible, cards)
    n_sources = accuracies.shape[0]
    if accuracies.ndim == 1:
        accuracies = np.repeat(accuracies[:, None], n_tasks, axis=1)
    if accuracies.shape != (n_sources, n_tasks) or ((accuracies < 0) | (accuracies > 1)).any():
        raise ValueError(f"accuracies must be in [0, 1], shape ({n_sources}, {n_tasks}).")
    balance = (np.full(len(feasible), 1 / len(feasible)) if class_balance is None
               else np.asarray(class_balance, dtype=float))  # fmt: skip
    if true_labels is None:
        Y = feasible[rng.choice(len(feasible), size=n_items, p=balance)]
    else:
        Y = np.asarray(true_labels).reshape(n_items, -1).astype(np.int64)
        if (
            Y.shape[1] != n_tasks
            or not (Y[:, None, :] == feasible[None]).all(axis=2).any(axis=1).all()
        ):
            raise ValueError(
                f"true_labels must be ({n_items}, {n_tasks}) rows of feasible joint labels."
            )
    propensity = np.broadcast_to(np.asarray(propensity, dtype=float), (n_sources,))
    coverage = coverage or [list(range(n_tasks))] * n_sources
    L = np.full((n_items, n_sources, n_tasks), -1, dtype=np.int64)
    for i in range(n_sources):
        votes = rng.random_sample(n_items) < propensity[i]
        for t in coverage[i]:
            right = rng.random_sample(n_items) < accuracies[i, t]
            shift = rng.randint(1, cards[t], size=n_items)  # a wrong class, uniformly
            label = np.where(right, Y[:, t], (Y[:, t] + shift) % cards[t])
            L[votes, i, t] = label[votes]
    for i, j, rate in copies or []:
        copied = rng.random_sample(n_items) < rate
        L[copied, j] = L[copied, i]
    return L, Y
