"""Synthetic task pairs with a controlled correlation (MMoE paper, section 4.1)."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_random_state

from ..utils._sklearn import Interval, StrOptions, validate_params

_GENERATOR_PARAMETERS = {
    "scale": [Interval(Real, 0, None, closed="neither")],
    "n_sinusoids": [Interval(Integral, 0, None, closed="left")],
    "noise": [Interval(Real, 0, None, closed="left")],
    "target": [StrOptions({"regression", "binary"})],
    "return_weights": ["boolean"],
    "function_seed": ["random_state"],
    "random_state": ["random_state"],
}
"""The constraints of the parameters both generators share."""


@validate_params(
    {
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "correlation": [Interval(Real, -1, 1, closed="both")],
        "n_features": [Interval(Integral, 2, None, closed="left")],
        **_GENERATOR_PARAMETERS,
    },
    prefer_skip_nested_validation=True,
)
def make_task_pair(
    n_samples=10000,
    correlation=0.5,
    *,
    n_features=100,
    scale=1.0,
    n_sinusoids=10,
    noise=0.1,
    target="regression",
    return_weights=False,
    function_seed=None,
    random_state=None,
):
    """Generate two regression (or binary) tasks whose correlation is controlled.

    The synthetic data of Ma et al. (2018), section 4.1. Two orthogonal unit
    vectors ``u1, u2`` in ``R^d`` give the task weights ``w1 = c u1`` and
    ``w2 = c (p u1 + sqrt(1 - p^2) u2)``, so that ``cos(w1, w2) = p``. With
    ``x ~ N(0, I_d)``::

        y_k = w_k^T x + sum_{i=1..m} sin(alpha_i w_k^T x + beta_i) + eps_k

    where ``alpha_i, beta_i ~ N(0, 1)`` are shared by both tasks and
    ``eps_k ~ N(0, noise^2)``. The Pearson correlation of ``y1`` and ``y2``
    rises with ``p`` (about 0.35 at ``p = 0.5`` and near 1 at ``p = 1``).

    The *function* (``u1, u2, alpha, beta``) and the *sample* (``x`` and
    ``eps``) have separate seeds. Repeated runs of one experiment, as in the
    paper's section 5.2, keep ``function_seed`` and change ``random_state``:
    every run then learns the same function from a new sample. With the same
    seeds, only ``p`` differs between correlations: ``X`` is the same array.

    Parameters
    ----------
    n_samples : int, default=10000
        Number of rows.
    correlation : float, default=0.5
        The cosine ``p`` between the two task weight vectors, in [-1, 1].
    n_features : int, default=100
        Input dimension ``d``.
    scale : float, default=1.0
        Norm ``c`` of the task weight vectors.
    n_sinusoids : int, default=10
        Number ``m`` of sine terms.
    noise : float, default=0.1
        Standard deviation of the Gaussian noise ``eps_k``.
    target : {"regression", "binary"}, default="regression"
        ``"binary"`` thresholds each task at its median, giving balanced 0/1
        labels for classifiers.
    return_weights : bool, default=False
        Also return the task weight vectors.
    function_seed : int, RandomState instance or None, default=None
        Seed of the function: the directions ``u1, u2`` and the sine
        parameters ``alpha, beta``. ``None`` draws them from ``random_state``
        before the sample, so that every ``random_state`` gives a new function.
    random_state : int, RandomState instance or None, default=None
        Seed of the sample ``x`` and the noise (and of the function when
        ``function_seed`` is ``None``).

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        Inputs.
    Y : ndarray of shape (n_samples, 2)
        The two tasks: floats, or ints in {0, 1} with ``target="binary"``.
    weights : ndarray of shape (2, n_features)
        ``w1`` and ``w2``; only with ``return_weights=True``.

    References
    ----------
    J. Ma, Z. Zhao, X. Yi, J. Chen, L. Hong and E. H. Chi, "Modeling Task
    Relationships in Multi-task Learning with Multi-gate Mixture-of-Experts",
    KDD 2018.

    Examples
    --------
    >>> from sklearn_mtl.datasets import make_task_pair
    >>> X, Y = make_task_pair(1000, correlation=0.9, random_state=0)
    >>> X.shape, Y.shape
    ((1000, 100), (1000, 2))

    Two samples of one function (the same weights, new rows):

    >>> _, _, w1 = make_task_pair(10, function_seed=7, random_state=1, return_weights=True)
    >>> _, _, w2 = make_task_pair(10, function_seed=7, random_state=2, return_weights=True)
    >>> bool((w1 == w2).all())
    True
    """
    rng = check_random_state(random_state)
    function_rng = rng if function_seed is None else check_random_state(function_seed)
    basis, _ = np.linalg.qr(function_rng.standard_normal((n_features, 2)))  # orthonormal u1, u2
    u1, u2 = basis.T
    weights = scale * np.stack([u1, correlation * u1 + np.sqrt(1 - correlation**2) * u2])
    alpha = function_rng.standard_normal(n_sinusoids)
    beta = function_rng.standard_normal(n_sinusoids)
    X, Y = _sample_targets(weights, alpha, beta, n_samples, noise, target, rng)
    return (X, Y, weights) if return_weights else (X, Y)


def _sample_targets(weights, alpha, beta, n_samples, noise, target, rng):
    """Rows ``x ~ N(0, I)`` and ``y_k = w_k^T x + sum_i sin(alpha_i w_k^T x + beta_i) + eps_k``."""
    n_tasks, n_features = weights.shape
    X = rng.standard_normal((n_samples, n_features))
    linear = X @ weights.T  # (n_samples, n_tasks)
    waves = np.sin(alpha * linear[:, :, None] + beta).sum(axis=2)  # (n_samples, n_tasks)
    Y = linear + waves + noise * rng.standard_normal((n_samples, n_tasks))
    if target == "binary":
        Y = (Y > np.median(Y, axis=0)).astype(np.int64)
    return X, Y


@validate_params(
    {
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "n_groups": [Interval(Integral, 1, None, closed="left")],
        "tasks_per_group": [Interval(Integral, 1, None, closed="left")],
        "within_correlation": [Interval(Real, -1, 1, closed="both")],
        "between_correlation": [Interval(Real, -1, 1, closed="both")],
        "n_features": [Interval(Integral, 1, None, closed="left")],
        **_GENERATOR_PARAMETERS,
    },
    prefer_skip_nested_validation=True,
)
def make_task_groups(
    n_samples=10000,
    n_groups=3,
    tasks_per_group=3,
    within_correlation=0.9,
    between_correlation=0.0,
    *,
    n_features=100,
    scale=1.0,
    n_sinusoids=10,
    noise=0.1,
    target="regression",
    return_weights=False,
    function_seed=None,
    random_state=None,
):
    """Generate tasks in planted groups: related within a group, less so across groups.

    The construction of :func:`make_task_pair` for ``T = n_groups * tasks_per_group``
    tasks. The task weight vectors ``w_t = c (L Q^T)_t`` have the cosine matrix
    ``C = L L^T`` with 1 on the diagonal, ``within_correlation`` between two
    tasks of one group and ``between_correlation`` across groups (``Q``: ``T``
    orthonormal directions, ``L``: the Cholesky factor of ``C``; for two tasks
    this is exactly ``make_task_pair``'s ``w1, w2``). Each task is then
    ``y_t = w_t^T x + sum_i sin(alpha_i w_t^T x + beta_i) + eps_t`` with the
    sine parameters shared by all tasks.

    Task ``t`` belongs to group ``t // tasks_per_group``.

    Parameters
    ----------
    n_samples : int, default=10000
        Number of rows.
    n_groups : int, default=3
        Number of planted groups.
    tasks_per_group : int, default=3
        Tasks in each group.
    within_correlation : float, default=0.9
        Cosine between the weight vectors of two tasks of one group.
    between_correlation : float, default=0.0
        Cosine between the weight vectors of tasks of different groups.
    n_features : int, default=100
        Input dimension; at least the number of tasks.
    scale : float, default=1.0
        Norm ``c`` of every weight vector.
    n_sinusoids : int, default=10
        Number of sine terms.
    noise : float, default=0.1
        Standard deviation of each task's Gaussian noise.
    target : {"regression", "binary"}, default="regression"
        ``"binary"`` thresholds each task at its median.
    return_weights : bool, default=False
        Also return the weight vectors.
    function_seed : int, RandomState instance or None, default=None
        Seed of the directions and the sine parameters; ``None`` draws them
        from ``random_state`` (see :func:`make_task_pair`).
    random_state : int, RandomState instance or None, default=None
        Seed of the rows and the noise.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_groups * tasks_per_group)
    weights : ndarray of shape (n_groups * tasks_per_group, n_features)
        Only with ``return_weights=True``.

    Raises
    ------
    ValueError
        If the cosine matrix is not positive semi-definite (e.g. a
        ``between_correlation`` above ``within_correlation``), or if
        ``n_features`` is below the number of tasks.

    Examples
    --------
    >>> from sklearn_mtl.datasets import make_task_groups
    >>> X, Y = make_task_groups(500, n_groups=2, tasks_per_group=3, random_state=0)
    >>> X.shape, Y.shape
    ((500, 100), (500, 6))
    """
    n_tasks = n_groups * tasks_per_group
    if n_features < n_tasks:
        raise ValueError(
            f"n_features={n_features} must be at least the number of tasks ({n_tasks}): "
            "each task needs its own direction."
        )
    group = np.arange(n_tasks) // tasks_per_group
    cosines = np.where(group[:, None] == group[None, :], within_correlation, between_correlation)
    np.fill_diagonal(cosines, 1.0)
    if np.linalg.eigvalsh(cosines).min() < -1e-10:
        raise ValueError(
            f"within_correlation={within_correlation} and between_correlation="
            f"{between_correlation} give no valid set of directions for {n_groups} groups of "
            f"{tasks_per_group} (their cosine matrix is not positive semi-definite); "
            "lower between_correlation."
        )
    # Cholesky of a PSD matrix that may be singular (within_correlation = 1): a small ridge
    factor = np.linalg.cholesky(cosines + 1e-12 * np.eye(n_tasks))
    rng = check_random_state(random_state)
    function_rng = rng if function_seed is None else check_random_state(function_seed)
    directions, _ = np.linalg.qr(function_rng.standard_normal((n_features, n_tasks)))
    weights = scale * factor @ directions.T  # (n_tasks, n_features)
    weights /= np.linalg.norm(weights, axis=1, keepdims=True) / scale  # the ridge's trace
    alpha = function_rng.standard_normal(n_sinusoids)
    beta = function_rng.standard_normal(n_sinusoids)
    X, Y = _sample_targets(weights, alpha, beta, n_samples, noise, target, rng)
    return (X, Y, weights) if return_weights else (X, Y)
