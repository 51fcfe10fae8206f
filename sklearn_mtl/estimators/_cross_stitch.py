"""Cross-Stitch estimators: one column per task, mixed by learnt stitch units."""

from numbers import Real

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
from ..utils._sklearn import Interval


class _CrossStitch:
    """Parameters and module of the Cross-Stitch estimators."""

    _parameter_constraints: dict = {
        "column_units": UNITS_CONSTRAINT,
        "stitch_init": [Interval(Real, 0, 1, closed="both")],
        **TRAINING_CONSTRAINTS,
        **FUNNEL_CONSTRAINTS,
    }

    def __init__(
        self,
        column_units=(64, 32),
        *,
        stitch_init=0.9,
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
        self.column_units = column_units
        self.stitch_init = stitch_init
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
        return nn.CrossStitch(
            n_features,
            head_sizes,
            column_units=check_units("column_units", self.column_units, allow_empty=False),
            tower_units=check_units("tower_units", self.tower_units, allow_empty=True),
            stitch_init=self.stitch_init,
            activation=self.activation,
            dropout=self.dropout,
        )

    def _fitted_from_module(self, module):
        return {"stitch_matrices_": [s.detach().cpu().numpy() for s in module.stitches]}


_PARAMETERS = """\
    column_units : tuple of int, default=(64, 32)
        Hidden layer widths of every task's column; a cross-stitch unit
        follows each layer.

    stitch_init : float, default=0.9
        Initial diagonal of the stitch matrices, in [0, 1]; each row's
        remaining weight is spread evenly over the other tasks, so rows sum
        to one. 1 starts from independent columns.

%(tower_parameters)s

%(training_parameters)s

%(funnel_parameters)s"""

_SUMMARY = """\
Cross-Stitch network {kind}.

    One MLP column per task; after every hidden layer a learnt
    ``n_tasks x n_tasks`` cross-stitch unit mixes the columns,
    ``h_t <- sum_s A[t, s] h_s``, so the network learns how much each task
    shares with each other [1]_. The learnt matrices are the fitted attribute
    ``stitch_matrices_``."""

_REFERENCES = """\
    .. [1] I. Misra, A. Shrivastava, A. Gupta and M. Hebert, "Cross-stitch
       Networks for Multi-task Learning", CVPR 2016."""


def _doc(name, kind, see_also):
    doc = estimator_doc(
        name,
        kind,
        summary=_SUMMARY.format(kind=kind),
        parameters=_PARAMETERS,
        see_also=see_also,
        references=_REFERENCES,
    )
    stitches = (
        "    stitch_matrices_ : list of ndarray of shape (n_tasks_, n_tasks_)\n"
        "        The learnt cross-stitch matrix after each column layer; row ``t``\n"
        "        holds the weights of every column in task ``t``'s next input.\n\n"
    )
    return doc.replace("    n_tasks_ : int\n", stitches + "    n_tasks_ : int\n", 1)


class CrossStitchClassifier(_CrossStitch, MultiTaskClassifier):
    __doc__ = _doc(
        "CrossStitchClassifier",
        "classifier",
        "    SharedBottomClassifier : One shared network instead of stitched columns.",
    )


class CrossStitchRegressor(_CrossStitch, MultiTaskRegressor):
    __doc__ = _doc(
        "CrossStitchRegressor",
        "regressor",
        "    SharedBottomRegressor : One shared network instead of stitched columns.",
    )
