"""The multi-output contract of the neural estimators."""

import io
import pickle
import sys

import joblib
import numpy as np
import pytest
import torch
from sklearn.base import clone, is_classifier
from sklearn.exceptions import NotFittedError
from sklearn.metrics import roc_auc_score

from sklearn_mtl import (
    ESMMClassifier,
    MMoEClassifier,
    MMoERegressor,
    OMoEClassifier,
    SharedBottomClassifier,
    SharedBottomRegressor,
)
from sklearn_mtl.datasets import make_click_conversion, make_task_pair
from tests._settings import CLASSIFIERS, MOE_FAST, NEURAL_ESTIMATORS, REGRESSORS

ids = lambda estimator: type(estimator).__name__  # noqa: E731


@pytest.fixture(scope="module")
def binary_pair():
    return make_task_pair(400, 0.9, n_features=8, target="binary", random_state=0)


@pytest.fixture(scope="module")
def regression_pair():
    return make_task_pair(400, 0.9, n_features=8, random_state=0)


def _data_for(estimator, binary_pair, regression_pair):
    if isinstance(estimator, ESMMClassifier):  # click and conversion labels
        return make_click_conversion(400, n_features=8, random_state=0)
    return binary_pair if is_classifier(estimator) else regression_pair


# --- shapes and label types -------------------------------------------------------


@pytest.mark.parametrize("estimator", CLASSIFIERS, ids=ids)
def test_classifier_multi_output_shapes(estimator, binary_pair):
    X, Y = binary_pair
    model = clone(estimator).set_params(random_state=0).fit(X, Y)
    assert model.n_tasks_ == 2
    assert isinstance(model.classes_, list) and len(model.classes_) == 2
    probas = model.predict_proba(X)
    assert isinstance(probas, list) and [p.shape for p in probas] == [(400, 2)] * 2
    for proba in probas:
        assert ((proba >= 0) & (proba <= 1)).all()
        np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    prediction = model.predict(X)
    assert prediction.shape == (400, 2) and prediction.dtype == Y.dtype
    expected = np.column_stack([c[p.argmax(axis=1)] for c, p in zip(model.classes_, probas)])
    np.testing.assert_array_equal(prediction, expected)
    assert model.score(X, Y) == pytest.approx(np.mean((prediction == Y).all(axis=1)))


@pytest.mark.parametrize("estimator", REGRESSORS, ids=ids)
def test_regressor_multi_output_shapes_and_learning(estimator, regression_pair):
    X, Y = regression_pair
    model = clone(estimator).set_params(random_state=0).fit(X, Y)
    assert model.predict(X).shape == (400, 2)
    assert model.score(X, Y) > 0.8  # learns the task pair well above a constant


@pytest.mark.parametrize("estimator", [CLASSIFIERS[0], REGRESSORS[0]], ids=ids)
def test_one_dimensional_y_gets_single_output_shapes(estimator, binary_pair):
    X, Y = binary_pair
    model = clone(estimator).set_params(random_state=0).fit(X, Y[:, 0])
    assert model.predict(X).shape == (400,)
    if hasattr(model, "classes_"):
        np.testing.assert_array_equal(model.classes_, [0, 1])
        assert model.predict_proba(X).shape == (400, 2)


def test_each_task_keeps_its_own_label_type_and_class_count():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 4))
    colour = np.array(["red", "green", "blue"])[np.digitize(X[:, 0], [-0.4, 0.4])]
    flag = X[:, 1] > 0
    y = np.column_stack([colour.astype(object), flag.astype(object)])
    model = MMoEClassifier(**MOE_FAST, random_state=0).fit(X, y)
    np.testing.assert_array_equal(model.classes_[0], ["blue", "green", "red"])
    np.testing.assert_array_equal(model.classes_[1], [False, True])
    assert [p.shape for p in model.predict_proba(X)] == [(300, 3), (300, 2)]
    prediction = model.predict(X)
    assert prediction.dtype == object
    assert set(prediction[:, 0]) <= {"red", "green", "blue"}
    assert model.score(X, y) > 0.8


def test_integer_labels_keep_integer_dtype(binary_pair):
    X, Y = binary_pair
    model = OMoEClassifier(**MOE_FAST, random_state=0).fit(X, Y + 5)
    assert model.predict(X).dtype == np.int64
    assert set(np.unique(model.predict(X))) <= {5, 6}


# --- missing labels -----------------------------------------------------------------


def test_nan_labels_are_ignored_and_the_task_still_learns(binary_pair):
    X, Y = binary_pair
    y = Y.astype(float)
    hidden = np.random.RandomState(1).rand(*y.shape) < 0.3
    y[hidden] = np.nan
    model = MMoEClassifier(**MOE_FAST, random_state=0).fit(X, y)
    np.testing.assert_array_equal(model.classes_[1], [0.0, 1.0])
    probas = model.predict_proba(X)
    assert all(np.isfinite(p).all() for p in probas)
    for t in range(2):
        assert roc_auc_score(Y[hidden[:, t], t], probas[t][hidden[:, t], 1]) > 0.8


