"""The task encoders: what each task type means, without torch."""

import numpy as np
import pytest

from sklearn_mtl._task_encoders import (
    TASK_TYPES,
    BinaryTask,
    MulticlassTask,
    ProbabilisticBinaryTask,
    RegressionTask,
    classification_task,
    encode_targets,
    new_task,
)
from tests._internals import FitState


def test_binary_task_codes_labels_and_decodes_logits():
    task = classification_task(np.array(["no", "yes", "yes"]), "Task 0")
    assert isinstance(task, BinaryTask) and task.head_size == 1
    np.testing.assert_array_equal(task.transform(np.array(["yes", "no"])), [1, 0])
    logits = np.array([[-2.0], [0.0], [3.0]])
    proba = task.proba(logits)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert proba[0, 1] < 0.5 < proba[2, 1]
    # ties follow argmax(predict_proba): a zero logit is the first class
    np.testing.assert_array_equal(task.decode(logits), ["no", "no", "yes"])
    assert task.score(np.array([0, 1, 1]), logits) == 1.0
    assert task.score(np.array([1, 1, 1]), logits) is None  # AUC needs both classes
    assert (task.kind, task.loss, task.metric) == ("binary", "binary", "roc_auc")


def test_multiclass_task_has_one_logit_per_class():
    task = classification_task(np.array([3, 1, 2, 3]), "Task 1")
    assert isinstance(task, MulticlassTask) and task.head_size == 3
    logits = np.array([[0.0, 5.0, 0.0], [9.0, 0.0, 0.0]])
    np.testing.assert_array_equal(task.decode(logits), [2, 1])
    np.testing.assert_allclose(task.proba(logits).sum(axis=1), 1.0)
    assert task.score(np.array([1, 0]), logits) == 1.0


def test_regression_task_standardises_and_maps_back():
    task = RegressionTask().fit(np.array([1.0, 3.0, 5.0]), "Task 0")
    assert task.mean == 3.0 and task.scale == pytest.approx(np.std([1, 3, 5]))
    encoded = task.transform(np.array([3.0, 5.0]))
    np.testing.assert_allclose(task.decode(encoded[:, None]), [3.0, 5.0])
    assert task.proba(encoded[:, None]) is None
    constant = RegressionTask().fit(np.array([2.0, 2.0]), "Task 0")
    assert constant.scale == 1.0  # a constant target is not divided by zero
    plain = RegressionTask(standardize=False).fit(np.array([1.0, 3.0]), "Task 0")
    np.testing.assert_array_equal(plain.transform(np.array([1.0, 3.0])), [1.0, 3.0])


def test_probabilistic_task_keeps_soft_targets():
    task = ProbabilisticBinaryTask().fit(np.array([0.2, 0.9, 1.0]), "Task 2")
    np.testing.assert_allclose(task.transform(np.array([0.2, 0.9])), [0.2, 0.9])
    np.testing.assert_array_equal(task.classes, [0, 1])
    assert task.score(np.array([0.2, 0.9]), np.array([[-1.0], [1.0]])) == 1.0
    with pytest.raises(ValueError, match=r"Task 2 of y holds probabilistic labels.*\[0, 1\]"):
        task.check(np.array([0.5, 1.5]), "Task 2")


@pytest.mark.parametrize(
    "task, labels, match",
    [
        (classification_task(np.array([0, 1]), "Task 0"), np.array([0, 2]),
         r"Task 0 of y has label\(s\) \[2\] that are not among its classes \[0, 1\]"),
        (RegressionTask(), np.array(["a"], dtype=object), "regression task but not numeric"),
        (ProbabilisticBinaryTask(), np.array(["x"], dtype=object), "not numeric"),
    ],
)  # fmt: skip
def test_labels_a_fitted_task_cannot_code_are_refused(task, labels, match):
    with pytest.raises(ValueError, match=match):
        task.check(labels, "Task 0")


def test_one_class_and_a_binary_task_of_three_classes_are_refused():
    with pytest.raises(ValueError, match="Task 1 of y has one class only"):
        classification_task(np.array([7, 7]), "Task 1")
    with pytest.raises(ValueError, match="binary task with 3 classes"):
        new_task("binary").fit(np.array([0, 1, 2]), "Task 0")


def test_encode_targets_masks_missing_labels_and_checks_each_task():
    y = np.array([[0, 1.5], [1, np.nan], [np.nan, 2.5]], dtype=object)
    missing = np.array([[False, False], [False, True], [True, False]])
    tasks = [classification_task(np.array([0, 1]), "Task 0"), RegressionTask(standardize=False)]
    encoded = encode_targets(tasks, y, missing, single_output=False)
    np.testing.assert_array_equal(encoded, [[0, 1.5], [1, 0], [0, 2.5]])
    assert encoded.dtype == np.float32
    y[0, 0] = 5
    with pytest.raises(ValueError, match="Task 0 of y has label"):
        encode_targets(tasks, y, missing, single_output=False)


def test_fit_state_round_trips_through_the_file_attributes():
    tasks = [new_task("multiclass", np.array(["a", "b", "c"])), RegressionTask(mean=2.0, scale=3.0)]
    state = FitState(tasks, single_output=False, inputs=None, seed=7)
    assert state.head_sizes == [3, 1] and state.task_types == ["multiclass", "regression"]
    assert [s for s in state.head_slices()] == [slice(0, 3), slice(3, 4)]
    saved = state.file_state(network=True)
    fitted = {
        "n_tasks_": 2,
        "classes_": [tasks[0].classes, None],
        "target_mean_": np.array([0.0, 2.0]),
        "target_scale_": np.array([1.0, 3.0]),
    }
    restored = FitState.from_file_state({**saved, **fitted})
    assert restored.task_types == state.task_types and restored.seed == 7
    logits = np.array([[0.0, 1.0, 0.0, 0.5]])
    for before, after in zip(state.tasks, restored.tasks):
        np.testing.assert_array_equal(before.decode(logits[:, :before.head_size]),
                                      after.decode(logits[:, :after.head_size]))  # fmt: skip


def test_every_task_type_is_named_by_its_kind():
    for kind, task_class in TASK_TYPES.items():
        assert task_class.kind == kind
