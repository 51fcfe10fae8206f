"""Penalties on the weight matrix ``W`` of shape (n_features, n_tasks).

Row ``W[j]`` holds feature ``j`` across all tasks. Each penalty knows its
value, its exact proximal operator, its Fenchel conjugate (through which the
solvers build a dual point and a duality gap) and the distance of a gradient
to its subdifferential (the KKT residual of a solution).
"""

from __future__ import annotations

import math

import numpy as np


def project_rows_on_l1_ball(V: np.ndarray, radius: float) -> np.ndarray:
    """Euclidean projection of every row of ``V`` onto the l1 ball of ``radius``.

    The sort-based algorithm of Duchi et al. (2008), vectorised over rows.
    """
    abs_v = np.abs(V)
    inside = abs_v.sum(axis=1) <= radius
    if inside.all():
        return V.copy()
    sorted_v = -np.sort(-abs_v, axis=1)  # (n_rows, n_cols), descending
    cumsum = np.cumsum(sorted_v, axis=1) - radius
    ks = np.arange(1, V.shape[1] + 1)
    n_active = np.sum(sorted_v * ks > cumsum, axis=1)  # >= 1 for rows outside the ball
    threshold = cumsum[np.arange(V.shape[0]), np.maximum(n_active, 1) - 1] / np.maximum(n_active, 1)
    threshold = np.where(inside, 0.0, np.maximum(threshold, 0.0))
    return np.sign(V) * np.maximum(abs_v - threshold[:, None], 0.0)


def _project_on_simplex(a: np.ndarray) -> np.ndarray:
    """Projection of the vector ``a`` onto the probability simplex."""
    sorted_a = np.sort(a)[::-1]
    cumsum = np.cumsum(sorted_a) - 1.0
    k = np.flatnonzero(sorted_a * np.arange(1, a.size + 1) > cumsum)[-1]
    return np.maximum(a - cumsum[k] / (k + 1), 0.0)


class L1L2:
    """``alpha * sum_j ||W[j]||_2``: the group lasso over tasks (l1/l2 norm).

    Parameters
    ----------
    alpha : float
        Regularisation strength.
    """

    def __init__(self, alpha: float):
        self.alpha = alpha

    def value(self, W: np.ndarray) -> float:
        return self.alpha * float(np.sum(np.linalg.norm(W, axis=1)))

    def prox(self, V: np.ndarray, step: float) -> np.ndarray:
        """Group soft-thresholding of every row at ``step * alpha``."""
        norms = np.linalg.norm(V, axis=1, keepdims=True)
        shrink = np.maximum(1.0 - step * self.alpha / np.maximum(norms, 1e-300), 0.0)
        return V * shrink

    def prox_row(self, v: np.ndarray, step: float) -> np.ndarray:
        """:meth:`prox` of one row, without the overhead of the vectorised form."""
        norm = math.sqrt(float(v @ v))
        if norm <= step * self.alpha:
            return np.zeros_like(v)
        return v * (1.0 - step * self.alpha / norm)

    def stays_zero(self, gradient: np.ndarray) -> bool:
        """Whether a zero row is optimal for the row's (model) ``gradient``."""
        return math.sqrt(float(gradient @ gradient)) <= self.alpha

    @staticmethod
    def dual_norm(U: np.ndarray) -> float:
        """The l-inf/l2 norm ``max_j ||U[j]||_2``."""
        return float(np.max(np.linalg.norm(U, axis=1), initial=0.0))

    def dual_scaling(self, U: np.ndarray) -> float:
        """The factor that brings ``U`` into the conjugate's domain, the dual ball."""
        norm = self.dual_norm(U)
        return 1.0 if norm <= self.alpha else self.alpha / norm

    def conjugate(self, U: np.ndarray) -> float:
        return 0.0  # the indicator of the dual ball, after dual_scaling

    def subdifferential_distance(self, W: np.ndarray, G: np.ndarray) -> np.ndarray:
        """Per row, the l2 distance of ``-G[j]`` to ``alpha * d||W[j]||_2``."""
        norms = np.linalg.norm(W, axis=1)
        zero = norms == 0
        distance = np.empty(W.shape[0])
        distance[zero] = np.maximum(np.linalg.norm(G[zero], axis=1) - self.alpha, 0.0)
        unit = W[~zero] / norms[~zero, None]
        distance[~zero] = np.linalg.norm(G[~zero] + self.alpha * unit, axis=1)
        return distance

    def support(self, W: np.ndarray) -> np.ndarray:
        return np.any(W != 0, axis=1)


