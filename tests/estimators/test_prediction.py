"""Prediction in chunks: large inputs are encoded and predicted a chunk of rows at a time."""

import numpy as np

import sklearn_mtl.estimators._prediction
from sklearn_mtl import MMoEClassifier
from sklearn_mtl.datasets import make_task_pair


def test_prediction_encodes_large_inputs_chunk_by_chunk(monkeypatch):
    X, Y = make_task_pair(500, 0.5, n_features=6, target="binary", random_state=1)
    model = MMoEClassifier(2, expert_units=(8,), max_epochs=2, batch_size=64, random_state=0)
    model.fit(X, Y)
    whole = model.predict_proba(X)
    encoded = []
    transform = model._fit_state.inputs.transform
    monkeypatch.setattr(sklearn_mtl.estimators._prediction, "PREDICT_CHUNK_ROWS", 128)
    inputs = model._fit_state.inputs
    monkeypatch.setattr(
        inputs, "transform", lambda part: encoded.append(len(part)) or transform(part)
    )
    chunked = model.predict_proba(X)
    assert encoded == [128, 128, 128, 116]
    for a, b in zip(chunked, whole):
        np.testing.assert_array_equal(a, b)
