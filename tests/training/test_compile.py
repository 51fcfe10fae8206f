"""``compile=True``: training through ``torch.compile`` equals eager training on every network.

Each test compiles with TorchInductor on this CPU (seconds per architecture
the first time; the compiled kernels are cached on disk for later runs).
"""

import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.utils._param_validation import InvalidParameterError
from torch._dynamo.utils import counters

from sklearn_mtl import (
    CrossStitchClassifier,
    ESMMClassifier,
    MMoEClassifier,
    MultiTaskNet,
    OMoEClassifier,
    PLEClassifier,
    SharedBottomRegressor,
    load,
    save,
)
from sklearn_mtl.architectures import PLE

SMALL = {"max_epochs": 3, "batch_size": 64, "lr": 1e-2, "random_state": 0}
"""300 rows in batches of 64: four full batches and a short one of 44 rows."""

ARCHITECTURES = {
    "MMoE": MMoEClassifier(n_experts=3, expert_units=(16,), tower_units=(8,), **SMALL),
    "OMoE": OMoEClassifier(n_experts=3, expert_units=(16,), tower_units=(8,), **SMALL),
    "Shared-Bottom": SharedBottomRegressor((16,), tower_units=(8,), **SMALL),
    "PLE": PLEClassifier(1, n_shared_experts=1, n_levels=2, expert_units=(8,), **SMALL),
    "Cross-Stitch": CrossStitchClassifier((16, 8), tower_units=(), **SMALL),
    "ESMM": ESMMClassifier((16,), tower_units=(8,), **SMALL),
    "MMoE, 3 members": MMoEClassifier(
        n_experts=3, expert_units=(16,), tower_units=(8,), n_ensemble=3, **SMALL
    ),
}


def task_data(estimator):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 6)).astype(np.float32)
    first, second = X[:, 0] + 0.3 * X[:, 3], X[:, 1] - X[:, 2]
    if isinstance(estimator, SharedBottomRegressor):
        return X, np.column_stack([first, second])
    labels = np.column_stack([first > 0, second > 0]).astype(int)
    if isinstance(estimator, ESMMClassifier):  # a funnel: conversion implies click
        labels[:, 1] *= labels[:, 0]
    return X, labels


def outputs(model, X) -> np.ndarray:
    if hasattr(model, "predict_proba"):  # MultiTaskNet's is None for a regression task
        return np.column_stack([p for p in model.predict_proba(X) if p is not None])
    return model.predict(X)


