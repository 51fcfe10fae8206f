"""Row-sparse multi-task models: the l1/lq penalty with q = 2 or q = infinity."""

from numbers import Real

import numpy as np

from ..estimators._docstrings import fill_doc
from ..utils._sklearn import Interval, Options, StrOptions
from ._base import (
    LINEAR_DOCS,
    SOLVER_CONSTRAINTS,
    MultiTaskLinearClassifier,
    MultiTaskLinearRegressor,
)
from ._penalties import PENALTIES
from ._solver import make_objective

AUTO_ALPHA_RATIO = 0.05
"""``alpha="auto"`` is this fraction of ``alpha_max``, the smallest alpha that keeps no
feature. Measured on five data sets (two tasks, 20 features; 200 features of which 10
matter, regression and classification; one-hot Adult): the held-out score at 0.05 was
within 0.01 of the cross-validated alpha's on four, and 0.011 below on Adult (AUC)."""


def _alpha_max(X: np.ndarray, datafit, penalty_class, fit_intercept: bool) -> float:
    """The dual norm of the datafit's gradient at the intercept-only model."""
    objective = make_objective(X, datafit, fit_intercept)
    grad_W, _ = objective.gradient(np.zeros((X.shape[1], datafit.Y.shape[1])), objective.b0)
    return penalty_class.dual_norm(grad_W)


L1LQ_DOCS = {
    **LINEAR_DOCS,
    "q": """\
    q : {2, inf}, default=2
        The norm of each row of ``W`` across tasks: 2 is the group lasso (a
        feature's weights shrink together), ``np.inf`` the l1/l-infinity norm
        (only the largest weight of a row is charged, so kept features tend to
        get weights of equal size across tasks).""",
    "support": """\
    support_ : ndarray of bool, shape (n_features_in_,)
        Features with a non-zero weight in at least one task: the rows of
        ``W`` that the penalty kept.""",
    "references": """\
    .. [1] G. Obozinski, B. Taskar and M. I. Jordan, "Joint covariate selection
       and joint subspace selection for multiple classification problems",
       Statistics and Computing, 2010.
    .. [2] H. Liu, M. Palatucci and J. Zhang, "Blockwise coordinate descent
       procedures for the multi-task lasso, with applications to neural
       semantic basis discovery", ICML 2009 (the l1/l-infinity norm).
    .. [3] J. Zhou, J. Chen and J. Ye, "MALSAR: Multi-tAsk Learning via
       StructurAl Regularization", Arizona State University, 2012.""",
}
"""Docstring text of the l1/lq estimators, substituted for ``%(name)s``."""


class _L1Lq:
    """Parameters and penalty of the l1/lq estimators."""

    _parameter_constraints: dict = {
        "alpha": [Interval(Real, 0, None, closed="left"), StrOptions({"auto"})],
        "q": [Options(Real, {2, np.inf})],
        **SOLVER_CONSTRAINTS,
    }

    def __init__(
        self, alpha="auto", *, q=2, fit_intercept=True, max_iter=5000, tol=1e-4, verbose=0
    ):
        self.alpha = alpha
        self.q = q
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.verbose = verbose

    def _make_penalty(self, alpha):
        return PENALTIES[self.q](alpha)

    def _fit(self, X, y, sample_weight):
        X, datafit, state = self._validate_problem(X, y, sample_weight)
        alpha = self.alpha
        if alpha == "auto":  # a fraction of the data's own scale, as glmnet's path
            alpha = AUTO_ALPHA_RATIO * _alpha_max(X, datafit, PENALTIES[self.q], self.fit_intercept)
        result = self._solve(X, datafit, self._make_penalty(alpha))
        self._set_fitted(result, state)
        self.alpha_ = float(alpha)
        return self

    def _set_fitted(self, result, state):
        super()._set_fitted(result, state)
        self.support_ = np.any(result.W != 0, axis=1)


