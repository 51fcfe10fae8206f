"""The base of the linear multi-task estimators: validation, solve, fitted state.

A model is a datafit (from the task type: least squares or logistic) and a
penalty (from the subclass's ``_make_penalty``), minimised by
:func:`~sklearn_mtl.linear._solver.fista`.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted, validate_data

from .._task_encoders import encode_targets
from ..estimators._docstrings import DOCS, fill_doc
from ..estimators._fit_state import FitState
from ..estimators._multioutput import (
    MultiTaskClassifierMixin,
    MultiTaskEstimatorMixin,
    MultiTaskRegressorMixin,
)
from ..utils import check_multitask_sample_weight, check_multitask_y, task_name
from ..utils._sklearn import Interval, _fit_context
from ._datafits import Logistic, Quadratic
from ._newton import working_set_newton
from ._penalties import L1L2
from ._solver import DesignObjective, fista, make_objective

SOLVER_CONSTRAINTS = {
    "fit_intercept": ["boolean"],
    "max_iter": [Interval(Integral, 1, None, closed="left")],
    "tol": [Interval(Real, 0, None, closed="neither")],
    "verbose": ["verbose"],
}
"""Constraints of the parameters every linear estimator shares."""

LINEAR_DOCS = {
    "solver_parameters": """\
    fit_intercept : bool, default=True
        Whether to fit an unpenalised intercept per task.

    max_iter : int, default=5000
        Maximum number of solver iterations: proximal Newton steps on working
        sets of features for the l1/lq penalties (except least squares with
        more rows than features and one weight per row, solved on the Gram
        matrix), accelerated proximal gradient steps (FISTA with adaptive
        restart) otherwise.

    tol : float, default=1e-4
        The solver stops when the duality gap, an upper bound on the distance
        to the optimal objective, is at most ``tol`` times the loss of the
        intercept-only model.

    verbose : int, default=0
        Print progress when positive: the objective and the duality gap (per
        working set, or every ten FISTA iterations). The ``...CV`` estimators
        print one line per fold and alpha, and the solver's lines from 2.""",
    "objective_notes": """\
    The loss of each task is its weighted mean over the task's observed rows
    (NaN marks a missing label), and the losses are summed over tasks; with
    one weight per row and no missing label, the least-squares loss is
    ``(1 / (2 n)) ||Y - XW - b||_F^2`` as in scikit-learn's ``MultiTaskLasso``.""",
    "fitted_attributes": """\
    intercept_ : ndarray of shape (n_tasks_,) or float
        Intercept of each task (a float for a regressor fitted on 1-D ``y``).

    n_iter_ : int
        Number of solver iterations, at least 1 (checking that the start is
        already optimal counts as one, as in scikit-learn).

    dual_gap_ : float
        Duality gap at the solution: the objective is within ``dual_gap_`` of
        its minimum.

    n_tasks_ : int
        Number of tasks (columns of ``y``).

    n_features_in_ : int
        Number of features seen during ``fit``.

    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during ``fit``, when ``X`` has string column
        names.""",
}
"""Docstring text shared by the linear estimators, substituted for ``%(name)s``."""


