"""The MMoE paper's synthetic experiment (Ma et al., KDD 2018, section 5.1).

Two regression tasks from ``make_task_pair`` (100 inputs) at task correlations
1.0, 0.9 and 0.5; MMoE and OMoE with 8 experts of one 16-unit layer,
Shared-Bottom with one 113-unit layer (the same parameter count), PLE (CGC)
with 2 experts per task and 4 shared ones of 16 units; towers of one 8-unit
layer; Adam, the learning rate chosen from {1e-4, 1e-3, 1e-2} on the
validation loss of the first runs. Every run draws new data and a new
initialisation. It writes the mean validation loss against training steps
(the paper's Figure 4), histograms of the final losses (Figure 5,
trainability), a Markdown table and JSON under ``benchmarks/results/``, and
states which of the paper's four claims held:

(a) every model does better at higher correlation;
(b) MMoE's loss changes least as the correlation falls;
(c) both mixture-of-experts models beat Shared-Bottom on average;
(d) Shared-Bottom's final losses spread far more across runs.

Run ``python -m benchmarks run synthetic --quick`` (or ``--full``: 200 runs;
add ``-- --jobs 2`` to run them in two processes). Each finished (model,
correlation) is kept in ``<output>.partial.jsonl``, so an interrupted run picks
up where it stopped.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from sklearn_mtl import MMoERegressor, OMoERegressor, PLERegressor, SharedBottomRegressor
from sklearn_mtl.datasets import make_task_pair

try:
    from ._report import mean_spread, write_report
except ImportError:  # run as a script: python benchmarks/synthetic.py
    from _report import mean_spread, write_report

RESULTS = Path(__file__).resolve().parent / "results"
MODELS = {
    "Shared-Bottom": lambda: SharedBottomRegressor(bottom_units=(113,)),
    "OMoE": lambda: OMoERegressor(8, expert_units=(16,)),
    "MMoE": lambda: MMoERegressor(8, expert_units=(16,)),
    "PLE (CGC)": lambda: PLERegressor(2, n_shared_experts=4, n_levels=1, expert_units=(16,)),
}
LEARNING_RATES = [1e-4, 1e-3, 1e-2]
PRESETS = {
    # the demo's: a minute on two cores (--jobs 2), progress after every (model, correlation)
    "quick": {"runs": 3, "n_samples": 3000, "epochs": 10, "lr_runs": 1, "learning_rates": [1e-2]},
    "full": {
        "runs": 200,
        "n_samples": 11000,
        "epochs": 40,
        "lr_runs": 3,
        "learning_rates": LEARNING_RATES,
    },  # fmt: skip
}


def train_once(name, correlation, lr, seed, args):
    """One run: new data, new initialisation; the validation loss after every epoch."""
    X, Y = make_task_pair(args.n_samples, correlation, random_state=10_000 + seed)
    model = MODELS[name]().set_params(
        tower_units=(8,),
        lr=lr,
        max_epochs=args.epochs,
        batch_size=256,
        early_stopping=True,  # holds out the validation rows; never stops before max_epochs
        validation_fraction=1000 / args.n_samples,
        n_iter_no_change=args.epochs,
        device=args.device,
        random_state=seed,
    )
    model.fit(X, Y)
    history = model.net_.history
    r2 = [history[-1, f"valid_r2_task{t}"] for t in range(2)]
    return history[:, "valid_loss"], len(history[0, "batches"]), r2


def _train_in_worker(name, correlation, lr, seed, args):
    """``train_once`` with one torch thread, so parallel runs do not share cores."""
    import torch

    torch.set_num_threads(1)
    return train_once(name, correlation, lr, seed, args)


def train_many(jobs, args):
    """Every ``(name, correlation, lr, seed)`` of ``jobs``, in ``args.jobs`` processes."""
    if args.jobs == 1:
        return [train_once(*job, args) for job in jobs]
    from joblib import Parallel, delayed

    return Parallel(n_jobs=args.jobs)(delayed(_train_in_worker)(*job, args) for job in jobs)


def choose_lr(name, correlation, args) -> float:
    """The learning rate with the lowest mean final validation loss over the first runs."""
    if len(args.learning_rates) == 1:
        return args.learning_rates[0]
    jobs = [(name, correlation, lr, s) for lr in args.learning_rates for s in range(args.lr_runs)]
    finals = [curve[-1] for curve, _, _ in train_many(jobs, args)]
    losses = {
        lr: np.mean(finals[i * args.lr_runs : (i + 1) * args.lr_runs])
        for i, lr in enumerate(args.learning_rates)
    }
    return min(losses, key=losses.get)


def run(args, checkpoint: Path | None = None) -> dict:
    """Every (correlation, model); finished ones are appended to ``checkpoint`` (JSON lines)
    and read back from it, so an interrupted full run resumes where it stopped."""
    keys = ("runs", "n_samples", "epochs", "lr_runs", "learning_rates")
    settings = {key: getattr(args, key) for key in keys}
    done = {}
    if checkpoint is not None and checkpoint.exists():
        for line in checkpoint.read_text().splitlines():
            record = json.loads(line)
            if record["settings"] == settings:  # a run with other settings is not resumed
                done[record["model"], record["correlation"]] = record
    results = []
    for correlation in args.correlations:
        for name in MODELS:
            if (name, correlation) in done:
                results.append(done[name, correlation])
                print(f"  correlation {correlation}, {name}: resumed", file=sys.stderr)
                continue
            start = time.perf_counter()
            lr = choose_lr(name, correlation, args)
            runs = train_many([(name, correlation, lr, 1000 + s) for s in range(args.runs)], args)
            curves = np.array([curve for curve, _, _ in runs])  # (runs, epochs)
            results.append(
                {
                    "model": name,
                    "correlation": correlation,
                    "lr": lr,
                    "steps_per_epoch": runs[0][1],
                    "mean_curve": curves.mean(axis=0).tolist(),
                    "final_losses": curves[:, -1].tolist(),
                    "final_mean": float(curves[:, -1].mean()),
                    "final_std": float(curves[:, -1].std()),
                    "final_r2_per_task": np.mean([r2 for _, _, r2 in runs], axis=0).tolist(),
                    "seconds": time.perf_counter() - start,
                    "settings": settings,
                }
            )
            if checkpoint is not None:
                with checkpoint.open("a") as file:
                    file.write(json.dumps(results[-1]) + "\n")
            print(
                f"  correlation {correlation}, {name}: lr {lr:g}, final validation loss "
                f"{mean_spread(results[-1]['final_mean'], results[-1]['final_std'], args.runs)} "
                f"({results[-1]['seconds']:.0f} s)",
                file=sys.stderr,
                flush=True,
            )
    return {"benchmark": "synthetic", "config": vars(args), "results": results,
            "claims": claims(results)}  # fmt: skip


def claims(results) -> dict:
    """Which of the paper's four claims held in this run, with the numbers behind each."""
    table = {(r["model"], r["correlation"]): r for r in results}
    models = list(dict.fromkeys(r["model"] for r in results))
    correlations = sorted({r["correlation"] for r in results}, reverse=True)
    mean = {k: r["final_mean"] for k, r in table.items()}
    a = all(
        all(mean[m, hi] <= mean[m, lo] for hi, lo in zip(correlations, correlations[1:]))
        for m in models
    )
    drop = {m: mean[m, correlations[-1]] - mean[m, correlations[0]] for m in models}
    b = min(drop, key=drop.get) == "MMoE"
    average = {m: np.mean([mean[m, c] for c in correlations]) for m in models}
    c = average["MMoE"] < average["Shared-Bottom"] and average["OMoE"] < average["Shared-Bottom"]
    spread = {m: np.mean([table[m, cc]["final_std"] for cc in correlations]) for m in models}
    others = max(v for m, v in spread.items() if m != "Shared-Bottom")
    d = spread["Shared-Bottom"] > 1.5 * others
    return {
        "a_better_at_higher_correlation": {"held": bool(a)},
        "b_mmoe_changes_least": {"held": bool(b), "loss_increase_from_highest_to_lowest": drop},
        "c_moe_beat_shared_bottom": {"held": bool(c), "mean_final_loss": average},
        "d_shared_bottom_spreads_more": {"held": bool(d), "mean_std_of_final_loss": spread},
    }


