"""AdaptiveSharing estimators: top-down branching while training (Lu et al., CVPR 2017).

The contract every network passes (sklearn's checks, save/load, partial_fit,
export, ...) runs over these estimators through ``tests/_settings.py``; this
file tests what is particular to branching.
"""

import copy
import json
import zipfile

import matplotlib
import numpy as np
import pytest
import torch
from sklearn.metrics import adjusted_rand_score
from skorch.callbacks import Callback, Checkpoint

from sklearn_mtl import (
    AdaptiveSharingClassifier,
    AdaptiveSharingRegressor,
    MultiTaskNet,
    load,
    save,
)
from sklearn_mtl._training.branching import grow, somp, split_children, split_layer
from sklearn_mtl.architectures import AdaptiveSharing
from sklearn_mtl.datasets import make_task_groups
from sklearn_mtl.persistence import ModelFileError
from sklearn_mtl.tasks import plot_branches
from tests._callbacks import InterruptAt

matplotlib.use("Agg")

SMALL = {"units": (16, 8), "batch_size": 64, "lr": 1e-2, "split_every": 2}


def _labels(layer, n_tasks):
    labels = np.empty(n_tasks, dtype=int)
    for index, group in enumerate(layer):
        labels[list(group)] = index
    return labels


@pytest.fixture(scope="module")
def groups():
    return make_task_groups(600, n_groups=2, tasks_per_group=2, n_features=8, random_state=0)


# ------------------------------------------------------------ recovery of planted groups


def test_the_network_recovers_planted_groups():
    """Within-group correlation 0.9, between 0: ARI >= 0.9 on each of 5 seeds, both layers.

    The same planted data as the affinity recovery test (3 groups of 3 tasks,
    3000 rows, 20 features); the network branches its top layer after epoch 5
    and its bottom layer after epoch 10.
    """
    truth = np.arange(9) // 3
    for seed in range(5):
        X, Y = make_task_groups(3000, n_groups=3, tasks_per_group=3, n_features=20,
                                random_state=seed)  # fmt: skip
        model = AdaptiveSharingRegressor(units=(32, 32), split_every=5, max_epochs=10,
                                         batch_size=512, lr=3e-3, random_state=seed)  # fmt: skip
        model.fit(X, Y)
        for layer in model.branches_:
            assert adjusted_rand_score(truth, _labels(layer, 9)) >= 0.9, (seed, model.branches_)


def test_tasks_that_all_go_together_are_not_split_by_a_high_branching_cost():
    X, Y = make_task_groups(600, n_groups=1, tasks_per_group=4, n_features=8, random_state=0)
    model = AdaptiveSharingRegressor(**SMALL, max_epochs=4, branching_cost=2.0, random_state=0)
    assert model.fit(X, Y).branches_ == (((0, 1, 2, 3),), ((0, 1, 2, 3),))


# ------------------------------------------------------------ the split itself


def test_the_split_by_hand():
    A = np.array([[1, 0.9, 0.1, 0.2], [0.9, 1, 0.3, 0.1], [0.1, 0.3, 1, 0.8],
                  [0.2, 0.1, 0.8, 1]])  # fmt: skip
    # scaled to [0, 1] over the pairs: 0.9 -> 1, 0.8 -> 0.875, the rest <= 0.25. Two branches
    # cost 0.1 + (2 (1 - 1) + 2 (1 - 0.875)) / 4 = 0.1625; one costs 1 (every task's least
    # affinity to another is 0); four cost 3 * 0.1 = 0.3.
    shared = (((0, 1, 2, 3),), ((0, 1, 2, 3),))
    top = split_layer(shared, 1, A, 0.1, 1.0)
    assert top == (((0, 1, 2, 3),), ((0, 1), (2, 3)))
    # the layer below groups the branches above it: split too at this cost
    assert split_layer(top, 0, A, 0.1, 1.0) == (((0, 1), (2, 3)), ((0, 1), (2, 3)))
    # a high branching cost keeps one branch; a high factor splits 2 and 3 apart too, but
    # not 0 and 1, whose affinity is the highest (scaled to 1: nothing to gain by a split)
    assert split_layer(top, 0, A, 5.0, 1.0) == top
    assert split_layer(shared, 1, A, 0.01, 100.0)[1] == ((0, 1), (2,), (3,))
    assert split_children(A, [(0,), (1,)], 0.5, 1.0) == [[0, 1]]  # 0.1 < 0.5


