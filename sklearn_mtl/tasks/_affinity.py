"""Which tasks should be trained together: task affinity and task grouping.

Two published measures of how much tasks help each other, each an
``(n_tasks, n_tasks)`` matrix:

- ``"lookahead"`` (Fifty et al., "Efficiently Identifying Task Groupings for
  Multi-Task Learning", NeurIPS 2021): during one joint training run, after
  each step, take a lookahead gradient step on task ``i``'s loss alone (on the
  shared layers) and see how task ``j``'s loss on the same batch changes:
  ``Z[i, j] = 1 - L_j(after the step on i) / L_j(before)``, averaged over the
  steps. Positive: training on ``i`` helps ``j``. It is not symmetric.
- ``"error_margin"`` (Lu et al., "Fully-adaptive Feature Sharing in Multi-Task
  Networks", CVPR 2017): from a trained model, a row is *difficult* for task
  ``i`` when its error margin is at least task ``i``'s mean margin;
  ``A[i, j] = P(e_i = e_j)``, the share of rows that tasks ``i`` and ``j``
  find equally easy or difficult. For an unfitted network of this package
  the affinity is the mean over the epochs of one training run
  (:class:`ErrorMarginAffinity`).

:func:`group_tasks` turns either matrix into groups of tasks, with Lu et al.'s
cost: ``group_cost * (n_groups - 1)`` plus the size-weighted separation cost
``sum_g |g| / T * (1 - branch affinity of g)``, where a group's branch
affinity is the mean over its tasks of their least affinity to another task
of the group ("mean of min"). :func:`plot_task_affinity` draws the matrix as a
heatmap with the tasks ordered by group.
"""

from __future__ import annotations

import itertools
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.utils.validation import check_is_fitted
from skorch.callbacks import Callback
from skorch.dataset import unpack_data
from skorch.utils import to_tensor

from ..utils._sklearn import Interval, StrOptions, validate_params

__all__ = ["ErrorMarginAffinity", "LookaheadAffinity", "margin_affinity", "task_affinity"]


class LookaheadAffinity(Callback):
    """A skorch callback recording the lookahead inter-task affinity during training.

    After every ``every``-th training step it takes, for each task ``i``, one
    gradient step of size ``lr`` on task ``i``'s loss alone on the parameters of
    the architecture's ``shared_representation()``, evaluates every task's loss
    on the same batch, and puts the shared parameters back exactly. The module
    is in evaluation mode meanwhile (no dropout), so the training run itself is
    the one it would be without the callback.

    Parameters
    ----------
    lr : float or None, default=None
        Size of the lookahead step; ``None`` takes the network's learning rate.
    every : int, default=1
        Record every ``every``-th training step.

    Attributes
    ----------
    affinity_ : ndarray of shape (n_tasks, n_tasks)
        ``Z[i, j]`` averaged over the recorded steps where task ``j`` had
        labels in the batch (``nan`` where it never had).
    n_steps_ : int
        Steps recorded.
    """

    def __init__(self, lr=None, every=1):
        self.lr = lr
        self.every = every

    def initialize(self):
        self.total_ = None
        self.counts_ = None
        self.seen_ = 0
        self.n_steps_ = 0
        return self

    def on_batch_end(self, net, batch=None, training=False, **kwargs):
        if not training:
            return
        self.seen_ += 1
        if (self.seen_ - 1) % self.every:
            return
        module = net.module_
        shared = [p for p in module.model.shared_representation().parameters() if p.requires_grad]
        if not shared:
            raise ValueError(
                "LookaheadAffinity needs a shared layer with parameters; this architecture's "
                "shared representation has none."
            )
        Xi, yi = unpack_data(batch)
        yi = to_tensor(yi, device=net.device)
        lr = net.lr if self.lr is None else self.lr
        was_training = module.training
        module.eval()
        try:
            with torch.enable_grad():
                before = net.get_task_losses(net.infer(Xi), yi, Xi)
            n_tasks = before.shape[0]
            # every task's gradient before any parameter moves (the graph holds the weights)
            task_grads = [
                torch.autograd.grad(before[i], shared, retain_graph=i < n_tasks - 1,
                                    allow_unused=True)
                for i in range(n_tasks)
            ]  # fmt: skip
            saved = [p.detach().clone() for p in shared]
            rows = []
            for grads in task_grads:
                with torch.no_grad():
                    for p, g in zip(shared, grads):
                        if g is not None:
                            p.sub_(lr * g)
                    after = net.get_task_losses(net.infer(Xi), yi, Xi)
                    for p, value in zip(shared, saved):
                        p.copy_(value)
                rows.append(1.0 - after / before.detach())
        finally:
            module.train(was_training)
        z = torch.stack(rows).double().cpu().numpy()  # (n_tasks, n_tasks)
        observed = np.isfinite(z) & (before.detach().cpu().numpy() > 0)[None, :]
        if self.total_ is None:
            self.total_ = np.zeros_like(z)
            self.counts_ = np.zeros_like(z)
        self.total_ += np.where(observed, z, 0.0)
        self.counts_ += observed
        self.n_steps_ += 1

    @property
    def affinity_(self) -> np.ndarray:
        if self.total_ is None:
            raise AttributeError("no training step was recorded")
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.total_ / self.counts_


