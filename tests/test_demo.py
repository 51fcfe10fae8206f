"""The README's main job and the benchmark run end to end on tiny settings."""

import json
import subprocess
import sys
from pathlib import Path

from sklearn_mtl.__main__ import main

ROOT = Path(__file__).resolve().parent.parent


def test_demo_prints_a_row_per_model_and_task_type(capsys):
    rows = main(["--n-samples", "300", "--correlations", "0.9", "--max-epochs", "2"])
    assert len(rows) == 6  # 3 architectures x (classifier, regressor)
    assert {row["metric"] for row in rows} == {"ROC AUC", "R^2"}
    out = capsys.readouterr().out
    assert "| 0.9 | MMoEClassifier | ROC AUC |" in out


def test_throughput_benchmark_runs_end_to_end(tmp_path):
    output = tmp_path / "throughput.json"
    command = [
        sys.executable, str(ROOT / "benchmarks" / "throughput.py"), "--n-samples", "2000",
        "--n-experts", "2", "--expert-units", "8", "--repeats", "1", "--epochs", "1",
        "--output", str(output),
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    assert "| 1024 | MMoEClassifier.fit |" in result.stdout
    report = json.loads(output.read_text())
    variants = {row["variant"] for row in report["results"]}
    assert variants == {"hand-written loop", "MMoEClassifier.fit"}
    assert all(row["rows_per_second"] > 0 for row in report["results"])
