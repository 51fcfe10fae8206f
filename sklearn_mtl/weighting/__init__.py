"""Task weighting: how the task losses share the gradient.

One class per method behind :class:`TaskWeighting`, each in its own module;
estimators take a name of :data:`WEIGHTINGS` or an instance as
``loss_weighting``. Adding a method is its module and one import line below
(the registry): :data:`WEIGHTINGS`, the estimators' constraints and every
message that lists methods are derived from the classes' ``name`` and
capabilities (``gradient_based``, ``data_parallel``, ``takes_task_weights``).
"""

from ._base import RecordTaskWeights, TaskWeighting, task_gradients
from ._registry import (
    WEIGHTINGS,
    collect,
    make_weighting,
    weighting_names,
    weighting_parameter_doc,
)

# the registry: one import per method's module
from .dwa import DWA as DWA
from .equal import Equal as Equal
from .equal import Fixed as Fixed
from .gradnorm import GradNorm as GradNorm
from .mgda import MGDA as MGDA
from .mgda import min_norm_weights
from .pcgrad import PCGrad as PCGrad
from .pcgrad import project_conflicts
from .uncertainty import Uncertainty as Uncertainty

collect()

__all__ = [
    "WEIGHTINGS",
    "RecordTaskWeights",
    "TaskWeighting",
    "make_weighting",
    "min_norm_weights",
    "project_conflicts",
    "task_gradients",
    "weighting_names",
    "weighting_parameter_doc",
] + sorted(cls.__name__ for cls in WEIGHTINGS.values())
