"""warm_start, resuming from a skorch Checkpoint, and interrupted fits."""

import json

import numpy as np
import pytest
from skorch.callbacks import Callback, Checkpoint

from sklearn_mtl import MMoEClassifier, MMoERegressor
from sklearn_mtl._training.checkpoint import CheckpointManifest
from sklearn_mtl.datasets import make_task_pair
from tests._callbacks import InterruptAt

SMALL = {"n_experts": 2, "expert_units": (8,), "tower_units": (4,), "batch_size": 32, "lr": 1e-2}


@pytest.fixture(scope="module")
def data():
    return make_task_pair(400, 0.5, n_features=6, target="binary", random_state=0)


def test_an_interrupt_keeps_the_model_of_the_last_finished_epoch(data):
    X, Y = data
    interrupted = MMoEClassifier(**SMALL, max_epochs=5, random_state=0,
                                 callbacks=[InterruptAt(epoch=3)])  # fmt: skip
    message = "interrupted during epoch 3; the model is that of epoch 2"
    with pytest.warns(UserWarning, match=message):
        interrupted.fit(X, Y)
    assert interrupted.n_iter_ == 2 == len(interrupted.net_.history)
    two_epochs = MMoEClassifier(**SMALL, max_epochs=2, random_state=0).fit(X, Y)
    np.testing.assert_array_equal(interrupted.predict_proba(X)[0], two_epochs.predict_proba(X)[0])


def test_an_interrupt_in_a_partial_fit_keeps_the_epochs_before_it(data):
    """The rewind is a callback: it serves every call that trains, not fit alone."""
    X, Y = data
    model = MMoEClassifier(**SMALL, random_state=0, callbacks=[InterruptAt(epoch=3, batch=1)])
    for _ in range(2):
        model.partial_fit(X, Y, classes=[[0, 1], [0, 1]])
    before = model.predict_proba(X)[0]
    with pytest.warns(
        UserWarning, match="interrupted during epoch 3; the model is that of epoch 2"
    ):
        model.partial_fit(X, Y)
    assert model.n_iter_ == 2
    np.testing.assert_array_equal(model.predict_proba(X)[0], before)
    assert dict(model.net_.callbacks_)["rewind_on_interrupt"].last_epoch_ is None  # not kept


def test_an_early_stop_is_not_taken_for_an_interrupt(data, recwarn):
    X, Y = data
    model = MMoEClassifier(**SMALL, max_epochs=60, early_stopping=True, n_iter_no_change=2,
                           random_state=0).fit(X, Y)  # fmt: skip
    assert model.n_iter_ < 60  # stopped early, by skorch's KeyboardInterrupt
    assert not [w for w in recwarn if "interrupted" in str(w.message)]


def test_an_interrupt_before_any_epoch_finished_leaves_nothing(data):
    X, Y = data
    model = MMoEClassifier(**SMALL, max_epochs=5, callbacks=[InterruptAt(epoch=1)])
    with pytest.raises(KeyboardInterrupt):
        model.fit(X, Y)
    assert not hasattr(model, "net_")


def test_early_stopping_stops_quietly(data, recwarn):
    X, Y = data
    model = MMoEClassifier(**SMALL, max_epochs=200, early_stopping=True, n_iter_no_change=2,
                           random_state=0).fit(X, Y)  # fmt: skip
    assert model.n_iter_ < 200
    assert not [w for w in recwarn if "interrupted" in str(w.message)]


