"""Streaming Parquet batches into partial_fit; chunked prediction."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from sklearn_mtl import MMoEClassifier
from sklearn_mtl.datasets import make_task_pair

pq = pytest.importorskip("pyarrow.parquet")
pa = pytest.importorskip("pyarrow")

from sklearn_mtl.stream import ParquetBatches  # noqa: E402


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """Two Parquet files of 600 rows, row groups of 150: 8 features, 2 binary tasks."""
    folder = tmp_path_factory.mktemp("parquet")
    X, Y = make_task_pair(1200, 0.9, n_features=8, target="binary", random_state=0)
    frame = pd.DataFrame(X.astype(np.float32), columns=[f"x{j}" for j in range(8)])
    frame["click"], frame["buy"] = Y[:, 0], Y[:, 1]
    for part in range(2):
        table = pa.Table.from_pandas(frame.iloc[part * 600 : (part + 1) * 600])
        pq.write_table(table, folder / f"part-{part}.parquet", row_group_size=150)
    return folder, frame


def test_a_pass_yields_every_row_once_in_bounded_batches(dataset):
    folder, frame = dataset
    batches = ParquetBatches(folder, ["click", "buy"], batch_rows=100)
    assert batches.n_rows_ == 1200 and len(batches) == 16  # 8 row groups of 100 + 50
    seen = list(batches)
    assert max(len(X) for X, _ in seen) == 100
    X = pd.concat([X for X, _ in seen], ignore_index=True)
    y = np.concatenate([y for _, y in seen])
    pd.testing.assert_frame_equal(X, frame.drop(columns=["click", "buy"]))
    np.testing.assert_array_equal(y, frame[["click", "buy"]].to_numpy())


def test_shuffle_visits_row_groups_in_a_new_seeded_order(dataset):
    folder, _ = dataset

    def first_rows(seed):
        batches = ParquetBatches(folder, ["click", "buy"], shuffle=True, random_state=seed)
        return [[X["x0"].iloc[0] for X, _ in batches] for _ in range(2)]

    passes = first_rows(0)
    assert passes[0] != passes[1]  # a new order every pass
    assert sorted(passes[0]) == sorted(passes[1])
    assert passes == first_rows(0)


def test_partial_fit_from_parquet_learns_and_streamed_prediction_matches(dataset):
    folder, frame = dataset
    batches = ParquetBatches(folder, ["click", "buy"], batch_rows=200, shuffle=True,
                             random_state=0)  # fmt: skip
    model = MMoEClassifier(2, expert_units=(16,), tower_units=(8,), batch_size=32, lr=1e-2,
                           random_state=0)  # fmt: skip
    for _ in range(3):
        for X, y in batches:
            model.partial_fit(X, y, classes=[[0, 1], [0, 1]])
    assert model.n_iter_ == 3 * len(batches)
    in_order = ParquetBatches(folder, ["click", "buy"], batch_rows=200)
    streamed = np.concatenate([model.predict_proba(X)[0][:, 1] for X, _ in in_order])
    whole = model.predict_proba(frame.drop(columns=["click", "buy"]))[0][:, 1]
    np.testing.assert_allclose(streamed, whole, rtol=1e-6)
    assert roc_auc_score(frame["click"], whole) > 0.8


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"path": "no-such-folder"}, "neither a Parquet file nor a folder"),
        ({"target_columns": ["clicks"]}, r"Column\(s\) \['clicks'\] are not in"),
        ({"batch_rows": 0}, "batch_rows must be a positive int"),
    ],
)
def test_bad_arguments_are_named(dataset, kwargs, message):
    arguments = {"path": dataset[0], "target_columns": ["click", "buy"], **kwargs}
    with pytest.raises(ValueError, match=message):
        ParquetBatches(arguments.pop("path"), arguments.pop("target_columns"), **arguments)
