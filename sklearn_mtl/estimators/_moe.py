"""Mixture-of-experts estimators: MMoE and OMoE (one gate)."""

from numbers import Integral, Real

from .. import nn
from .._training.options import FUNNEL_CONSTRAINTS, TRAINING_CONSTRAINTS
from ..nn.numeric import PERIODIC_SIGMA
from ..utils._sklearn import Interval
from ._architecture import UNITS_CONSTRAINT, Architecture
from ._base import MultiTaskClassifier, MultiTaskRegressor, set_init_parameters
from ._docstrings import fill_doc
from ._ensemble import ENSEMBLE_CONSTRAINT, EnsembleMembers
from ._network_docs import NETWORK_DOCS

_DOCS = {
    **NETWORK_DOCS,
    "mmoe_summary": """\
    ``y_k = h_k(sum_i g_k(x)_i f_i(x))`` with ``g_k(x) = softmax(W_k x / T)``:
    the experts ``f_i`` are shared by all tasks and each task ``k`` has its own
    gate ``g_k`` and tower ``h_k``, so tasks that conflict can use different
    experts [1]_.""",
    "omoe_summary": """\
    ``y_k = h_k(sum_i g(x)_i f_i(x))``: as MMoE, but one gate ``g`` is shared
    by all tasks, so every task sees the same mixture of experts (the MoE
    baseline of [1]_).""",
    "moe_parameters": """\
    n_experts : int, default=8
        Number of shared experts.

    expert_units : tuple of int, default=(64,)
        Hidden layer widths of every expert (all experts have the same shape
        and run as one batched computation).

    tower_units : tuple of int, default=(32,)
        Hidden layer widths of each task's tower; ``()`` gives a linear head
        on the mixture of experts.

    gate_temperature : float, default=1.0
        Softmax temperature of the gates; above 1 spreads the weight over
        more experts, below 1 concentrates it.""",
    "references": """\
    .. [1] J. Ma, Z. Zhao, X. Yi, J. Chen, L. Hong and E. H. Chi, "Modeling Task
       Relationships in Multi-task Learning with Multi-gate Mixture-of-Experts",
       KDD 2018.""",
}


@fill_doc(_DOCS)
class MMoE(EnsembleMembers, Architecture):
    """The Multi-gate Mixture-of-Experts architecture, as a parameter object.

    ``y_k = h_k(sum_i g_k(x)_i f_i(x))`` with ``g_k(x) = softmax(W_k x / T)``:
    shared experts ``f_i``, and a gate ``g_k`` and tower ``h_k`` per task [1]_.
    Give it to :class:`~sklearn_mtl.MultiTaskNet` as ``architecture``.

    Parameters
    ----------
    %(moe_parameters)s

    %(ensemble_parameter)s

    References
    ----------
    %(references)s
    """

    name = "mmoe"
    module = nn.MMoEModule
    _parameter_constraints: dict = {
        "n_experts": [Interval(Integral, 1, None, closed="left")],
        "expert_units": UNITS_CONSTRAINT,
        "tower_units": UNITS_CONSTRAINT,
        "gate_temperature": [Interval(Real, 0, None, closed="neither")],
        "n_ensemble": ENSEMBLE_CONSTRAINT,
    }

    def __init__(
        self,
        n_experts=8,
        *,
        expert_units=(64,),
        tower_units=(32,),
        gate_temperature=1.0,
        n_ensemble="auto",
    ):
        set_init_parameters(self, locals())


@fill_doc(_DOCS)
class OMoE(MMoE):
    """The One-gate Mixture-of-Experts architecture, as a parameter object.

    As :class:`MMoE`, but one gate is shared by all tasks (the MoE baseline
    of [1]_).

    Parameters
    ----------
    %(moe_parameters)s

    %(ensemble_parameter)s

    References
    ----------
    %(references)s
    """

    name = "omoe"
    module = nn.OMoEModule