class BaseMultiTaskLinear(MultiTaskEstimatorMixin, BaseEstimator):
    """Fits ``datafit(XW + b) + penalty(W)``; subclasses give the penalty.

    The task-type mixin gives ``_datafit`` and ``_encode_targets``.
    """

    _datafit: type

    def _make_penalty(self):
        raise NotImplementedError

    def __sklearn_is_fitted__(self):
        return hasattr(self, "coef_")

    @fill_doc(DOCS)
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model by accelerated proximal gradient.

        Parameters
        ----------
        %(fit_parameters)s

        Returns
        -------
        self : object
            The fitted estimator.
        """
        try:
            return self._fit(X, y, sample_weight)
        except BaseException:
            self._forget_fit()
            raise

    _centers_inputs = False
    """Whether ``fit`` solves on centred columns (the free intercepts absorb their means)."""

    def _fit(self, X, y, sample_weight):
        X, datafit, state = self._validate_problem(X, y, sample_weight)
        offset = None
        if self.fit_intercept and self._centers_inputs:
            # XW + b = (X - m)W + (b + mW): the same optimum for W, whose gradient steps
            # no longer crawl along columns of mean 100 (the estimator checks' data)
            rows = datafit.S.sum(axis=1)  # weighted: k copies of a row centre as weight k
            offset = rows @ X / rows.sum()
            X = X - offset  # a copy: the caller's X is left as it was
        result = self._solve(X, datafit, self._make_penalty())
        if offset is not None:
            result.intercept = result.intercept - offset @ result.W
        self._set_fitted(result, state)
        return self

    def _validate_problem(self, X, y, sample_weight):
        """Validate the inputs and return ``(X, datafit, fitted, single_output)``."""
        X = _numeric_X(self, X, reset=True)
        y, missing, single_output = check_multitask_y(
            y, X.shape[0], estimator_name=type(self).__name__
        )
        tasks = self._make_tasks(y, missing, single_output)
        encoded = encode_targets(tasks, y, missing, single_output, check=False, dtype=np.float64)
        weight = check_multitask_sample_weight(sample_weight, *y.shape).astype(np.float64)
        weight[missing] = 0.0
        totals = weight.sum(axis=0)
        for t in np.flatnonzero(totals == 0):
            raise ValueError(
                f"{task_name(t, single_output)} of y has no observed label with a positive "
                "sample_weight."
            )
        for t, task in enumerate(tasks):
            weighted = np.unique(encoded[weight[:, t] > 0, t])
            if task.kind == "binary" and len(weighted) < 2:
                raise ValueError(
                    f"{task_name(t, single_output)} of y has one class only among the rows of "
                    f"positive sample_weight ({task.classes[int(weighted[0])]!r}); the logistic "
                    "loss of one class has no minimum: give both classes weight."
                )
        datafit = self._datafit(encoded.astype(np.float64), weight / totals)
        return X, datafit, FitState(tasks, single_output)

    def _solve(
        self, X, datafit, penalty, objective=None, W0=None, b0=None, warn=True, verbose=None
    ):
        objective = objective or make_objective(X, datafit, self.fit_intercept)
        W0 = np.zeros((X.shape[1], datafit.Y.shape[1])) if W0 is None else W0
        # A row-sparse penalty on the design: proximal Newton on working sets; the
        # least-squares Gram path and the smooth mean regularisation: FISTA.
        row_sparse = isinstance(penalty, L1L2) and isinstance(objective, DesignObjective)
        solver = working_set_newton if row_sparse else fista
        return solver(
            objective,
            penalty,
            W0=W0,
            b0=b0,
            tol=self.tol,
            max_iter=self.max_iter,
            verbose=self.verbose if verbose is None else verbose,
            warn=warn,
        )

    def _set_fitted(self, result, state: FitState):
        self.__dict__.update(self._fitted_attributes(state.tasks, state.single_output))
        self._fit_state = state
        self.n_tasks_ = result.W.shape[1]
        self.n_iter_ = result.n_iter
        self.dual_gap_ = result.gap
        self.intercept_ = result.intercept
        self.coef_ = result.W.T.copy()  # (n_tasks, n_features), as MultiTaskLasso

    def _decision(self, X) -> np.ndarray:
        """``XW + b``, shape (n_samples, n_tasks)."""
        check_is_fitted(self)
        X = _numeric_X(self, X, reset=False)
        return X @ np.atleast_2d(self.coef_).T + self.intercept_


class MultiTaskLinearRegressor(MultiTaskRegressorMixin, BaseMultiTaskLinear):
    """Base of the linear multi-task regressors: the least-squares datafit."""

    _datafit = Quadratic

    def _set_fitted(self, result, state):
        super()._set_fitted(result, state)
        if state.single_output:  # Lasso's shapes for 1-D y
            self.coef_ = self.coef_[0]
            self.intercept_ = float(self.intercept_[0])

    def _predict_outputs(self, X):
        return self._decision(X)


class MultiTaskLinearClassifier(MultiTaskClassifierMixin, BaseMultiTaskLinear):
    """Base of the linear multi-task classifiers: a logistic datafit per binary task."""

    _datafit = Logistic

    def _make_tasks(self, y, missing, single_output, classes=None):
        tasks = super()._make_tasks(y, missing, single_output, classes)
        for t, task in enumerate(tasks):
            if task.head_size != 1:
                raise ValueError(
                    f"Only binary classification is supported by {type(self).__name__}: "
                    f"{task_name(t, single_output).lower()} of y has {task.head_size} classes."
                )
        return tasks

    def _predict_outputs(self, X):
        return self._decision(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags


def _numeric_X(estimator, X, reset: bool) -> np.ndarray:
    """``validate_data`` as float64, with a message that says what to do with text columns."""
    try:
        return validate_data(estimator, X, dtype=np.float64, reset=reset)
    except (TypeError, ValueError) as error:
        if "Sparse data" in str(error):  # scikit-learn's message says what to do
            raise TypeError(
                f"{type(estimator).__name__} takes dense X; got a sparse matrix. {error}"
            ) from None
        if "could not convert" in str(error) or isinstance(error, TypeError):
            raise type(error)(
                f"X has values that are not numbers ({error}); "
                f"{type(estimator).__name__} takes numeric X: encode categorical columns "
                "first (e.g. OneHotEncoder in a ColumnTransformer)."
            ) from None
        raise
