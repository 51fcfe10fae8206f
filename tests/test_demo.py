"""The README's main job and every benchmark run end to end on tiny settings.

The benchmarks run once, in one process, through ``python -m benchmarks
smoke`` (starting a process costs seconds; the benchmarks' own work at these
sizes, less), in one test that then checks what each benchmark wrote; every
check runs, and the test lists each one that failed.
"""

import json
import re
import subprocess
import sys
from functools import partial
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


def run_smoke(folder):
    """Every benchmark's smoke run: ``(folder, {name: its stdout}, stderr)``."""
    result = subprocess.run([sys.executable, "-m", "benchmarks", "smoke", str(folder)],
                            capture_output=True, text=True, cwd=ROOT, timeout=900)  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    parts = re.split(r"^# (\w+): smoke run\n", result.stdout, flags=re.M)[1:]
    sections = dict(zip(parts[::2], parts[1::2]))  # {name: what it printed}
    return folder, sections, result.stderr


class Skipped(Exception):
    """A benchmark whose optional packages are not installed."""


def _report(smoke, name):
    folder, sections, _ = smoke
    if sections[name].startswith("skipped"):
        raise Skipped(sections[name].strip())
    return json.loads((folder / f"{name}.json").read_text()), sections[name]


def check_every_listed_benchmark_has_a_smoke_run(smoke):
    result = subprocess.run([sys.executable, "-m", "benchmarks", "list"], capture_output=True,
                            text=True, check=True, cwd=ROOT)  # fmt: skip
    listed = {line.split()[0] for line in result.stdout.splitlines()}
    assert listed == {
        "synthetic", "adult", "esmm", "linear", "linear_cv", "default_alpha", "weighting",
        "throughput", "out_of_core", "scaling", "serving", "gpu_check", "task_groups",
        "weak_supervision", "adult_tuned", "defaults", "label_scarcity",
    }  # fmt: skip
    assert set(smoke[1]) == listed


def check_throughput_benchmark_runs_end_to_end(smoke):
    report, stdout = _report(smoke, "throughput")
    results = report["results"]
    assert "| MMoE | 3,302 | 512 | fit | estimator |" in stdout
    assert {row["architecture"] for row in results} == {
        "MMoE", "OMoE", "Shared-Bottom", "PLE", "Cross-Stitch", "ESMM",
    }  # fmt: skip
    assert {(row["variant"], row["phase"]) for row in results} == {
        (variant, phase)
        for variant in ("hand-written loop", "hand-written loop, fused Adam", "estimator")
        for phase in ("fit", "predict_proba")
    }
    assert all(row["rows_per_second"] > 0 for row in results)
    floors = [row for row in results if row["variant"] == "hand-written loop"]
    assert all(row["time_vs_hand_written"] == 1.0 for row in floors)


def test_throughput_benchmark_times_the_deepctr_peer(tmp_path):
    pytest.importorskip("deepctr_torch")
    output = tmp_path / "throughput.json"
    command = [
        sys.executable, str(ROOT / "benchmarks" / "throughput.py"), "--n-samples", "2000",
        "--n-experts", "2", "--expert-units", "8", "--repeats", "1", "--epochs", "1",
        "--batch-size", "512", "--architectures", "MMoE", "--output", str(output),
    ]  # fmt: skip
    subprocess.run(command, capture_output=True, text=True, check=True)
    results = json.loads(output.read_text())["results"]
    peer = [row for row in results if row["variant"] == "DeepCTR-Torch MMOE"]
    assert {row["phase"] for row in peer} == {"fit", "predict_proba"}
    assert all(row["rows_per_second"] > 0 for row in peer)


def check_linear_benchmark_runs_end_to_end(smoke):
    report, stdout = _report(smoke, "linear")
    assert "| l1/l2 regression | sklearn_mtl | 1e-06 | 0.1 |" in stdout
    models = {row["model"] for row in report["results"]}
    assert models == {"l1/l2 regression", "l1/l-inf regression", "l1/l2 logistic",
                      "l1/l-inf logistic"}  # fmt: skip
    ours = next(r for r in report["results"] if r["solver"] == "sklearn_mtl")
    assert ours["objective_rel_excess"] < 1e-5  # the same optimum as scikit-learn's
    assert (smoke[0] / "linear.png").stat().st_size > 0


