"""A fitted label model as plain data, and the checks of one read from a file.

:func:`sklearn_mtl.save` writes :class:`~sklearn_mtl.weak.MultiTaskLabelModel`'s
fitted attributes (numpy arrays, lists and ints) as typed JSON;
:func:`sklearn_mtl.load` reads them back through :func:`check_label_model_state`,
which refuses, with a ``ValueError`` saying what is wrong, any attribute whose
type, shape or values do not fit the others, before the model predicts on a
probe label matrix. Every check is linear in what the file holds.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np

from ._cross_moments import MAX_CLIQUE_PATTERNS, dependency_cliques
from ._label_matrix import ABSTAIN, MAX_JOINT_LABELS, check_fit_size
from ._label_model_checks import source_dependency_pairs

FITTED = (
    "mu_",
    "class_balance_",
    "feasible_labels_",
    "source_accuracies_",
    "cardinalities_",
    "n_sources_",
    "n_tasks_",
    "n_iter_",
    "_single_task",
    "_cliques",
)
"""The attributes a fit of :class:`MultiTaskLabelModel` sets, and a file holds."""


def label_model_state(model) -> dict:
    """The fitted attributes of ``model``, as :func:`sklearn_mtl.save` writes them."""
    state = {name: getattr(model, name) for name in FITTED}
    state["_cliques"] = [[list(members), found, table] for members, found, table in model._cliques]
    return state


def check_label_model_state(state: dict, model) -> dict:
    """The fitted attributes of a file, checked against each other and the parameters.

    A ``ValueError`` says what does not fit.

    Returns
    -------
    attributes : dict
        The attributes to set, ``_cliques`` as the model uses it.
    """
    if set(state) != set(FITTED):
        unknown = sorted(str(name)[:40] for name in set(state) - set(FITTED))
        raise ValueError(
            f"its state must set exactly {list(FITTED)} (missing "
            f"{sorted(set(FITTED) - set(state))}, unknown {unknown[:5]})"
        )
    m = _count(state["n_sources_"], "n_sources_")
    T = _count(state["n_tasks_"], "n_tasks_")
    if not isinstance(state["_single_task"], bool) or (state["_single_task"] and T != 1):
        raise ValueError("_single_task must be a bool, True only for one task")
    _count(state["n_iter_"], "n_iter_", minimum=0)
    cardinalities = state["cardinalities_"]
    if not (
        isinstance(cardinalities, list) and len(cardinalities) == T
        and all(isinstance(k, Integral) and not isinstance(k, bool) and 2 <= k <= MAX_JOINT_LABELS
                for k in cardinalities)
    ):  # fmt: skip
        raise ValueError(f"cardinalities_ must list {T} class counts of at least 2")
    feasible = state["feasible_labels_"]
    if not _array(feasible, "iu", ndim=2) or feasible.shape[1] != T:
        raise ValueError(f"feasible_labels_ must be an int array of {T} column(s)")
    K = len(feasible)
    if not 2 <= K <= MAX_JOINT_LABELS:
        raise ValueError(f"feasible_labels_ must hold 2 to {MAX_JOINT_LABELS} joint labels")
    if ((feasible < 0) | (feasible >= np.asarray(cardinalities))).any():
        raise ValueError("feasible_labels_ holds a class outside cardinalities_")
    check_fit_size(m, K)  # bounds the size of mu_ before it is compared
    mu = state["mu_"]
    if not _array(mu, "f", ndim=2) or mu.shape != (m * K, K):
        raise ValueError(f"mu_ must be a float array of shape ({m * K}, {K})")
    if not (np.isfinite(mu).all() and ((mu >= 0) & (mu <= 1)).all()):
        raise ValueError("mu_ must hold probabilities")
    balance = state["class_balance_"]
    if not _array(balance, "f", ndim=1) or balance.shape != (K,):
        raise ValueError(f"class_balance_ must be {K} probabilities")
    if not (np.isfinite(balance).all() and (balance > 0).all()) or not np.isclose(
        balance.sum(), 1.0
    ):
        raise ValueError("class_balance_ must be positive and sum to 1")
    accuracies = state["source_accuracies_"]
    if not _array(accuracies, "f", ndim=2) or accuracies.shape != (m, T):
        raise ValueError(f"source_accuracies_ must be a float array of shape ({m}, {T})")
    known = accuracies[~np.isnan(accuracies)]
    if not ((known >= 0) & (known <= 1)).all():
        raise ValueError("source_accuracies_ must be probabilities (or NaN)")
    cliques = _checked_cliques(state["_cliques"], m, T, K, cardinalities)
    _check_params(model, state, cliques, m)
    return {**state, "_cliques": cliques}


def _check_params(model, state: dict, cliques: list, m: int) -> None:
    """The parameters that shaped the fit (of the unfitted ``model``) must describe its state."""
    graph = model.task_graph
    if graph is not None and not np.array_equal(np.asarray(graph), state["feasible_labels_"]):
        raise ValueError("its task_graph parameter is not its feasible_labels_")
    given = model.cardinalities
    if given is not None and list(np.atleast_1d(given)) != state["cardinalities_"]:
        raise ValueError("its cardinalities parameter is not its cardinalities_")
    balance = model.class_balance
    if not isinstance(balance, str) and not np.allclose(balance, state["class_balance_"]):
        raise ValueError("its class_balance parameter is not its class_balance_")
    expected = dependency_cliques(m, source_dependency_pairs(model.source_dependencies, m))
    if sorted(map(sorted, expected)) != sorted(sorted(members) for members, _, _ in cliques):
        raise ValueError("its source_dependencies do not give its cliques of sources")


def _checked_cliques(cliques, m: int, T: int, K: int, cardinalities) -> list:
    """Each clique of dependent sources: distinct members, their vote patterns, a table."""
    if not isinstance(cliques, list) or len(cliques) > m // 2:
        raise ValueError(f"_cliques must list at most {m // 2} groups of dependent sources")
    seen = set()
    checked = []
    for clique in cliques:
        if not (isinstance(clique, list) and len(clique) == 3):
            raise ValueError("each clique must be [members, patterns, table]")
        members, found, table = clique
        if not (
            isinstance(members, list) and len(members) >= 2
            and all(isinstance(i, Integral) and not isinstance(i, bool) and 0 <= i < m
                    for i in members)
            and not seen & set(members) and len(set(members)) == len(members)
        ):  # fmt: skip
            raise ValueError("a clique's members must be distinct sources of no other clique")
        seen |= set(members)
        width = len(members) * T
        if not _array(found, "iu", ndim=2) or found.shape[1] != width:
            raise ValueError(f"a clique's patterns must be an int array of {width} columns")
        if len(found) > MAX_CLIQUE_PATTERNS:
            raise ValueError(f"a clique may have at most {MAX_CLIQUE_PATTERNS} vote patterns")
        limits = np.tile(np.asarray(cardinalities), len(members))
        if ((found < ABSTAIN) | (found >= limits)).any():
            raise ValueError("a clique's patterns hold a class outside cardinalities_")
        if table is not None:
            if not _array(table, "f", ndim=2) or table.shape != (len(found), K):
                raise ValueError(f"a clique's table must be a float array of ({len(found)}, {K})")
            if not (np.isfinite(table).all() and (table <= 0).all()):
                raise ValueError("a clique's table must hold log-probabilities")
        checked.append((list(members), found, table))
    return checked


def _count(value, name: str, minimum: int = 1) -> int:
    if not isinstance(value, Integral) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name} must be an int of at least {minimum}")
    return int(value)


def _array(value, kinds: str, ndim: int) -> bool:
    return isinstance(value, np.ndarray) and value.dtype.kind in kinds and value.ndim == ndim
