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
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

from sklearn_mtl.architectures import PLE, MMoE, OMoE, SharedBottom
from sklearn_mtl.datasets import make_task_pair

try:
    from ._report import write_report
    from ._stacked import count_parameters, train_stacked
except ImportError:  # run as a script: python benchmarks/synthetic.py
    from _report import write_report
    from _stacked import count_parameters, train_stacked

RESULTS = Path(__file__).resolve().parent / "results"
N_FEATURES = 100
TOWER = (8,)
EQUAL = "Shared-Bottom (MMoE's size)"
ARCHITECTURES = {
    "Shared-Bottom (16)": lambda: SharedBottom(bottom_units=(16,), tower_units=TOWER),
    "Shared-Bottom (113)": lambda: SharedBottom(bottom_units=(113,), tower_units=TOWER),
    "OMoE": lambda: OMoE(8, expert_units=(16,), tower_units=TOWER),
    "MMoE": lambda: MMoE(8, expert_units=(16,), tower_units=TOWER),
    "PLE (CGC)": lambda: PLE(
        2, n_shared_experts=4, n_levels=1, expert_units=(16,), tower_units=TOWER
    ),
    EQUAL: lambda: SharedBottom(bottom_units=(equal_width(),), tower_units=TOWER),
}
MAIN_MODELS = ["Shared-Bottom (16)", "Shared-Bottom (113)", "OMoE", "MMoE", "PLE (CGC)"]
SWEEP_MODELS = [EQUAL, "MMoE"]
SHARED_BOTTOM = "Shared-Bottom (113)"  # the paper's section-5 baseline
LEARNING_RATES = [1e-4, 1e-3, 1e-2]
READINGS = {
    "final_train": "final training loss",
    "final_valid": "final held-out loss",
    "curve_train": "training loss over the whole curve",
    "curve_valid": "held-out loss over the whole curve",
}
LEVEL = 0.05
PRESETS = {
    # the demo's: a minute on two cores, progress after every stack
    "quick": {
        "runs": 8,
        "n_samples": 3000,
        "epochs": 10,
        "lr_runs": 0,
        "learning_rates": [1e-2],
        "sweep_correlations": [1.0, 0.5],
    },
    "full": {
        "runs": 50,
        "n_samples": 11000,
        "epochs": 40,
        "lr_runs": 5,
        "learning_rates": LEARNING_RATES,
        "sweep_correlations": [1.0, 0.9, 0.8, 0.7, 0.5, 0.3, 0.0],
    },
}
SAMPLE_SEED, INIT_SEED = 10_000, 1_000  # run r: sample seed 10_000 + r, init seed 1_000 + r
LR_SAMPLE_SEED, LR_INIT_SEED = 20_000, 2_000  # the learning-rate runs use other seeds


def equal_width() -> int:
    """The Shared-Bottom width whose parameter count is closest to MMoE's."""
    target = count_parameters(ARCHITECTURES["MMoE"](), N_FEATURES, 2)

    def gap(width):
        sb = SharedBottom(bottom_units=(width,), tower_units=TOWER)
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


def sample(correlation: float, seed: int, args):
    X, Y = make_task_pair(
        args.n_samples,
        correlation,
        n_features=N_FEATURES,
        function_seed=args.function_seed,
        random_state=seed,
    )
    return X.astype(np.float32), Y


_SAMPLES: dict = {}
"""With one process: each seed's rows (the same at every correlation) and each (correlation,
seed)'s targets, drawn once for all models. Several processes draw their own instead."""


def samples(keys: list[tuple[float, int]], args) -> tuple[np.ndarray, np.ndarray]:
    """The stacked rows and targets of ``(correlation, sample seed)`` pairs.

    Drawing one run's 11,000 rows takes about 36 ms and holds the GIL, so on a GPU, where a
    stack holds a model's 1,400 runs, the missing ones are drawn in ``args.data_jobs``
    processes, and with one process (the GPU default) they are kept for the next model.
    """
    cache = _SAMPLES if args.jobs == 1 else {}
    tag = (args.n_samples, args.function_seed)
    missing = list(dict.fromkeys(k for k in keys if (tag, *k) not in cache))
    if args.data_jobs > 1 and len(missing) > 1:
        from joblib import Parallel, delayed

        drawn = Parallel(n_jobs=min(args.data_jobs, len(missing)))(
            delayed(sample)(c, seed, args) for c, seed in missing
        )
    else:
        drawn = [sample(c, seed, args) for c, seed in missing]
    for (c, seed), (X, Y) in zip(missing, drawn):
        cache.setdefault((tag, "X", seed), X)  # make_task_pair draws one X at every correlation
        cache[(tag, c, seed)] = Y
    X = np.stack([cache[(tag, "X", seed)] for _, seed in keys])
    Y = np.stack([cache[(tag, c, seed)] for c, seed in keys])
    return X, Y


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
        "environment": environment(args),
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


