"""``n_ensemble``: an estimator's efficient ensemble, trained on the mean of the members'
losses and predicting the mean of their probabilities, through the whole contract."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_mtl import (
    MMoEClassifier,
    MultiTaskNet,
    OMoEClassifier,
    PLEClassifier,
    SharedBottomClassifier,
    SharedBottomRegressor,
    load,
    save,
)
from sklearn_mtl.architectures import PLE, MMoE
from sklearn_mtl.datasets import make_task_pair
from sklearn_mtl.estimators import _ensemble
from sklearn_mtl.inspection import expert_utilization
from sklearn_mtl.nn import EnsembleMean, WithInputLayer
from tests._settings import MOE_FAST, PLE_FAST, SHARED_BOTTOM_FAST

K = 3


@pytest.fixture(scope="module")
def pair():
    X, Y = make_task_pair(400, correlation=0.8, n_features=6, target="binary", random_state=0)
    return X.astype(np.float32), Y


def member_logits(model, X) -> torch.Tensor:
    """Every member's logits, ``(n, k, S)``: the network in training mode (no dropout here)."""
    module = model.net_.module_
    encoded = torch.as_tensor(model._fit_state.inputs.transform(X))
    module.train()
    try:
        with torch.no_grad():
            return module(encoded)
    finally:
        module.eval()


@pytest.mark.parametrize(
    "estimator",
    [
        MMoEClassifier(n_ensemble=K, **MOE_FAST),
        OMoEClassifier(n_ensemble=K, **MOE_FAST),
        PLEClassifier(n_ensemble=K, **PLE_FAST),
        SharedBottomClassifier(n_ensemble=K, **SHARED_BOTTOM_FAST),
    ],
    ids=lambda e: type(e).__name__,
)
def test_predict_proba_is_the_mean_of_the_members_probabilities(estimator, pair):
    X, Y = pair
    model = clone(estimator).set_params(random_state=0).fit(X, Y)
    members = member_logits(model, X)
    assert members.shape == (len(X), K, 2)
    member_proba = torch.sigmoid(members.double()).numpy()  # (n, k, 2)
    for t, proba in enumerate(model.predict_proba(X)):
        np.testing.assert_allclose(proba[:, 1], member_proba[:, :, t].mean(axis=1), atol=1e-6)
        np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    # the members are several networks, not one repeated
    assert np.abs(member_proba[:, 0] - member_proba[:, 1]).max() > 1e-3
    np.testing.assert_array_equal(
        model.predict(X), np.column_stack([p.argmax(axis=1) for p in model.predict_proba(X)])
    )


def test_a_regressor_predicts_the_mean_of_the_members_values():
    X, Y = make_task_pair(300, correlation=0.8, n_features=5, random_state=1)
    model = SharedBottomRegressor(n_ensemble=K, random_state=0, **SHARED_BOTTOM_FAST).fit(X, Y)
    members = member_logits(model, X.astype(np.float32)).double().numpy().mean(axis=1)
    tasks = model._fit_state.tasks
    expected = np.column_stack([members[:, t] * task.scale + task.mean for t, task in
                                enumerate(tasks)])  # fmt: skip
    np.testing.assert_allclose(model.predict(X), expected, rtol=1e-5, atol=1e-5)
    assert model.score(X, Y) > 0.3


def test_mixed_tasks_average_each_kind_as_it_should():
    """A multi-class task averages its softmax, a regression task its values."""
    rng = np.random.default_rng(2)
    X = rng.standard_normal((300, 5)).astype(np.float32)
    y = np.column_stack([np.digitize(X[:, 0], [-0.5, 0.5]), 2 * X[:, 1], X[:, 2] > 0])
    model = MultiTaskNet(
        MMoE(n_experts=3, expert_units=(8,), tower_units=(4,), n_ensemble=K),
        task_types=["multiclass", "regression", "binary"],
        max_epochs=5, lr=1e-2, random_state=0,
    ).fit(X, y)  # fmt: skip
    members = member_logits(model, X).double()  # (n, k, 3 + 1 + 1)
    classes, _, binary = model.predict_proba(X)
    np.testing.assert_allclose(classes, torch.softmax(members[:, :, :3], 2).mean(1), atol=1e-6)
    np.testing.assert_allclose(binary[:, 1], torch.sigmoid(members[:, :, 4]).mean(1), atol=1e-6)
    task = model._fit_state.tasks[1]
    values = members[:, :, 3].mean(1).numpy() * task.scale + task.mean
    np.testing.assert_allclose(model.predict(X)[:, 1].astype(float), values, rtol=1e-5)
    assert MultiTaskNet(MMoE(n_ensemble=2)).get_params()["architecture__n_ensemble"] == 2


