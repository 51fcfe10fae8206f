"""Numeric feature embeddings and learnt missing values: the modules, the estimators, the files."""

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.metrics import roc_auc_score

from sklearn_mtl import MMoEClassifier, PLERegressor, SharedBottomClassifier, load, save
from sklearn_mtl.export import to_onnx
from sklearn_mtl.nn import NumericEmbedding, PeriodicEmbedding, PiecewiseLinearEncoding
from sklearn_mtl.persistence import ModelFileError
from tests._internals import quantile_bin_edges
from tests._model_files import rewrite_metadata

FAST = {"n_experts": 3, "expert_units": (16,), "tower_units": (8,), "max_epochs": 15,
        "batch_size": 64, "lr": 1e-2, "random_state": 0}  # fmt: skip
KINDS = ["linear", "piecewise_linear", "periodic"]


def test_piecewise_linear_encoding_by_hand():
    """Bins [0,1), [1,2), [2,3]; the second column has one bin of width 5, then two off."""
    encoding = PiecewiseLinearEncoding([[0, 1, 2, 3], [0, 5, 5, 5]])
    x = torch.tensor([[-1.0, 6.0], [0.5, 2.5], [2.5, 10.0], [4.0, 0.0]])
    expected = [
        [[-1, 0, 0], [1.2, 0, 0]],  # below the first edge: the first bin extrapolates
        [[0.5, 0, 0], [0.5, 0, 0]],
        [[1, 1, 0.5], [2, 0, 0]],  # a lone bin is first and last: never clipped
        [[1, 1, 2], [0, 0, 0]],  # beyond the last edge: the last bin extrapolates
    ]
    np.testing.assert_allclose(encoding(x).numpy(), expected, atol=1e-6)


def test_periodic_embedding_and_missing_values_in_the_module():
    torch.manual_seed(0)
    periodic = PeriodicEmbedding(3, n_frequencies=4, dim=5)
    assert periodic(torch.randn(7, 3)).shape == (7, 3, 5)
    module = NumericEmbedding([1.0, 2.0], [2.0, 1.0], "periodic", size=4, missing=True)
    with torch.no_grad():
        module.missing_embedding.copy_(torch.arange(8.0).reshape(2, 4))
    out = module(torch.tensor([[1.0, float("nan")], [float("nan"), 3.0]])).detach()
    assert out.shape == (2, 8) and torch.isfinite(out).all()
    np.testing.assert_allclose(out[0, 4:], [4, 5, 6, 7])  # column 1 missing: its vector
    np.testing.assert_allclose(out[1, :4], [0, 1, 2, 3])
    linear = NumericEmbedding([1.0, 2.0], [2.0, 1.0], "linear", missing=True)
    np.testing.assert_allclose(linear(torch.tensor([[3.0, float("nan")]])), [[1, 0, 0, 1]])
    with pytest.raises(ValueError, match="kind must be one of"):
        NumericEmbedding([0.0], [1.0], "spline")


def test_quantile_bins_leave_nan_out_and_merge_repeated_edges():
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.normal(size=1000), rng.integers(0, 3, 1000), np.full(1000, np.nan)])
    X[::10, 0] = np.nan
    edges = quantile_bin_edges(X, 8)
    assert edges.shape == (3, 9) and (np.diff(edges, axis=1) >= 0).all()
    values = X[~np.isnan(X[:, 0]), 0]
    np.testing.assert_allclose(edges[0], np.quantile(values, np.linspace(0, 1, 9)))
    distinct = np.unique(edges[1])
    np.testing.assert_array_equal(distinct, np.unique(np.quantile(X[:, 1], np.linspace(0, 1, 9))))
    assert (edges[1, len(distinct) :] == 2).all()  # padded with the last edge: bins switched off
    assert (edges[2] == 0).all()  # no value at all


@pytest.fixture(scope="module")
def thresholds():
    """Targets that are steps of the inputs, as tabular targets often are."""
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(3000, 4))
    Y = np.column_stack([np.abs(X[:, 0]) > 0.5, (X[:, 1] > 0.2) ^ (X[:, 2] > -0.3)]).astype(int)
    return X, Y


