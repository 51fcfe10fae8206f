"""The estimator bases shared by every neural architecture.

An architecture's estimators hold only their signature, their
``_parameter_constraints`` and the :class:`~sklearn_mtl.estimators._architecture.Architecture`
they build (``_architecture_class``). Everything else lives here and flows
one way in ``fit``: validate ``X`` and ``y``, encode the inputs, build the
task encoders and encode the targets, build the net
(:func:`~sklearn_mtl._training.builder.build_net`) from the training options
resolved once, the architecture and the
:class:`~sklearn_mtl.estimators._fit_state.FitState`, train, store the fitted state.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from .._task_encoders import (
    ProbabilisticBinaryTask,
    classes_per_task,
    classification_task,
    encode_targets,
    observed,
)
from .._training.builder import build_net
from .._training.data import TensorBatchDataset
from .._training.inputs import InputEncoder
from .._training.options import TrainingOptions
from .._training.snapshot import restore_snapshot, training_snapshot
from ..inspection import GateInspectionMixin
from ..utils import check_multitask_y, task_name
from ..utils._sklearn import _fit_context
from ._docstrings import fill_doc
from ._fit_state import FitState
from ._multioutput import (
    MultiTaskClassifierMixin,
    MultiTaskEstimatorMixin,
    MultiTaskRegressorMixin,
)
from ._network_docs import NETWORK_DOCS
from ._numeric_choice import best_fit, numeric_embedding_candidates
from ._parameters import with_parameters_added_later
from ._prediction import BatchedPredictionMixin
from ._targets import check_weighted_classes, loss_weights, same_classes, soft_labels
from ._training_run import Trained, train_net


def set_init_parameters(estimator, arguments: dict) -> None:
    """Store ``__init__``'s arguments on ``estimator`` unchanged, and nothing else.

    Every estimator's ``__init__`` is its explicit signature (scikit-learn
    reads the parameters from it) and one call of this with ``locals()``.
    """
    for name in type(estimator)._get_param_names():
        setattr(estimator, name, arguments[name])


class BaseMultiTaskNet(
    BatchedPredictionMixin, GateInspectionMixin, MultiTaskEstimatorMixin, BaseEstimator
):
    """Trains the module of an :class:`Architecture` through a skorch net.

    Subclasses set ``_architecture_class`` (or override ``_architecture``)
    and, through a task-type mixin, ``_make_tasks`` and
    ``_fitted_attributes``.
    """

    _architecture_class: type = None

    def _architecture(self):
        """The architecture that this estimator's parameters describe."""
        return self._architecture_class.from_estimator(self)

    def __sklearn_is_fitted__(self):
        return hasattr(self, "net_")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = str(self.device).startswith("cuda")
        tags.input_tags.allow_nan = getattr(self, "numeric_missing", "error") == "learn"
        # scipy sparse X is read as numbers, its batches made dense on the device
        tags.input_tags.sparse = not tags.input_tags.allow_nan and (
            getattr(self, "numeric_embedding", "linear") != "piecewise_linear"
        )
        return tags

    def __setstate__(self, state):
        """Unpickle; an estimator pickled before a parameter existed gets its default."""
        super().__setstate__(with_parameters_added_later(type(self), state))

    @fill_doc(NETWORK_DOCS)
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, resume_from=None):
        """Train the network on ``X`` and the multi-task target ``y``.

        With ``warm_start=True`` on a fitted estimator, ``max_epochs`` more
        epochs continue from the fitted state instead.

        Parameters
        ----------
        %(fit_parameters)s
        resume_from : str, path-like, skorch.callbacks.Checkpoint or None, default=None
            Resume an interrupted fit from the checkpoint that a skorch
            ``Checkpoint`` callback (``callbacks=[Checkpoint(dirname=...,
            monitor=None)]``) wrote during it: the weights, optimizer, loss
            and history are loaded and the remaining ``max_epochs - epochs
            done`` epochs run. With the same data and ``random_state`` the
            result equals the uninterrupted fit's (each epoch's row order and
            dropout are seeded from ``random_state`` and the epoch number).

        Returns
        -------
        self : object
            The fitted estimator.
        """
        if self.warm_start and hasattr(self, "net_") and resume_from is None:
            return self._train_more(X, y, sample_weight, None, epochs=self.max_epochs)
        try:
            return self._fit(X, y, sample_weight, resume_from=resume_from)
        except BaseException:
            self._forget_fit()
            raise

    def _fit(self, X, y, sample_weight, partial=False, classes=None, resume_from=None):
        """Build and train the net: ``max_epochs`` epochs, or one for ``partial_fit``.

        ``numeric_embedding="auto"`` trains one net per candidate embedding and
        keeps the best on validation (:mod:`~sklearn_mtl.estimators._numeric_choice`).
        """
        self._forget_fit()  # a new fit: nothing of an earlier one may shape this one
        X = self._check_inputs(X, reset=True)
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        kinds = numeric_embedding_candidates(self, X, partial, resume_from)
        # in data-parallel training, only the main process prints (as skorch's table)
        talk = self.verbose and getattr(self.accelerator, "is_main_process", True)
        fits = []
        for kind in kinds:
            if talk and len(kinds) > 1:
                print(f"numeric_embedding='auto': training with {kind!r}")
            fits.append(self._train(X, y, sample_weight, kind, seed, partial, classes, resume_from))
        fit = best_fit(fits, self.early_stopping_task, talk)
        self.__dict__.update(self._fitted_attributes(fit.state.tasks, fit.state.single_output))
        self.is_categorical_ = fit.state.inputs.is_categorical
        self._fit_state = fit.state
        self.n_tasks_ = len(fit.state.tasks)
        self.net_ = fit.net
        return self._read_training_state(self._architecture())

    def _train(self, X, y, sample_weight, kind, seed, partial, classes, resume_from):
        """One net with numeric embedding ``kind``, trained: a :class:`Trained`."""
        inputs = InputEncoder(
            self.categorical_features, self.min_frequency, type(self).__name__,
            numeric_embedding=kind, n_bins=self.numeric_embedding_size,
            allow_missing=self.numeric_missing == "learn",
        )  # fmt: skip
        X = inputs.fit_transform(X)
        y, missing, single_output = check_multitask_y(
            y, X.shape[0], estimator_name=type(self).__name__
        )
        if partial:
            classes = self._partial_fit_classes(classes, y.shape[1], single_output)
        tasks = self._make_tasks(y, missing, single_output, classes)
        encoded = encode_targets(tasks, y, missing, single_output, check=False)
        self._check_targets(encoded, missing)
        weight = loss_weights(sample_weight, missing)
        if not partial:  # a first partial_fit batch may lack a class that it declares
            check_weighted_classes(tasks, encoded, weight, single_output)
        state = FitState(tasks, single_output, inputs, seed)
        options = self._training_options(n_samples=X.shape[0], partial=partial)
        architecture = self._architecture()
        device = options.device
        with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
            labelled = int((~missing).any(axis=1).sum())  # rows that some task learns from
            members = architecture.fit_build_arguments(labelled, partial)
            net, state, device = build_net(options, architecture, state, build_arguments=members)
            dataset = TensorBatchDataset(X, encoded, weight, device=device)
            train_net(net, dataset, architecture, partial, resume_from, self.max_epochs)
        net.device = device  # an accelerated net trains with device=None; predict needs it
        return Trained(kind, net, state)

    @property
    def numeric_embedding_(self) -> str:
        """The numeric embedding the fitted network uses (what ``"auto"`` chose)."""
        if not hasattr(self, "_fit_state"):
            raise AttributeError("numeric_embedding_ is set by fit.")
        return getattr(self._fit_state.inputs, "numeric_embedding", "linear")

    def _training_options(self, **resolve) -> TrainingOptions:
        """This estimator's training parameters, resolved for one fit (see ``TrainingOptions``)."""
        return TrainingOptions.resolve(
            self.get_params(deep=False),
            estimator_name=type(self).__name__,
            feature_names=getattr(self, "feature_names_in_", None),
            **resolve,
        )

    def _net_recipe(self, **resolve) -> tuple:
        """What ``build_net`` takes to rebuild this fitted estimator's net.

        ``(options, architecture, build_arguments)``: the options resolved with
        ``resolve``, the architecture, and the build arguments of its fitted
        shape. :func:`sklearn_mtl.load` builds the net from these, then hands
        it over through :meth:`_restore`.
        """
        architecture = self._architecture()
        build_arguments = architecture.fitted_build_arguments(self)
        return self._training_options(**resolve), architecture, build_arguments

    def _restore(self, net, architecture) -> None:
        """Take ``net`` (rebuilt from a file, its history loaded) as the fitted net."""
        self.net_ = net
        self._read_training_state(architecture)

    def _read_training_state(self, architecture):
        """The fitted attributes that change with every epoch, read off the net."""
        self.__dict__.update(architecture.fitted_attributes(self.net_.module_.model))
        self.task_weights_ = np.asarray(self.net_.history[-1, "task_weights"])
        self.n_iter_ = len(self.net_.history)
        return self

    def _partial_fit(self, X, y, classes, sample_weight):
        """One epoch over ``(X, y)``; the first call builds the net, later ones continue."""
        if not hasattr(self, "net_"):
            try:
                return self._fit(X, y, sample_weight, partial=True, classes=classes)
            except BaseException:
                self._forget_fit()
                raise
        return self._train_more(X, y, sample_weight, classes, epochs=1)

    def _partial_fit_classes(self, classes, n_tasks: int, single_output: bool):
        """The classes of a first ``partial_fit`` call, per task (none for regressors)."""
        return None

    def _check_targets(self, encoded, missing) -> None:
        """Checks of the encoded targets that involve several tasks (none by default)."""

    def _train_more(self, X, y, sample_weight, classes, epochs: int):
        """``epochs`` more epochs of the fitted net on ``(X, y)``, encoded as in the first fit."""
        X = self._encode_inputs(X)
        y, missing, single_output = check_multitask_y(
            y, X.shape[0], estimator_name=type(self).__name__
        )
        state = self._fit_state
        if y.shape[1] != self.n_tasks_ or single_output != state.single_output:
            raise ValueError(
                f"y has {y.shape[1]} task(s){' (1-D)' if single_output else ''} but "
                f"{type(self).__name__} was first fitted with {self.n_tasks_}"
                f"{' (1-D)' if state.single_output else ''}."
            )
        if classes is not None:
            given = self._partial_fit_classes(classes, y.shape[1], single_output)
            known = [getattr(task, "classes", None) for task in state.tasks]
            if any(not same_classes(a, b) for a, b in zip(given, known)):
                raise ValueError(
                    f"classes={classes!r} is not the classes_ of the first fit ({self.classes_!r})."
                )
        encoded = encode_targets(state.tasks, y, missing, single_output)
        self._check_targets(encoded, missing)
        weight = loss_weights(sample_weight, missing)
        device = self.net_.device
        before = training_snapshot(self.net_)
        try:  # each epoch seeds itself (EpochSeed)
            with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
                self.net_.partial_fit(
                    TensorBatchDataset(X, encoded, weight, device=device), y=None, epochs=epochs
                )
        except Exception:
            # e.g. a diverged epoch, or a callback's error: the model stays the one
            # fitted before this call, and the error is the one raised
            restore_snapshot(self.net_, before)
            raise
        return self._read_training_state(self._architecture())

    def _check_inputs(self, X, reset: bool):
        """Check ``X``'s shape and feature names; a DataFrame keeps its dtypes."""
        if isinstance(X, pd.DataFrame):
            validate_data(self, X, skip_check_array=True, reset=reset)
            if 0 in X.shape:
                raise ValueError(
                    f"X has shape {X.shape}; {type(self).__name__} needs at least one sample "
                    "and one feature column."
                )
            return X
        return validate_data(
            self, X, dtype=None, ensure_all_finite=False, accept_sparse="csr", reset=reset
        )

    def _encode_inputs(self, X) -> np.ndarray:
        check_is_fitted(self)
        return self._fit_state.inputs.transform(self._check_inputs(X, reset=False))


