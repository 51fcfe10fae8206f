"""MultiTaskNet: any architecture, each task binary, multi-class or regression."""

from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, r2_score
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted

from .._docstrings import DOCS, fill_doc
from ..base import (
    FUNNEL_CONSTRAINTS,
    TRAINING_CONSTRAINTS,
    UNITS_CONSTRAINT,
    BaseMultiTaskNet,
    _check_labels_in_classes,
    _classes_per_task,
    _natural_dtype,
    head_probabilities,
    stack_task_columns,
)
from ..inspection import GateInspectionMixin
from ..metrics import per_task_scores
from ..utils import task_name
from ..utils._sklearn import Interval, StrOptions, _fit_context
from ._cross_stitch import CrossStitchRegressor
from ._moe import MMoERegressor, OMoERegressor
from ._ple import PLERegressor
from ._shared_bottom import SharedBottomRegressor

ARCHITECTURES = {
    "shared_bottom": SharedBottomRegressor,
    "omoe": OMoERegressor,
    "mmoe": MMoERegressor,
    "ple": PLERegressor,
    "cross_stitch": CrossStitchRegressor,
}
"""Architectures of ``MultiTaskNet``, by name; each estimator builds its module."""

TASK_TYPES = ("binary", "multiclass", "regression")


def _has_classification_task(estimator) -> bool:
    """``predict_proba`` exists unless every task is known to be a regression task."""
    types = getattr(estimator, "task_types_", None)
    if types is None and estimator.task_types is not None:
        types = [str(kind) for kind in np.asarray(estimator.task_types, dtype=object).ravel()]
    return types is None or any(kind != "regression" for kind in types)


