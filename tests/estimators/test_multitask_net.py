"""MultiTaskNet: binary, multi-class and regression tasks in one model."""

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import accuracy_score, r2_score, roc_auc_score

from sklearn_mtl import MultiTaskNet
from sklearn_mtl.architectures import (
    ARCHITECTURES,
    ESMM,
    PLE,
    AdaptiveSharing,
    CrossStitch,
    MMoE,
    OMoE,
    SharedBottom,
)

FAST = {"max_epochs": 20, "lr": 1e-2, "random_state": 0}
SMALL_ARCHITECTURES = {
    "shared_bottom": SharedBottom(bottom_units=(16,), tower_units=(8,)),
    "omoe": OMoE(2, expert_units=(8,), tower_units=(8,)),
    "mmoe": MMoE(2, expert_units=(8,), tower_units=(8,)),
    "ple": PLE(1, n_shared_experts=1, expert_units=(8,), tower_units=(8,)),
    "cross_stitch": CrossStitch(column_units=(16,), tower_units=(8,)),
    "adaptive": AdaptiveSharing(units=(16, 8), tower_units=(8,), split_every=1),
    "esmm": ESMM(bottom_units=(16,), tower_units=(8,)),
}
MIXED_TASK_ARCHITECTURES = sorted(name for name, cls in ARCHITECTURES.items() if cls.mixed_tasks)


