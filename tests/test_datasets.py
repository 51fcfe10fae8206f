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
