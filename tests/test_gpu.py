"""device="cuda" end to end. Skipped where CUDA is absent (as in CI)."""

import os
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from sklearn.metrics import accuracy_score, r2_score
from skorch.callbacks import Callback

from sklearn_mtl import (
    CrossStitchClassifier,
    ESMMClassifier,
    MMoEClassifier,
    MultiTaskNet,
    PLEClassifier,
    SharedBottomRegressor,
)
from sklearn_mtl.datasets import make_click_conversion, make_task_pair

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


class RecordDevices(Callback):
    """Records where the training data and each batch live."""

    def initialize(self):
        self.dataset_devices, self.batch_devices = set(), set()
        return self

    def on_epoch_begin(self, net, dataset_train=None, **kwargs):
        self.dataset_devices.add(dataset_train.X.device.type)

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        inputs, targets = batch
        inputs = inputs["X"] if isinstance(inputs, dict) else inputs
        self.batch_devices.add((inputs.device.type, targets.device.type))


@pytest.fixture(scope="module")
def binary_pair():
    return make_task_pair(600, 0.9, n_features=10, target="binary", random_state=0)


def test_cuda_fit_keeps_data_on_device_and_learns(binary_pair):
    X, Y = binary_pair
    recorder = RecordDevices()
    model = MMoEClassifier(
        n_experts=4,
        max_epochs=20,
        lr=1e-2,
        device="cuda",
        random_state=0,
        callbacks=[("devices", recorder)],
    ).fit(X, Y)
    used = dict(model.net_.callbacks_)["devices"]  # fit works on a copy
    assert used.dataset_devices == {"cuda"}  # moved once, before the first epoch
    assert used.batch_devices == {("cuda", "cuda")}  # no per-batch host-to-device copy
    assert next(model.net_.module_.parameters()).device.type == "cuda"
    assert model.score(X, Y) > 0.7
    probas = model.predict_proba(X)
    assert all(np.allclose(p.sum(axis=1), 1) for p in probas)


def test_cuda_matches_cpu_training_closely(binary_pair):
    X, Y = binary_pair
    params = dict(n_experts=4, max_epochs=5, random_state=0)
    cpu = MMoEClassifier(**params).fit(X, Y)
    gpu = MMoEClassifier(**params, device="cuda").fit(X, Y)
    # Different kernels and RNG streams: close in quality, not bitwise equal.
    assert abs(cpu.score(X, Y) - gpu.score(X, Y)) < 0.1


