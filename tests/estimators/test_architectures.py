"""PLE, Cross-Stitch, gate inspection and the funnel option, at the estimator level."""

import matplotlib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.metrics import roc_auc_score

from sklearn_mtl import (
    CrossStitchClassifier,
    CrossStitchRegressor,
    MMoEClassifier,
    MMoERegressor,
    OMoEClassifier,
    PLEClassifier,
    PLERegressor,
    SharedBottomClassifier,
)
from sklearn_mtl.datasets import make_task_pair
from sklearn_mtl.inspection import expert_utilization, plot_expert_utilization
from tests._settings import CROSS_STITCH_FAST, MOE_FAST, PLE_FAST

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def binary_pair():
    return make_task_pair(600, 0.9, n_features=8, target="binary", random_state=0)


@pytest.mark.parametrize(
    "estimator", [PLEClassifier(**PLE_FAST), CrossStitchClassifier(**CROSS_STITCH_FAST)],
    ids=lambda e: type(e).__name__,
)  # fmt: skip
def test_new_classifiers_beat_a_constant_predictor(estimator, binary_pair):
    X, Y = binary_pair
    train, test = slice(0, 450), slice(450, None)
    model = clone(estimator).set_params(random_state=0).fit(X[train], Y[train])
    for task, proba in enumerate(model.predict_proba(X[test])):
        assert roc_auc_score(Y[test, task], proba[:, 1]) > 0.8  # a constant scores 0.5


def test_gate_weights_of_mmoe_omoe_and_ple(binary_pair):
    X, Y = binary_pair
    mmoe = MMoEClassifier(**{**MOE_FAST, "max_epochs": 3}, random_state=0).fit(X, Y)
    weights = mmoe.gate_weights(X[:50])
    assert weights.shape == (50, 2, 3)
    np.testing.assert_allclose(weights.sum(axis=2), 1.0, rtol=1e-6)
    assert not np.allclose(weights[:, 0], weights[:, 1])  # one gate per task
    omoe = OMoEClassifier(**{**MOE_FAST, "max_epochs": 3}, random_state=0).fit(X, Y)
    shared = omoe.gate_weights(X[:50])
    np.testing.assert_array_equal(shared[:, 0], shared[:, 1])  # one gate for all tasks
    ple = PLEClassifier(**{**PLE_FAST, "n_levels": 2, "max_epochs": 3}, random_state=0).fit(X, Y)
    levels = ple.gate_weights(X[:50])
    assert [level.shape for level in levels] == [(50, 2, 3)] * 2  # 2 x 1 own + 1 shared
    assert np.all(levels[0][:, 0, 1] == 0) and np.all(levels[0][:, 1, 0] == 0)
    assert not hasattr(SharedBottomClassifier(), "gate_weights")


def test_expert_utilization_heatmap(binary_pair, tmp_path):
    X, Y = binary_pair
    model = PLERegressor(**{**PLE_FAST, "max_epochs": 2}, random_state=0).fit(X, Y.astype(float))
    utilization = expert_utilization(model, X)
    assert len(utilization) == 2 and utilization[0].shape == (2, 3)
    np.testing.assert_allclose(utilization[0].sum(axis=1), 1.0, rtol=1e-6)
    axes = plot_expert_utilization(model, X, task_names=["income", "marital"])
    assert len(axes) == 2 and axes[0].get_yticklabels()[0].get_text() == "income"
    path = tmp_path / "utilization.png"
    axes[0].figure.savefig(path)
    assert path.stat().st_size > 0
    with pytest.raises(TypeError, match="has no gates"):
        expert_utilization(SharedBottomClassifier(max_epochs=1).fit(X, Y), X)


def test_cross_stitch_exposes_learnt_stitches(binary_pair):
    X, Y = binary_pair
    Y3 = np.column_stack([Y, Y[:, 0]])
    model = CrossStitchClassifier(column_units=(8, 6), stitch_init=0.8, max_epochs=5,
                                  random_state=0).fit(X, Y3)  # fmt: skip
    assert [m.shape for m in model.stitch_matrices_] == [(3, 3), (3, 3)]
    for matrix in model.stitch_matrices_:  # learnt, but still near the initial 0.8 / 0.1
        assert not np.allclose(np.diag(matrix), 0.8)
        assert np.all(np.abs(np.diag(matrix) - 0.8) < 0.3)