@pytest.mark.parametrize(
    "lr_schedule, loss_weighting",
    [("constant", "equal"), ("cosine", "equal"), ("constant", "dwa"), ("constant", "gradnorm")],
)
def test_resuming_from_a_checkpoint_gives_the_uninterrupted_fit(
    data, tmp_path, lr_schedule, loss_weighting
):
    """With a cosine schedule, the resumed epochs also run at the uninterrupted fit's rates.

    DWA's last two epochs of losses and GradNorm's start are not tensors of
    the checkpoint's criterion; they are rebuilt from its history.
    """
    X, Y = data
    settings = {**SMALL, "dropout": 0.2, "max_epochs": 6, "lr_schedule": lr_schedule,
                "loss_weighting": loss_weighting}  # fmt: skip

    def model(*callbacks):
        checkpoint = Checkpoint(dirname=str(tmp_path / "checkpoint"), monitor=None)
        return MMoEClassifier(**settings, random_state=0, callbacks=[checkpoint, *callbacks])

    uninterrupted = MMoEClassifier(**settings, random_state=0).fit(X, Y)
    with pytest.warns(UserWarning, match="interrupted during epoch 4"):
        model(InterruptAt(epoch=4)).fit(X, Y)  # the checkpoint holds epoch 3
    resumed = model().fit(X, Y, resume_from=tmp_path / "checkpoint")
    assert resumed.n_iter_ == 6
    np.testing.assert_array_equal(resumed.predict_proba(X)[0], uninterrupted.predict_proba(X)[0])
    for key in ("train_loss", "task_weights"):
        np.testing.assert_allclose(resumed.net_.history[:, key], uninterrupted.net_.history[:, key])
    if lr_schedule == "cosine":
        np.testing.assert_allclose(
            resumed.net_.history[:, "event_lr"], uninterrupted.net_.history[:, "event_lr"]
        )


class Killed(BaseException):
    """Stands for SIGKILL: nothing in the fit handles it."""


@pytest.mark.parametrize(
    "writes_before_the_kill, outcome",
    # skorch writes criterion.pt, optimizer.pt, params.pt, history.json in turn; the
    # criterion (equal weighting) is the same in every epoch, so a kill after it alone
    # leaves a consistent checkpoint of epoch 3
    [(1, "exact"), (2, "refused"), (3, "refused"), (4, "refused"), (5, "refused")],
)
def test_a_checkpoint_killed_mid_write_resumes_exactly_or_is_refused(
    data, tmp_path, monkeypatch, writes_before_the_kill, outcome
):
    """A kill between the checkpoint's files leaves files of two epochs.

    The audit resumed such a folder silently (a different model, or 7 epochs
    run while n_iter_ said 6); now the files must match their manifest.
    """
    from skorch import NeuralNet

    X, Y = data
    save_params, writes = NeuralNet.save_params, []

    def killed_in_epoch_4(net, *args, **kwargs):
        if len(net.history) == 4:
            if len(writes) == writes_before_the_kill:
                raise Killed
            writes.append(kwargs)
        return save_params(net, *args, **kwargs)

    monkeypatch.setattr(NeuralNet, "save_params", killed_in_epoch_4)
    write_manifest = CheckpointManifest._write

    def manifest_killed_in_epoch_4(self, net, checkpoint):
        if len(net.history) == 4:
            raise Killed  # every file of epoch 4 written, not yet its manifest
        write_manifest(self, net, checkpoint)

    monkeypatch.setattr(CheckpointManifest, "_write", manifest_killed_in_epoch_4)
    checkpoint = Checkpoint(dirname=str(tmp_path / "checkpoint"), monitor=None)
    model = MMoEClassifier(**SMALL, max_epochs=6, random_state=0, callbacks=[checkpoint])
    with pytest.raises(Killed):
        model.fit(X, Y)
    monkeypatch.undo()
    if outcome == "refused":
        with pytest.raises(ValueError, match="does not match the manifest.json written with "
                           "the checkpoint of epoch 3.*killed while writing"):  # fmt: skip
            model.fit(X, Y, resume_from=tmp_path / "checkpoint")
        assert not hasattr(model, "net_")
        return
    resumed = model.fit(X, Y, resume_from=tmp_path / "checkpoint")
    uninterrupted = MMoEClassifier(**SMALL, max_epochs=6, random_state=0).fit(X, Y)
    assert resumed.n_iter_ == 6 == len(resumed.net_.history)
    np.testing.assert_array_equal(resumed.predict_proba(X)[0], uninterrupted.predict_proba(X)[0])


