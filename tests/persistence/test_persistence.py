"""sklearn_mtl.save / load: JSON and safetensors, no code executed on load."""

import pickle
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from skorch.callbacks import EpochScoring

import sklearn_mtl
from sklearn_mtl import MMoEClassifier, MMoERegressor, MultiTaskNet, load, save
from sklearn_mtl.architectures import PLE
from sklearn_mtl.datasets import make_task_pair
from sklearn_mtl.persistence import ModelFileError, skops_trusted_types
from tests._model_files import members, rewrite_metadata, write_members
from tests._settings import ESTIMATORS, LINEAR_ESTIMATORS, outputs, task_data

pytest.importorskip("safetensors")


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


# --- Adversarial files: each built here, small, refused with ModelFileError ---------


@pytest.fixture(scope="module")
def saved_models(tmp_path_factory):
    """One small saved classifier and one linear regressor, rewritten by each test."""
    folder = tmp_path_factory.mktemp("saved")
    X, Y = make_task_pair(100, 0.5, n_features=4, target="binary", random_state=4)
    network = MMoEClassifier(2, expert_units=(8,), max_epochs=1, random_state=0).fit(X, Y)
    save(network, folder / "network.mtl")
    linear = sklearn_mtl.MultiTaskL1LqRegressor(alpha=0.01).fit(X, Y.astype(float))
    save(linear, folder / "linear.mtl")
    mixed = MultiTaskNet(PLE(1, n_shared_experts=1, expert_units=(4,)), max_epochs=1,
                         random_state=0).fit(X, Y)  # fmt: skip
    save(mixed, folder / "mixed.mtl")
    return {"network": (folder / "network.mtl").read_bytes(),
            "linear": (folder / "linear.mtl").read_bytes(),
            "mixed": (folder / "mixed.mtl").read_bytes(), "X": X}  # fmt: skip


def _copy(saved_models, kind, tmp_path):
    path = tmp_path / f"{kind}.mtl"
    path.write_bytes(saved_models[kind])
    return path


def _nested(depth):
    value = 0
    for _ in range(depth):
        value = [value]
    return value


ARRAY_2_70 = {"__ndarray__": "<i8", "shape": [1], "data": [2**70]}


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda m: m.update(format_version=2), "format version 2 .* reads format version 1"),
        (lambda m: m.update(estimator="os.system"), "names the class 'os.system'"),
        (lambda m: m.update(estimator="OrdinalEncoder"), "names the class 'OrdinalEncoder'"),
        (lambda m: m.update(format="pickle"), "is not an sklearn_mtl model file"),
        (lambda m: m["state"].update(_input_encoder={"__object__": "Popen", "state": {}}),
         "may not be instantiated"),
        (lambda m: m["state"]["classes_"].__setitem__(0, {"__ndarray__": "O", "shape": [1],
                                                         "data": [1]}), "not plain data"),
        # the audit's findings: each raised something other than a ValueError
        (lambda m: m["params"].update(device={"__device__": "nonsense:7"}), "not a torch device"),
        (lambda m: m["params"].update(device="nonsense:7"), "must be a torch device"),
        (lambda m: m["state"].update(is_categorical_=ARRAY_2_70), "OverflowError"),
        (lambda m: m.pop("history"), "training history must be a non-empty list"),
        (lambda m: m.update(history=5), "training history must be a non-empty list"),
        (lambda m: m["params"].update(optimizer="os.system"), "'optimizer' parameter"),
        (lambda m: m["params"].update(callbacks=["os.system"]), "callbacks must be None"),
        (lambda m: m["state"].update(_make_net=1), "'_make_net', which is not a fitted"),
        (lambda m: m["state"].update(predict_proba="pwn"), "'predict_proba', which is not a"),
        (lambda m: m["state"].update(__class__="x"), "'__class__', which is not a fitted"),
        (lambda m: m["state"].update(batch_size=0), "'batch_size', which is not a fitted"),
        (lambda m: m["params"].update(batch_size=0), "'batch_size' parameter"),
        (lambda m: m["params"].update(n_experts=-1), "'n_experts' parameter"),
        (lambda m: m["params"].pop("lr"), r"missing \['lr'\]"),
        (lambda m: m["params"].update(evil=1), r"unknown \['evil'\]"),
        (lambda m: m["state"].update(classes_=_nested(500)), "nests more than 64 levels"),
        (lambda m: m["state"].update(n_tasks_=3), "_head_sizes must list 3 positive ints"),
        (lambda m: m["state"].update(_task_types=["binary", "nonsense"]), "_task_types must"),
        (lambda m: m["state"]["_input_encoder"]["state"].update(
            scale={"__ndarray__": "<f8", "shape": [4], "data": [1, 1, 0, 1]}),
         "scale must be positive"),
        (lambda m: m["state"].update(_input_encoder={"__object__": "InputEncoder",
                                                     "state": {"transform": 1}}),
         "may not have the attribute 'transform'"),
        (lambda m: m["state"]["classes_"].__setitem__(0, {"__ndarray__": "<U10000000",
                                                          "shape": [2], "data": ["a", "b"]}),
         "far wider than the strings"),
        (lambda m: m["state"]["classes_"].__setitem__(0, {"__ndarray__": "<i8", "shape": [10**9],
                                                          "data": [0, 1]}),
         r"shape \[1000000000\] cannot hold 2 values"),
    ],
)  # fmt: skip
def test_tampered_or_foreign_files_are_refused_without_running_code(
    saved_models, tmp_path, change, message
):
    _assert_refused_after(rewrite_metadata, change, _copy(saved_models, "network", tmp_path),
                          message)  # fmt: skip