def test_cuda_model_pickles_and_loads_on_cpu(binary_pair, tmp_path):
    X, Y = binary_pair
    model = SharedBottomRegressor(max_epochs=5, device="cuda", random_state=0)
    model.fit(X, Y.astype(float))
    expected = model.predict(X)
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(model))
    np.save(tmp_path / "X.npy", X)
    script = textwrap.dedent(
        f"""
        import os, pickle, warnings
        import numpy as np, torch
        assert not torch.cuda.is_available()
        warnings.simplefilter("ignore")
        model = pickle.loads(open({str(path)!r}, "rb").read())
        np.save({str(tmp_path / "cpu.npy")!r}, model.predict(np.load({str(tmp_path / "X.npy")!r})))
        print(model.net_.device)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "CUDA_VISIBLE_DEVICES": ""},
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "cpu"
    np.testing.assert_allclose(np.load(tmp_path / "cpu.npy"), expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(
    "estimator",
    [
        PLEClassifier(n_task_experts=1, n_shared_experts=2, max_epochs=3),
        CrossStitchClassifier(column_units=(16,), max_epochs=3),
        ESMMClassifier(max_epochs=3),
    ],
    ids=lambda e: type(e).__name__,
)
def test_new_architectures_on_cuda(estimator, binary_pair):
    X, Y = binary_pair
    if isinstance(estimator, ESMMClassifier):
        X, Y = make_click_conversion(600, n_features=10, random_state=0)
    model = estimator.set_params(device="cuda", random_state=0).fit(X, Y)
    assert next(model.net_.module_.parameters()).device.type == "cuda"
    probas = model.predict_proba(X)
    assert all(np.allclose(p.sum(axis=1), 1) for p in probas)
    if isinstance(model, PLEClassifier):
        assert [w.shape for w in model.gate_weights(X[:5])] == [(5, 2, 4)] * 2
    if isinstance(model, ESMMClassifier):
        assert np.all(probas[1][:, 1] <= probas[0][:, 1] + 1e-6)
        assert model.predict_cvr_proba(X[:5]).shape == (5,)


@pytest.mark.parametrize("method", ["uncertainty", "dwa", "mgda", "gradnorm", "pcgrad"])
def test_weightings_on_cuda(method, binary_pair):
    X, Y = binary_pair
    model = MMoEClassifier(n_experts=3, max_epochs=3, loss_weighting=method, device="cuda",
                           random_state=0).fit(X, Y)  # fmt: skip
    weights = np.array(model.net_.history[:, "task_weights"])
    assert weights.shape == (3, 2) and np.all(np.isfinite(weights))
    losses = np.array(model.net_.history[:, "train_task_losses"])
    assert np.all(losses[-1] < losses[0])


def test_mixed_task_types_on_cuda():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((400, 5)).astype(np.float32)
    y = np.column_stack([X[:, 0] > 0, 3 * X[:, 1]]).astype(float)
    model = MultiTaskNet(task_types=["binary", "regression"], max_epochs=30, lr=1e-2,
                         device="cuda", random_state=0).fit(X, y)  # fmt: skip
    predicted = model.predict(X)
    assert predicted.shape == (400, 2)
    expected = np.mean(
        [accuracy_score(y[:, 0], predicted[:, 0]), r2_score(y[:, 1], predicted[:, 1])]
    )
    assert model.score(X, y) == pytest.approx(expected) and expected > 0.9  # 0.999 on CPU


def test_probabilistic_labels_and_an_interrupt_on_cuda():
    from tests._callbacks import InterruptAt

    rng = np.random.default_rng(0)
    X = rng.standard_normal((400, 5)).astype(np.float32)
    y = np.column_stack([np.where(X[:, 0] > 0, 0.9, 0.1), 3 * X[:, 1]])
    model = MultiTaskNet(task_types=["probabilistic", "regression"], max_epochs=4, lr=1e-2,
                         device="cuda", random_state=0,
                         callbacks=[InterruptAt(epoch=3)])  # fmt: skip
    with pytest.warns(UserWarning, match="the model is that of epoch 2"):
        model.fit(X, y)
    assert model.n_iter_ == 2 and next(model.net_.module_.parameters()).device.type == "cuda"
    proba = model.predict_proba(X)[0]
    assert proba.shape == (400, 2) and np.isfinite(proba).all()


def test_cuda_model_saves_safely_and_loads_on_cpu(binary_pair, tmp_path):
    from sklearn_mtl import load, save

    X, Y = binary_pair
    model = MMoEClassifier(4, max_epochs=3, device="cuda", random_state=0).fit(X, Y)
    save(model, tmp_path / "model.mtl")
    on_gpu = load(tmp_path / "model.mtl")
    on_cpu = load(tmp_path / "model.mtl", device="cpu")
    assert on_gpu.net_.device.type == "cuda" and on_cpu.net_.device.type == "cpu"
    np.testing.assert_array_equal(on_gpu.predict_proba(X)[0], model.predict_proba(X)[0])
    np.testing.assert_allclose(on_cpu.predict_proba(X)[0], model.predict_proba(X)[0], atol=1e-5)


def test_data_parallel_fit_on_one_gpu_process(binary_pair):
    accelerate = pytest.importorskip("accelerate")
    from accelerate.state import AcceleratorState

    X, Y = binary_pair
    accelerator = accelerate.Accelerator()
    model = MMoEClassifier(4, max_epochs=2, device="cuda", random_state=0, accelerator=accelerator)
    try:
        model.fit(X, Y)
        assert next(model.net_.module_.parameters()).device.type == "cuda"
        alone = MMoEClassifier(4, max_epochs=2, device="cuda", random_state=0).fit(X, Y)
        np.testing.assert_allclose(model.predict_proba(X)[0], alone.predict_proba(X)[0], atol=1e-4)
    finally:  # accelerate keeps one state per process; later tests make CPU accelerators
        AcceleratorState._reset_state(reset_partial_state=True)


def test_cuda_refits_agree_within_tolerance_and_exactly_when_deterministic(tmp_path):
    script = textwrap.dedent(
        """
        import sys, numpy as np, torch
        torch.use_deterministic_algorithms(sys.argv[1] == "deterministic")
        from sklearn_mtl import MMoEClassifier
        from sklearn_mtl.datasets import make_task_pair
        X, Y = make_task_pair(2000, 0.9, n_features=20, target="binary", random_state=0)
        fit = lambda: MMoEClassifier(max_epochs=3, dropout=0.1, device="cuda",
                                     random_state=0).fit(X, Y).predict_proba(X)[0]
        a, b = fit(), fit()
        print(float(np.abs(a - b).max()))
        """
    )
    env = {**os.environ, "CUBLAS_WORKSPACE_CONFIG": ":4096:8"}
    differences = {}
    for mode in ("default", "deterministic"):
        result = subprocess.run([sys.executable, "-c", script, mode], capture_output=True,
                                text=True, check=True, env=env)  # fmt: skip
        differences[mode] = float(result.stdout.strip().splitlines()[-1])
    assert differences["default"] < 1e-4
    assert differences["deterministic"] == 0.0


@pytest.mark.parametrize("mode", ["default", "reduce-overhead"])
def test_compiled_training_on_cuda_equals_eager_and_pickles_to_cpu(mode, binary_pair):
    """compile= on a GPU, with and without CUDA graphs: eager's results, nothing compiled kept."""
    X, Y = binary_pair  # 600 rows in batches of 128: a short last batch
    params = dict(n_experts=3, expert_units=(32,), max_epochs=4, batch_size=128, lr=1e-2,
                  device="cuda", random_state=0)  # fmt: skip
    eager = MMoEClassifier(**params).fit(X, Y)
    compiled = MMoEClassifier(**params, compile=mode).fit(X, Y)
    compiled.partial_fit(X, Y)
    eager.partial_fit(X, Y)
    np.testing.assert_allclose(
        compiled.net_.history[:, "train_loss"], eager.net_.history[:, "train_loss"], rtol=1e-3
    )
    for got, expected in zip(compiled.predict_proba(X), eager.predict_proba(X)):
        np.testing.assert_allclose(got, expected, atol=1e-3)
    data = pickle.dumps(compiled)
    assert b"OptimizedModule" not in data
    loaded = pickle.loads(data)
    for got, expected in zip(loaded.predict_proba(X), compiled.predict_proba(X)):
        np.testing.assert_allclose(got, expected, atol=1e-6)


def test_stacked_synthetic_runs_on_cuda_match_the_cpu(tmp_path):
    """The synthetic benchmark's --device cuda path: stacked runs on the GPU train as on the CPU,
    and the whole benchmark runs there with one stack per model."""
    from benchmarks import synthetic
    from benchmarks._stacked import train_stacked
    from sklearn_mtl.architectures import MMoE

    pairs = [make_task_pair(300, 0.5, n_features=8, function_seed=0, random_state=s)
             for s in range(4)]  # fmt: skip
    X = np.stack([x for x, _ in pairs]).astype(np.float32)
    Y = np.stack([y for _, y in pairs])
    common = dict(n_train=250, init_seeds=range(4), shuffle_seeds=range(4),
                  learning_rates=[1e-2, 1e-3, 1e-2, 1e-3], epochs=3, batch_size=64)  # fmt: skip
    architecture = MMoE(4, expert_units=(8,), tower_units=(4,))
    cpu = train_stacked(architecture, X, Y, device="cpu", **common)
    cuda = train_stacked(architecture, X, Y, device="cuda", **common)
    np.testing.assert_allclose(cuda.train, cpu.train, rtol=2e-3)
    np.testing.assert_allclose(cuda.valid, cpu.valid, rtol=2e-3)
    report = synthetic.main(["--runs", "6", "--n-samples", "330", "--epochs", "2",
                             "--device", "cuda", "--output", str(tmp_path / "s.json")])  # fmt: skip
    assert report["environment"]["cuda_device"] and report["settings"]["stack_size"] == 0
    assert all(r["runs"] == 6 for r in report["results"])
