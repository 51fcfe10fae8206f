"""The last check of a loaded model: a prediction on two made-up rows."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["probe"]


def probe(estimator) -> None:
    """Predict on two made-up rows: the outputs must have the right shapes and be finite."""
    X = _probe_input(estimator)
    n_tasks = estimator.n_tasks_
    predictions = np.asarray(estimator.predict(X), dtype=object)
    if predictions.shape[0] != len(X):
        raise ValueError("the loaded model predicts the wrong number of rows")
    if hasattr(estimator, "predict_proba"):
        probas = estimator.predict_proba(X)
        probas = [probas] if not isinstance(probas, list) else probas
        for proba in probas:
            if proba is not None and not (np.isfinite(proba).all() and len(proba) == len(X)):
                raise ValueError("the loaded model predicts non-finite probabilities")
    if not hasattr(estimator, "classes_") or getattr(estimator, "task_types_", None):
        values = predictions.reshape(len(X), -1)
        for t in range(n_tasks):
            kinds = getattr(estimator, "task_types_", ["regression"] * n_tasks)
            if kinds[t] == "regression" and not np.isfinite(values[:, t].astype(float)).all():
                raise ValueError("the loaded model predicts non-finite values")


def _probe_input(estimator):
    n_features = estimator.n_features_in_
    inputs = getattr(estimator._fit_state, "inputs", None)
    columns = []
    categories = iter(inputs.encoder.categories_ if inputs is not None and inputs.encoder else [])
    for j in range(n_features):
        if inputs is not None and inputs.is_categorical[j]:
            columns.append(np.array([next(categories)[0], None], dtype=object))
        else:
            columns.append(np.zeros(2))
    names = getattr(estimator, "feature_names_in_", None)
    if names is not None:
        return pd.DataFrame(dict(zip(names, columns)), columns=names)
    if any(column.dtype == object for column in columns):
        return np.column_stack(columns).astype(object)
    return np.column_stack(columns)