class ErrorMarginAffinity(Callback):
    """A skorch callback recording Lu et al.'s error-margin affinity after every epoch.

    At the end of each epoch it computes every training row's error margin on
    every task under the current network (:func:`error_margins`) and the
    affinity ``P(e_i = e_j)`` of them (:func:`margin_affinity`). The mean over
    the epochs is steadier than the last epoch's alone: once a model fits
    well, its margins are mostly each task's own noise.

    Attributes
    ----------
    affinity_ : ndarray of shape (n_tasks, n_tasks)
        The mean over the recorded epochs.
    n_epochs_ : int
        Epochs recorded.
    """

    def initialize(self):
        self.total_ = None
        self.n_epochs_ = 0
        return self

    def on_epoch_end(self, net, dataset_train=None, **kwargs):
        if dataset_train is None:
            return
        affinity = margin_affinity(error_margins(net, dataset_train))
        affinity = np.nan_to_num(affinity, nan=0.0)
        self.total_ = affinity if self.total_ is None else self.total_ + affinity
        self.n_epochs_ += 1

    @property
    def affinity_(self) -> np.ndarray:
        if self.total_ is None:
            raise AttributeError("no epoch was recorded")
        return self.total_ / self.n_epochs_


def error_margins(net, dataset) -> np.ndarray:
    """Each row's error margin on each task under ``net``'s current network (NaN: no label).

    ``|t - P(class 1)|`` for a binary (or probabilistic) task, ``1 - P(true
    class)`` for a multi-class one, ``|t - prediction|`` (standardised) for
    regression; the network is in evaluation mode meanwhile.
    """
    losses = net.criterion_.task_loss
    module = net.module_
    training = module.training
    module.eval()
    margins, missing = [], []
    try:
        with torch.no_grad():
            for batch in net.get_iterator(dataset, training=False):
                Xi, yi = unpack_data(batch)
                logits = net.infer(Xi).double()
                target = to_tensor(yi, device=logits.device).double().reshape(len(logits), -1)
                columns, start = [], 0
                for t, (kind, size) in enumerate(zip(losses.task_losses, losses.head_sizes)):
                    head = logits[:, start : start + size]
                    start += size
                    if kind == "multiclass":
                        proba = torch.softmax(head, dim=1)
                        index = target[:, t].long().clamp(0, size - 1)[:, None]
                        columns.append(1.0 - proba.gather(1, index)[:, 0])
                    elif kind == "regression":
                        columns.append((target[:, t] - head[:, 0]).abs())
                    else:
                        columns.append((target[:, t] - torch.sigmoid(head[:, 0])).abs())
                margins.append(torch.stack(columns, dim=1).cpu())
                weight = Xi.get("sample_weight") if isinstance(Xi, dict) else None
                if weight is not None:
                    missing.append((weight <= 0).cpu())
    finally:
        module.train(training)
    margins = torch.cat(margins).numpy()
    if missing:
        margins[torch.cat(missing).numpy()] = np.nan
    return margins


