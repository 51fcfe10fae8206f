"""The estimator bases shared by every neural architecture.

An architecture subclass holds only its ``__init__``, its extra parameter
constraints and ``_build_module``. Everything else lives here: validation,
label encoding, building and training the skorch net inside ``fit``, the
output format and the tags.
"""

from __future__ import annotations

import copy
from numbers import Integral, Real

import numpy as np
import pandas as pd
import torch
from scipy.special import expit, softmax
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data
from skorch.callbacks import EarlyStopping, ProgressBar
from torch.nn.parallel import DistributedDataParallel

from . import nn
from ._checkpoint import CheckpointManifest, verified_checkpoint
from ._data import ShuffleSplitDataset, TensorBatchDataset
from ._distributed import check_accelerator, distributed_net_options
from ._divergence import CheckTrainedModel, StopOnNonFiniteLoss
from ._docstrings import DOCS, fill_doc
from ._inputs import InputEncoder, embedding_size
from ._net import EpochSeed, MultiTaskCriterion, TaskValidationScores
from .losses import FunnelPenalty, MaskedMultiTaskLoss
from .metrics import masked_r2_score, masked_subset_accuracy
from .nn import ACTIVATIONS
from .utils import check_multitask_sample_weight, check_multitask_y, task_name
from .utils._sklearn import HasMethods, Interval, StrOptions, _fit_context
from .weighting import WEIGHTINGS, Fixed, RecordTaskWeights, TaskWeighting

OPTIMIZERS: dict[str, type[torch.optim.Optimizer]] = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
    "rmsprop": torch.optim.RMSprop,
    "adagrad": torch.optim.Adagrad,
}
"""Optimizer names accepted by the ``optimizer`` parameter."""

PREDICT_CHUNK_ROWS = 65536
"""Rows encoded at a time in prediction, so that a large ``X`` is not copied whole."""

UNITS_CONSTRAINT = ["array-like", Interval(Integral, 1, None, closed="left")]

TRAINING_CONSTRAINTS = {
    "tower_units": UNITS_CONSTRAINT,
    "activation": [StrOptions(set(ACTIVATIONS))],
    "dropout": [Interval(Real, 0, 1, closed="left")],
    "max_epochs": [Interval(Integral, 1, None, closed="left")],
    "batch_size": [Interval(Integral, 1, None, closed="left")],
    "lr": [Interval(Real, 0, None, closed="neither")],
    "optimizer": [StrOptions(set(OPTIMIZERS)), type],
    "weight_decay": [Interval(Real, 0, None, closed="left")],
    "early_stopping": ["boolean"],
    "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
    "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
    "callbacks": [list, None],
    "device": [str, torch.device],
    "random_state": ["random_state"],
    "verbose": ["verbose"],
    "categorical_features": [StrOptions({"from_dtype"}), "array-like", None],
    "embedding_dim": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
    "loss_weighting": [StrOptions(set(WEIGHTINGS)), TaskWeighting],
    "task_weights": ["array-like", None],
    "accelerator": [HasMethods(["prepare", "backward"]), None],
    "warm_start": ["boolean"],
    "min_frequency": [
        Interval(Integral, 1, None, closed="left"),
        Interval(Real, 0, 1, closed="neither"),
        None,
    ],
}
"""Constraints of the parameters every neural estimator shares."""

FUNNEL_CONSTRAINTS = {
    "funnel": [tuple, list, None],
    "funnel_penalty": [Interval(Real, 0, None, closed="left")],
}
"""Constraints of the funnel option of the architectures that take it."""


def check_units(name: str, units, *, allow_empty: bool) -> tuple[int, ...]:
    """Return layer widths as a tuple of positive ints, or raise naming ``name``."""
    if isinstance(units, Integral):
        units = (units,)
    units = tuple(units)
    valid = all(isinstance(u, Integral) and not isinstance(u, bool) and u > 0 for u in units)
    if not valid or (not units and not allow_empty):
        expected = "a tuple of positive ints" + ("" if allow_empty else ", not empty")
        raise ValueError(f"{name} must be {expected}; got {units!r}.")
    return tuple(int(u) for u in units)


