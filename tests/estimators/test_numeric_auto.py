"""``numeric_embedding="auto"``: one network per candidate embedding, the best on validation."""

import numpy as np
import pytest
from scipy import sparse
from sklearn.base import clone

from sklearn_mtl import MMoEClassifier, SharedBottomRegressor, load, save
from sklearn_mtl.datasets import make_task_pair
from tests._settings import MOE_FAST, SHARED_BOTTOM_FAST


@pytest.fixture(scope="module")
def pair():
    X, Y = make_task_pair(1200, correlation=0.9, target="binary", random_state=0)
    return X.astype(np.float32), Y


def best_loss(model, key="valid_loss"):
    return float(np.min(model.net_.history[:, key]))


def test_auto_keeps_the_candidate_of_lowest_validation_loss(pair, capsys):
    X, Y = pair
    params = {**MOE_FAST, "early_stopping": True, "numeric_embedding_size": 8, "random_state": 0}
    auto = MMoEClassifier(numeric_embedding="auto", verbose=1, **params).fit(X, Y)
    each = {
        kind: MMoEClassifier(numeric_embedding=kind, **params).fit(X, Y)
        for kind in ("linear", "piecewise_linear")
    }
    losses = {kind: best_loss(model) for kind, model in each.items()}
    assert losses["linear"] != losses["piecewise_linear"]
    chosen = min(losses, key=losses.get)
    assert auto.numeric_embedding_ == chosen
    assert auto.get_params()["numeric_embedding"] == "auto"  # the parameter is left as given
    # the kept network is the one a fit with that embedding trains: same seed, same split
    for a, b in zip(auto.predict_proba(X), each[chosen].predict_proba(X)):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    out = capsys.readouterr().out
    assert "training with 'linear'" in out and "training with 'piecewise_linear'" in out
    assert f"keeping {chosen}" in out


def test_auto_with_early_stopping_on_one_task_compares_that_tasks_loss(pair):
    X, Y = pair
    params = {**MOE_FAST, "early_stopping": True, "early_stopping_task": 1, "random_state": 0}
    auto = MMoEClassifier(numeric_embedding="auto", **params).fit(X, Y)
    losses = {
        kind: best_loss(MMoEClassifier(numeric_embedding=kind, **params).fit(X, Y),
                        "valid_loss_task1")
        for kind in ("linear", "piecewise_linear")
    }  # fmt: skip
    assert auto.numeric_embedding_ == min(losses, key=losses.get)


def test_without_a_validation_split_auto_is_linear(pair):
    X, Y = pair
    X, Y = X[:300], Y[:300]
    small = MMoEClassifier(numeric_embedding="auto", random_state=0, **MOE_FAST).fit(X, Y)
    linear = MMoEClassifier(random_state=0, **MOE_FAST).fit(X, Y)
    assert small.numeric_embedding_ == "linear" and small.n_iter_ == MOE_FAST["max_epochs"]
    np.testing.assert_array_equal(small.predict_proba(X)[0], linear.predict_proba(X)[0])
    partial = MMoEClassifier(numeric_embedding="auto", **MOE_FAST)
    partial.partial_fit(X, Y, classes=[[0, 1], [0, 1]])
    assert partial.numeric_embedding_ == "linear"


def test_a_sparse_x_trains_linear_under_auto_and_is_refused_by_piecewise_linear(pair):
    X, Y = pair
    X = sparse.csr_matrix(np.where(np.abs(X) > 1, X, 0))
    auto = MMoEClassifier(numeric_embedding="auto", early_stopping=True, **MOE_FAST).fit(X, Y)
    assert auto.numeric_embedding_ == "linear"
    model = MMoEClassifier(numeric_embedding="piecewise_linear", **MOE_FAST)
    with pytest.raises(ValueError, match="piecewise_linear.*dense X"):
        model.fit(X, Y)
    assert not model.__sklearn_tags__().input_tags.sparse
    assert auto.__sklearn_tags__().input_tags.sparse


def test_auto_cannot_resume_a_fit(pair, tmp_path):
    X, Y = pair
    model = MMoEClassifier(numeric_embedding="auto", **MOE_FAST)
    with pytest.raises(ValueError, match="numeric_embedding='auto'.*cannot resume"):
        model.fit(X, Y, resume_from=tmp_path / "checkpoint")
    assert not hasattr(model, "net_")
    with pytest.raises(AttributeError, match="numeric_embedding_"):
        model.numeric_embedding_  # noqa: B018


def test_an_auto_model_saves_loads_and_clones(pair, tmp_path):
    X, Y = pair
    model = SharedBottomRegressor(numeric_embedding="auto", early_stopping=True, random_state=0,
                                  **SHARED_BOTTOM_FAST)  # fmt: skip
    Xr, Yr = make_task_pair(1200, correlation=0.9, target="regression", random_state=1)
    model.fit(Xr, Yr)
    save(model, tmp_path / "auto.skmtl")
    loaded = load(tmp_path / "auto.skmtl")
    assert loaded.numeric_embedding_ == model.numeric_embedding_
    np.testing.assert_allclose(loaded.predict(Xr), model.predict(Xr), rtol=1e-6)
    assert clone(model).get_params()["numeric_embedding"] == "auto"
    assert not hasattr(clone(model), "_fit_state")


def test_onnx_of_an_auto_model_equals_the_estimator(pair, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    from sklearn_mtl.export import to_onnx

    X, Y = pair
    model = MMoEClassifier(numeric_embedding="auto", early_stopping=True, random_state=0,
                           numeric_embedding_size=8, **MOE_FAST).fit(X, Y)  # fmt: skip
    to_onnx(model, tmp_path / "auto.onnx")
    session = ort.InferenceSession(str(tmp_path / "auto.onnx"))
    for got, expected in zip(session.run(None, {"X": X}), model.predict_proba(X)):
        np.testing.assert_allclose(got, expected, atol=1e-5)