def readings(train: np.ndarray, valid: np.ndarray) -> dict:
    """The four readings of each run's curves (rows: runs)."""
    return {
        "final_train": train[:, -1],
        "final_valid": valid[:, -1],
        "curve_train": train.mean(axis=1),
        "curve_valid": valid.mean(axis=1),
    }


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


def code_revision() -> str | None:
    """The git commit of this checkout, ``+changes`` when tracked files differ from it."""
    import subprocess

    root = Path(__file__).resolve().parent.parent

    def git(*command):
        return subprocess.run(
            ["git", *command], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()

    try:
        head = git("rev-parse", "--short=12", "HEAD")
        changed = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.CalledProcessError):  # not a git checkout
        return None
    return head + ("+changes" if changed else "")


def environment(args) -> dict:
    import sklearn
    import torch

    import sklearn_mtl

    return {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "scikit-learn": sklearn.__version__,
        "sklearn_mtl": sklearn_mtl.__version__,
        "code_revision": code_revision(),
        "torch_threads_per_process": args.threads,
        "processes": args.jobs,
        "device": args.device,
        "cuda_device": torch.cuda.get_device_name() if args.device.startswith("cuda") else None,
    }


# ---------------------------------------------------------------- the claims


def holm(p_values: list[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values (family-wise error over one claim's comparisons)."""
    p = np.asarray(p_values, dtype=float)
    order = np.argsort(p)
    adjusted = np.empty_like(p)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(p) - rank) * p[i]))
        adjusted[i] = running
    return adjusted.tolist()


def paired_less(x, y) -> dict:
    """One-sided Wilcoxon signed-rank test of ``x < y`` over paired runs, with effect sizes."""
    from scipy.stats import wilcoxon

    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    difference = x - y
    if len(x) < 6 or not np.any(difference):  # the test cannot reach 0.05 with fewer pairs
        p, statistic = float("nan"), float("nan")
    else:
        test = wilcoxon(x, y, alternative="less")
        p, statistic = float(test.pvalue), float(test.statistic)
    return {
        "test": "wilcoxon",
        "statistic": statistic,
        "p": p,
        "mean_difference": float(difference.mean()),
        "median_relative_difference": float(np.median(difference / y)),
        "fraction_less": float(np.mean(difference < 0)),
    }


