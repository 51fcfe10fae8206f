"""The README's main job and the benchmark run end to end on tiny settings."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sklearn_mtl.__main__ import main

ROOT = Path(__file__).resolve().parent.parent


def test_demo_prints_a_row_per_model_and_task_type(capsys):
    rows = main(
        ["--n-samples", "300", "--correlations", "0.9", "--max-epochs", "2", "--adult-rows", "500"]
    )
    assert len(rows) == 10  # 5 architectures x (classifier, regressor)
    assert {row["metric"] for row in rows} == {"ROC AUC", "R^2"}
    out = capsys.readouterr().out
    assert "| 0.9 | MMoEClassifier | ROC AUC |" in out
    assert "Adult census (load_adult, 500 training rows, 7 categorical columns embedded)" in out


def _run_throughput(tmp_path, *options):
    output = tmp_path / "throughput.json"
    command = [
        sys.executable, str(ROOT / "benchmarks" / "throughput.py"), "--n-samples", "2000",
        "--n-experts", "2", "--expert-units", "8", "--repeats", "1", "--epochs", "1",
        "--batch-size", "512", "--output", str(output), *options,
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    return result.stdout, json.loads(output.read_text())["results"]


def test_throughput_benchmark_runs_end_to_end(tmp_path):
    stdout, results = _run_throughput(tmp_path, "--no-peer")
    assert "| MMoE | 3,302 | 512 | fit | estimator |" in stdout
    assert {row["architecture"] for row in results} == {
        "MMoE", "OMoE", "Shared-Bottom", "PLE", "Cross-Stitch", "ESMM",
    }  # fmt: skip
    assert {(row["variant"], row["phase"]) for row in results} == {
        (variant, phase)
        for variant in ("hand-written loop", "estimator")
        for phase in ("fit", "predict_proba")
    }
    assert all(row["rows_per_second"] > 0 for row in results)
    floors = [row for row in results if row["variant"] == "hand-written loop"]
    assert all(row["time_vs_hand_written"] == 1.0 for row in floors)


def test_throughput_benchmark_times_the_deepctr_peer(tmp_path):
    pytest.importorskip("deepctr_torch")
    _, results = _run_throughput(tmp_path, "--architectures", "MMoE")
    peer = [row for row in results if row["variant"] == "DeepCTR-Torch MMOE"]
    assert {row["phase"] for row in peer} == {"fit", "predict_proba"}
    assert all(row["rows_per_second"] > 0 for row in peer)


def test_linear_benchmark_runs_end_to_end(tmp_path):
    output = tmp_path / "linear.json"
    command = [
        sys.executable, str(ROOT / "benchmarks" / "linear.py"), "--n-samples", "300",
        "--n-features", "30", "--n-tasks", "3", "--n-active", "4", "--ratios", "0.1",
        "--tol", "1e-6", "--repeats", "1", "--output", str(output),
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    assert "| l1/l2 regression | sklearn_mtl | 1e-06 | 0.1 |" in result.stdout
    report = json.loads(output.read_text())
    models = {row["model"] for row in report["results"]}
    assert models == {"l1/l2 regression", "l1/l-inf regression", "l1/l2 logistic",
                      "l1/l-inf logistic"}  # fmt: skip
    ours = next(r for r in report["results"] if r["solver"] == "sklearn_mtl")
    assert ours["objective_rel_excess"] < 1e-5  # the same optimum as scikit-learn's
    assert output.with_suffix(".png").stat().st_size > 0


def test_adult_benchmark_runs_end_to_end(tmp_path):
    output = tmp_path / "adult.json"
    models = ["MMoE", "l1/l2 logistic (CV)", "HistGradientBoosting"]
    command = [
        sys.executable, str(ROOT / "benchmarks" / "adult.py"), "--task-groups", "income",
        "--seeds", "1", "--n-train", "1500", "--models", *models, "--output", str(output),
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    # the tasks are named, and one seed has no spread to print
    assert "| model | income over 50k | never married | fit seconds |" in result.stdout
    assert "| MMoE | 0." in result.stdout and "±" not in result.stdout
    assert "income, seed 0: MMoE: test AUC income_over_50k" in result.stderr  # progress
    report = json.loads(output.read_text())
    assert [row["model"] for row in report["results"]] == models
    assert all(0.5 < auc <= 1 for row in report["results"] for auc in row["auc"].values())
    assert output.with_suffix(".png").stat().st_size > 0


def test_weighting_benchmark_runs_end_to_end(tmp_path):
    output = tmp_path / "weighting.json"
    command = [
        sys.executable, str(ROOT / "benchmarks" / "weighting.py"), "--correlations", "0.9",
        "--n-samples", "400", "--epochs", "2", "--seeds", "1", "--adult-rows", "400",
        "--output", str(output),
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    assert "| synthetic, correlation 0.9 | mgda | R^2 |" in result.stdout
    report = json.loads(output.read_text())
    methods = {row["method"] for row in report["results"]}
    assert methods == {"equal", "uncertainty", "dwa", "mgda", "gradnorm", "pcgrad"}
    assert all(row["epoch_time_vs_equal"] > 0 for row in report["results"])
    assert output.with_suffix(".png").stat().st_size > 0


def test_out_of_core_benchmark_trains_under_a_memory_limit(tmp_path):
    pytest.importorskip("pyarrow")
    output = tmp_path / "out_of_core.json"
    command = [
        sys.executable, "-m", "benchmarks", "run", "out_of_core", "--quick", "--", "--rows",
        "20000", "--row-group", "5000", "--batch-rows", "4096", "--n-features", "10",
        "--scratch", str(tmp_path), "--output", str(output),
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT)
    assert "| partial_fit rows/s |" in result.stdout
    report = json.loads(output.read_text())["results"]
    assert report["rows"] == 20000 and report["partial_fit_calls"] == 8  # 4 files x 2 batches
    assert report["memory_limit_gib"] == 2.0 and 0 < report["peak_rss_gib"] < 2.0
    assert 0.5 < report["test_auc_task0_on_training_rows"] <= 1
    assert not list(tmp_path.glob("tmp*"))  # the data set is removed


def test_scaling_benchmark_runs_both_parts(tmp_path):
    pytest.importorskip("accelerate")
    pytest.importorskip("distributed")
    output = tmp_path / "scaling.json"
    command = [
        # one launch of each part (process start-up is most of this test's time)
        sys.executable, "-m", "benchmarks", "run", "scaling", "--quick", "--", "--processes",
        "2", "--workers", "1", "--n-samples", "4096", "--expert-units", "16", "--grid",
        "2", "--search-samples", "1000", "--search-epochs", "1", "--output", str(output),
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT)
    assert "| DDP training (processes) | 2 |" in result.stdout
    report = json.loads(output.read_text())["results"]
    assert [row["processes"] for row in report["data_parallel"]] == [2]
    assert report["data_parallel"][0]["efficiency"] == 1.0  # against itself, the first row
    assert [row["workers"] for row in report["search"]] == [1]
    assert all(row["seconds"] > 0 for row in report["data_parallel"] + report["search"])
    assert output.with_suffix(".png").stat().st_size > 0


@pytest.mark.parametrize(
    "name, extra",
    [
        ("synthetic", ["--runs", "1", "--n-samples", "1200", "--epochs", "2",
                       "--correlations", "0.9", "--jobs", "1"]),
        ("esmm", ["--seeds", "1", "--epochs", "2", "--rows", "1500"]),
        ("serving", ["--calls", "5", "--batch-rows", "500", "--repeats", "1"]),
        ("linear_cv", ["--data", "--wide", "100", "--alphas", "3", "--repeats", "1"]),
    ],
)  # fmt: skip
def test_benchmark_entry_point_runs_a_benchmark(name, extra, tmp_path):
    output = tmp_path / f"{name}.json"
    command = [sys.executable, "-m", "benchmarks", "run", name, "--quick", "--", *extra,
               "--output", str(output)]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT)
    assert result.stdout.startswith(f"# {name}:")
    report = json.loads(output.read_text())
    assert report["benchmark"] == name and report["results"]
    assert output.with_suffix(".md").read_text().startswith("| ")
    if name == "synthetic":
        assert set(report["claims"]) == {
            "a_better_at_higher_correlation", "b_mmoe_changes_least",
            "c_moe_beat_shared_bottom", "d_shared_bottom_spreads_more",
        }  # fmt: skip
        assert (tmp_path / "synthetic-curves.png").stat().st_size > 0


def test_benchmark_list():
    result = subprocess.run([sys.executable, "-m", "benchmarks", "list"], capture_output=True,
                            text=True, check=True, cwd=ROOT)  # fmt: skip
    assert {line.split()[0] for line in result.stdout.splitlines()} == {
        "synthetic", "adult", "esmm", "linear", "linear_cv", "weighting", "throughput",
        "out_of_core", "scaling", "serving",
    }  # fmt: skip
