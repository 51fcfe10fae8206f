"""Data-parallel training (``accelerator=``) under torchrun with gloo on CPU processes."""

import pickle
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from sklearn_mtl import MMoEClassifier
from sklearn_mtl._training.data import BatchLoader, TensorBatchDataset
from sklearn_mtl._training.distributed import check_accelerator
from sklearn_mtl.weighting import Equal
from tests.training.distributed_fit import data, fit

accelerate = pytest.importorskip("accelerate")

SCRIPT = Path(__file__).resolve().parent / "distributed_fit.py"


LAUNCHERS = {
    # the scaling guide's commands (README), with 2 CPU processes on loopback
    "torchrun": [sys.executable, "-m", "torch.distributed.run", "--standalone",
                 "--nproc-per-node=2"],
    # --multi_gpu picks accelerate's multi-process launcher; the script's
    # Accelerator(cpu=True) makes the processes gloo CPU processes
    "accelerate launch": [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu",
                          "--num_processes=2", "--num_machines=1", "--mixed_precision=no",
                          "--dynamo_backend=no"],
}  # fmt: skip


def launch(launcher, folder, names):
    command = [*LAUNCHERS[launcher], str(SCRIPT), str(folder), *names]
    return subprocess.run(command, capture_output=True, text=True, check=True, timeout=300)


def parameters(model):
    return {k: v.numpy() for k, v in model.net_.module_.state_dict().items()}


@pytest.mark.parametrize(
    "launcher, names",
    # torchrun fits each model in turn in its two processes: one launch, as starting the
    # processes is most of the time
    [("torchrun", ["mmoe-classifier", "ple-regressor", "mmoe-partial-fit",
                   "mmoe-scarce-labels", "mmoe-ensemble"]),
     ("accelerate launch", ["mmoe-classifier"])],
)  # fmt: skip
def test_two_processes_give_the_one_process_parameters(tmp_path, launcher, names):
    result = launch(launcher, tmp_path, names)
    for name in names:
        assert f"{name}: processes=2" in result.stdout
        with open(tmp_path / f"{name}.pkl", "rb") as file:
            distributed = pickle.load(file)
        alone = fit(name)
        assert distributed.numeric_embedding_ == alone.numeric_embedding_
        expected, got = parameters(alone), parameters(distributed)
        assert expected.keys() == got.keys()
        for key in expected:
            # the same global batch: only the order of the gradient sums differs
            np.testing.assert_allclose(got[key], expected[key], rtol=0, atol=1e-6, err_msg=key)
        X, _ = data(name)
        predict = getattr(alone, "predict_proba", alone.predict)
        np.testing.assert_allclose(
            np.asarray(getattr(distributed, predict.__name__)(X)), np.asarray(predict(X)),
            atol=1e-5,
        )  # fmt: skip
        np.testing.assert_allclose(
            distributed.net_.history[:, "train_loss"], alone.net_.history[:, "train_loss"],
            rtol=1e-5,
        )  # fmt: skip
        epochs = {"ple-regressor": 5, "mmoe-scarce-labels": 6}.get(name, 3)
        assert distributed.n_iter_ == alone.n_iter_ == epochs
    # only the main process prints its epoch table, one for each network it trained
    # (numeric_embedding="auto" trains two, and says which it keeps)
    assert result.stdout.count("train_loss") == len(names) + ("mmoe-scarce-labels" in names)
    assert result.stdout.count("numeric_embedding='auto': best") == ("mmoe-scarce-labels" in names)


@pytest.fixture
def fresh_accelerator_state():
    """accelerate keeps one state per process: a GPU test before may have set it to CUDA."""
    from accelerate.state import AcceleratorState

    AcceleratorState._reset_state(reset_partial_state=True)
    yield
    AcceleratorState._reset_state(reset_partial_state=True)


@pytest.mark.usefixtures("fresh_accelerator_state")
def test_one_process_with_an_accelerator_equals_no_accelerator():
    with_accelerator = fit("mmoe-classifier", accelerate.Accelerator(cpu=True))
    alone = fit("mmoe-classifier")
    for key, value in parameters(alone).items():
        np.testing.assert_array_equal(parameters(with_accelerator)[key], value)
    restored = pickle.loads(pickle.dumps(with_accelerator))
    X, _ = data("mmoe-classifier")
    np.testing.assert_array_equal(restored.predict_proba(X)[1], alone.predict_proba(X)[1])