@fill_doc(L1LQ_DOCS)
class MultiTaskL1LqRegressor(_L1Lq, MultiTaskLinearRegressor):
    """Multi-task least squares with a row-sparse l1/lq penalty.

    Minimises ``(1 / 2n) ||Y - XW - b||_F^2 + alpha * sum_j ||W[j]||_q``,
    where row ``W[j]`` holds feature ``j`` across tasks: a feature is selected
    for all tasks or for none [1]_. With ``q=2`` this is scikit-learn's
    ``MultiTaskLasso`` (same objective), solved faster and extended to missing
    labels and per-task weights; ``q=inf`` is the l1/l-infinity model [2]_.

    %(objective_notes)s

    Parameters
    ----------
    alpha : float or "auto", default="auto"
        Strength of the penalty. ``"auto"`` takes 0.05 times ``alpha_max``,
        the smallest value that zeroes every weight (computed from the data,
        see :func:`alpha_max`), so the default scales with the data and keeps
        features; at or above ``alpha_max`` the model is intercept-only.

    %(q)s

    %(solver_parameters)s

    Attributes
    ----------
    alpha_ : float
        The alpha used: ``alpha``, or its value for ``"auto"``.

    coef_ : ndarray of shape (n_tasks_, n_features_in_) or (n_features_in_,)
        Weights, ``W.T``; one row when ``y`` was 1-D.

    %(support)s

    %(fitted_attributes)s

    See Also
    --------
    MultiTaskL1LqRegressorCV : The same model, alpha chosen by cross-validation.
    sklearn.linear_model.MultiTaskLasso : The q=2 model by coordinate descent.

    References
    ----------
    %(references)s

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mtl.linear import MultiTaskL1LqRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((100, 20))
    >>> W = np.zeros((20, 3)); W[:4] = rng.standard_normal((4, 3))
    >>> Y = X @ W + 0.1 * rng.standard_normal((100, 3))
    >>> model = MultiTaskL1LqRegressor(alpha=0.05).fit(X, Y)
    >>> np.flatnonzero(model.support_)
    array([0, 1, 2, 3])
    """


@fill_doc(L1LQ_DOCS)
class MultiTaskL1LqClassifier(_L1Lq, MultiTaskLinearClassifier):
    """Multi-task logistic regression with a row-sparse l1/lq penalty.

    Minimises ``sum_t mean_i logloss(y_it, x_i w_t + b_t) + alpha * sum_j ||W[j]||_q``
    over binary tasks (any two labels per task), so that a feature is selected
    for all tasks or for none [1]_.

    %(objective_notes)s

    Parameters
    ----------
    alpha : float or "auto", default="auto"
        Strength of the penalty. ``"auto"`` takes 0.05 times ``alpha_max``,
        the smallest value that zeroes every weight (computed from the data,
        see :func:`alpha_max`), so the default scales with the data and keeps
        features; at or above ``alpha_max`` the model predicts each task's
        base rate.

    %(q)s

    %(solver_parameters)s

    Attributes
    ----------
    alpha_ : float
        The alpha used: ``alpha``, or its value for ``"auto"``.

    classes_ : list of ndarray of shape (2,), or ndarray
        The two labels of each task; one array when ``y`` was 1-D.

    coef_ : ndarray of shape (n_tasks_, n_features_in_)
        Weights, ``W.T``: the log-odds of each task's second class.

    %(support)s

    %(fitted_attributes)s

    See Also
    --------
    MultiTaskL1LqClassifierCV : The same model, alpha chosen by cross-validation.
    MeanRegularizedMultiTaskClassifier : Tasks pulled towards their mean instead.

    References
    ----------
    %(references)s

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mtl.linear import MultiTaskL1LqClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((200, 20))
    >>> W = np.zeros((20, 2)); W[:3] = 2 * rng.standard_normal((3, 2))
    >>> Y = np.where(X @ W > 0, "yes", "no")
    >>> model = MultiTaskL1LqClassifier(alpha=0.02).fit(X, Y)
    >>> [proba.shape for proba in model.predict_proba(X[:5])]
    [(5, 2), (5, 2)]
    >>> model.predict(X[:2]).shape
    (2, 2)
    """
