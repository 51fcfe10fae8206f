"""Multi-task weak supervision: learn from noisy sources instead of labels.

A label matrix ``L`` holds each source's vote per item (and task): a class
index ``0 .. k - 1``, or ``-1`` where the source abstains. :class:`MultiTaskLabelModel`
(MeTaL, Ratner et al., AAAI 2019) learns how accurate each source is without
any true label and gives each item probabilistic labels that respect the
tasks' logical relations (the task graph); :class:`MajorityVoter` is the
baseline. The task graph is the array of feasible joint labels:
:func:`independent_tasks`, :func:`hierarchy` or :func:`mutually_exclusive`
build the usual ones. :class:`LabelingFunction` turns rules over a table
(pandas expressions or Python functions) into a label matrix, and
:func:`label_matrix_summary` gives each source's coverage, overlaps,
conflicts and, with true labels, accuracy.
"""

from ._label_matrix import ABSTAIN, hierarchy, independent_tasks, mutually_exclusive
from ._label_model import MultiTaskLabelModel
from ._labeling import LabelingFunction, apply_labeling_functions, label_matrix_summary
from ._majority import MajorityVoter

__all__ = [
    "ABSTAIN",
    "LabelingFunction",
    "MajorityVoter",
    "MultiTaskLabelModel",
    "apply_labeling_functions",
    "hierarchy",
    "label_matrix_summary",
    "independent_tasks",
    "mutually_exclusive",
]
