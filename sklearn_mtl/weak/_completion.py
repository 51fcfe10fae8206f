"""MeTaL's matrix completion: the sources' conditional probabilities ``mu`` from ``O``.

``mu`` minimises the misfit of ``mu P mu^T`` to the observed second moments
``O`` on the entries the model explains (:func:`fit_mask`), with each
indicator's rate matched, under parameters tied by what each source votes on
(:func:`coverage_ties`).
"""

from __future__ import annotations

import numpy as np
from scipy import optimize

from ._label_matrix import ABSTAIN

__all__ = ["complete_mu", "coverage_ties", "fit_mask"]


def complete_mu(moments, mask, balance, prec_init, l2, max_iter, ties=None):
    """``mu`` minimising ``|mask (mu P mu^T - O)|^2 + |mu p - diag O|^2 + l2 |mu - mu_0|^2``.

    ``mu_0`` puts ``prec_init`` on each source's agreement with the true label
    (Snorkel's start, which breaks the symmetry between a source and its
    opposite); L-BFGS-B keeps ``mu`` in [0, 1]. ``ties`` (same shape as
    ``mu``) numbers the free parameters: entries with one number are one
    parameter (see :func:`coverage_ties`); None: every entry is free.
    Returns ``(mu, iterations)``.
    """
    rates = np.diag(moments)
    K = len(balance)
    rows = np.arange(len(moments))
    mu_init = np.zeros((len(moments), K))
    mu_init[rows, rows % K] = np.clip(rates * prec_init / balance[rows % K], 0, 1)
    if ties is None:
        ties = np.arange(mu_init.size).reshape(mu_init.shape)
    n_free = int(ties.max()) + 1
    theta_init = np.zeros(n_free)
    np.maximum.at(theta_init, ties.ravel(), mu_init.ravel())

    def loss(theta):
        mu = theta[ties]
        residual = mask * (mu * balance @ mu.T - moments)
        rate_residual = mu @ balance - rates
        drift = theta - theta_init
        value = (residual**2).sum() + (rate_residual**2).sum() + l2 * (drift**2).sum()
        grad_mu = 4 * residual @ mu * balance + 2 * np.outer(rate_residual, balance)
        grad = np.bincount(ties.ravel(), weights=grad_mu.ravel(), minlength=n_free)
        return value, grad + 2 * l2 * drift

    result = optimize.minimize(
        loss, theta_init, jac=True, method="L-BFGS-B", bounds=[(0.0, 1.0)] * n_free,
        options={"maxiter": max_iter, "ftol": 1e-15, "gtol": 1e-10},
    )  # fmt: skip
    return result.x[ties], int(result.nit)


def coverage_ties(L: np.ndarray, feasible: np.ndarray) -> np.ndarray:
    """Tie ``mu`` so each source depends on the true labels of the tasks it votes on only.

    Source ``i`` voting on tasks ``S`` (in ``L``) agrees with joint label
    ``a`` according to ``a``'s classes on ``S`` alone, so ``mu[i K + a, y]``
    is one parameter per (``a`` on ``S``, ``y`` on ``S``): its votes do not
    depend on the true labels of the tasks it never labels.
    """
    n_sources, K = L.shape[1], len(feasible)
    ties = np.empty((n_sources * K, K), dtype=np.int64)
    offset = 0
    for i in range(n_sources):
        covered = np.flatnonzero((L[:, i, :] != ABSTAIN).any(axis=0))
        code = np.zeros(K, dtype=np.int64)
        if len(covered):
            _, code = np.unique(feasible[:, covered], axis=0, return_inverse=True)
            code = code.ravel()
        n = int(code.max()) + 1
        ties[i * K : (i + 1) * K] = offset + code[:, None] * n + code[None, :]
        offset += n * n
    return ties


def fit_mask(n_sources: int, K: int, dependencies) -> np.ndarray:
    """Which entries of ``O`` the model explains: distinct, independent sources only."""
    blocks = np.ones((n_sources, n_sources))
    np.fill_diagonal(blocks, 0.0)
    for i, j in dependencies:
        blocks[i, j] = blocks[j, i] = 0.0
    return np.kron(blocks, np.ones((K, K)))
