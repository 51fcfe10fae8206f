"""Shared-Bottom estimators: hard parameter sharing."""

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


class _SharedBottom:
    """Parameters and module of the Shared-Bottom estimators."""

    _parameter_constraints: dict = {
        "bottom_units": UNITS_CONSTRAINT,
        **TRAINING_CONSTRAINTS,
        **FUNNEL_CONSTRAINTS,
    }

    def __init__(
        self,
        bottom_units=(128,),
        *,
        tower_units=(32,),
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
        self.bottom_units = bottom_units
        self.tower_units = tower_units
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
        return nn.SharedBottom(
            n_features,
            head_sizes,
            bottom_units=check_units("bottom_units", self.bottom_units, allow_empty=False),
            tower_units=check_units("tower_units", self.tower_units, allow_empty=True),
            activation=self.activation,
            dropout=self.dropout,
        )


_PARAMETERS = """\
    bottom_units : tuple of int, default=(128,)
        Hidden layer widths of the bottom network shared by all tasks.

%(tower_parameters)s

%(training_parameters)s

%(funnel_parameters)s"""

_SUMMARY = """\
Shared-Bottom multi-task {kind}.

    ``y_k = h_k(f(x))``: one bottom network ``f`` is shared by all tasks and
    each task ``k`` has its own tower ``h_k`` (hard parameter sharing [1]_).
    The simplest multi-task network, and the baseline of the MMoE paper [2]_."""

_REFERENCES = """\
    .. [1] R. Caruana, "Multitask Learning", Machine Learning 28, 1997.
    .. [2] J. Ma, Z. Zhao, X. Yi, J. Chen, L. Hong and E. H. Chi, "Modeling Task
       Relationships in Multi-task Learning with Multi-gate Mixture-of-Experts",
       KDD 2018."""


def _doc(name, kind, see_also):
    return estimator_doc(
        name,
        kind,
        summary=_SUMMARY.format(kind=kind),
        parameters=_PARAMETERS,
        see_also=see_also,
        references=_REFERENCES,
    )


class SharedBottomClassifier(_SharedBottom, MultiTaskClassifier):
    __doc__ = _doc(
        "SharedBottomClassifier",
        "classifier",
        "    MMoEClassifier : Experts shared through one gate per task.",
    )


class SharedBottomRegressor(_SharedBottom, MultiTaskRegressor):
    __doc__ = _doc(
        "SharedBottomRegressor",
        "regressor",
        "    MMoERegressor : Experts shared through one gate per task.",
    )