def test_missing_label_equals_zero_weight_exactly(binary_pair):
    """NaN and a zero per-task weight remove a label from the loss in the same way."""
    X, Y = binary_pair
    hidden = np.zeros(Y.shape, dtype=bool)
    hidden[::3, 1] = True
    y_nan = Y.astype(float)
    y_nan[hidden] = np.nan
    weight = np.where(hidden, 0.0, 1.0)
    params = {**MOE_FAST, "random_state": 0}
    with_nan = MMoEClassifier(**params).fit(X, y_nan)
    with_weight = MMoEClassifier(**params).fit(X, Y.astype(float), sample_weight=weight)
    for a, b in zip(with_nan.predict_proba(X), with_weight.predict_proba(X)):
        np.testing.assert_array_equal(a, b)


def test_regressor_ignores_nan_targets(regression_pair):
    X, Y = regression_pair
    y = Y.copy()
    y[::2, 0] = np.nan
    model = SharedBottomRegressor(bottom_units=(16,), max_epochs=30, lr=1e-2, random_state=0)
    model.fit(X, y)
    assert np.isfinite(model.predict(X)).all()
    assert model.score(X, y) > 0.7  # NaN-aware: scored on labelled cells only


def test_task_without_any_label_is_an_error(binary_pair):
    X, Y = binary_pair
    y = Y.astype(float)
    y[:, 1] = np.nan
    with pytest.raises(ValueError, match="Task 1 of y has no observed label"):
        MMoEClassifier(**MOE_FAST).fit(X, y)


def test_none_marks_a_missing_string_label():
    X = np.random.RandomState(0).normal(size=(60, 3))
    y = np.array([["a", "x"], ["b", None], ["a", "y"]] * 20, dtype=object)
    model = SharedBottomClassifier(max_epochs=2, random_state=0).fit(X, y)
    np.testing.assert_array_equal(model.classes_[1], ["x", "y"])


# --- sample weights -------------------------------------------------------------------


def test_sample_weight_reaches_the_loss(binary_pair):
    X, Y = binary_pair
    params = {**MOE_FAST, "random_state": 0}
    plain = MMoEClassifier(**params).fit(X, Y)
    # Up-weight the positives of task 0 fifty-fold: its predicted rate must rise.
    weight = np.ones(Y.shape)
    weight[Y[:, 0] == 1, 0] = 50.0
    weighted = MMoEClassifier(**params).fit(X, Y, sample_weight=weight)
    assert weighted.predict(X)[:, 0].mean() > plain.predict(X)[:, 0].mean() + 0.05
    # Task 1's weights are unchanged but it shares the experts: it may move, a little.
    ones = MMoEClassifier(**params).fit(X, Y, sample_weight=np.ones(len(X)))
    for a, b in zip(plain.predict_proba(X), ones.predict_proba(X)):
        np.testing.assert_array_equal(a, b)


def test_row_weights_equal_repeated_task_weights(binary_pair):
    X, Y = binary_pair
    row = np.random.RandomState(0).uniform(0.5, 2, size=len(X))
    params = {**MOE_FAST, "random_state": 0}
    a = MMoEClassifier(**params).fit(X, Y, sample_weight=row)
    b = MMoEClassifier(**params).fit(X, Y, sample_weight=np.column_stack([row, row]))
    for pa, pb in zip(a.predict_proba(X), b.predict_proba(X)):
        np.testing.assert_array_equal(pa, pb)


@pytest.mark.parametrize(
    "weight, message",
    [
        (np.ones((400, 3)), r"sample_weight must be of shape \(n_samples,\) or"),
        (-np.ones(400), "Negative values in data passed to `sample_weight`"),
        (np.zeros((400, 2)), "at least one non-zero number"),
        (np.ones(10), r"sample_weight.shape == \(10,\), expected \(400,\)"),
    ],
)
def test_bad_sample_weight_is_rejected(binary_pair, weight, message):
    X, Y = binary_pair
    with pytest.raises(ValueError, match=message):
        MMoEClassifier(**MOE_FAST).fit(X, Y, sample_weight=weight)


# --- reproducibility, RNG hygiene, output -------------------------------------------------


@pytest.mark.parametrize("estimator", NEURAL_ESTIMATORS, ids=ids)
def test_same_random_state_same_predictions(estimator, binary_pair, regression_pair):
    X, Y = _data_for(estimator, binary_pair, regression_pair)
    estimator = clone(estimator).set_params(random_state=3, max_epochs=3, dropout=0.2)
    first = clone(estimator).fit(X, Y).predict(X)
    second = clone(estimator).fit(X, Y).predict(X)
    np.testing.assert_array_equal(first, second)


