"""Throughput of every architecture's ``fit`` and ``predict_proba`` against hand-written loops.

For each architecture the estimator and a hand-written PyTorch loop train the
same module (the one the estimator builds) with Adam and binary cross-entropy
on the same data for the same number of epochs. The hand-written loop is the
floor: tensors built once, a ``randperm`` per epoch, slices per batch, no
validation, no callbacks. Inference is timed the same way: ``predict_proba``
on every row against ``sigmoid(module(batch))`` under ``torch.no_grad``, both
in batches of the training batch size. Where DeepCTR-Torch is installed (the
``benchmark`` extra), its ``MMOE`` with the same experts, gates and towers is
timed too: its ``fit`` and ``predict`` on the same data.

The estimator runs its named optimizer fused (one kernel for every
parameter), the hand-written loop torch's default ``Adam``; the row
``hand-written loop, fused Adam`` shows what the fused optimizer alone gives.
``--compile default reduce-overhead`` adds the estimator with ``compile=`` each
mode (``torch.compile``); its first fit, which compiles, is timed on its own
(``first_fit_seconds``: the warm-up fit on ``4.5 * batch_size`` rows, whose
short last batch compiles the dynamic-batch graph too).

Repeats are interleaved and medians reported, since this machine's timings vary
by 10-25 %. Run ``python benchmarks/throughput.py`` (CPU, 200k x 100 rows) or
``python benchmarks/throughput.py --device cuda --n-samples 2000000
--batch-size 1024 8192 --compile default reduce-overhead``. ``--time-limit S``
starts no (architecture, batch size) block that would end past ``S``
seconds if it took as long as the longest block so far; the blocks left out
are listed in the JSON under ``skipped``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import clone

from sklearn_mtl import (
    CrossStitchClassifier,
    ESMMClassifier,
    MMoEClassifier,
    OMoEClassifier,
    PLEClassifier,
    SharedBottomClassifier,
)
from sklearn_mtl._training.options import COMPILE_MODES
from sklearn_mtl.datasets import make_task_pair

try:
    from ._environment import environment
    from ._report import benchmark_main
except ImportError:  # run as a script: python benchmarks/throughput.py
    from _environment import environment
    from _report import benchmark_main

RESULTS = Path(__file__).resolve().parent / "results"
HAND_WRITTEN = "hand-written loop"
HAND_WRITTEN_FUSED = "hand-written loop, fused Adam"
PEER = "DeepCTR-Torch MMOE"


def architectures(args) -> dict:
    """Every architecture at the sizes of ``args``: layers of ``expert_units`` everywhere."""
    units, towers = tuple(args.expert_units), tuple(args.tower_units)
    one = {"tower_units": towers, "n_ensemble": 1}  # one network each, as Cross-Stitch and ESMM
    return {
        "MMoE": MMoEClassifier(args.n_experts, expert_units=units, **one),
        "OMoE": OMoEClassifier(args.n_experts, expert_units=units, **one),
        "Shared-Bottom": SharedBottomClassifier(bottom_units=units, **one),
        "PLE": PLEClassifier(2, n_shared_experts=4, n_levels=2, expert_units=units, **one),
        "Cross-Stitch": CrossStitchClassifier(column_units=units, tower_units=towers),
        "ESMM": ESMMClassifier(bottom_units=units, tower_units=towers),
    }


def _synchronize(device: str) -> None:
    if str(device).startswith("cuda"):
        torch.cuda.synchronize()


def _timed(function, *arguments, device):
    """The wall time of ``function(*arguments)``, the device's queue drained."""
    _synchronize(device)
    start = time.perf_counter()
    function(*arguments)
    _synchronize(device)
    return time.perf_counter() - start


class Estimator:
    """The package's estimator: ``fit`` then ``predict_proba``."""

    name = "estimator"
    compile = False

    def __init__(self, estimator, args, batch_size):
        self.model = clone(estimator).set_params(
            max_epochs=args.epochs, batch_size=batch_size, lr=1e-3, device=args.device,
            early_stopping=False, random_state=0, compile=self.compile,
        )  # fmt: skip

    def fit(self, X, Y):
        self.model.fit(X, Y)

    def predict_proba(self, X):
        return self.model.predict_proba(X)


def compiled(mode: str) -> type:
    """The estimator variant with ``compile=mode``."""
    return type(f"Compiled_{mode}", (Estimator,), {"name": f"estimator, compile={mode}",
                                                   "compile": mode})  # fmt: skip


