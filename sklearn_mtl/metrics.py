"""NaN-aware per-task metrics and scorers.

scikit-learn's scorers reject NaN labels and multi-class multi-output targets.
Here every metric is computed per task on the rows where that task is
labelled, then averaged over tasks. The scorers work as ``scoring=`` in
``GridSearchCV`` and ``cross_validate``, passed as objects::

    from sklearn_mtl.metrics import get_scorer

    GridSearchCV(model, grid, scoring=get_scorer("mean_roc_auc"))
    cross_validate(model, X, y, scoring={"auc": get_scorer("mean_roc_auc"),
                                         "acc": get_scorer("mean_accuracy")})

Why not ``scoring="mean_roc_auc"``? scikit-learn turns a scoring string into a
scorer through its own registry of names, which has no public way to add one;
a name it does not know raises "... is not a valid scoring value". A scorer
object is what its API takes for any scorer it does not ship, so the names of
:data:`SCORERS` go through :func:`get_scorer` (which also hands on
scikit-learn's own names).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import accuracy_score, log_loss, mean_squared_error, r2_score, roc_auc_score

__all__ = [
    "SCORERS",
    "PerTaskScorer",
    "get_scorer",
    "masked_r2_score",
    "masked_subset_accuracy",
    "per_task_scores",
]


def _as_2d(y) -> np.ndarray:
    y = np.asarray(y.to_numpy() if hasattr(y, "to_numpy") else y)
    return y.reshape(-1, 1) if y.ndim == 1 else y


def _as_task_list(y_pred, n_tasks: int) -> list[np.ndarray]:
    """Per-task predictions from an (n, T) array or a list of per-task arrays."""
    if isinstance(y_pred, list):
        return y_pred
    y_pred = np.asarray(y_pred)
    if n_tasks == 1 and (y_pred.ndim == 1 or y_pred.shape[1] != 1):
        return [y_pred]  # one task: labels (n,) or probabilities (n, n_classes)
    return [y_pred[:, t] for t in range(y_pred.shape[1])]


def per_task_scores(y_true, y_pred, metric: Callable, *, sample_weight=None, **kwargs):
    """Score each task on its labelled rows.

    Parameters
    ----------
    y_true : array-like of shape (n_samples, n_tasks) or (n_samples,)
        True labels or targets; NaN (or None) marks a missing label.
    y_pred : array-like of shape (n_samples, n_tasks), or list of n_tasks arrays
        Predictions: labels or values, or a list of per-task probability arrays
        as returned by ``predict_proba``.
    metric : callable
        ``metric(y_true_t, y_pred_t, sample_weight=..., **kwargs)`` for one task.
    sample_weight : array-like of shape (n_samples,), default=None
        Row weights.
    **kwargs
        Passed to ``metric``.

    Returns
    -------
    scores : ndarray of shape (n_tasks,)
        NaN for a task whose metric is undefined on these rows (e.g. ROC AUC
        when only one class is present).
    """
    y_true = _as_2d(y_true)
    predictions = _as_task_list(y_pred, y_true.shape[1])
    if len(predictions) != y_true.shape[1]:
        raise ValueError(f"y_true has {y_true.shape[1]} tasks but y_pred has {len(predictions)}.")
    weight = None if sample_weight is None else np.asarray(sample_weight, dtype=float)
    scores = np.full(y_true.shape[1], np.nan)
    for t, prediction in enumerate(predictions):
        labelled = ~np.asarray(pd.isna(y_true[:, t]), dtype=bool)
        if not labelled.any():
            continue
        truth = y_true[labelled, t]
        if truth.dtype == object:  # e.g. ints stored beside None: restore their type
            truth = np.asarray(truth.tolist())
        w = None if weight is None else weight[labelled]
        try:
            scores[t] = metric(truth, np.asarray(prediction)[labelled], sample_weight=w, **kwargs)
        except ValueError as error:  # undefined on these rows, e.g. one class present
            warnings.warn(f"Task {t}: {error}", UndefinedMetricWarning, stacklevel=2)
    return scores


def _mean_over_tasks(scores: np.ndarray) -> float:
    if np.isnan(scores).all():
        return np.nan
    return float(np.nanmean(scores))


def masked_subset_accuracy(y_true, y_pred, *, sample_weight=None) -> float:
    """Share of rows whose labelled tasks are all predicted right.

    Rows without any label do not count. Without missing labels this is the
    subset accuracy of ``MultiOutputClassifier.score``.
    """
    y_true, y_pred = _as_2d(y_true), _as_2d(y_pred)
    missing = np.asarray(pd.isna(y_true), dtype=bool)
    correct = ((y_true == y_pred) | missing).all(axis=1)
    counted = ~missing.all(axis=1)
    weight = None if sample_weight is None else np.asarray(sample_weight)[counted]
    return float(np.average(correct[counted], weights=weight))


def masked_r2_score(y_true, y_pred, *, sample_weight=None) -> float:
    """R^2 of each task on its labelled rows, averaged over tasks.

    Without missing values this equals ``r2_score(y_true, y_pred)``.
    """
    y_true = _as_2d(y_true).astype(float)
    return _mean_over_tasks(
        per_task_scores(y_true, _as_2d(y_pred), r2_score, sample_weight=sample_weight)
    )


def _roc_auc(y_true, proba, *, sample_weight=None, classes=None):
    proba = np.asarray(proba)
    if proba.ndim == 2 and proba.shape[1] == 2:
        return roc_auc_score(y_true == classes[1], proba[:, 1], sample_weight=sample_weight)
    return roc_auc_score(
        y_true, proba, multi_class="ovr", labels=classes, sample_weight=sample_weight
    )


def _log_loss(y_true, proba, *, sample_weight=None, classes=None):
    return log_loss(y_true, proba, labels=classes, sample_weight=sample_weight)


class PerTaskScorer:
    """A scorer ``scorer(estimator, X, y)`` averaging a metric over tasks.

    Parameters
    ----------
    metric : callable
        ``metric(y_true_t, y_pred_t, sample_weight=None, **kwargs)`` for one task.
    response_method : {"predict", "predict_proba"}, default="predict"
        Estimator method producing ``y_pred``.
    sign : {1, -1}, default=1
        -1 for losses, so that greater is better as ``GridSearchCV`` expects.
    needs_classes : bool, default=False
        Pass the task's ``classes_`` to ``metric`` as ``classes=``.
    """

    def __init__(self, metric, *, response_method="predict", sign=1, needs_classes=False):
        self.metric = metric
        self.response_method = response_method
        self.sign = sign
        self.needs_classes = needs_classes

    def per_task(self, estimator, X, y, sample_weight=None) -> np.ndarray:
        """The signed score of each task, shape ``(n_tasks,)``."""
        y_pred = getattr(estimator, self.response_method)(X)
        y = _as_2d(y)
        if not self.needs_classes:
            scores = per_task_scores(y, y_pred, self.metric, sample_weight=sample_weight)
            return self.sign * scores
        classes = estimator.classes_
        classes = classes if isinstance(classes, list) else [classes]
        predictions = _as_task_list(y_pred, y.shape[1])
        scores = [
            per_task_scores(
                y[:, [t]],
                [predictions[t]],
                self.metric,
                sample_weight=sample_weight,
                classes=classes[t],
            )[0]
            for t in range(y.shape[1])
        ]
        return self.sign * np.asarray(scores)

    def __call__(self, estimator, X, y, sample_weight=None) -> float:
        return _mean_over_tasks(self.per_task(estimator, X, y, sample_weight))

    def __repr__(self):
        return (
            f"PerTaskScorer({getattr(self.metric, '__name__', self.metric)}, "
            f"response_method={self.response_method!r}, sign={self.sign})"
        )


SCORERS: dict[str, PerTaskScorer] = {
    "mean_roc_auc": PerTaskScorer(_roc_auc, response_method="predict_proba", needs_classes=True),
    "mean_neg_log_loss": PerTaskScorer(
        _log_loss, response_method="predict_proba", sign=-1, needs_classes=True
    ),
    "mean_accuracy": PerTaskScorer(accuracy_score),
    "mean_r2": PerTaskScorer(r2_score),
    "mean_neg_mean_squared_error": PerTaskScorer(mean_squared_error, sign=-1),
}
"""NaN-aware scorers by name; each averages a per-task metric over tasks."""


def get_scorer(name: str):
    """Return the scorer called ``name``, for ``scoring=``.

    Parameters
    ----------
    name : str
        A NaN-aware multi-task scorer of :data:`SCORERS` (``"mean_roc_auc"``,
        ``"mean_accuracy"``, ``"mean_neg_log_loss"``, ``"mean_r2"``,
        ``"mean_neg_mean_squared_error"``), or one of scikit-learn's scoring
        names, handed on to ``sklearn.metrics.get_scorer``.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y)``; pass it itself as ``scoring=`` (the
        names of :data:`SCORERS` are unknown to scikit-learn as strings).

    Examples
    --------
    >>> from sklearn_mtl.metrics import get_scorer
    >>> get_scorer("mean_roc_auc")
    PerTaskScorer(_roc_auc, response_method='predict_proba', sign=1)
    """
    if name in SCORERS:
        return SCORERS[name]
    from sklearn.metrics import get_scorer as sklearn_get_scorer
    from sklearn.metrics import get_scorer_names

    if isinstance(name, str) and name in get_scorer_names():
        return sklearn_get_scorer(name)
    raise ValueError(
        f"Unknown scorer {name!r}; expected one of {sorted(SCORERS)} (NaN-aware, per task) "
        "or one of scikit-learn's scoring names."
    )
