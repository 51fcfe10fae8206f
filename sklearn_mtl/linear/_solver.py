"""Accelerated proximal gradient (FISTA with adaptive restart) with a duality gap.

The smooth part of the objective is a datafit of ``Z = XW + b``, seen through
one of two objects:

- :class:`DesignObjective` works with ``X`` itself and any datafit, weights
  and missing labels; the intercept ``b`` is an unpenalised variable;
- :class:`GramObjective` serves the least-squares case with the same weights
  for every task: centring removes the intercept exactly, and every step costs
  one product with the ``(n_features, n_features)`` Gram matrix instead of two
  passes over ``X``.

Both return a duality gap for the dual point built from the gradient (scaled
into the penalty's dual ball; corrected so that its columns sum to zero when
there is an intercept), which the solver uses as its stopping certificate.

References
----------
Beck and Teboulle, "A fast iterative shrinkage-thresholding algorithm for
linear inverse problems", SIAM J. Imaging Sciences, 2009.
O'Donoghue and Candes, "Adaptive restart for accelerated gradient schemes",
Foundations of Computational Mathematics, 2015.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy.linalg import eigvalsh
from sklearn.exceptions import ConvergenceWarning

from ._datafits import Quadratic


def _largest_eigenvalue(A: np.ndarray) -> float:
    """Largest singular value squared of ``A``, through the smaller Gram matrix."""
    gram = A.T @ A if A.shape[0] >= A.shape[1] else A @ A.T
    k = gram.shape[0]
    return float(eigvalsh(gram, subset_by_index=[k - 1, k - 1])[0])


class DesignObjective:
    """``F(XW + b)`` for any datafit, computed through ``X``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Design matrix.
    datafit : Quadratic or Logistic
        The loss, holding the targets and the normalised weights.
    fit_intercept : bool
        Whether ``b`` is a variable; otherwise it stays zero.
    """

    def __init__(self, X: np.ndarray, datafit, fit_intercept: bool):
        self.X = X
        self.datafit = datafit
        self.fit_intercept = fit_intercept
        n_tasks = datafit.Y.shape[1]
        self.b0 = datafit.null_intercept() if fit_intercept else np.zeros(n_tasks)
        self.null_value = datafit.value(np.broadcast_to(self.b0, datafit.Y.shape))

    def lipschitz(self) -> float:
        """Lipschitz constant of the gradient in ``(W, b)``."""
        row_weight = np.sqrt(self.datafit.S.max(axis=1))[:, None]
        A = self.X * row_weight
        if self.fit_intercept:
            A = np.hstack([A, row_weight])
        return self.datafit.curvature * _largest_eigenvalue(A)

    def gradient(self, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        grad_Z = self.datafit.gradient(self.X @ W + b)  # (n_samples, n_tasks)
        grad_b = grad_Z.sum(axis=0) if self.fit_intercept else np.zeros_like(b)
        return self.X.T @ grad_Z, grad_b

    def dual_gap(self, W: np.ndarray, b: np.ndarray, penalty) -> tuple[float, float]:
        """Return ``(primal, gap)`` at ``(W, b)``."""
        datafit = self.datafit
        Z = self.X @ W + b
        primal = datafit.value(Z) + penalty.value(W)
        Theta = -datafit.gradient(Z)  # (n_samples, n_tasks)
        if self.fit_intercept:
            # The dual of a free intercept asks every column of Theta to sum to
            # zero; the correction vanishes as b reaches its optimum.
            Theta = datafit.centered_dual_point(Theta)
        U = self.X.T @ Theta
        kappa = penalty.dual_scaling(U)
        dual = datafit.dual(kappa * Theta) - penalty.conjugate(kappa * U)
        return primal, primal - dual

    def intercept(self, W: np.ndarray, b: np.ndarray) -> np.ndarray:
        return b


class GramObjective:
    """Least squares with one weight per row shared by all tasks, via the Gram matrix.

    With ``s`` the row weights (summing to one), ``x_mean = s^T X`` and
    ``y_mean = s^T Y``, the centred problem is
    ``1/2 tr(W^T G W) - tr(W^T C) + c0 / 2`` with ``G = Xc^T diag(s) Xc``,
    ``C = Xc^T diag(s) Yc`` and ``c0 = ||Yc||_s^2``; the intercept is
    ``y_mean - x_mean^T W``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_tasks)
    s : ndarray of shape (n_samples,)
        Row weights summing to one.
    fit_intercept : bool
    """

    def __init__(self, X: np.ndarray, Y: np.ndarray, s: np.ndarray, fit_intercept: bool):
        self.fit_intercept = fit_intercept
        if fit_intercept:
            self.x_mean, self.y_mean = s @ X, s @ Y
        else:
            self.x_mean, self.y_mean = np.zeros(X.shape[1]), np.zeros(Y.shape[1])
        Xs = X * s[:, None]
        self.G = X.T @ Xs - np.outer(self.x_mean, self.x_mean)  # (n_features, n_features)
        self.C = Xs.T @ Y - np.outer(self.x_mean, self.y_mean)  # (n_features, n_tasks)
        self.c0 = float(s @ (Y**2).sum(axis=1) - self.y_mean @ self.y_mean)
        self.b0 = np.zeros(Y.shape[1])  # the intercept is eliminated, not iterated
        self.null_value = 0.5 * self.c0

    def lipschitz(self) -> float:
        k = self.G.shape[0]
        return float(eigvalsh(self.G, subset_by_index=[k - 1, k - 1])[0])

    def gradient(self, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.G @ W - self.C, np.zeros_like(b)

    def dual_gap(self, W: np.ndarray, b: np.ndarray, penalty) -> tuple[float, float]:
        """Return ``(primal, gap)``, for ``Theta = -kappa * s * residual``."""
        GW = self.G @ W
        WC = float(np.vdot(W, self.C))
        loss = 0.5 * float(np.vdot(W, GW)) - WC + 0.5 * self.c0
        primal = loss + penalty.value(W)
        U = self.C - GW  # X^T Theta for kappa = 1
        kappa = penalty.dual_scaling(U)
        dual = -kappa * (WC - self.c0) - kappa**2 * loss - penalty.conjugate(kappa * U)
        return primal, primal - dual

    def intercept(self, W: np.ndarray, b: np.ndarray) -> np.ndarray:
        return self.y_mean - self.x_mean @ W


def make_objective(X: np.ndarray, datafit, fit_intercept: bool):
    """The cheaper objective for this problem: Gram when it applies and pays."""
    S = datafit.S
    shared_weights = bool(np.all(S == S[:, :1]))
    if isinstance(datafit, Quadratic) and shared_weights and X.shape[0] >= X.shape[1]:
        return GramObjective(X, datafit.Y, S[:, 0], fit_intercept)
    return DesignObjective(X, datafit, fit_intercept)


@dataclass
class SolverResult:
    """What :func:`fista` returns."""

    W: np.ndarray
    """Weights, shape (n_features, n_tasks)."""
    intercept: np.ndarray
    """Intercepts, shape (n_tasks,)."""
    n_iter: int
    """Iterations run."""
    primal: float
    """Objective value at the solution."""
    gap: float
    """Duality gap at the solution: an upper bound on its suboptimality."""
    converged: bool


def fista(
    objective,
    penalty,
    *,
    W0: np.ndarray,
    b0: np.ndarray | None = None,
    tol: float = 1e-4,
    max_iter: int = 1000,
    check_every: int = 10,
    verbose: int = 0,
    warn: bool = True,
) -> SolverResult:
    """Minimise ``objective(W, b) + penalty(W)`` by FISTA with gradient restart.

    Parameters
    ----------
    objective : DesignObjective or GramObjective
        The smooth part.
    penalty : L1L2, L1LInf or MeanRegularization
        The penalty on ``W``, through its prox.
    W0 : ndarray of shape (n_features, n_tasks)
        Starting weights (warm start).
    b0 : ndarray of shape (n_tasks,), default=None
        Starting intercept; the objective's null-model intercept by default.
    tol : float, default=1e-4
        Stop when the duality gap is at most ``tol`` times the datafit of the
        intercept-only model.
    max_iter : int, default=1000
        Maximum number of iterations.
    check_every : int, default=10
        Iterations between duality-gap evaluations.
    verbose : int, default=0
        Print the gap at every evaluation when positive.
    warn : bool, default=True
        Raise a ``ConvergenceWarning`` when ``max_iter`` is reached first.

    Returns
    -------
    result : SolverResult
    """
    step = 1.0 / max(objective.lipschitz(), 1e-300)
    W = W0.copy()
    b = (objective.b0 if b0 is None else b0).astype(np.float64, copy=True)
    W_momentum, b_momentum, t = W, b, 1.0
    primal, gap = objective.dual_gap(W, b, penalty)
    threshold = stopping_threshold(objective, tol, primal)
    n_iter = 0
    while gap > threshold and n_iter < max_iter:
        n_iter += 1
        grad_W, grad_b = objective.gradient(W_momentum, b_momentum)
        W_next = penalty.prox(W_momentum - step * grad_W, step)
        b_next = b_momentum - step * grad_b
        # Restart when the step goes against the momentum (O'Donoghue & Candes).
        if np.vdot(W_momentum - W_next, W_next - W) + np.dot(b_momentum - b_next, b_next - b) > 0:
            t = 1.0
            W_momentum, b_momentum = W_next, b_next
        else:
            t_next = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
            beta = (t - 1.0) / t_next
            W_momentum = W_next + beta * (W_next - W)
            b_momentum = b_next + beta * (b_next - b)
            t = t_next
        W, b = W_next, b_next
        if n_iter % check_every == 0 or n_iter == max_iter:
            primal, gap = objective.dual_gap(W, b, penalty)
            if verbose:
                print(f"iteration {n_iter}: objective {primal:.8g}, duality gap {gap:.3g}")
    return solver_result(
        objective.intercept(W, b), W, n_iter, primal, gap, threshold, max_iter, warn, "iterations"
    )


def stopping_threshold(objective, tol: float, primal: float) -> float:
    """The gap to reach: ``tol`` times the null-model loss, or a few ulps of the objective.

    Below a few ulps of the objective the gap is rounding noise.
    """
    return max(tol * objective.null_value, 64 * np.finfo(np.float64).eps * abs(primal))


def solver_result(intercept, W, n_iter, primal, gap, threshold, max_iter, warn, unit):
    """The :class:`SolverResult`, with a ``ConvergenceWarning`` if the gap is not reached."""
    converged = gap <= threshold
    if not converged and warn:
        warnings.warn(
            f"The solver did not converge in max_iter={max_iter} {unit}: the duality "
            f"gap is {gap:.3g}, above tol times the null-model loss ({threshold:.3g}). "
            "Increase max_iter, loosen tol, or scale the features.",
            ConvergenceWarning,
            stacklevel=4,
        )
    # At least one: checking that the start is optimal counts, as in scikit-learn.
    return SolverResult(W, intercept, max(n_iter, 1), primal, gap, converged)