class MultiTaskClassifier(MultiTaskClassifierMixin, BaseMultiTaskNet):
    """Base of the neural multi-task classifiers.

    A column of ``y`` holding floats in [0, 1] that are not all 0 or 1 is a
    probabilistic label, ``P(class 1)`` (what a label model of
    :mod:`sklearn_mtl.weak` gives): that task is binary with classes
    ``[0, 1]`` and learns from the cross-entropy against the soft labels, as
    Snorkel's noise-aware end models do; NaN is a missing label, as always.
    """

    def score(self, X, y, sample_weight=None):
        """Subset accuracy (as ``MultiTaskClassifierMixin.score``); soft labels count as ``> 0.5``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.
        y : array-like of shape (n_samples, n_tasks) or (n_samples,)
            True labels, or probabilistic labels (``P(class 1)``), which are
            read as their most likely class; NaN marks a missing label.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights.

        Returns
        -------
        score : float
        """
        array = np.asarray(y)
        if array.dtype.kind == "f":
            columns = array.reshape(len(array), -1)
            soft = [t for t in range(columns.shape[1])
                    if soft_labels(columns[~np.isnan(columns[:, t]), t])]  # fmt: skip
            if soft:
                columns = columns.copy()
                for t in soft:
                    known = ~np.isnan(columns[:, t])
                    columns[known, t] = (columns[known, t] > 0.5).astype(float)
                y = columns.reshape(array.shape)
        return super().score(X, y, sample_weight=sample_weight)

    def _make_tasks(self, y, missing, single_output, classes=None) -> list:
        tasks = super()._make_tasks(y, missing, single_output, classes) if classes else None
        if tasks is not None:
            return tasks  # partial_fit's declared classes: hard labels
        return [
            ProbabilisticBinaryTask().fit(labels, task_name(t, single_output))
            if soft_labels(labels)
            else classification_task(labels, task_name(t, single_output))
            for t, labels in ((t, observed(y, missing, t)) for t in range(y.shape[1]))
        ]

    def _partial_fit_classes(self, classes, n_tasks, single_output):
        return classes_per_task(classes, n_tasks, single_output, type(self).__name__)

    @fill_doc(NETWORK_DOCS)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Train one epoch on ``(X, y)``, continuing from the last call.

        The first call builds the network (the input standardisation and
        categories are learnt from its batch) and needs every class of every
        task in ``classes``; later calls continue training, so data too large
        for memory can be fed batch after batch (see ``sklearn_mtl.stream``).
        ``early_stopping`` does not apply.

        Parameters
        ----------
        %(partial_fit_parameters)s

        Returns
        -------
        self : object
            The estimator, trained one more epoch.
        """
        return self._partial_fit(X, y, classes, sample_weight)


class MultiTaskRegressor(MultiTaskRegressorMixin, BaseMultiTaskNet):
    """Base of the neural multi-task regressors: targets standardised per task."""

    _standardize_targets = True

    @fill_doc(NETWORK_DOCS)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Train one epoch on ``(X, y)``, continuing from the last call.

        The first call builds the network; the input and target
        standardisation (and the categories) are learnt from its batch. Later
        calls continue training, so data too large for memory can be fed batch
        after batch (see ``sklearn_mtl.stream``). ``early_stopping`` does not
        apply.

        Parameters
        ----------
        %(fit_parameters)s

        Returns
        -------
        self : object
            The estimator, trained one more epoch.
        """
        return self._partial_fit(X, y, None, sample_weight)
