"""The label-scarcity benchmark's weakly labelled data set: gold target, weak other tasks."""

import argparse

import numpy as np
import pytest

from benchmarks._scarcity_data import DATASETS, WEAK_TARGET, adult_weak_labels
from benchmarks.label_scarcity import check_targets, parse_args, run, scarce_labels
from sklearn_mtl.datasets import load_adult


def test_the_weak_set_keeps_the_gold_target_and_the_rules_labels():
    X, Y, X_test, Y_test, targets = adult_weak_labels(argparse.Namespace(adult_rows=3000))
    gold = load_adult(task_group="degrees", return_X_y=True)[1].iloc[:3000]
    assert targets == [WEAK_TARGET] and DATASETS["adult weak labels"] is adult_weak_labels
    assert len(X) == len(Y) == 3000 and list(Y_test.columns) == list(Y.columns)
    np.testing.assert_array_equal(Y[WEAK_TARGET], gold[WEAK_TARGET])
    for task in Y.columns.drop(WEAK_TARGET):
        labelled = Y[task].notna()
        assert 0.5 < labelled.mean() < 1.0  # rows without a rule's vote have no label
        agreement = (Y[task][labelled] == gold[task][labelled]).mean()
        assert 0.6 < agreement < 1.0  # weak: better than chance, not the gold labels
        assert set(Y[task][labelled].unique()) == {0.0, 1.0}
    # postgraduate implies Bachelors+ (the label model's hierarchy)
    both = Y.notna().all(axis=1)
    assert not ((Y.loc[both, "postgraduate"] == 1) & (Y.loc[both, "bachelors_or_more"] == 0)).any()
    scarce = scarce_labels(Y, WEAK_TARGET, 0.05, "target", seed=0)
    assert scarce[WEAK_TARGET].notna().sum() == 150
    assert scarce.drop(columns=WEAK_TARGET).equals(Y.drop(columns=WEAK_TARGET))


def test_a_target_of_no_selected_data_set_is_refused_before_anything_runs():
    """The quick run's ``--targets income_over_50k`` with another data set fitted nothing,
    then failed in the summary with KeyError 'dataset'."""
    check_targets(None, {"task groups": ["task 0"]})
    check_targets(["task 0"], {"task groups": ["task 0"]})
    args = parse_args(["--datasets", "task groups", "--targets", "income_over_50k",
                       "--task-rows", "300", "--seeds", "1"])  # fmt: skip
    with pytest.raises(ValueError, match=r"\['income_over_50k'\] are not targets.*task 0"):
        run(args)