class HandWritten:
    """The floor: the estimator's own module trained and applied by a minimal loop."""

    name = HAND_WRITTEN
    optimizer_options: dict = {}

    def __init__(self, estimator, args, batch_size):
        self.estimator, self.args, self.batch_size = estimator, args, batch_size

    def fit(self, X, Y):
        torch.manual_seed(0)
        device = torch.device(self.args.device)
        module = build_module(self.estimator, X.shape[1], Y.shape[1]).to(device)
        optimizer = torch.optim.Adam(module.parameters(), lr=1e-3, **self.optimizer_options)
        inputs = torch.as_tensor(X, device=device)
        targets = torch.as_tensor(Y, dtype=torch.float32, device=device)
        module.train()
        for _ in range(self.args.epochs):
            order = torch.randperm(len(inputs), device=device)
            for first in range(0, len(inputs), self.batch_size):
                index = order[first : first + self.batch_size]
                optimizer.zero_grad()
                loss = F.binary_cross_entropy_with_logits(module(inputs[index]), targets[index])
                loss.backward()
                optimizer.step()
        self.module = module

    def predict_proba(self, X):
        self.module.eval()
        inputs = torch.as_tensor(X, device=self.args.device)
        with torch.no_grad():
            return torch.cat(
                [
                    torch.sigmoid(self.module(inputs[first : first + self.batch_size]))
                    for first in range(0, len(inputs), self.batch_size)
                ]
            ).cpu()


class HandWrittenFused(HandWritten):
    """The minimal loop with the fused Adam that the estimator uses."""

    name = HAND_WRITTEN_FUSED
    optimizer_options = {"fused": True}


class DeepCTRTorch:
    """DeepCTR-Torch's MMOE: the same experts, one linear gate per task, the same towers."""

    name = PEER

    def __init__(self, estimator, args, batch_size):
        self.args, self.batch_size = args, batch_size

    def fit(self, X, Y):
        from deepctr_torch.inputs import DenseFeat
        from deepctr_torch.models import MMOE

        self.features = [f"x{j}" for j in range(X.shape[1])]
        self.model = MMOE(
            [DenseFeat(name, 1) for name in self.features],
            num_experts=self.args.n_experts,
            expert_dnn_hidden_units=tuple(self.args.expert_units),
            gate_dnn_hidden_units=(),
            tower_dnn_hidden_units=tuple(self.args.tower_units),
            task_types=("binary",) * Y.shape[1],
            task_names=tuple(f"task{t}" for t in range(Y.shape[1])),
            device=self.args.device,
            seed=0,
        )
        self.model.compile("adam", loss="binary_crossentropy")
        with contextlib.redirect_stdout(io.StringIO()):  # it prints its device and sizes
            self.model.fit(self._inputs(X), Y.astype(np.float32), batch_size=self.batch_size,
                           epochs=self.args.epochs, verbose=0)  # fmt: skip

    def predict_proba(self, X):
        return self.model.predict(self._inputs(X), batch_size=self.batch_size)

    def _inputs(self, X):
        return {name: X[:, j] for j, name in enumerate(self.features)}


def peer_available() -> bool:
    try:
        import deepctr_torch  # noqa: F401
    except ImportError:
        return False
    return True


def task_data(args):
    """Two binary tasks from ``make_task_pair``; ESMM gets a funnel (conversion implies click)."""
    X, Y = make_task_pair(
        args.n_samples, 0.5, n_features=args.n_features, target="binary", random_state=0
    )
    funnel = np.column_stack([Y[:, 0], Y[:, 0] * Y[:, 1]])
    return X.astype(np.float32), Y, funnel


def build_module(estimator, n_features: int, n_tasks: int):
    """The estimator's own architecture, as its fit builds it for binary tasks."""
    return estimator._architecture().build(
        n_features, [1] * n_tasks, activation=estimator.activation, dropout=estimator.dropout
    )


def n_parameters(estimator, X, Y) -> int:
    module = build_module(estimator, X.shape[1], Y.shape[1])
    return sum(p.numel() for p in module.parameters())