def check_linear_cv_benchmark_compares_with_logistic_regression_cv(smoke):
    report, stdout = _report(smoke, "linear_cv")
    models = {row["model"] for row in report["results"]}
    assert models == {
        "sklearn_mtl l1/l2 (CV)", "sklearn_mtl l1/l-inf (CV)",
        "LogisticRegressionCV l1, per task", "LogisticRegressionCV l2, per task",
    }  # fmt: skip
    peer = [r for r in report["results"] if r["model"] == "LogisticRegressionCV l1, per task"]
    assert peer[0]["time_vs_sklearn_l1"] == 1.0
    assert "| wide, 100 features (40 x 100) |" in stdout


def check_adult_benchmark_runs_end_to_end(smoke):
    report, stdout = _report(smoke, "adult")
    # the tasks are named, and one seed has no spread to print
    assert "| model | income over 50k | never married | fit seconds |" in stdout
    assert "| MMoE | 0." in stdout and "±" not in stdout
    assert "income, seed 0: MMoE: test AUC income_over_50k" in smoke[2]  # progress
    assert "LogisticRegression (one-hot, C by CV): income_over_50k fitted" in smoke[2]
    models = ["MMoE", "MMoE, periodic embeddings", "l1/l2 logistic (CV)",
              "LogisticRegression (one-hot, C by CV)"]  # fmt: skip
    assert [row["model"] for row in report["results"]] == models
    assert all(0.5 < auc <= 1 for row in report["results"] for auc in row["auc"].values())
    assert (smoke[0] / "adult.png").stat().st_size > 0


def check_adult_tuned_benchmark_runs_end_to_end(smoke):
    report, stdout = _report(smoke, "adult_tuned")
    assert "| model | income over 50k | never married | fit seconds |" in stdout
    (run,) = report["results"]
    assert list(run["models"]) == ["MMoE, defaults", "MMoE, tuned",
                                   "HistGradientBoosting, defaults",
                                   "HistGradientBoosting, tuned"]  # fmt: skip
    assert all(0 <= auc <= 1 for row in run["models"].values() for auc in row["auc"])
    assert set(run["models"]["MMoE, tuned"]["best_params"]) == {
        "numeric_embedding", "numeric_embedding_size", "periodic_sigma", "lr", "dropout",
        "weight_decay"}  # fmt: skip
    assert len(run["models"]["HistGradientBoosting, tuned"]["best_params"]) == 2  # per task


def check_defaults_benchmark_marks_the_defaults(smoke):
    report, stdout = _report(smoke, "defaults")
    auto, one = "4 members from 5,000 rows (auto)", "early stopping (auto), constant rate"
    assert f"| **{auto}** (the defaults) |" in stdout
    assert report["config"]["default_candidate"] == auto
    models = {row["model"] for row in report["results"]}
    assert models == {auto, one, "linear per task", "HistGradientBoosting per task"}
    metrics = {row["dataset"]: row["metric"] for row in report["results"]}
    assert metrics == {"task pair, 300 rows": "R^2", "401(k) funnel": "ROC AUC"}
    assert [row["tasks"] for row in report["summary"]] == [4, 4]
    scores = {(row["dataset"], row["model"]): row["per_seed"] for row in report["results"]}
    # 300 training rows: "auto" is the one network; the funnel's 6,940: four members
    assert scores["task pair, 300 rows", auto] == scores["task pair, 300 rows", one]
    assert scores["401(k) funnel", auto] != scores["401(k) funnel", one]