def test_fit_leaves_the_global_torch_rng_alone(binary_pair):
    X, Y = binary_pair
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    MMoEClassifier(max_epochs=2, random_state=0).fit(X, Y)
    np.testing.assert_array_equal(torch.rand(3), expected)


def test_dropout_trains_in_train_mode_and_predicts_in_eval_mode(binary_pair):
    X, Y = binary_pair
    from skorch.callbacks import Callback

    class RecordModes(Callback):
        def initialize(self):
            self.modes = set()
            return self

        def on_grad_computed(self, net, named_parameters, **kwargs):
            self.modes.add(("train", net.module_.training))

        def on_batch_end(self, net, training=False, **kwargs):
            if not training:
                self.modes.add(("valid", net.module_.training))

    model = MMoEClassifier(
        **{**MOE_FAST, "max_epochs": 3},
        dropout=0.5,
        early_stopping=True,
        random_state=0,
        callbacks=[("modes", RecordModes())],
    ).fit(X, Y)
    assert dict(model.net_.callbacks_)["modes"].modes == {("train", True), ("valid", False)}
    for a, b in zip(model.predict_proba(X), model.predict_proba(X)):
        np.testing.assert_array_equal(a, b)  # no dropout at prediction


def test_verbose_zero_prints_nothing_and_verbose_one_prints_epochs(binary_pair, capsys):
    X, Y = binary_pair
    MMoEClassifier(max_epochs=3, random_state=0, verbose=0).fit(X, Y)
    assert capsys.readouterr().out == ""
    MMoEClassifier(max_epochs=3, random_state=0, verbose=1).fit(X, Y)
    out = capsys.readouterr().out
    assert "train_loss" in out and len([line for line in out.splitlines() if "  3  " in line]) == 1
    assert "\x1b[" not in out  # skorch's colour codes only on a terminal


def test_verbose_output_keeps_its_colours_on_a_terminal(binary_pair, monkeypatch, capsys):
    X, Y = binary_pair
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    MMoEClassifier(max_epochs=3, random_state=0, verbose=1).fit(X, Y)
    assert "\x1b[" in capsys.readouterr().out


def test_early_stopping_stops_and_keeps_the_best_epoch():
    X, _ = make_task_pair(300, 0.5, n_features=20, random_state=0)
    noise = np.random.RandomState(0).randint(0, 2, size=(300, 2))  # nothing to learn
    model = MMoEClassifier(
        n_experts=4,
        expert_units=(64,),
        lr=1e-2,
        max_epochs=200,
        early_stopping=True,
        n_iter_no_change=5,
        validation_fraction=0.2,
        random_state=0,
    ).fit(X, noise)
    history = model.net_.history
    assert model.n_iter_ < 200
    best = int(np.argmin(history[:, "valid_loss"]))
    assert model.n_iter_ == best + 1 + 5
    assert "valid_loss" in history[-1]


def test_early_stopping_with_too_few_rows_says_why():
    X = np.random.RandomState(0).normal(size=(1, 3))
    with pytest.raises(ValueError, match="validation_fraction=0.1 leaves an empty training"):
        MMoERegressor(early_stopping=True, max_epochs=1).fit(X, [0.5])


def test_user_callbacks_run_on_a_copy(binary_pair):
    from skorch.callbacks import LRScheduler

    X, Y = binary_pair
    scheduler = LRScheduler(policy="StepLR", step_size=1, gamma=0.5)
    model = MMoEClassifier(max_epochs=3, callbacks=[scheduler], random_state=0).fit(X, Y)
    assert not hasattr(scheduler, "lr_scheduler_")  # the parameter was not modified
    assert model.net_.optimizer_.param_groups[0]["lr"] == pytest.approx(1e-3 / 8)


# --- bad input --------------------------------------------------------------------------


def test_predict_before_fit_raises_not_fitted(binary_pair):
    X, _ = binary_pair
    for method in ("predict", "predict_proba"):
        with pytest.raises(NotFittedError):
            getattr(MMoEClassifier(), method)(X)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_X_is_rejected(binary_pair, bad):
    X, Y = binary_pair
    X = X.copy()
    X[3, 2] = bad
    with pytest.raises(ValueError, match="Input X contains (NaN|infinity)"):
        MMoEClassifier().fit(X, Y)


def test_y_of_wrong_length_is_rejected(binary_pair):
    X, Y = binary_pair
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        MMoEClassifier().fit(X, Y[:-1])


def test_task_with_one_class_is_rejected(binary_pair):
    X, Y = binary_pair
    y = Y.copy()
    y[:, 1] = 7
    with pytest.raises(ValueError, match=r"Task 1 of y has one class only \(7\)"):
        MMoEClassifier().fit(X, y)