def test_the_training_loss_is_the_mean_of_the_members_losses(pair):
    X, Y = pair
    model = MMoEClassifier(n_ensemble=K, random_state=0, **MOE_FAST).fit(X, Y)
    members = member_logits(model, X)  # the fitted weights, every row
    target = torch.as_tensor(Y, dtype=torch.float32)
    loss = model.net_.criterion_.task_loss
    each = [loss(members[:, m], target) for m in range(K)]
    torch.testing.assert_close(loss(members, target), torch.stack(each).mean(dim=0))


def test_validation_scores_the_mean_prediction(pair):
    """Early stopping compares the ensemble's own validation loss: of the mean probability."""
    X, Y = pair
    model = MMoEClassifier(
        n_ensemble=K, early_stopping=True, validation_fraction=0.25, random_state=0, **MOE_FAST
    ).fit(X, Y)
    assert isinstance(model.net_.module_.output_layer, EnsembleMean)
    assert np.isfinite(model.net_.history[:, "valid_loss"]).all()
    assert model.n_iter_ >= 1


def test_one_member_is_the_network_of_before(pair):
    X, Y = pair
    default = MMoEClassifier(random_state=0, **MOE_FAST).fit(X, Y)
    one = MMoEClassifier(n_ensemble=1, random_state=0, **MOE_FAST).fit(X, Y)
    assert default.net_.module_.output_layer is None
    for a, b in zip(default.predict_proba(X), one.predict_proba(X)):
        np.testing.assert_array_equal(a, b)


def test_save_load_pickle_and_clone_keep_the_members(pair, tmp_path):
    X, Y = pair
    model = PLEClassifier(n_ensemble=K, random_state=0, **PLE_FAST).fit(X, Y)
    save(model, tmp_path / "ple")
    loaded = load(tmp_path / "ple")
    unpickled = pickle.loads(pickle.dumps(model))
    for copy in (loaded, unpickled):
        assert copy.n_ensemble == K
        for a, b in zip(copy.predict_proba(X), model.predict_proba(X)):
            np.testing.assert_array_equal(a, b)
    assert clone(model).get_params()["n_ensemble"] == K


def test_a_file_of_one_member_does_not_load_as_an_ensemble(pair, tmp_path):
    """The parameter sizes the network; a file's tensors are checked against it."""
    X, Y = pair
    save(MMoEClassifier(random_state=0, **MOE_FAST).fit(X, Y), tmp_path / "one")
    assert load(tmp_path / "one").n_ensemble_ == 1
    ensemble = MMoEClassifier(n_ensemble=2, random_state=0, **MOE_FAST).fit(X, Y)
    save(ensemble, tmp_path / "two")
    assert load(tmp_path / "two").net_.module_.model.n_ensemble == 2


def test_partial_fit_trains_the_members(pair):
    X, Y = pair
    model = MMoEClassifier(n_ensemble=K, random_state=0, **MOE_FAST)
    for start in range(0, 400, 100):
        model.partial_fit(X[start : start + 100], Y[start : start + 100], classes=[[0, 1]] * 2)
    members = member_logits(model, X)
    proba = torch.sigmoid(members.double()).mean(dim=1).numpy()
    np.testing.assert_allclose(model.predict_proba(X)[0][:, 1], proba[:, 0], atol=1e-6)


@pytest.mark.parametrize("weighting", ["pcgrad", "gradnorm", "uncertainty"])
def test_balancing_methods_train_an_ensemble(pair, weighting):
    X, Y = pair
    model = MMoEClassifier(n_ensemble=K, loss_weighting=weighting, random_state=0, **MOE_FAST).fit(
        X, Y
    )
    history = model.net_.history[:, "train_loss"]
    assert np.isfinite(history).all() and history[-1] < history[0]


