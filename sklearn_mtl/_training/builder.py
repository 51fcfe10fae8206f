"""The training parameters every network shares, and the function that builds the skorch net.

:func:`build_net` turns an estimator's parameters and a
:class:`~sklearn_mtl.estimators._fit_state.FitState` into the skorch net that trains it:
``fit``, ``partial_fit``, the data-parallel path and
:func:`sklearn_mtl.load` all build it here.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import math
from numbers import Integral, Real

import numpy as np
import torch
from skorch.callbacks import Callback, EarlyStopping, LRScheduler, ProgressBar

from .. import nn
from ..losses import FunnelPenalty, MaskedMultiTaskLoss
from ..nn import ACTIVATIONS
from ..utils._sklearn import HasMethods, Interval, StrOptions
from ..weighting import WEIGHTINGS, Fixed, RecordTaskWeights, TaskWeighting
from .checkpoint import CheckpointManifest
from .data import ShuffleSplitDataset
from .distributed import check_accelerator, distributed_net_options
from .divergence import CheckTrainedModel, StopOnNonFiniteLoss
from .inputs import embedding_size
from .net import EpochSeed, MultiTaskCriterion, RewindOnInterrupt, TaskValidationScores

OPTIMIZERS: dict[str, type[torch.optim.Optimizer]] = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
    "rmsprop": torch.optim.RMSprop,
    "adagrad": torch.optim.Adagrad,
}
"""Optimizer names accepted by the ``optimizer`` parameter."""

COMPILE_MODES = ("default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")
"""``torch.compile``'s modes, accepted by the ``compile`` parameter besides True and False."""

FUSED_OPTIMIZERS = ("adam", "adamw", "sgd", "adagrad")
"""Named optimizers that run fused (one kernel updates every parameter) where torch can.

Measured on this project's 2-core CPU (``benchmarks/results/throughput-cpu.md``):
fused Adam takes 13-18 % less time per step than torch's default per-tensor
loop on the small networks, where the optimizer is a large share of a step.
"""

LR_SCHEDULES = ("constant", "cosine")
"""Learning-rate schedules accepted by the ``lr_schedule`` parameter."""

COSINE_FINAL_FACTOR = 0.01
"""The cosine schedule's last epoch runs at this fraction of ``lr``."""


def cosine_factor(epoch: int, period: int) -> float:
    """The fraction of ``lr`` that the cosine schedule gives ``epoch`` (counted from 0).

    One half-cosine from 1 at the first epoch to :data:`COSINE_FINAL_FACTOR` at
    epoch ``period - 1``; later epochs (``warm_start``, ``partial_fit`` after
    ``fit``) start a new cycle of the same length, as in SGDR's warm restarts.
    """
    if period <= 1:
        return 1.0
    progress = (epoch % period) / (period - 1)
    return COSINE_FINAL_FACTOR + (1 - COSINE_FINAL_FACTOR) * 0.5 * (
        1 + math.cos(math.pi * progress)
    )


EARLY_STOPPING_MIN_SAMPLES = 1000
"""``early_stopping="auto"`` stops early from this many training rows on (its 10 %
validation split then has 100 rows or more); ``benchmarks/defaults.py`` measures it."""


def uses_early_stopping(setting, n_samples: int) -> bool:
    """Whether a fit on ``n_samples`` rows holds out a validation split and stops early."""
    if setting == "auto":
        return n_samples >= EARLY_STOPPING_MIN_SAMPLES
    return bool(setting)


MAX_NUMERIC_EMBEDDING_SIZE = 256
"""Most bins (or frequencies) per numeric column: a file cannot size a layer beyond it."""

TRAINING_CONSTRAINTS = {
    "activation": [StrOptions(set(ACTIVATIONS))],
    "dropout": [Interval(Real, 0, 1, closed="left")],
    "max_epochs": [Interval(Integral, 1, None, closed="left")],
    "batch_size": [Interval(Integral, 1, None, closed="left")],
    "lr": [Interval(Real, 0, None, closed="neither")],
    "optimizer": [StrOptions(set(OPTIMIZERS)), type],
    "weight_decay": [Interval(Real, 0, None, closed="left")],
    "lr_schedule": [StrOptions(set(LR_SCHEDULES))],
    "early_stopping": ["boolean", StrOptions({"auto"})],
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
    "compile": ["boolean", StrOptions(set(COMPILE_MODES))],
    "min_frequency": [
        Interval(Integral, 1, None, closed="left"),
        Interval(Real, 0, 1, closed="neither"),
        None,
    ],
    "numeric_embedding": [StrOptions(set(nn.NUMERIC_EMBEDDINGS))],
    "numeric_embedding_size": [Interval(Integral, 2, MAX_NUMERIC_EMBEDDING_SIZE, closed="both")],
    "numeric_missing": [StrOptions({"error", "learn"})],
    "periodic_sigma": [Interval(Real, 0, None, closed="neither")],
}
"""Constraints of the training parameters every neural estimator shares."""

