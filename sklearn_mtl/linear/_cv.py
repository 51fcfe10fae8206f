"""l1/lq models whose alpha is chosen by cross-validation along a warm-started path."""

import time
from numbers import Integral, Real

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.model_selection import check_cv

from ..estimators._docstrings import fill_doc
from ..utils import task_name
from ..utils._sklearn import Interval
from ._l1lq import L1LQ_DOCS, MultiTaskL1LqClassifier, MultiTaskL1LqRegressor, _alpha_max
from ._penalties import PENALTIES
from ._solver import make_objective


def alpha_max(estimator, X, y, sample_weight=None) -> float:
    """The smallest ``alpha`` at which an l1/lq model keeps no feature.

    Parameters
    ----------
    estimator : MultiTaskL1LqRegressor or MultiTaskL1LqClassifier
        Gives the loss, ``q`` and ``fit_intercept``; it is not modified.
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples, n_tasks) or (n_samples,)
        NaN marks a missing label.
    sample_weight : array-like of shape (n_samples,) or (n_samples, n_tasks), default=None

    Returns
    -------
    alpha_max : float
        The dual norm of the loss gradient at the intercept-only model: for
        ``alpha >= alpha_max`` every weight is zero.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mtl.linear import MultiTaskL1LqRegressor, alpha_max
    >>> rng = np.random.default_rng(0)
    >>> X, Y = rng.standard_normal((50, 4)), rng.standard_normal((50, 2))
    >>> top = alpha_max(MultiTaskL1LqRegressor(), X, Y)
    >>> MultiTaskL1LqRegressor(top).fit(X, Y).support_.any()
    np.False_
    """
    if not isinstance(estimator, MultiTaskL1LqRegressor | MultiTaskL1LqClassifier):
        raise TypeError(
            "estimator must be a MultiTaskL1LqRegressor or MultiTaskL1LqClassifier; got "
            f"{type(estimator).__name__}."
        )
    estimator = clone(estimator)
    estimator._validate_params()
    X, datafit, _ = estimator._validate_problem(X, y, sample_weight)
    return _alpha_max(X, datafit, PENALTIES[estimator.q], estimator.fit_intercept)


def _subset(datafit, rows):
    """The datafit restricted to ``rows``, with weights renormalised per task."""
    S = datafit.S[rows]
    totals = S.sum(axis=0)
    if not totals.all():
        task = int(np.flatnonzero(totals == 0)[0])
        raise ValueError(
            f"{task_name(task, False)} has no observed label in a cross-validation training "
            "or test fold; use fewer folds or more labelled rows."
        )
    return type(datafit)(datafit.Y[rows], S / totals)


def _path_test_loss(estimator, X, datafit, train, test, alphas, fold, n_folds):
    """Fit the path on ``train``, warm-started; return the test loss per alpha.

    With ``verbose``, prints one line per alpha (the solver's own lines from
    ``verbose >= 2``).
    """
    X_train, train_fit, test_fit = X[train], _subset(datafit, train), _subset(datafit, test)
    objective = make_objective(X_train, train_fit, estimator.fit_intercept)
    W, b = None, None
    losses = np.empty(len(alphas))
    for k, alpha in enumerate(alphas):
        start = time.perf_counter()
        penalty = estimator._make_penalty(alpha)
        result = estimator._solve(
            X_train, train_fit, penalty, objective=objective, W0=W, b0=b, warn=False,
            verbose=max(estimator.verbose - 1, 0),
        )  # fmt: skip
        W, b = result.W, result.intercept
        losses[k] = test_fit.value(X[test] @ W + b) / W.shape[1]
        if estimator.verbose:
            print(
                f"[{type(estimator).__name__}] fold {fold + 1}/{n_folds}, alpha {k + 1}/"
                f"{len(alphas)} ({alpha:.3g}): {int(penalty.support(W).sum())} features, "
                f"{result.n_iter} iterations, gap {result.gap:.2g}, "
                f"{time.perf_counter() - start:.2f} s",
                flush=True,
            )
    return losses


class _L1LqCV:
    """Cross-validated choice of ``alpha`` for the l1/lq estimators."""

    _parameter_constraints: dict = {
        **{k: v for k, v in MultiTaskL1LqRegressor._parameter_constraints.items() if k != "alpha"},
        "alphas": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "eps": [Interval(Real, 0, 1, closed="neither")],
        "cv": ["cv_object"],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        *,
        alphas=100,
        eps=1e-3,
        q=2,
        cv=None,
        fit_intercept=True,
        max_iter=5000,
        tol=1e-4,
        n_jobs=None,
        verbose=0,
    ):
        self.alphas = alphas
        self.eps = eps
        self.q = q
        self.cv = cv
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _fit(self, X, y, sample_weight):
        X, datafit, state = self._validate_problem(X, y, sample_weight)
        if isinstance(self.alphas, Integral):
            top = _alpha_max(X, datafit, PENALTIES[self.q], self.fit_intercept)
            alphas = np.geomspace(top, top * self.eps, self.alphas) if top > 0 else np.zeros(1)
        else:
            alphas = np.sort(np.asarray(self.alphas, dtype=np.float64).ravel())[::-1]
            if alphas.size == 0 or (alphas < 0).any():
                raise ValueError(
                    "alphas must be a positive int or a non-empty array of non-negative "
                    f"floats; got {self.alphas!r}."
                )
        splitter = check_cv(self.cv)
        n_folds = splitter.get_n_splits(X)
        paths = Parallel(n_jobs=self.n_jobs)(
            delayed(_path_test_loss)(self, X, datafit, train, test, alphas, fold, n_folds)
            for fold, (train, test) in enumerate(splitter.split(X))
        )
        loss_path = np.column_stack(paths)  # (n_alphas, n_folds)
        best = int(np.argmin(loss_path.mean(axis=1)))
        if self.verbose:
            print(f"[{type(self).__name__}] refit on all rows at alpha {alphas[best]:.3g}")
        result = self._solve(
            X, datafit, self._make_penalty(alphas[best]), verbose=max(self.verbose - 1, 0)
        )
        self._set_fitted(result, state)
        self.alphas_ = alphas
        self.loss_path_ = loss_path
        self.alpha_ = float(alphas[best])
        return self