class L1LInf(L1L2):
    """``alpha * sum_j max_t |W[j, t]|``: the l1/l-infinity norm.

    A feature is kept or dropped for all tasks at once, and within a kept row
    the penalty only charges the largest weight, so tasks share magnitudes.

    Parameters
    ----------
    alpha : float
        Regularisation strength.
    """

    def value(self, W: np.ndarray) -> float:
        return self.alpha * float(np.sum(np.max(np.abs(W), axis=1, initial=0.0)))

    def prox(self, V: np.ndarray, step: float) -> np.ndarray:
        """Moreau decomposition: ``V - P_{tau B_1}(V)``, ``tau = step * alpha``."""
        return V - project_rows_on_l1_ball(V, step * self.alpha)

    def prox_row(self, v: np.ndarray, step: float) -> np.ndarray:
        """:meth:`prox` of one row: ``sign(v) * min(|v|, theta)``.

        ``theta`` is the threshold of the projection of ``|v|`` on the l1 ball
        of radius ``step * alpha``, found by a pass over the sorted entries
        (a row has one entry per task: few, so plain Python beats numpy here).
        """
        radius = step * self.alpha
        magnitudes = np.abs(v)
        if float(magnitudes.sum()) <= radius:
            return np.zeros_like(v)
        total, theta = 0.0, 0.0
        for count, value in enumerate(sorted(magnitudes.tolist(), reverse=True), start=1):
            total += value
            level = (total - radius) / count
            if value <= level:
                break
            theta = level
        return np.sign(v) * np.minimum(magnitudes, theta)

    def stays_zero(self, gradient: np.ndarray) -> bool:
        return float(np.abs(gradient).sum()) <= self.alpha

    @staticmethod
    def dual_norm(U: np.ndarray) -> float:
        """The l-inf/l1 norm ``max_j ||U[j]||_1``."""
        return float(np.max(np.abs(U).sum(axis=1), initial=0.0))

    def subdifferential_distance(self, W: np.ndarray, G: np.ndarray) -> np.ndarray:
        """Per row, the l2 distance of ``-G[j]`` to ``alpha * d||W[j]||_inf``."""
        distance = np.empty(W.shape[0])
        zero = ~np.any(W != 0, axis=1)
        # d||0||_inf is the l1 ball: the distance to alpha * B_1, for all zero rows at once.
        inside = project_rows_on_l1_ball(-G[zero], self.alpha)
        distance[zero] = np.linalg.norm(-G[zero] - inside, axis=1)
        rows = np.flatnonzero(~zero)
        for j, w, g in zip(rows, W[rows].tolist(), G[rows].tolist()):
            distance[j] = self._row_distance(w, g)
        return distance

    def _row_distance(self, w: list, g: list) -> float:
        """The distance for one non-zero row, in plain Python (a row is a few numbers).

        Subgradients: ``alpha * sign(w_k) * u_k`` on the coordinates at the
        maximum, with ``u`` in the simplex; zero elsewhere.
        """
        top = max(abs(x) for x in w)
        at_max = [abs(x) >= top * (1 - 1e-9) for x in w]
        target = [-gk * math.copysign(1.0, wk) / self.alpha
                  for wk, gk, on in zip(w, g, at_max) if on]  # fmt: skip
        # Projection of target on the probability simplex (sort-based).
        total, shift = 0.0, 0.0
        for count, value in enumerate(sorted(target, reverse=True), start=1):
            total += value
            if value * count > total - 1.0:
                shift = (total - 1.0) / count
        on_max = self.alpha * math.sqrt(sum((t - max(t - shift, 0.0)) ** 2 for t in target))
        off_max = math.sqrt(sum(gk * gk for gk, on in zip(g, at_max) if not on))
        return math.hypot(on_max, off_max)


class MeanRegularization:
    """Evgeniou and Pontil's ``lambda_1 ||w_mean||^2 + lambda_2 / T sum_t ||w_t - w_mean||^2``.

    Writing ``W = P + D`` with ``P`` the task mean repeated in every column and
    ``D`` the deviations (orthogonal parts), the penalty is
    ``(lambda_1 ||P||^2 + lambda_2 ||D||^2) / T``: smooth, with an exact prox
    and conjugate.

    Parameters
    ----------
    lambda_1 : float
        Strength of the pull of the mean weight vector towards zero.
    lambda_2 : float
        Strength of the pull of every task's weights towards the mean.
    """

    def __init__(self, lambda_1: float, lambda_2: float):
        self.lambda_1 = lambda_1
        self.lambda_2 = lambda_2

    @staticmethod
    def _split(W: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        P = np.repeat(W.mean(axis=1, keepdims=True), W.shape[1], axis=1)
        return P, W - P

    def value(self, W: np.ndarray) -> float:
        P, D = self._split(W)
        T = W.shape[1]
        return float(self.lambda_1 * np.sum(P**2) + self.lambda_2 * np.sum(D**2)) / T

    def gradient(self, W: np.ndarray) -> np.ndarray:
        P, D = self._split(W)
        return 2 * (self.lambda_1 * P + self.lambda_2 * D) / W.shape[1]

    def prox(self, V: np.ndarray, step: float) -> np.ndarray:
        P, D = self._split(V)
        T = V.shape[1]
        return P / (1 + 2 * step * self.lambda_1 / T) + D / (1 + 2 * step * self.lambda_2 / T)

    def dual_scaling(self, U: np.ndarray) -> float:
        return 1.0  # the conjugate is finite everywhere

    def conjugate(self, U: np.ndarray) -> float:
        P, D = self._split(U)
        T = U.shape[1]
        return float(
            T * np.sum(P**2) / (4 * self.lambda_1) + T * np.sum(D**2) / (4 * self.lambda_2)
        )

    def subdifferential_distance(self, W: np.ndarray, G: np.ndarray) -> np.ndarray:
        """Per row, the norm of the gradient of the whole (smooth) objective."""
        return np.linalg.norm(G + self.gradient(W), axis=1)


PENALTIES: dict[object, type] = {2: L1L2, np.inf: L1LInf}
"""Row-sparse penalties by the ``q`` of their l1/lq norm."""