@validate_params(
    {
        "X": ["array-like"],
        "y": ["array-like"],
        "method": [StrOptions({"lookahead", "error_margin"})],
        "lookahead_lr": [Interval(Real, 0, None, closed="neither"), None],
        "every": [Interval(Integral, 1, None, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
def task_affinity(estimator, X, y, *, method="lookahead", lookahead_lr=None, every=1):
    """How much the tasks of a multi-task problem help each other.

    Parameters
    ----------
    estimator : network estimator of this package
        ``"lookahead"``: an unfitted (or fitted) network; a clone of it is
        trained on ``X, y`` once, with :class:`LookaheadAffinity` recording.
        ``"error_margin"``: a classifier or regressor; a fitted one is used as
        it is (its margins on ``X, y``); an unfitted network of this package is
        cloned and trained on ``X, y`` with :class:`ErrorMarginAffinity`
        recording, and the affinity is the mean over its epochs; any other
        unfitted estimator is cloned and fitted first.
    X : array-like of shape (n_samples, n_features)
        Inputs.
    y : array-like of shape (n_samples, n_tasks)
        Targets; NaN marks a missing label, which no affinity counts.
    method : {"lookahead", "error_margin"}, default="lookahead"
        See the module's description.
    lookahead_lr : float or None, default=None
        Lookahead step size; ``None``: the estimator's ``lr``.
    every : int, default=1
        Record the lookahead every ``every``-th training step.

    Returns
    -------
    affinity : ndarray of shape (n_tasks, n_tasks)
        ``"lookahead"``: ``Z[i, j]``, the relative drop of task ``j``'s loss
        after a step on task ``i`` alone (row ``i`` helps column ``j``),
        diagonal included. ``"error_margin"``: ``P(e_i = e_j)``, symmetric, in
        [0, 1], ones on the diagonal.

    Examples
    --------
    >>> from sklearn_mtl import SharedBottomRegressor
    >>> from sklearn_mtl.datasets import make_task_groups
    >>> from sklearn_mtl.tasks import group_tasks, task_affinity
    >>> X, Y = make_task_groups(600, n_groups=2, tasks_per_group=2, n_features=10,
    ...                         random_state=0)
    >>> model = SharedBottomRegressor(bottom_units=(16,), max_epochs=3, random_state=0)
    >>> task_affinity(model, X, Y).shape
    (4, 4)
    """
    network = "callbacks" in estimator.get_params() and hasattr(estimator, "_architecture")
    if method == "lookahead":
        if not network:
            raise TypeError(
                "task_affinity(method='lookahead') trains one of this package's networks; got "
                f"{type(estimator).__name__}. Use method='error_margin' for other estimators."
            )
        return _recorded(estimator, X, y, LookaheadAffinity(lr=lookahead_lr, every=every))
    if network and not _is_fitted(estimator):
        return _recorded(estimator, X, y, ErrorMarginAffinity())
    return _error_margin_affinity(estimator, X, y)


def _is_fitted(estimator) -> bool:
    try:
        check_is_fitted(estimator)
    except Exception:  # NotFittedError, or an estimator sklearn cannot check
        return False
    return True


def _recorded(estimator, X, y, recorder) -> np.ndarray:
    """Train a clone of ``estimator`` on ``X, y`` with ``recorder``; its ``affinity_``."""
    model = clone(estimator)
    callbacks = list(model.get_params().get("callbacks") or [])
    model.set_params(callbacks=[*callbacks, ("affinity_recorder", recorder)])
    model.fit(X, y)
    return _recorder(model).affinity_


def _recorder(model) -> Callback:
    for name, callback in model.net_.callbacks_:
        if name == "affinity_recorder":
            return callback
    raise RuntimeError("the lookahead recorder was not among the fitted net's callbacks")


def _error_margins(estimator, X, y: np.ndarray) -> np.ndarray:
    """Each row's error margin on each task: 1 - p(true class), or |y - prediction|."""
    if is_classifier(estimator):
        probas = estimator.predict_proba(X)
        classes = estimator.classes_
        if not isinstance(probas, list):  # one task
            probas, classes = [probas], [classes]
        margins = np.full(y.shape, np.nan)
        for t, (proba, labels) in enumerate(zip(probas, classes)):
            observed = ~_missing(y[:, t])
            index = np.searchsorted(labels, y[observed, t].astype(labels.dtype))
            margins[observed, t] = 1.0 - proba[observed, index]
        return margins
    if is_regressor(estimator):
        prediction = np.asarray(estimator.predict(X), dtype=float).reshape(y.shape)
        return np.abs(y.astype(float) - prediction)
    raise TypeError(
        f"task_affinity(method='error_margin') needs a classifier or a regressor; got "
        f"{type(estimator).__name__}."
    )


def _missing(column: np.ndarray) -> np.ndarray:
    if column.dtype.kind == "f":
        return np.isnan(column)
    if column.dtype.kind == "O":
        return np.array([v is None or (isinstance(v, float) and np.isnan(v)) for v in column])
    return np.zeros(column.shape, dtype=bool)


def _error_margin_affinity(estimator, X, y) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 2:
        raise ValueError(f"y must have shape (n_samples, n_tasks); got {y.shape}.")
    model = estimator if _is_fitted(estimator) else clone(estimator).fit(X, y)
    return margin_affinity(_error_margins(model, X, y))


def margin_affinity(margins: np.ndarray) -> np.ndarray:
    """Lu et al.'s ``A[i, j] = P(e_i = e_j)`` from error margins (NaN: no label).

    Row ``n`` is difficult for task ``i`` (``e_i = 1``) when its margin is at
    least task ``i``'s mean margin; a pair counts the rows labelled for both.
    """
    observed = np.isfinite(margins)
    n_tasks = margins.shape[1]
    means = np.array(
        [margins[observed[:, t], t].mean() if observed[:, t].any() else np.nan
         for t in range(n_tasks)]
    )  # fmt: skip
    difficult = margins >= means
    affinity = np.ones((n_tasks, n_tasks))
    for i, j in itertools.combinations(range(n_tasks), 2):
        both = observed[:, i] & observed[:, j]
        value = np.mean(difficult[both, i] == difficult[both, j]) if both.any() else np.nan
        affinity[i, j] = affinity[j, i] = value
    return affinity