class MultiTaskEstimatorMixin:
    """Target tags and fit bookkeeping shared by every multi-task estimator."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.target_tags.single_output = True
        tags.target_tags.multi_output = True
        return tags

    def _forget_fit(self):
        """Drop every fitted attribute, so a failed ``fit`` leaves nothing behind."""
        fitted = [k for k in vars(self) if k.endswith("_") and not k.startswith("__")]
        private = ["_head_sizes", "_task_types", "_single_output", "_input_encoder", "_seed"]
        for name in fitted + private:
            self.__dict__.pop(name, None)


class BaseMultiTaskNet(MultiTaskEstimatorMixin, BaseEstimator):
    """Trains a torch module built by ``_build_module`` through a skorch net.

    Subclasses provide ``_build_module(n_features, head_sizes)`` and, through a
    task-type mixin, ``_encode_targets``.
    """

    def _build_module(self, n_features: int, head_sizes: list[int]) -> torch.nn.Module:
        raise NotImplementedError

    def _encode_targets(self, y, missing, single_output, known=None):
        """Return ``(encoded, task_types, head_sizes, fitted_attributes)``.

        ``known`` holds fitted attributes (``classes_`` as a list per task,
        target statistics, task types) to encode with instead of reading them
        from ``y``: ``partial_fit`` passes the first call's.
        """
        raise NotImplementedError

    def __sklearn_is_fitted__(self):
        return hasattr(self, "net_")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = str(self.device).startswith("cuda")
        return tags

    @fill_doc(DOCS)
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
        """Build and train the net: ``max_epochs`` epochs, or one for ``partial_fit``."""
        X = self._check_inputs(X, reset=True)
        inputs = InputEncoder(self.categorical_features, self.min_frequency, type(self).__name__)
        X = inputs.fit_transform(X)
        y, missing, single_output = check_multitask_y(
            y, X.shape[0], estimator_name=type(self).__name__
        )
        known = self._known_from_classes(classes, y.shape[1], single_output) if partial else None
        encoded, task_types, head_sizes, fitted = self._encode_targets(
            y, missing, single_output, known
        )
        weight = _loss_weights(sample_weight, missing)
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        fitted["is_categorical_"] = inputs.is_categorical
        device = self._check_device()
        cuda = [device] if device.type == "cuda" else []
        with torch.random.fork_rng(devices=cuda):
            net, seed, device = self._make_net(
                inputs, task_types, head_sizes, fitted, single_output, seed, partial
            )
            dataset = TensorBatchDataset(X, encoded, weight, device=device)
            if partial:
                net.partial_fit(dataset, y=None, epochs=1)
            elif resume_from is not None:
                net.initialize()
                net.load_params(checkpoint=verified_checkpoint(resume_from))
                remaining = self.max_epochs - len(net.history)
                if remaining > 0:
                    net.partial_fit(dataset, y=None, epochs=remaining)
            else:
                net.fit(dataset, y=None)
        net.device = device  # an accelerated net trains with device=None; predict needs it

        for name, value in fitted.items():
            setattr(self, name, value)
        self._input_encoder = inputs
        self._head_sizes = head_sizes
        self._task_types = task_types
        self._single_output = single_output
        self._seed = seed
        self.n_tasks_ = y.shape[1]
        self.net_ = net
        return self._read_training_state()

    def _make_net(self, inputs, task_types, head_sizes, fitted, single_output, seed, partial):
        """The skorch net of a fit, its module initialised from ``seed``: ``(net, seed, device)``.

        Seeds torch's global generator (call it inside ``fork_rng``). ``seed``
        comes back changed in data-parallel training (process 0's). Used by
        ``fit`` and by :func:`sklearn_mtl.load`, which then fills the net with
        saved weights.
        """
        device = self._check_device()
        weighting = self._make_weighting(task_types)
        accelerator = check_accelerator(self.accelerator, device, weighting, type(self).__name__)
        funnel = FunnelPenalty.from_parameter(
            getattr(self, "funnel", None),
            getattr(self, "funnel_penalty", 0.0),
            task_types,
            head_sizes,
            fitted,
            single_output,
        )
        net_class, options, seed, device = distributed_net_options(accelerator, seed, device)
        torch.manual_seed(seed)
        net = net_class(
            module=self._build_network(inputs, head_sizes),
            criterion=MultiTaskCriterion(MaskedMultiTaskLoss(task_types, head_sizes), weighting),
            penalty=funnel,
            optimizer=self._check_optimizer(),
            optimizer__weight_decay=self.weight_decay,
            lr=self.lr,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            iterator_train__shuffle=True,
            train_split=(
                ShuffleSplitDataset(self.validation_fraction, seed)
                if self.early_stopping and not partial
                else None
            ),
            callbacks=[("epoch_seed", EpochSeed(seed))]
            + self._make_callbacks(task_types, head_sizes, partial),
            # per-task lists stay in the history, out of the printed table
            callbacks__print_log__keys_ignored=["task_weights", "train_task_losses"],
            verbose=self.verbose,
            # On a GPU, read the batch losses once per epoch rather than
            # stalling the device after every step; the progress bar shows
            # them per batch, so it keeps the per-batch read.
            loss_sync="epoch" if device.type == "cuda" and self.verbose < 2 else "batch",
            **options,
        )
        return net, seed, device

    def _read_training_state(self):
        """The fitted attributes that change with every epoch, read off the net."""
        self.__dict__.update(self._fitted_from_module(self.net_.module_.model))
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

    def _train_more(self, X, y, sample_weight, classes, epochs: int):
        """``epochs`` more epochs of the fitted net on ``(X, y)``, encoded as in the first fit."""
        X = self._encode_inputs(X)
        y, missing, single_output = check_multitask_y(
            y, X.shape[0], estimator_name=type(self).__name__
        )
        if y.shape[1] != self.n_tasks_ or single_output != self._single_output:
            raise ValueError(
                f"y has {y.shape[1]} task(s){' (1-D)' if single_output else ''} but "
                f"{type(self).__name__} was first fitted with {self.n_tasks_}"
                f"{' (1-D)' if self._single_output else ''}."
            )
        known = self._known_targets()
        if classes is not None:
            given = self._known_from_classes(classes, y.shape[1], single_output)["classes_"]
            if any(not np.array_equal(a, b) for a, b in zip(given, known["classes_"])):
                raise ValueError(
                    f"classes={classes!r} is not the classes_ of the first fit ({self.classes_!r})."
                )
        encoded, *_ = self._encode_targets(y, missing, single_output, known)
        weight = _loss_weights(sample_weight, missing)
        device = self.net_.device
        cuda = [device] if device.type == "cuda" else []
        before = _training_state(self.net_)
        try:
            with torch.random.fork_rng(devices=cuda):  # each epoch seeds itself (EpochSeed)
                self.net_.partial_fit(
                    TensorBatchDataset(X, encoded, weight, device=device), y=None, epochs=epochs
                )
        except Exception:
            # e.g. a diverged epoch: the model stays the one fitted before this call
            _restore_training_state(self.net_, before)
            raise
        return self._read_training_state()

    def _known_from_classes(self, classes, n_tasks: int, single_output: bool):
        """``known`` targets of a first ``partial_fit`` call (none for regressors)."""
        return None

    def _known_targets(self) -> dict:
        """The fitted target encoding, as ``_encode_targets(known=...)`` takes it."""
        known = {
            name: getattr(self, name)
            for name in ("task_types_", "target_mean_", "target_scale_")
            if hasattr(self, name)
        }
        if hasattr(self, "classes_"):
            known["classes_"] = self._task_classes()
        return known

    def _build_network(self, inputs: InputEncoder, head_sizes: list[int]) -> nn.WithInputLayer:
        """The architecture behind an embedding layer when ``X`` has categorical columns."""
        input_layer = nn.Standardize(inputs.mean, inputs.scale)
        if inputs.encoder is not None:
            dims = [
                embedding_size(n) if self.embedding_dim == "auto" else self.embedding_dim
                for n in inputs.cardinalities
            ]
            input_layer = nn.TabularInput(input_layer, inputs.cardinalities, dims)
        width = input_layer.out_features
        return nn.WithInputLayer(input_layer, self._build_module(width, head_sizes))

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
        return validate_data(self, X, dtype=None, ensure_all_finite=False, reset=reset)

    def _encode_inputs(self, X) -> np.ndarray:
        check_is_fitted(self)
        return self._input_encoder.transform(self._check_inputs(X, reset=False))

    def _fitted_from_module(self, module: torch.nn.Module) -> dict:
        """Fitted attributes read off the trained architecture (none by default)."""
        return {}

    def _apply_module(self, X, function):
        """``function(architecture, encoded_batch)`` over ``X`` in batches, in eval mode.

        ``function`` returns a tensor or a list of tensors; the result is the
        concatenation over batches, as float64 arrays (a list for a list).
        """
        check_is_fitted(self)
        module, device = self.net_.module_, self.net_.device
        training = module.training
        module.eval()
        outputs = []
        try:
            with torch.no_grad():
                for encoded in self._encoded_chunks(X):
                    for i in range(0, len(encoded), self.batch_size):
                        x = torch.as_tensor(encoded[i : i + self.batch_size], device=device)
                        outputs.append(function(module.model, module.input_layer(x)))
        finally:
            module.train(training)
        if isinstance(outputs[0], list):
            return [_concatenate(parts) for parts in zip(*outputs)]
        return _concatenate(outputs)

    def _check_device(self) -> torch.device:
        try:
            device = torch.device(self.device)
        except RuntimeError:
            raise ValueError(
                f"The 'device' parameter of {type(self).__name__} must be a torch "
                f"device such as 'cpu' or 'cuda'. Got {self.device!r} instead."
            ) from None
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(
                f"device={self.device!r} was requested but CUDA is not available on "
                "this machine; use device='cpu'."
            )
        if device.type == "cuda" and device.index is None:
            device = torch.device("cuda", torch.cuda.current_device())
        return device

    def _check_optimizer(self) -> type[torch.optim.Optimizer]:
        if isinstance(self.optimizer, str):
            return OPTIMIZERS[self.optimizer]
        if not issubclass(self.optimizer, torch.optim.Optimizer):
            raise TypeError(
                f"The 'optimizer' parameter of {type(self).__name__} must be one of "
                f"{sorted(OPTIMIZERS)} or a torch.optim.Optimizer subclass. Got "
                f"{self.optimizer!r} instead."
            )
        return self.optimizer

    def _make_weighting(self, task_types) -> TaskWeighting:
        """A fresh weighting for this fit, set up for ``task_types``."""
        method = self.loss_weighting
        if self.task_weights is not None and method != "fixed":
            raise ValueError(
                "task_weights gives the weights of loss_weighting='fixed'; got "
                f"loss_weighting={method!r}."
            )
        if method == "fixed":
            if self.task_weights is None:
                raise ValueError("loss_weighting='fixed' needs task_weights, one per task.")
            weighting = Fixed(np.asarray(self.task_weights, dtype=float).ravel())
        elif isinstance(method, str):
            weighting = WEIGHTINGS[method]()
        else:
            weighting = copy.deepcopy(method)
        weighting.setup(task_types)
        return weighting

    def _make_callbacks(self, task_types, head_sizes, partial=False) -> list:
        callbacks = [
            ("stop_on_non_finite_loss", StopOnNonFiniteLoss(task_types)),
            ("record_task_weights", RecordTaskWeights()),
        ]
        if self.early_stopping and not partial:
            callbacks.append(("task_scores", TaskValidationScores(task_types, head_sizes)))
            callbacks.append(
                (
                    "early_stopping",
                    EarlyStopping(
                        monitor="valid_loss",
                        patience=self.n_iter_no_change,
                        load_best=True,
                        sink=print if self.verbose else _silent,
                    ),
                )
            )
        if self.verbose >= 2:
            callbacks.append(("progress_bar", ProgressBar()))
        # After the user's callbacks: a Checkpoint's files exist, and a callback that
        # loads the best weights at the end has done so, before these two run.
        last = [
            ("checkpoint_manifest", CheckpointManifest()),
            ("check_trained_model", CheckTrainedModel(task_types)),
        ]
        return callbacks + copy.deepcopy(list(self.callbacks or [])) + last

    def _predict_outputs(self, X) -> np.ndarray:
        """Raw network outputs, shape ``(n_samples, sum(head_sizes))``."""
        outputs = [
            self.net_.forward(TensorBatchDataset(encoded, device=self.net_.device))
            for encoded in self._encoded_chunks(X)
        ]
        return torch.cat(outputs).numpy().astype(np.float64)

    def _encoded_chunks(self, X):
        """``X`` checked, then encoded ``PREDICT_CHUNK_ROWS`` rows at a time.

        Prediction needs memory for ``X``, the outputs and one encoded chunk,
        not for an encoded copy of the whole of ``X``.
        """
        check_is_fitted(self)
        X = self._check_inputs(X, reset=False)
        rows = max(self.batch_size, PREDICT_CHUNK_ROWS)
        for start in range(0, X.shape[0], rows):
            part = X.iloc[start : start + rows] if hasattr(X, "iloc") else X[start : start + rows]
            yield self._input_encoder.transform(part)


def _training_state(net) -> tuple:
    """What training changes: history length, weights, optimizer state (copies)."""
    modules = {
        name: copy.deepcopy(getattr(net, name + "_").state_dict())
        for name in ("module", "criterion")
    }
    return len(net.history), modules, copy.deepcopy(net.optimizer_.state_dict())


def _restore_training_state(net, state: tuple) -> None:
    epochs, modules, optimizer = state
    for name, module_state in modules.items():
        module = getattr(net, name + "_")
        # a failed data-parallel epoch can leave the module in its DDP wrapper
        module = module.module if isinstance(module, DistributedDataParallel) else module
        module.load_state_dict(module_state)
    net.optimizer_.load_state_dict(optimizer)
    del net.history[epochs:]


def _silent(*args, **kwargs):
    """A sink for skorch callbacks that prints nothing."""


def _concatenate(tensors) -> np.ndarray:
    return torch.cat(list(tensors)).cpu().numpy().astype(np.float64)


class MultiTaskClassifierMixin(ClassifierMixin):
    """Label encoding and the multi-output classifier outputs.

    Each task may have its own label type and number of classes; a binary
    task has one logit, a ``C``-class task ``C`` logits.
    """

    def _encode_targets(self, y, missing, single_output, known=None):
        encoded = np.zeros(y.shape, dtype=np.float32)
        classes, task_types, head_sizes = [], [], []
        for t in range(y.shape[1]):
            rows = ~missing[:, t] if missing[:, t].any() else slice(None)
            labels = _natural_dtype(y[rows, t])
            if known is None:
                task_classes = np.unique(labels)
                # The label type depends only on the set of values: check the few uniques.
                check_classification_targets(task_classes)
            else:
                task_classes = known["classes_"][t]
                _check_labels_in_classes(labels, task_classes, task_name(t, single_output))
            if len(task_classes) < 2:
                raise ValueError(
                    f"{task_name(t, single_output)} of y has one class only "
                    f"({task_classes.tolist()[0]!r}); a classifier needs at least two classes "
                    "per task."
                )
            encoded[rows, t] = np.searchsorted(task_classes, labels)
            classes.append(task_classes)
            binary = len(task_classes) == 2
            task_types.append("binary" if binary else "multiclass")
            head_sizes.append(1 if binary else len(task_classes))
        fitted = {"classes_": classes[0] if single_output else classes}
        return encoded, task_types, head_sizes, fitted

    def _head_slices(self):
        """Slices of each task's logits in the outputs of ``_predict_outputs``."""
        start = 0
        for size in self._head_sizes:
            yield slice(start, start + size)
            start += size

    def _task_classes(self):
        return [self.classes_] if self._single_output else self.classes_

    def _known_from_classes(self, classes, n_tasks, single_output):
        return {"classes_": _classes_per_task(classes, n_tasks, single_output, type(self).__name__)}

    def predict_proba(self, X):
        """Class probabilities of every task.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        proba : list of n_tasks ndarrays of shape (n_samples, n_classes_t), or ndarray
            Probabilities of each task's classes in the order of ``classes_[t]``;
            one array when ``y`` was 1-D (as ``MultiOutputClassifier``).
        """
        outputs = self._predict_outputs(X)
        probas = [head_probabilities(outputs[:, head]) for head in self._head_slices()]
        return probas[0] if self._single_output else probas

    def predict(self, X):
        """Most probable label of every task.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        y_pred : ndarray of shape (n_samples, n_tasks) or (n_samples,)
            Labels in the original label type of each task.
        """
        probas = self.predict_proba(X)
        if self._single_output:
            return self.classes_[np.argmax(probas, axis=1)]
        return stack_task_columns([c[np.argmax(p, axis=1)] for c, p in zip(self.classes_, probas)])

    def score(self, X, y, sample_weight=None):
        """Subset accuracy: the share of rows whose observed labels are all right.

        Missing labels (NaN) are ignored; rows without any observed label do not
        count. Without missing labels this is ``MultiOutputClassifier.score``
        (and plain accuracy for 1-D ``y``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.
        y : array-like of shape (n_samples, n_tasks) or (n_samples,)
            True labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights.

        Returns
        -------
        score : float
        """
        return masked_subset_accuracy(y, self.predict(X), sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


def head_probabilities(logits: np.ndarray) -> np.ndarray:
    """Class probabilities of one task's logits: sigmoid of one logit, else softmax.

    Shape: ``(n_samples, 1 or n_classes) -> (n_samples, n_classes)``.
    """
    if logits.shape[1] == 1:
        positive = expit(logits[:, 0])
        return np.column_stack([1.0 - positive, positive])
    return softmax(logits, axis=1)


def stack_task_columns(columns: list[np.ndarray]) -> np.ndarray:
    """Per-task predictions as one ``(n_samples, n_tasks)`` array.

    Tasks of different types (labels and values, or several label types)
    give an object array, which keeps each value's type.
    """
    if len({column.dtype for column in columns}) == 1:
        return np.column_stack(columns)
    stacked = np.empty((len(columns[0]), len(columns)), dtype=object)
    for t, column in enumerate(columns):
        stacked[:, t] = column
    return stacked


def _loss_weights(sample_weight, missing: np.ndarray) -> np.ndarray | None:
    """Per-row, per-task loss weights, zero on missing labels; None when all are one."""
    weight = check_multitask_sample_weight(sample_weight, *missing.shape)
    weight[missing] = 0.0
    if not missing.any() and (weight == 1).all():
        return None  # the loss takes its cheaper unweighted path
    return weight


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


def _classes_per_task(classes, n_tasks: int, single_output: bool, estimator: str) -> list:
    """``classes=`` of a first ``partial_fit`` call as one sorted array per task."""
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
    return [None if c is None else _natural_dtype(np.unique(np.asarray(c))) for c in per_task]


def _natural_dtype(labels: np.ndarray) -> np.ndarray:
    """An object column whose labels share one type, as an array of that type.

    A mixed-type ``y`` arrives as an object array; its bool or int columns are
    recovered here so that their label type is recognised and kept.
    """
    if labels.dtype != object or len({type(label) for label in labels}) != 1:
        return labels
    return np.asarray(labels.tolist())


class MultiTaskRegressorMixin(RegressorMixin):
    """Numeric targets and the multi-output regression score."""

    def _encode_targets(self, y, missing, single_output, known=None):
        try:
            y = y.astype(np.float64)
        except (TypeError, ValueError):
            raise ValueError(
                f"{type(self).__name__} needs numeric targets; y has dtype {y.dtype}."
            ) from None
        n_tasks = y.shape[1]
        encoded = np.where(missing, 0.0, y)
        return encoded, ["regression"] * n_tasks, [1] * n_tasks, {}

    def predict(self, X):
        """Predicted targets of every task.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        y_pred : ndarray of shape (n_samples, n_tasks) or (n_samples,)
        """
        y_pred = self._predict_outputs(X)
        return y_pred[:, 0] if self._single_output else y_pred

    def score(self, X, y, sample_weight=None):
        """R^2 of each task on its observed rows, averaged over tasks.

        Without missing labels this equals ``RegressorMixin.score``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.
        y : array-like of shape (n_samples, n_tasks) or (n_samples,)
            True targets; NaN marks a missing one.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights.

        Returns
        -------
        score : float
        """
        return masked_r2_score(y, self.predict(X), sample_weight=sample_weight)


class MultiTaskClassifier(MultiTaskClassifierMixin, BaseMultiTaskNet):
    """Base of the neural multi-task classifiers."""

    @fill_doc(DOCS)
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

    @fill_doc(DOCS)
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

    def _encode_targets(self, y, missing, single_output, known=None):
        y, task_types, head_sizes, _ = super()._encode_targets(y, missing, single_output)
        observed = np.where(missing, np.nan, y)
        if known is None:
            mean = np.nanmean(observed, axis=0)
            scale = np.nanstd(observed, axis=0)
            scale[scale == 0] = 1.0
        else:  # a later partial_fit: the first call's standardisation
            mean, scale = known["target_mean_"], known["target_scale_"]
        encoded = np.where(missing, 0.0, (observed - mean) / scale).astype(np.float32)
        fitted = {"target_mean_": mean, "target_scale_": scale}
        return encoded, task_types, head_sizes, fitted

    def _predict_outputs(self, X):
        return super()._predict_outputs(X) * self.target_scale_ + self.target_mean_