FUNNEL_CONSTRAINTS = {
    "funnel": [tuple, list, None],
    "funnel_penalty": [Interval(Real, 0, None, closed="left")],
}
"""Constraints of the funnel option of the architectures that take it."""


def build_net(
    estimator,
    state,
    *,
    partial: bool = False,
    early_stopping: bool = False,
    lr_schedule: bool | None = None,
):
    """The skorch net that trains ``estimator`` on tasks of ``state``: ``(net, state, device)``.

    The module is initialised from ``state.seed``, which seeds torch's global
    generator (call this inside ``torch.random.fork_rng``). In data-parallel
    training the returned state carries process 0's seed. ``partial`` builds
    the net of ``partial_fit`` (no validation split, early stopping or
    learning-rate schedule). ``early_stopping`` is the estimator's setting as
    resolved for the fit's rows (:func:`uses_early_stopping`); ``lr_schedule``
    overrides the estimator's ``lr_schedule`` (a loaded file's net is built as
    its history shows it was trained).
    """
    device = check_device(estimator)
    optimizer = optimizer_options(estimator, device)
    weighting = make_weighting(estimator, state.task_types)
    name = type(estimator).__name__
    accelerator = check_accelerator(estimator.accelerator, device, weighting, name)
    estimator._architecture().check_training(estimator, weighting, accelerator)
    funnel = FunnelPenalty.from_parameter(
        getattr(estimator, "funnel", None),
        getattr(estimator, "funnel_penalty", 0.0),
        state.tasks,
        state.single_output,
    )
    compile_mode = check_compile(estimator, weighting, accelerator)
    net_class, options, seed, device = distributed_net_options(accelerator, state.seed, device)
    state = dataclasses.replace(state, seed=seed)
    torch.manual_seed(seed)
    early_stopping = early_stopping and not partial
    if lr_schedule is None:
        lr_schedule = getattr(estimator, "lr_schedule", "constant") != "constant" and not partial
    net = net_class(
        module=build_network(estimator, state),
        criterion=MultiTaskCriterion(
            MaskedMultiTaskLoss([task.loss for task in state.tasks], state.head_sizes), weighting
        ),
        penalty=funnel,
        optimizer=check_optimizer(estimator),
        optimizer__weight_decay=estimator.weight_decay,
        **optimizer,
        lr=estimator.lr,
        max_epochs=estimator.max_epochs,
        batch_size=estimator.batch_size,
        iterator_train__shuffle=True,
        train_split=(
            ShuffleSplitDataset(estimator.validation_fraction, seed) if early_stopping else None
        ),
        callbacks=make_callbacks(
            estimator, state, seed, early_stopping, lr_schedule, partial=partial
        ),
        # per-task lists stay in the history, out of the printed table
        callbacks__print_log__keys_ignored=[
            "task_weights",
            "train_task_losses",
            "branches",
            "task_affinity",
            "split_affinity",
        ],
        verbose=estimator.verbose,
        # On a GPU, read the batch losses once per epoch rather than stalling
        # the device after every step; the progress bar shows them per batch,
        # so it keeps the per-batch read.
        loss_sync="epoch" if device.type == "cuda" and estimator.verbose < 2 else "batch",
        compile_mode=compile_mode,
        **options,
    )
    return net, state, device


