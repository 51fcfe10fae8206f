"""Validation helpers shared by the estimators."""

from .validation import check_multitask_sample_weight, check_multitask_y, task_name

__all__ = ["check_multitask_sample_weight", "check_multitask_y", "task_name"]