@pytest.mark.parametrize("kind", KINDS)
def test_each_embedding_learns_step_targets(thresholds, kind):
    X, Y = thresholds
    model = MMoEClassifier(**FAST, numeric_embedding=kind).fit(X[:2000], Y[:2000])
    probabilities = model.predict_proba(X[2000:])
    assert all(((p >= 0) & (p <= 1)).all() for p in probabilities)
    auc = [roc_auc_score(Y[2000:, t], probabilities[t][:, 1]) for t in range(2)]
    assert min(auc) > 0.9, auc  # measured: linear 0.96, piecewise_linear 0.99, periodic 0.99
    layer = model.net_.module_.input_layer
    width = {"linear": 4, "piecewise_linear": 4 * 32, "periodic": 4 * 32}[kind]
    assert layer.out_features == width


def test_a_missing_value_is_learnt_only_when_asked(thresholds):
    X, Y = thresholds
    X = X.copy()
    rng = np.random.default_rng(1)
    hidden = rng.random(len(X)) < 0.3
    X[hidden, 0] = np.nan  # the step of task 0 is unknown there...
    X[hidden & (Y[:, 0] == 1), 3] = np.nan  # ...but missing column 3 betrays it
    with pytest.raises(ValueError, match="numeric_missing='learn'"):
        MMoEClassifier(**FAST).fit(X, Y)
    assert not hasattr(MMoEClassifier(**FAST), "net_")
    for kind in KINDS:
        model = MMoEClassifier(**FAST, numeric_embedding=kind, numeric_missing="learn")
        model.fit(X[:2000], Y[:2000])
        p = model.predict_proba(X[2000:])[0][:, 1]
        assert np.isfinite(p).all()
        rows = hidden[2000:]
        assert roc_auc_score(Y[2000:, 0][rows], p[rows]) > 0.9, kind  # measured >= 0.97
        infinite = X[:5].copy()
        infinite[0, 1] = np.inf
        with pytest.raises(ValueError, match="infinity"):
            model.predict(infinite)


def test_missing_values_with_categorical_columns_and_all_missing_columns():
    rng = np.random.default_rng(2)
    frame = pd.DataFrame({"a": rng.normal(size=400), "b": np.nan, "c": rng.choice(["x", "y"], 400)})
    frame.loc[::3, "a"] = np.nan
    Y = np.column_stack([frame.c == "x", rng.random(400) > 0.5]).astype(int)
    for kind in KINDS:
        model = SharedBottomClassifier(bottom_units=(8,), tower_units=(4,), max_epochs=10,
                                       lr=1e-2, numeric_embedding=kind, numeric_missing="learn",
                                       random_state=0).fit(frame, Y)  # fmt: skip
        predicted = model.predict(frame)
        assert predicted.shape == (400, 2)
        assert np.mean(predicted[:, 0] == Y[:, 0]) > 0.75, kind  # the category; measured >= 0.83


def test_partial_fit_learns_the_bins_at_its_first_call_only(thresholds):
    X, Y = thresholds
    model = MMoEClassifier(**FAST, numeric_embedding="piecewise_linear")
    model.partial_fit(X[:500], Y[:500], classes=[[0, 1], [0, 1]])
    edges = model._fit_state.inputs.bin_edges.copy()
    left = model.net_.module_.input_layer.standardize.encoding.left.clone()
    np.testing.assert_allclose(edges, quantile_bin_edges(X[:500], 32))
    model.partial_fit(X[500:1000] * 3, Y[500:1000])  # another range: the bins stay
    np.testing.assert_array_equal(model._fit_state.inputs.bin_edges, edges)
    assert torch.equal(model.net_.module_.input_layer.standardize.encoding.left, left)


