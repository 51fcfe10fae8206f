"""The learning-rate schedule and early_stopping="auto": what each does to a fit."""

import numpy as np
import pytest
from sklearn.utils._param_validation import InvalidParameterError

import sklearn_mtl
from sklearn_mtl import (
    AdaptiveSharingRegressor,
    CrossStitchRegressor,
    ESMMClassifier,
    MMoERegressor,
    MultiTaskNet,
    OMoERegressor,
    PLERegressor,
    SharedBottomRegressor,
)
from sklearn_mtl._training import options as _training_options
from sklearn_mtl._training.schedule import COSINE_FINAL_FACTOR, cosine_factor
from sklearn_mtl.architectures import MMoE
from sklearn_mtl.datasets import make_task_pair

SMALL = {"n_experts": 2, "expert_units": (8,), "tower_units": (4,), "batch_size": 64, "lr": 1e-2}


ALL_NETWORKS = {
    "MMoERegressor": lambda **kw: MMoERegressor(**SMALL, max_epochs=4, **kw),
    "OMoERegressor": lambda **kw: OMoERegressor(**SMALL, max_epochs=4, **kw),
    "SharedBottomRegressor": lambda **kw: SharedBottomRegressor((8,), max_epochs=4, **kw),
    "PLERegressor": lambda **kw: PLERegressor(1, n_shared_experts=1, expert_units=(8,),
                                              max_epochs=4, **kw),
    "CrossStitchRegressor": lambda **kw: CrossStitchRegressor((8,), max_epochs=4, **kw),
    "AdaptiveSharingRegressor": lambda **kw: AdaptiveSharingRegressor(
        units=(8, 8), split_every=1, branching_cost=0.0, max_epochs=4, **kw),
    "MultiTaskNet": lambda **kw: MultiTaskNet(MMoE(2, expert_units=(8,)),
                                              task_types=["regression"] * 2, max_epochs=4, **kw),
    "ESMMClassifier": lambda **kw: ESMMClassifier(bottom_units=(8,), max_epochs=4, **kw),
}  # fmt: skip


def _funnel(Y):
    """Click above the first task's median; conversion only among clicks."""
    click = Y[:, 0] > np.median(Y[:, 0])
    return np.column_stack([click, click & (Y[:, 1] > np.median(Y[:, 1]))]).astype(int)


@pytest.fixture(scope="module")
def data():
    return make_task_pair(300, 0.5, n_features=5, random_state=0)


def test_the_cosine_factor_falls_from_one_to_its_floor_then_starts_again():
    factors = [cosine_factor(epoch, period=5) for epoch in range(10)]
    assert factors[0] == 1.0
    assert factors[4] == pytest.approx(COSINE_FINAL_FACTOR)
    assert factors[2] == pytest.approx((1 + COSINE_FINAL_FACTOR) / 2)
    assert all(a > b for a, b in zip(factors[:4], factors[1:5]))  # strictly falling
    assert factors[5:] == factors[:5]  # a new cycle
    assert cosine_factor(3, period=1) == 1.0  # one epoch: the rate given


def test_cosine_runs_each_epoch_at_its_rate(data):
    X, Y = data
    model = MMoERegressor(**SMALL, max_epochs=5, lr_schedule="cosine", random_state=0).fit(X, Y)
    expected = [1e-2 * cosine_factor(epoch, 5) for epoch in range(5)]
    np.testing.assert_allclose(model.net_.history[:, "event_lr"], expected)
    assert model.net_.optimizer_.param_groups[0]["lr"] == pytest.approx(expected[-1])


def test_a_constant_rate_has_no_scheduler(data):
    X, Y = data
    model = MMoERegressor(**SMALL, max_epochs=2, lr_schedule="constant", random_state=0)
    model.fit(X, Y)
    assert "lr_schedule" not in dict(model.net_.callbacks_)
    assert model.net_.optimizer_.param_groups[0]["lr"] == 1e-2


def test_the_schedule_changes_the_fit(data):
    X, Y = data
    constant = MMoERegressor(**SMALL, max_epochs=3, lr_schedule="constant", random_state=0)
    constant.fit(X, Y)
    cosine = MMoERegressor(**SMALL, max_epochs=3, lr_schedule="cosine", random_state=0).fit(X, Y)
    assert constant.net_.history[0, "train_loss"] == cosine.net_.history[0, "train_loss"]
    assert not np.allclose(constant.predict(X), cosine.predict(X))


def test_partial_fit_from_scratch_keeps_the_rate(data):
    X, Y = data
    model = MMoERegressor(**SMALL, max_epochs=3, lr_schedule="cosine", random_state=0)
    for _ in range(3):
        model.partial_fit(X, Y)
    assert "lr_schedule" not in dict(model.net_.callbacks_)
    assert model.net_.optimizer_.param_groups[0]["lr"] == 1e-2


def test_warm_start_runs_a_new_cycle(data):
    X, Y = data
    model = MMoERegressor(**SMALL, max_epochs=3, lr_schedule="cosine", warm_start=True,
                          random_state=0).fit(X, Y)  # fmt: skip
    model.fit(X, Y)
    rates = model.net_.history[:, "event_lr"]
    np.testing.assert_allclose(rates[3:], rates[:3])
    assert rates[2] == pytest.approx(1e-2 * COSINE_FINAL_FACTOR)