def check_label_scarcity_benchmark_compares_paired_runs(smoke):
    report, stdout = _report(smoke, "label_scarcity")
    runs = report["runs"]
    models = {"MMoE", "MMoE, target alone", "l1/l2 logistic (CV)", "mean-regularised logistic",
              "HistGradientBoosting", "MMoE, unstratified split"}  # fmt: skip
    assert {run["model"] for run in runs} == models
    assert len(runs) == 2 * 2 * 2 * len(models)  # settings x fractions x seeds x models
    assert all(0 <= run["auc"] <= 1 for run in runs)
    members = {run["model"]: run["members"] for run in runs}  # "auto": 450 rows, one network
    assert members["MMoE"] == members["MMoE, unstratified split"] == 1
    assert members["HistGradientBoosting"] is None
    scarce = {run["labels"] for run in runs if run["fraction"] == 0.05}
    assert scarce == {22}  # 5 % of the 450 training rows, both classes among them
    rows = [row for row in report["results"] if row["model"] != "MMoE"]
    assert rows and all(len(row["MMoE minus this"]["interval"]) == 2 for row in rows)
    for row in rows:  # the paired mean is the difference of the two models' means
        mmoe = next(r for r in report["results"] if r["model"] == "MMoE"
                    and all(r[k] == row[k] for k in ("setting", "fraction")))  # fmt: skip
        assert abs(row["MMoE minus this"]["mean"] - (mmoe["auc"] - row["auc"])) < 1e-9
    assert "every task scarce" in stdout and "| 5% | 22 |" in stdout
    assert (smoke[0] / "label_scarcity.png").stat().st_size > 0


def check_weighting_benchmark_runs_end_to_end(smoke):
    report, stdout = _report(smoke, "weighting")
    assert "| synthetic, correlation 0.9 | mgda | R^2 |" in stdout
    methods = {row["method"] for row in report["results"]}
    assert methods == {"equal", "uncertainty", "dwa", "mgda", "gradnorm", "pcgrad"}
    assert all(row["epoch_time_vs_equal"] > 0 for row in report["results"])
    assert (smoke[0] / "weighting.png").stat().st_size > 0


def check_task_groups_benchmark_runs_end_to_end(smoke):
    report, stdout = _report(smoke, "task_groups")
    assert "| groups by lookahead affinity |" in stdout
    for data in ("planted", "adult"):
        rows = [r for r in report["results"] if r["data"] == data]
        assert {r["model"] for r in rows} == {
            "single-task Shared-Bottom", "Shared-Bottom, all tasks", "MMoE, all tasks",
            "groups by lookahead affinity", "groups by error_margin affinity",
            "adaptive network", "adaptive network, SOMP init"}  # fmt: skip
        assert all(len(r["per_task_mean"]) == len(r["tasks"]) and r["parameters"] > 0
                   for r in rows)  # fmt: skip
    planted = next(r for r in report["runs"] if r["data"] == "planted")
    assert all(-1 <= g["ari_to_planted"] <= 1 for g in planted["groups"].values())
    for tree in planted["trees"].values():  # two layers, split after epochs 1 and 2
        assert len(tree["branches"]) == len(tree["ari_to_planted"]) == 2
        assert all(-1 <= a <= 1 for a in tree["ari_to_planted"])
    assert "adaptive network tree, bottom layer first" in stdout
    for figure in ("affinity", "tree"):
        assert (smoke[0] / f"task_groups-{figure}.png").stat().st_size > 0
    assert report["config"]["output"] == "task_groups.json"  # a name, not this machine's path


def check_weak_supervision_benchmark_runs_end_to_end(smoke):
    report, stdout = _report(smoke, "weak_supervision")
    assert "| MultiTaskLabelModel (uniform balance) |" in stdout
    for run in report["one_task"]:
        ours = run["models"]["MultiTaskLabelModel (estimate balance)"]
        assert 0 <= ours["max_error"] <= 1 and 0 <= ours["accuracy"] <= 1
        assert len(ours["estimated"]) == len(run["true_accuracies"]) == 8
    for run in report["hierarchy"]:
        assert run["models"]["MultiTaskLabelModel (uniform balance)"]["infeasible"] == 0
    assert set(report["environment"]["peers"]) == {"snorkel", "metal"}  # ran, or why not
    adult = report["adult"]
    assert set(adult["end_models"]) == {
        "majority vote", "gold labels", "MultiTaskLabelModel (uniform balance)",
        "MultiTaskLabelModel (estimate balance)", "MultiTaskLabelModel (uniform balance, l2=1)",
        "MultiTaskLabelModel (uniform balance, joint source model)"}  # fmt: skip
    for run in report["dependent_pair"]:
        declared = run["models"]["MultiTaskLabelModel, pair declared"]
        assert 0 <= declared["accuracy"] <= 1 and 0 <= declared["max_error"] <= 1
    assert all(0 <= auc <= 1 for row in adult["end_models"].values() for auc in row["test_auc"])
    assert len(adult["rules"]) >= 10
    assert (smoke[0] / "weak_supervision-accuracies.png").stat().st_size > 0


