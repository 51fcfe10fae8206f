"""MultiTaskNet: any architecture, each task binary, multi-class or regression."""

import warnings

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.metrics import accuracy_score, r2_score
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_is_fitted

from .._task_encoders import TASK_TYPES, RegressionTask, classes_per_task, new_task, observed
from .._training.options import FUNNEL_CONSTRAINTS, TRAINING_CONSTRAINTS
from ..metrics import per_task_scores
from ..nn.numeric import PERIODIC_SIGMA
from ..utils import task_name
from ..utils._sklearn import StrOptions, _fit_context
from ._architecture import ARCHITECTURE_NAMES, Architecture, registered_architectures
from ._base import BaseMultiTaskNet, set_init_parameters
from ._docstrings import fill_doc
from ._network_docs import NETWORK_DOCS


def _has_classification_task(estimator) -> bool:
    """``predict_proba`` exists unless every task is known to be a regression task."""
    types = getattr(estimator, "task_types_", None)
    if types is None and estimator.task_types is not None:
        types = [str(kind) for kind in np.asarray(estimator.task_types, dtype=object).ravel()]
    return types is None or any(kind != "regression" for kind in types)


@fill_doc(NETWORK_DOCS)
class MultiTaskNet(BaseMultiTaskNet):
    """A multi-task network whose tasks may each be binary, multi-class or regression.

    scikit-learn's split into classifiers and regressors cannot express the
    recommender's classic case, click (binary) next to watch time
    (regression). Here every task has its own type and loss (logistic,
    softmax cross-entropy, squared error), ``predict`` returns every task in
    its own type, and ``predict_proba`` gives the class probabilities of the
    classification tasks.

    The network is a parameter object from :mod:`sklearn_mtl.architectures`
    (``MMoE(n_experts=4)``), the design of ``GaussianProcessRegressor``'s
    ``kernel``: the signature does not grow with every architecture, each
    architecture validates its own parameters, and a grid search reaches
    them with ``architecture__n_experts`` (or searches over architectures
    with ``architecture=[MMoE(), PLE()]``). A wrapped estimator
    (``MultiTaskNet(MMoERegressor())``) was the alternative; it would carry
    a second, ignored set of training parameters and a task type that
    MultiTaskNet overrides.

    Parameters
    ----------
    architecture : Architecture or str, default="mmoe"
        The network: an instance of :mod:`sklearn_mtl.architectures` (cloned
        at ``fit``), or the name of one with its default parameters, a key of
        ``sklearn_mtl.architectures.ARCHITECTURES`` ("mmoe", "ple",
        "shared_bottom", ...).

    task_types : list of {"binary", "multiclass", "regression", "probabilistic"} or None, \
default=None
        The type of each column of ``y``; ``None`` reads it from the labels
        with ``type_of_target``: two classes are binary, more multi-class,
        other numbers regression. A float column of more than two
        whole-number values (grams, prices) is regression too, with a
        warning: pass ``"multiclass"`` for it to read it as classes. A
        "probabilistic" column holds soft labels, ``P(class 1)`` in [0, 1]
        (e.g. a label model's output), learnt with the binary cross-entropy
        against them; it predicts the classes 0 and 1.

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

    stitch_matrices_ : list of ndarray of shape (n_tasks_, n_tasks_)
        With a ``CrossStitch`` architecture only: the learnt cross-stitch
        matrices.

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
    >>> from sklearn_mtl.architectures import MMoE
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((300, 5))
    >>> click = (X[:, 0] > 0).astype(int)
    >>> watch_time = np.where(click == 1, 10 + 3 * X[:, 1], 0.0)
    >>> y = np.column_stack([click, watch_time])
    >>> model = MultiTaskNet(MMoE(n_experts=4), task_types=["binary", "regression"],
    ...                      max_epochs=5, random_state=0).fit(X, y)
    >>> model.predict(X[:2]).shape, len(model.predict_proba(X[:2]))
    ((2, 2), 2)
    >>> model.predict_proba(X[:2])[1] is None  # a regression task has no probabilities
    True
    >>> model.get_params()["architecture__n_experts"]
    4
    """

    _parameter_constraints: dict = {
        "architecture": [StrOptions(ARCHITECTURE_NAMES), Architecture],
        "task_types": ["array-like", None],
        **TRAINING_CONSTRAINTS,
        **FUNNEL_CONSTRAINTS,
    }

    def __init__(
        self,
        architecture="mmoe",
        *,
        task_types=None,
        activation="relu",
        dropout=0.0,
        max_epochs=50,
        batch_size=256,
        lr=1e-3,
        optimizer="adam",
        weight_decay=0.0,
        lr_schedule="constant",
        early_stopping="auto",
        validation_fraction=0.1,
        n_iter_no_change=10,
        early_stopping_task=None,
        callbacks=None,
        device="cpu",
        random_state=None,
        verbose=0,
        categorical_features="from_dtype",
        embedding_dim="auto",
        min_frequency=None,
        numeric_embedding="linear",
        numeric_embedding_size=32,
        periodic_sigma=PERIODIC_SIGMA,
        numeric_missing="error",
        loss_weighting="equal",
        task_weights=None,
        loss_normalization="batch",
        accelerator=None,
        warm_start=False,
        compile=False,
        funnel=None,
        funnel_penalty=1.0,
    ):
        set_init_parameters(self, locals())

    def _architecture(self) -> Architecture:
        if isinstance(self.architecture, str):
            return registered_architectures()[self.architecture]()
        return clone(self.architecture)

    @fill_doc(NETWORK_DOCS)
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

    def _partial_fit_classes(self, classes, n_tasks, single_output):
        if classes is None:
            return None
        return classes_per_task(classes, n_tasks, single_output, "MultiTaskNet")

    def _infer_task_types(self, y, missing, single_output, classes) -> list[str]:
        """The type of each task: given, read off a first ``partial_fit``'s classes, or inferred."""
        n_tasks = y.shape[1]
        if self.task_types is not None:
            types = [str(kind) for kind in np.asarray(self.task_types, dtype=object).ravel()]
            if len(types) != n_tasks or not set(types) <= set(TASK_TYPES):
                raise ValueError(
                    f"task_types must list one of {list(TASK_TYPES)} per column of y "
                    f"({n_tasks}); got {self.task_types!r}."
                )
            return types
        if classes is not None:  # a first partial_fit call: the types follow from its classes
            return [
                "regression" if c is None else "binary" if len(c) == 2 else "multiclass"
                for c in classes
            ]
        inferred = []
        for t in range(n_tasks):
            labels = observed(y, missing, t)
            kind = type_of_target(labels)
            kind = "regression" if kind == "continuous" else kind
            if kind == "multiclass" and labels.dtype.kind == "f":
                kind = "regression"  # floats are measurements unless told otherwise
                warnings.warn(
                    f"{task_name(t, single_output)} of y holds floats with "
                    f"{len(np.unique(labels))} distinct whole-number values; MultiTaskNet "
                    "reads it as a regression task. To read it as classes, pass "
                    "task_types= with 'multiclass' for it (or give the column an integer "
                    "dtype).",
                    UserWarning,
                    stacklevel=4,
                )
            if kind not in ("binary", "multiclass", "regression"):
                raise ValueError(
                    f"The type of {task_name(t, single_output).lower()} of y cannot be "
                    f"read from its labels ({kind!r}); pass task_types."
                )
            inferred.append(kind)
        return inferred

    def _make_tasks(self, y, missing, single_output, classes=None):
        tasks = []
        for t, kind in enumerate(self._infer_task_types(y, missing, single_output, classes)):
            task = new_task(kind, None if classes is None else classes[t])
            tasks.append(task.fit(observed(y, missing, t), task_name(t, single_output)))
        return tasks

    @staticmethod
    def _fitted_attributes(tasks, single_output):
        regression = [isinstance(task, RegressionTask) for task in tasks]
        return {
            "task_types_": [task.kind for task in tasks],
            "classes_": [getattr(task, "classes", None) for task in tasks],
            "target_mean_": np.array([t.mean if r else 0.0 for t, r in zip(tasks, regression)]),
            "target_scale_": np.array([t.scale if r else 1.0 for t, r in zip(tasks, regression)]),
        }

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
        return self._predict_probas(X)

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
        check_is_fitted(self)
        columns = self._predict_columns(X)
        y_true = np.asarray(y.to_numpy() if hasattr(y, "to_numpy") else y, dtype=object)
        y_true = y_true.reshape(len(y_true), -1)
        scores = []
        for t, (task, pred) in enumerate(zip(self._fit_state.tasks, columns)):
            true = y_true[:, t]
            if isinstance(task, RegressionTask):  # missing targets (None, NaN) become NaN
                true = pd.to_numeric(pd.Series(true), errors="coerce").to_numpy()
                metric = r2_score
            else:
                metric = accuracy_score
                if task.kind == "probabilistic":  # soft labels scored as their hard labels
                    true = pd.to_numeric(pd.Series(true), errors="coerce").to_numpy()
                    true = np.where(np.isnan(true), np.nan, (true > 0.5).astype(float))
                    pred = pred.astype(float)
            scores.append(per_task_scores(true, pred, metric, sample_weight=sample_weight)[0])
        return float(np.nanmean(scores))