def spread_greater(x, y, *, resamples=4000, seed=0) -> dict:
    """Paired bootstrap over runs of ``std(x) > std(y)``: one-sided p and the std ratio."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    ratio = float(np.std(x) / np.std(y)) if np.std(y) > 0 else float("inf")
    if len(x) < 6:
        return {
            "test": "bootstrap",
            "statistic": ratio,
            "p": float("nan"),
            "std_ratio": ratio,
            "ci95": [float("nan")] * 2,
        }
    rng = np.random.default_rng(seed)
    index = rng.integers(0, len(x), size=(resamples, len(x)))
    log_ratio = np.log(np.std(x[index], axis=1)) - np.log(np.std(y[index], axis=1))
    p = float((np.sum(log_ratio <= 0) + 1) / (resamples + 1))
    low, high = np.exp(np.percentile(log_ratio, [2.5, 97.5]))
    return {
        "test": "bootstrap",
        "statistic": ratio,
        "p": p,
        "std_ratio": ratio,
        "ci95": [float(low), float(high)],
    }


def claims(results: list[dict], args) -> dict:
    """Each claim under each reading: its paired comparisons, Holm-adjusted, and a verdict.

    Comparisons flagged ``counted: False`` (PLE) are reported beside the claim;
    the verdict rests on the paper's models only.
    """
    table = {(r["model"], r["correlation"]): r["readings"] for r in results}
    correlations = sorted(args.correlations, reverse=True)
    high, low = correlations[0], correlations[-1]
    present = {m for m, _ in table}
    sb = SHARED_BOTTOM
    out = {}
    for reading in READINGS:

        def value(model, c, reading=reading):
            return np.asarray(table[model, c][reading])

        claim_rows = {"a": [], "b": [], "c": [], "d": []}
        for model in ["Shared-Bottom (16)", sb, "OMoE", "MMoE", "PLE (CGC)"]:
            if model not in present:
                continue
            for hi, lo in zip(correlations, correlations[1:]):
                claim_rows["a"].append(
                    {
                        "comparison": f"{model}: {hi} < {lo}",
                        "counted": model != "PLE (CGC)",
                        **paired_less(value(model, hi), value(model, lo)),
                    }
                )
        if {"MMoE", "OMoE", sb} <= present and high != low:

            def rise(model):
                return value(model, low) - value(model, high)

            for other in ["OMoE", sb, "PLE (CGC)"]:
                if other in present:
                    claim_rows["b"].append(
                        {
                            "comparison": f"rise MMoE < rise {other}",
                            "counted": other != "PLE (CGC)",
                            **paired_less(rise("MMoE"), rise(other)),
                        }
                    )
        for c in correlations:
            for model in ["MMoE", "OMoE", "PLE (CGC)"]:
                if model in present and sb in present:
                    claim_rows["c"].append(
                        {
                            "comparison": f"{model} < {sb} at {c}",
                            "counted": model != "PLE (CGC)",
                            **paired_less(value(model, c), value(sb, c)),
                        }
                    )
                    claim_rows["d"].append(
                        {
                            "comparison": f"std {sb} > std {model} at {c}",
                            "counted": model != "PLE (CGC)",
                            **spread_greater(value(sb, c), value(model, c)),
                        }
                    )
        out[reading] = {}
        for name, rows in claim_rows.items():
            counted = [row for row in rows if row["counted"]]
            for row, adjusted in zip(counted, holm([row["p"] for row in counted])):
                row["p_holm"] = adjusted
            for row in rows:
                if not row["counted"]:
                    row["p_holm"] = None
            ps = [row["p_holm"] for row in counted]
            if not counted or any(np.isnan(row["p"]) for row in counted):
                verdict = "too few runs"
            elif all(p < LEVEL for p in ps):
                verdict = "holds"
            elif any(p < LEVEL for p in ps):
                verdict = "partly"
            else:
                verdict = "does not hold"
            out[reading][name] = {"verdict": verdict, "comparisons": rows}
    return out


CLAIMS = {
    "a": "every model does better at higher correlation",
    "b": "MMoE's loss rises least as the correlation falls",
    "c": "both mixture-of-experts models beat Shared-Bottom",
    "d": "Shared-Bottom's final losses spread more across runs",
}


def sweep(results: list[dict], args) -> list[dict]:
    """MMoE against the Shared-Bottom of its parameter count at every sweep correlation."""
    table = {(r["model"], r["correlation"]): r for r in results}
    rows = []
    for c in sorted(args.sweep_correlations, reverse=True):
        if (EQUAL, c) not in table or ("MMoE", c) not in table:
            continue
        row = {"correlation": c}
        for reading in ("curve_train", "curve_valid", "final_valid"):
            mmoe = np.asarray(table["MMoE", c]["readings"][reading])
            sb = np.asarray(table[EQUAL, c]["readings"][reading])
            difference = mmoe - sb
            row[reading] = {
                "MMoE": float(mmoe.mean()),
                "Shared-Bottom": float(sb.mean()),
                "difference": float(difference.mean()),
                "difference_se": float(difference.std(ddof=1) / np.sqrt(len(mmoe)))
                if len(mmoe) > 1
                else float("nan"),
                "p_mmoe_less": paired_less(mmoe, sb)["p"],
            }
        rows.append(row)
    return rows


# ---------------------------------------------------------------- reporting


def format_table(report: dict) -> str:
    lines = [
        "| correlation | model | parameters | lr | final training | final held-out "
        "| training over the curve | held-out over the curve | runs |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in sorted(report["results"], key=lambda r: (-r["correlation"], r["model"])):
        s = r["summary"]
        values = " | ".join(f"{s[k]['mean']:.4f} ± {s[k]['std']:.4f}" for k in READINGS)
        lines.append(
            f"| {r['correlation']} | {r['model']} | {r['parameters']:,} "
            f"| {r['lr']:g} | {values} | {r['runs']} |"
        )
    lines += [
        "",
        "Loss: sum over the two tasks of the MSE on standardised targets, mean ± std over runs.",
        "",
        "| claim | " + " | ".join(READINGS.values()) + " |",
        "|---|" + "---|" * len(READINGS),
    ]
    for name, text in CLAIMS.items():
        cells_ = []
        for reading in READINGS:
            claim = report["claims"][reading][name]
            counted = [row for row in claim["comparisons"] if row["counted"]]
            worst = max((row["p_holm"] for row in counted), default=float("nan"))
            cells_.append(f"{claim['verdict']} (max Holm p {worst:.2g})")
        lines.append(f"| ({name}) {text} | " + " | ".join(cells_) + " |")
    lines += [
        "",
        "Comparisons (paired over runs; p: one-sided, Holm within the claim; "
        "PLE is reported beside and not counted):",
        "",
        "| reading | claim | comparison | effect | p | Holm p |",
        "|---|---|---|---|---:|---:|",
    ]
    for reading, label in READINGS.items():
        for name in CLAIMS:
            for row in report["claims"][reading][name]["comparisons"]:
                if row["test"] == "wilcoxon":
                    effect = (
                        f"median rel. diff {row['median_relative_difference']:+.1%}, "
                        f"{row['fraction_less']:.0%} of runs"
                    )
                else:
                    effect = (
                        f"std ratio {row['std_ratio']:.2f} "
                        f"[{row['ci95'][0]:.2f}, {row['ci95'][1]:.2f}]"
                    )
                holm_p = "beside" if row["p_holm"] is None else f"{row['p_holm']:.2g}"
                lines.append(
                    f"| {label} | ({name}) | {row['comparison']} | {effect} "
                    f"| {row['p']:.2g} | {holm_p} |"
                )
    if report["sweep"]:
        lines += [
            "",
            f"Correlation sweep: MMoE against {EQUAL} (difference MMoE - "
            "Shared-Bottom, mean ± standard error over paired runs; p: MMoE lower, "
            "Wilcoxon):",
            "",
            "| correlation | training over the curve | held-out over the curve | final held-out |",
            "|---:|---:|---:|---:|",
        ]
        for row in report["sweep"]:
            parts = [
                f"{row[k]['MMoE']:.4f} vs {row[k]['Shared-Bottom']:.4f}: "
                f"{row[k]['difference']:+.4f} ± {row[k]['difference_se']:.4f} "
                f"(p {row[k]['p_mmoe_less']:.2g})"
                for k in ("curve_train", "curve_valid", "final_valid")
            ]
            lines.append(f"| {row['correlation']} | " + " | ".join(parts) + " |")
    return "\n".join(lines)


def _curve_panels(plt, panels: dict, path: str) -> None:
    """Training (top) and held-out (bottom) mean curves; ``panels``: title -> (label, result)."""
    fig, axes = plt.subplots(2, len(panels), figsize=(3.8 * len(panels), 6.5), squeeze=False,
                             sharey="row")  # fmt: skip
    for col, (title, lines) in enumerate(panels.items()):
        for label, r in lines:
            steps = np.arange(1, len(r["mean_train_curve"]) + 1) * r["steps_per_epoch"]
            for row, key in enumerate(("mean_train_curve", "mean_valid_curve")):
                axes[row, col].plot(steps, r[key], label=label)
        for row, what in enumerate(("training", "held-out")):
            axes[row, col].set_title(f"{title}: {what} loss", fontsize=9)
            axes[row, col].set_xlabel("training steps")
            axes[row, col].set_yscale("log")
        axes[0, col].legend(fontsize=7)
    for row in range(2):
        axes[row, 0].set_ylabel("mean loss over runs")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def plot(report: dict, stem: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    results = report["results"]
    correlations = sorted(report["settings"]["correlations"], reverse=True)
    main = report["settings"]["models"]
    # Figure 4: mean training and held-out loss against training steps, a panel per
    # correlation; then the same curves a panel per model, a line per correlation
    by_correlation = {f"correlation {c}": [(r["model"], r) for r in results
                                          if r["correlation"] == c and r["model"] in main]
                      for c in correlations}  # fmt: skip
    by_model = {model: [(f"correlation {r['correlation']}", r) for r in sorted(
                    (r for r in results if r["model"] == model and r["correlation"] in
                     correlations), key=lambda r: -r["correlation"])]
                for model in main}  # fmt: skip
    _curve_panels(plt, by_correlation, f"{stem}-curves.png")
    _curve_panels(plt, by_model, f"{stem}-curves-by-model.png")
    # Figure 5: histograms of the final losses, runs that differ only in their seeds
    paper = [m for m in (SHARED_BOTTOM, "OMoE", "MMoE") if m in main]
    fig, axes = plt.subplots(
        2, len(correlations), figsize=(4.5 * len(correlations), 7), squeeze=False
    )
    for row, reading in enumerate(("final_train", "final_valid")):
        values = [v for r in results if r["model"] in paper for v in r["readings"][reading]]
        bins = np.geomspace(min(values), max(values), 25) if min(values) > 0 else 25
        for col, c in enumerate(correlations):
            for r in (r for r in results if r["correlation"] == c and r["model"] in paper):
                axes[row, col].hist(r["readings"][reading], bins=bins, alpha=0.5, label=r["model"])
            axes[row, col].set_xscale("log")
            axes[row, col].set_title(f"{READINGS[reading]}, correlation {c}", fontsize=9)
            axes[row, col].set_xlabel("loss")
        axes[row, 0].set_ylabel("runs")
        axes[row, 0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(f"{stem}-trainability.png", dpi=90)
    plt.close(fig)
    # the correlation sweep at equal parameter counts
    if report["sweep"]:
        fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
        table = {(r["model"], r["correlation"]): r for r in results}
        cs = [row["correlation"] for row in report["sweep"]]
        for ax, reading in zip(axes, ("curve_train", "curve_valid")):
            for model in SWEEP_MODELS:
                values = [np.asarray(table[model, c]["readings"][reading]) for c in cs]
                means = [v.mean() for v in values]
                errors = [
                    1.96 * v.std(ddof=1) / np.sqrt(len(v)) if len(v) > 1 else 0 for v in values
                ]
                label = f"{model}, {table[model, cs[0]]['parameters']:,} weights"
                ax.errorbar(cs, means, yerr=errors, marker="o", capsize=3, label=label)
            ax.set_xlabel("task correlation p")
            ax.set_ylabel(f"mean {READINGS[reading]}")
            ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(f"{stem}-sweep.png", dpi=90)
        plt.close(fig)


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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", choices=sorted(PRESETS), default="quick")
    parser.add_argument("--runs", type=int, help="runs per (model, correlation)")
    parser.add_argument("--n-samples", type=int, help="rows per run, held-out ones included")
    parser.add_argument("--n-valid", type=int, help="held-out rows (default: 1/11 of the rows)")
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--lr-runs", type=int, help="runs per candidate learning rate (0: none)")
    parser.add_argument("--learning-rates", type=float, nargs="+", help="one: no selection")
    parser.add_argument("--function-seed", type=int, default=0, help="the experiment's function")
    parser.add_argument("--correlations", type=float, nargs="+", default=[1.0, 0.9, 0.5])
    parser.add_argument("--models", nargs="+", choices=MAIN_MODELS, default=MAIN_MODELS)
    parser.add_argument("--sweep-correlations", type=float, nargs="*")
    parser.add_argument(
        "--sweep-models", nargs="*", choices=list(ARCHITECTURES), default=SWEEP_MODELS
    )
    parser.add_argument("--device", default="cpu")
    parser.add_argument(
        "--stack-size",
        type=int,
        help="runs trained together (default: 50 on a CPU, all of a model's "
        "runs on a GPU); results repeat exactly for the same value",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        help="stacks in parallel processes (default: one per core on a CPU, one on a GPU); "
        "the numbers do not depend on it",
    )
    parser.add_argument("--threads", type=int, default=1, help="torch threads per process")
    parser.add_argument(
        "--data-jobs",
        type=int,
        default=None,
        help="processes drawing the data (default: all cores on a GPU, else 1)",
    )
    parser.add_argument("--output", type=Path, default=None, help="JSON file to write")
    parser.add_argument("--no-figures", action="store_true", help="write no figure")
    parser.add_argument(
        "--rereport",
        action="store_true",
        help="recompute the claims, tables and figures of --output's JSON",
    )
    parser.add_argument(
        "--verify",
        type=int,
        default=0,
        metavar="N",
        help="rerun the first N stacks of --output's stored JSON and compare",
    )
    args = parser.parse_args(argv)
    for key, value in PRESETS[args.preset].items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.n_valid is None:
        args.n_valid = max(1, round(args.n_samples / 11))
    gpu = not args.device.startswith("cpu")
    if args.stack_size is None:
        args.stack_size = 0 if gpu else 50
    if args.jobs is None:
        args.jobs = 1 if gpu else (os.cpu_count() or 1)
    if args.data_jobs is None:
        args.data_jobs = (os.cpu_count() or 1) if gpu else 1
    for name in ("runs", "n_samples", "epochs", "batch_size", "threads", "jobs", "data_jobs"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    for name in ("lr_runs", "stack_size"):
        if getattr(args, name) < 0:
            parser.error(f"--{name.replace('_', '-')} must be at least 0")
    if not 0 < args.n_valid < args.n_samples:
        parser.error("--n-valid must be between 1 and --n-samples - 1")
    return args


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
