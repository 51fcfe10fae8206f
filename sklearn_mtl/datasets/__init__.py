"""Data set generators and loaders."""

from ._adult import load_adult
from ._funnel import make_click_conversion
from ._synthetic import make_task_groups, make_task_pair
from ._weak import make_weak_labels

__all__ = [
    "load_adult",
    "make_click_conversion",
    "make_task_groups",
    "make_task_pair",
    "make_weak_labels",
]
