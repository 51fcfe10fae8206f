"""Sparse X: read as numbers, kept sparse on the device, each batch made dense there.

scikit-learn's ``MLPClassifier`` takes scipy sparse input and ``OneHotEncoder``
gives it by default; the networks refused it ("dense data is required").
"""

import numpy as np
import pandas as pd
import pytest
from scipy import sparse
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from sklearn_mtl import MMoEClassifier, MMoERegressor, load, save
from sklearn_mtl.datasets import make_task_pair

SMALL = {"n_experts": 2, "expert_units": (8,), "tower_units": (4,), "batch_size": 64}


def _sparse(X):
    return sparse.csr_matrix(np.where(np.abs(X) > 0.6, X, 0.0))


@pytest.mark.parametrize("container", [sparse.csr_matrix, sparse.csc_matrix, sparse.csr_array])
def test_a_sparse_fit_equals_the_dense_fit(container):
    """1,200 rows: with early stopping's validation split, as the default does."""
    X, Y = make_task_pair(1200, 0.5, n_features=6, target="binary", random_state=0)
    dense = _sparse(X).toarray()
    Xs = container(dense)
    model = MMoEClassifier(**SMALL, max_epochs=8, random_state=0).fit(Xs, Y)
    reference = MMoEClassifier(**SMALL, max_epochs=8, random_state=0).fit(dense, Y)
    assert "valid_loss" in model.net_.history[-1]
    for got, expected in zip(model.predict_proba(Xs), reference.predict_proba(dense)):
        np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(model.predict_proba(dense)[1], reference.predict_proba(dense)[1])


def test_partial_fit_and_warm_start_take_sparse_batches():
    X, Y = make_task_pair(600, 0.5, n_features=6, random_state=0)
    Xs = _sparse(X)
    model = MMoERegressor(**SMALL, random_state=0, warm_start=True)
    reference = MMoERegressor(**SMALL, random_state=0, warm_start=True)
    for _ in range(2):
        model.partial_fit(Xs, Y)
        reference.partial_fit(Xs.toarray(), Y)
    model.set_params(max_epochs=2).fit(Xs, Y)
    reference.set_params(max_epochs=2).fit(Xs.toarray(), Y)
    assert model.n_iter_ == 4
    np.testing.assert_array_equal(model.predict(Xs), reference.predict(Xs.toarray()))


def test_a_one_hot_pipeline_with_sparse_output_works_as_the_dense_one():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"city": rng.choice(list("abcdefgh"), 500),
                          "age": rng.normal(40, 10, 500)})  # fmt: skip
    Y = np.column_stack([(frame["city"] < "d") ^ (frame["age"] > 45), frame["age"] > 38])
    Y = Y.astype(int)

    def pipeline(sparse_output):
        encode = ColumnTransformer([
            ("city", OneHotEncoder(sparse_output=sparse_output), ["city"]),
            ("age", StandardScaler(), ["age"]),
        ], sparse_threshold=1.0)  # fmt: skip
        network = MMoEClassifier(**SMALL, max_epochs=10, lr=1e-2, random_state=0)
        return make_pipeline(encode, network)

    sparse_model = pipeline(True).fit(frame, Y)
    assert sparse.issparse(sparse_model[0].transform(frame))
    dense_model = pipeline(False).fit(frame, Y)
    np.testing.assert_array_equal(sparse_model.predict(frame), dense_model.predict(frame))
    assert (sparse_model.predict(frame)[:, 1] == Y[:, 1]).mean() > 0.8  # it learns


def test_a_sparse_trained_model_saves_loads_and_inspects():
    X, Y = make_task_pair(300, 0.5, n_features=6, target="binary", random_state=0)
    Xs = _sparse(X)
    model = MMoEClassifier(**SMALL, max_epochs=3, random_state=0).fit(Xs, Y)
    gates = model.gate_weights(Xs)
    np.testing.assert_array_equal(gates[0], model.gate_weights(Xs.toarray())[0])
    assert np.allclose(gates[0].sum(axis=1), 1.0)


def test_a_sparse_fit_saves_and_loads(tmp_path):
    X, Y = make_task_pair(300, 0.5, n_features=6, target="binary", random_state=0)
    Xs = _sparse(X)
    model = MMoEClassifier(**SMALL, max_epochs=3, random_state=0).fit(Xs, Y)
    save(model, tmp_path / "m.mtl")
    np.testing.assert_array_equal(load(tmp_path / "m.mtl").predict_proba(Xs)[0],
                                  model.predict_proba(Xs)[0])  # fmt: skip


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"categorical_features": [0]}, "a sparse X holds numbers only"),
        ({"numeric_missing": "learn"}, "needs a dense X"),
    ],
)
def test_what_a_sparse_x_cannot_be_is_refused(settings, message):
    X, Y = make_task_pair(100, 0.5, n_features=4, target="binary", random_state=0)
    model = MMoEClassifier(**SMALL, max_epochs=1, **settings)
    with pytest.raises(ValueError, match=message):
        model.fit(_sparse(X), Y)
    assert not hasattr(model, "net_")


def test_a_sparse_value_beyond_float32s_range_is_refused():
    X, Y = make_task_pair(100, 0.5, n_features=4, target="binary", random_state=0)
    Xs = _sparse(X).tolil()
    Xs[3, 2] = 1e300
    with pytest.raises(ValueError, match=r"beyond float32's range .* column\(s\) \[2\]"):
        MMoEClassifier(**SMALL, max_epochs=1).fit(Xs.tocsr(), Y)
