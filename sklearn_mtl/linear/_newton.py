"""Proximal Newton on a working set of features, for row-sparse penalties.

FISTA takes one gradient step of size ``1 / L`` per pass over ``X``: on a
design with columns of very different scales (one-hot categories) or with far
more features than rows, it needs thousands of passes. This solver, after
celer and skglm (Massias et al. 2018; Bertrand et al. 2022), instead

1. computes the gradient on every feature and each feature's distance to
   optimality (the KKT residual of its row of ``W``);
2. restricts the problem to a *working set*: the features in use and those
   that violate optimality most (its size doubles at each outer iteration);
3. solves the restricted problem by proximal Newton steps (Lee, Sun and
   Saunders 2014): the datafit's second-order model in Gram form on the working
   set, minimised with the penalty by block coordinate descent over features
   (a block is a feature's row across tasks), then a backtracking line search;
4. stops on the same duality-gap certificate as :func:`~._solver.fista`,
   computed on the whole problem, so ``tol`` means the same for both.

References
----------
M. Massias, A. Gramfort and J. Salmon, "Celer: a fast solver for the Lasso
with dual extrapolation", ICML 2018.
Q. Bertrand, Q. Klopfenstein, P.-A. Bannier, G. Gidel and M. Massias,
"Beyond L1: faster and better sparse models with skglm", NeurIPS 2022.
J. D. Lee, Y. Sun and M. A. Saunders, "Proximal Newton-type methods for
minimizing composite functions", SIAM J. Optimization, 2014.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg

from ._penalties import L1L2
from ._solver import SolverResult, fista, solver_result, stopping_threshold

FIRST_WORKING_SET = 10
"""Features in the first working set (or every feature, if fewer)."""

MAX_WORKING_SET = 256
"""The largest working set: beyond it (over 128 features in use), FISTA takes over. Measured
with benchmarks/linear.py (5,000 rows, 500 correlated features, 20 tasks): with every
feature in use, Newton steps on the whole set took 3 to 4 times FISTA's time."""

MAX_ROUNDS = 20
"""Rounds of coordinate descent (and Newton on the support) per model, at most."""

SWEEPS_PER_ROUND = 3
"""Coordinate-descent sweeps over the working set in a round, at most."""

NEWTON_STEPS_ON_SUPPORT = 3
"""Newton steps on the support's rows in a round, at most."""

MAX_NEWTON_SIZE = 400
"""Newton on the support only while it has at most this many weights (rows x tasks): its
Hessian is dense, and beyond this coordinate descent alone is cheaper."""


def working_set_newton(
    objective,
    penalty,
    *,
    W0: np.ndarray,
    b0: np.ndarray | None = None,
    tol: float = 1e-4,
    max_iter: int = 1000,
    verbose: int = 0,
    warn: bool = True,
) -> SolverResult:
    """Minimise ``objective(W, b) + penalty(W)`` by proximal Newton on working sets.

    Takes the arguments of :func:`~._solver.fista` (``objective`` must be a
    ``DesignObjective`` and ``penalty`` a row penalty, l1/l2 or l1/l-inf);
    ``max_iter`` counts Newton steps over all working sets, and ``verbose``
    prints the gap at every working set. When more than ``MAX_WORKING_SET / 2``
    features are in use, FISTA continues from the current weights.
    """
    X, datafit, fit_intercept = objective.X, objective.datafit, objective.fit_intercept
    W = W0.astype(np.float64, copy=True)
    b = (objective.b0 if b0 is None else b0).astype(np.float64, copy=True)
    n_features = W.shape[0]
    primal, gap = objective.dual_gap(W, b, penalty)
    threshold = stopping_threshold(objective, tol, primal)
    size = min(n_features, FIRST_WORKING_SET)
    n_iter = 0
    while gap > threshold and n_iter < max_iter:
        G = X.T @ datafit.gradient(X @ W + b)  # (n_features, n_tasks)
        violation = penalty.subdifferential_distance(W, G)
        support = penalty.support(W)
        size = min(n_features, max(FIRST_WORKING_SET, 2 * int(support.sum())))
        if size > MAX_WORKING_SET:
            # Many features in use: a Newton step's dense model (one Gram matrix of the
            # working set per task) would cost more than the FISTA iterations it saves.
            if verbose:
                print(f"{int(support.sum())} features in use: FISTA goes on from here")
            rest = fista(objective, penalty, W0=W, b0=b, tol=tol, max_iter=max_iter - n_iter,
                         verbose=verbose, warn=warn)  # fmt: skip
            rest.n_iter += n_iter
            return rest
        priority = np.where(support, np.inf, violation)
        working = np.sort(np.argpartition(-priority, size - 1)[:size])
        inner_tol = 0.3 * max(float(violation.max()), 0.0)
        W_working, b, steps = _prox_newton(
            X[:, working], datafit, penalty, W[working], b, fit_intercept,
            inner_tol, max_iter - n_iter,
        )  # fmt: skip
        W[:] = 0.0
        W[working] = W_working
        n_iter += steps
        primal, gap = objective.dual_gap(W, b, penalty)
        if verbose:
            print(
                f"working set of {size} features: {n_iter} Newton steps, objective "
                f"{primal:.8g}, duality gap {gap:.3g}"
            )
    return solver_result(b, W, n_iter, primal, gap, threshold, max_iter, warn, "Newton steps")


