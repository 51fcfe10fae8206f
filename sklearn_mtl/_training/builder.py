"""Building the skorch net that trains a fit: :func:`build_net`.

``fit``, ``partial_fit``, the data-parallel path and :func:`sklearn_mtl.load`
all build their net here, from three arguments and nothing else: the fit's
resolved :class:`~sklearn_mtl._training.options.TrainingOptions`, its
architecture (a parameter object that builds the module) and its
:class:`~sklearn_mtl.estimators._fit_state.FitState` (tasks, input encoder, seed).
"""

from __future__ import annotations

import copy
import dataclasses
import functools

import torch
from skorch.callbacks import EarlyStopping, ProgressBar

from .. import nn
from ..losses import FunnelPenalty, MaskedMultiTaskLoss
from ..weighting import RecordTaskWeights, TaskWeighting, make_weighting, weighting_names
from .callbacks import EpochSeed, RewindOnInterrupt, TaskLabelDensity, TaskValidationScores
from .checkpoint import CheckpointManifest
from .criterion import MultiTaskCriterion
from .data import ShuffleSplitDataset
from .distributed import check_accelerator, distributed_net_options
from .divergence import CheckTrainedModel, StopOnNonFiniteLoss
from .inputs import embedding_size
from .options import OPTIMIZERS, TrainingOptions
from .schedule import learning_rate_schedule

__all__ = ["FUSED_OPTIMIZERS", "build_modules", "build_net"]

FUSED_OPTIMIZERS = ("adam", "adamw", "sgd", "adagrad")
"""Named optimizers that run fused (one kernel updates every parameter) where torch can.

Measured on this project's 2-core CPU (``benchmarks/results/throughput-cpu.md``):
fused Adam takes 13-18 % less time per step than torch's default per-tensor
loop on the small networks, where the optimizer is a large share of a step.
"""

_KEYS_NOT_PRINTED = ["task_weights", "train_task_losses", "branches", "task_affinity",
                     "split_affinity"]  # fmt: skip
"""Per-task lists that stay in the history, out of the printed table."""


def build_net(options: TrainingOptions, architecture, state, *, build_arguments=None):
    """The skorch net that trains ``architecture`` on the tasks of ``state``.

    Returns ``(net, state, device)``. The module is initialised from
    ``state.seed``, which seeds torch's global generator (call this inside
    ``torch.random.fork_rng``); in data-parallel training the returned state
    carries process 0's seed and the device is the accelerator's.
    ``build_arguments`` are extra arguments of ``architecture.build`` that a
    fitted model gives (an adaptive-sharing tree in its fitted shape).
    """
    weighting = make_weighting(options.loss_weighting, options.task_weights, state.task_types)
    accelerator = check_accelerator(
        options.accelerator, options.device, weighting, options.estimator_name
    )
    architecture.check_training(options, weighting, accelerator)
    compile_mode = _check_compile(options, weighting, accelerator)
    net_class, net_options, seed, device = distributed_net_options(
        accelerator, state.seed, options.device
    )
    state = dataclasses.replace(state, seed=seed)
    torch.manual_seed(seed)
    module, criterion = build_modules(
        options, architecture, state, weighting=weighting, build_arguments=build_arguments
    )
    net = net_class(
        module=module,
        criterion=criterion,
        penalty=FunnelPenalty.from_parameter(
            options.funnel, options.funnel_penalty, state.tasks, state.single_output
        ),
        optimizer=_optimizer_class(options),
        optimizer__weight_decay=options.weight_decay,
        **_fused_option(options.optimizer, device),
        lr=options.lr,
        max_epochs=options.max_epochs,
        batch_size=options.batch_size,
        iterator_train__shuffle=True,
        train_split=(
            ShuffleSplitDataset(options.validation_fraction, seed)
            if options.early_stopping
            else None
        ),
        callbacks=_callbacks(options, architecture, state, seed),
        callbacks__print_log__keys_ignored=_KEYS_NOT_PRINTED,
        verbose=options.verbose,
        # On a GPU, read the batch losses once per epoch rather than stalling
        # the device after every step; the progress bar shows them per batch,
        # so it keeps the per-batch read.
        loss_sync="epoch" if device.type == "cuda" and options.verbose < 2 else "batch",
        compile_mode=compile_mode,
        **net_options,
    )
    return net, state, device


def build_modules(
    options: TrainingOptions,
    architecture,
    state,
    *,
    weighting: TaskWeighting | None = None,
    build_arguments=None,
) -> tuple[nn.WithInputLayer, MultiTaskCriterion]:
    """The network (input layer and architecture) and the criterion that trains it.

    :func:`build_net` builds through this; :func:`sklearn_mtl.load` calls it on
    torch's ``meta`` device to check a file's tensors before reading them.
    """
    if weighting is None:
        weighting = make_weighting(options.loss_weighting, options.task_weights, state.task_types)
    inputs = state.inputs
    kind = getattr(inputs, "numeric_embedding", "linear")
    missing = getattr(inputs, "allow_missing", False)
    if kind == "linear" and not missing:
        input_layer = nn.Standardize(inputs.mean, inputs.scale)
    else:
        input_layer = nn.NumericEmbedding(
            inputs.mean, inputs.scale, kind, edges=getattr(inputs, "bin_edges", None),
            size=inputs.n_bins, missing=missing, sigma=options.periodic_sigma,
        )  # fmt: skip
    if inputs.encoder is not None or not isinstance(input_layer, nn.Standardize):
        dims = [
            embedding_size(n) if options.embedding_dim == "auto" else options.embedding_dim
            for n in inputs.cardinalities
        ]
        input_layer = nn.TabularInput(input_layer, inputs.cardinalities, dims)
    architecture.check_tasks(state.task_types)
    module = architecture.build(
        input_layer.out_features,
        state.head_sizes,
        activation=options.activation,
        dropout=options.dropout,
        **(build_arguments or {}),
    )
    task_losses = [task.loss for task in state.tasks]
    criterion = MultiTaskCriterion(MaskedMultiTaskLoss(task_losses, state.head_sizes), weighting)
    # several ensemble members: their mean prediction, as logits, outside training
    output_layer = nn.EnsembleMean(task_losses, state.head_sizes) if module.n_ensemble > 1 else None
    return nn.WithInputLayer(input_layer, module, output_layer), criterion


