"""Checks of the encoded targets and their weights, shared by the networks' ``fit``."""

from __future__ import annotations

import numpy as np

from ..utils import check_multitask_sample_weight, task_name

__all__ = ["check_weighted_classes", "loss_weights", "same_classes", "soft_labels"]


def check_weighted_classes(tasks, encoded, weight, single_output: bool) -> None:
    """Each classification task needs two classes among its rows of positive weight."""
    if weight is None:
        return  # every label observed with weight 1: the tasks checked their classes
    for t, task in enumerate(tasks):
        if task.kind not in ("binary", "multiclass"):
            continue
        weighted = np.unique(encoded[weight[:, t] > 0, t])
        if len(weighted) < 2:
            label = task.classes[int(weighted[0])] if len(weighted) else None
            raise ValueError(
                f"{task_name(t, single_output)} of y has one class only among the rows of "
                f"positive sample_weight ({label!r}); a classifier needs at least two "
                "classes per task: give another class weight."
            )


def soft_labels(labels: np.ndarray) -> bool:
    """Whether a column of ``y`` holds probabilities: floats in [0, 1], not all 0 or 1."""
    if labels.dtype.kind != "f" or labels.size == 0:
        return False
    inside = bool(((labels >= 0) & (labels <= 1)).all())
    return inside and bool((labels != np.round(labels)).any())


def same_classes(given, known) -> bool:
    if given is None or known is None:
        return given is None and known is None
    return np.array_equal(given, known)


def loss_weights(sample_weight, missing: np.ndarray) -> np.ndarray | None:
    """Per-row, per-task loss weights, zero on missing labels; None when all are one."""
    weight = check_multitask_sample_weight(sample_weight, *missing.shape)
    weight[missing] = 0.0
    if not missing.any() and (weight == 1).all():
        return None  # the loss takes its cheaper unweighted path
    return weight