def test_a_split_changes_nothing_until_training_moves_the_copies(groups):
    """grow() keeps the function, the optimizer object and each copied parameter's state."""
    X, Y = groups
    model = AdaptiveSharingRegressor(**{**SMALL, "split_every": 50}, max_epochs=1,
                                     random_state=0).fit(X, Y)  # fmt: skip
    net = model.net_
    before = model.predict(X)
    optimizer = net.optimizer_
    old_state = {name: optimizer.state[p]["exp_avg"].clone()
                 for name, p in net.module_.model.named_parameters()}  # fmt: skip
    grow(net, (((0, 1), (2, 3)), ((0,), (1,), (2, 3))))
    assert net.optimizer_ is optimizer
    np.testing.assert_array_equal(model.predict(X), before)
    model_parameters = set(net.module_.model.parameters())
    held = [p for group in optimizer.param_groups for p in group["params"]]
    assert model_parameters <= set(held) and len(held) == len(set(held))
    assert not [p for p in optimizer.state if p not in set(held)]  # no stale state
    sources = net.module_.model.parameter_sources(
        type(net.module_.model)(8, [1] * 4, (16, 8), tower_units=())
    )
    for name, p in net.module_.model.named_parameters():
        torch.testing.assert_close(optimizer.state[p]["exp_avg"], old_state[sources[name]])
    model.partial_fit(X, Y)  # and it trains on
    assert model.branches_ == (((0, 1), (2, 3)), ((0,), (1,), (2, 3)))


def test_splits_follow_the_schedule_and_are_recorded(groups):
    X, Y = groups
    model = AdaptiveSharingRegressor(**SMALL, max_epochs=5, random_state=0).fit(X, Y)
    history = model.net_.history
    split = [i + 1 for i, epoch in enumerate(history) if "split_affinity" in epoch]
    assert split == [2, 4]  # top layer after 2 epochs, bottom after 4
    assert [len(epoch["branches"]) for epoch in history] == [2] * 5
    assert history[-1]["branches"] == [list(map(list, layer)) for layer in model.branches_]
    affinity = np.array(history[1]["split_affinity"])
    votes = np.mean([history[0]["task_affinity"], history[1]["task_affinity"]], axis=0)
    np.testing.assert_allclose(affinity, votes)
    assert np.all((affinity >= 0) & (affinity <= 1)) and np.allclose(np.diag(affinity), 1)


def test_warm_start_continues_the_schedule(groups):
    X, Y = groups
    model = AdaptiveSharingRegressor(**SMALL, max_epochs=2, warm_start=True, random_state=0)
    model.fit(X, Y)
    assert "split_affinity" in model.net_.history[-1]  # the top layer split at epoch 2
    model.fit(X, Y)
    assert sum("split_affinity" in e for e in model.net_.history) == 2


def test_missing_labels_are_no_votes():
    X, Y = make_task_groups(400, 2, 2, n_features=8, random_state=1)
    Y = Y.copy()
    Y[::3, 1] = np.nan
    model = AdaptiveSharingRegressor(**SMALL, max_epochs=2, random_state=0).fit(X, Y)
    affinity = np.array(model.net_.history[-1]["split_affinity"])
    assert np.isfinite(affinity).all() and np.isfinite(model.predict(X)).all()


def test_a_classifier_branches_with_binary_tasks():
    X, Y = make_task_groups(600, 2, 2, n_features=8, target="binary", random_state=0)
    model = AdaptiveSharingClassifier(**SMALL, max_epochs=4, random_state=0).fit(X, Y)
    assert len(model.branches_) == 2
    probas = model.predict_proba(X)
    assert all(p.shape == (600, 2) and np.all((p >= 0) & (p <= 1)) for p in probas)


def test_one_task_has_nothing_to_split():
    X, Y = make_task_groups(200, 1, 2, n_features=6, random_state=0)
    model = AdaptiveSharingRegressor(**SMALL, max_epochs=4, random_state=0).fit(X, Y[:, 0])
    assert model.branches_ == (((0,),), ((0,),))
    assert model.predict(X).shape == (200,)


def test_early_stopping_best_weights_are_grown_with_the_network(groups):
    """The best epoch may come before a split: its weights are grown to the new tree."""
    X, Y = groups
    model = AdaptiveSharingRegressor(**{**SMALL, "split_every": 50}, max_epochs=3,
                                     early_stopping=True, random_state=0).fit(X, Y)  # fmt: skip
    net = model.net_
    stopper = dict(net.callbacks_)["early_stopping"]
    net.module_.load_state_dict(stopper.best_model_weights_)
    best = model.predict(X)
    grow(net, (((0, 1, 2, 3),), ((0, 1), (2, 3))))
    net.module_.load_state_dict(stopper.best_model_weights_)  # fits the grown network
    np.testing.assert_array_equal(model.predict(X), best)


