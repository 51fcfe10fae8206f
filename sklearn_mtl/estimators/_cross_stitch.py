"""Cross-Stitch estimators: one column per task, mixed by learnt stitch units."""

from numbers import Real

from .. import nn
from .._training.options import FUNNEL_CONSTRAINTS, TRAINING_CONSTRAINTS
from ..nn.numeric import PERIODIC_SIGMA
from ..utils._sklearn import Interval
from ._architecture import UNITS_CONSTRAINT, Architecture
from ._base import MultiTaskClassifier, MultiTaskRegressor, set_init_parameters
from ._docstrings import fill_doc
from ._network_docs import NETWORK_DOCS

_DOCS = {
    **NETWORK_DOCS,
    "summary": """\
    One MLP column per task; after every hidden layer a learnt
    ``n_tasks x n_tasks`` cross-stitch unit mixes the columns,
    ``h_t <- sum_s A[t, s] h_s``, so the network learns how much each task
    shares with each other [1]_. The learnt matrices are the fitted attribute
    ``stitch_matrices_``.""",
    "cross_stitch_parameters": """\
    column_units : tuple of int, default=(64, 32)
        Hidden layer widths of every task's column; a cross-stitch unit
        follows each layer.

    stitch_init : float, default=0.9
        Initial diagonal of the stitch matrices, in [0, 1]; each row's
        remaining weight is spread evenly over the other tasks, so rows sum
        to one. 1 starts from independent columns.

    tower_units : tuple of int, default=(32,)
        Hidden layer widths of each task's tower; ``()`` gives a linear head
        on the shared representation.""",
    "references": """\
    .. [1] I. Misra, A. Shrivastava, A. Gupta and M. Hebert, "Cross-stitch
       Networks for Multi-task Learning", CVPR 2016.""",
}


@fill_doc(_DOCS)
class CrossStitch(Architecture):
    """The Cross-Stitch architecture, as a parameter object.

    One column per task, mixed after every hidden layer by a learnt stitch
    matrix [1]_. Give it to :class:`~sklearn_mtl.MultiTaskNet` as
    ``architecture``.

    Parameters
    ----------
    %(cross_stitch_parameters)s

    References
    ----------
    %(references)s
    """

    name = "cross_stitch"
    module = nn.CrossStitchModule
    _parameter_constraints: dict = {
        "column_units": UNITS_CONSTRAINT,
        "stitch_init": [Interval(Real, 0, 1, closed="both")],
        "tower_units": UNITS_CONSTRAINT,
    }

    def fitted_attributes(self, module):
        return {"stitch_matrices_": [s.detach().cpu().numpy() for s in module.stitches]}

    def __init__(self, column_units=(64, 32), *, stitch_init=0.9, tower_units=(32,)):
        set_init_parameters(self, locals())


class _CrossStitchParameters:
    """The signature shared by the CrossStitch estimators."""

    _architecture_class = CrossStitch
    _parameter_constraints: dict = {
        **CrossStitch._parameter_constraints,
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
        lr_schedule="constant",
        early_stopping="auto",
        validation_fraction=0.1,
        n_iter_no_change=10,
        early_stopping_task=None,
        callbacks=None,
        device="cpu",
        random_state=None,
        verbose=0,
        categorical_features="from_dtype",
        embedding_dim="auto",
        min_frequency=None,
        numeric_embedding="linear",
        numeric_embedding_size=32,
        periodic_sigma=PERIODIC_SIGMA,
        numeric_missing="error",
        loss_weighting="equal",
        task_weights=None,
        loss_normalization="batch",
        accelerator=None,
        warm_start=False,
        compile=False,
        funnel=None,
        funnel_penalty=1.0,
    ):
        set_init_parameters(self, locals())


@fill_doc(_DOCS)
class CrossStitchClassifier(_CrossStitchParameters, MultiTaskClassifier):
    """Cross-Stitch network classifier.

    %(summary)s

    Parameters
    ----------
    %(cross_stitch_parameters)s

    %(training_parameters)s

    %(funnel_parameters)s

    Attributes
    ----------
    stitch_matrices_ : list of ndarray of shape (n_tasks_, n_tasks_)
        The learnt cross-stitch matrix after each column layer; row ``t``
        holds the weights of every column in task ``t``'s next input.

    %(classifier_attributes)s

    See Also
    --------
    SharedBottomClassifier : One shared network instead of stitched columns.

    References
    ----------
    %(references)s

    Examples
    --------
    >>> from sklearn_mtl import CrossStitchClassifier
    >>> from sklearn_mtl.datasets import make_task_pair
    >>> X, Y = make_task_pair(500, correlation=0.9, target="binary", random_state=0)
    >>> model = CrossStitchClassifier(max_epochs=5, random_state=0).fit(X, Y)
    >>> [proba.shape for proba in model.predict_proba(X[:3])]
    [(3, 2), (3, 2)]
    >>> model.predict(X[:3]).shape
    (3, 2)
    """


@fill_doc(_DOCS)
class CrossStitchRegressor(_CrossStitchParameters, MultiTaskRegressor):
    """Cross-Stitch network regressor.

    %(summary)s

    Regression targets are standardised per task for training and mapped
    back at prediction.

    Parameters
    ----------
    %(cross_stitch_parameters)s

    %(training_parameters)s

    %(funnel_parameters)s

    Attributes
    ----------
    stitch_matrices_ : list of ndarray of shape (n_tasks_, n_tasks_)
        The learnt cross-stitch matrix after each column layer; row ``t``
        holds the weights of every column in task ``t``'s next input.

    %(regressor_attributes)s

    See Also
    --------
    SharedBottomRegressor : One shared network instead of stitched columns.

    References
    ----------
    %(references)s

    Examples
    --------
    >>> from sklearn_mtl import CrossStitchRegressor
    >>> from sklearn_mtl.datasets import make_task_pair
    >>> X, Y = make_task_pair(500, correlation=0.9, random_state=0)
    >>> model = CrossStitchRegressor(max_epochs=5, random_state=0).fit(X, Y)
    >>> model.predict(X[:3]).shape
    (3, 2)
    """