def _assert_refused_after(rewrite, change, path, message):
    rewrite(path, change)
    with pytest.raises(ModelFileError, match=message):
        load(path)


def _architecture(metadata) -> dict:
    return metadata["params"]["architecture"]


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda m: _architecture(m).update(__architecture__="Popen"), "'Popen' is not an archit"),
        (lambda m: _architecture(m).update(__architecture__="MMoEClassifier"),
         "'MMoEClassifier' is not an architecture"),
        (lambda m: _architecture(m)["params"].update(evil=1), "must list exactly its parameters"),
        (lambda m: _architecture(m)["params"].pop("n_levels"), "must list exactly its parameters"),
        (lambda m: _architecture(m)["params"].update(n_levels=-1), "'n_levels' parameter of PLE"),
        (lambda m: _architecture(m)["params"].update(n_levels=10**6),
         "far more than its weights hold"),
        (lambda m: m["params"].update(architecture="transformer"), "'architecture' parameter"),
        (lambda m: _architecture(m)["params"].update(n_ensemble=0), "'n_ensemble' parameter"),
        # members other than the fitted ones (n_ensemble_ = 1), or than the weights have
        (lambda m: _architecture(m)["params"].update(n_ensemble=4), "must be the parameter's"),
        (lambda m: _architecture(m)["params"].update(n_ensemble=10**9), "must be the paramet"),
        (lambda m: (_architecture(m)["params"].update(n_ensemble=4),
                    m["state"].pop("n_ensemble_")), "weights do not fit"),
    ],
)  # fmt: skip
def test_a_crafted_architecture_is_refused(saved_models, tmp_path, change, message):
    path = _copy(saved_models, "mixed", tmp_path)
    _assert_refused_after(rewrite_metadata, change, path, message)


@pytest.mark.parametrize(
    "members, message",
    [
        *[(value, "n_ensemble_ must be a positive int") for value in (0, -1, True, "auto", 1.5)],
        (2, "weights do not fit"),
        (10**9, "weights do not fit"),
    ],
)
def test_crafted_fitted_members_are_refused(saved_models, tmp_path, members, message):
    """``n_ensemble="auto"`` (the default) builds the network with the file's ``n_ensemble_``."""
    for kind in ("network", "mixed"):
        path = _copy(saved_models, kind, tmp_path)
        _assert_refused_after(rewrite_metadata, lambda m: m["state"].update(n_ensemble_=members),
                              path, message)  # fmt: skip


def test_a_file_of_auto_members_without_its_fitted_members_is_refused(saved_models, tmp_path):
    path = _copy(saved_models, "network", tmp_path)
    rewrite_metadata(path, lambda m: m["state"].pop("n_ensemble_"))
    with pytest.raises(ModelFileError, match="n_ensemble_ are missing"):
        load(path)


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="needs a machine without CUDA")
def test_a_file_for_a_device_this_machine_lacks_names_the_way_out(saved_models, tmp_path):
    path = _copy(saved_models, "network", tmp_path)
    rewrite_metadata(path, lambda m: m["params"].update(device="cuda"))
    with pytest.raises(ModelFileError, match=r"device='cuda'.*load\(path, device='cpu'\)"):
        load(path)
    assert load(path, device="cpu").device == "cpu"