def _prox_newton(X, datafit, penalty, W, b, fit_intercept, tol, max_steps):
    """Proximal Newton steps on the restricted problem until its KKT residual is below tol.

    Returns ``(W, b, steps)``; at least one step is taken.
    """
    W, b = W.copy(), b.copy()
    steps = 0
    while steps < max_steps:
        Z = X @ W + b  # (n_samples, n_tasks)
        R = datafit.gradient(Z)
        g, g_b = X.T @ R, R.sum(axis=0)  # (k, n_tasks), (n_tasks,)
        residual = float(penalty.subdifferential_distance(W, g).max(initial=0.0))
        if fit_intercept:
            residual = max(residual, float(np.abs(g_b).max()))
        if steps > 0 and residual <= tol:
            break
        steps += 1
        H = datafit.curvature_at(Z)  # (n_samples, n_tasks)
        A = np.stack([X.T @ (X * H[:, [t]]) for t in range(H.shape[1])])  # (T, k, k)
        if fit_intercept:
            # The intercept is free: minimise the model over it exactly, which
            # centres the Gram matrices (the features' weighted means removed).
            c = X.T @ H  # (k, n_tasks): the intercept's coupling
            h = np.maximum(H.sum(axis=0), 1e-300)  # (n_tasks,)
            A -= np.einsum("jt,lt->tjl", c, c / h)
            model_g = g - c * (g_b / h)
        else:
            model_g = g
        delta = _minimise_model(A, model_g, W, penalty, 0.1 * residual)
        delta_b = -(g_b + np.einsum("jt,jt->t", c, delta)) / h if fit_intercept else 0 * g_b
        if not delta.any() and not np.any(delta_b):
            break
        step = _line_search(X, datafit, penalty, W, b, Z, g, g_b, delta, delta_b)
        if step == 0.0:
            break
        W += step * delta
        b += step * delta_b
    return W, b, steps


def _minimise_model(A, g, W, penalty, tol):
    """Minimise the second-order model plus the penalty; return the step ``delta``.

    The model of the datafit at ``V = W + delta`` is ``g . delta + 1/2 sum_t
    delta_t^T A_t delta_t``. Rounds of block coordinate descent over the
    features find which rows are non-zero; for the l1/l2 penalty, which is
    smooth where a row is non-zero, Newton steps on those rows then finish
    the job (coordinate descent alone crawls on correlated features, such as
    one-hot columns). Stops when the model's KKT residual is at most ``tol``.
    """
    V = W.copy()
    q = np.zeros_like(W)  # (k, n_tasks): A_t (V_t - W_t), the model's gradient change
    # Block curvatures and A's columns by feature, once per model: each round's sweeps use them.
    lipschitz = np.maximum(np.einsum("tjj->jt", A).max(axis=1), 1e-12)  # (k,)
    columns = np.ascontiguousarray(A.transpose(2, 1, 0))  # (k, k, n_tasks): A_t[:, j] by j
    for _ in range(MAX_ROUNDS):
        _coordinate_descent(columns, lipschitz, g, V, q, penalty, tol, SWEEPS_PER_ROUND)
        if penalty.subdifferential_distance(V, g + q).max(initial=0.0) <= tol:
            break
        rows = int(np.any(V != 0, axis=1).sum())
        if type(penalty) is L1L2 and rows * V.shape[1] <= MAX_NEWTON_SIZE:
            _newton_on_support(A, g, W, V, q, penalty)
            if penalty.subdifferential_distance(V, g + q).max(initial=0.0) <= tol:
                break
    return V - W


