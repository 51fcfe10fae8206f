"""make_task_pair, tested the way it is defined."""

import numpy as np
import pytest

from sklearn_mtl.datasets import make_task_pair


def _pearson(correlation, seed=0):
    _, Y = make_task_pair(10_000, correlation, random_state=seed)
    return np.corrcoef(Y.T)[0, 1]


def test_task_correlation_rises_with_p():
    pearson = [_pearson(p) for p in (0.0, 0.5, 0.9, 1.0)]
    assert abs(pearson[0]) < 0.1
    assert pearson[3] > 0.95
    assert pearson == sorted(pearson)
    assert 0.2 < pearson[1] < 0.5 and 0.7 < pearson[2] < 0.9


def test_weights_have_the_requested_cosine_and_norm():
    _, _, weights = make_task_pair(10, 0.3, scale=2.0, return_weights=True, random_state=1)
    norms = np.linalg.norm(weights, axis=1)
    np.testing.assert_allclose(norms, [2.0, 2.0])
    np.testing.assert_allclose(weights[0] @ weights[1] / norms.prod(), 0.3)


def test_targets_follow_the_generating_equation_up_to_noise():
    X, Y, weights = make_task_pair(
        5000, 0.5, n_sinusoids=0, noise=0.1, return_weights=True, random_state=0
    )
    residual = Y - X @ weights.T
    assert abs(residual.std() - 0.1) < 0.01 and abs(residual.mean()) < 0.01


def test_binary_variant_is_balanced_and_reproducible():
    X, Y = make_task_pair(1001, 0.9, target="binary", random_state=0)
    assert set(np.unique(Y)) == {0, 1} and Y.dtype == np.int64
    np.testing.assert_allclose(Y.mean(axis=0), 0.5, atol=0.001)
    X2, Y2 = make_task_pair(1001, 0.9, target="binary", random_state=0)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(Y, Y2)


def test_invalid_parameters_are_named():
    with pytest.raises(ValueError, match="'correlation' parameter of make_task_pair"):
        make_task_pair(10, 1.5)
    with pytest.raises(ValueError, match="'target' parameter of make_task_pair"):
        make_task_pair(10, 0.5, target="ordinal")


def test_function_seed_fixes_the_function_and_random_state_draws_the_sample():
    X1, Y1, w1 = make_task_pair(4000, 0.7, function_seed=3, random_state=1, return_weights=True)
    X2, Y2, w2 = make_task_pair(4000, 0.7, function_seed=3, random_state=2, return_weights=True)
    np.testing.assert_array_equal(w1, w2)  # the same directions
    assert not np.allclose(X1, X2)  # a new sample
    # the same sine terms too: y minus its linear part is one function of w^T x
    noiseless = [
        make_task_pair(4000, 0.7, noise=0.0, function_seed=3, random_state=s, return_weights=True)
        for s in (1, 2)
    ]
    for t in range(2):
        (Xa, Ya, wa), (Xb, Yb, _) = noiseless
        za, zb = Xa @ wa[t], Xb @ wa[t]
        order_a, order_b = np.argsort(za), np.argsort(zb)
        grid = np.linspace(-1.5, 1.5, 50)
        fa = np.interp(grid, za[order_a], (Ya[:, t] - za)[order_a])
        fb = np.interp(grid, zb[order_b], (Yb[:, t] - zb)[order_b])
        np.testing.assert_allclose(fa, fb, atol=0.05)
    # the variance of y barely moves between samples of one function ...
    variances = [
        make_task_pair(4000, 0.7, function_seed=3, random_state=s)[1].var() for s in range(5)
    ]
    assert max(variances) / min(variances) < 1.2
    # ... while redrawing the function (function_seed=None) changes it many-fold
    redrawn = [make_task_pair(4000, 0.7, random_state=s)[1].var() for s in range(20)]
    assert max(redrawn) / min(redrawn) > 2


def test_function_seed_none_keeps_the_single_seed_behaviour():
    X, Y = make_task_pair(50, 0.5, random_state=4)
    rng = np.random.RandomState(4)
    X2, Y2 = make_task_pair(50, 0.5, function_seed=rng, random_state=rng)
    np.testing.assert_array_equal(X, X2)  # one stream, drawn in the same order
    np.testing.assert_array_equal(Y, Y2)


def test_only_the_correlation_differs_between_correlations_at_the_same_seeds():
    X1, _, w1 = make_task_pair(100, 1.0, function_seed=0, random_state=5, return_weights=True)
    X2, _, w2 = make_task_pair(100, 0.5, function_seed=0, random_state=5, return_weights=True)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_allclose(w1[0], w2[0])  # task 1 is the same task
    np.testing.assert_allclose(w1[0] @ w2[1], 0.5)
