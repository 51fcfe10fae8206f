"""The throughput benchmark at another git revision and at the working tree, side by side.

``python -m benchmarks.revisions REV [--rounds N] [-- throughput options]`` checks
``REV`` out in a temporary git worktree and runs ``benchmarks/throughput.py``
there and here, alternately, ``--rounds`` times each, in fresh processes. Each
run times the estimators against a hand-written loop on the same machine at
the same moment, so the ratio "estimator time / hand-written time" is what is
compared: a change that adds per-step cost raises it, machine noise mostly
cancels. The table gives each revision's median ratio and the change.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks._report import write_report

ROOT = Path(__file__).resolve().parent.parent


def run_throughput(source: Path, options: list[str], output: Path) -> list[dict]:
    """One throughput run with the package and benchmarks of ``source``; its results."""
    environment = {**os.environ, "PYTHONPATH": str(source)}
    command = [sys.executable, "-m", "benchmarks.throughput", *options, "--output", str(output)]
    subprocess.run(command, cwd=source, env=environment, check=True, stdout=subprocess.DEVNULL)
    return json.loads(output.read_text())["results"]


def estimator_ratios(results: list[dict]) -> dict[tuple, float]:
    """Estimator time / hand-written time, by (architecture, batch size, phase)."""
    return {
        (row["architecture"], row["batch_size"], row["phase"]): row["time_vs_hand_written"]
        for row in results
        if row["variant"] == "estimator"
    }


def compare(baseline: list[dict[tuple, float]], current: list[dict[tuple, float]]) -> list:
    """Per key: the median ratio of each revision over its rounds, and current / baseline."""
    rows = []
    for key in baseline[0]:
        before = statistics.median(run[key] for run in baseline)
        after = statistics.median(run[key] for run in current)
        rows.append({
            "architecture": key[0], "batch_size": key[1], "phase": key[2],
            "baseline": [run[key] for run in baseline], "current": [run[key] for run in current],
            "baseline_median": before, "current_median": after, "change": after / before,
        })  # fmt: skip
    return rows


def table(rows: list[dict], revision: str) -> str:
    lines = [
        f"| architecture | batch | phase | {revision} (time vs hand-written) | working tree "
        "| working tree / baseline |",
        "|---|---:|---|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row['architecture']} | {row['batch_size']} | {row['phase']} | "
            f"{row['baseline_median']:.3f} | {row['current_median']:.3f} | {row['change']:.3f} |"
        )
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("revision", help="the git revision to compare against, e.g. HEAD~3")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each revision")
    parser.add_argument("--output", type=Path, default=None, help="JSON file to write")
    args, throughput_options = parser.parse_known_args(argv)
    if throughput_options[:1] == ["--"]:
        throughput_options = throughput_options[1:]
    output = args.output or ROOT / "benchmarks" / "results" / f"revisions-{args.revision}.json"
    with tempfile.TemporaryDirectory() as scratch:
        worktree = Path(scratch) / "baseline"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q",
                        str(worktree), args.revision], check=True)  # fmt: skip
        try:
            baseline, current = [], []
            for round_number in range(args.rounds):  # alternate, so drift hits both alike
                print(f"round {round_number + 1}/{args.rounds}", file=sys.stderr, flush=True)
                runs = [(worktree, baseline, "baseline"), (ROOT, current, "current")]
                for source, collected, name in runs:
                    results = run_throughput(
                        source, throughput_options, Path(scratch) / f"{name}{round_number}.json"
                    )
                    collected.append(estimator_ratios(results))
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                            str(worktree)], check=False)  # fmt: skip
    rows = compare(baseline, current)
    report = {
        "benchmark": "revisions",
        "baseline_revision": args.revision,
        "rounds": args.rounds,
        "throughput_options": throughput_options,
        "results": rows,
    }
    write_report(report, output, table(rows, args.revision))


if __name__ == "__main__":
    main()
