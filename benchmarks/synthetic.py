"""The MMoE paper's synthetic experiment (Ma et al., KDD 2018, sections 3.3 and 5.1-5.2).

Two regression tasks from ``make_task_pair`` (100 inputs, 10,000 training and
1,000 held-out rows) whose correlation is set by the cosine ``p`` of their
weight vectors. The function (directions, sine parameters) is fixed for the
whole experiment by ``--function-seed``; runs differ only in the seed of the
sample, of the initialisation and of the batch order, as in the paper's
section 5.2. Run ``r`` of every cell uses the same seeds, so every comparison
between models or correlations is paired run by run.

Models: Shared-Bottom with one 16-unit layer (section 3.3) and with 113 units
(section 5.1); OMoE and MMoE with 8 experts of one 16-unit layer; PLE (CGC),
which is not in the paper, beside them; towers of one 8-unit layer. The
correlation sweep compares MMoE with a Shared-Bottom of the same parameter
count at more correlations. Adam with batches of 256; the learning rate of
each (model, correlation) is chosen from {1e-4, 1e-3, 1e-2} on the final
held-out loss of separate runs. The loss is the sum over the two tasks of the
mean squared error on standardised targets (the estimators' training loss).

Each run is tiny, so runs of one model are trained together as one vmapped
module (``benchmarks/_stacked.py``); on a GPU a whole model's runs form one
stack. The claims of the paper are tested on its three models with paired
one-sided tests over runs (Wilcoxon signed-rank; a paired bootstrap for the
spread of claim d), Holm-corrected within each claim, under four readings of
the loss: final training, final held-out, and each averaged over the whole
curve (what comparing the paper's plotted curves reads):

(a) every model does better at higher correlation;
(b) MMoE's loss rises least as the correlation falls;
(c) both mixture-of-experts models beat Shared-Bottom;
(d) Shared-Bottom's final losses spread more across runs.

``python -m benchmarks run synthetic --quick`` (half a minute), ``--full`` (50
runs per cell, in one process per core), ``--full --device cuda -- --runs 200``
(the paper's count, on one GPU). Every finished stack is appended to
``<output>.partial.jsonl``: an interrupted run resumes where it stopped.
``--verify N`` reruns the first N stacks of a finished JSON and compares.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from sklearn_mtl.architectures import PLE, MMoE, OMoE, SharedBottom

try:
    from ._environment import code_revision, environment
    from ._report import write_report
    from ._stacked import count_parameters, train_stacked
    from ._synthetic_claims import CLAIMS, EQUAL, claims, readings, sweep
    from ._synthetic_data import N_FEATURES, samples
    from ._synthetic_options import parse_options
    from ._synthetic_report import format_table, plot
except ImportError:  # run as a script: python benchmarks/synthetic.py
    from _environment import code_revision, environment
    from _report import write_report
    from _stacked import count_parameters, train_stacked
    from _synthetic_claims import CLAIMS, EQUAL, claims, readings, sweep
    from _synthetic_data import N_FEATURES, samples
    from _synthetic_options import parse_options
    from _synthetic_report import format_table, plot

__all__ = ["CLAIMS", "claims", "code_revision", "main", "run", "settings_of", "sweep"]

RESULTS = Path(__file__).resolve().parent / "results"

TOWER = (8,)
ONE = {"tower_units": TOWER, "n_ensemble": 1}  # the paper's networks: one each, no ensemble
ARCHITECTURES = {
    "Shared-Bottom (16)": lambda: SharedBottom(bottom_units=(16,), **ONE),
    "Shared-Bottom (113)": lambda: SharedBottom(bottom_units=(113,), **ONE),
    "OMoE": lambda: OMoE(8, expert_units=(16,), **ONE),
    "MMoE": lambda: MMoE(8, expert_units=(16,), **ONE),
    "PLE (CGC)": lambda: PLE(2, n_shared_experts=4, n_levels=1, expert_units=(16,), **ONE),
    EQUAL: lambda: SharedBottom(bottom_units=(equal_width(),), **ONE),
}
SAMPLE_SEED, INIT_SEED = 10_000, 1_000  # run r: sample seed 10_000 + r, init seed 1_000 + r
LR_SAMPLE_SEED, LR_INIT_SEED = 20_000, 2_000  # the learning-rate runs use other seeds


def equal_width() -> int:
    """The Shared-Bottom width whose parameter count is closest to MMoE's."""
    target = count_parameters(ARCHITECTURES["MMoE"](), N_FEATURES, 2)

    def gap(width):
        sb = SharedBottom(bottom_units=(width,), **ONE)
        return abs(count_parameters(sb, N_FEATURES, 2) - target)

    return min(range(1, 400), key=gap)


# ---------------------------------------------------------------- the design


def cells(args) -> dict[str, list[float]]:
    """Each model's correlations: the main grid, then the sweep's extra ones."""
    design = {m: list(args.correlations) for m in args.models}
    for model in args.sweep_models:
        extra = [c for c in args.sweep_correlations if c not in design.get(model, [])]
        design[model] = design.get(model, []) + extra
    return design