def test_a_checkpoint_without_a_manifest_is_refused(data, tmp_path):
    X, Y = data
    checkpoint = Checkpoint(dirname=str(tmp_path / "checkpoint"), monitor=None)
    MMoEClassifier(**SMALL, max_epochs=2, callbacks=[checkpoint]).fit(X, Y)
    assert (tmp_path / "checkpoint" / "manifest.json").is_file()
    (tmp_path / "checkpoint" / "manifest.json").unlink()
    with pytest.raises(ValueError, match="has no valid manifest.json"):
        MMoEClassifier(**SMALL, max_epochs=4).fit(X, Y, resume_from=tmp_path / "checkpoint")


def test_resume_from_a_folder_without_a_checkpoint_is_an_error(data, tmp_path):
    X, Y = data
    with pytest.raises(ValueError, match="holds no checkpoint"):
        MMoEClassifier(**SMALL).fit(X, Y, resume_from=tmp_path)


def _weights(model):
    return np.concatenate([p.detach().numpy().ravel() for p in model.net_.module_.parameters()])


def test_warm_start_continues_from_the_fitted_state(data):
    X, Y = data
    Y = Y.astype(float)
    model = MMoERegressor(**SMALL, max_epochs=2, warm_start=True, random_state=0).fit(X, Y)
    first = _weights(model)
    model.fit(X, Y)
    assert model.n_iter_ == 4 == len(model.net_.history)
    assert not np.array_equal(_weights(model), first)
    # epochs 3 and 4 draw what a 4-epoch fit draws (each epoch seeds itself)
    four = MMoERegressor(**SMALL, max_epochs=4, random_state=0).fit(X, Y)
    np.testing.assert_allclose(model.predict(X), four.predict(X), rtol=1e-5, atol=1e-6)
    cold = MMoERegressor(**SMALL, max_epochs=2, random_state=0).fit(X, Y).fit(X, Y)
    assert cold.n_iter_ == 2
    np.testing.assert_array_equal(_weights(cold), first)


class KilledAt(Callback):
    """Stands for a kill (SIGKILL) as epoch `epoch` begins: nothing handles it."""

    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_begin(self, net, **kwargs):
        if len(net.history) == self.epoch:
            raise Killed


@pytest.fixture(scope="module")
def stopping_data():
    """1,100 rows: early_stopping='auto' holds out a validation split and stops early."""
    return make_task_pair(1100, 0.5, n_features=6, target="binary", random_state=1)


STOPPING = {**SMALL, "max_epochs": 40, "n_iter_no_change": 3, "dropout": 0.1}


def test_a_fit_that_stops_early_resumes_exactly(stopping_data, tmp_path):
    """Killed one epoch after its best epoch: the patience counter and best weights resume.

    The audit's resume ran 17 epochs where the uninterrupted fit ran 12, and its
    probabilities differed by up to 0.93: skorch's checkpoint does not hold
    EarlyStopping's state.
    """
    X, Y = stopping_data
    uninterrupted = MMoEClassifier(**STOPPING, random_state=0).fit(X, Y)
    history = uninterrupted.net_.history
    assert "valid_loss" in history[-1]  # the 'auto' regime: early stopping is on
    best = max(e["epoch"] for e in history if e["valid_loss_best"])
    assert best + 1 < uninterrupted.n_iter_ < STOPPING["max_epochs"]
    folder = tmp_path / "checkpoint"

    def model(*callbacks):
        checkpoint = Checkpoint(dirname=str(folder), monitor=None)
        return MMoEClassifier(**STOPPING, random_state=0, callbacks=[checkpoint, *callbacks])

    with pytest.raises(Killed):  # the checkpoint holds the epoch after the best one
        model(KilledAt(epoch=best + 2)).fit(X, Y)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["epochs"] == best + 1
    assert manifest["early_stopping"]["early_stopping"]["misses"] == 1
    assert "early_stopping_best_params.pt" in manifest["files"]  # hashed with the others
    resumed = model().fit(X, Y, resume_from=folder)
    assert resumed.n_iter_ == uninterrupted.n_iter_
    for key in ("train_loss", "valid_loss", "valid_loss_best", "valid_roc_auc_task0_best"):
        assert resumed.net_.history[:, key] == pytest.approx(history[:, key]), key
    for resumed_proba, proba in zip(resumed.predict_proba(X), uninterrupted.predict_proba(X)):
        np.testing.assert_array_equal(resumed_proba, proba)


