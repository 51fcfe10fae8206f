"""Progressive Layered Extraction estimators (PLE; one level is CGC)."""

from numbers import Integral, Real

from .. import nn
from .._docstrings import estimator_doc
from ..base import (
    FUNNEL_CONSTRAINTS,
    TRAINING_CONSTRAINTS,
    UNITS_CONSTRAINT,
    MultiTaskClassifier,
    MultiTaskRegressor,
    check_units,
)
from ..inspection import GateInspectionMixin
from ..utils._sklearn import Interval


class _PLE:
    """Parameters and module of the PLE estimators."""

    _parameter_constraints: dict = {
        "n_task_experts": [Interval(Integral, 0, None, closed="left")],
        "n_shared_experts": [Interval(Integral, 0, None, closed="left")],
        "n_levels": [Interval(Integral, 1, None, closed="left")],
        "expert_units": UNITS_CONSTRAINT,
        "gate_temperature": [Interval(Real, 0, None, closed="neither")],
        **TRAINING_CONSTRAINTS,
        **FUNNEL_CONSTRAINTS,
    }

    def __init__(
        self,
        n_task_experts=2,
        *,
        n_shared_experts=2,
        n_levels=2,
        expert_units=(64,),
        tower_units=(32,),
        gate_temperature=1.0,
        activation="relu",
        dropout=0.0,
        max_epochs=50,
        batch_size=256,
        lr=1e-3,
        optimizer="adam",
        weight_decay=0.0,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        callbacks=None,
        device="cpu",
        random_state=None,
        verbose=0,
        categorical_features="from_dtype",
        embedding_dim="auto",
        min_frequency=None,
        loss_weighting="equal",
        task_weights=None,
        accelerator=None,
        warm_start=False,
        funnel=None,
        funnel_penalty=1.0,
    ):
        self.n_task_experts = n_task_experts
        self.n_shared_experts = n_shared_experts
        self.n_levels = n_levels
        self.expert_units = expert_units
        self.tower_units = tower_units
        self.gate_temperature = gate_temperature
        self.activation = activation
        self.dropout = dropout
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.callbacks = callbacks
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.categorical_features = categorical_features
        self.embedding_dim = embedding_dim
        self.min_frequency = min_frequency
        self.loss_weighting = loss_weighting
        self.task_weights = task_weights
        self.accelerator = accelerator
        self.warm_start = warm_start
        self.funnel = funnel
        self.funnel_penalty = funnel_penalty

    def _build_module(self, n_features, head_sizes):
        if self.n_task_experts + self.n_shared_experts < 1:
            raise ValueError(
                "n_task_experts + n_shared_experts must be at least 1; got "
                f"n_task_experts={self.n_task_experts}, n_shared_experts={self.n_shared_experts}."
            )
        return nn.PLE(
            n_features,
            head_sizes,
            n_task_experts=self.n_task_experts,
            n_shared_experts=self.n_shared_experts,
            n_levels=self.n_levels,
            expert_units=check_units("expert_units", self.expert_units, allow_empty=False),
            tower_units=check_units("tower_units", self.tower_units, allow_empty=True),
            gate_temperature=self.gate_temperature,
            activation=self.activation,
            dropout=self.dropout,
        )


_PARAMETERS = """\
    n_task_experts : int, default=2
        Experts owned by each task at every level, reached only by that task's
        gate.

    n_shared_experts : int, default=2
        Experts shared by all tasks at every level.

    n_levels : int, default=2
        Number of progressive extraction levels; 1 is Customized Gate Control
        (CGC). At inner levels a shared gate over all experts feeds the next
        level's shared experts.

    expert_units : tuple of int, default=(64,)
        Hidden layer widths of every expert (the experts of a level run as one
        batched computation).

%(tower_parameters)s

    gate_temperature : float, default=1.0
        Softmax temperature of all gates.

%(training_parameters)s

%(funnel_parameters)s"""

_SUMMARY = """\
Progressive Layered Extraction (PLE) {kind}.

    Each task owns experts that only its gate can reach, next to experts
    shared by all tasks; task ``k``'s gate at level ``j`` mixes its own and
    the shared experts, ``g^{{k,j}} = w^{{k,j}}(g^{{k,j-1}}) S^{{k,j}}``, and the last
    level feeds the task towers [1]_. Keeping a private path per task reduces
    the negative transfer and seesaw between tasks seen with fully shared
    experts. ``gate_weights`` returns the gates of every level."""

_REFERENCES = """\
    .. [1] H. Tang, J. Liu, M. Zhao and X. Gong, "Progressive Layered Extraction
       (PLE): A Novel Multi-Task Learning (MTL) Model for Personalized
       Recommendations", RecSys 2020."""


def _doc(name, kind, see_also):
    return estimator_doc(
        name,
        kind,
        summary=_SUMMARY.format(kind=kind),
        parameters=_PARAMETERS,
        see_also=see_also,
        references=_REFERENCES,
    )


class PLEClassifier(_PLE, GateInspectionMixin, MultiTaskClassifier):
    __doc__ = _doc(
        "PLEClassifier",
        "classifier",
        "    MMoEClassifier : All experts shared, one gate per task.",
    )


class PLERegressor(_PLE, GateInspectionMixin, MultiTaskRegressor):
    __doc__ = _doc(
        "PLERegressor",
        "regressor",
        "    MMoERegressor : All experts shared, one gate per task.",
    )