def test_early_stopping_with_splits_ends_on_a_consistent_tree(groups):
    X, Y = groups
    model = AdaptiveSharingRegressor(**{**SMALL, "split_every": 1, "lr": 0.1}, max_epochs=30,
                                     early_stopping=True, n_iter_no_change=2,
                                     random_state=0).fit(X, Y)  # fmt: skip
    assert model.n_iter_ < 30
    assert model.net_.module_.model.branches == model.branches_
    assert model.net_.history[-1]["branches"] == [list(map(list, g)) for g in model.branches_]


def test_resuming_from_a_checkpoint_after_a_split_gives_the_uninterrupted_fit(groups, tmp_path):
    X, Y = groups

    def model(*callbacks):
        checkpoint = Checkpoint(dirname=str(tmp_path / "checkpoint"), monitor=None)
        return AdaptiveSharingRegressor(**SMALL, max_epochs=6, random_state=0,
                                        callbacks=[checkpoint, *callbacks])  # fmt: skip

    uninterrupted = AdaptiveSharingRegressor(**SMALL, max_epochs=6, random_state=0).fit(X, Y)
    with pytest.warns(UserWarning, match="interrupted during epoch 4"):
        model(InterruptAt(epoch=4)).fit(X, Y)  # the checkpoint holds epoch 3, after a split
    resumed = model().fit(X, Y, resume_from=tmp_path / "checkpoint")
    assert resumed.branches_ == uninterrupted.branches_
    np.testing.assert_array_equal(resumed.predict(X), uninterrupted.predict(X))


def test_multitasknet_takes_the_architecture(groups):
    X, Y = groups
    model = MultiTaskNet(AdaptiveSharing(units=(16, 8), split_every=1), max_epochs=3,
                         random_state=0).fit(X, Y)  # fmt: skip
    assert len(model.branches_) == 2 and model.predict(X).shape == Y.shape


@pytest.mark.parametrize("weighting", ["mgda", "gradnorm"])
def test_gradient_based_weightings_are_refused_by_name(groups, weighting):
    X, Y = groups
    model = AdaptiveSharingRegressor(**SMALL, max_epochs=1, loss_weighting=weighting)
    with pytest.raises(ValueError, match=f"loss_weighting='{weighting}'"):
        model.fit(X, Y)
    assert not hasattr(model, "net_")


def test_data_parallel_training_is_refused_by_name(groups):
    class StandInAccelerator:  # what the accelerator parameter checks, without accelerate
        device = "cpu"

        def prepare(self, *objects):
            raise AssertionError("the refusal must come before the accelerator is used")

        backward = prepare

    X, Y = groups
    model = AdaptiveSharingRegressor(**SMALL, max_epochs=1, accelerator=StandInAccelerator())
    with pytest.raises(ValueError, match="does not train data-parallel"):
        model.fit(X, Y)
    assert not hasattr(model, "net_")


# ------------------------------------------------------------ save and load


def test_a_loaded_model_has_its_tree_and_predictions(groups, tmp_path):
    X, Y = groups
    model = AdaptiveSharingRegressor(**SMALL, max_epochs=4, random_state=0).fit(X, Y)
    save(model, tmp_path / "m.mtl")
    loaded = load(tmp_path / "m.mtl")
    assert loaded.branches_ == model.branches_
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def _tamper(path, branches):
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    metadata = json.loads(members["metadata.json"])
    metadata["state"]["branches_"] = branches
    members["metadata.json"] = json.dumps(metadata)
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


@pytest.mark.parametrize(
    "branches, message",
    [
        ([[[0, 1, 2, 3]], [[0, 1, 2, 3]]], "weights"),  # a tree the weights do not fit
        ([[[0, 1, 2, 9]], [[0, 1, 2, 3]]], "must split the tasks"),
        ([[[0, 1], [2, 3]], [[0, 2], [1, 3]]], "spans several branches"),
        ([[[0, 1, 2, 3]]], "branches has 1 layers"),
        ("(((0, 1, 2, 3),),)", "branches must be a sequence, per layer"),
        ([[[0, 1], [2, 3.5]], [[0, 1], [2, 3]]], "branches must be a sequence, per layer"),
    ],
)
def test_a_crafted_tree_is_refused(groups, tmp_path, branches, message):
    X, Y = groups
    model = AdaptiveSharingRegressor(**{**SMALL, "branching_cost": 0.0}, max_epochs=4,
                                     branching_factor=5.0, random_state=0).fit(X, Y)  # fmt: skip
    assert model.branches_ != (((0, 1, 2, 3),), ((0, 1, 2, 3),))  # it did branch
    save(model, tmp_path / "m.mtl")
    _tamper(tmp_path / "m.mtl", branches)
    with pytest.raises(ModelFileError, match=message):
        load(tmp_path / "m.mtl")


