"""Paired statistics over runs, shared by the benchmarks: one-sided tests and Holm's correction.

Runs of two models that share their seeds are paired run by run; each test is
one-sided, and a claim's comparisons are corrected together (Holm-Bonferroni).
"""

from __future__ import annotations

import numpy as np

__all__ = ["holm", "paired_interval", "paired_less", "spread_greater"]


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


def paired_interval(x, y, level: float = 0.95) -> dict:
    """The mean of ``x - y`` over paired runs and its two-sided t-interval at ``level``.

    With fewer than two pairs the interval is ``(nan, nan)``: one run has no spread.
    """
    from scipy.stats import t

    difference = np.asarray(x, dtype=float) - np.asarray(y, dtype=float)
    mean = float(difference.mean())
    if len(difference) < 2:
        return {"mean": mean, "interval": [float("nan"), float("nan")], "pairs": len(difference)}
    half = t.ppf(0.5 + level / 2, len(difference) - 1) * difference.std(ddof=1)
    half /= np.sqrt(len(difference))
    return {"mean": mean, "interval": [mean - half, mean + half], "pairs": len(difference)}


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