def run(args) -> dict:
    X, Y, funnel = task_data(args)
    variants = [HandWritten, HandWrittenFused, Estimator, *map(compiled, args.compile)]
    results, skipped, started = [], [], time.perf_counter()
    longest_block = 0.0  # seconds of the longest (architecture, batch size) block so far
    blocks = [  # in the order of --batch-size, then of the architectures
        (batch_size, name, estimator)
        for batch_size in args.batch_size
        for name, estimator in architectures(args).items()
        if name in args.architectures
    ]
    for batch_size, name, estimator in blocks:
        targets = funnel if name == "ESMM" else Y
        runners = variants + ([DeepCTRTorch] if name == "MMoE" and args.peer else [])
        elapsed = time.perf_counter() - started
        if args.time_limit is not None and elapsed + longest_block > args.time_limit:
            skipped.append({"architecture": name, "batch_size": batch_size})
            print(f"  {name}, batch {batch_size}: skipped (past --time-limit)",
                  file=sys.stderr, flush=True)  # fmt: skip
            continue
        # warm-up: allocator, kernels, thread pools, and compilation: a short last
        # batch, so that a compiled variant compiles its dynamic-batch graph here too
        first_fit = {}
        warm_rows = 4 * batch_size + batch_size // 2
        for runner in runners:
            warm = runner(estimator, args, batch_size)
            first_fit[warm.name] = _timed(
                warm.fit, X[:warm_rows], targets[:warm_rows], device=args.device
            )
            warm.predict_proba(X[: 4 * batch_size])
        times = {(r.name, phase): [] for r in runners for phase in ("fit", "predict_proba")}
        for repeat in range(args.repeats):
            for runner_class in runners:
                runner = runner_class(estimator, args, batch_size)
                seconds = _timed(runner.fit, X, targets, device=args.device)
                times[runner.name, "fit"].append(seconds)
                seconds = _timed(runner.predict_proba, X, device=args.device)
                times[runner.name, "predict_proba"].append(seconds)
            print(
                f"  {name}, batch {batch_size}, repeat {repeat + 1}/{args.repeats}: "
                + ", ".join(f"{v} {p} {t[-1]:.2f} s" for (v, p), t in times.items()),
                file=sys.stderr,
                flush=True,
            )
        longest_block = max(longest_block, time.perf_counter() - started - elapsed)
        medians = {key: statistics.median(t) for key, t in times.items()}
        for (variant, phase), median in medians.items():
            rows = args.n_samples * (args.epochs if phase == "fit" else 1)
            results.append(
                {
                    "architecture": name,
                    "parameters": n_parameters(estimator, X, targets),
                    "batch_size": batch_size,
                    "variant": variant,
                    "phase": phase,
                    "median_seconds": median,
                    "rows_per_second": rows / median,
                    "time_vs_hand_written": median / medians[HAND_WRITTEN, phase],
                    "seconds": times[variant, phase],
                    **({"first_fit_seconds": first_fit[variant]} if phase == "fit" else {}),
                }
            )
    return {
        "benchmark": "throughput",
        "config": {
            **{k: v for k, v in vars(args).items() if k != "output"},
        },
        "environment": environment(args.device),
        "results": results,
        "skipped": skipped,
        "seconds": time.perf_counter() - started,
    }


def format_table(report: dict) -> str:
    lines = [
        "| architecture | parameters | batch | phase | variant | rows/s | time vs hand-written "
        "| first fit (s) |",
        "|---|---:|---:|---|---|---:|---:|---:|",
    ]
    for row in report["results"]:
        first = row.get("first_fit_seconds")
        lines.append(
            f"| {row['architecture']} | {row['parameters']:,} | {row['batch_size']} "
            f"| {row['phase']} | {row['variant']} | {row['rows_per_second']:,.0f} "
            f"| {row['time_vs_hand_written']:.3f} | {'' if first is None else f'{first:.1f}'} |"
        )
    lines += [f"| {s['architecture']} | | {s['batch_size']} | skipped (time limit) | | | | |"
              for s in report.get("skipped", [])]  # fmt: skip
    return "\n".join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=200_000)
    parser.add_argument("--n-features", type=int, default=100)
    parser.add_argument("--n-experts", type=int, default=8)
    parser.add_argument("--expert-units", type=int, nargs="+", default=[128, 128])
    parser.add_argument("--tower-units", type=int, nargs="*", default=[64])
    parser.add_argument("--batch-size", type=int, nargs="+", default=[1024])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--device", default="cpu")
    parser.add_argument(
        "--compile", nargs="*", default=[], choices=list(COMPILE_MODES),
        help="add the estimator with compile=MODE for each mode",
    )  # fmt: skip
    parser.add_argument(
        "--time-limit", type=float, default=None,
        help="seconds by which the run should end: a block that would end later, if it took "
        "as long as the longest so far, is skipped",
    )  # fmt: skip
    names = list(architectures(parser.parse_args([])))
    parser.add_argument("--architectures", nargs="+", choices=names, default=names)
    parser.add_argument(
        "--no-peer", dest="peer", action="store_false", help="skip DeepCTR-Torch even if installed"
    )
    parser.add_argument("--output", type=Path, default=None, help="JSON file to write")
    args = parser.parse_args(argv)
    if args.peer and not peer_available():
        print("DeepCTR-Torch is not installed (pip install .[benchmark]); no peer row",
              file=sys.stderr)  # fmt: skip
        args.peer = False
    return args


def main(argv=None) -> dict:
    return benchmark_main(
        argv,
        parse_args,
        run,
        format_table,
        output=lambda args: RESULTS / f"throughput-{args.device.split(':')[0]}.json",
    )


if __name__ == "__main__":
    main()