def test_regression_targets_given_to_a_classifier_are_rejected(regression_pair):
    X, Y = regression_pair
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        MMoEClassifier().fit(X, Y)


def test_string_targets_given_to_a_regressor_are_rejected(binary_pair):
    X, _ = binary_pair
    with pytest.raises(ValueError, match="needs numeric targets"):
        MMoERegressor().fit(X, np.array(["a", "b"] * 200))


def test_wrong_feature_count_at_predict(binary_pair):
    X, Y = binary_pair
    model = MMoEClassifier(max_epochs=1).fit(X, Y)
    with pytest.raises(ValueError, match="X has 7 features, but MMoEClassifier is expecting 8"):
        model.predict(X[:, :7])


@pytest.mark.parametrize(
    "params, message",
    [
        ({"n_experts": 0}, r"'n_experts' parameter of MMoEClassifier must be an int in the range"),
        ({"lr": -1.0}, "'lr' parameter of MMoEClassifier must be a float in the range"),
        ({"activation": "swish"}, "'activation' parameter of MMoEClassifier must be a str among"),
        ({"optimizer": "lbfgs-ish"}, "'optimizer' parameter of MMoEClassifier must be"),
        ({"optimizer": dict}, "must be one of .* or a torch.optim.Optimizer subclass"),
        ({"expert_units": (16, 0)}, r"expert_units must be a tuple of positive ints"),
        ({"expert_units": ()}, r"expert_units must be a tuple of positive ints, not empty"),
        ({"device": "gpu-please"}, "'device' parameter of MMoEClassifier must be a torch device"),
        ({"dropout": 1.0}, "'dropout' parameter of MMoEClassifier must be a float in the range"),
    ],
)
def test_invalid_hyper_parameters_are_named(binary_pair, params, message):
    X, Y = binary_pair
    with pytest.raises((ValueError, TypeError), match=message):
        MMoEClassifier(**params).fit(X, Y)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU-only message")
def test_cuda_without_cuda_says_so(binary_pair):
    X, Y = binary_pair
    with pytest.raises(ValueError, match="CUDA is not available on this machine"):
        MMoEClassifier(device="cuda").fit(X, Y)


def test_diverging_training_stops_with_a_clear_error(regression_pair):
    X, Y = regression_pair
    model = SharedBottomRegressor(optimizer="sgd", lr=1e6, max_epochs=5, random_state=0)
    with pytest.raises(FloatingPointError, match="training loss became .* try a lower lr"):
        model.fit(X * 1e3, Y)
    assert not hasattr(model, "net_") and not hasattr(model, "n_features_in_")


def test_failed_refit_leaves_nothing_half_fitted(binary_pair):
    X, Y = binary_pair
    model = MMoEClassifier(max_epochs=1).fit(X, Y)
    y = Y.copy()
    y[:, 0] = 1
    with pytest.raises(ValueError, match="one class only"):
        model.fit(X, y)
    assert not [name for name in vars(model) if name.endswith("_")]
    with pytest.raises(NotFittedError):
        model.predict(X)


# --- persistence ------------------------------------------------------------------------


@pytest.mark.parametrize("estimator", NEURAL_ESTIMATORS, ids=ids)
def test_pickle_and_joblib_round_trips_predict_identically(estimator, binary_pair, regression_pair):
    X, Y = _data_for(estimator, binary_pair, regression_pair)
    model = clone(estimator).set_params(max_epochs=2, random_state=0).fit(X, Y)
    restored = pickle.loads(pickle.dumps(model))
    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    buffer.seek(0)
    from_joblib = joblib.load(buffer)
    for other in (restored, from_joblib):
        np.testing.assert_array_equal(other.predict(X), model.predict(X))
        assert other.net_.module is other.net_.module_  # one module, device-aware pickled


@pytest.mark.parametrize("estimator", [CLASSIFIERS[0], REGRESSORS[2]], ids=ids)
def test_every_tensor_is_pickled_through_skorchs_device_aware_path(
    estimator, binary_pair, regression_pair
):
    """What makes a net trained on CUDA load on a machine without CUDA, checked on CPU.

    skorch unpickles its ``cuda_dependent_attributes_`` with a ``map_location``;
    a tensor pickled anywhere else would be rebuilt on its original device.
    """
    X, Y = _data_for(estimator, binary_pair, regression_pair)
    model = clone(estimator).set_params(max_epochs=1, random_state=0).fit(X, Y)
    state = model.net_.__getstate__()
    plain = {k: v for k, v in state.items() if k != "__cuda_dependent_attributes__"}
    assert b"_rebuild_tensor" not in pickle.dumps(plain)
    assert b"_rebuild_tensor" in state["__cuda_dependent_attributes__"]
