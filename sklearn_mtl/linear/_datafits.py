"""Datafits: the loss of a linear multi-task model on its outputs ``Z = XW + b``.

A datafit is ``F(Z) = sum_{i,t} S[i, t] * loss(Y[i, t], Z[i, t])``, where the
weights ``S`` (n_samples, n_tasks) are zero on missing labels and sum to one
in each task, so ``F`` is the sum over tasks of each task's (weighted) mean
loss. With uniform weights the quadratic datafit is scikit-learn's
``(1 / 2n) ||Y - XW - b||_F^2``.

Besides value and gradient, each datafit gives the dual objective
``-sum F_it*(-Theta_it)`` (its Fenchel conjugate), from which the solvers
compute a duality gap.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit, xlogy


class Quadratic:
    """Half the weighted squared error, ``sum S (Y - Z)^2 / 2``.

    Parameters
    ----------
    Y : ndarray of shape (n_samples, n_tasks)
        Targets; any value where ``S`` is zero.
    S : ndarray of shape (n_samples, n_tasks)
        Non-negative weights, zero on missing labels, each column summing to one.
    """

    #: Bound on the second derivative of the loss in ``z``.
    curvature: float = 1.0

    def __init__(self, Y: np.ndarray, S: np.ndarray):
        self.Y = Y
        self.S = S

    def value(self, Z: np.ndarray) -> float:
        return 0.5 * float(np.sum(self.S * (Z - self.Y) ** 2))

    def gradient(self, Z: np.ndarray) -> np.ndarray:
        return self.S * (Z - self.Y)  # (n_samples, n_tasks)

    def curvature_at(self, Z: np.ndarray) -> np.ndarray:
        """The second derivative of ``F`` in each ``Z[i, t]``: the weights."""
        return self.S

    def null_intercept(self) -> np.ndarray:
        """The best intercept of the model with ``W = 0``: weighted means."""
        return np.sum(self.S * self.Y, axis=0)

    def centered_dual_point(self, Theta: np.ndarray) -> np.ndarray:
        """``Theta`` with columns summing to zero (the dual of a free intercept).

        The conjugate is finite everywhere, so a shift along the weights will do.
        """
        return Theta - self.S * Theta.sum(axis=0)

    def dual(self, Theta: np.ndarray) -> float:
        """``-sum F_it*(-Theta_it)``, with ``F_it*(u) = u y + u^2 / (2 s)``."""
        observed = self.S > 0
        theta, s = Theta[observed], self.S[observed]
        return float(np.sum(theta * self.Y[observed] - theta**2 / (2 * s)))


class Logistic:
    """The weighted logistic loss of binary targets coded 0/1.

    ``loss(y, z) = log(1 + exp(z)) - y z``, the negative log-likelihood of
    ``P(y = 1) = sigmoid(z)``.

    Parameters
    ----------
    Y : ndarray of shape (n_samples, n_tasks)
        Targets in {0, 1}; any value where ``S`` is zero.
    S : ndarray of shape (n_samples, n_tasks)
        Non-negative weights, zero on missing labels, each column summing to one.
    """

    curvature: float = 0.25

    def __init__(self, Y: np.ndarray, S: np.ndarray):
        self.Y = Y
        self.S = S

    def value(self, Z: np.ndarray) -> float:
        return float(np.sum(self.S * (np.logaddexp(0.0, Z) - self.Y * Z)))

    def gradient(self, Z: np.ndarray) -> np.ndarray:
        return self.S * (expit(Z) - self.Y)  # (n_samples, n_tasks)

    def curvature_at(self, Z: np.ndarray) -> np.ndarray:
        """The second derivative of ``F`` in each ``Z[i, t]``: ``S p (1 - p)``."""
        p = expit(Z)
        return self.S * p * (1.0 - p)

    def null_intercept(self) -> np.ndarray:
        """The best intercept of the model with ``W = 0``: the log-odds of each task."""
        p = np.clip(np.sum(self.S * self.Y, axis=0), 1e-12, 1 - 1e-12)
        return np.log(p / (1 - p))

    def centered_dual_point(self, Theta: np.ndarray) -> np.ndarray:
        """``Theta`` with columns summing to zero, kept in the conjugate's domain.

        ``Theta = S (Y - P)`` with probabilities ``P``; the columns sum to zero
        when the weighted mean of ``P`` equals that of ``Y``. Each column of
        ``P`` is moved towards 1 (or 0) in proportion to its room, which
        reaches any mean in [0, 1] without leaving [0, 1].
        """
        S = self.S
        P = self.Y - Theta / np.where(S > 0, S, 1.0)  # (n_samples, n_tasks)
        p_mean, y_mean = np.sum(S * P, axis=0), np.sum(S * self.Y, axis=0)
        up = y_mean >= p_mean
        room = np.maximum(np.where(up, 1.0 - p_mean, p_mean), 1e-300)
        fraction = (y_mean - p_mean) / room
        P = np.where(up, P + fraction * (1.0 - P), P + fraction * P)
        return S * (self.Y - P)

    def dual(self, Theta: np.ndarray) -> float:
        """``-sum s * negentropy(y - theta / s)``; ``-inf`` outside the domain."""
        observed = self.S > 0
        s = self.S[observed]
        p = self.Y[observed] - Theta[observed] / s
        if np.any(p < 0) or np.any(p > 1):
            return -np.inf
        return float(-np.sum(s * (xlogy(p, p) + xlogy(1 - p, 1 - p))))
