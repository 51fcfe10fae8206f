"""sklearn_mtl.save / load: JSON and safetensors, no code executed on load."""

import json
import pickle
import zipfile

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone, is_classifier
from sklearn.exceptions import NotFittedError
from skorch.callbacks import EpochScoring

import sklearn_mtl
from sklearn_mtl import ESMMClassifier, MMoEClassifier, MMoERegressor, MultiTaskNet, load, save
from sklearn_mtl.datasets import make_click_conversion, make_task_pair
from sklearn_mtl.persistence import skops_trusted_types
from tests._settings import ESTIMATORS, LINEAR_ESTIMATORS

pytest.importorskip("safetensors")


def task_data(estimator):
    if isinstance(estimator, ESMMClassifier):
        return make_click_conversion(300, random_state=0)
    target = "binary" if is_classifier(estimator) else "regression"
    X, Y = make_task_pair(300, 0.5, n_features=6, target=target, random_state=0)
    if isinstance(estimator, MultiTaskNet):
        return X, np.column_stack([Y[:, 0], Y[:, 1] > 0]).astype(object)
    return X, Y


def outputs(model, X):
    results = [model.predict(X)]
    if hasattr(model, "predict_proba"):
        proba = model.predict_proba(X)
        results += [p for p in proba if p is not None] if isinstance(proba, list) else [proba]
    return results


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_round_trip_gives_identical_predictions(estimator, tmp_path):
    X, Y = task_data(estimator)
    params = {"max_epochs": 3} if "max_epochs" in estimator.get_params() else {}
    model = clone(estimator).set_params(**params).fit(X, Y)
    save(model, tmp_path / "model.mtl")
    loaded = load(tmp_path / "model.mtl")
    assert type(loaded) is type(model)
    assert loaded.get_params() == model.get_params()
    for got, expected in zip(outputs(loaded, X), outputs(model, X), strict=True):
        np.testing.assert_array_equal(got, expected)
    with zipfile.ZipFile(tmp_path / "model.mtl") as archive:
        names = set(archive.namelist())
    neural = hasattr(model, "net_")
    assert names == ({"metadata.json", "weights.safetensors"} if neural else {"metadata.json"})
    if neural:
        assert loaded.net_.history[:, "train_loss"] == model.net_.history[:, "train_loss"]


def test_round_trip_with_categorical_columns_and_unseen_categories(tmp_path):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({
        "price": rng.normal(size=300),
        "city": pd.Categorical(rng.choice(["paris", "rome", "oslo"], 300)),
        "plan": rng.choice(["free", "pro", None], 300).astype(object),
    })  # fmt: skip
    Y = np.column_stack([frame["price"] > 0, frame["city"] == "rome"]).astype(int)
    model = MMoEClassifier(2, expert_units=(8,), max_epochs=3, min_frequency=5, random_state=0)
    model.fit(frame, Y)
    save(model, tmp_path / "model.mtl")
    loaded = load(tmp_path / "model.mtl")
    new = frame.assign(plan=["gold"] * 150 + [None] * 150)  # unseen and missing categories
    for got, expected in zip(loaded.predict_proba(new), model.predict_proba(new), strict=True):
        np.testing.assert_array_equal(got, expected)
    with pytest.raises(ValueError, match="feature names should match"):
        loaded.predict(frame.rename(columns={"price": "cost"}))


def test_uncertainty_weights_and_string_classes_survive(tmp_path):
    X, Y = make_task_pair(300, 0.5, n_features=6, target="binary", random_state=1)
    labels = np.where(Y == 1, "yes", "no")
    model = MMoEClassifier(2, max_epochs=3, loss_weighting="uncertainty", random_state=0)
    model.fit(X, labels)
    loaded = load(_saved(model, tmp_path))
    assert loaded.classes_[0].tolist() == ["no", "yes"]
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    saved_sigma = dict(model.net_.criterion_.named_parameters())
    for name, value in loaded.net_.criterion_.named_parameters():
        np.testing.assert_array_equal(value.detach().numpy(), saved_sigma[name].detach().numpy())