def build_network(estimator, state) -> nn.WithInputLayer:
    """The architecture behind the input layer (and embeddings for categorical columns)."""
    inputs = state.inputs
    kind = getattr(inputs, "numeric_embedding", "linear")
    missing = getattr(inputs, "allow_missing", False)
    if kind == "linear" and not missing:
        input_layer = nn.Standardize(inputs.mean, inputs.scale)
    else:
        input_layer = nn.NumericEmbedding(
            inputs.mean, inputs.scale, kind, edges=getattr(inputs, "bin_edges", None),
            size=inputs.n_bins, missing=missing, sigma=estimator.periodic_sigma,
        )  # fmt: skip
    if inputs.encoder is not None or not isinstance(input_layer, nn.Standardize):
        dims = [
            embedding_size(n) if estimator.embedding_dim == "auto" else estimator.embedding_dim
            for n in inputs.cardinalities
        ]
        input_layer = nn.TabularInput(input_layer, inputs.cardinalities, dims)
    architecture = estimator._architecture()
    architecture.check_tasks(state.task_types)
    module = architecture.build(
        input_layer.out_features,
        state.head_sizes,
        activation=estimator.activation,
        dropout=estimator.dropout,
        **architecture.fitted_build_arguments(estimator),
    )
    return nn.WithInputLayer(input_layer, module)


def learning_rate_schedule(estimator, scheduled: bool) -> list:
    """The callback of the ``lr_schedule`` parameter (none for a constant rate).

    ``partial_fit`` from scratch has no known length, so it keeps the rate constant;
    a skorch ``LRScheduler`` among the user's callbacks replaces the schedule.
    """
    if not scheduled or _has_own_scheduler(estimator.callbacks):
        return []
    return [("lr_schedule", CosineLearningRate(estimator.max_epochs))]


def _has_own_scheduler(callbacks) -> bool:
    """Whether the user's callbacks set the learning rate themselves (skorch's ``LRScheduler``)."""
    for callback in callbacks or []:
        if isinstance(callback, tuple) and len(callback) == 2:
            callback = callback[1]
        if isinstance(callback, (LRScheduler, CosineLearningRate)):
            return True
    return False


class CosineLearningRate(Callback):
    """Sets each epoch's learning rate to ``net.lr * cosine_factor(epoch, period)``.

    The rate is a function of the epoch's number in the history alone, so a
    fit resumed from a checkpoint, or a model loaded from a file with a new
    optimizer, continues the schedule where it stopped. It is recorded as
    ``event_lr``. (skorch's ``LRScheduler`` drives a torch scheduler, which
    patches ``optimizer.step``; an optimizer prepared by ``accelerate`` cannot
    be pickled after that.)

    Parameters
    ----------
    period : int
        Epochs of one cycle (the estimator's ``max_epochs``).
    """

    def __init__(self, period: int):
        self.period = period

    def on_epoch_begin(self, net, **kwargs):
        epoch = len(net.history) - 1  # the net has opened this epoch's row
        lr = net.lr * cosine_factor(epoch, self.period)
        for group in net.optimizer_.param_groups:
            group["lr"] = lr
        net.history.record("event_lr", lr)


def make_callbacks(
    estimator, state, seed: int, early_stopping: bool, scheduled: bool, partial: bool = False
) -> list:
    """Ours around the user's: seeding and rewinding first, divergence checks last.

    ``partial``: the net of ``partial_fit``, whose calls each train one epoch
    on one batch of the data: it warns of a diverged fit, never of one that has
    not converged yet.
    """
    kinds = state.task_types
    callbacks = [
        ("epoch_seed", EpochSeed(seed)),
        ("rewind_on_interrupt", RewindOnInterrupt()),
        ("stop_on_non_finite_loss", StopOnNonFiniteLoss(kinds)),
        ("record_task_weights", RecordTaskWeights()),
        *learning_rate_schedule(estimator, scheduled),
        # before early stopping, which may end the fit at the end of an epoch
        *estimator._architecture().training_callbacks(state),
    ]
    if early_stopping:
        callbacks.append(("task_scores", TaskValidationScores(state.tasks)))
        callbacks.append(
            (
                "early_stopping",
                EarlyStopping(
                    monitor="valid_loss",
                    patience=estimator.n_iter_no_change,
                    load_best=True,
                    sink=print if estimator.verbose else _silent,
                ),
            )
        )
    if estimator.verbose >= 2:
        callbacks.append(("progress_bar", ProgressBar()))
    # After the user's callbacks: a Checkpoint's files exist, and a callback that
    # loads the best weights at the end has done so, before these two run.
    last = [
        (
            "checkpoint_manifest",
            CheckpointManifest(state, getattr(estimator, "feature_names_in_", None)),
        ),
        ("check_trained_model", CheckTrainedModel(kinds, warn_unconverged=not partial)),
    ]
    return callbacks + copy.deepcopy(list(estimator.callbacks or [])) + last


