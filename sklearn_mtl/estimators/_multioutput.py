"""The multi-output face of every estimator, neural or linear: no torch here.

The mixins build each task's encoder (:mod:`sklearn_mtl._task_encoders`) in ``fit``,
name the fitted attributes it gives (``classes_``, ``target_mean_``, ...) and
turn the per-task outputs of ``_predict_outputs`` into sklearn's multi-output
predictions. A neural or linear base provides ``_predict_outputs(X)``: the
logits (or values) of every task's head, side by side.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from .._task_encoders import RegressionTask, classification_task, observed
from ..metrics import masked_r2_score, masked_subset_accuracy
from ..utils import task_name
from ._fit_state import FILE_STATE, FitState


class MultiTaskEstimatorMixin:
    """Target tags, fit bookkeeping and per-task outputs of every multi-task estimator."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.target_tags.single_output = True
        tags.target_tags.multi_output = True
        return tags

    def __setstate__(self, state):
        """Unpickle; an estimator pickled before :class:`FitState` existed is converted."""
        if "_single_output" in state and "_fit_state" not in state:
            private = {name: state.pop(name) for name in FILE_STATE if name in state}
            state["_fit_state"] = FitState.from_file_state({**state, **private})
        super().__setstate__(state)

    def _forget_fit(self):
        """Drop every fitted attribute, so a failed ``fit`` leaves nothing behind."""
        fitted = [k for k in vars(self) if k.endswith("_") and not k.startswith("__")]
        for name in [*fitted, "_fit_state"]:
            self.__dict__.pop(name, None)

    def _task_outputs(self, X) -> list[np.ndarray]:
        """Each task's head outputs, ``(n_samples, head_size)`` per task."""
        check_is_fitted(self)
        outputs = self._predict_outputs(X)
        return [outputs[:, head] for head in self._fit_state.head_slices()]

    def _predict_columns(self, X) -> list[np.ndarray]:
        """Each task's predictions in its own type: labels, or values."""
        heads = self._task_outputs(X)
        return [task.decode(head) for task, head in zip(self._fit_state.tasks, heads)]

    def _predict_probas(self, X) -> list:
        """Each task's class probabilities (None for a regression task), or one array."""
        heads = self._task_outputs(X)
        probas = [task.proba(head) for task, head in zip(self._fit_state.tasks, heads)]
        return probas[0] if self._fit_state.single_output else probas

    def predict(self, X):
        """Every task's prediction: labels for a classification task, values for a regression one.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        y_pred : ndarray of shape (n_samples, n_tasks) or (n_samples,)
            Each task's labels in their original type (ties follow
            ``argmax(predict_proba)``); an object array when the tasks'
            types differ.
        """
        columns = self._predict_columns(X)
        return columns[0] if self._fit_state.single_output else stack_task_columns(columns)


class MultiTaskClassifierMixin(ClassifierMixin):
    """Label encoding and the multi-output classifier outputs.

    Each task may have its own label type and number of classes; a binary
    task has one logit, a ``C``-class task ``C`` logits.
    """

    def _make_tasks(self, y, missing, single_output, classes=None) -> list:
        """One fitted classification task per column; ``classes`` as ``partial_fit`` gives them."""
        return [
            classification_task(
                observed(y, missing, t),
                task_name(t, single_output),
                None if classes is None else classes[t],
            )
            for t in range(y.shape[1])
        ]

    @staticmethod
    def _fitted_attributes(tasks, single_output) -> dict:
        classes = [task.classes for task in tasks]
        return {"classes_": classes[0] if single_output else classes}

    def predict_proba(self, X):
        """Class probabilities of every task.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        proba : list of n_tasks ndarrays of shape (n_samples, n_classes_t), or ndarray
            Probabilities of each task's classes in the order of ``classes_[t]``;
            one array when ``y`` was 1-D (as ``MultiOutputClassifier``).
        """
        return self._predict_probas(X)

    def score(self, X, y, sample_weight=None):
        """Subset accuracy: the share of rows whose observed labels are all right.

        Missing labels (NaN) are ignored; rows without any observed label do not
        count. Without missing labels this is ``MultiOutputClassifier.score``
        (and plain accuracy for 1-D ``y``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.
        y : array-like of shape (n_samples, n_tasks) or (n_samples,)
            True labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights.

        Returns
        -------
        score : float
        """
        return masked_subset_accuracy(y, self.predict(X), sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


class MultiTaskRegressorMixin(RegressorMixin):
    """Numeric targets and the multi-output regression score.

    ``_standardize_targets`` says whether the model learns standardised
    targets (the networks do; ``target_mean_`` and ``target_scale_`` then
    map predictions back).
    """

    _standardize_targets = False

    def _make_tasks(self, y, missing, single_output, classes=None) -> list:
        return [
            RegressionTask(self._standardize_targets).fit(
                observed(y, missing, t), task_name(t, single_output)
            )
            for t in range(y.shape[1])
        ]

    def _fitted_attributes(self, tasks, single_output) -> dict:
        if not self._standardize_targets:
            return {}
        return {
            "target_mean_": np.array([task.mean for task in tasks]),
            "target_scale_": np.array([task.scale for task in tasks]),
        }

    def score(self, X, y, sample_weight=None):
        """R^2 of each task on its observed rows, averaged over tasks.

        Without missing labels this equals ``RegressorMixin.score``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.
        y : array-like of shape (n_samples, n_tasks) or (n_samples,)
            True targets; NaN marks a missing one.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights.

        Returns
        -------
        score : float
        """
        return masked_r2_score(y, self.predict(X), sample_weight=sample_weight)


def stack_task_columns(columns: list[np.ndarray]) -> np.ndarray:
    """Per-task predictions as one ``(n_samples, n_tasks)`` array.

    Tasks of different types (labels and values, or several label types)
    give an object array, which keeps each value's type.
    """
    if len({column.dtype for column in columns}) == 1:
        return np.column_stack(columns)
    stacked = np.empty((len(columns[0]), len(columns)), dtype=object)
    for t, column in enumerate(columns):
        stacked[:, t] = column
    return stacked