def check_out_of_core_benchmark_trains_under_a_memory_limit(smoke):
    report, stdout = _report(smoke, "out_of_core")
    assert "| partial_fit rows/s |" in stdout
    results = report["results"]
    assert results["rows"] == 20000 and results["partial_fit_calls"] == 8  # 4 files x 2 batches
    assert results["memory_limit_gib"] == 2.0 and 0 < results["peak_rss_gib"] < 2.0
    assert 0.5 < results["test_auc_task0_on_training_rows"] <= 1
    assert not list(smoke[0].glob("tmp*"))  # the data set is removed


def check_scaling_benchmark_runs_both_parts(smoke):
    report, stdout = _report(smoke, "scaling")
    assert "| DDP training (processes) | 2 |" in stdout
    results = report["results"]
    assert [row["processes"] for row in results["data_parallel"]] == [2]
    assert results["data_parallel"][0]["efficiency"] == 1.0  # against itself, the first row
    assert [row["workers"] for row in results["search"]] == [1]
    assert all(row["seconds"] > 0 for row in results["data_parallel"] + results["search"])
    assert (smoke[0] / "scaling.png").stat().st_size > 0


def check_gpu_check_runs_its_cpu_path(smoke):
    """The GPU check's path on a CPU: the CUDA tests all skip, compiled rows are timed."""
    report, stdout = _report(smoke, "gpu_check")
    tests = report["tests"]
    assert tests["returncode"] == 0 and tests["counts"]["skipped"] >= 10
    assert set(tests["counts"]) == {"skipped"}  # no CUDA here: nothing ran, nothing failed
    rows = report["throughput"]["results"]
    assert {row["variant"] for row in rows} == {
        "hand-written loop", "hand-written loop, fused Adam", "estimator",
        "estimator, compile=default",
    }  # fmt: skip
    assert {row["architecture"] for row in rows} == {"MMoE"} and not report["throughput"]["skipped"]
    compiled = next(r for r in rows if r["variant"] == "estimator, compile=default")
    eager = next(r for r in rows if r["variant"] == "estimator" and r["phase"] == "fit")
    assert compiled["first_fit_seconds"] > eager["first_fit_seconds"]  # it compiled
    assert all(row["rows_per_second"] > 0 for row in rows)
    markdown = (smoke[0] / "gpu_check.md").read_text()
    assert markdown.startswith("# GPU check on cpu") and "| MMoE | 3,302 | 512 | fit |" in markdown
    assert "tests/test_gpu.py`: passed" in stdout


def test_the_gpu_check_stops_starting_blocks_at_its_time_limit(tmp_path):
    from benchmarks import gpu_check

    report = gpu_check.main(
        ["--device", "cpu", "--skip-tests", "--n-samples", "600", "--n-experts", "2",
         "--expert-units", "4", "--repeats", "1", "--batch-size", "256", "512", "--compile",
         "--time-limit", "0", "--output", str(tmp_path / "check.json")]
    )  # fmt: skip
    assert report["throughput"]["results"] == []
    assert report["throughput"]["skipped"] == [
        {"architecture": name, "batch_size": size}
        for size in (256, 512)  # batch sizes in the order given, then the architectures
        for name in ("MMoE", "PLE")
    ]
    assert "skipped (time limit)" in (tmp_path / "check.md").read_text()


def check_a_benchmark_writes_its_json_and_table(smoke, name):
    report, _ = _report(smoke, name)
    assert report["benchmark"] == name and report["results"]
    markdown = smoke[0] / f"{name}.md"
    table = markdown.read_text() if markdown.exists() else smoke[1][name]
    assert table.startswith("| ") or name == "weighting"
    if name in ("esmm", "weighting"):  # one seed: no spread to print
        assert "± 0.0000" not in table
    if name == "synthetic":  # every claim under every reading, each with a verdict
        assert set(report["claims"]) == {"final_train", "final_valid", "curve_train",
                                          "curve_valid"}  # fmt: skip
        for by_claim in report["claims"].values():
            assert set(by_claim) == {"a", "b", "c", "d"}
            assert {c["verdict"] for c in by_claim.values()} <= {
                "holds", "partly", "does not hold", "too few runs"}  # fmt: skip
        for figure in ("curves", "trainability", "sweep"):
            assert (smoke[0] / f"synthetic-{figure}.png").stat().st_size > 0


