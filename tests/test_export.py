"""to_onnx: the exported graph gives predict_proba / predict to 1e-5 under onnxruntime."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone, is_classifier

from sklearn_mtl import (
    ESMMClassifier,
    MMoEClassifier,
    MMoERegressor,
    MultiTaskL1LqRegressor,
    MultiTaskNet,
)
from sklearn_mtl.datasets import make_click_conversion, make_task_pair
from sklearn_mtl.export import to_onnx
from tests._settings import NEURAL_ESTIMATORS

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")


def task_data(estimator):
    if isinstance(estimator, ESMMClassifier):
        X, Y = make_click_conversion(300, random_state=0)
        return X.astype(np.float32), Y
    if isinstance(estimator, MultiTaskNet):
        X, Y = make_task_pair(300, 0.5, n_features=6, random_state=0)
        return X.astype(np.float32), np.column_stack([Y[:, 0], Y[:, 1] > 0]).astype(object)
    target = "binary" if is_classifier(estimator) else "regression"
    X, Y = make_task_pair(300, 0.5, n_features=6, target=target, random_state=0)
    return X.astype(np.float32), Y


def expected_outputs(model, X):
    """Per task: predict_proba's array for a classification task, predict's column otherwise."""
    task_types = model._fit_state.task_types
    proba = model.predict_proba(X) if any(k != "regression" for k in task_types) else None
    values = model.predict(X).reshape(len(X), -1)
    return [
        values[:, t].astype(float) if kind == "regression" else proba[t]
        for t, kind in enumerate(task_types)
    ]


@pytest.mark.parametrize("estimator", NEURAL_ESTIMATORS, ids=lambda e: type(e).__name__)
def test_onnx_outputs_equal_the_estimators(estimator, tmp_path):
    X, Y = task_data(estimator)
    model = clone(estimator).set_params(max_epochs=3, random_state=0).fit(X, Y)
    to_onnx(model, tmp_path / "model.onnx")
    session = ort.InferenceSession(str(tmp_path / "model.onnx"))
    assert [i.name for i in session.get_inputs()] == ["X"]
    got = session.run(None, {"X": X})
    assert len(got) == len(model._fit_state.task_types)
    for t, (onnx_output, expected) in enumerate(zip(got, expected_outputs(model, X))):
        np.testing.assert_allclose(onnx_output, expected, rtol=0, atol=1e-5, err_msg=f"task {t}")
    one_row = session.run(None, {"X": X[:1]})  # any number of rows
    assert one_row[0].shape[0] == 1


def test_onnx_output_names_follow_the_task_types():
    X, Y = task_data(MultiTaskNet())
    model = MultiTaskNet(max_epochs=1, random_state=0).fit(X, Y)
    names = [output.name for output in to_onnx(model).graph.output]
    assert names == ["values_task0", "probabilities_task1"]


def test_linear_models_are_refused():
    X, Y = make_task_pair(50, 0.5, n_features=3, random_state=0)
    with pytest.raises(TypeError, match="exports the networks"):
        to_onnx(MultiTaskL1LqRegressor(alpha=0.1).fit(X, Y))


@pytest.fixture(scope="module")
def mixed_frame():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({
        "age": rng.normal(40, 10, 300),
        "city": pd.Categorical(rng.choice(list("abcd"), 300)),
        "x": rng.normal(size=300),
        "job": rng.choice(["u", "v", "w", None], 300),
    })  # fmt: skip
    Y = np.column_stack([frame["city"].isin(["a", "b"]), frame["age"] > 40]).astype(int)
    return frame, Y


def _categorical_feeds(frame, numeric, categorical):
    values = frame[categorical].astype(object)
    return {
        "X": frame[numeric].to_numpy(np.float32),
        "X_categorical": values.where(values.notna(), "").astype(str).to_numpy(),
    }


@pytest.mark.parametrize("min_frequency", [None, 40])
def test_a_network_with_categorical_embeddings_exports(mixed_frame, min_frequency):
    """ONNX used to refuse networks with categorical embeddings; LabelEncoder codes them now."""
    frame, Y = mixed_frame
    model = MMoEClassifier(2, max_epochs=3, min_frequency=min_frequency, random_state=0)
    model.fit(frame, Y)
    session = ort.InferenceSession(to_onnx(model).SerializeToString())
    assert [i.name for i in session.get_inputs()] == ["X", "X_categorical"]
    got = session.run(None, _categorical_feeds(frame, ["age", "x"], ["city", "job"]))
    for onnx_output, expected in zip(got, model.predict_proba(frame)):
        np.testing.assert_allclose(onnx_output, expected, rtol=0, atol=1e-5)
    unseen = frame.assign(city=pd.Categorical(["zzz"] * len(frame)))  # the unknown row
    got = session.run(None, _categorical_feeds(unseen, ["age", "x"], ["city", "job"]))
    np.testing.assert_allclose(got[0], model.predict_proba(unseen)[0], rtol=0, atol=1e-5)


def _one_hot_pipeline(frame, Y, **step):
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    columns = ColumnTransformer([
        ("categories", OneHotEncoder(handle_unknown="ignore"), ["city", "job"]),
        ("numbers", StandardScaler(), ["age", "x"]),
    ])  # fmt: skip
    network = MMoEClassifier(2, max_epochs=3, random_state=0, **step)
    return make_pipeline(columns, network).fit(frame, Y)


def test_a_pipeline_exports_as_one_graph(mixed_frame, tmp_path):
    """save(pipeline) and to_onnx(pipeline) raised TypeError; the README sells the workflow."""
    frame, Y = mixed_frame
    frame = frame.assign(city=frame["city"].astype(str), job=frame["job"].fillna("none"))
    pipeline = _one_hot_pipeline(frame, Y)
    to_onnx(pipeline, tmp_path / "pipeline.onnx", X=frame)
    session = ort.InferenceSession(str(tmp_path / "pipeline.onnx"))
    assert [i.name for i in session.get_inputs()] == ["age", "city", "x", "job"]
    feeds = {name: frame[[name]].to_numpy() for name in frame.columns}
    feeds = {k: v.astype(str) if v.dtype == object else v for k, v in feeds.items()}
    got = session.run(None, feeds)
    for onnx_output, expected in zip(got, pipeline.predict_proba(frame)):
        np.testing.assert_allclose(onnx_output, expected, rtol=0, atol=1e-5)
    with pytest.raises(ValueError, match="needs X= \\(a few rows of the pipeline's input\\)"):
        to_onnx(pipeline)


def test_a_pipeline_step_without_a_converter_is_named():
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import SplineTransformer

    X, Y = make_task_pair(200, 0.5, n_features=3, target="binary", random_state=0)
    pipeline = make_pipeline(SplineTransformer(), MMoEClassifier(2, max_epochs=1)).fit(X, Y)
    with pytest.raises(TypeError, match="cannot export the pipeline's step\\(s\\) "
                       "\\['splinetransformer \\(SplineTransformer\\)'\\]"):  # fmt: skip
        to_onnx(pipeline)


def test_a_pipeline_of_numpy_input_needs_no_sample(tmp_path):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, Y = make_task_pair(200, 0.5, n_features=3, random_state=0)
    X = X.astype(np.float32) * 50 + 7
    pipeline = make_pipeline(StandardScaler(), MMoERegressor(2, max_epochs=3, random_state=0))
    pipeline.fit(X, Y)
    session = ort.InferenceSession(to_onnx(pipeline).SerializeToString())
    got = session.run(None, {session.get_inputs()[0].name: X})
    np.testing.assert_allclose(np.column_stack(got), pipeline.predict(X), rtol=0, atol=1e-4)


def test_a_pipeline_whose_network_embeds_categories_is_refused(mixed_frame):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    frame, Y = mixed_frame
    pipeline = make_pipeline(FunctionTransformer(), MMoEClassifier(2, max_epochs=1)).fit(frame, Y)
    with pytest.raises(ValueError, match="its last step embeds categorical columns"):
        to_onnx(pipeline, X=frame)


def test_export_prints_nothing_the_user_did_not_cause(tmp_path):
    """The exporter logged four torchvision notices and a LeafSpec FutureWarning.

    Run in a fresh process: the exporter logs its notices once per process.
    """
    import subprocess
    import sys

    script = f"""
import warnings
warnings.simplefilter("always")
from sklearn_mtl import MMoEClassifier
from sklearn_mtl.datasets import make_task_pair
from sklearn_mtl.export import to_onnx
X, Y = make_task_pair(100, 0.5, n_features=4, target="binary", random_state=0)
to_onnx(MMoEClassifier(2, max_epochs=1).fit(X, Y), {str(tmp_path / "model.onnx")!r})
"""
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "" and result.stderr == ""
