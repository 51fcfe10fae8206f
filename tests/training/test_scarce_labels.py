"""Training that serves a task with few labels: the epoch-normalised loss, early stopping
on one task, and a validation split that keeps the scarce task's labels in proportion."""

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from sklearn_mtl import MMoEClassifier, MMoERegressor, load, save
from sklearn_mtl._training.data import ShuffleSplitDataset, TensorBatchDataset
from sklearn_mtl.datasets import make_task_pair
from sklearn_mtl.losses import MaskedMultiTaskLoss
from tests._settings import MOE_FAST


@pytest.fixture(scope="module")
def scarce_pair():
    """1,200 rows of a binary pair; task 0 keeps 60 labels (5 %), task 1 every label."""
    X, Y = make_task_pair(1200, correlation=0.9, target="binary", random_state=0)
    Y = Y.astype(float)
    hidden = np.random.default_rng(0).permutation(len(Y))[60:]
    Y[hidden, 0] = np.nan
    return X.astype(np.float32), Y


def test_the_epoch_normalised_loss_divides_by_the_labels_a_batch_has_on_average():
    loss = MaskedMultiTaskLoss(["regression", "regression"], [1, 1])
    prediction = torch.tensor([[1.0, 0.0], [2.0, 1.0], [0.0, 3.0], [1.0, 1.0]])
    target = torch.zeros(4, 2)
    weight = torch.tensor([[1.0, 1.0], [0.0, 1.0], [0.0, 1.0], [0.0, 1.0]])
    per_batch = loss(prediction, target, weight)
    assert per_batch.tolist() == pytest.approx([1.0, (0 + 1 + 9 + 1) / 4])
    loss.row_density = torch.tensor([0.1, 1.0])  # task 0: one label in ten rows on average
    per_epoch = loss(prediction, target, weight)
    # task 0's one label weighs as 1 / (0.1 * 4) = 2.5 rows' mean, not as the whole batch
    assert per_epoch.tolist() == pytest.approx([1.0 / 0.4, (0 + 1 + 9 + 1) / 4])
    loss.eval()  # validation and scores: the batch's weighted mean whatever the density
    assert loss(prediction, target, weight).tolist() == pytest.approx(per_batch.tolist())


def _split(weight, fraction=0.1, seed=0):
    n = len(weight)
    dataset = TensorBatchDataset(np.zeros((n, 1), np.float32), np.zeros(weight.shape), weight)
    return ShuffleSplitDataset(fraction, seed)(dataset)


def test_the_split_keeps_the_scarce_tasks_labels_in_proportion():
    weight = np.ones((1000, 2), np.float32)
    weight[20:, 0] = 0  # 20 labels of task 0
    for seed in range(20):
        train, valid = _split(weight, seed=seed)
        assert len(valid) == 100 and len(train) == 900
        assert int((valid.weight[:, 0] > 0).sum()) == 2  # 10 % of the 20, every seed
        assert int((train.weight[:, 0] > 0).sum()) == 18
    first, again = _split(weight, seed=3), _split(weight, seed=3)
    assert torch.equal(first[1].weight, again[1].weight)  # reproducible from the seed


def test_the_split_of_fully_labelled_rows_is_the_plain_permutation():
    weight = np.ones((50, 2), np.float32)
    order = np.random.RandomState(1).permutation(50)
    rows = TensorBatchDataset(np.arange(50, dtype=np.float32)[:, None], np.zeros((50, 2)), weight)
    train, valid = ShuffleSplitDataset(0.2, 1)(rows)
    assert valid.X[:, 0].long().tolist() == order[:10].tolist()
    assert train.X[:, 0].long().tolist() == order[10:].tolist()


def test_a_task_with_one_label_falls_back_to_the_plain_split():
    weight = np.ones((30, 2), np.float32)
    weight[1:, 0] = 0  # one label: nothing to divide
    train, valid = _split(weight, fraction=0.2)
    assert len(train) + len(valid) == 30 and len(valid) == 6