@pytest.fixture(scope="module")
def recsys():
    """Click (binary), watch time (regression) and genre (3 classes) of 800 impressions."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((800, 6)).astype(np.float32)
    click = np.where(X[:, 0] + 0.3 * rng.standard_normal(800) > 0, "click", "skip")
    watch = 30 + 10 * X[:, 1] + 5 * X[:, 0] + rng.standard_normal(800)
    genre = np.array(["drama", "comedy", "news"])[np.argmax(X[:, 2:5], axis=1)]
    return X, pd.DataFrame({"click": click, "watch_time": watch, "genre": genre})


@pytest.fixture(scope="module")
def fitted(recsys):
    X, y = recsys
    return MultiTaskNet(MMoE(expert_units=(32,), tower_units=(8,)), **FAST).fit(X[:600], y[:600])


def test_each_task_is_learnt_with_its_own_type(recsys, fitted):
    X, y = recsys
    X_test, y_test = X[600:], y[600:]
    assert fitted.task_types_ == ["binary", "regression", "multiclass"]  # read from the labels
    proba_click, proba_watch, proba_genre = fitted.predict_proba(X_test)
    assert proba_watch is None and proba_click.shape == (200, 2) and proba_genre.shape == (200, 3)
    assert roc_auc_score(y_test["click"] == "skip", proba_click[:, 1]) > 0.9
    predicted = fitted.predict(X_test)
    assert predicted.dtype == object and predicted.shape == (200, 3)
    assert set(predicted[:, 0]) <= {"click", "skip"} and set(predicted[:, 2]) <= {
        "comedy", "drama", "news",
    }  # fmt: skip
    assert r2_score(y_test["watch_time"], predicted[:, 1].astype(float)) > 0.8
    assert np.mean(predicted[:, 2] == y_test["genre"]) > 0.7
    np.testing.assert_array_equal(fitted.classes_[1], None)
    assert 0.7 < fitted.score(X_test, y_test) <= 1


def test_every_named_architecture_has_a_small_instance_here():
    assert set(SMALL_ARCHITECTURES) == set(ARCHITECTURES)
    for name, architecture in SMALL_ARCHITECTURES.items():
        assert type(architecture) is ARCHITECTURES[name]


@pytest.mark.parametrize("architecture", MIXED_TASK_ARCHITECTURES)
def test_every_architecture_with_mixed_tasks(recsys, architecture):
    X, y = recsys
    model = MultiTaskNet(SMALL_ARCHITECTURES[architecture], **{**FAST, "max_epochs": 3})
    model.fit(X, y, sample_weight=np.linspace(0.5, 1.5, 800))
    assert model.predict(X[:5]).shape == (5, 3)
    if architecture in {"omoe", "mmoe", "ple"}:
        weights = model.gate_weights(X[:5])
        assert (weights[-1] if isinstance(weights, list) else weights).shape[:2] == (5, 3)
    else:  # sklearn's available_if: the method exists only for a gated architecture
        assert not hasattr(model, "gate_weights")
        assert not hasattr(MultiTaskNet(architecture), "gate_weights")


def test_an_architecture_of_fixed_tasks_trains_them_and_refuses_others(recsys):
    """ESMM declares mixed_tasks = False: click then conversion, by name too."""
    assert MIXED_TASK_ARCHITECTURES == sorted(set(ARCHITECTURES) - {"esmm"})
    X, y = recsys
    click = (y["click"] == "click").to_numpy().astype(int)
    conversion = click * (X[:, 1] > 0)
    model = MultiTaskNet("esmm", **{**FAST, "max_epochs": 3}).fit(X, np.c_[click, conversion])
    p_click, p_conversion = (proba[:, 1] for proba in model.predict_proba(X))
    assert np.all(p_conversion <= p_click + 1e-6)  # pCTCVR = pCTR x pCVR
    assert roc_auc_score(click, p_click) > 0.8
    with pytest.raises(ValueError, match="ESMM models two binary tasks"):
        MultiTaskNet(SMALL_ARCHITECTURES["esmm"], max_epochs=1).fit(X, y)


def test_an_architecture_name_is_its_default_instance(recsys):
    X, y = recsys
    by_name = MultiTaskNet("ple", **{**FAST, "max_epochs": 2}).fit(X, y)
    by_object = MultiTaskNet(PLE(), **{**FAST, "max_epochs": 2}).fit(X, y)
    np.testing.assert_array_equal(by_name.predict(X[:20]), by_object.predict(X[:20]))


def test_grid_search_reaches_the_architecture_parameters(recsys):
    from sklearn.model_selection import GridSearchCV, KFold

    X, y = recsys
    architecture = MMoE(2, expert_units=(8,), tower_units=(8,))
    model = MultiTaskNet(architecture, **{**FAST, "max_epochs": 2})
    assert model.get_params()["architecture__n_experts"] == 2
    search = GridSearchCV(model, {"architecture__n_experts": [1, 3]}, cv=KFold(2)).fit(X, y)
    assert search.best_estimator_.architecture.n_experts in (1, 3)
    assert architecture.n_experts == 2  # cloned, never changed in place
    experts = search.best_estimator_.net_.module_.model.experts
    assert experts.weights[0].shape[0] == search.best_estimator_.architecture.n_experts


def test_an_invalid_architecture_parameter_names_the_architecture(recsys):
    X, y = recsys
    with pytest.raises(ValueError, match="'n_experts' parameter of MMoE must be an int"):
        MultiTaskNet(MMoE(0), max_epochs=1).fit(X, y)
    with pytest.raises(ValueError, match="'architecture' parameter of MultiTaskNet"):
        MultiTaskNet("transformer", max_epochs=1).fit(X, y)


def test_probabilistic_labels_train_a_binary_head():
    """Soft labels P(class 1), as a label model gives them: learnt with a soft cross-entropy."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((600, 4))
    truth = X[:, 0] > 0
    soft = np.clip(np.where(truth, 0.85, 0.15) + 0.1 * rng.standard_normal(600), 0, 1)
    soft[::10] = np.nan  # an item every source abstained on: masked
    y = np.column_stack([soft, 2 * X[:, 1]])
    model = MultiTaskNet(task_types=["probabilistic", "regression"], **FAST).fit(X, y)
    assert model.task_types_ == ["probabilistic", "regression"]
    np.testing.assert_array_equal(model.classes_[0], [0, 1])
    proba = model.predict_proba(X)[0]
    assert proba.shape == (600, 2) and ((proba >= 0) & (proba <= 1)).all()
    assert roc_auc_score(truth, proba[:, 1]) > 0.95
    # the soft targets are matched, not pushed to 0 and 1 as hard labels would be
    assert 0.1 < proba[truth, 1].mean() < 0.95
    assert set(model.predict(X)[:, 0]) <= {0, 1}
    with pytest.raises(ValueError, match=r"probabilistic labels, which must lie in \[0, 1\]"):
        MultiTaskNet(task_types=["probabilistic", "regression"], max_epochs=1).fit(X, y * 3)