def stacks(args, phase: str, lrs: dict | None = None) -> list[dict]:
    """The stacks of a phase, a pure function of the settings (so reruns repeat them).

    A run is ``(correlation, learning_rate, r)``. ``"lr"``: every candidate
    learning rate on ``lr_runs`` runs per cell; ``"main"``: ``runs`` runs per
    cell at its chosen learning rate.
    """
    out = []
    for model, correlations in cells(args).items():
        if phase == "lr":
            runs = [
                (c, lr, r)
                for c in correlations
                for lr in args.learning_rates
                for r in range(args.lr_runs)
            ]
        else:
            runs = [(c, lrs[model, c], r) for c in correlations for r in range(args.runs)]
        size = args.stack_size or len(runs)
        for index, start in enumerate(range(0, len(runs), size)):
            out.append(
                {"phase": phase, "model": model, "index": index, "runs": runs[start : start + size]}
            )
    return out


def train_stack(stack: dict, args) -> dict:
    """Train one stack; its runs' curves, in the order of ``stack["runs"]``."""
    import torch

    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    sample_base, init_base = (
        (LR_SAMPLE_SEED, LR_INIT_SEED) if stack["phase"] == "lr" else (SAMPLE_SEED, INIT_SEED)
    )
    runs = stack["runs"]
    X, Y = samples([(c, sample_base + r) for c, _, r in runs], args)
    seeds = [init_base + r for _, _, r in runs]
    curves = train_stacked(
        ARCHITECTURES[stack["model"]](),
        X,
        Y,
        n_train=args.n_samples - args.n_valid,
        init_seeds=seeds,
        shuffle_seeds=seeds,
        learning_rates=[lr for _, lr, _ in runs],
        epochs=args.epochs,
        batch_size=args.batch_size,
        device=args.device,
    )
    return {
        **stack,
        "train": curves.train.tolist(),
        "valid": curves.valid.tolist(),
        "steps_per_epoch": curves.steps_per_epoch,
        "seconds": time.perf_counter() - start,
    }


def settings_of(args) -> dict:
    keys = (
        "runs",
        "n_samples",
        "n_valid",
        "epochs",
        "batch_size",
        "lr_runs",
        "learning_rates",
        "function_seed",
        "correlations",
        "sweep_correlations",
        "models",
        "sweep_models",
        "stack_size",
        "threads",
        "device",
    )
    return {key: getattr(args, key) for key in keys}


def train_all(todo: list[dict], args, checkpoint: Path | None, settings: dict) -> list[dict]:
    """Train ``todo`` in ``args.jobs`` processes; each finished stack goes to ``checkpoint``."""

    def keep(result):
        if checkpoint is not None:
            with checkpoint.open("a") as file:
                file.write(json.dumps({**result, "settings": settings}) + "\n")
        runs = len(result["runs"])
        print(
            f"  {result['phase']} {result['model']} stack {result['index']}: {runs} runs "
            f"in {result['seconds']:.0f} s",
            file=sys.stderr,
            flush=True,
        )
        return result

    if args.jobs == 1 or len(todo) <= 1:
        return [keep(train_stack(stack, args)) for stack in todo]
    from joblib import Parallel, delayed

    parallel = Parallel(n_jobs=args.jobs, return_as="generator_unordered")
    return [keep(result) for result in parallel(delayed(train_stack)(s, args) for s in todo)]


def run(args, checkpoint: Path | None = None) -> dict:
    """Every phase's stacks, resumed from ``checkpoint`` where it holds them."""
    settings = {**settings_of(args), "code_revision": code_revision()}
    done = {}
    if checkpoint is not None and checkpoint.exists():
        text = checkpoint.read_text()
        if text and not text.endswith("\n"):  # cut short mid-line: the next record starts anew
            with checkpoint.open("a") as file:
                file.write("\n")
        for line in text.splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:  # a line cut short by a kill: that stack reruns
                continue
            # a run with other settings or other code is not resumed: mixing code versions
            # in one report is what once made a stored result impossible to rerun
            if record.get("settings") == settings:
                done[record["phase"], record["model"], record["index"]] = record

    def resumable(stack):
        """A stored stack counts only if it holds these runs, each with a full curve."""
        record = done.get((stack["phase"], stack["model"], stack["index"]))
        if record is None or json.loads(json.dumps(stack["runs"])) != record.get("runs"):
            return False
        curves = [record.get("train"), record.get("valid")]
        return all(
            isinstance(curve, list)
            and len(curve) == len(stack["runs"])
            and all(isinstance(run, list) and len(run) == args.epochs for run in curve)
            for curve in curves
        )

    def phase(name, lrs=None):
        planned = stacks(args, name, lrs)
        todo = [s for s in planned if not resumable(s)]
        if len(todo) < len(planned):
            print(f"  {name}: {len(planned) - len(todo)} stacks resumed", file=sys.stderr)
        for result in train_all(todo, args, checkpoint, settings):
            done[result["phase"], result["model"], result["index"]] = result
        return [done[s["phase"], s["model"], s["index"]] for s in planned]

    start = time.perf_counter()
    lrs = choose_learning_rates(phase("lr") if args.lr_runs else [], args)
    main_stacks = phase("main", lrs)
    results = summarise(main_stacks, lrs)
    report = {
        "benchmark": "synthetic",
        "config": {**vars(args), "output": None},
        "settings": settings,
        "environment": environment(
            args.device, torch_threads_per_process=args.threads, processes=args.jobs
        ),
        "learning_rates_chosen": [
            {"model": m, "correlation": c, "lr": lr} for (m, c), lr in lrs.items()
        ],
        "results": results,
        "claims": claims(results, args),
        "sweep": sweep(results, args),
        "seconds": time.perf_counter() - start,
    }
    return report