@pytest.mark.usefixtures("fresh_accelerator_state")
def test_accelerator_refuses_a_weighting_whose_state_differs_between_processes():
    X, Y = data("mmoe-classifier")
    model = MMoEClassifier(
        2, max_epochs=1, loss_weighting="uncertainty", accelerator=accelerate.Accelerator(cpu=True)
    )
    with pytest.raises(ValueError, match="loss_weighting among 'equal', 'fixed'"):
        model.fit(X, Y)
    assert not hasattr(model, "net_")


def test_accelerator_device_must_match_the_device_parameter():
    cuda_accelerator = SimpleNamespace(device=torch.device("cuda", 0))
    with pytest.raises(ValueError, match="set device='cuda'"):
        check_accelerator(cuda_accelerator, torch.device("cpu"), Equal(), "MMoEClassifier")


def test_accelerator_parameter_is_validated():
    X, Y = data("mmoe-classifier")
    with pytest.raises(ValueError, match="'accelerator' parameter"):
        MMoEClassifier(accelerator="gloo").fit(X, Y)


def test_sharded_batches_cover_each_global_batch_once():
    dataset = TensorBatchDataset(np.arange(23, dtype=np.float32)[:, None])
    loaders = [BatchLoader(dataset, 8, shuffle=True, shard=(rank, 3)) for rank in range(3)]
    batches = []
    for loader in loaders:
        torch.manual_seed(0)  # every process draws the same order
        batches.append([x[:, 0].tolist() for x, _ in loader])
    torch.manual_seed(0)
    order = torch.randperm(23).tolist()
    for i, start in enumerate(range(0, 23, 8)):
        together = sum((process[i] for process in batches), [])
        assert together == order[start : start + 8]
    assert [len(b) for b in batches[0]] == [3, 3, 3]  # 8 rows -> 3, 3, 2; 7 rows -> 3, 2, 2


def test_a_last_batch_smaller_than_the_world_is_skipped():
    dataset = TensorBatchDataset(np.arange(9, dtype=np.float32)[:, None])
    batches = list(BatchLoader(dataset, 8, shard=(1, 2)))
    assert [x[:, 0].tolist() for x, _ in batches] == [[4.0, 5.0, 6.0, 7.0]]


def test_cpu_processes_wait_without_asking_for_a_gpu(monkeypatch):
    """accelerate's barrier takes device_ids and allocates on the machine's GPU.

    With two CPU processes on a one-GPU machine, rank 1 died asking for GPU 1;
    on CPUs the net waits with the plain barrier. (The launcher tests above,
    run on a GPU machine, are the end-to-end check.)
    """
    from sklearn_mtl._training.distributed import _barrier_on_the_training_device

    calls = []
    accelerator = SimpleNamespace(device="cpu", num_processes=2)
    monkeypatch.setattr(torch.distributed, "barrier", lambda: calls.append("plain"))
    with _barrier_on_the_training_device(accelerator):
        accelerator.wait_for_everyone()
    assert calls == ["plain"] and not hasattr(accelerator, "wait_for_everyone")
    on_gpus = SimpleNamespace(device="cuda:0", num_processes=2, wait_for_everyone=object)
    with _barrier_on_the_training_device(on_gpus):
        assert on_gpus.wait_for_everyone is object


def test_the_scaling_benchmark_prints_every_failed_processs_error(tmp_path):
    script = tmp_path / "fails_in_process_1.py"
    script.write_text(
        "import os\nassert os.environ['RANK'] == '0', 'process 1 fails here on purpose'\n"
    )
    benchmarks = Path(__file__).resolve().parents[2] / "benchmarks"
    runner = (
        f"import sys; sys.path.insert(0, {str(benchmarks)!r}); import scaling; "
        f"scaling.torchrun({str(script)!r}, 2)"
    )
    result = subprocess.run([sys.executable, "-c", runner], capture_output=True, text=True,
                            timeout=300)  # fmt: skip
    assert result.returncode != 0
    assert "--- process 1 failed" in result.stderr
    assert "process 1 fails here on purpose" in result.stderr
    assert "--- process 0 failed" not in result.stderr