def _coordinate_descent(columns, lipschitz, g, V, q, penalty, tol, sweeps):
    """Sweeps of block coordinate descent over the rows of ``V`` (updated in place).

    Tasks decouple in the model, so a feature's block has the curvature
    ``A_t[j, j]`` in task ``t``; its step uses the largest (``lipschitz[j]``),
    which the row penalty's prox needs to be one number; ``columns[j]`` holds
    ``A_t[:, j]`` for every task. Stops early when no block moves by more than
    ``tol`` (in gradient units).
    """
    for _ in range(sweeps):
        largest = 0.0
        # A zero row that its gradient keeps at zero is the commonest case: visit the
        # others only (a row that starts to violate mid-sweep is caught by the next).
        visit = np.any(V != 0, axis=1) | (penalty.subdifferential_distance(0 * V, g + q) > 0)
        for j in np.flatnonzero(visit):
            current = V[j].copy()
            gradient = g[j] + q[j]
            if not current.any() and penalty.stays_zero(gradient):
                continue
            V[j] = penalty.prox_row(current - gradient / lipschitz[j], 1.0 / lipschitz[j])
            change = V[j] - current
            moved = lipschitz[j] * float(np.abs(change).max())
            if moved > 0.0:
                q += columns[j] * change  # (k, n_tasks)
                largest = max(largest, moved)
        if largest <= tol:
            return


def _newton_on_support(A, g, W, V, q, penalty) -> None:
    """Newton steps on the non-zero rows of ``V``, where ``alpha ||V[j]||`` is smooth.

    The Hessian is the model's (block diagonal over tasks) plus the norm's,
    ``alpha (I - u u^T) / ||V[j]||`` for the row's direction ``u``; it can be
    singular (collinear features), so the step is a least-squares solution,
    damped by backtracking on the model. Rows that shrink to zero leave the
    support. Updates ``V`` and ``q`` in place.
    """
    alpha = penalty.alpha
    for _ in range(NEWTON_STEPS_ON_SUPPORT):
        rows = np.flatnonzero(np.any(V != 0, axis=1))
        m, n_tasks = len(rows), V.shape[1]
        if m == 0:
            return
        norms = np.linalg.norm(V[rows], axis=1)
        U = V[rows] / norms[:, None]  # (m, n_tasks)
        gradient = g[rows] + q[rows] + alpha * U
        hessian = np.zeros((m, n_tasks, m, n_tasks))
        for t in range(n_tasks):
            hessian[:, t, :, t] = A[t][np.ix_(rows, rows)]
        norm_hessian = np.eye(n_tasks) - U[:, :, None] * U[:, None, :]  # (m, T, T)
        diagonal = np.arange(m)
        hessian[diagonal, :, diagonal, :] += (alpha / norms)[:, None, None] * norm_hessian
        size = m * n_tasks
        hessian = hessian.reshape(size, size)
        # A little damping: the Hessian can be singular (collinear features), and
        # directions it hardly sees are left alone rather than taken with huge steps.
        hessian[np.diag_indices(size)] += 1e-8 * max(float(hessian.diagonal().max()), 1e-300)
        try:
            step = -scipy.linalg.solve(hessian, gradient.ravel(), assume_a="pos")
        except (np.linalg.LinAlgError, ValueError):
            return
        step = step.reshape(m, n_tasks)
        slope = float(np.vdot(gradient, step))
        if slope >= 0:
            return
        # Along the line, the model's smooth part is a parabola in the step size.
        smooth_slope = float(np.vdot(g[rows] + q[rows], step))
        curvature = sum(
            float(step[:, t] @ A[t][np.ix_(rows, rows)] @ step[:, t]) for t in range(n_tasks)
        )
        start = alpha * float(norms.sum())
        size_of_step = 1.0
        while size_of_step > 1e-10:
            moved = V[rows] + size_of_step * step
            change = size_of_step * smooth_slope + 0.5 * size_of_step**2 * curvature
            change += alpha * float(np.linalg.norm(moved, axis=1).sum()) - start
            if change <= 1e-4 * size_of_step * slope:
                break
            size_of_step /= 2
        else:
            return
        moved_norms = np.linalg.norm(moved, axis=1)
        moved[moved_norms <= 1e-12 * max(float(moved_norms.max()), 1e-300)] = 0.0
        V[rows] = moved
        q[:] = np.einsum("tjl,lt->jt", A, V - W)


def _line_search(X, datafit, penalty, W, b, Z, g, g_b, delta, delta_b) -> float:
    """The largest step in 1, 1/2, 1/4, ... with sufficient decrease (Armijo), or 0."""
    direction_Z = X @ delta + delta_b
    start = datafit.value(Z) + penalty.value(W)
    # The decrease the model predicts for a full step, to first order.
    predicted = float(np.vdot(g, delta) + np.dot(g_b, delta_b))
    predicted += penalty.value(W + delta) - penalty.value(W)
    step = 1.0
    for _ in range(30):
        value = datafit.value(Z + step * direction_Z) + penalty.value(W + step * delta)
        if value <= start + 1e-4 * step * min(predicted, 0.0):
            return step
        step /= 2
    return 0.0
