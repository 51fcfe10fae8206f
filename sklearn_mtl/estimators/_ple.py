"""Progressive Layered Extraction estimators (PLE; one level is CGC)."""

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
    "summary": """\
    Each task owns experts that only its gate can reach, next to experts
    shared by all tasks; task ``k``'s gate at level ``j`` mixes its own and
    the shared experts, ``g^{k,j} = w^{k,j}(g^{k,j-1}) S^{k,j}``, and the last
    level feeds the task towers [1]_. Keeping a private path per task reduces
    the negative transfer and seesaw between tasks seen with fully shared
    experts. ``gate_weights`` returns the gates of every level.""",
    "ple_parameters": """\
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

    tower_units : tuple of int, default=(32,)
        Hidden layer widths of each task's tower; ``()`` gives a linear head
        on the shared representation.

    gate_temperature : float, default=1.0
        Softmax temperature of all gates.""",
    "references": """\
    .. [1] H. Tang, J. Liu, M. Zhao and X. Gong, "Progressive Layered Extraction
       (PLE): A Novel Multi-Task Learning (MTL) Model for Personalized
       Recommendations", RecSys 2020.""",
}


@fill_doc(_DOCS)
class PLE(EnsembleMembers, Architecture):
    """The Progressive Layered Extraction architecture, as a parameter object.

    Task-owned and shared experts at every level, mixed by per-task gates
    [1]_; ``n_levels=1`` is CGC. Give it to :class:`~sklearn_mtl.MultiTaskNet`
    as ``architecture``.

    Parameters
    ----------
    %(ple_parameters)s

    %(ensemble_parameter)s

    References
    ----------
    %(references)s
    """

    name = "ple"
    module = nn.PLEModule
    _parameter_constraints: dict = {
        "n_task_experts": [Interval(Integral, 0, None, closed="left")],
        "n_shared_experts": [Interval(Integral, 0, None, closed="left")],
        "n_levels": [Interval(Integral, 1, None, closed="left")],
        "expert_units": UNITS_CONSTRAINT,
        "tower_units": UNITS_CONSTRAINT,
        "gate_temperature": [Interval(Real, 0, None, closed="neither")],
        "n_ensemble": ENSEMBLE_CONSTRAINT,
    }

    def module_parameters(self):
        if self.n_task_experts + self.n_shared_experts < 1:
            raise ValueError(
                "n_task_experts + n_shared_experts must be at least 1; got "
                f"n_task_experts={self.n_task_experts}, n_shared_experts={self.n_shared_experts}."
            )
        return super().module_parameters()

    def __init__(
        self,
        n_task_experts=2,
        *,
        n_shared_experts=2,
        n_levels=2,
        expert_units=(64,),
        tower_units=(32,),
        gate_temperature=1.0,
        n_ensemble="auto",
    ):
        set_init_parameters(self, locals())


class _PLEParameters:
    """The signature shared by the PLE estimators."""

    _architecture_class = PLE
    _parameter_constraints: dict = {
        **PLE._parameter_constraints,
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
class PLEClassifier(_PLEParameters, MultiTaskClassifier):
    """Progressive Layered Extraction (PLE) classifier.

    %(summary)s

    Parameters
    ----------
    %(ple_parameters)s

    %(ensemble_parameter)s

    %(training_parameters)s

    %(funnel_parameters)s

    Attributes
    ----------
    %(classifier_attributes)s

    See Also
    --------
    MMoEClassifier : All experts shared, one gate per task.

    References
    ----------
    %(references)s

    Examples
    --------
    >>> from sklearn_mtl import PLEClassifier
    >>> from sklearn_mtl.datasets import make_task_pair
    >>> X, Y = make_task_pair(500, correlation=0.9, target="binary", random_state=0)
    >>> model = PLEClassifier(max_epochs=5, random_state=0).fit(X, Y)
    >>> [proba.shape for proba in model.predict_proba(X[:3])]
    [(3, 2), (3, 2)]
    >>> model.predict(X[:3]).shape
    (3, 2)
    """


@fill_doc(_DOCS)
class PLERegressor(_PLEParameters, MultiTaskRegressor):
    """Progressive Layered Extraction (PLE) regressor.

    %(summary)s

    Regression targets are standardised per task for training and mapped
    back at prediction.

    Parameters
    ----------
    %(ple_parameters)s

    %(ensemble_parameter)s

    %(training_parameters)s

    %(funnel_parameters)s

    Attributes
    ----------
    %(regressor_attributes)s

    See Also
    --------
    MMoERegressor : All experts shared, one gate per task.

    References
    ----------
    %(references)s

    Examples
    --------
    >>> from sklearn_mtl import PLERegressor
    >>> from sklearn_mtl.datasets import make_task_pair
    >>> X, Y = make_task_pair(500, correlation=0.9, random_state=0)
    >>> model = PLERegressor(max_epochs=5, random_state=0).fit(X, Y)
    >>> model.predict(X[:3]).shape
    (3, 2)
    """
