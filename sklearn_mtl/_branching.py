"""Fully-adaptive feature sharing while training (Lu et al., CVPR 2017).

:class:`TopDownBranching` is the skorch callback that grows an
:class:`~sklearn_mtl.nn.AdaptiveSharing` network during ``fit``: every
``split_every`` epochs it takes the next trunk layer, from the top down, and
splits each of its branches into groups of the branches above it (of the
tasks, at the top layer). A group is chosen to minimise Lu et al.'s loss

``L(g_d) = (d - 1) * branching_cost + branching_factor * L_s(g_d)``,

over the ``d`` groups ``g_d`` of a branch's ``c`` children, where the
separation cost ``L_s`` is the mean over the new branches of
``1 - mean_k min_l A_b(k, l)`` (``k, l`` children in the same new branch), and
the branch affinity ``A_b(k, l)`` averages, both ways, the mean over ``k``'s
tasks of their least task affinity to ``l``'s tasks. The task affinity is
Lu et al.'s ``A(i, j) = P(e_i = e_j)`` on the training rows, from the
current network's error margins (:func:`sklearn_mtl.tasks.margin_affinity`),
min-max scaled over the task pairs (:func:`split_layer` says why).
Each new branch starts as a copy of the one it splits from, its optimizer
state included, so a split changes nothing until training moves the copies
apart. An MLP has no pooling, so Lu et al.'s ``2^p_l`` is 1.

``thin_init="somp"`` is the paper's thin-model initialisation: a network
``SOMP_WIDTH_FACTOR`` times wider is trained for ``split_every`` epochs, and
each thin layer keeps the units that simultaneous orthogonal matching
pursuit (:func:`somp`) picks to span the wide layer's units.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping

import numpy as np
import torch
from skorch.callbacks import Callback, EarlyStopping
from skorch.dataset import unpack_data
from skorch.utils import to_tensor

from .nn.adaptive import AdaptiveSharing, Branches, check_branches
from .tasks import _scaled_symmetric, best_partition, margin_affinity

SOMP_WIDTH_FACTOR = 4
"""How much wider than the thin trunk the network is that ``thin_init="somp"`` trains."""


def child_affinity(affinity: np.ndarray, children) -> np.ndarray:
    """Lu et al.'s branch affinity ``A_b(k, l)`` between groups of tasks, diagonal included."""
    n = len(children)
    one_way = np.empty((n, n))
    for k, tasks_k in enumerate(children):
        for m, tasks_m in enumerate(children):
            one_way[k, m] = affinity[np.ix_(tasks_k, tasks_m)].min(axis=1).mean()
    return (one_way + one_way.T) / 2


def split_children(affinity, children, branching_cost: float, branching_factor: float):
    """The groups of ``children`` (each a tuple of tasks) of least Lu et al. loss."""
    if len(children) == 1:
        return [[0]]
    between = child_affinity(affinity, children)

    def loss(partition):
        separation = np.mean([1.0 - between[np.ix_(g, g)].min(axis=1).mean() for g in partition])
        return (len(partition) - 1) * branching_cost + branching_factor * separation

    return best_partition(len(children), loss)


def split_layer(branches: Branches, depth: int, affinity, branching_cost, branching_factor):
    """``branches`` with layer ``depth`` split by the children above it (the tasks at the top).

    ``affinity`` is made symmetric and scaled to [0, 1] over its off-diagonal
    entries, as :func:`~sklearn_mtl.tasks.group_tasks` does, with ones on the
    diagonal: Lu et al.'s ``P(e_i = e_j)`` sits near its chance level (about
    0.5) for unrelated and related tasks alike, and the costs are on the scale
    of a separation cost in [0, 1].
    """
    n_tasks = len(affinity)
    if n_tasks == 1:
        return branches  # one task: nothing to split
    affinity = _scaled_symmetric(np.asarray(affinity, dtype=float))
    np.fill_diagonal(affinity, 1.0)
    children = (
        [(t,) for t in range(n_tasks)] if depth == len(branches) - 1 else list(branches[depth + 1])
    )
    layer = []
    for parent in branches[depth]:
        inside = [child for child in children if set(child) <= set(parent)]
        groups = split_children(affinity, inside, branching_cost, branching_factor)
        layer += [tuple(sorted(t for k in group for t in inside[k])) for group in groups]
    layer = tuple(sorted(layer, key=min))
    return check_branches(branches[:depth] + (layer,) + branches[depth + 1 :], n_tasks,
                          len(branches))  # fmt: skip


