"""The data sets of ``benchmarks/label_scarcity.py``: ``(X, Y, X_test, Y_test, targets)``.

``Y`` is a float DataFrame (NaN a missing label) of the training rows, ``Y_test``
the test rows' labels, ``targets`` the tasks whose labels the curves vary.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from sklearn_mtl.datasets import make_task_groups
from sklearn_mtl.weak import MultiTaskLabelModel, apply_labeling_functions, hierarchy

try:
    from ._weak_adult import adult_rules
    from .adult import adult_split
    from .esmm import FEATURES, load
except ImportError:  # run as a script
    from _weak_adult import adult_rules
    from adult import adult_split
    from esmm import FEATURES, load

__all__ = ["DATASETS", "WEAK_TARGET"]

WEAK_TARGET = "income_over_50k"
"""The task of the weakly labelled set that keeps its gold labels (a fraction of them)."""


def adult_five(args):
    """Adult's five tasks on UCI's split (the first ``--adult-rows`` training rows)."""
    X, Y, X_test, Y_test = adult_split("five", args.adult_rows)
    return X, Y.astype(float), X_test, Y_test, ["income_over_50k", "bachelors_or_more"]


def adult_degrees(args):
    """Adult's degree tasks (Bachelors+, postgraduate, income) on UCI's split."""
    X, Y, X_test, Y_test = adult_split("degrees", args.adult_rows)
    return X, Y.astype(float), X_test, Y_test, ["postgraduate"]


def funnel_401k(args):
    """The 401(k) funnel, eligibility then participation; 30 % of the households held out."""
    X, Y = load()
    X = pd.DataFrame(X, columns=FEATURES)
    Y = pd.DataFrame(Y, columns=["eligible", "participates"]).astype(float)
    X, X_test, Y, Y_test = train_test_split(X, Y, test_size=0.3, random_state=0,
                                            stratify=Y.sum(axis=1))  # fmt: skip
    return X, Y, X_test, Y_test, ["participates"]


def task_groups(args):
    """Two planted groups of three related binary tasks; 25 % of the rows held out."""
    X, Y = make_task_groups(args.task_rows, n_groups=2, tasks_per_group=3, n_features=20,
                            target="binary", function_seed=0, random_state=0)  # fmt: skip
    X = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    Y = pd.DataFrame(Y, columns=[f"task {t}" for t in range(Y.shape[1])]).astype(float)
    X, X_test, Y, Y_test = train_test_split(X, Y, test_size=0.25, random_state=0)
    return X, Y, X_test, Y_test, ["task 0"]


def adult_weak_labels(args):
    """Adult's degree tasks, income gold and the two degree tasks weakly labelled.

    Fifteen rules an analyst might write (``_weak_adult.adult_rules``) vote on
    the training rows; :class:`~sklearn_mtl.weak.MultiTaskLabelModel` (the
    postgraduate-implies-Bachelors+ hierarchy) turns their votes into soft
    labels, of which each task keeps the most probable class, NaN on a row
    without a vote on that task. The networks and baselines take class labels,
    so the soft labels enter as their argmax. The target, income, keeps its
    gold labels (as many as the curve's fraction), and the test set is gold.
    """
    X, Y, X_test, Y_test = adult_split("degrees", args.adult_rows)
    tasks = list(Y.columns)
    L = apply_labeling_functions(X, adult_rules())  # (n, 15, 3), -1 where a rule abstains
    model = MultiTaskLabelModel(task_graph=hierarchy([(1, 0)], len(tasks))).fit(L)
    weak = model.predict(L).astype(float)  # (n, 3): the most probable joint label
    weak[~(L != -1).any(axis=1)] = np.nan  # no vote on the task: no label
    labels = pd.DataFrame(weak, columns=tasks, index=Y.index)
    labels[WEAK_TARGET] = Y[WEAK_TARGET].astype(float)
    return X, labels, X_test, Y_test, [WEAK_TARGET]


DATASETS = {
    "adult five": adult_five,
    "adult degrees": adult_degrees,
    "401(k) funnel": funnel_401k,
    "task groups": task_groups,
    "adult weak labels": adult_weak_labels,
}
"""The data sets by name, as ``--datasets`` takes them."""