def choose_learning_rates(lr_stacks: list[dict], args) -> dict:
    """Per (model, correlation): the candidate with the lowest mean final held-out loss."""
    if not lr_stacks:  # one candidate: no selection
        return {(m, c): args.learning_rates[0] for m, cs in cells(args).items() for c in cs}
    finals = {}
    for stack in lr_stacks:
        for (c, lr, _), valid in zip(stack["runs"], stack["valid"]):
            finals.setdefault((stack["model"], c, lr), []).append(valid[-1])
    lrs = {}
    for model, correlations in cells(args).items():
        for c in correlations:
            lrs[model, c] = min(args.learning_rates, key=lambda lr: np.mean(finals[model, c, lr]))
    return lrs


def summarise(main_stacks: list[dict], lrs: dict) -> list[dict]:
    """One entry per (model, correlation): mean curves and each run's readings, by run index."""
    grouped = {}
    for stack in main_stacks:
        for (c, _, r), train, valid in zip(stack["runs"], stack["train"], stack["valid"]):
            grouped.setdefault((stack["model"], c), {})[r] = (train, valid)
        steps = stack["steps_per_epoch"]
    results = []
    for (model, c), by_run in grouped.items():
        order = sorted(by_run)
        train = np.array([by_run[r][0] for r in order])
        valid = np.array([by_run[r][1] for r in order])
        per_run = {k: v.tolist() for k, v in readings(train, valid).items()}
        results.append(
            {
                "model": model,
                "correlation": c,
                "lr": lrs[model, c],
                "parameters": count_parameters(ARCHITECTURES[model](), N_FEATURES, 2),
                "runs": len(order),
                "steps_per_epoch": steps,
                "mean_train_curve": train.mean(axis=0).tolist(),
                "mean_valid_curve": valid.mean(axis=0).tolist(),
                "readings": per_run,
                "summary": {
                    k: {
                        "mean": float(np.mean(v)),
                        "std": float(np.std(v)),
                        "median": float(np.median(v)),
                    }
                    for k, v in per_run.items()
                },
            }
        )
    return results


# ---------------------------------------------------------------- entry points


def verify(report_path: Path, n_stacks: int, args) -> float:
    """Rerun the first ``n_stacks`` main stacks of a finished report; the largest relative
    difference of any run's reading from the stored one."""
    stored = json.loads(report_path.read_text())
    for key in settings_of(args):  # only the settings; the file names nothing else to set
        setattr(args, key, stored["settings"][key])
    lrs = {(e["model"], e["correlation"]): e["lr"] for e in stored["learning_rates_chosen"]}
    table = {(r["model"], r["correlation"]): r["readings"] for r in stored["results"]}
    worst = 0.0
    for stack in stacks(args, "main", lrs)[:n_stacks]:
        result = train_stack(stack, args)
        fresh = readings(np.array(result["train"]), np.array(result["valid"]))
        for i, (c, _, r) in enumerate(stack["runs"]):
            for key, values in fresh.items():
                old = table[stack["model"], c][key][r]
                worst = max(worst, abs(values[i] - old) / abs(old))
        print(
            f"  verified {stack['model']} stack {stack['index']}: largest relative "
            f"difference so far {worst:.2g}",
            file=sys.stderr,
            flush=True,
        )
    return worst


def parse_args(argv=None):
    return parse_options(argv, __doc__.splitlines()[0])


def main(argv=None) -> dict:
    args = parse_args(argv)
    output = args.output or RESULTS / f"synthetic-{args.preset}.json"
    if args.verify:
        worst = verify(output, args.verify, args)
        print(f"largest relative difference from {output.name}: {worst:.3g}")
        return {"largest_relative_difference": worst}
    output.parent.mkdir(parents=True, exist_ok=True)
    if args.rereport:  # the trained results as stored; only what is computed from them changes
        report = json.loads(output.read_text())
        args = argparse.Namespace(**{**vars(args), **report["settings"]})
        report["claims"] = claims(report["results"], args)
        report["sweep"] = sweep(report["results"], args)
        write_report(
            report, output, format_table(report), plot=lambda r, out: plot(r, out.with_suffix(""))
        )
        return report
    checkpoint = output.with_suffix(".partial.jsonl")
    report = run(args, checkpoint)
    report["config"]["output"] = output.name
    figures = None if args.no_figures else (lambda r, out: plot(r, out.with_suffix("")))
    write_report(report, output, format_table(report), plot=figures)
    checkpoint.unlink(missing_ok=True)
    return report


if __name__ == "__main__":
    main()
