"""Data set generators and loaders."""

from ._synthetic import make_task_pair

__all__ = ["make_task_pair"]