def check_every_benchmark_records_its_environment(smoke):
    """One record, built once (benchmarks/_environment.py), in every benchmark's results."""
    folder, sections, _ = smoke
    for name in sections:
        if sections[name].startswith("skipped"):
            continue
        report = json.loads((folder / f"{name}.json").read_text())
        record = report.get("environment") or report["throughput"]["environment"]  # gpu_check
        assert {"python", "torch", "scikit-learn", "sklearn_mtl", "code_revision",
                "cpu_count"} <= set(record), name  # fmt: skip


@pytest.mark.benchmarks
def test_every_benchmark_runs_at_tiny_sizes(tmp_path):
    smoke = run_smoke(tmp_path)
    checks = [
        check_every_listed_benchmark_has_a_smoke_run, check_throughput_benchmark_runs_end_to_end,
        check_linear_benchmark_runs_end_to_end,
        check_linear_cv_benchmark_compares_with_logistic_regression_cv,
        check_adult_benchmark_runs_end_to_end, check_adult_tuned_benchmark_runs_end_to_end,
        check_defaults_benchmark_marks_the_defaults,
        check_weighting_benchmark_runs_end_to_end,
        check_task_groups_benchmark_runs_end_to_end,
        check_weak_supervision_benchmark_runs_end_to_end,
        check_out_of_core_benchmark_trains_under_a_memory_limit,
        check_scaling_benchmark_runs_both_parts, check_gpu_check_runs_its_cpu_path,
        check_every_benchmark_records_its_environment,
        *[partial(check_a_benchmark_writes_its_json_and_table, name=name)
          for name in ("synthetic", "esmm", "serving", "default_alpha", "weighting")],
    ]  # fmt: skip
    failures, skipped = [], []
    for check in checks:
        try:
            check(smoke)
        except Skipped as reason:
            skipped.append(str(reason))
        except AssertionError as error:
            failures.append(f"{getattr(check, '__name__', check)}: {error}")
    assert not failures, "\n\n".join(failures)
    assert len(skipped) < len(checks)


def test_benchmark_entry_point_runs_a_benchmark(tmp_path):
    output = tmp_path / "linear.json"
    command = [sys.executable, "-m", "benchmarks", "run", "linear", "--quick", "--",
               "--n-samples", "100", "--n-features", "20", "--n-tasks", "2", "--n-active", "3",
               "--ratios", "0.5",
               "--repeats", "1", "--output", str(output)]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT)
    assert result.stdout.startswith("# linear:")
    assert json.loads(output.read_text())["benchmark"] == "linear"


def test_make_demo_prints_short_tables_the_stored_verdicts_and_an_answer(tmp_path, capsys):
    """The demo's first table said MMoE's held-out loss was 0.40 against Shared-Bottom's 0.23
    and that the paper's claims did not hold, with no word that 8 runs a cell cannot test
    them; 100 lines of p-values and 24 [CV] lines followed, and no verdict closed it."""
    from benchmarks import demo

    assert "$(BIN)/python -m benchmarks demo" in (ROOT / "Makefile").read_text()
    result = demo.main([
        "--folder", str(tmp_path),
        "--synthetic-args", "--runs 2 --n-samples 600 --epochs 2 --jobs 1",
        "--adult-args", "--n-train 800 --models MMoE HistGradientBoosting",
    ])  # fmt: skip
    out = capsys.readouterr()
    assert len(out.out.splitlines()) < 60  # short: no comparison tables
    assert "[CV] END" not in out.out + out.err and "Holm" not in out.out
    assert "| MMoE | " in out.out and "stored full run, 1.0" in out.out
    assert "What it cannot: which model is better, or any claim of the paper" in out.out
    stored = json.loads((ROOT / "benchmarks/results/synthetic-full.json").read_text())
    verdict = stored["claims"]["curve_valid"]["c"]["verdict"]
    assert f"(c) both mixture-of-experts models beat Shared-Bottom: **{verdict}**" in out.out
    assert result["answer"].startswith("Answer (the stored runs): on Adult's income task")
    assert out.out.rstrip().splitlines()[-3] == result["answer"]
    assert (tmp_path / "adult.json").exists() and (tmp_path / "synthetic-quick.json").exists()