def test_an_architecture_of_before_ensembles_reads_one_member(saved_models, tmp_path):
    path = _copy(saved_models, "mixed", tmp_path)
    rewrite_metadata(path, lambda m: _architecture(m)["params"].pop("n_ensemble"))
    assert load(path).architecture.n_ensemble == 1


def test_the_architecture_object_survives_a_round_trip(saved_models, tmp_path):
    loaded = load(_copy(saved_models, "mixed", tmp_path))
    assert loaded.architecture == PLE(1, n_shared_experts=1, expert_units=(4,))
    assert loaded.get_params()["architecture__n_task_experts"] == 1


FORMAT_1_FILES = sorted(
    path.stem for path in (Path(__file__).parent / "data" / "format_v1").glob("*.mtl")
)


@pytest.mark.parametrize("name", FORMAT_1_FILES)
def test_files_written_before_the_architecture_objects_still_load(name):
    """Files of sklearn_mtl 0.1.0 before issue 15 (made by data/format_v1/make_files.py here)."""
    folder = Path(__file__).parent / "data" / "format_v1"
    expected = np.load(folder / "expected_predictions.npz")
    model = load(folder / f"{name}.mtl")
    predicted = np.asarray(model.predict(expected["X"]), dtype=float)
    np.testing.assert_allclose(predicted, expected[name], rtol=1e-6, atol=1e-6)
    if "compile" in type(model)._get_param_names():  # a parameter newer than the files
        assert model.compile is False
    if name == "multitask_net_ple":  # flat parameters, now in the architecture object
        assert model.architecture == PLE(
            1, n_shared_experts=1, expert_units=(4,), tower_units=(4,), n_ensemble=1
        )
        assert "n_experts" not in model.get_params()


def test_the_format_1_files_cover_every_kind_of_model():
    assert len(FORMAT_1_FILES) == 6


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda m: m["state"]["coef_"].update(shape=[4, 2]), r"coef_ must be a finite array"),
        (lambda m: m["state"]["coef_"]["data"].__setitem__(0, {"__float__": "nan"}),
         "coef_ must be a finite array"),
        (lambda m: m["state"].update(intercept_=[0.0]), "intercept_ must hold"),
        (lambda m: m["state"].update(n_features_in_=0), "n_features_in_ must be a positive int"),
        (lambda m: m["params"].update(alpha=-1.0), "'alpha' parameter"),
    ],
)  # fmt: skip
def test_inconsistent_linear_models_are_refused_at_load(saved_models, tmp_path, change, message):
    path = _copy(saved_models, "linear", tmp_path)
    _assert_refused_after(rewrite_metadata, change, path, message)


def test_a_pickle_a_directory_or_a_truncated_file_is_not_loaded(saved_models, tmp_path):
    (tmp_path / "evil.mtl").write_bytes(pickle.dumps(print))
    with pytest.raises(ModelFileError, match="is not an sklearn_mtl model file"):
        load(tmp_path / "evil.mtl")
    with pytest.raises(ModelFileError, match="is a directory"):
        load(tmp_path)
    path = _copy(saved_models, "network", tmp_path)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(ModelFileError, match="is not an sklearn_mtl model file"):
        load(path)
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "missing.mtl")


def test_deeply_nested_json_is_refused(saved_models, tmp_path):
    path = _copy(saved_models, "network", tmp_path)
    contents = members(path)
    contents["metadata.json"] = "[" * 200_000 + "]" * 200_000  # beyond Python's recursion limit
    write_members(path, contents)
    with pytest.raises(ModelFileError, match="not valid JSON"):
        load(path)


def test_extra_or_duplicate_members_are_refused(saved_models, tmp_path):
    path = _copy(saved_models, "network", tmp_path)
    contents = members(path)
    write_members(path, {**contents, "run.py": b"import os"})
    with pytest.raises(ModelFileError, match="run.py"):
        load(path)
    with pytest.warns(UserWarning, match="Duplicate name"):
        write_members(path, {**contents} | {"metadata.json": contents["metadata.json"]})
        with zipfile.ZipFile(path, "a") as archive:
            archive.writestr("metadata.json", contents["metadata.json"])
    with pytest.raises(ModelFileError, match="once each"):
        load(path)


