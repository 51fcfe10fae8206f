"""Task weighting: how the task losses share the gradient.

One class per method behind :class:`TaskWeighting`; estimators take a name of
:data:`WEIGHTINGS` or an instance as ``loss_weighting``.
"""

from ._base import RecordTaskWeights, TaskWeighting, task_gradients
from .dwa import DWA
from .equal import Equal, Fixed
from .gradnorm import GradNorm
from .mgda import MGDA, min_norm_weights
from .pcgrad import PCGrad, project_conflicts
from .uncertainty import Uncertainty

WEIGHTINGS: dict[str, type[TaskWeighting]] = {
    "equal": Equal,
    "fixed": Fixed,
    "uncertainty": Uncertainty,
    "mgda": MGDA,
    "gradnorm": GradNorm,
    "pcgrad": PCGrad,
    "dwa": DWA,
}
"""Weighting methods by the name ``loss_weighting`` accepts."""

__all__ = [
    "DWA",
    "MGDA",
    "WEIGHTINGS",
    "Equal",
    "Fixed",
    "GradNorm",
    "PCGrad",
    "RecordTaskWeights",
    "TaskWeighting",
    "Uncertainty",
    "min_norm_weights",
    "project_conflicts",
    "task_gradients",
]
