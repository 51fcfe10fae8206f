"""save and load of a fitted Pipeline: scikit-learn steps through skops, on an allow-list.

``Pipeline(ColumnTransformer, network)`` is the workflow the README sells;
``save(pipeline)`` raised TypeError, so it could only be pickled.
"""

import io
import json
import zipfile

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import PCA
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from sklearn_mtl import MMoEClassifier, MultiTaskL1LqRegressor, load, save
from sklearn_mtl.datasets import make_task_pair
from sklearn_mtl.persistence import ModelFileError

sio = pytest.importorskip("skops.io")

SMALL = {"n_experts": 2, "expert_units": (8,), "tower_units": (4,), "max_epochs": 2}


@pytest.fixture(scope="module")
def frame():
    rng = np.random.default_rng(0)
    data = pd.DataFrame({"city": rng.choice(list("abcd"), 300), "age": rng.normal(40, 10, 300),
                         "income": rng.normal(size=300)})  # fmt: skip
    data.loc[::9, "income"] = np.nan
    Y = np.column_stack([data["city"] < "c", data["age"] > 40]).astype(int)
    return data, Y


def _columns():
    return ColumnTransformer([
        ("city", OneHotEncoder(handle_unknown="ignore"), ["city"]),
        ("numbers", make_pipeline(SimpleImputer(), StandardScaler()), ["age", "income"]),
    ])  # fmt: skip


@pytest.mark.parametrize(
    "make",
    [
        lambda: make_pipeline(_columns(), MMoEClassifier(**SMALL, random_state=0)),
        lambda: make_pipeline(_columns(), PCA(3), MMoEClassifier(**SMALL, random_state=0)),
    ],
    ids=["columns", "columns then PCA"],
)
def test_a_pipeline_saves_and_loads_with_its_predictions(frame, tmp_path, make):
    X, Y = frame
    pipeline = make().fit(X, Y)
    save(pipeline, tmp_path / "pipeline.mtl")
    loaded = load(tmp_path / "pipeline.mtl")
    assert isinstance(loaded, Pipeline)
    assert [name for name, _ in loaded.steps] == [name for name, _ in pipeline.steps]
    for got, expected in zip(loaded.predict_proba(X), pipeline.predict_proba(X)):
        np.testing.assert_array_equal(got, expected)
    with zipfile.ZipFile(tmp_path / "pipeline.mtl") as archive:
        assert sorted(archive.namelist()) == ["metadata.json", "steps.skops", "weights.safetensors"]


def test_a_pipeline_ending_in_a_linear_model_saves(tmp_path):
    X, Y = make_task_pair(200, 0.5, n_features=4, random_state=0)
    pipeline = make_pipeline(StandardScaler(), MultiTaskL1LqRegressor(alpha=0.05)).fit(X, Y)
    save(pipeline, tmp_path / "linear.mtl")
    np.testing.assert_array_equal(load(tmp_path / "linear.mtl").predict(X), pipeline.predict(X))


@pytest.mark.parametrize(
    "steps, message",
    [
        ([("f", FunctionTransformer(lambda x: x))], r"hold \['.*<lambda>'\], which are not plain"),
        ([("model", LogisticRegression())], "step 'model' is a sklearn.linear_model"),
    ],
    ids=["own function", "not a transformer"],
)
def test_steps_outside_the_allow_list_are_refused_by_name(frame, tmp_path, steps, message):
    X, Y = make_task_pair(100, 0.5, n_features=3, target="binary", random_state=0)
    for _, step in steps:
        step.fit(X, Y[:, 0])
    pipeline = Pipeline([*steps, ("network", MMoEClassifier(**SMALL).fit(X, Y))])
    with pytest.raises(TypeError, match=message):
        save(pipeline, tmp_path / "refused.mtl")
    assert not (tmp_path / "refused.mtl").exists()


def test_a_pipeline_whose_last_step_is_not_ours_is_refused(frame, tmp_path):
    X, Y = frame
    pipeline = make_pipeline(_columns(), LogisticRegression()).fit(X, Y[:, 0])
    with pytest.raises(TypeError, match="last step is an estimator of sklearn_mtl"):
        save(pipeline, tmp_path / "m.mtl")


def _with_steps(path, steps) -> None:
    """The file at ``path``, its steps replaced by a skops archive of ``steps``."""

    def change(members):
        members["steps.skops"] = sio.dumps(steps)

    _rewrite(path, change)


def _rewrite(path, members_change):
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    members_change(members)
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


@pytest.fixture()
def saved(frame, tmp_path):
    X, Y = frame
    save(make_pipeline(_columns(), MMoEClassifier(**SMALL, random_state=0)).fit(X, Y),
         tmp_path / "m.mtl")  # fmt: skip
    return tmp_path / "m.mtl"


def test_a_crafted_step_of_another_class_is_refused(saved, frame):
    """A skops archive that would build a classifier where a transformer stood."""
    X, Y = frame
    classifier = LogisticRegression().fit(np.zeros((4, 2)), [0, 1] * 2)
    _with_steps(saved, Pipeline([("columntransformer", classifier)]))
    with pytest.raises(ModelFileError, match="outside the allow-list|step 'steps.steps"):
        load(saved)


def test_a_decompression_bomb_in_the_steps_is_refused(saved):
    def change(members):
        bomb = io.BytesIO()
        with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("schema.json", b"0" * (50 << 20))
        members["steps.skops"] = bomb.getvalue()

    _rewrite(saved, change)
    with pytest.raises(ModelFileError, match="a decompression bomb"):
        load(saved)


def test_steps_that_do_not_fit_the_network_are_refused(saved, frame):
    X, _ = frame
    narrower = ColumnTransformer([("numbers", StandardScaler(), ["age"])]).fit(X)
    _with_steps(saved, Pipeline([("columntransformer", narrower)]))
    with pytest.raises(ModelFileError, match="steps give 1 columns, and its last step was fitted"):
        load(saved)


def test_a_pipeline_file_that_names_other_steps_is_refused(saved):
    def change(members):
        metadata = json.loads(members["metadata.json"])
        metadata["steps"] = ["scaler", "network"]
        members["metadata.json"] = json.dumps(metadata).encode()

    _rewrite(saved, change)
    with pytest.raises(ModelFileError, match="steps are not the ones it names"):
        load(saved)


def test_a_plain_model_file_holding_steps_is_refused(tmp_path):
    X, Y = make_task_pair(100, 0.5, n_features=3, target="binary", random_state=0)
    save(MMoEClassifier(**SMALL).fit(X, Y), tmp_path / "m.mtl")
    _with_steps(tmp_path / "m.mtl", Pipeline([("s", StandardScaler().fit(X))]))
    with pytest.raises(ModelFileError, match="holds steps.skops, which only a Pipeline"):
        load(tmp_path / "m.mtl")