def test_a_loaded_model_trains_on_with_partial_fit(tmp_path):
    X, Y = make_task_pair(300, 0.5, n_features=6, random_state=2)
    model = MMoERegressor(2, max_epochs=2, random_state=0).fit(X, Y)
    loaded = load(_saved(model, tmp_path), device="cpu")
    loaded.partial_fit(X, Y)
    assert loaded.n_iter_ == 3
    assert loaded.score(X, Y) > -1


def _saved(model, tmp_path):
    save(model, tmp_path / "model.mtl")
    return tmp_path / "model.mtl"


def test_save_refuses_what_is_not_plain_data(tmp_path):
    X, Y = make_task_pair(100, 0.5, n_features=4, random_state=3)
    model = MMoERegressor(2, max_epochs=1, callbacks=[EpochScoring("r2")]).fit(X, Y)
    with pytest.raises(TypeError, match=r"params\['callbacks'\]\[0\] is a skorch"):
        save(model, tmp_path / "model.mtl")
    with pytest.raises(NotFittedError):
        save(MMoERegressor(), tmp_path / "model.mtl")
    with pytest.raises(TypeError, match="save takes an estimator of sklearn_mtl"):
        save(object(), tmp_path / "model.mtl")


def _rewrite_metadata(path, change):
    with zipfile.ZipFile(path) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    metadata = json.loads(files["metadata.json"])
    change(metadata)
    files["metadata.json"] = json.dumps(metadata)
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda m: m.update(format_version=2), "format version 2 .* reads format version 1"),
        (lambda m: m.update(estimator="os.system"), "names the class 'os.system'"),
        (lambda m: m.update(format="pickle"), "is not an sklearn_mtl model file"),
        (lambda m: m["state"].update(_input_encoder={"__object__": "Popen", "state": {}}),
         "may not be instantiated"),
        (lambda m: m["state"]["classes_"].__setitem__(0, {"__ndarray__": "O", "shape": [1],
                                                         "data": [1]}), "not plain data"),
    ],
)  # fmt: skip
def test_tampered_or_foreign_files_are_refused_without_running_code(tmp_path, change, message):
    X, Y = make_task_pair(100, 0.5, n_features=4, target="binary", random_state=4)
    path = _saved(MMoEClassifier(2, max_epochs=1).fit(X, Y), tmp_path)
    _rewrite_metadata(path, change)
    with pytest.raises(ValueError, match=message):
        load(path)


def test_a_pickle_or_a_truncated_file_is_not_loaded(tmp_path):
    (tmp_path / "evil.mtl").write_bytes(pickle.dumps(print))
    with pytest.raises(ValueError, match="is not an sklearn_mtl model file"):
        load(tmp_path / "evil.mtl")
    X, Y = make_task_pair(100, 0.5, n_features=4, random_state=5)
    path = _saved(MMoERegressor(2, max_epochs=1).fit(X, Y), tmp_path)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(ValueError, match="is not an sklearn_mtl model file"):
        load(path)


def test_save_and_load_are_exported():
    assert sklearn_mtl.save is save and sklearn_mtl.load is load


@pytest.mark.parametrize("estimator", LINEAR_ESTIMATORS, ids=lambda e: type(e).__name__)
def test_skops_carries_the_linear_estimators_with_the_trusted_types(estimator, tmp_path):
    sio = pytest.importorskip("skops.io")
    X, Y = task_data(estimator)
    model = clone(estimator).fit(X, Y)
    sio.dump(model, tmp_path / "model.skops")
    untrusted = sio.get_untrusted_types(file=tmp_path / "model.skops")
    assert set(untrusted) <= set(skops_trusted_types())
    loaded = sio.load(tmp_path / "model.skops", trusted=skops_trusted_types())
    for got, expected in zip(outputs(loaded, X), outputs(model, X), strict=True):
        np.testing.assert_array_equal(got, expected)