def check_device(estimator) -> torch.device:
    """The estimator's ``device`` as a torch device that this machine has."""
    try:
        device = torch.device(estimator.device)
    except RuntimeError:
        raise ValueError(
            f"The 'device' parameter of {type(estimator).__name__} must be a torch "
            f"device such as 'cpu' or 'cuda'. Got {estimator.device!r} instead."
        ) from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device={estimator.device!r} was requested but CUDA is not available on "
            "this machine; use device='cpu'."
        )
    if device.type == "meta":
        raise ValueError(
            f"The 'device' parameter of {type(estimator).__name__} must be a device that "
            "holds data; 'meta' holds shapes only. Use device='cpu' or 'cuda'."
        )
    if device.type not in ("cpu", "cuda") and not _usable(device):
        raise ValueError(
            f"device={estimator.device!r} was requested but this torch build or machine "
            f"cannot use {device.type!r} devices (allocating a tensor there fails); use "
            "device='cpu'."
        )
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", torch.cuda.current_device())
    return device


@functools.cache
def _usable(device: torch.device) -> bool:
    """Whether a tensor can be made on ``device`` (mps, xpu and the other kinds torch names)."""
    try:
        torch.empty(1, device=device)
    except Exception:  # NotImplementedError, AssertionError, RuntimeError, ImportError, ...
        return False
    return True


def check_optimizer(estimator) -> type[torch.optim.Optimizer]:
    optimizer = estimator.optimizer
    if isinstance(optimizer, str):
        return OPTIMIZERS[optimizer]
    if not issubclass(optimizer, torch.optim.Optimizer):
        raise TypeError(
            f"The 'optimizer' parameter of {type(estimator).__name__} must be one of "
            f"{sorted(OPTIMIZERS)} or a torch.optim.Optimizer subclass. Got "
            f"{optimizer!r} instead."
        )
    return optimizer


def check_compile(estimator, weighting, accelerator) -> str | None:
    """``torch.compile``'s mode for the ``compile`` parameter, or None to train eagerly."""
    if estimator.compile is False:
        return None
    name = type(estimator).__name__
    if weighting.gradient_based:
        raise ValueError(
            f"{name}(compile={estimator.compile!r}) cannot train with "
            f"loss_weighting={estimator.loss_weighting!r}: a gradient-based weighting "
            "hooks the shared layer inside the network. Use compile=False, or a "
            "loss-level weighting (equal, fixed, uncertainty, dwa)."
        )
    if accelerator is not None:
        raise ValueError(
            f"{name}(compile={estimator.compile!r}) does not train data-parallel; set "
            "compile=False with an accelerator."
        )
    return "default" if estimator.compile is True else estimator.compile


def optimizer_options(estimator, device: torch.device) -> dict:
    """``{"optimizer__fused": True}`` for a named optimizer that torch fuses on ``device``.

    An optimizer given as a class is left as the user built it.
    """
    name = estimator.optimizer
    if isinstance(name, str) and name in FUSED_OPTIMIZERS:
        if fused_supported(OPTIMIZERS[name], device.type):
            return {"optimizer__fused": True}
    return {}


@functools.cache
def fused_supported(optimizer_class: type, device_type: str) -> bool:
    """Whether ``optimizer_class(..., fused=True)`` works for parameters on ``device_type``."""
    parameter = torch.zeros(1, device=device_type, requires_grad=True)
    try:
        optimizer_class([parameter], lr=0.1, fused=True)
    except (RuntimeError, TypeError, ValueError):
        return False
    return True


def make_weighting(estimator, task_types) -> TaskWeighting:
    """A fresh task weighting for this fit, set up for ``task_types``."""
    method, weights = estimator.loss_weighting, estimator.task_weights
    if weights is not None and method != "fixed":
        raise ValueError(
            "task_weights gives the weights of loss_weighting='fixed'; got "
            f"loss_weighting={method!r}."
        )
    if method == "fixed":
        if weights is None:
            raise ValueError("loss_weighting='fixed' needs task_weights, one per task.")
        weighting = Fixed(np.asarray(weights, dtype=float).ravel())
    elif isinstance(method, str):
        weighting = WEIGHTINGS[method]()
    else:
        weighting = copy.deepcopy(method)
    weighting.setup(task_types)
    return weighting


def _silent(*args, **kwargs):
    """A sink for skorch callbacks that prints nothing."""