def test_a_decompression_bomb_is_refused_before_it_is_read(saved_models, tmp_path):
    """The audit's 1 GiB of spaces after the metadata; 20 MiB here, as the cap is a ratio."""
    path = _copy(saved_models, "network", tmp_path)
    contents = members(path)
    contents["metadata.json"] = contents["metadata.json"] + b" " * (20 << 20)
    write_members(path, contents)
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("metadata.json")
        assert info.file_size > 50 * info.compress_size  # the bomb: > 1000x
    with pytest.raises(ModelFileError, match="metadata.json declares .*decompression bomb"):
        load(path)


def test_a_member_that_decompresses_past_its_declared_size_is_refused(saved_models, tmp_path):
    """A zip whose directory understates a member's size: reading stops at that size."""
    path = _copy(saved_models, "network", tmp_path)
    contents = members(path)
    contents["metadata.json"] = contents["metadata.json"] + b" " * 100_000
    write_members(path, contents)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("metadata.json")
    central = data.find(b"PK\x01\x02")
    while data[central + 46 : central + 46 + len("metadata.json")] != b"metadata.json":
        central = data.find(b"PK\x01\x02", central + 4)
    data[central + 24 : central + 28] = (info.file_size - 100_000).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="Bad CRC-32 for file 'metadata.json'"):
        load(path)


def _peak_rss_bytes():
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


@pytest.mark.parametrize(
    "params, message",
    [
        ({"n_experts": 10**5, "expert_units": {"__tuple__": [1000]}}, "weights do not fit|is not"),
        ({"n_experts": 10**9}, "weights do not fit|is not"),
    ],
)  # fmt: skip
def test_a_file_cannot_make_load_allocate_what_its_bytes_do_not_hold(
    saved_models, tmp_path, params, message
):
    """Parameters that describe a huge network: its shapes are checked on the meta device."""
    path = _copy(saved_models, "network", tmp_path)
    rewrite_metadata(path, lambda m: m["params"].update(params))
    before = _peak_rss_bytes()
    with pytest.raises(ModelFileError, match=message):
        load(path)
    assert _peak_rss_bytes() - before < 200 << 20  # the audit saw 2.7 GB for the first


def _rewrite_weights(path, change):
    from safetensors.torch import load as load_tensors
    from safetensors.torch import save as save_tensors

    contents = members(path)
    tensors = load_tensors(contents["weights.safetensors"])
    change(tensors)
    contents["weights.safetensors"] = save_tensors(tensors)
    write_members(path, contents)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda t: t["module.model.gate.linear.weight"].__setitem__(0, float("nan")),
         "gate.linear.weight holds NaN"),
        (lambda t: t.update({"module.model.gate.linear.weight":
                             t["module.model.gate.linear.weight"][:1]}), "is not a F32 tensor"),
        (lambda t: t.update({"module.extra": t["module.input_layer.mean"].clone()}), "unknown"),
        (lambda t: t.pop("module.input_layer.mean"), "missing"),
        (lambda t: t["module.input_layer.scale"].__setitem__(0, 0.0),
         "input_layer.scale does not match the fitted state"),
        (lambda t: t.update({"module.input_layer.mean": t["module.input_layer.mean"].double()}),
         "is not a F32 tensor"),
    ],
)  # fmt: skip
def test_weights_that_do_not_fit_the_network_are_refused(saved_models, tmp_path, change, message):
    path = _copy(saved_models, "network", tmp_path)
    _assert_refused_after(_rewrite_weights, change, path, message)


