"""The GPU check in one call: the CUDA tests, then MMoE and PLE throughput, eager and compiled.

``bash benchmarks/gpu_check.sh`` (or ``python -m benchmarks.gpu_check``) runs

1. ``pytest tests/test_gpu.py`` (every test skips where CUDA is absent);
2. ``benchmarks/throughput.py`` for MMoE and PLE at batch sizes 8192 and 1024
   (in this order) on 1M rows: the hand-written loop, the estimator, and the estimator with
   ``compile="default"`` and ``compile="reduce-overhead"`` (CUDA graphs);

and writes ``gpu-check-<device>.json`` (the test outcome and the throughput
report) and ``gpu-check-<device>.md`` (both as tables) in
``benchmarks/results/``, or ``--output-dir``. ``--time-limit`` (330 s by
default) bounds the whole check: the throughput part skips an (architecture,
batch size) block that would end past it if it took as long as the longest
block so far, and lists it, so that the check stays under 6 minutes on one
H100 (the CUDA tests and the distributed ones took 90 s there together).

Dependencies: the package and pytest (its ``test`` extra), and a CUDA build
of torch for the GPU figures; TorchInductor, which ``compile=`` uses, needs a
C compiler on the host. Nothing is downloaded: the data are generated.
Options that this script does not know go to ``throughput.py`` (e.g.
``--n-experts 2``). ``--device cpu`` with small sizes runs the same path on
a CPU, as the test suite does.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

try:
    from . import throughput
except ImportError:  # run as a script: python benchmarks/gpu_check.py
    import throughput

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
OUTCOMES = ("passed", "failed", "skipped", "errors", "xfailed", "xpassed")


def run_gpu_tests() -> dict:
    """``pytest tests/test_gpu.py`` in a subprocess: counts, seconds, exit code, last lines."""
    started = time.perf_counter()
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=",
               str(ROOT / "tests" / "test_gpu.py")]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    counts = {
        outcome.rstrip("s") if outcome == "errors" else outcome: int(number)
        for number, outcome in re.findall(r"(\d+) (\w+)", summary)
        if outcome in OUTCOMES or outcome == "error"
    }
    return {
        "command": "pytest -q tests/test_gpu.py",
        "returncode": result.returncode,
        "counts": counts,
        "summary": summary,
        "seconds": time.perf_counter() - started,
        "output_tail": (result.stdout + result.stderr)[-3000:],
    }


def format_markdown(report: dict) -> str:
    tests = report["tests"]
    outcome = "passed" if tests["returncode"] == 0 else f"FAILED (exit {tests['returncode']})"
    lines = [
        f"# GPU check on {report['throughput']['environment']['cuda_device'] or 'cpu'}",
        "",
        f"`{tests['command']}`: {outcome}; {tests['summary']} ({tests['seconds']:.0f} s)",
        "",
        f"Throughput ({report['throughput']['seconds']:.0f} s), total {report['seconds']:.0f} s:",
        "",
        throughput.format_table(report["throughput"]),
    ]
    return "\n".join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--n-samples", type=int, default=1_000_000)
    # batch 8192 first: the compiled goal is measured there, should the time limit cut the run
    parser.add_argument("--batch-size", type=int, nargs="+", default=[8192, 1024])
    parser.add_argument("--architectures", nargs="+", default=["MMoE", "PLE"])
    parser.add_argument("--compile", nargs="*", default=["default", "reduce-overhead"])
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--time-limit", type=float, default=330.0)
    parser.add_argument("--skip-tests", action="store_true", help="only the throughput part")
    parser.add_argument("--output-dir", type=Path, default=RESULTS)
    parser.add_argument("--output", type=Path, default=None, help="the JSON file to write")
    return parser.parse_known_args(argv)  # the unknown ones go to throughput.py


def main(argv=None) -> dict:
    args, throughput_options = parse_args(argv)
    started = time.perf_counter()
    tests = (
        {
            "command": "skipped (--skip-tests)",
            "returncode": 0,
            "counts": {},
            "summary": "",
            "seconds": 0.0,
        }  # fmt: skip
        if args.skip_tests
        else run_gpu_tests()
    )
    print(f"tests/test_gpu.py: {tests['summary'] or tests['command']}", flush=True)
    remaining = max(args.time_limit - tests["seconds"], 0.0)
    options = [
        "--device", args.device, "--n-samples", str(args.n_samples),
        "--epochs", str(args.epochs), "--repeats", str(args.repeats), "--no-peer",
        "--batch-size", *map(str, args.batch_size),
        "--architectures", *args.architectures,
        "--compile", *args.compile,
        "--time-limit", str(remaining),
        *throughput_options,
    ]  # fmt: skip
    measured = throughput.run(throughput.parse_args(options))
    report = {
        "benchmark": "gpu_check",
        "tests": tests,
        "throughput": measured,
        "seconds": time.perf_counter() - started,
    }
    output = args.output or args.output_dir / f"gpu-check-{args.device.split(':')[0]}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2))
    markdown = format_markdown(report)
    output.with_suffix(".md").write_text(markdown + "\n")
    print(markdown)
    print(f"wrote {output.name} and {output.with_suffix('.md').name} in {output.parent}")
    if tests["returncode"] not in (0, 5):  # 5: no test collected
        raise SystemExit(tests["returncode"])
    return report


if __name__ == "__main__":
    main()