_CV_DOCS = {
    **L1LQ_DOCS,
    "cv_parameters": """\
    alphas : int or array-like, default=100
        The alphas to try: an int gives that many, spaced geometrically from
        ``alpha_max`` (the smallest alpha that zeroes every weight, computed
        from the data) down to ``eps * alpha_max``.

    eps : float, default=1e-3
        ``alpha_min / alpha_max`` of the generated grid.

%(q)s

    cv : int, cross-validation generator or iterable, default=None
        Splitting strategy, as in scikit-learn (``None`` is 5-fold
        ``KFold``; folds are never stratified, so 2-D ``y`` works).""",
    "cv_attributes": """\
    alpha_ : float
        The alpha with the lowest mean held-out loss; the model is refit on
        all the data with it.

    alphas_ : ndarray of shape (n_alphas,)
        The alphas tried, in decreasing order (each fold's path is
        warm-started from the previous alpha).

    loss_path_ : ndarray of shape (n_alphas, n_folds)
        Held-out loss of each alpha and fold, averaged over tasks: """,
    "n_jobs": """\
    n_jobs : int, default=None
        Folds fitted in parallel by joblib (``-1`` uses every core).""",
}
_CV_DOCS["cv_parameters"] %= L1LQ_DOCS


@fill_doc(_CV_DOCS)
class MultiTaskL1LqRegressorCV(_L1LqCV, MultiTaskL1LqRegressor):
    """Multi-task l1/lq least squares with alpha chosen by cross-validation.

    Fits :class:`MultiTaskL1LqRegressor` along a warm-started path of alphas
    on every fold, keeps the alpha with the lowest mean held-out loss and refits
    on all the data, as scikit-learn's ``MultiTaskLassoCV``.

    Parameters
    ----------
    %(cv_parameters)s

    %(solver_parameters)s

    %(n_jobs)s

    Attributes
    ----------
    %(cv_attributes)shalf the mean squared error.

    coef_ : ndarray of shape (n_tasks_, n_features_in_) or (n_features_in_,)
        Weights, ``W.T``, at ``alpha_``; one row when ``y`` was 1-D.

    %(support)s

    %(fitted_attributes)s

    See Also
    --------
    MultiTaskL1LqRegressor : The model at a given alpha.
    sklearn.linear_model.MultiTaskLassoCV : The q=2 model by coordinate descent.

    References
    ----------
    %(references)s

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mtl.linear import MultiTaskL1LqRegressorCV
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((100, 20))
    >>> W = np.zeros((20, 3)); W[:4] = rng.standard_normal((4, 3))
    >>> Y = X @ W + 0.1 * rng.standard_normal((100, 3))
    >>> model = MultiTaskL1LqRegressorCV(alphas=20, cv=3).fit(X, Y)
    >>> bool(model.alpha_ < model.alphas_[0])
    True
    """


@fill_doc(_CV_DOCS)
class MultiTaskL1LqClassifierCV(_L1LqCV, MultiTaskL1LqClassifier):
    """Multi-task l1/lq logistic regression with alpha chosen by cross-validation.

    Fits :class:`MultiTaskL1LqClassifier` along a warm-started path of alphas
    on every fold, keeps the alpha with the lowest mean held-out log loss and
    refits on all the data.

    Parameters
    ----------
    %(cv_parameters)s

    %(solver_parameters)s

    %(n_jobs)s

    Attributes
    ----------
    %(cv_attributes)sthe log loss.

    classes_ : list of ndarray of shape (2,), or ndarray
        The two labels of each task; one array when ``y`` was 1-D.

    coef_ : ndarray of shape (n_tasks_, n_features_in_)
        Weights, ``W.T``, at ``alpha_``.

    %(support)s

    %(fitted_attributes)s

    See Also
    --------
    MultiTaskL1LqClassifier : The model at a given alpha.

    References
    ----------
    %(references)s

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mtl.linear import MultiTaskL1LqClassifierCV
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((200, 20))
    >>> Y = np.column_stack([X[:, 0] + X[:, 1] > 0, X[:, 0] - X[:, 2] > 0])
    >>> model = MultiTaskL1LqClassifierCV(alphas=10, cv=3).fit(X, Y)
    >>> model.predict(X[:2]).shape
    (2, 2)
    """