def test_a_funnel_penalises_every_member(pair):
    X, Y = pair
    Y = Y.copy()
    Y[:, 1] *= Y[:, 0]  # conversion implies click
    model = MMoEClassifier(
        n_ensemble=K, funnel=(0, 1), funnel_penalty=5.0, random_state=0, **MOE_FAST
    ).fit(X, Y)
    penalty = model.net_.penalty
    members = member_logits(model, X)
    each = torch.stack([penalty(members[:, m]) for m in range(K)])
    torch.testing.assert_close(penalty(members), each.mean())


def test_gate_weights_and_expert_utilisation_of_an_ensemble(pair):
    X, Y = pair
    model = PLEClassifier(n_ensemble=K, random_state=0, **PLE_FAST).fit(X, Y)
    for level in model.gate_weights(X[:20]):
        assert level.shape == (20, 2, 3)
        np.testing.assert_allclose(level.sum(axis=2), 1.0, rtol=1e-5)
    for level in expert_utilization(model, X):  # the mean weight of each task on each expert
        assert level.shape == (2, 3)
        np.testing.assert_allclose(level.sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("value", [0, -1, 2.5, "4"])
def test_n_ensemble_must_be_a_positive_int(pair, value):
    X, Y = pair
    with pytest.raises(InvalidParameterError, match="'n_ensemble' parameter"):
        MMoEClassifier(n_ensemble=value, **MOE_FAST).fit(X, Y)
    with pytest.raises(InvalidParameterError, match="'n_ensemble' parameter"):
        MultiTaskNet(PLE(n_ensemble=value), max_epochs=1).fit(X, Y)


def test_pickles_from_before_ensembles_read_one_member(pair):
    """An architecture object and a network pickled before ``n_ensemble`` existed."""
    X, Y = pair
    architecture = MMoE(n_experts=3)
    del architecture.n_ensemble
    restored = pickle.loads(pickle.dumps(architecture))
    assert restored.n_ensemble == 1 and restored == MMoE(n_experts=3, n_ensemble=1)
    model = MMoEClassifier(random_state=0, **MOE_FAST).fit(X, Y)
    network = model.net_.module_
    before = pickle.loads(pickle.dumps(network))
    del before._modules["output_layer"]  # as a network of before pickled itself
    old = pickle.loads(pickle.dumps(before))
    assert isinstance(old, WithInputLayer) and old.output_layer is None
    x = torch.as_tensor(model._fit_state.inputs.transform(X[:5]))
    torch.testing.assert_close(old.eval()(x), network.eval()(x))


# ------------------------------------------- n_ensemble="auto": members by training rows

AUTO_ESTIMATORS = [
    MMoEClassifier(**MOE_FAST),
    OMoEClassifier(**MOE_FAST),
    PLEClassifier(**PLE_FAST),
    SharedBottomClassifier(**SHARED_BOTTOM_FAST),
    MultiTaskNet(MMoE(n_experts=3, expert_units=(16,), tower_units=(8,)), max_epochs=5),
]


@pytest.fixture
def low_threshold(monkeypatch, pair):
    """``"auto"``'s threshold at the fixture's 400 rows, so that it trains members."""
    monkeypatch.setattr(_ensemble, "ENSEMBLE_MIN_SAMPLES", len(pair[0]))


def test_the_rule_of_auto():
    rows = _ensemble.ENSEMBLE_MIN_SAMPLES
    assert _ensemble.ensemble_members("auto", rows - 1) == 1
    assert _ensemble.ensemble_members("auto", rows) == _ensemble.AUTO_MEMBERS == 4
    assert _ensemble.ensemble_members("auto", 10 * rows, partial=True) == 1
    assert _ensemble.ensemble_members(3, 10) == 3


@pytest.mark.parametrize("estimator", AUTO_ESTIMATORS, ids=lambda e: type(e).__name__)
def test_auto_is_the_default_and_one_network_below_the_threshold(estimator, pair):
    X, Y = pair
    members = "architecture__n_ensemble" if isinstance(estimator, MultiTaskNet) else "n_ensemble"
    assert estimator.get_params()[members] == "auto"
    model = clone(estimator).set_params(random_state=0).fit(X, Y)
    assert model.n_ensemble_ == 1
    assert model.net_.module_.output_layer is None
    assert clone(model).get_params()[members] == "auto"


@pytest.mark.parametrize("estimator", AUTO_ESTIMATORS, ids=lambda e: type(e).__name__)
def test_auto_trains_the_members_from_the_threshold_as_an_explicit_int(
    estimator, pair, low_threshold
):
    X, Y = pair
    model = clone(estimator).set_params(random_state=0).fit(X, Y)
    assert model.n_ensemble_ == _ensemble.AUTO_MEMBERS
    assert model.net_.module_.model.n_ensemble == _ensemble.AUTO_MEMBERS
    members = "architecture__n_ensemble" if isinstance(model, MultiTaskNet) else "n_ensemble"
    explicit = clone(estimator).set_params(random_state=0, **{members: 4}).fit(X, Y)
    assert explicit.n_ensemble_ == 4
    for a, b in zip(model.predict_proba(X), explicit.predict_proba(X)):
        np.testing.assert_array_equal(a, b)


def test_one_row_fewer_than_the_threshold_trains_one_network(pair, monkeypatch):
    X, Y = pair
    monkeypatch.setattr(_ensemble, "ENSEMBLE_MIN_SAMPLES", len(X) + 1)
    assert MMoEClassifier(random_state=0, **MOE_FAST).fit(X, Y).n_ensemble_ == 1


def test_auto_counts_the_rows_that_hold_a_label(pair, low_threshold):
    """A row without any task's label trains nothing: 399 labelled rows of 400, one network;
    a row with one task's label counts."""
    X, Y = pair
    Y = Y.astype(float)
    Y[0, :] = np.nan
    assert MMoEClassifier(random_state=0, **MOE_FAST).fit(X, Y).n_ensemble_ == 1
    Y[0, 1] = 1.0
    assert MMoEClassifier(random_state=0, **MOE_FAST).fit(X, Y).n_ensemble_ == 4


def test_partial_fit_with_auto_trains_one_network(pair, low_threshold):
    """The first batch does not tell how much data follows: one network, kept after."""
    X, Y = pair
    model = MMoEClassifier(random_state=0, **MOE_FAST)
    model.partial_fit(X, Y, classes=[[0, 1]] * 2)
    model.partial_fit(X, Y)
    assert model.n_ensemble_ == 1 and model.net_.module_.model.n_ensemble == 1


def test_warm_start_keeps_the_fitted_members(pair, low_threshold):
    X, Y = pair
    model = MMoEClassifier(warm_start=True, random_state=0, **MOE_FAST).fit(X, Y)
    model.fit(X[:100], Y[:100])  # fewer rows than the threshold: the same 4-member network
    assert model.n_ensemble_ == 4 and model.net_.module_.model.n_ensemble == 4


def test_auto_members_survive_save_load_and_pickle(pair, tmp_path, low_threshold):
    X, Y = pair
    model = PLEClassifier(random_state=0, **PLE_FAST).fit(X, Y)
    save(model, tmp_path / "ple")
    for copy in (load(tmp_path / "ple"), pickle.loads(pickle.dumps(model))):
        assert copy.n_ensemble == "auto" and copy.n_ensemble_ == 4
        assert copy.net_.module_.model.n_ensemble == 4
        for a, b in zip(copy.predict_proba(X), model.predict_proba(X)):
            np.testing.assert_array_equal(a, b)


def test_build_takes_the_members_and_builds_one_network_for_auto_without_them():
    """A module built by hand, out of a fit, knows no training rows: one network."""
    assert MMoE().build(4, [1, 1], activation="relu", dropout=0.0).n_ensemble == 1
    module = MMoE(n_experts=2).build(4, [1, 1], activation="relu", dropout=0.0, n_ensemble=2)
    assert module.n_ensemble == 2
    assert MMoE(n_ensemble=3).build(4, [1], activation="relu", dropout=0.0).n_ensemble == 3
    for members in (0, True, 2.0):
        with pytest.raises(ValueError, match="n_ensemble must be a positive int"):
            MMoE().build(4, [1, 1], activation="relu", dropout=0.0, n_ensemble=members)


@pytest.mark.parametrize("value", ["many", None, 0])
def test_n_ensemble_names_auto_in_its_error(pair, value):
    X, Y = pair
    with pytest.raises(InvalidParameterError, match="'n_ensemble' parameter.*auto"):
        MMoEClassifier(n_ensemble=value, **MOE_FAST).fit(X, Y)
