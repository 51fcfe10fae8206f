"""Fully-adaptive feature sharing while training (Lu et al., CVPR 2017).

:class:`TopDownBranching` is the skorch callback that grows an
:class:`~sklearn_mtl.nn.AdaptiveSharingModule` network during ``fit``: every
``split_every`` epochs it takes the next trunk layer, from the top down, and
splits each of its branches into groups of the branches above it (of the
tasks, at the top layer). A group is chosen to minimise Lu et al.'s loss

``L(g_d) = (d - 1) * branching_cost + branching_factor * L_s(g_d)``,

over the ``d`` groups ``g_d`` of a branch's children, where the separation
cost ``L_s`` adds, over the new branches, ``1 - b`` weighted by the branch's
share of the tasks, ``b`` being Lu et al.'s branch affinity (the mean over the
branch's tasks of their least affinity to another of its tasks). Lu et al.
average ``1 - b`` over the new branches instead; that mean falls whenever a
lone task is split off (its separation is 0 and ``d`` grows). Replayed on the
per-epoch affinities of five unsplit networks on the planted groups of
``benchmarks/task_groups.py`` (with towers of 16 units and without), their
mean recovered the groups on all five seeds only at ``branching_cost`` 0.15
and 0.2 with towers, and at no cost from 0.1 to 0.3 without; the
task-weighted sum recovered them on all five at every cost from 0.15 to 0.3,
both ways (the default, 0.2, is the middle of that range). The task affinity is
Lu et al.'s ``A(i, j) = P(e_i = e_j)`` on the training rows, from the
network's error margins (:func:`sklearn_mtl.tasks.margin_affinity`) after
every epoch up to the split, averaged (one epoch's margins are noisy), and
min-max scaled over the task pairs (:func:`split_layer` says why). Each new
branch starts as a copy of the one it splits from, its optimizer state
included, so a split changes nothing until training moves the copies
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

from ..nn.adaptive import AdaptiveSharingModule, Branches, check_branches
from ..tasks._affinity import error_margins, margin_affinity
from ..tasks._grouping import best_partition, branch_affinity, scaled_symmetric

SOMP_WIDTH_FACTOR = 4
"""How much wider than the thin trunk the network is that ``thin_init="somp"`` trains."""


def split_children(affinity, children, branching_cost: float, branching_factor: float):
    """The groups of ``children`` (each a tuple of tasks) of least splitting loss.

    ``(d - 1) * branching_cost + branching_factor * sum_g |g| / n (1 - b(g))``
    over the ``d`` groups, ``|g|`` counting tasks (``n`` in all) and ``b`` the
    mean over a group's tasks of their least affinity to another of its tasks
    (Lu et al.'s mean of min; 0 separation for a lone task).
    """
    if len(children) == 1:
        return [[0]]
    n_tasks = sum(len(child) for child in children)

    def loss(partition):
        separation = 0.0
        for group in partition:
            tasks = [t for k in group for t in children[k]]
            if len(tasks) > 1:
                separation += len(tasks) * (1.0 - branch_affinity(affinity, tasks, "min"))
        return (len(partition) - 1) * branching_cost + branching_factor * separation / n_tasks

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
    affinity = scaled_symmetric(np.asarray(affinity, dtype=float))
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
    """Split an ``AdaptiveSharingModule`` network's trunk from the top down during training.

    Parameters
    ----------
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
        the affinities of every epoch up to it (each epoch's is in the history
        as ``"task_affinity"``, each split's as ``"split_affinity"``).
    """

    def __init__(self, branching_cost, branching_factor, split_every, thin_init="random"):
        self.branching_cost = branching_cost
        self.branching_factor = branching_factor
        self.split_every = split_every
        self.thin_init = thin_init

    def initialize(self):
        self.affinities_ = {}
        return self

    def on_epoch_begin(self, net, dataset_train=None, **kwargs):
        # the first epoch of a new fit, on its training rows (not the validation split)
        if self.thin_init == "somp" and len(net.history) == 1 and dataset_train is not None:
            somp_initialize(net, dataset_train, epochs=self.split_every)

    def on_epoch_end(self, net, dataset_train=None, **kwargs):
        model = net.module_.model
        n_layers = len(model.units)
        epoch = len(net.history)
        if epoch <= n_layers * self.split_every and dataset_train is not None:
            # every epoch up to a split votes (one epoch's margins are noisy); the
            # votes live in the history, so a fit resumed from a checkpoint has them
            affinity = margin_affinity(error_margins(net, dataset_train))
            net.history.record("task_affinity", np.nan_to_num(affinity, nan=0.0).tolist())
        done, rest = divmod(epoch, self.split_every)
        if not rest and 1 <= done <= n_layers:
            votes = [e["task_affinity"] for e in net.history if "task_affinity" in e]
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
    """Lu et al.'s thin-model initialisation of ``net``'s all-shared ``AdaptiveSharingModule``.

    A copy of the network ``SOMP_WIDTH_FACTOR`` times wider (its own copy of
    the input layer) is trained with Adam for ``epochs`` epochs; then, layer
    by layer from the bottom, :func:`somp` picks the units of the wide layer
    (restricted to the inputs already kept) that the thin layer keeps, and the
    towers read the kept top units.
    """
    thin = net.module_.model
    wide_model = AdaptiveSharingModule(
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