def assert_same_training(compiled, eager, X):
    np.testing.assert_allclose(
        compiled.net_.history[:, "train_loss"], eager.net_.history[:, "train_loss"], rtol=1e-5
    )
    np.testing.assert_allclose(outputs(compiled, X), outputs(eager, X), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", sorted(ARCHITECTURES))
def test_compiled_training_equals_eager_training(name):
    estimator = ARCHITECTURES[name]
    X, y = task_data(estimator)
    eager = clone(estimator).fit(X, y)
    compiled = clone(estimator).set_params(compile=True).fit(X, y)
    assert_same_training(compiled, eager, X)
    assert compiled.net_.history[-1, "train_loss"] < compiled.net_.history[0, "train_loss"]


def test_compiled_training_with_embeddings_and_mixed_tasks():
    """Categorical columns (embedding tables), a multi-class and a regression task."""
    rng = np.random.default_rng(1)
    a, b, city = rng.standard_normal(300), rng.standard_normal(300), rng.choice(list("wxyz"), 300)
    X = pd.DataFrame({"a": a, "b": b, "city": pd.Categorical(city)})
    y = np.column_stack([np.digitize(a, [-0.5, 0.5]), 2 * b + (city == "x"), a > b])
    model = MultiTaskNet(
        PLE(n_task_experts=1, n_shared_experts=1, expert_units=(8,)),
        task_types=["multiclass", "regression", "binary"],
        **SMALL,
    )
    eager = clone(model).fit(X, y)
    compiled = clone(model).set_params(compile="default").fit(X, y)
    assert_same_training(compiled, eager, X)
    np.testing.assert_allclose(compiled.predict(X)[:, 1], eager.predict(X)[:, 1], rtol=1e-4)


def test_compiled_training_with_scarce_labels_equals_eager_training():
    """Missing labels, the epoch's loss normalisation and early stopping on one task."""
    estimator = ARCHITECTURES["MMoE"]
    X, labels = task_data(estimator)
    y = labels.astype(float)
    y[np.random.default_rng(0).permutation(len(y))[40:], 0] = np.nan  # 40 labels of task 0
    options = {"loss_normalization": "epoch", "early_stopping": True, "early_stopping_task": 0}
    eager = clone(estimator).set_params(**options).fit(X, y)
    compiled = clone(estimator).set_params(compile=True, **options).fit(X, y)
    assert_same_training(compiled, eager, X)
    np.testing.assert_allclose(
        compiled.net_.history[:, "valid_loss_task0"], eager.net_.history[:, "valid_loss_task0"],
        rtol=1e-5,
    )  # fmt: skip


def graphs() -> int:
    return counters["stats"]["unique_graphs"]


def test_a_fit_compiles_at_most_twice_and_training_on_recompiles_nothing():
    """One graph for full batches, one (dynamic batch size) for the short last batch.

    Once torch has seen the batch size of a forward change, it compiles that
    forward with a dynamic batch size from the start: one graph, not two.
    """
    estimator = clone(ARCHITECTURES["MMoE"]).set_params(n_experts=5)  # a structure of its own
    X, y = task_data(estimator)
    before = graphs()
    model = clone(estimator).set_params(compile=True).fit(X, y)
    assert 1 <= graphs() - before <= 2
    before = graphs()
    model.partial_fit(X, y)  # more training of the same module
    model.set_params(warm_start=True).fit(X, y)
    model.predict_proba(X)  # eval mode, no_grad: the eager module
    assert graphs() == before and model.n_iter_ == 3 + 1 + 3
    before = graphs()
    clone(model).set_params(warm_start=False).fit(X, y)  # a new module of the same structure
    assert graphs() == before
    clone(model).set_params(warm_start=False, early_stopping=True).fit(X, y)  # shorter batch
    assert graphs() - before <= 1


def test_a_search_over_many_networks_never_reaches_torchs_recompile_limit():
    """torch keeps 8 compiled variants per code object; each module compiles its own copy.

    With the limit lowered to 1, a second network would fail (``fullgraph=True``
    makes reaching it an error) if the networks shared one code object.
    """
    X, y = task_data(ARCHITECTURES["Shared-Bottom"])
    before = graphs()
    with torch._dynamo.config.patch(recompile_limit=1):
        for units in (3, 4, 5):  # each width a new graph; 256 rows: no short batch
            model = SharedBottomRegressor((units,), tower_units=(), max_epochs=1, compile=True)
            assert np.isfinite(model.fit(X[:256], y[:256]).predict(X)).all()
    assert graphs() - before == 3


def test_a_compiled_fit_pickles_saves_and_loads_without_compiled_code(tmp_path):
    estimator = ARCHITECTURES["Cross-Stitch"]
    X, y = task_data(estimator)
    model = clone(estimator).set_params(compile=True).fit(X, y)
    assert "_compiled" in vars(model.net_)
    data = pickle.dumps(model)
    assert b"OptimizedModule" not in data and b"_orig_mod" not in data
    restored = pickle.loads(data)
    assert "_compiled" not in vars(restored.net_) and restored.compile is True
    np.testing.assert_array_equal(outputs(restored, X), outputs(model, X))
    save(model, tmp_path / "model.mtl")
    loaded = load(tmp_path / "model.mtl")
    assert loaded.get_params()["compile"] is True
    np.testing.assert_array_equal(outputs(loaded, X), outputs(model, X))
    loaded.partial_fit(X, y)  # trains on, compiled again
    assert loaded.n_iter_ == 4 and np.isfinite(outputs(loaded, X)).all()


def test_compile_refuses_what_it_cannot_do():
    X, y = task_data(ARCHITECTURES["MMoE"])
    model = clone(ARCHITECTURES["MMoE"]).set_params(compile=True, loss_weighting="mgda")
    with pytest.raises(ValueError, match=r"compile=True\) cannot train with loss_weighting='mgda'"):
        model.fit(X, y)
    assert not hasattr(model, "net_")
    with pytest.raises(InvalidParameterError, match="'compile' parameter"):
        clone(model).set_params(compile="fastest").fit(X, y)

    class StandInAccelerator:  # what the accelerator parameter checks, without accelerate
        device = "cpu"

        def prepare(self, *objects):
            raise AssertionError("compile must be refused before the accelerator is used")

        def backward(self, loss):
            raise AssertionError("compile must be refused before the accelerator is used")

    data_parallel = clone(model).set_params(
        loss_weighting="equal", accelerator=StandInAccelerator()
    )
    with pytest.raises(ValueError, match=r"compile=True\) does not train data-parallel"):
        data_parallel.fit(X, y)
    assert not hasattr(data_parallel, "net_")
