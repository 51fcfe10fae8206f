"""The MMoE paper's claims on the synthetic experiment, tested on its runs (``synthetic.py``).

Each claim is read four ways (final training and held-out loss, and each
averaged over the whole curve) and tested with paired one-sided tests over
runs, Holm-corrected within the claim; PLE, which is not in the paper, is
reported beside and not counted.
"""

from __future__ import annotations

import numpy as np

try:
    from ._stats import holm, paired_less, spread_greater
except ImportError:  # run as a script
    from _stats import holm, paired_less, spread_greater

__all__ = [
    "CLAIMS",
    "EQUAL",
    "LEVEL",
    "READINGS",
    "SHARED_BOTTOM",
    "SWEEP_MODELS",
    "claims",
    "sweep",
]

EQUAL = "Shared-Bottom (MMoE's size)"
SHARED_BOTTOM = "Shared-Bottom (113)"  # the paper's section-5 baseline
SWEEP_MODELS = [EQUAL, "MMoE"]
READINGS = {
    "final_train": "final training loss",
    "final_valid": "final held-out loss",
    "curve_train": "training loss over the whole curve",
    "curve_valid": "held-out loss over the whole curve",
}
LEVEL = 0.05
"""The level of every test, after Holm's correction."""


def readings(train: np.ndarray, valid: np.ndarray) -> dict:
    """The four readings of each run's curves (rows: runs)."""
    return {
        "final_train": train[:, -1],
        "final_valid": valid[:, -1],
        "curve_train": train.mean(axis=1),
        "curve_valid": valid.mean(axis=1),
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
