"""Data set generators and loaders."""

from ._funnel import make_click_conversion
from ._synthetic import make_task_pair

__all__ = ["make_click_conversion", "make_task_pair"]
