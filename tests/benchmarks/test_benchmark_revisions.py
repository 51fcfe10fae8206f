"""The side-by-side comparison of two revisions' throughput: its arithmetic and its table."""

import pytest

from benchmarks.revisions import compare, estimator_ratios, table


def _results(fit_ratio, predict_ratio):
    rows = []
    for phase, ratio in (("fit", fit_ratio), ("predict_proba", predict_ratio)):
        rows.append({"architecture": "MMoE", "batch_size": 256, "phase": phase,
                     "variant": "hand-written loop", "time_vs_hand_written": 1.0})  # fmt: skip
        rows.append({"architecture": "MMoE", "batch_size": 256, "phase": phase,
                     "variant": "estimator", "time_vs_hand_written": ratio})  # fmt: skip
    return rows


def test_the_change_is_the_ratio_of_the_median_ratios():
    baseline = [estimator_ratios(_results(1.2, 1.1)), estimator_ratios(_results(1.4, 1.3)),
                estimator_ratios(_results(1.3, 5.0))]  # fmt: skip
    current = [estimator_ratios(_results(1.1, 1.0)), estimator_ratios(_results(1.3, 1.2)),
               estimator_ratios(_results(1.2, 1.1))]  # fmt: skip
    rows = {row["phase"]: row for row in compare(baseline, current)}
    assert rows["fit"]["baseline_median"] == pytest.approx(1.3)
    assert rows["fit"]["current_median"] == pytest.approx(1.2)
    assert rows["fit"]["change"] == pytest.approx(1.2 / 1.3)
    assert rows["predict_proba"]["baseline_median"] == pytest.approx(1.3)  # an outlier is ignored
    text = table(list(rows.values()), "abc123")
    assert "| MMoE | 256 | fit | 1.300 | 1.200 | 0.923 |" in text
    assert "abc123" in text.splitlines()[0]
