"""The synthetic benchmark's tables and figures (its report; ``synthetic.py`` runs it)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

try:
    from ._report import save_figure
    from ._synthetic_claims import CLAIMS, EQUAL, READINGS, SHARED_BOTTOM, SWEEP_MODELS
except ImportError:  # run as a script
    from _report import save_figure
    from _synthetic_claims import CLAIMS, EQUAL, READINGS, SHARED_BOTTOM, SWEEP_MODELS

__all__ = ["format_table", "plot"]


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
    save_figure(fig, path)


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
    save_figure(fig, f"{stem}-trainability.png")
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
        save_figure(fig, f"{stem}-sweep.png")
