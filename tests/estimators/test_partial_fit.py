"""partial_fit: one epoch per call, the first call sets up classes and standardisation."""

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError

from sklearn_mtl import ESMMClassifier, MMoEClassifier, MMoERegressor, MultiTaskNet
from sklearn_mtl.architectures import MMoE
from sklearn_mtl.datasets import make_click_conversion, make_task_pair

SMALL = {"n_experts": 2, "expert_units": (8,), "tower_units": (4,), "batch_size": 32, "lr": 1e-2}


def batches(X, Y, size):
    for start in range(0, len(X), size):
        yield X[start : start + size], Y[start : start + size]


def test_each_call_trains_one_epoch_and_the_model_learns():
    X, Y = make_task_pair(2000, 0.9, n_features=10, target="binary", random_state=0)
    model = MMoEClassifier(**SMALL, random_state=0)
    for _ in range(4):
        for X_batch, Y_batch in batches(X[:1600], Y[:1600], 400):
            model.partial_fit(X_batch, Y_batch, classes=[[0, 1], [0, 1]])
    assert model.n_iter_ == 16 == len(model.net_.history)
    assert model.classes_[0].tolist() == [0, 1]
    probas = model.predict_proba(X[1600:])
    assert all(((p >= 0) & (p <= 1)).all() and np.allclose(p.sum(axis=1), 1) for p in probas)
    assert model.score(X[1600:], Y[1600:]) > 0.6
    losses = model.net_.history[:, "train_loss"]
    assert np.mean(losses[-4:]) < np.mean(losses[:4])


def test_first_call_on_all_data_equals_fit_for_one_epoch():
    X, Y = make_task_pair(300, 0.5, n_features=6, target="binary", random_state=1)
    fitted = MMoEClassifier(**SMALL, max_epochs=1, random_state=3).fit(X, Y)
    partial = MMoEClassifier(**SMALL, random_state=3).partial_fit(X, Y, classes=[[0, 1]] * 2)
    np.testing.assert_array_equal(partial.predict_proba(X)[0], fitted.predict_proba(X)[0])


def test_partial_fit_is_reproducible_with_random_state():
    X, Y = make_task_pair(400, 0.5, n_features=6, random_state=2)

    def train():
        model = MMoERegressor(**SMALL, random_state=0)
        for X_batch, Y_batch in batches(X, Y, 100):
            model.partial_fit(X_batch, Y_batch)
        return model.predict(X)

    np.testing.assert_array_equal(train(), train())


def test_regressor_keeps_the_first_calls_target_standardisation():
    X, Y = make_task_pair(600, 0.5, n_features=6, random_state=3)
    Y = Y * [1.0, 100.0] + [0.0, 50.0]
    model = MMoERegressor(**SMALL, random_state=0).partial_fit(X[:300], Y[:300])
    mean, scale = model.target_mean_.copy(), model.target_scale_.copy()
    np.testing.assert_allclose(mean, Y[:300].mean(axis=0))
    model.partial_fit(X[300:], Y[300:])
    np.testing.assert_array_equal(model.target_mean_, mean)
    np.testing.assert_array_equal(model.target_scale_, scale)


def test_a_later_batch_may_lack_a_class_but_not_bring_a_new_one():
    X, Y = make_task_pair(200, 0.5, n_features=6, target="binary", random_state=4)
    model = MMoEClassifier(**SMALL, random_state=0)
    model.partial_fit(X, Y, classes=[[0, 1], [0, 1, 2]])
    assert [len(c) for c in model.classes_] == [2, 3]
    assert model.predict_proba(X)[1].shape == (200, 3)
    only_zeros = np.zeros_like(Y[:50])
    model.partial_fit(X[:50], only_zeros)  # one class present: fine
    with pytest.raises(ValueError, match=r"Task 1 of y has label\(s\) \[7\]"):
        model.partial_fit(X[:50], np.column_stack([Y[:50, 0], np.full(50, 7)]))


def test_missing_labels_are_masked_in_partial_fit():
    X, Y = make_task_pair(300, 0.5, n_features=6, target="binary", random_state=5)
    Y = Y.astype(float)
    Y[::3, 1] = np.nan
    model = MMoEClassifier(**SMALL, random_state=0).partial_fit(X, Y, classes=[[0, 1], [0, 1]])
    model.partial_fit(X, Y)
    assert np.isfinite(model.net_.history[:, "train_loss"]).all()


@pytest.mark.parametrize(
    "classes, message",
    [
        (None, "needs classes= at its first call"),
        ([[0, 1]], "classes has 1 entries but y has 2 task"),
    ],
)
def test_first_call_classes_errors(classes, message):
    X, Y = make_task_pair(100, 0.5, n_features=6, target="binary", random_state=6)
    model = MMoEClassifier(**SMALL)
    with pytest.raises(ValueError, match=message):
        model.partial_fit(X, Y, classes=classes)
    with pytest.raises(NotFittedError):
        model.predict(X)


def test_later_call_errors():
    X, Y = make_task_pair(100, 0.5, n_features=6, target="binary", random_state=7)
    model = MMoEClassifier(**SMALL).partial_fit(X, Y, classes=[[0, 1], [0, 1]])
    with pytest.raises(ValueError, match="is not the classes_ of the first fit"):
        model.partial_fit(X, Y, classes=[[0, 1], [1, 2]])
    with pytest.raises(ValueError, match="X has 5 features"):
        model.partial_fit(X[:, :5], Y)
    with pytest.raises(ValueError, match="y has 1 task"):
        model.partial_fit(X, Y[:, :1])
    model.partial_fit(X, Y, classes=[[1, 0], [0, 1]])  # the same classes, any order
    assert model.n_iter_ == 2


def test_categories_unseen_in_the_first_batch_get_the_unknown_code():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {"x": rng.normal(size=200), "colour": pd.Categorical(rng.choice(["red", "blue"], 200))}
    )
    Y = np.column_stack([frame["x"] > 0, frame["colour"] == "red"]).astype(int)
    model = MMoEClassifier(**SMALL, random_state=0)
    model.partial_fit(frame, Y, classes=[[0, 1], [0, 1]])
    later = frame.assign(colour=pd.Categorical(["green"] * 200))
    model.partial_fit(later, Y)
    assert np.isfinite(model.predict_proba(later)[1]).all()


def test_esmm_partial_fit_checks_the_funnel():
    X, Y = make_click_conversion(400, random_state=0)
    model = ESMMClassifier(bottom_units=(8,), tower_units=(4,), random_state=0)
    model.partial_fit(X, Y, classes=[[0, 1], [0, 1]])
    broken = Y.copy()
    broken[:, 0], broken[:, 1] = 0, 1
    with pytest.raises(ValueError, match="conversion but no click"):
        model.partial_fit(X, broken)


def test_multitask_net_partial_fit_with_mixed_tasks():
    X, Y = make_task_pair(400, 0.5, n_features=6, random_state=8)
    y = np.column_stack([Y[:, 0], (Y[:, 1] > 0).astype(int)]).astype(object)
    architecture = MMoE(2, expert_units=(8,), tower_units=(4,))
    model = MultiTaskNet(architecture, batch_size=32, lr=1e-2, random_state=0)
    model.partial_fit(X[:200], y[:200], classes=[None, [0, 1]])
    assert model.task_types_ == ["regression", "binary"]
    model.partial_fit(X[200:], y[200:])
    assert model.n_iter_ == 2
    assert model.predict_proba(X)[1].shape == (400, 2)
