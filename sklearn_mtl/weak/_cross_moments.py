"""What a source (or a clique of dependent sources) does given the true label, from moments.

Once the label model knows ``mu`` and the class balance ``p``, any event ``e``
that depends on a set of sources ``C`` alone (a vote of one source on one
task, the joint votes of a dependent pair) has a conditional probability
table ``X[e, y] = P(e | Y = y)`` that the data identify without labels: for
every source ``j`` outside ``C`` and independent of it given ``Y``,

``E[1_e psi_j] = sum_y p_y X[e, y] mu_j[:, y]``   and   ``E[1_e] = sum_y p_y X[e, y]``,

a linear system in ``X`` (least squares over all such ``j``). This gives
each source's per-task accuracy without reading it off a posterior (which
double-counts sources that are not independent), and each dependent
clique's joint vote table, which the posterior then uses in place of its
members' separate votes (MeTaL's junction tree over the clique).
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from ._label_matrix import ABSTAIN

MAX_CLIQUE_PATTERNS = 4096
"""Most distinct joint vote patterns of one clique of dependent sources."""

TABLE_FLOOR = 1e-3
"""Smallest conditional probability of a clique's vote pattern at prediction."""

RANK_TOL = 1e-6
"""Relative singular value under which the sources outside a clique cannot identify its table."""


def dependency_cliques(n_sources: int, pairs) -> list[list[int]]:
    """The connected components (of two or more sources) of the dependency graph."""
    parent = list(range(n_sources))

    def root(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in pairs:
        parent[root(i)] = root(j)
    groups: dict[int, list[int]] = {}
    for i in range(n_sources):
        groups.setdefault(root(i), []).append(i)
    return [members for members in groups.values() if len(members) > 1]


def cross_moments(events, psi) -> tuple[np.ndarray, np.ndarray]:
    """``E[1_e psi^T]`` and ``E[1_e]`` of 0/1 event indicators ``(n_items, n_events)``."""
    n_items = psi.shape[0]
    moments = np.asarray((events.T @ psi).todense()) / n_items
    rates = np.asarray(events.sum(axis=0)).ravel() / n_items
    return moments, rates


def conditional_table(moments, rates, mu, balance, outside) -> np.ndarray | None:
    """``X[e, y] = P(event e | Y = y)`` by least squares on cross-moments (module docstring).

    Parameters
    ----------
    moments, rates : ndarray of shape (n_events, n_sources * K) and (n_events,)
        The events' :func:`cross_moments` with the label model's indicators;
        the events depend on some sources only.
    mu : ndarray of shape (n_sources * K, K)
    balance : ndarray of shape (K,)
    outside : ndarray of int
        The columns of ``psi`` (and rows of ``mu``) of the sources independent
        of the events given ``Y``.

    Returns
    -------
    table : ndarray of shape (n_events, K) in [0, 1], or None
        None where the sources outside cannot identify it (fewer independent
        directions than joint labels).
    """
    if len(outside) == 0:
        return None
    design = np.hstack([balance[:, None] * mu[outside].T, balance[:, None]])  # (K, |J| K + 1)
    singular = np.linalg.svd(design, compute_uv=False)
    if singular[-1] <= RANK_TOL * singular[0]:
        return None
    target = np.hstack([moments[:, outside], rates[:, None]])
    table, *_ = np.linalg.lstsq(design.T, target.T, rcond=None)
    return np.clip(table.T, 0.0, 1.0)


def vote_events(L: np.ndarray, task: int, n_classes: int) -> sparse.csr_matrix:
    """Indicators of each source voting each class on ``task``: column ``i * n_classes + c``."""
    n_items, n_sources = L.shape[:2]
    votes = L[:, :, task]
    items, sources = np.nonzero(votes != ABSTAIN)
    columns = sources * n_classes + votes[items, sources]
    return sparse.csr_matrix(
        (np.ones(len(items)), (items, columns)), shape=(n_items, n_sources * n_classes)
    )


def clique_patterns(L: np.ndarray, members) -> tuple[np.ndarray, np.ndarray]:
    """The distinct joint votes of ``members`` on which one of them votes, and each item's.

    Returns
    -------
    patterns : ndarray of shape (n_patterns, len(members) * n_tasks)
    codes : ndarray of shape (n_items,)
        Each item's row in ``patterns``, -1 where every member abstains.
    """
    rows = L[:, members, :].reshape(len(L), -1)
    voted = (rows != ABSTAIN).any(axis=1)
    patterns, inverse = np.unique(rows[voted], axis=0, return_inverse=True)
    if len(patterns) > MAX_CLIQUE_PATTERNS:
        raise ValueError(
            f"source_dependencies: the dependent sources {list(members)} vote in "
            f"{len(patterns)} distinct ways, more than {MAX_CLIQUE_PATTERNS}; declare "
            "smaller groups of dependent sources."
        )
    codes = np.full(len(L), -1, dtype=np.int64)
    codes[voted] = inverse.ravel()
    return patterns, codes


def match_patterns(L: np.ndarray, members, patterns: np.ndarray) -> np.ndarray:
    """Each item's row in ``patterns`` (-1: every member abstains, or a pattern never seen)."""
    rows = L[:, members, :].reshape(len(L), -1)
    codes = np.full(len(L), -1, dtype=np.int64)
    if len(patterns) == 0:
        return codes
    keys = {tuple(p): k for k, p in enumerate(patterns.tolist())}
    voted = np.flatnonzero((rows != ABSTAIN).any(axis=1))
    unique, inverse = np.unique(rows[voted], axis=0, return_inverse=True)
    lookup = np.array([keys.get(tuple(u), -1) for u in unique.tolist()], dtype=np.int64)
    codes[voted] = lookup[inverse.ravel()]
    return codes


def outside_columns(members, n_sources: int, K: int) -> np.ndarray:
    """The columns of ``psi`` of the sources outside ``members``."""
    inside = np.zeros(n_sources, dtype=bool)
    inside[list(members)] = True
    return (np.flatnonzero(~inside)[:, None] * K + np.arange(K)).ravel()


def clique_tables(cliques, patterns, psi, mu, balance, n_sources: int) -> list:
    """Each clique of dependent sources: ``(members, patterns, log P(pattern | Y))``.

    The table is None where the sources outside the clique cannot identify
    it; the posterior then reads the members' votes one by one.
    """
    K = len(balance)
    tables = []
    for members, (found, codes) in zip(cliques, patterns, strict=True):
        voted = np.flatnonzero(codes >= 0)
        events = sparse.csr_matrix(
            (np.ones(len(voted)), (voted, codes[voted])), shape=(len(codes), len(found))
        )
        table = conditional_table(
            *cross_moments(events, psi), mu, balance, outside_columns(members, n_sources, K)
        )
        log_table = None if table is None else np.log(np.clip(table, TABLE_FLOOR, 1.0))
        tables.append((list(members), found, log_table))
    return tables