class _MixtureOfExperts:
    """The signature shared by the four mixture-of-experts estimators."""

    _architecture_class = MMoE
    _parameter_constraints: dict = {
        **MMoE._parameter_constraints,
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
class MMoEClassifier(_MixtureOfExperts, MultiTaskClassifier):
    """Multi-gate Mixture-of-Experts (MMoE) classifier.

    %(mmoe_summary)s

    Parameters
    ----------
    %(moe_parameters)s

    %(ensemble_parameter)s

    %(training_parameters)s

    %(funnel_parameters)s

    Attributes
    ----------
    %(classifier_attributes)s

    See Also
    --------
    OMoEClassifier : One gate shared by all tasks.
    SharedBottomClassifier : Hard parameter sharing.

    References
    ----------
    %(references)s

    Examples
    --------
    >>> from sklearn_mtl import MMoEClassifier
    >>> from sklearn_mtl.datasets import make_task_pair
    >>> X, Y = make_task_pair(500, correlation=0.9, target="binary", random_state=0)
    >>> model = MMoEClassifier(max_epochs=5, random_state=0).fit(X, Y)
    >>> [proba.shape for proba in model.predict_proba(X[:3])]
    [(3, 2), (3, 2)]
    >>> model.predict(X[:3]).shape
    (3, 2)
    """


@fill_doc(_DOCS)
class MMoERegressor(_MixtureOfExperts, MultiTaskRegressor):
    """Multi-gate Mixture-of-Experts (MMoE) regressor.

    %(mmoe_summary)s

    Regression targets are standardised per task for training and mapped
    back at prediction.

    Parameters
    ----------
    %(moe_parameters)s

    %(ensemble_parameter)s

    %(training_parameters)s

    %(funnel_parameters)s

    Attributes
    ----------
    %(regressor_attributes)s

    See Also
    --------
    OMoERegressor : One gate shared by all tasks.
    SharedBottomRegressor : Hard parameter sharing.

    References
    ----------
    %(references)s

    Examples
    --------
    >>> from sklearn_mtl import MMoERegressor
    >>> from sklearn_mtl.datasets import make_task_pair
    >>> X, Y = make_task_pair(500, correlation=0.9, random_state=0)
    >>> model = MMoERegressor(max_epochs=5, random_state=0).fit(X, Y)
    >>> model.predict(X[:3]).shape
    (3, 2)
    """


@fill_doc(_DOCS)
class OMoEClassifier(_MixtureOfExperts, MultiTaskClassifier):
    """One-gate Mixture-of-Experts (OMoE) classifier.

    %(omoe_summary)s

    Parameters
    ----------
    %(moe_parameters)s

    %(ensemble_parameter)s

    %(training_parameters)s

    %(funnel_parameters)s

    Attributes
    ----------
    %(classifier_attributes)s

    See Also
    --------
    MMoEClassifier : One gate per task.

    References
    ----------
    %(references)s

    Examples
    --------
    >>> from sklearn_mtl import OMoEClassifier
    >>> from sklearn_mtl.datasets import make_task_pair
    >>> X, Y = make_task_pair(500, correlation=0.9, target="binary", random_state=0)
    >>> model = OMoEClassifier(max_epochs=5, random_state=0).fit(X, Y)
    >>> [proba.shape for proba in model.predict_proba(X[:3])]
    [(3, 2), (3, 2)]
    """

    _architecture_class = OMoE


@fill_doc(_DOCS)
class OMoERegressor(_MixtureOfExperts, MultiTaskRegressor):
    """One-gate Mixture-of-Experts (OMoE) regressor.

    %(omoe_summary)s

    Regression targets are standardised per task for training and mapped
    back at prediction.

    Parameters
    ----------
    %(moe_parameters)s

    %(ensemble_parameter)s

    %(training_parameters)s

    %(funnel_parameters)s

    Attributes
    ----------
    %(regressor_attributes)s

    See Also
    --------
    MMoERegressor : One gate per task.

    References
    ----------
    %(references)s

    Examples
    --------
    >>> from sklearn_mtl import OMoERegressor
    >>> from sklearn_mtl.datasets import make_task_pair
    >>> X, Y = make_task_pair(500, correlation=0.9, random_state=0)
    >>> model = OMoERegressor(max_epochs=5, random_state=0).fit(X, Y)
    >>> model.predict(X[:3]).shape
    (3, 2)
    """

    _architecture_class = OMoE