def _callbacks(options: TrainingOptions, architecture, state, seed: int) -> list:
    """Ours around the user's: seeding and rewinding first, divergence checks last.

    A ``partial`` net (``partial_fit``, whose calls each train one epoch on one
    batch of the data) warns of a diverged fit, never of one that has not
    converged yet.
    """
    kinds = state.task_types
    callbacks = [
        ("epoch_seed", EpochSeed(seed)),
        ("rewind_on_interrupt", RewindOnInterrupt()),
        ("stop_on_non_finite_loss", StopOnNonFiniteLoss(kinds)),
        ("record_task_weights", RecordTaskWeights()),
        *learning_rate_schedule(options),
        # before early stopping, which may end the fit at the end of an epoch
        *architecture.training_callbacks(state),
    ]
    if options.loss_normalization == "epoch":
        callbacks.append(("task_label_density", TaskLabelDensity()))
    if options.early_stopping:
        task = _check_early_stopping_task(options, len(kinds))
        callbacks.append(("task_scores", TaskValidationScores(state.tasks, loss_task=task)))
        callbacks.append(
            (
                "early_stopping",
                EarlyStopping(
                    monitor="valid_loss" if task is None else f"valid_loss_task{task}",
                    patience=options.n_iter_no_change,
                    load_best=True,
                    sink=print if options.verbose else _silent,
                ),
            )
        )
    if options.verbose >= 2:
        callbacks.append(("progress_bar", ProgressBar()))
    # After the user's callbacks: a Checkpoint's files exist, and a callback that
    # loads the best weights at the end has done so, before these two run.
    last = [
        ("checkpoint_manifest", CheckpointManifest(state, options.feature_names)),
        ("check_trained_model", CheckTrainedModel(kinds, warn_unconverged=not options.partial)),
    ]
    return callbacks + copy.deepcopy(list(options.callbacks)) + last


def _check_early_stopping_task(options: TrainingOptions, n_tasks: int) -> int | None:
    """The task early stopping watches (None: the sum of all), checked against ``y``."""
    task = options.early_stopping_task
    if task is not None and not 0 <= task < n_tasks:
        raise ValueError(
            f"The 'early_stopping_task' parameter of {options.estimator_name} must be "
            f"a task index in [0, {n_tasks}) for this y of {n_tasks} task(s), or None. "
            f"Got {task!r} instead."
        )
    return None if task is None else int(task)


def _optimizer_class(options: TrainingOptions) -> type[torch.optim.Optimizer]:
    optimizer = options.optimizer
    if isinstance(optimizer, str):
        return OPTIMIZERS[optimizer]
    if not issubclass(optimizer, torch.optim.Optimizer):
        raise TypeError(
            f"The 'optimizer' parameter of {options.estimator_name} must be one of "
            f"{sorted(OPTIMIZERS)} or a torch.optim.Optimizer subclass. Got "
            f"{optimizer!r} instead."
        )
    return optimizer


def _check_compile(options: TrainingOptions, weighting, accelerator) -> str | None:
    """``torch.compile``'s mode for the ``compile`` option, or None to train eagerly."""
    if options.compile is False:
        return None
    name = options.estimator_name
    if weighting.gradient_based:
        raise ValueError(
            f"{name}(compile={options.compile!r}) cannot train with "
            f"loss_weighting={options.loss_weighting!r}: a gradient-based weighting "
            "hooks the shared layer inside the network. Use compile=False, or a "
            f"loss-level weighting ({weighting_names(gradient_based=False)})."
        )
    if accelerator is not None:
        raise ValueError(
            f"{name}(compile={options.compile!r}) does not train data-parallel; set "
            "compile=False with an accelerator."
        )
    return "default" if options.compile is True else options.compile


def _fused_option(name, device: torch.device) -> dict:
    """``{"optimizer__fused": True}`` for a named optimizer that torch fuses on ``device``.

    An optimizer given as a class is left as the user built it.
    """
    if isinstance(name, str) and name in FUSED_OPTIMIZERS:
        if _fused_supported(OPTIMIZERS[name], device.type):
            return {"optimizer__fused": True}
    return {}


@functools.cache
def _fused_supported(optimizer_class: type, device_type: str) -> bool:
    """Whether ``optimizer_class(..., fused=True)`` works for parameters on ``device_type``."""
    parameter = torch.zeros(1, device=device_type, requires_grad=True)
    try:
        optimizer_class([parameter], lr=0.1, fused=True)
    except (RuntimeError, TypeError, ValueError):
        return False
    return True


def _silent(*args, **kwargs):
    """A sink for skorch callbacks that prints nothing."""