def somp(atoms: np.ndarray, k: int) -> list[int]:
    """Simultaneous orthogonal matching pursuit: ``k`` rows of ``atoms`` that span the rest.

    Each step picks the row whose direction has the largest summed absolute
    correlation with the residuals of all rows, then projects it out.
    """
    atoms = np.asarray(atoms, dtype=np.float64)
    norms = np.linalg.norm(atoms, axis=1)
    directions = atoms / np.where(norms > 0, norms, 1.0)[:, None]
    residual = atoms.T.copy()  # (dim, n_signals): every row is a signal to explain
    chosen: list[int] = []
    basis = np.zeros((atoms.shape[1], 0))
    for _ in range(min(k, len(atoms))):
        score = np.abs(directions @ residual).sum(axis=1)
        score[chosen] = -np.inf
        pick = int(np.argmax(score))
        chosen.append(pick)
        vector = atoms[pick] - basis @ (basis.T @ atoms[pick])
        norm = np.linalg.norm(vector)
        if norm > 1e-12:
            basis = np.column_stack([basis, vector / norm])
        residual = residual - basis @ (basis.T @ residual)
    return sorted(chosen)


class TopDownBranching(Callback):
    """Split an ``AdaptiveSharing`` network's trunk from the top down during training.

    Parameters
    ----------
    tasks : list of TaskEncoder
        The fit's tasks (they turn the outputs into error margins).
    branching_cost : float
        Lu et al.'s ``L0``: the cost of each new branch.
    branching_factor : float
        Lu et al.'s ``alpha``: the weight of the separation cost.
    split_every : int
        Epochs between two splits; layer ``L - k`` (of ``L``) is split after
        epoch ``k * split_every``.
    thin_init : {"random", "somp"}
        The initialisation of the thin trunk (see the module's description).

    Attributes
    ----------
    affinities_ : dict of int to ndarray
        The task affinity each split used, by the layer it split: the mean of
        the affinities of the ``split_every`` epochs before it (each epoch's
        is in the history as ``"task_affinity"``, each split's as
        ``"split_affinity"``).
    """

    def __init__(self, tasks, branching_cost, branching_factor, split_every, thin_init="random"):
        self.tasks = tasks
        self.branching_cost = branching_cost
        self.branching_factor = branching_factor
        self.split_every = split_every
        self.thin_init = thin_init

    def initialize(self):
        self.affinities_ = {}
        return self

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        if self.thin_init == "somp" and not len(net.history) and X is not None:
            somp_initialize(net, X, epochs=self.split_every)

    def on_epoch_end(self, net, dataset_train=None, **kwargs):
        model = net.module_.model
        n_layers = len(model.units)
        epoch = len(net.history)
        if epoch <= n_layers * self.split_every and dataset_train is not None:
            # every epoch before a split votes (one epoch's margins are noisy); the
            # votes live in the history, so a fit resumed from a checkpoint has them
            affinity = margin_affinity(error_margins(net, dataset_train, self.tasks))
            net.history.record("task_affinity", np.nan_to_num(affinity, nan=0.0).tolist())
        done, rest = divmod(epoch, self.split_every)
        if not rest and 1 <= done <= n_layers:
            votes = [e["task_affinity"] for e in net.history[-self.split_every :]
                     if "task_affinity" in e]  # fmt: skip
            if votes:
                depth = n_layers - done
                affinity = np.mean(votes, axis=0)
                self.affinities_[depth] = affinity
                net.history.record("split_affinity", affinity.tolist())
                branches = split_layer(
                    model.branches, depth, affinity, self.branching_cost, self.branching_factor
                )
                if branches != model.branches:
                    grow(net, branches)
        net.history.record("branches", as_lists(net.module_.model.branches))


def as_lists(branches: Branches) -> list:
    return [[list(group) for group in layer] for layer in branches]


def error_margins(net, dataset, tasks) -> np.ndarray:
    """Each row's error margin on each task under the current network (NaN: no label).

    ``|t - P(class 1)|`` for a binary task, ``1 - P(true class)`` for a
    multi-class one, ``|t - prediction|`` (standardised) for regression.
    """
    module = net.module_
    training = module.training
    module.eval()
    outputs, targets, weights = [], [], []
    try:
        with torch.no_grad():
            for batch in net.get_iterator(dataset, training=False):
                Xi, yi = unpack_data(batch)
                outputs.append(net.infer(Xi).double().cpu())
                targets.append(to_tensor(yi, device="cpu").double())
                if isinstance(Xi, Mapping) and Xi.get("sample_weight") is not None:
                    weights.append(Xi["sample_weight"].double().cpu())
    finally:
        module.train(training)
    logits = torch.cat(outputs).numpy()
    target = torch.cat(targets).numpy().reshape(len(logits), -1)
    margins = np.empty(target.shape)
    start = 0
    for t, task in enumerate(tasks):
        head = logits[:, start : start + task.head_size]
        start += task.head_size
        proba = task.proba(head)
        if proba is None:
            margins[:, t] = np.abs(target[:, t] - head[:, 0])
        elif proba.shape[1] > 2 or task.kind == "multiclass":
            index = np.clip(target[:, t].astype(int), 0, proba.shape[1] - 1)
            margins[:, t] = 1.0 - proba[np.arange(len(proba)), index]
        else:
            margins[:, t] = np.abs(target[:, t] - proba[:, 1])
    if weights:
        margins[torch.cat(weights).numpy() <= 0] = np.nan
    return margins


