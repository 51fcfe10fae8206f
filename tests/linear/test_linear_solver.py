"""Proximal operators, the FISTA solver and its duality gap, checked independently."""

import numpy as np
import pytest
from scipy.optimize import brentq
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import MultiTaskLasso

from sklearn_mtl.linear._datafits import Logistic, Quadratic
from sklearn_mtl.linear._newton import working_set_newton
from sklearn_mtl.linear._penalties import (
    L1L2,
    L1LInf,
    MeanRegularization,
    project_rows_on_l1_ball,
)
from sklearn_mtl.linear._solver import DesignObjective, GramObjective, fista, make_objective


def _problem(n=120, d=30, T=4, n_active=5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    W = np.zeros((d, T))
    W[:n_active] = rng.standard_normal((n_active, T))
    Y = X @ W + 0.3 * rng.standard_normal((n, T)) + 2.0
    return X, Y


def _l1_projection_by_bisection(v, radius):
    """Projection on the l1 ball from its definition: soft-threshold at theta."""
    if np.abs(v).sum() <= radius:
        return v
    theta = brentq(lambda t: np.maximum(np.abs(v) - t, 0).sum() - radius, 0, np.abs(v).max())
    return np.sign(v) * np.maximum(np.abs(v) - theta, 0)


def test_l1_ball_projection_matches_its_definition():
    rng = np.random.default_rng(0)
    V = rng.standard_normal((50, 7)) * rng.uniform(0.1, 3, (50, 1))
    projected = project_rows_on_l1_ball(V, 2.0)
    for v, p in zip(V, projected):
        np.testing.assert_allclose(p, _l1_projection_by_bisection(v, 2.0), atol=1e-10)
    assert np.all(np.abs(projected).sum(axis=1) <= 2.0 + 1e-10)


def test_group_soft_thresholding():
    V = np.array([[3.0, 4.0], [0.3, 0.4], [0.0, 0.0]])
    out = L1L2(1.0).prox(V, step=1.0)
    np.testing.assert_allclose(out, [[2.4, 3.2], [0.0, 0.0], [0.0, 0.0]])


def test_linf_prox_clips_each_row_at_a_common_level():
    rng = np.random.default_rng(1)
    V = rng.standard_normal((20, 5))
    tau = 0.7
    out = L1LInf(1.0).prox(V, step=tau)
    for v, p in zip(V, out):
        # prox of tau * ||.||_inf is the clip at theta with sum (|v| - theta)_+ = tau.
        if np.abs(v).sum() <= tau:
            np.testing.assert_allclose(p, 0, atol=1e-12)
            continue
        theta = brentq(lambda t, v=v: np.maximum(np.abs(v) - t, 0).sum() - tau, 0, np.abs(v).max())
        np.testing.assert_allclose(p, np.clip(v, -theta, theta), atol=1e-10)


def test_mean_regularization_prox_minimises_its_objective():
    rng = np.random.default_rng(2)
    V = rng.standard_normal((6, 4))
    penalty = MeanRegularization(0.3, 2.0)
    out = penalty.prox(V, step=0.5)
    # Optimality of 1/(2 step) ||W - V||^2 + penalty(W): (W - V) / step + grad = 0.
    np.testing.assert_allclose((out - V) / 0.5 + penalty.gradient(out), 0, atol=1e-12)
    w_mean = V.mean(axis=1)
    expected = 0.3 * w_mean @ w_mean + 2.0 / 4 * np.sum((V - w_mean[:, None]) ** 2)
    assert penalty.value(V) == pytest.approx(expected)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_q2_matches_sklearn_multitask_lasso(fit_intercept):
    X, Y = _problem()
    n = X.shape[0]
    Yc = Y - Y.mean(axis=0) if fit_intercept else Y
    Xc = X - X.mean(axis=0) if fit_intercept else X
    alpha = 0.05 * np.max(np.linalg.norm(Xc.T @ Yc / n, axis=1))

    def objective(W, b):  # written from the documented formula, not from the package
        return 0.5 / n * np.sum((Y - X @ W - b) ** 2) + alpha * np.linalg.norm(W, axis=1).sum()

    reference = MultiTaskLasso(alpha=alpha, fit_intercept=fit_intercept, tol=1e-12, max_iter=50000)
    reference.fit(X, Y)
    expected = objective(reference.coef_.T, reference.intercept_)
    S = np.full(Y.shape, 1 / n)
    for obj in [GramObjective(X, Y, S[:, 0], fit_intercept),
                DesignObjective(X, Quadratic(Y, S), fit_intercept)]:  # fmt: skip
        result = fista(obj, L1L2(alpha), W0=np.zeros((30, 4)), tol=1e-10, max_iter=20000)
        assert result.converged
        assert objective(result.W, result.intercept) == pytest.approx(expected, rel=1e-6)
        assert result.primal == pytest.approx(expected, rel=1e-6)
        np.testing.assert_array_equal(
            np.any(result.W != 0, axis=1), np.any(reference.coef_ != 0, axis=0)
        )


def _weighted_problem(datafit_class, seed=3):
    X, Y = _problem(seed=seed)
    rng = np.random.default_rng(seed)
    if datafit_class is Logistic:
        Y = (Y > np.median(Y, axis=0)).astype(float)
    weight = rng.uniform(0.2, 2.0, Y.shape) * (rng.uniform(size=Y.shape) > 0.2)
    return X, datafit_class(Y, weight / weight.sum(axis=0))


PENALTIES = {
    "l1l2": lambda alpha: L1L2(alpha),
    "l1linf": lambda alpha: L1LInf(alpha),
    "mean": lambda alpha: MeanRegularization(alpha, 10 * alpha),
}


@pytest.mark.parametrize("datafit_class", [Quadratic, Logistic])
@pytest.mark.parametrize("penalty", sorted(PENALTIES))
def test_duality_gap_bounds_the_suboptimality(datafit_class, penalty):
    """A loose solve's reported gap covers its distance to a tight solve's objective."""
    X, datafit = _weighted_problem(datafit_class)
    penalty = PENALTIES[penalty](0.02)
    objective = make_objective(X, datafit, fit_intercept=True)
    W0 = np.zeros((X.shape[1], datafit.Y.shape[1]))
    loose = fista(objective, penalty, W0=W0, tol=1e-2, max_iter=5000)
    tight = fista(objective, penalty, W0=W0, tol=1e-12, max_iter=50000)
    assert tight.converged and loose.converged
    assert 0 <= loose.primal - tight.primal <= loose.gap + 1e-12
    assert tight.gap >= -1e-12


def test_kkt_conditions_of_a_weighted_logistic_l1linf_solution():
    """KKT of l1/l-inf, checked from the definitions of the subdifferential."""
    X, datafit = _weighted_problem(Logistic, seed=4)
    alpha = 0.01
    objective = DesignObjective(X, datafit, fit_intercept=True)
    result = fista(objective, L1LInf(alpha), W0=np.zeros((30, 4)), tol=1e-12, max_iter=50000)
    W, b = result.W, result.intercept
    grad_Z = datafit.S * (1 / (1 + np.exp(-(X @ W + b))) - datafit.Y)
    G = X.T @ grad_Z
    np.testing.assert_allclose(grad_Z.sum(axis=0), 0, atol=1e-7)  # intercept
    assert np.any(W != 0) and np.any(np.all(W == 0, axis=1))
    for w, g in zip(W, G):
        top = np.abs(w).max()
        if top == 0:
            assert np.abs(g).sum() <= alpha * (1 + 1e-5)
            continue
        at_max = np.abs(w) > top * (1 - 1e-9)
        np.testing.assert_allclose(g[~at_max], 0, atol=1e-7)
        assert np.all(-g[at_max] * np.sign(w[at_max]) >= -1e-7)
        assert np.abs(g[at_max]).sum() == pytest.approx(alpha, rel=1e-5)
    np.testing.assert_allclose(L1LInf(alpha).subdifferential_distance(W, G), 0, atol=1e-7)


def test_gram_objective_is_used_only_where_it_is_exact():
    X, Y = _problem()
    S = np.full(Y.shape, 1 / len(Y))
    assert isinstance(make_objective(X, Quadratic(Y, S), True), GramObjective)
    S_missing = S.copy()
    S_missing[0, 1] = 0
    assert isinstance(make_objective(X, Quadratic(Y, S_missing), True), DesignObjective)
    assert isinstance(make_objective(X, Logistic((Y > 2).astype(float), S), True), DesignObjective)


def test_convergence_warning_and_verbose_output(capsys):
    X, Y = _problem()
    objective = make_objective(X, Quadratic(Y, np.full(Y.shape, 1 / len(Y))), True)
    with pytest.warns(ConvergenceWarning, match="did not converge in max_iter=10"):
        result = fista(objective, L1L2(1e-4), W0=np.zeros((30, 4)), max_iter=10, tol=1e-12)
    assert result.n_iter == 10 and not result.converged
    fista(objective, L1L2(1e-2), W0=np.zeros((30, 4)), max_iter=20, verbose=1, warn=False)
    assert "duality gap" in capsys.readouterr().out


@pytest.mark.parametrize("datafit_class", [Quadratic, Logistic])
@pytest.mark.parametrize("penalty", ["l1l2", "l1linf"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_working_set_newton_reaches_fistas_objective_within_its_gap(
    datafit_class, penalty, fit_intercept
):
    """Same problem, two solvers: the Newton solver's gap certifies its objective."""
    X, datafit = _weighted_problem(datafit_class, seed=5)
    penalty = PENALTIES[penalty](0.01)
    objective = DesignObjective(X, datafit, fit_intercept=fit_intercept)
    W0 = np.zeros((X.shape[1], datafit.Y.shape[1]))
    reference = fista(objective, penalty, W0=W0, tol=1e-12, max_iter=50000)
    newton = working_set_newton(objective, penalty, W0=W0, tol=1e-6, max_iter=200)
    assert newton.converged and newton.gap <= 1e-6 * objective.null_value
    assert 0 <= newton.primal - reference.primal + 1e-12 <= newton.gap + 1e-12
    np.testing.assert_array_equal(penalty.support(newton.W), penalty.support(reference.W))


def test_working_set_newton_on_wide_one_hot_like_data():
    """Many more features than rows, and collinear columns (one-hot with an intercept)."""
    rng = np.random.default_rng(6)
    codes = rng.integers(0, 5, size=(60, 40))
    X = np.concatenate([codes == k for k in range(5)], axis=1).astype(float)  # (60, 200)
    Y = X[:, :3].sum(axis=1, keepdims=True) + rng.standard_normal((60, 2)) > 0.7
    datafit = Logistic(Y.astype(float), np.full(Y.shape, 1 / 60))
    objective = DesignObjective(X, datafit, fit_intercept=True)
    top = L1L2.dual_norm(objective.gradient(np.zeros((200, 2)), objective.b0)[0])
    W = np.zeros((200, 2))
    for ratio in (0.5, 0.1, 0.01):  # a warm-started path, as the CV estimators run it
        result = working_set_newton(objective, L1L2(ratio * top), W0=W, tol=1e-8, max_iter=500)
        assert result.converged
        W = result.W
        distance = L1L2(ratio * top).subdifferential_distance(
            W, objective.gradient(W, result.intercept)[0]
        )
        assert distance.max() < 1e-3 * ratio * top


def test_working_set_newton_hands_over_to_fista_when_many_features_are_in_use(capsys):
    rng = np.random.default_rng(7)
    X = rng.standard_normal((500, 300))
    Y = (X @ rng.standard_normal((300, 2)) + 3 * rng.standard_normal((500, 2)) > 0).astype(float)
    datafit = Logistic(Y, np.full(Y.shape, 1 / 500))
    objective = DesignObjective(X, datafit, fit_intercept=True)
    penalty = L1L2(1e-3)
    W0 = np.zeros((300, 2))
    result = working_set_newton(objective, penalty, W0=W0, tol=1e-6, max_iter=5000, verbose=1)
    assert "FISTA goes on from here" in capsys.readouterr().out
    assert result.converged and penalty.support(result.W).sum() > 128
    reference = fista(objective, penalty, W0=W0, tol=1e-10, max_iter=50000)
    assert 0 <= result.primal - reference.primal + 1e-12 <= result.gap + 1e-12