def test_early_stopping_on_one_task_watches_that_tasks_validation_loss(scarce_pair):
    X, Y = scarce_pair
    params = {**MOE_FAST, "max_epochs": 40, "lr": 1e-2, "n_iter_no_change": 3}
    model = MMoEClassifier(early_stopping=True, early_stopping_task=0, random_state=0, **params)
    model.fit(X, Y)
    history = model.net_.history
    watched = np.array(history[:, "valid_loss_task0"])
    best = int(np.argmin(watched))
    # stopped three epochs after the task's best, and kept the best epoch's weights
    assert len(history) == min(best + 4, 40)
    assert np.isfinite(watched).all() and (watched > 0).all()
    # the task's validation loss, not the sum: recomputed from the kept weights
    net = model.net_
    _, valid = net.get_split_datasets(*_encoded(model, X, Y))
    with torch.no_grad():
        recomputed = net.criterion_.task_loss(net.forward(valid), valid.y, valid.weight)[0]
    assert float(recomputed) == pytest.approx(watched[best], rel=1e-5)
    by_sum = MMoEClassifier(early_stopping=True, random_state=0, **params).fit(X, Y)
    assert "valid_loss_task0" not in by_sum.net_.history[-1]


def _encoded(model, X, Y):
    """The training data as the net sees it: 0/1 labels, zero weight where one is missing."""
    observed = ~np.isnan(Y)
    y = np.where(observed, Y, 0).astype(np.float32)
    dataset = TensorBatchDataset(X, y, observed.astype(np.float32))
    return dataset, None


@pytest.mark.parametrize("task", [2, -1, 1.5, "0"])
def test_a_wrong_early_stopping_task_is_refused_and_nothing_is_fitted(scarce_pair, task):
    X, Y = scarce_pair
    model = MMoEClassifier(early_stopping=True, early_stopping_task=task, **MOE_FAST)
    with pytest.raises((ValueError, TypeError), match="early_stopping_task"):
        model.fit(X, Y)
    with pytest.raises(NotFittedError):
        model.predict(X)


def test_early_stopping_on_a_task_without_validation_labels_is_a_clear_error(scarce_pair):
    X, Y = scarce_pair
    Y = Y.copy()
    Y[2:, 0] = np.nan  # two labels of task 0: 10 % of them is none
    Y[:2, 0] = [0, 1]
    model = MMoEClassifier(early_stopping=True, early_stopping_task=0, **MOE_FAST)
    with pytest.raises(ValueError, match="no label of task 0"):
        model.fit(X, Y)
    with pytest.raises(NotFittedError):
        model.predict(X)


def test_the_epoch_normalised_loss_is_the_batch_one_when_every_label_is_present():
    X, Y = make_task_pair(300, correlation=0.9, target="regression", random_state=0)
    batch = MMoERegressor(random_state=0, **MOE_FAST).fit(X, Y)
    epoch = MMoERegressor(loss_normalization="epoch", random_state=0, **MOE_FAST).fit(X, Y)
    np.testing.assert_allclose(batch.predict(X), epoch.predict(X), rtol=1e-5, atol=1e-6)


def test_the_epoch_normalised_loss_reads_each_tasks_labels_per_training_row(scarce_pair):
    X, Y = scarce_pair
    model = MMoEClassifier(loss_normalization="epoch", early_stopping=True, random_state=0,
                           **MOE_FAST).fit(X, Y)  # fmt: skip
    density = model.net_.criterion_.task_loss.row_density.tolist()
    # 60 labels in 1,200 rows, divided in proportion between the 90 % and the 10 %
    assert density == pytest.approx([54 / 1080, 1.0])
    batch = MMoEClassifier(early_stopping=True, random_state=0, **MOE_FAST).fit(X, Y)
    assert batch.net_.criterion_.task_loss.row_density is None
    assert not np.allclose(model.predict_proba(X)[0], batch.predict_proba(X)[0])
    for proba in model.predict_proba(X):
        assert ((proba >= 0) & (proba <= 1)).all()


def test_the_options_survive_clone_save_load_and_partial_fit(scarce_pair, tmp_path):
    X, Y = scarce_pair
    model = MMoEClassifier(loss_normalization="epoch", early_stopping=True,
                           early_stopping_task=0, random_state=0, **MOE_FAST).fit(X, Y)  # fmt: skip
    params = clone(model).get_params()
    assert params["loss_normalization"] == "epoch" and params["early_stopping_task"] == 0
    path = tmp_path / "scarce.skmtl"
    save(model, path)
    loaded = load(path)
    assert loaded.get_params()["early_stopping_task"] == 0
    for a, b in zip(model.predict_proba(X), loaded.predict_proba(X)):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    partial = MMoEClassifier(loss_normalization="epoch", random_state=0, **MOE_FAST)
    for chunk in np.array_split(np.arange(len(X)), 3):
        partial.partial_fit(X[chunk], Y[chunk], classes=[[0, 1], [0, 1]])
    density = partial.net_.criterion_.task_loss.row_density.tolist()
    last = np.array_split(np.arange(len(X)), 3)[-1]
    assert density == pytest.approx([np.mean(~np.isnan(Y[last, 0])), 1.0])
