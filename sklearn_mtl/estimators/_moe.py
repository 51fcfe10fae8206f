"""Mixture-of-experts estimators: MMoE and OMoE (one gate)."""

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


class _MixtureOfExperts:
    """Parameters and module of the mixture-of-experts estimators."""

    _module_class: type = nn.MMoE

    _parameter_constraints: dict = {
        "n_experts": [Interval(Integral, 1, None, closed="left")],
        "expert_units": UNITS_CONSTRAINT,
        "gate_temperature": [Interval(Real, 0, None, closed="neither")],
        **TRAINING_CONSTRAINTS,
        **FUNNEL_CONSTRAINTS,
    }

    def __init__(
        self,
        n_experts=8,
        *,
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
        self.n_experts = n_experts
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
        return self._module_class(
            n_features,
            head_sizes,
            n_experts=self.n_experts,
            expert_units=check_units("expert_units", self.expert_units, allow_empty=False),
            tower_units=check_units("tower_units", self.tower_units, allow_empty=True),
            gate_temperature=self.gate_temperature,
            activation=self.activation,
            dropout=self.dropout,
        )


_MOE_PARAMETERS = """\
    n_experts : int, default=8
        Number of shared experts.

    expert_units : tuple of int, default=(64,)
        Hidden layer widths of every expert (all experts have the same shape
        and run as one batched computation).

%(tower_parameters)s

    gate_temperature : float, default=1.0
        Softmax temperature of the gates; above 1 spreads the weight over
        more experts, below 1 concentrates it.

%(training_parameters)s

%(funnel_parameters)s"""

_MMOE_SUMMARY = """\
Multi-gate Mixture-of-Experts (MMoE) {kind}.

    ``y_k = h_k(sum_i g_k(x)_i f_i(x))`` with ``g_k(x) = softmax(W_k x / T)``:
    the experts ``f_i`` are shared by all tasks and each task ``k`` has its own
    gate ``g_k`` and tower ``h_k``, so tasks that conflict can use different
    experts [1]_."""

_OMOE_SUMMARY = """\
One-gate Mixture-of-Experts (OMoE) {kind}.

    ``y_k = h_k(sum_i g(x)_i f_i(x))``: as MMoE, but one gate ``g`` is shared
    by all tasks, so every task sees the same mixture of experts (the MoE
    baseline of [1]_)."""

_REFERENCES = """\
    .. [1] J. Ma, Z. Zhao, X. Yi, J. Chen, L. Hong and E. H. Chi, "Modeling Task
       Relationships in Multi-task Learning with Multi-gate Mixture-of-Experts",
       KDD 2018."""


def _moe_doc(name, kind, summary, see_also):
    return estimator_doc(
        name,
        kind,
        summary=summary.format(kind=kind),
        parameters=_MOE_PARAMETERS,
        see_also=see_also,
        references=_REFERENCES,
    )


class MMoEClassifier(_MixtureOfExperts, GateInspectionMixin, MultiTaskClassifier):
    __doc__ = _moe_doc(
        "MMoEClassifier",
        "classifier",
        _MMOE_SUMMARY,
        "    OMoEClassifier : One gate shared by all tasks.\n"
        "    SharedBottomClassifier : Hard parameter sharing.",
    )


class MMoERegressor(_MixtureOfExperts, GateInspectionMixin, MultiTaskRegressor):
    __doc__ = _moe_doc(
        "MMoERegressor",
        "regressor",
        _MMOE_SUMMARY,
        "    OMoERegressor : One gate shared by all tasks.\n"
        "    SharedBottomRegressor : Hard parameter sharing.",
    )


class OMoEClassifier(_MixtureOfExperts, GateInspectionMixin, MultiTaskClassifier):
    __doc__ = _moe_doc(
        "OMoEClassifier",
        "classifier",
        _OMOE_SUMMARY,
        "    MMoEClassifier : One gate per task.",
    )
    _module_class = nn.OMoE


class OMoERegressor(_MixtureOfExperts, GateInspectionMixin, MultiTaskRegressor):
    __doc__ = _moe_doc(
        "OMoERegressor",
        "regressor",
        _OMOE_SUMMARY,
        "    MMoERegressor : One gate per task.",
    )
    _module_class = nn.OMoE
