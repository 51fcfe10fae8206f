"""Mean-regularised multi-task learning (Evgeniou and Pontil, 2004)."""

from numbers import Real

from ..estimators._docstrings import fill_doc
from ..utils._sklearn import Interval
from ._base import (
    LINEAR_DOCS,
    SOLVER_CONSTRAINTS,
    MultiTaskLinearClassifier,
    MultiTaskLinearRegressor,
)
from ._penalties import MeanRegularization

MEAN_REGULARIZED_DOCS = {
    **LINEAR_DOCS,
    "summary": """\
    The penalty ``lambda_1 ||w_mean||^2 + lambda_2 / T * sum_t ||w_t - w_mean||^2``
    on the task weight vectors ``w_t`` (columns of ``W``) and their mean
    ``w_mean`` pulls related tasks towards one shared model [1]_: a large
    ``lambda_2`` fits one model for all tasks, a small one independent ridge
    models. The objective is smooth and strongly convex, so the solution is
    unique and dense.""",
    "parameters": """\
    lambda_1 : float, default=0.01
        Ridge strength on the mean weight vector; must be positive.

    lambda_2 : float, default=0.1
        Strength of the pull of every task towards the mean; must be positive.""",
    "references": """\
    .. [1] T. Evgeniou and M. Pontil, "Regularized multi-task learning",
       KDD 2004.""",
}


class _MeanRegularized:
    """Parameters and penalty of the mean-regularised estimators."""

    _centers_inputs = True  # accelerated gradient steps: centred columns condition them
    _parameter_constraints: dict = {
        "lambda_1": [Interval(Real, 0, None, closed="neither")],
        "lambda_2": [Interval(Real, 0, None, closed="neither")],
        **SOLVER_CONSTRAINTS,
    }

    def __init__(
        self,
        lambda_1=0.01,
        *,
        lambda_2=0.1,
        fit_intercept=True,
        max_iter=5000,
        tol=1e-4,
        verbose=0,
    ):
        self.lambda_1 = lambda_1
        self.lambda_2 = lambda_2
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.verbose = verbose

    def _make_penalty(self):
        return MeanRegularization(self.lambda_1, self.lambda_2)


@fill_doc(MEAN_REGULARIZED_DOCS)
class MeanRegularizedMultiTaskRegressor(_MeanRegularized, MultiTaskLinearRegressor):
    """Multi-task least squares with the tasks pulled towards their mean.

    Minimises ``(1 / 2n) ||Y - XW - b||_F^2`` plus the mean-regularisation
    penalty.

    %(summary)s

    %(objective_notes)s

    Parameters
    ----------
    %(parameters)s

    %(solver_parameters)s

    Attributes
    ----------
    coef_ : ndarray of shape (n_tasks_, n_features_in_) or (n_features_in_,)
        Weights, ``W.T``; one row when ``y`` was 1-D.

    %(fitted_attributes)s

    See Also
    --------
    MeanRegularizedMultiTaskClassifier : The same penalty on logistic losses.
    MultiTaskL1LqRegressor : Tasks share a sparse set of features instead.

    References
    ----------
    %(references)s

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mtl.linear import MeanRegularizedMultiTaskRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((100, 5))
    >>> w = rng.standard_normal(5)
    >>> Y = np.column_stack([X @ (w + 0.1 * rng.standard_normal(5)) for _ in range(3)])
    >>> model = MeanRegularizedMultiTaskRegressor(lambda_2=10.0).fit(X, Y)
    >>> model.coef_.shape
    (3, 5)
    """


@fill_doc(MEAN_REGULARIZED_DOCS)
class MeanRegularizedMultiTaskClassifier(_MeanRegularized, MultiTaskLinearClassifier):
    """Multi-task logistic regression with the tasks pulled towards their mean.

    Minimises the sum over binary tasks of each task's mean logistic loss plus
    the mean-regularisation penalty.

    %(summary)s

    %(objective_notes)s

    Parameters
    ----------
    %(parameters)s

    %(solver_parameters)s

    Attributes
    ----------
    classes_ : list of ndarray of shape (2,), or ndarray
        The two labels of each task; one array when ``y`` was 1-D.

    coef_ : ndarray of shape (n_tasks_, n_features_in_)
        Weights, ``W.T``: the log-odds of each task's second class.

    %(fitted_attributes)s

    See Also
    --------
    MeanRegularizedMultiTaskRegressor : The same penalty on least squares.
    MultiTaskL1LqClassifier : Tasks share a sparse set of features instead.

    References
    ----------
    %(references)s

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mtl.linear import MeanRegularizedMultiTaskClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((200, 5))
    >>> Y = np.column_stack([X[:, 0] + X[:, t] > 0 for t in (1, 2, 3)])
    >>> model = MeanRegularizedMultiTaskClassifier().fit(X, Y)
    >>> model.predict(X[:2]).shape
    (2, 3)
    """
