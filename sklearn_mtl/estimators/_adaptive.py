"""Adaptive-sharing estimators: a trunk that branches by task affinity while it trains."""

from numbers import Integral, Real

from .. import nn
from .._training.branching import TopDownBranching
from .._training.options import FUNNEL_CONSTRAINTS, TRAINING_CONSTRAINTS
from ..nn.adaptive import check_branches
from ..nn.numeric import PERIODIC_SIGMA
from ..utils._sklearn import Interval, StrOptions
from ..weighting import weighting_names
from ._architecture import UNITS_CONSTRAINT, Architecture
from ._base import MultiTaskClassifier, MultiTaskRegressor, set_init_parameters
from ._docstrings import fill_doc
from ._network_docs import NETWORK_DOCS

_DOCS = {
    **NETWORK_DOCS,
    "summary": """\
    Fully-adaptive feature sharing [1]_: training starts from a thin MLP trunk
    that every task shares; every ``split_every`` epochs the next trunk
    layer, from the top down, splits into branches, each read by a group of
    tasks that find the same rows difficult (Lu et al.'s task affinity on the
    training rows, averaged over the epochs so far). A split
    costs ``branching_cost`` per new branch against ``branching_factor`` times
    the separation cost of grouping tasks that do not go together. The learnt
    tree is ``branches_``; draw it with :func:`sklearn_mtl.tasks.plot_branches`.""",
    "adaptive_parameters": """\
    units : tuple of int, default=(64, 64, 64)
        Widths of the trunk's layers, bottom first: the thin network that
        all tasks share before it branches. Each layer is split once.

    tower_units : tuple of int, default=(32,)
        Hidden widths of each task's tower on top of its trunk branch; ``()``
        gives a linear head (Lu et al.'s design; on the planted groups of
        ``benchmarks/task_groups.py`` towers of 16 units gave a test R^2 0.02
        higher).

    branching_cost : float, default=0.2
        Lu et al.'s ``L0``: the cost of each branch a split creates, on the
        scale of the separation cost (at most 1). Larger: fewer branches.

    branching_factor : float, default=1.0
        Lu et al.'s ``alpha``: the weight of the separation cost. Larger:
        more branches.

    split_every : int, default=5
        Epochs of training before each split; layer ``L - k`` of the ``L``
        trunk layers splits after epoch ``k * split_every``, and training goes
        on to ``max_epochs`` after the last split.

    thin_init : {"random", "somp"}, default="random"
        ``"somp"``: Lu et al.'s thin-model initialisation; a trunk four times
        wider is first trained for ``split_every`` epochs and each thin layer
        keeps the units that simultaneous orthogonal matching pursuit picks
        from it. ``"random"``: torch's default initialisation.""",
    "adaptive_attributes": """\
    branches_ : tuple of tuple of tuple of int
        The learnt tree: per trunk layer, bottom first, its branches, each
        the tasks (column indices of ``y``) that read it. A branch of layer
        ``l + 1`` reads the branch of layer ``l`` that holds its tasks.""",
    "references": """\
    .. [1] Y. Lu, A. Kumar, S. Zhai, Y. Cheng, T. Javidi and R. Feris,
       "Fully-adaptive Feature Sharing in Multi-Task Networks with Applications
       in Person Attribute Classification", CVPR 2017.""",
}