def test_ple_errors():
    X, Y = make_task_pair(50, 0.5, n_features=4, random_state=0)
    with pytest.raises(ValueError, match="n_task_experts \\+ n_shared_experts must be at least"):
        PLERegressor(n_task_experts=0, n_shared_experts=0).fit(X, Y)
    with pytest.raises(ValueError, match="The 'n_levels' parameter of PLERegressor"):
        PLERegressor(n_levels=0).fit(X, Y)
    with pytest.raises(ValueError, match="The 'stitch_init' parameter"):
        CrossStitchRegressor(stitch_init=1.5).fit(X, Y)


def _funnel_breaking_data(n=600, seed=0):
    """Labels where the lower task is likelier than the upper one for x0 > 0."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 4)).astype(np.float32)
    upper = rng.uniform(size=n) < 1 / (1 + np.exp(2 * X[:, 0]))
    lower = rng.uniform(size=n) < 1 / (1 + np.exp(-2 * X[:, 0]))
    return X, np.column_stack([upper, lower]).astype(int)


def test_funnel_penalty_keeps_the_lower_task_below_the_upper_one():
    X, Y = _funnel_breaking_data()
    params = dict(**MOE_FAST, random_state=0)

    def violations(model):
        p_upper, p_lower = (p[:, 1] for p in model.predict_proba(X))
        return np.mean(p_lower > p_upper + 0.02)

    free = MMoEClassifier(**params).fit(X, Y)
    constrained = MMoEClassifier(**params, funnel=(0, 1), funnel_penalty=20.0).fit(X, Y)
    assert violations(free) > 0.3
    assert violations(constrained) < 0.02


def test_funnel_penalty_on_regression_tasks():
    X, Y = _funnel_breaking_data()
    Y = np.column_stack([-X[:, 0], X[:, 0]]) * 3 + 10  # lower > upper wherever x0 > 0
    params = dict(**MOE_FAST, random_state=0)
    free = MMoERegressor(**params).fit(X, Y).predict(X)
    constrained = MMoERegressor(**params, funnel=(0, 1), funnel_penalty=50.0).fit(X, Y)
    predicted = constrained.predict(X)
    assert np.mean(free[:, 1] > free[:, 0] + 0.1) > 0.3
    assert np.mean(predicted[:, 1] > predicted[:, 0] + 0.1) < 0.05


@pytest.mark.parametrize(
    "funnel, y_kind, match",
    [
        ((0, 0), "binary", "two different task indices"),
        ((0, 2), "binary", "two different task indices"),
        ([1], "binary", "two different task indices"),
        ((0, 1), "multiclass", "two binary or two regression tasks"),
        ((0, 1), "single", "y has a single task"),
        ("01", "binary", "The 'funnel' parameter"),
    ],
)
def test_funnel_errors(funnel, y_kind, match):
    X, Y = _funnel_breaking_data(60)
    if y_kind == "multiclass":
        Y = np.column_stack([Y[:, 0], np.arange(60) % 3])
    elif y_kind == "single":
        Y = Y[:, 0]
    model = MMoEClassifier(**{**MOE_FAST, "max_epochs": 1}, funnel=funnel)
    with pytest.raises(ValueError, match=match):
        model.fit(X, Y)
    assert not hasattr(model, "net_")


def test_the_registry_finds_every_architecture_and_refuses_one_without_a_name(monkeypatch):
    import sklearn_mtl.estimators._moe as moe
    from sklearn_mtl.estimators._architecture import (
        ARCHITECTURE_NAMES,
        Architecture,
        registered_architectures,
    )

    found = registered_architectures()
    assert set(found) == {"adaptive", "cross_stitch", "esmm", "mmoe", "omoe", "ple",
                          "shared_bottom"}  # fmt: skip
    assert all(cls.name == name for name, cls in found.items())
    assert "mmoe" in ARCHITECTURE_NAMES and "mmo" not in ARCHITECTURE_NAMES
    assert list(ARCHITECTURE_NAMES) == sorted(found) and len(ARCHITECTURE_NAMES) == len(found)

    nameless = type("Nameless", (Architecture,), {"__module__": moe.__name__})
    monkeypatch.setattr(moe, "Nameless", nameless, raising=False)
    with pytest.raises(TypeError, match="Nameless must set name, a str of its own; got None"):
        registered_architectures.__wrapped__()  # the uncached search
    twin = type("Twin", (Architecture,), {"__module__": moe.__name__, "name": "mmoe"})
    monkeypatch.setattr(moe, "Nameless", twin)
    with pytest.raises(TypeError, match="Twin must set name, a str of its own; got 'mmoe'"):
        registered_architectures.__wrapped__()