def _killed_fit(X, Y, folder, epoch: int, estimator=MMoEClassifier, **settings):
    """The checkpoint a fit with ``settings`` leaves when killed as ``epoch`` begins."""
    checkpoint = Checkpoint(dirname=str(folder), monitor=None)
    model = estimator(random_state=0, callbacks=[checkpoint, KilledAt(epoch)], **settings)
    with pytest.raises(Killed):
        model.fit(X, Y)
    return folder


def test_a_checkpoint_whose_best_weights_were_changed_is_refused(stopping_data, tmp_path):
    X, Y = stopping_data
    history = MMoEClassifier(**STOPPING, random_state=0).fit(X, Y).net_.history
    best = max(e["epoch"] for e in history if e["valid_loss_best"])
    folder = _killed_fit(X, Y, tmp_path / "checkpoint", best + 2, **STOPPING)
    weights = folder / "early_stopping_best_params.pt"  # the best epoch is not the last
    weights.write_bytes(weights.read_bytes()[:-8])
    with pytest.raises(ValueError, match="early_stopping_best_params.pt does not match"):
        MMoEClassifier(**STOPPING, random_state=0).fit(X, Y, resume_from=folder)


def test_a_resume_with_other_early_stopping_is_refused(stopping_data, tmp_path):
    X, Y = stopping_data
    folder = _killed_fit(X, Y, tmp_path / "checkpoint", 3, **STOPPING)
    plain = MMoEClassifier(**STOPPING, early_stopping=False, random_state=0)
    with pytest.raises(ValueError, match="written by a fit with early stopping.*without it"):
        plain.fit(X, Y, resume_from=folder)
    assert not hasattr(plain, "net_")


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda X, Y: (X[:-50], Y[:-50]), "X has 1050 rows of 6 encoded columns"),
        (lambda X, Y: (X + 1.0, Y), "the input means differ \\(numeric column 0"),
        (lambda X, Y: (X, Y[:, ::-1].copy()), "the values of X, y or sample_weight differ"),
        (lambda X, Y: (X[::-1].copy(), Y[::-1].copy()), ""),  # the sums' rounding differs
    ],
    ids=["fewer rows", "shifted inputs", "other labels", "other row order"],
)
def test_a_resume_on_other_data_is_refused(stopping_data, tmp_path, change, message):
    """The audit resumed on another data set silently (target statistics re-learnt)."""
    X, Y = stopping_data
    folder = _killed_fit(X, Y, tmp_path / "checkpoint", 3, **STOPPING)
    model = MMoEClassifier(**STOPPING, random_state=0)
    with pytest.raises(ValueError, match="was written by a fit on other data: " + message):
        model.fit(*change(X, Y), resume_from=folder)
    assert not hasattr(model, "net_")


def test_a_regressor_resume_on_other_targets_names_their_statistics(data, tmp_path):
    X, Y = data
    Y = Y.astype(float) * 10.0 + 5.0
    folder = _killed_fit(X, Y, tmp_path / "checkpoint", 3, MMoERegressor, **SMALL, max_epochs=6)
    with pytest.raises(ValueError, match="the targets of task 1 differ \\(regression, mean"):
        MMoERegressor(**SMALL, max_epochs=6).fit(
            X, np.column_stack([Y[:, 0], Y[:, 1] * 1.4]), resume_from=folder
        )
    resumed = MMoERegressor(**SMALL, max_epochs=6, random_state=0).fit(X, Y, resume_from=folder)
    assert resumed.n_iter_ == 6