@fill_doc(_DOCS)
class AdaptiveSharing(Architecture):
    """The fully-adaptive branching network of Lu et al. [1]_, as a parameter object.

    A thin MLP trunk shared by every task, split from the top down while it
    trains. Give it to :class:`~sklearn_mtl.MultiTaskNet` as ``architecture``.

    Parameters
    ----------
    %(adaptive_parameters)s

    References
    ----------
    %(references)s
    """

    name = "adaptive"
    module = nn.AdaptiveSharingModule
    _parameter_constraints: dict = {
        "units": UNITS_CONSTRAINT,
        "tower_units": UNITS_CONSTRAINT,
        "branching_cost": [Interval(Real, 0, None, closed="left")],
        "branching_factor": [Interval(Real, 0, None, closed="left")],
        "split_every": [Interval(Integral, 1, None, closed="left")],
        "thin_init": [StrOptions({"random", "somp"})],
    }
    _module_parameters = ("units", "tower_units")

    def __init__(
        self,
        units=(64, 64, 64),
        *,
        tower_units=(32,),
        branching_cost=0.2,
        branching_factor=1.0,
        split_every=5,
        thin_init="random",
    ):
        set_init_parameters(self, locals())

    def module_parameters(self) -> dict:
        params = super().module_parameters()
        return {name: params[name] for name in self._module_parameters}

    def build(self, in_features, head_sizes, *, activation, dropout, branches=None):
        """The network; ``branches`` (a fitted tree) instead of the all-shared trunk."""
        self._validate_params()
        return self.module(
            in_features,
            head_sizes,
            **self.module_parameters(),
            branches=branches,
            activation=activation,
            dropout=dropout,
        )

    def fitted_build_arguments(self, estimator) -> dict:
        branches = getattr(estimator, "branches_", None)
        return {} if branches is None else {"branches": branches}

    def fitted_attributes(self, module) -> dict:
        return {"branches_": module.branches}

    def training_callbacks(self, state) -> list:
        self._validate_params()
        branching = TopDownBranching(
            self.branching_cost, self.branching_factor, self.split_every, self.thin_init
        )
        return [("top_down_branching", branching)]

    def check_training(self, options, weighting, accelerator) -> None:
        name = options.estimator_name
        if weighting.gradient_based:
            raise ValueError(
                f"{name} with the AdaptiveSharing architecture cannot train with "
                f"loss_weighting={options.loss_weighting!r}: a gradient-based weighting "
                "needs one shared layer, which branching splits. Use a loss-level weighting "
                f"({weighting_names(gradient_based=False)})."
            )
        if accelerator is not None:
            raise ValueError(
                f"{name} with the AdaptiveSharing architecture does not train data-parallel "
                "(a split replaces the network mid-fit); set accelerator=None."
            )

    def prepare_resume(self, net, history) -> None:
        from .._training.branching import grow

        branches = next((e["branches"] for e in reversed(history) if "branches" in e), None)
        model = net.module_.model
        if branches is not None:
            branches = check_branches(branches, len(model.head_sizes), len(model.units))
            if branches != model.branches:
                grow(net, branches)


class _AdaptiveSharingParameters:
    """The signature shared by the AdaptiveSharing estimators."""

    _architecture_class = AdaptiveSharing
    _parameter_constraints: dict = {
        **AdaptiveSharing._parameter_constraints,
        **TRAINING_CONSTRAINTS,
        **FUNNEL_CONSTRAINTS,
    }

    def __init__(
        self,
        units=(64, 64, 64),
        *,
        tower_units=(32,),
        branching_cost=0.2,
        branching_factor=1.0,
        split_every=5,
        thin_init="random",
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
class AdaptiveSharingClassifier(_AdaptiveSharingParameters, MultiTaskClassifier):
    """Fully-adaptive feature sharing classifier (Lu et al.'s branching network).

    %(summary)s

    Parameters
    ----------
    %(adaptive_parameters)s

    %(training_parameters)s

    %(funnel_parameters)s

    Attributes
    ----------
    %(adaptive_attributes)s

    %(classifier_attributes)s

    See Also
    --------
    SharedBottomClassifier : The same trunk, never split.
    sklearn_mtl.tasks.task_affinity : Task affinity without growing a network.

    References
    ----------
    %(references)s

    Examples
    --------
    >>> from sklearn_mtl import AdaptiveSharingClassifier
    >>> from sklearn_mtl.datasets import make_task_groups
    >>> X, Y = make_task_groups(400, n_groups=2, tasks_per_group=2, n_features=10,
    ...                         target="binary", random_state=0)
    >>> model = AdaptiveSharingClassifier(units=(16, 16), split_every=2, max_epochs=6,
    ...                                   random_state=0).fit(X, Y)
    >>> [proba.shape for proba in model.predict_proba(X[:3])]
    [(3, 2), (3, 2), (3, 2), (3, 2)]
    """


@fill_doc(_DOCS)
class AdaptiveSharingRegressor(_AdaptiveSharingParameters, MultiTaskRegressor):
    """Fully-adaptive feature sharing regressor (Lu et al.'s branching network).

    %(summary)s

    Regression targets are standardised per task for training and mapped
    back at prediction.

    Parameters
    ----------
    %(adaptive_parameters)s

    %(training_parameters)s

    %(funnel_parameters)s

    Attributes
    ----------
    %(adaptive_attributes)s

    %(regressor_attributes)s

    See Also
    --------
    SharedBottomRegressor : The same trunk, never split.
    sklearn_mtl.tasks.task_affinity : Task affinity without growing a network.

    References
    ----------
    %(references)s

    Examples
    --------
    >>> from sklearn_mtl import AdaptiveSharingRegressor
    >>> from sklearn_mtl.datasets import make_task_groups
    >>> X, Y = make_task_groups(400, n_groups=2, tasks_per_group=2, n_features=10,
    ...                         random_state=0)
    >>> model = AdaptiveSharingRegressor(units=(16, 16), split_every=2, max_epochs=6,
    ...                                  random_state=0).fit(X, Y)
    >>> model.predict(X[:3]).shape
    (3, 4)
    >>> len(model.branches_)  # one partition of the tasks per trunk layer
    2
    """
