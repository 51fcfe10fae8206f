"""What a task type means, in one object per type: no torch, no estimator.

A task encoder learns from a task's observed labels what the network's head
for it looks like, and translates between the labels and that head:

- ``fit(labels, name)`` learns the classes (or the target statistics);
- ``check(labels, name)`` refuses labels the fitted encoding cannot code
  (a later ``partial_fit`` batch's unknown class);
- ``transform(labels)`` gives the float targets the loss reads;
- ``head_size`` is the number of logits of the task's head;
- ``decode(logits)`` gives predictions in the labels' own type;
- ``proba(logits)`` gives class probabilities (None for a regression task);
- ``loss`` names the elementwise loss in :data:`sklearn_mtl.losses.TASK_LOSSES`;
- ``metric`` names the validation score and ``score(target, logits)``
  computes it on encoded targets (higher is better).

The neural estimators, :class:`~sklearn_mtl.MultiTaskNet` and the linear
models build their tasks here; nothing else switches on a task type.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit, softmax
from sklearn.metrics import r2_score, roc_auc_score
from sklearn.utils.multiclass import check_classification_targets

from .utils import task_name


class TaskEncoder:
    """A task's encoding; subclasses set ``kind``, ``loss`` and ``metric``."""

    kind: str = ""
    loss: str = ""
    metric: str = ""

    def fit(self, labels: np.ndarray, name: str) -> TaskEncoder:
        """Learn the encoding from the task's observed labels; ``name`` is for errors."""
        raise NotImplementedError

    def check(self, labels: np.ndarray, name: str) -> None:
        """Raise a ``ValueError`` naming the task unless the fitted encoding can code ``labels``."""

    def transform(self, labels: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    @property
    def head_size(self) -> int:
        return 1

    def decode(self, logits: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def proba(self, logits: np.ndarray) -> np.ndarray | None:
        return None

    def score(self, target: np.ndarray, logits: np.ndarray) -> float | None:
        """The validation score on encoded targets, or None where it is undefined."""
        raise NotImplementedError


class ClassificationTask(TaskEncoder):
    """Labels coded as indices into ``classes`` (sorted, unique).

    Parameters
    ----------
    classes : ndarray or None, default=None
        The task's classes when they are known before ``fit`` (a first
        ``partial_fit`` call's ``classes=``); ``fit`` then checks that every
        label is one of them instead of reading them from the labels.
    """

    def __init__(self, classes: np.ndarray | None = None) -> None:
        self.classes = classes

    def fit(self, labels, name):
        """Learn the classes from ``labels``, or check ``labels`` against the given ones.

        ``labels=None`` with given classes checks the classes alone.
        """
        if self.classes is None:
            self.classes = np.unique(natural_dtype(labels))
            # The label type depends only on the set of values: check the few uniques.
            check_classification_targets(self.classes)
        elif labels is not None:
            self.check(labels, name)
        if len(self.classes) < 2:
            raise ValueError(
                f"{name} of y has one class only ({self.classes.tolist()[0]!r}); a "
                "classifier needs at least two classes per task."
            )
        return self

    def check(self, labels, name):
        _check_labels_in_classes(natural_dtype(labels), self.classes, name)

    def transform(self, labels):
        return np.searchsorted(self.classes, natural_dtype(labels))

    def decode(self, logits):
        return self.classes[np.argmax(self.proba(logits), axis=1)]


class BinaryTask(ClassificationTask):
    """Two classes, one logit: sigmoid and binary cross-entropy; ROC AUC."""

    kind, loss, metric = "binary", "binary", "roc_auc"

    def fit(self, labels, name):
        super().fit(labels, name)
        if len(self.classes) != 2:
            raise ValueError(
                f"{name} of y is a binary task with {len(self.classes)} classes "
                f"({self.classes.tolist()[:5]!r}); a binary task needs 2 classes."
            )
        return self

    def proba(self, logits):
        positive = expit(logits[:, 0])
        return np.column_stack([1.0 - positive, positive])

    def score(self, target, logits):
        if len(target) == 0 or len(np.unique(target)) < 2:
            return None
        return float(roc_auc_score(target, logits[:, 0]))


class MulticlassTask(ClassificationTask):
    """``C`` classes, ``C`` logits: softmax cross-entropy; accuracy."""

    kind, loss, metric = "multiclass", "multiclass", "accuracy"

    @property
    def head_size(self):
        return len(self.classes)

    def proba(self, logits):
        return softmax(logits, axis=1)

    def score(self, target, logits):
        return float(np.mean(logits.argmax(axis=1) == target)) if len(target) else None


class ProbabilisticBinaryTask(BinaryTask):
    """A binary task learnt from probabilistic labels: ``P(class 1)`` in [0, 1] per row.

    The label model of weak supervision emits such labels. The loss is the
    binary cross-entropy against the soft target (the noise-aware loss of
    Snorkel's end models); ``classes`` are ``[0, 1]``, so ``predict`` gives
    hard 0/1 labels and ``predict_proba`` the probability of each.
    """

    kind = "probabilistic"

    def __init__(self) -> None:
        super().__init__(np.array([0, 1]))

    def fit(self, labels, name):
        self.check(labels, name)
        return self

    def check(self, labels, name):
        try:
            values = np.asarray(labels, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(
                f"{name} of y holds probabilistic labels but is not numeric."
            ) from None
        if values.size and not ((values >= 0) & (values <= 1)).all():
            raise ValueError(
                f"{name} of y holds probabilistic labels, which must lie in [0, 1]; got "
                f"values in [{values.min():g}, {values.max():g}]."
            )

    def transform(self, labels):
        return np.asarray(labels, dtype=np.float64)

    def score(self, target, logits):
        return super().score((target > 0.5).astype(int), logits)


class RegressionTask(TaskEncoder):
    """Numeric targets, one output, squared error; R^2.

    Parameters
    ----------
    standardize : bool, default=True
        Learn the targets' mean and standard deviation in ``fit`` and train on
        standardised targets (the networks); ``False`` keeps them as they are
        (the linear models).
    mean, scale : float, default=0.0 and 1.0
        The standardisation; ``fit`` overwrites them when ``standardize``.
    """

    kind, loss, metric = "regression", "regression", "r2"

    def __init__(self, standardize: bool = True, mean: float = 0.0, scale: float = 1.0) -> None:
        self.standardize = standardize
        self.mean = mean
        self.scale = scale

    def fit(self, labels, name):
        values = self._numeric(labels, name)
        if self.standardize and values.size:
            self.mean, self.scale = float(values.mean()), float(values.std()) or 1.0
        return self

    def check(self, labels, name):
        self._numeric(labels, name)

    def transform(self, labels):
        return (self._numeric(labels, "y") - self.mean) / self.scale

    def decode(self, logits):
        return logits[:, 0] * self.scale + self.mean

    def score(self, target, logits):
        return float(r2_score(target, logits[:, 0])) if len(target) else None

    @staticmethod
    def _numeric(labels, name):
        try:
            return np.asarray(labels).astype(np.float64)
        except (TypeError, ValueError):
            raise ValueError(
                f"{name} of y is a regression task but not numeric; a regression task "
                f"needs numeric targets (dtype {np.asarray(labels).dtype})."
            ) from None


TASK_TYPES = {
    "binary": BinaryTask,
    "multiclass": MulticlassTask,
    "regression": RegressionTask,
    "probabilistic": ProbabilisticBinaryTask,
}
"""Task types by name, as ``MultiTaskNet(task_types=...)`` and model files name them."""


def classification_task(labels: np.ndarray, name: str, classes=None) -> ClassificationTask:
    """The binary or multi-class task of ``labels`` (or of ``classes``, when given)."""
    if classes is None:
        classes = np.unique(natural_dtype(labels))
        check_classification_targets(classes)
        labels = None  # the classes are the labels': nothing to check them against
    task_class = BinaryTask if len(classes) == 2 else MulticlassTask
    return task_class(classes).fit(labels, name)


def encode_targets(
    tasks: list, y, missing, single_output: bool, *, check: bool = True, dtype=np.float32
) -> np.ndarray:
    """Every task's float targets, shape ``(n_samples, n_tasks)``; 0 where a label is missing.

    With ``check``, each task first checks its labels (a later batch may hold
    a class the first did not declare); ``check=False`` is for the labels the
    tasks were just fitted on.
    """
    encoded = np.zeros(y.shape, dtype=dtype)
    for t, task in enumerate(tasks):
        labels = observed(y, missing, t)
        if check:
            task.check(labels, task_name(t, single_output))
        rows = ~missing[:, t] if missing[:, t].any() else slice(None)
        encoded[rows, t] = task.transform(labels)
    return encoded


def observed(y: np.ndarray, missing: np.ndarray, t: int) -> np.ndarray:
    """Task ``t``'s observed labels, in their natural dtype."""
    return natural_dtype(y[~missing[:, t], t] if missing[:, t].any() else y[:, t])


def new_task(kind: str, classes=None) -> TaskEncoder:
    """An unfitted encoder of type ``kind``; a classification task may be given its classes."""
    task_class = TASK_TYPES[kind]
    if task_class in (BinaryTask, MulticlassTask):
        return task_class(classes)
    return task_class()


def task_from_fitted(kind: str, classes, mean: float, scale: float, standardize: bool = True):
    """The fitted encoder that a task's saved type, classes and statistics describe."""
    if kind == "regression":
        return RegressionTask(standardize, mean=float(mean), scale=float(scale))
    return new_task(kind, classes)


def natural_dtype(labels: np.ndarray) -> np.ndarray:
    """An object column whose labels share one type, as an array of that type.

    A mixed-type ``y`` arrives as an object array; its bool or int columns are
    recovered here so that their label type is recognised and kept.
    """
    labels = np.asarray(labels)
    if labels.dtype != object or len({type(label) for label in labels}) != 1:
        return labels
    return np.asarray(labels.tolist())


def classes_per_task(classes, n_tasks: int, single_output: bool, estimator: str) -> list:
    """``classes=`` of a first ``partial_fit`` call as one sorted array (or None) per task."""
    if classes is None:
        raise ValueError(
            f"{estimator}.partial_fit needs classes= at its first call: every label of "
            "each task, as a list of n_tasks arrays (one array for a 1-D y)."
        )
    per_task = [classes] if single_output else list(classes)
    if len(per_task) != n_tasks:
        raise ValueError(
            f"classes has {len(per_task)} entries but y has {n_tasks} task(s); give one "
            "array of labels per task."
        )
    return [None if c is None else natural_dtype(np.unique(np.asarray(c))) for c in per_task]


def _check_labels_in_classes(labels: np.ndarray, classes: np.ndarray, name: str) -> None:
    """Every label of a later ``partial_fit`` batch must be one of the task's classes."""
    try:
        unknown = np.setdiff1d(np.unique(labels), classes)
    except TypeError:  # labels and classes of incomparable types
        unknown = np.unique(labels.astype(str))
    if unknown.size:
        raise ValueError(
            f"{name} of y has label(s) {unknown.tolist()[:5]!r} that are not among its "
            f"classes {classes.tolist()!r}; give every class in the first partial_fit "
            "call's classes=."
        )
