"""Shared-Bottom estimators: hard parameter sharing."""

from .. import nn
from .._training.options import FUNNEL_CONSTRAINTS, TRAINING_CONSTRAINTS
from ..nn.numeric import PERIODIC_SIGMA
from ._architecture import UNITS_CONSTRAINT, Architecture
from ._base import MultiTaskClassifier, MultiTaskRegressor, set_init_parameters
from ._docstrings import fill_doc
from ._ensemble import ENSEMBLE_CONSTRAINT, EnsembleMembers
from ._network_docs import NETWORK_DOCS

_DOCS = {
    **NETWORK_DOCS,
    "summary": """\
    ``y_k = h_k(f(x))``: one bottom network ``f`` is shared by all tasks and
    each task ``k`` has its own tower ``h_k`` (hard parameter sharing [1]_).
    The simplest multi-task network, and the baseline of the MMoE paper [2]_.""",
    "shared_bottom_parameters": """\
    bottom_units : tuple of int, default=(128,)
        Hidden layer widths of the bottom network shared by all tasks.

    tower_units : tuple of int, default=(32,)
        Hidden layer widths of each task's tower; ``()`` gives a linear head
        on the shared representation.""",
    "references": """\
    .. [1] R. Caruana, "Multitask Learning", Machine Learning 28, 1997.
    .. [2] J. Ma, Z. Zhao, X. Yi, J. Chen, L. Hong and E. H. Chi, "Modeling Task
       Relationships in Multi-task Learning with Multi-gate Mixture-of-Experts",
       KDD 2018.""",
}


@fill_doc(_DOCS)
class SharedBottom(EnsembleMembers, Architecture):
    """The Shared-Bottom architecture (hard parameter sharing [1]_), as a parameter object.

    ``y_k = h_k(f(x))``: one bottom network ``f`` shared by every task's
    tower ``h_k``. Give it to :class:`~sklearn_mtl.MultiTaskNet` as
    ``architecture``.

    Parameters
    ----------
    %(shared_bottom_parameters)s

    %(ensemble_parameter)s

    References
    ----------
    %(references)s
    """

    name = "shared_bottom"
    module = nn.SharedBottomModule
    _parameter_constraints: dict = {
        "bottom_units": UNITS_CONSTRAINT,
        "tower_units": UNITS_CONSTRAINT,
        "n_ensemble": ENSEMBLE_CONSTRAINT,
    }

    def __init__(self, bottom_units=(128,), *, tower_units=(32,), n_ensemble="auto"):
        set_init_parameters(self, locals())


class _SharedBottomParameters:
    """The signature shared by the SharedBottom estimators."""

    _architecture_class = SharedBottom
    _parameter_constraints: dict = {
        **SharedBottom._parameter_constraints,
        **TRAINING_CONSTRAINTS,
        **FUNNEL_CONSTRAINTS,
    }

    def __init__(
        self,
        bottom_units=(128,),
        *,
        tower_units=(32,),
        n_ensemble="auto",
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
class SharedBottomClassifier(_SharedBottomParameters, MultiTaskClassifier):
    """Shared-Bottom multi-task classifier.

    %(summary)s

    Parameters
    ----------
    %(shared_bottom_parameters)s

    %(ensemble_parameter)s

    %(training_parameters)s

    %(funnel_parameters)s

    Attributes
    ----------
    %(classifier_attributes)s

    See Also
    --------
    MMoEClassifier : Experts shared through one gate per task.

    References
    ----------
    %(references)s

    Examples
    --------
    >>> from sklearn_mtl import SharedBottomClassifier
    >>> from sklearn_mtl.datasets import make_task_pair
    >>> X, Y = make_task_pair(500, correlation=0.9, target="binary", random_state=0)
    >>> model = SharedBottomClassifier(max_epochs=5, random_state=0).fit(X, Y)
    >>> [proba.shape for proba in model.predict_proba(X[:3])]
    [(3, 2), (3, 2)]
    >>> model.predict(X[:3]).shape
    (3, 2)
    """


@fill_doc(_DOCS)
class SharedBottomRegressor(_SharedBottomParameters, MultiTaskRegressor):
    """Shared-Bottom multi-task regressor.

    %(summary)s

    Regression targets are standardised per task for training and mapped
    back at prediction.

    Parameters
    ----------
    %(shared_bottom_parameters)s

    %(ensemble_parameter)s

    %(training_parameters)s

    %(funnel_parameters)s

    Attributes
    ----------
    %(regressor_attributes)s

    See Also
    --------
    MMoERegressor : Experts shared through one gate per task.

    References
    ----------
    %(references)s

    Examples
    --------
    >>> from sklearn_mtl import SharedBottomRegressor
    >>> from sklearn_mtl.datasets import make_task_pair
    >>> X, Y = make_task_pair(500, correlation=0.9, random_state=0)
    >>> model = SharedBottomRegressor(max_epochs=5, random_state=0).fit(X, Y)
    >>> model.predict(X[:3]).shape
    (3, 2)
    """