@pytest.mark.parametrize(
    "weights, message",
    [(b"garbage", "weights are truncated|header"), (b"\xff" * 64, "header"),
     (b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}      ", "cannot be loaded")],
)  # fmt: skip
def test_weights_that_are_not_safetensors_are_refused(saved_models, tmp_path, weights, message):
    """safetensors' own SafetensorError reached the user before."""
    path = _copy(saved_models, "network", tmp_path)
    write_members(path, {**members(path), "weights.safetensors": weights})
    with pytest.raises(ModelFileError, match=message):
        load(path)


def test_weights_with_more_bytes_than_their_tensors_are_refused(saved_models, tmp_path):
    path = _copy(saved_models, "network", tmp_path)
    contents = members(path)
    contents["weights.safetensors"] += b"\0" * 1000
    write_members(path, contents)
    with pytest.raises(ModelFileError, match="weights hold .* bytes where the tensors need"):
        load(path)


def test_a_linear_model_loads_with_a_device_argument(saved_models, tmp_path):
    """The README's load(path, device="cpu") works for every estimator."""
    path = _copy(saved_models, "linear", tmp_path)
    model = load(path, device="cpu")
    assert model.predict(saved_models["X"]).shape == (100, 2)


# --- Saving atomically -----------------------------------------------------------------

_CHILD = """
import os, sys, time, zipfile
import numpy as np
import sklearn_mtl
from sklearn_mtl import MMoEClassifier
from sklearn_mtl.datasets import make_task_pair
X, Y = make_task_pair(100, 0.5, n_features=4, target="binary", random_state=4)
model = MMoEClassifier(4, expert_units=(256,), max_epochs=1, random_state=int(sys.argv[2]))
model.fit(X, Y)
mode, path = sys.argv[1], sys.argv[3]
if mode == "kill":  # stop inside the write, after the metadata, and wait to be killed
    writestr = zipfile.ZipFile.writestr
    def slow(self, name, data, *args, **kwargs):
        writestr(self, name, data, *args, **kwargs)
        print("writing", flush=True)
        time.sleep(60)
    zipfile.ZipFile.writestr = slow
elif mode == "full":  # a file-size limit: writes past 20 kB fail as on a full disk
    import resource, signal
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))
for _ in range(int(sys.argv[4]) if len(sys.argv) > 4 else 1):
    try:
        sklearn_mtl.save(model, path)
    except OSError as error:
        print(type(error).__name__, error.errno, flush=True)
        sys.exit(3)
print("saved", flush=True)
"""


def _child(*args):
    import subprocess
    import sys

    return subprocess.Popen([sys.executable, "-c", _CHILD, *map(str, args)],
                            stdout=subprocess.PIPE, text=True)  # fmt: skip


@pytest.fixture
def old_model(saved_models, tmp_path):
    path = _copy(saved_models, "network", tmp_path)
    return path, load(path).predict_proba(saved_models["X"])


def _assert_intact(path, expected, X):
    for got, want in zip(load(path).predict_proba(X), expected, strict=True):
        np.testing.assert_array_equal(got, want)
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no debris


def test_a_save_killed_mid_write_leaves_the_old_file(old_model, saved_models):
    path, expected = old_model
    child = _child("kill", 1, path)
    assert child.stdout.readline().strip() == "writing"
    child.kill()
    child.wait()
    _assert_intact(path, expected, saved_models["X"])


def test_a_save_on_a_full_disk_leaves_the_old_file(old_model, saved_models):
    path, expected = old_model
    child = _child("full", 1, path)
    output, _ = child.communicate(timeout=120)
    assert child.returncode == 3 and output.startswith("OSError 27")  # EFBIG
    _assert_intact(path, expected, saved_models["X"])


def test_two_processes_saving_to_one_path_leave_one_complete_model(tmp_path, saved_models):
    path = tmp_path / "model.mtl"
    children = [_child("race", seed, path, 15) for seed in (1, 2)]
    assert all(child.communicate(timeout=120)[0].strip() == "saved" for child in children)
    model = load(path)
    assert model.random_state in (1, 2)
    assert [p.name for p in tmp_path.iterdir()] == ["model.mtl"]
    assert np.isfinite(model.predict_proba(saved_models["X"])[0]).all()


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


def test_estimators_pickled_before_the_fit_state_still_predict():
    """A pickle of 0.1.0 before issue 15 (five private attributes instead of FitState)."""
    with open(Path(__file__).parent / "data" / "format_v1" / "mmoe_classifier.pkl", "rb") as f:
        saved = pickle.load(f)  # our own fixture; never unpickle a file you did not write
    network, linear = saved["network"], saved["linear"]
    assert not hasattr(network, "_single_output") and network._fit_state.head_sizes == [1, 1]
    assert network.get_params()["compile"] is False and network.net_.compile_mode is None
    for got, expected in zip(network.predict_proba(saved["X"]), saved["proba"]):
        np.testing.assert_allclose(got, expected, rtol=1e-6)
    np.testing.assert_allclose(linear.predict(saved["X"]), saved["linear_pred"])
    network.partial_fit(saved["X"], network.predict(saved["X"]))  # and train on
    assert network.n_iter_ == 3
