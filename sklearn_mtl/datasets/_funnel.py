"""A synthetic click -> conversion funnel, for ESMM and funnel constraints."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from scipy.special import expit
from sklearn.utils import check_random_state

from ..utils._sklearn import Interval, validate_params


@validate_params(
    {
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "n_features": [Interval(Integral, 1, None, closed="left")],
        "click_offset": [Real],
        "conversion_offset": [Real],
        "signal": [Interval(Real, 0, None, closed="left")],
        "return_probabilities": ["boolean"],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_click_conversion(
    n_samples=10000,
    *,
    n_features=10,
    click_offset=-1.0,
    conversion_offset=-1.0,
    signal=2.0,
    return_probabilities=False,
    random_state=None,
):
    """Generate impressions with click and post-click conversion labels.

    ``x ~ N(0, I)``; ``P(click | x) = sigmoid(w_c^T x + click_offset)`` and
    ``P(conversion | click, x) = sigmoid(w_v^T x + conversion_offset)`` with
    ``w_c, w_v ~ N(0, (signal^2 / n_features) I)``. A conversion is only
    drawn for a clicked impression, so the labels obey the funnel:
    ``conversion <= click`` on every row, as ESMM's entire-space labels do.

    Parameters
    ----------
    n_samples : int, default=10000
        Number of impressions.
    n_features : int, default=10
        Number of features.
    click_offset, conversion_offset : float, default=-1.0
        Intercepts of the two logits (about 30 % clicks and 30 % conversions
        after a click with the defaults).
    signal : float, default=2.0
        Standard deviation of each logit's feature part.
    return_probabilities : bool, default=False
        Also return the true pCTR, pCVR and pCTCVR of every row.
    random_state : int, RandomState instance or None, default=None
        Seeds the features, weights and labels.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, 2)
        Click and conversion labels (0/1 ints).
    probabilities : ndarray of shape (n_samples, 3)
        pCTR, pCVR and pCTCVR = pCTR * pCVR; only when ``return_probabilities``.

    Examples
    --------
    >>> from sklearn_mtl.datasets import make_click_conversion
    >>> X, Y = make_click_conversion(1000, random_state=0)
    >>> X.shape, Y.shape, bool((Y[:, 1] <= Y[:, 0]).all())
    ((1000, 10), (1000, 2), True)
    """
    rng = check_random_state(random_state)
    X = rng.standard_normal((n_samples, n_features))
    weights = rng.standard_normal((n_features, 2)) * signal / np.sqrt(n_features)
    logits = X @ weights + [click_offset, conversion_offset]  # (n, 2)
    p_click, p_conversion = expit(logits[:, 0]), expit(logits[:, 1])
    click = rng.uniform(size=n_samples) < p_click
    conversion = click & (rng.uniform(size=n_samples) < p_conversion)
    Y = np.column_stack([click, conversion]).astype(int)
    if return_probabilities:
        return X, Y, np.column_stack([p_click, p_conversion, p_click * p_conversion])
    return X, Y