def format_table(report: dict) -> str:
    lines = [
        "| correlation | model | lr | final validation loss (mean ± std) "
        "| task 1 R^2 | task 2 R^2 | runs |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for r in report["results"]:
        r2 = " | ".join(f"{v:.3f}" for v in r["final_r2_per_task"])
        lines.append(
            f"| {r['correlation']} | {r['model']} | {r['lr']:g} "
            f"| {mean_spread(r['final_mean'], r['final_std'], len(r['final_losses']))} | {r2} "
            f"| {len(r['final_losses'])} |"
        )
    lines.append("")
    for name, claim in report["claims"].items():
        lines.append(f"- claim ({name[0]}) {name[2:].replace('_', ' ')}: "
                     f"{'held' if claim['held'] else 'did not hold'}")  # fmt: skip
    return "\n".join(lines)


def plot(report: dict, stem: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    correlations = sorted({r["correlation"] for r in report["results"]}, reverse=True)
    fig, axes = plt.subplots(1, len(correlations), figsize=(4.5 * len(correlations), 3.5))
    for ax, correlation in zip(np.atleast_1d(axes), correlations):
        for r in (r for r in report["results"] if r["correlation"] == correlation):
            steps = np.arange(1, len(r["mean_curve"]) + 1) * r["steps_per_epoch"]
            ax.plot(steps, r["mean_curve"], label=r["model"])
        ax.set_title(f"correlation {correlation}")
        ax.set_xlabel("training steps")
        ax.set_ylabel("mean validation loss")
        ax.set_yscale("log")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(f"{stem}-curves.png", dpi=100)
    plt.close(fig)
    fig, axes = plt.subplots(1, len(correlations), figsize=(4.5 * len(correlations), 3.5))
    for ax, correlation in zip(np.atleast_1d(axes), correlations):
        for r in (r for r in report["results"] if r["correlation"] == correlation):
            ax.hist(r["final_losses"], bins=20, alpha=0.5, label=r["model"])
        ax.set_title(f"final validation loss, correlation {correlation}")
        ax.set_xlabel("loss")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(f"{stem}-trainability.png", dpi=100)
    plt.close(fig)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", choices=sorted(PRESETS), default="quick")
    parser.add_argument("--runs", type=int)
    parser.add_argument("--n-samples", type=int)
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--lr-runs", type=int)
    parser.add_argument("--learning-rates", type=float, nargs="+", help="one: no selection")
    parser.add_argument("--correlations", type=float, nargs="+", default=[1.0, 0.9, 0.5])
    parser.add_argument("--device", default="cpu")
    parser.add_argument(
        "--jobs", type=int, default=1, help="runs in parallel processes (one torch thread each)"
    )
    parser.add_argument("--output", type=Path, default=None, help="JSON file to write")
    args = parser.parse_args(argv)
    for key, value in PRESETS[args.preset].items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    return args


def main(argv=None) -> dict:
    args = parse_args(argv)
    output = args.output or RESULTS / f"synthetic-{args.preset}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    checkpoint = output.with_suffix(".partial.jsonl")
    report = run(args, checkpoint)
    report["config"]["output"] = str(output.name)
    write_report(report, output, format_table(report),
                 plot=lambda r, out: plot(r, out.with_suffix("")))  # fmt: skip
    checkpoint.unlink(missing_ok=True)
    return report


if __name__ == "__main__":
    main()
