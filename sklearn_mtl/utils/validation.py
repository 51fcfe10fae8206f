"""Validation of multi-task targets and weights, where NaN means "missing label"."""

from __future__ import annotations

from numbers import Number

import numpy as np
import pandas as pd
from sklearn.utils import check_array, check_consistent_length

from ._sklearn import _check_sample_weight

__all__ = ["check_multitask_sample_weight", "check_multitask_y", "task_name"]


def check_multitask_y(y, n_samples: int, *, estimator_name: str):
    """Validate a multi-task target and return it as a 2-D array.

    Missing labels (NaN, None, ``pd.NA``) are allowed per cell, but every task
    must have at least one observed label.

    Parameters
    ----------
    y : array-like of shape (n_samples,) or (n_samples, n_tasks)
        The target; a 1-D ``y`` is one task.
    n_samples : int
        Number of rows of ``X``.
    estimator_name : str
        Used in error messages.

    Returns
    -------
    y : ndarray of shape (n_samples, n_tasks)
        The target as a 2-D array, dtype kept (object for mixed labels).
    missing : ndarray of bool, shape (n_samples, n_tasks)
        True where the label is missing.
    single_output : bool
        True when ``y`` was 1-D.
    """
    if y is None:
        raise ValueError(f"{estimator_name} requires y to be passed, but the target y is None.")
    if hasattr(y, "to_numpy"):  # pandas Series / DataFrame
        y = y.to_numpy()
    y = np.asarray(y)
    if y.ndim == 0 or y.ndim > 2:
        raise ValueError(
            f"y must be of shape (n_samples,) or (n_samples, n_tasks); got an array "
            f"of shape {y.shape}."
        )
    single_output = y.ndim == 1
    if single_output:
        y = y.reshape(-1, 1)
    if y.shape[1] == 0:
        raise ValueError("y has 0 tasks; expected at least one column.")
    check_consistent_length(np.empty(n_samples), y)
    if y.dtype.kind in "fc" and np.isinf(y).any():
        raise ValueError("Input y contains infinity; only NaN may mark a missing label.")
    missing = np.asarray(pd.isna(y), dtype=bool)
    unlabelled = np.flatnonzero(missing.all(axis=0))
    if unlabelled.size:
        raise ValueError(
            f"{task_name(unlabelled[0], single_output)} of y has no observed label; "
            "NaN marks a missing label."
        )
    return y, missing, single_output


def check_multitask_sample_weight(sample_weight, n_samples: int, n_tasks: int):
    """Validate ``sample_weight`` of shape (n_samples,) or (n_samples, n_tasks).

    Returns
    -------
    weight : ndarray of shape (n_samples, n_tasks), float32
        Non-negative per-task weights (ones when ``sample_weight`` is None).
    """
    template = np.empty((n_samples, 1))
    if sample_weight is not None and not isinstance(sample_weight, Number):
        sample_weight = check_array(
            sample_weight, ensure_2d=False, dtype=np.float64, input_name="sample_weight"
        )
    if sample_weight is None or sample_weight.ndim <= 1:
        weight = _check_sample_weight(
            sample_weight, template, dtype=np.float64, ensure_non_negative=True
        )
        return np.repeat(weight[:, None], n_tasks, axis=1).astype(np.float32)
    if sample_weight.shape != (n_samples, n_tasks):
        raise ValueError(
            "sample_weight must be of shape (n_samples,) or (n_samples, n_tasks) "
            f"= {(n_samples, n_tasks)}; got {sample_weight.shape}."
        )
    if (sample_weight < 0).any():
        raise ValueError("Negative values in data passed to `sample_weight`.")
    if not sample_weight.any():
        raise ValueError("Sample weights must contain at least one non-zero number.")
    weight = sample_weight
    return weight.astype(np.float32)


def task_name(task: int, single_output: bool) -> str:
    """How error messages name task ``task``: "Task 1", or "The target" for 1-D y."""
    return "The target" if single_output else f"Task {task}"
