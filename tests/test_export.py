"""to_onnx: the exported graph gives predict_proba / predict to 1e-5 under onnxruntime."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone, is_classifier

from sklearn_mtl import ESMMClassifier, MMoEClassifier, MultiTaskL1LqRegressor, MultiTaskNet
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


def test_categorical_inputs_and_linear_models_are_refused():
    frame = pd.DataFrame({"x": np.arange(40.0), "colour": pd.Categorical(["a", "b"] * 20)})
    Y = np.column_stack([np.arange(40) % 2, np.arange(40) // 20])
    model = MMoEClassifier(2, max_epochs=1).fit(frame, Y)
    with pytest.raises(ValueError, match=r"categorical columns \['colour'\]"):
        to_onnx(model)
    X, Y = make_task_pair(50, 0.5, n_features=3, random_state=0)
    with pytest.raises(TypeError, match="exports the networks"):
        to_onnx(MultiTaskL1LqRegressor(alpha=0.1).fit(X, Y))


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