# ------------------------------------------------------------ thin-model initialisation


def test_somp_picks_rows_that_span_the_others():
    rng = np.random.default_rng(0)
    basis = rng.normal(size=(3, 10))
    rows = np.vstack([basis, rng.normal(size=(5, 3)) @ basis])  # 8 rows of rank 3
    chosen = somp(rows, 3)
    assert len(chosen) == 3 and np.linalg.matrix_rank(rows[chosen]) == 3
    coefficients = np.linalg.lstsq(rows[chosen].T, rows.T, rcond=None)[0]
    np.testing.assert_allclose(rows[chosen].T @ coefficients, rows.T, atol=1e-8)


def test_somp_thin_init_starts_from_units_of_a_wider_trained_network(groups):
    X, Y = groups
    random = AdaptiveSharingRegressor(**SMALL, max_epochs=1, random_state=0).fit(X, Y)
    thin = AdaptiveSharingRegressor(**SMALL, max_epochs=1, thin_init="somp", random_state=0)
    thin.fit(X, Y)
    assert np.isfinite(thin.predict(X)).all()
    assert thin.score(X, Y) > random.score(X, Y)  # the wide network trained split_every epochs


def test_somp_trains_the_wide_network_on_the_training_rows_only(groups, monkeypatch):
    from sklearn_mtl._training import branching as _branching

    seen = []
    original = _branching.somp_initialize

    def watched(net, dataset, epochs):
        seen.append((len(dataset), epochs))
        return original(net, dataset, epochs)

    monkeypatch.setattr(_branching, "somp_initialize", watched)
    X, Y = groups
    AdaptiveSharingRegressor(**SMALL, max_epochs=3, thin_init="somp", early_stopping=True,
                             validation_fraction=0.25, random_state=0).fit(X, Y)  # fmt: skip
    assert seen == [(450, 2)]  # 600 rows less the validation quarter, once, split_every epochs


def test_plot_branches_draws_the_tree(groups):
    X, Y = groups
    model = AdaptiveSharingRegressor(**SMALL, max_epochs=4, random_state=0).fit(X, Y)
    ax = plot_branches(model, task_names=list("abcd"))
    assert [t.get_text() for t in ax.texts] == [
        "abcd"[t] for layer in model.branches_[-1:] for g in layer for t in g
    ]
    with pytest.raises(ValueError, match="task_names has 3 names for 4 tasks"):
        plot_branches(model.branches_, task_names=list("abc"))


class FailsWhenTheTreeGrows(Callback):
    """A disk error (OSError) at the end of the epoch in which the tree grew, once."""

    def initialize(self):
        self.failed_ = False
        return self

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == 3 and not self.failed_:
            self.failed_ = True
            raise OSError("No space left on device")


@pytest.mark.parametrize("how", ["warm_start", "partial_fit"])
def test_a_failed_call_after_a_split_leaves_the_model_it_had(groups, tmp_path, how):
    """The audit: a RuntimeError ("Missing key(s) in state_dict") hid the OSError, the
    network kept the grown tree while branches_, n_iter_ and the history disagreed, and
    save wrote a file that load refused."""
    X, Y = groups
    settings = {**SMALL, "branching_cost": 0.0, "branching_factor": 5.0, "split_every": 3}
    model = AdaptiveSharingRegressor(**settings, max_epochs=2, warm_start=True, random_state=0,
                                     callbacks=[FailsWhenTheTreeGrows()])  # fmt: skip
    if how == "warm_start":
        model.fit(X, Y)
    else:
        for _ in range(2):
            model.partial_fit(X, Y)
    before = model.predict(X)
    assert model.branches_ == ((tuple(range(4)),), (tuple(range(4)),))
    with pytest.raises(OSError, match="No space left"):
        model.fit(X, Y) if how == "warm_start" else model.partial_fit(X, Y)
    assert model.n_iter_ == 2 == len(model.net_.history)
    assert model.branches_ == model.net_.module_.model.branches == ((tuple(range(4)),),) * 2
    np.testing.assert_array_equal(model.predict(X), before)
    saved = copy.copy(model)  # the same fitted state, without the callback save cannot write
    saved.callbacks = None
    save(saved, tmp_path / "m.mtl")
    np.testing.assert_array_equal(load(tmp_path / "m.mtl").predict(X), before)
    # and it trains on (the optimizer holds the live weights) and grows this time
    model.fit(X, Y) if how == "warm_start" else model.partial_fit(X, Y)
    assert model.n_iter_ == (4 if how == "warm_start" else 3)
    assert not np.array_equal(model.predict(X), before)