def test_missing_labels_and_explicit_task_types(recsys):
    X, y = recsys
    y = y.copy()
    y.loc[::3, "watch_time"] = np.nan
    y.loc[1::4, "click"] = None
    types = ["binary", "regression", "multiclass"]
    model = MultiTaskNet(SMALL_ARCHITECTURES["mmoe"], task_types=types, **{**FAST, "max_epochs": 3})
    model.fit(X, y)
    assert np.isfinite(model.score(X, y))


def test_per_task_validation_scores_for_early_stopping(recsys):
    X, y = recsys
    model = MultiTaskNet(MMoE(expert_units=(8,), tower_units=(8,)), early_stopping=True,
                         n_iter_no_change=3, **{**FAST, "max_epochs": 6}).fit(X, y)  # fmt: skip
    history = model.net_.history
    for key in ["valid_roc_auc_task0", "valid_r2_task1", "valid_accuracy_task2"]:
        scores = history[:, key]
        flags = history[:, f"{key}_best"]
        assert flags[0] and len(scores) == len(model.net_.history)
        for i in range(1, len(scores)):  # higher is better for every score
            assert flags[i] == (scores[i] > max(scores[:i]))


@pytest.mark.parametrize(
    "task_types, match",
    [
        (["binary", "regression"], "one of \\['binary', 'multiclass', 'regression', 'prob"),
        (["binary", "regression", "ranking"], "one of"),
        (["binary", "regression", "binary"], "binary task with 3 class"),
        (["regression", "regression", "multiclass"], "regression task but not numeric"),
    ],
)
def test_task_type_errors(recsys, task_types, match):
    X, y = recsys
    model = MultiTaskNet(task_types=task_types, max_epochs=1)
    with pytest.raises(ValueError, match=match):
        model.fit(X, y)
    assert not hasattr(model, "net_")


def test_score_of_mixed_task_types_is_accuracy_and_r2_per_task(recwarn):
    """The audit's case: a binary task stored as floats beside a regression task."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 4))
    y = np.column_stack([X[:, 0] > 0, 3 * X[:, 1]]).astype(float)
    model = MultiTaskNet(task_types=["binary", "regression"], **FAST)
    model.fit(X, y)
    predicted = model.predict(X)
    expected = np.mean(
        [accuracy_score(y[:, 0], predicted[:, 0]), r2_score(y[:, 1], predicted[:, 1])]
    )
    assert model.score(X, y) == pytest.approx(expected)
    assert expected > 0.8  # the binary task was scored as an "unknown" target, wrongly
    assert not [w for w in recwarn if issubclass(w.category, UndefinedMetricWarning)]


def test_esmm_as_an_architecture_takes_two_binary_tasks_only():
    from sklearn_mtl.architectures import ESMM
    from sklearn_mtl.datasets import make_click_conversion

    X, Y = make_click_conversion(600, random_state=0)
    model = MultiTaskNet(ESMM(bottom_units=(8,)), max_epochs=2, random_state=0).fit(X, Y)
    p_click, p_conversion = model.predict_proba(X)
    assert (p_conversion[:, 1] <= p_click[:, 1] + 1e-6).all()  # pCTCVR <= pCTR
    with pytest.raises(ValueError, match="ESMM models two binary tasks"):
        MultiTaskNet(ESMM(), task_types=["binary", "regression"], max_epochs=1).fit(X, Y)