def test_an_unknown_schedule_is_refused_by_name(data):
    X, Y = data
    with pytest.raises(InvalidParameterError, match="'lr_schedule' parameter"):
        MMoERegressor(lr_schedule="one-cycle").fit(X, Y)
    with pytest.raises(InvalidParameterError, match="'early_stopping' parameter"):
        MMoERegressor(early_stopping="sometimes").fit(X, Y)


@pytest.mark.parametrize("threshold, stops_early", [(300, True), (301, False)])
def test_auto_early_stopping_starts_at_the_row_threshold(data, monkeypatch, threshold, stops_early):
    """ "auto" holds out a validation split from EARLY_STOPPING_MIN_SAMPLES rows on."""
    X, Y = data  # 300 rows
    monkeypatch.setattr(_training_options, "EARLY_STOPPING_MIN_SAMPLES", threshold)
    model = MMoERegressor(**SMALL, max_epochs=2, early_stopping="auto", random_state=0).fit(X, Y)
    assert ("valid_loss" in model.net_.history[-1]) is stops_early
    assert ("early_stopping" in dict(model.net_.callbacks_)) is stops_early


def test_auto_early_stopping_keeps_the_best_epoch(data, monkeypatch):
    X, Y = data
    monkeypatch.setattr(_training_options, "EARLY_STOPPING_MIN_SAMPLES", 100)
    # a rate this high makes the validation loss jump about: the best epoch is not the last
    model = MMoERegressor(
        **SMALL | {"lr": 0.3},
        lr_schedule="constant",
        max_epochs=12,
        early_stopping="auto",
        n_iter_no_change=2,
        random_state=0,
    )
    model.fit(X, Y)
    losses = model.net_.history[:, "valid_loss"]
    best = int(np.argmin(losses))
    assert best < len(losses) - 1
    stopper = dict(model.net_.callbacks_)["early_stopping"]
    assert stopper.best_epoch_ == best + 1


@pytest.mark.parametrize("how", ["fit", "partial_fit"])
def test_a_loaded_model_trains_on_as_the_saved_one_did(data, tmp_path, monkeypatch, how):
    """The validation split and the schedule come back from the file with the weights."""
    X, Y = data
    monkeypatch.setattr(_training_options, "EARLY_STOPPING_MIN_SAMPLES", 100)
    model = SharedBottomRegressor((8,), max_epochs=3, lr_schedule="cosine",
                                  early_stopping="auto", random_state=0)  # fmt: skip
    if how == "fit":
        model.fit(X, Y)
    else:
        model.partial_fit(X, Y)
    sklearn_mtl.save(model, tmp_path / "model.mtl")
    loaded = sklearn_mtl.load(tmp_path / "model.mtl")
    for name in ("lr_schedule", "early_stopping"):
        assert (name in dict(loaded.net_.callbacks_)) is (how == "fit")
    assert (loaded.net_.train_split is not None) is (how == "fit")
    for estimator in (model, loaded):  # an epoch more: at the same rate
        estimator.partial_fit(X, Y)
    rates = [m.net_.optimizer_.param_groups[0]["lr"] for m in (model, loaded)]
    assert rates[0] == pytest.approx(rates[1])
    assert len(loaded.net_.history) == len(model.net_.history)


@pytest.mark.parametrize("as_tuple", [False, True])
def test_a_users_lr_scheduler_replaces_the_schedule(data, as_tuple):
    from skorch.callbacks import LRScheduler

    X, Y = data
    scheduler = LRScheduler(policy="StepLR", step_size=1, gamma=0.5)
    callbacks = [("halve", scheduler)] if as_tuple else [scheduler]
    model = MMoERegressor(**SMALL, max_epochs=3, lr_schedule="cosine", callbacks=callbacks,
                          random_state=0).fit(X, Y)  # fmt: skip
    assert "lr_schedule" not in dict(model.net_.callbacks_)
    assert model.net_.optimizer_.param_groups[0]["lr"] == pytest.approx(1e-2 / 8)


@pytest.mark.parametrize("name", sorted(ALL_NETWORKS))
def test_every_network_takes_both_training_defaults(name, data, monkeypatch):
    """The cosine rate reaches every parameter group (adaptive sharing adds groups as it
    grows), and "auto" early stopping works on each architecture."""
    X, Y = data
    monkeypatch.setattr(_training_options, "EARLY_STOPPING_MIN_SAMPLES", 100)
    model = ALL_NETWORKS[name](lr_schedule="cosine", early_stopping="auto", random_state=0)
    model.fit(X, Y if name != "ESMMClassifier" else _funnel(Y))
    history = model.net_.history
    np.testing.assert_allclose(
        history[:, "event_lr"], [model.lr * cosine_factor(e, 4) for e in range(len(history))]
    )
    assert {group["lr"] for group in model.net_.optimizer_.param_groups} == {
        history[-1, "event_lr"]
    }
    assert "valid_loss" in history[-1]


@pytest.mark.parametrize("n_rows, stops_early", [(999, False), (1000, True)])
def test_auto_early_stopping_starts_at_1000_rows(n_rows, stops_early):
    """The threshold the README and the docstring state, on real row counts."""
    X, Y = make_task_pair(n_rows, 0.5, n_features=3, random_state=0)
    model = SharedBottomRegressor((4,), max_epochs=1, batch_size=500, random_state=0).fit(X, Y)
    assert ("valid_loss" in model.net_.history[-1]) is stops_early