@fill_doc(DOCS)
class MultiTaskNet(GateInspectionMixin, BaseMultiTaskNet):
    """A multi-task network whose tasks may each be binary, multi-class or regression.

    scikit-learn's split into classifiers and regressors cannot express the
    recommender's classic case, click (binary) next to watch time
    (regression). Here every task has its own type and loss (logistic,
    softmax cross-entropy, squared error), ``predict`` returns every task in
    its own type, and ``predict_proba`` gives the class probabilities of the
    classification tasks. The architecture is a name; its parameters are all
    here, and those another architecture uses are ignored (as ``SVC``
    ignores ``degree`` unless ``kernel="poly"``).

    Parameters
    ----------
    architecture : {"shared_bottom", "omoe", "mmoe", "ple", "cross_stitch"}, default="mmoe"
        The network.

    task_types : list of {"binary", "multiclass", "regression"} or None, default=None
        The type of each column of ``y``; ``None`` reads it from the labels
        with ``type_of_target`` (floats that are not whole numbers are
        regression, two classes binary, more multi-class).

    n_experts : int, default=8
        Experts of "omoe" and "mmoe".

    expert_units : tuple of int, default=(64,)
        Layer widths of every expert ("omoe", "mmoe", "ple").

    gate_temperature : float, default=1.0
        Softmax temperature of the gates ("omoe", "mmoe", "ple").

    bottom_units : tuple of int, default=(128,)
        Layer widths of the shared bottom ("shared_bottom").

    n_task_experts : int, default=2
        Experts owned by each task at every level ("ple").

    n_shared_experts : int, default=2
        Shared experts at every level ("ple").

    n_levels : int, default=2
        Extraction levels ("ple").

    column_units : tuple of int, default=(64, 32)
        Layer widths of every task's column ("cross_stitch").

    stitch_init : float, default=0.9
        Initial diagonal of the stitch matrices ("cross_stitch").

    %(tower_parameters)s

    %(training_parameters)s

    %(funnel_parameters)s

    Attributes
    ----------
    task_types_ : list of str
        The type of each task.

    classes_ : list of (ndarray or None)
        The labels of each classification task; None for a regression task.

    target_mean_ : ndarray of shape (n_tasks_,)
        Mean of each regression task's targets (0 for a classification task).

    target_scale_ : ndarray of shape (n_tasks_,)
        Standard deviation of each regression task's targets (1 for a
        classification task).

    net_ : skorch.NeuralNet
        The trained skorch net.

    n_tasks_ : int
        Number of tasks.

    n_iter_ : int
        Number of epochs run.

    n_features_in_ : int
        Number of features seen during ``fit``.

    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during ``fit``, when ``X`` has string column
        names.

    is_categorical_ : ndarray of bool, shape (n_features_in_,)
        The columns embedded as categorical features.

    task_weights_ : ndarray of shape (n_tasks_,)
        The task-loss weights used in the last epoch.

    See Also
    --------
    MMoEClassifier, MMoERegressor : One task type for all tasks.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mtl import MultiTaskNet
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((300, 5))
    >>> click = (X[:, 0] > 0).astype(int)
    >>> watch_time = np.where(click == 1, 10 + 3 * X[:, 1], 0.0)
    >>> y = np.column_stack([click, watch_time])
    >>> model = MultiTaskNet(task_types=["binary", "regression"], max_epochs=5,
    ...                      random_state=0).fit(X, y)
    >>> model.predict(X[:2]).shape, len(model.predict_proba(X[:2]))
    ((2, 2), 2)
    >>> model.predict_proba(X[:2])[1] is None  # a regression task has no probabilities
    True
    """

    _parameter_constraints: dict = {
        "architecture": [StrOptions(set(ARCHITECTURES))],
        "task_types": ["array-like", None],
        "n_experts": [Interval(Integral, 1, None, closed="left")],
        "expert_units": UNITS_CONSTRAINT,
        "gate_temperature": [Interval(Real, 0, None, closed="neither")],
        "bottom_units": UNITS_CONSTRAINT,
        "n_task_experts": [Interval(Integral, 0, None, closed="left")],
        "n_shared_experts": [Interval(Integral, 0, None, closed="left")],
        "n_levels": [Interval(Integral, 1, None, closed="left")],
        "column_units": UNITS_CONSTRAINT,
        "stitch_init": [Interval(Real, 0, 1, closed="both")],
        **TRAINING_CONSTRAINTS,
        **FUNNEL_CONSTRAINTS,
    }

    def __init__(
        self,
        architecture="mmoe",
        *,
        task_types=None,
        n_experts=8,
        expert_units=(64,),
        gate_temperature=1.0,
        bottom_units=(128,),
        n_task_experts=2,
        n_shared_experts=2,
        n_levels=2,
        column_units=(64, 32),
        stitch_init=0.9,
        tower_units=(32,),
        activation="relu",
        dropout=0.0,
        max_epochs=50,
        batch_size=256,
        lr=1e-3,
        optimizer="adam",
        weight_decay=0.0,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        callbacks=None,
        device="cpu",
        random_state=None,
        verbose=0,
        categorical_features="from_dtype",
        embedding_dim="auto",
        min_frequency=None,
        loss_weighting="equal",
        task_weights=None,
        accelerator=None,
        warm_start=False,
        funnel=None,
        funnel_penalty=1.0,
    ):
        self.architecture = architecture
        self.task_types = task_types
        self.n_experts = n_experts
        self.expert_units = expert_units
        self.gate_temperature = gate_temperature
        self.bottom_units = bottom_units
        self.n_task_experts = n_task_experts
        self.n_shared_experts = n_shared_experts
        self.n_levels = n_levels
        self.column_units = column_units
        self.stitch_init = stitch_init
        self.tower_units = tower_units
        self.activation = activation
        self.dropout = dropout
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.callbacks = callbacks
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.categorical_features = categorical_features
        self.embedding_dim = embedding_dim
        self.min_frequency = min_frequency
        self.loss_weighting = loss_weighting
        self.task_weights = task_weights
        self.accelerator = accelerator
        self.warm_start = warm_start
        self.funnel = funnel
        self.funnel_penalty = funnel_penalty

    def _build_module(self, n_features, head_sizes):
        builder = ARCHITECTURES[self.architecture]
        own = self.get_params(deep=False)
        params = {name: own[name] for name in builder._get_param_names() if name in own}
        return builder(**params)._build_module(n_features, head_sizes)

    @fill_doc(DOCS)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Train one epoch on ``(X, y)``, continuing from the last call.

        The first call builds the network (input and target standardisation,
        categories, and the classes of every task are learnt from its batch,
        unless ``classes`` gives them, with None for a regression task);
        later calls continue training, so data too large for memory can be
        fed batch after batch (see ``sklearn_mtl.stream``). ``early_stopping``
        does not apply.

        Parameters
        ----------
        %(partial_fit_parameters)s

        Returns
        -------
        self : object
            The estimator, trained one more epoch.
        """
        return self._partial_fit(X, y, classes, sample_weight)

    def _known_from_classes(self, classes, n_tasks, single_output):
        if classes is None:
            return None
        return {"classes_": _classes_per_task(classes, n_tasks, single_output, "MultiTaskNet")}

    def _task_classes(self):
        return self.classes_

    def _check_task_types(self, y, missing, single_output) -> list[str]:
        n_tasks = y.shape[1]
        if self.task_types is None:
            inferred = []
            for t in range(n_tasks):
                kind = type_of_target(_natural_dtype(y[~missing[:, t], t]))
                kind = "regression" if kind == "continuous" else kind
                if kind not in TASK_TYPES:
                    raise ValueError(
                        f"The type of {task_name(t, single_output).lower()} of y cannot be "
                        f"read from its labels ({kind!r}); pass task_types."
                    )
                inferred.append(kind)
            return inferred
        types = [str(kind) for kind in np.asarray(self.task_types, dtype=object).ravel()]
        if len(types) != n_tasks or not set(types) <= set(TASK_TYPES):
            raise ValueError(
                f"task_types must list one of {list(TASK_TYPES)} per column of y "
                f"({n_tasks}); got {self.task_types!r}."
            )
        return types

    def _encode_targets(self, y, missing, single_output, known=None):
        known = known or {}
        known_classes = known.get("classes_")
        types = known.get("task_types_")
        if types is None and known_classes is not None and self.task_types is None:
            types = [  # a first partial_fit call: the types follow from its classes
                "regression" if c is None else "binary" if len(c) == 2 else "multiclass"
                for c in known_classes
            ]
        if types is None:
            types = self._check_task_types(y, missing, single_output)
        n_tasks = y.shape[1]
        encoded = np.zeros(y.shape, dtype=np.float32)
        classes, head_sizes = [], []
        mean, scale = np.zeros(n_tasks), np.ones(n_tasks)
        for t, kind in enumerate(types):
            rows = ~missing[:, t]
            labels = _natural_dtype(y[rows, t])
            name = task_name(t, single_output)
            if kind == "regression":
                try:
                    values = labels.astype(np.float64)
                except (TypeError, ValueError):
                    raise ValueError(f"{name} of y is a regression task but not numeric.") from None
                if "target_mean_" in known:
                    mean[t], scale[t] = known["target_mean_"][t], known["target_scale_"][t]
                else:
                    mean[t], scale[t] = values.mean(), values.std() or 1.0
                encoded[rows, t] = (values - mean[t]) / scale[t]
                classes.append(None)
                head_sizes.append(1)
                continue
            if known_classes is None:
                task_classes = np.unique(labels)
                check_classification_targets(task_classes)
            else:
                task_classes = known_classes[t]
                _check_labels_in_classes(labels, task_classes, name)
            if len(task_classes) < 2 or (kind == "binary" and len(task_classes) > 2):
                raise ValueError(
                    f"{name} of y is a {kind} task with {len(task_classes)} class(es) "
                    f"({task_classes.tolist()[:5]!r}); a binary task needs 2 classes, a "
                    "multiclass one at least 2."
                )
            encoded[rows, t] = np.searchsorted(task_classes, labels)
            classes.append(task_classes)
            head_sizes.append(1 if kind == "binary" else len(task_classes))
        fitted = {
            "task_types_": types,
            "classes_": classes,
            "target_mean_": mean,
            "target_scale_": scale,
        }
        return encoded, types, head_sizes, fitted

    def _task_outputs(self, X) -> list[np.ndarray]:
        outputs = self._predict_outputs(X)
        heads, start = [], 0
        for size in self._head_sizes:
            heads.append(outputs[:, start : start + size])
            start += size
        return heads

    @available_if(_has_classification_task)
    def predict_proba(self, X):
        """Class probabilities of every classification task.

        Available when at least one task is a classification task.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        proba : list of n_tasks (ndarray of shape (n_samples, n_classes_t) or None)
            None for a regression task; one array when ``y`` was 1-D.
        """
        check_is_fitted(self)
        probas = []
        for kind, head in zip(self.task_types_, self._task_outputs(X)):
            probas.append(None if kind == "regression" else head_probabilities(head))
        return probas[0] if self._single_output else probas

    def predict(self, X):
        """Every task's prediction in its own type.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        y_pred : ndarray of shape (n_samples, n_tasks) or (n_samples,)
            Labels for classification tasks, values for regression tasks; an
            object array when the tasks' types differ.
        """
        columns = self._predict_columns(X)
        return columns[0] if self._single_output else stack_task_columns(columns)

    def _predict_columns(self, X) -> list[np.ndarray]:
        """Each task's predictions in its own dtype: labels, or values."""
        check_is_fitted(self)
        columns = []
        heads = self._task_outputs(X)
        for t, (kind, head) in enumerate(zip(self.task_types_, heads)):
            if kind == "regression":
                columns.append(head[:, 0] * self.target_scale_[t] + self.target_mean_[t])
            else:
                index = (head[:, 0] > 0).astype(int) if kind == "binary" else head.argmax(axis=1)
                columns.append(self.classes_[t][index])
        return columns

    def score(self, X, y, sample_weight=None):
        """Mean over tasks of accuracy (classification tasks) and R^2 (regression tasks).

        Each task is scored on its labelled rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.
        y : array-like of shape (n_samples, n_tasks) or (n_samples,)
            True labels and targets; NaN marks a missing one.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights.

        Returns
        -------
        score : float
        """
        # Each task is scored in its own dtype: predict()'s stacked array is of
        # dtype object or float when the types mix, and scikit-learn reads an
        # object column of floats as an "unknown" target.
        columns = self._predict_columns(X)
        y_true = np.asarray(y.to_numpy() if hasattr(y, "to_numpy") else y, dtype=object)
        y_true = y_true.reshape(len(y_true), -1)
        scores = []
        for t, (kind, pred) in enumerate(zip(self.task_types_, columns)):
            true = y_true[:, t]
            if kind == "regression":  # missing targets (None, NaN) become NaN
                true = pd.to_numeric(pd.Series(true), errors="coerce").to_numpy()
                metric = r2_score
            else:
                metric = accuracy_score
            scores.append(per_task_scores(true, pred, metric, sample_weight=sample_weight)[0])
        return float(np.nanmean(scores))