def grow(net, branches: Branches) -> None:
    """Replace ``net``'s network by its grown copy, in place for the optimizer and callbacks.

    The optimizer keeps its identity (a learning-rate scheduler holds it):
    its parameter groups get the new parameters and each new parameter the
    state of the one it copies. An ``EarlyStopping`` callback's best weights
    are grown the same way, so that loading them fits the grown network.
    """
    old = net.module_.model
    new = old.grown(branches)
    new.train(old.training)
    sources = new.parameter_sources(old)
    old_parameters = dict(old.named_parameters())
    new_parameters = dict(new.named_parameters())
    old_names = {id(p): name for name, p in old_parameters.items()}
    optimizer = net.optimizer_
    for group in optimizer.param_groups:
        held = {old_names[id(p)] for p in group["params"] if id(p) in old_names}
        if held:
            group["params"] = [p for p in group["params"] if id(p) not in old_names] + [
                p for name, p in new_parameters.items() if sources[name] in held
            ]
    for name, parameter in new_parameters.items():
        state = optimizer.state.get(old_parameters[sources[name]])
        if state:
            optimizer.state[parameter] = {
                key: value.clone() if torch.is_tensor(value) else copy.copy(value)
                for key, value in state.items()
            }
    for parameter in old_parameters.values():
        optimizer.state.pop(parameter, None)
    for _, callback in net.callbacks_:
        best = getattr(callback, "best_model_weights_", None)
        if isinstance(callback, EarlyStopping) and best is not None:
            callback.best_model_weights_ = _grown_weights(net.module_, best, branches)
    net.module_.model = new
    net.__dict__.pop("_compiled", None)  # a compiled forward of the old structure


def _grown_weights(module, weights: dict, branches: Branches) -> dict:
    """A state dict of ``module`` (before growing), grown to ``branches``."""
    before = copy.deepcopy(module)
    before.load_state_dict(weights)
    before.model = before.model.grown(branches)
    return before.state_dict()


def somp_initialize(net, dataset, epochs: int) -> None:
    """Lu et al.'s thin-model initialisation of ``net``'s all-shared ``AdaptiveSharing``.

    A copy of the network ``SOMP_WIDTH_FACTOR`` times wider (its own copy of
    the input layer) is trained with Adam for ``epochs`` epochs; then, layer
    by layer from the bottom, :func:`somp` picks the units of the wide layer
    (restricted to the inputs already kept) that the thin layer keeps, and the
    towers read the kept top units.
    """
    thin = net.module_.model
    wide_model = AdaptiveSharing(
        thin.in_features, thin.head_sizes, [u * SOMP_WIDTH_FACTOR for u in thin.units],
        None, thin.tower_units, thin.activation, thin.dropout_rate,
    )  # fmt: skip
    wide = copy.deepcopy(net.module_)
    wide.model = wide_model.to(next(thin.parameters()).device)
    optimizer = torch.optim.Adam(wide.parameters(), lr=net.lr)
    wide.train()
    for _ in range(epochs):
        for batch in net.get_iterator(dataset, training=True):
            Xi, yi = unpack_data(batch)
            x = Xi["X"] if isinstance(Xi, Mapping) else Xi
            logits = wide(to_tensor(x, device=net.device))
            loss = net.get_task_losses(logits, to_tensor(yi, device=net.device), Xi).sum()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    with torch.no_grad():
        kept = torch.arange(thin.in_features)
        for wide_layer, thin_layer, units in zip(wide_model.layers, thin.layers, thin.units):
            weight = wide_layer[0].weight[:, kept]
            chosen = torch.as_tensor(somp(weight.cpu().numpy(), units), device=weight.device)
            thin_layer[0].weight.copy_(weight[chosen])
            thin_layer[0].bias.copy_(wide_layer[0].bias[chosen])
            kept = chosen
        for wide_tower, thin_tower in zip(wide_model.towers.towers, thin.towers.towers):
            linears = [m for m in wide_tower.modules() if isinstance(m, torch.nn.Linear)]
            thin_linears = [m for m in thin_tower.modules() if isinstance(m, torch.nn.Linear)]
            thin_linears[0].weight.copy_(linears[0].weight[:, kept])
            thin_linears[0].bias.copy_(linears[0].bias)
            for source, target in zip(linears[1:], thin_linears[1:]):
                target.load_state_dict(source.state_dict())
        net.module_.input_layer.load_state_dict(wide.input_layer.state_dict())