@pytest.mark.parametrize("kind", KINDS)
def test_save_load_and_onnx_give_the_same_outputs(thresholds, kind, tmp_path):
    X, Y = thresholds
    X = X[:600].copy()
    X[::5, 1] = np.nan
    model = PLERegressor(n_task_experts=1, n_shared_experts=1, expert_units=(8,), max_epochs=2,
                         numeric_embedding=kind, numeric_missing="learn",
                         random_state=0).fit(X, Y.astype(float)[:600])  # fmt: skip
    save(model, tmp_path / "model.mtl")
    loaded = load(tmp_path / "model.mtl")
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    onnxruntime = pytest.importorskip("onnxruntime")
    to_onnx(model, tmp_path / "model.onnx")
    session = onnxruntime.InferenceSession(str(tmp_path / "model.onnx"))
    outputs = session.run(None, {session.get_inputs()[0].name: X.astype(np.float32)})
    np.testing.assert_allclose(np.column_stack(outputs), model.predict(X), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda e: e.update(bin_edges={"__ndarray__": "<f8", "shape": [4, 33],
                                       "data": [float(v) for v in range(132)][::-1]}),
         "non-decreasing"),
        (lambda e: e.update(n_bins=10**6), "n_bins must be an int"),
        (lambda e: e.update(numeric_embedding="spline"), "numeric_embedding must be one of"),
        (lambda e: e.update(allow_missing="yes"), "allow_missing must be a bool"),
        (lambda e: e.update(bin_edges={"__ndarray__": "<f8", "shape": [4, 33],
                                       "data": [float("nan")] * 132}), "finite numbers"),
        (lambda e: e.update(bin_edges={"__ndarray__": "<f8", "shape": [4, 9],
                                       "data": [0.0] * 36}), r"\(4, 33\)"),
    ],
)  # fmt: skip
def test_crafted_bins_are_refused(thresholds, tmp_path, change, message):
    X, Y = thresholds
    model = MMoEClassifier(**{**FAST, "max_epochs": 1}, numeric_embedding="piecewise_linear")
    save(model.fit(X[:200], Y[:200]), tmp_path / "model.mtl")
    rewrite_metadata(
        tmp_path / "model.mtl", lambda m: change(m["state"]["_input_encoder"]["state"])
    )
    with pytest.raises(ModelFileError, match=message):
        load(tmp_path / "model.mtl")


def test_clone_and_parameters_are_validated():
    model = MMoEClassifier(numeric_embedding="periodic", numeric_embedding_size=8, periodic_sigma=3)
    assert clone(model).get_params()["numeric_embedding_size"] == 8
    X, Y = np.random.default_rng(0).normal(size=(50, 2)), np.zeros((50, 2), dtype=int)
    Y[::2] = 1
    torch.manual_seed(0)
    fitted = clone(model).set_params(max_epochs=0 + 1, random_state=0).fit(X, Y)
    frequencies = fitted.net_.module_.input_layer.standardize.encoding.frequencies
    assert 1.5 < float(frequencies.detach().std()) < 5  # drawn with sigma 3 (16 values)
    X, Y = np.zeros((10, 2)), np.zeros((10, 2), dtype=int)
    for params, name in [({"numeric_embedding": "spline"}, "numeric_embedding"),
                         ({"numeric_embedding_size": 1}, "numeric_embedding_size"),
                         ({"numeric_embedding_size": 257}, "numeric_embedding_size"),
                         ({"numeric_missing": "impute"}, "numeric_missing"),
                         ({"periodic_sigma": 0}, "periodic_sigma")]:  # fmt: skip
        with pytest.raises(ValueError, match=name):
            MMoEClassifier(**params).fit(X, Y)


@pytest.mark.parametrize("kind", KINDS)
def test_no_numeric_column_at_all(kind, tmp_path):
    """Every column categorical: the embeddings have nothing to embed, and still save and load."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"c": rng.choice(["x", "y", "z"], 300), "d": rng.choice(["p", "q"], 300)})
    Y = np.column_stack([frame.c == "x", frame.d == "p"]).astype(int)
    model = MMoEClassifier(**{**FAST, "max_epochs": 5}, numeric_embedding=kind,
                           numeric_missing="learn").fit(frame, Y)  # fmt: skip
    assert np.mean(model.predict(frame) == Y) > 0.9  # each task is one category
    save(model, tmp_path / "model.mtl")
    np.testing.assert_array_equal(load(tmp_path / "model.mtl").predict(frame), model.predict(frame))
