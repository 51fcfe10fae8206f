"""The training options every network shares: their constraints, and one resolved set per fit.

An estimator declares :data:`TRAINING_CONSTRAINTS` (and, where it takes a
funnel, :data:`FUNNEL_CONSTRAINTS`) among its own; a fit resolves its
parameters once into a frozen :class:`TrainingOptions` (the device checked,
early stopping and the schedule decided for its rows), which is all that
:func:`~sklearn_mtl._training.builder.build_net` reads.
"""

from __future__ import annotations

import dataclasses
import functools
from numbers import Integral, Real

import torch

from .. import nn
from ..nn import ACTIVATIONS
from ..utils._sklearn import HasMethods, Interval, StrOptions
from ..weighting import WEIGHTINGS, TaskWeighting

__all__ = [
    "COMPILE_MODES",
    "EARLY_STOPPING_MIN_SAMPLES",
    "FUNNEL_CONSTRAINTS",
    "LR_SCHEDULES",
    "MAX_NUMERIC_EMBEDDING_SIZE",
    "OPTIMIZERS",
    "TRAINING_CONSTRAINTS",
    "TrainingOptions",
    "check_device",
    "uses_early_stopping",
]

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

LR_SCHEDULES = ("constant", "cosine")
"""Learning-rate schedules accepted by the ``lr_schedule`` parameter."""

LOSS_NORMALIZATIONS = ("batch", "epoch")
"""How a task's masked loss is normalised: by the batch's labels, or the epoch's per row."""

EARLY_STOPPING_MIN_SAMPLES = 1000
"""``early_stopping="auto"`` stops early from this many training rows on (its 10 %
validation split then has 100 rows or more); ``benchmarks/defaults.py`` measures it."""

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
    "early_stopping_task": [Interval(Integral, 0, None, closed="left"), None],
    "loss_normalization": [StrOptions(set(LOSS_NORMALIZATIONS))],
    "callbacks": [list, None],
    "device": [str, torch.device],
    "random_state": ["random_state"],
    "verbose": ["verbose"],
    "categorical_features": [StrOptions({"from_dtype"}), "array-like", None],
    "embedding_dim": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
    # the registry's live key view: a weighting registered later is accepted too
    "loss_weighting": [StrOptions(WEIGHTINGS.keys()), TaskWeighting],
    "task_weights": ["array-like", None],
    "accelerator": [HasMethods(["prepare", "backward"]), None],
    "warm_start": ["boolean"],
    "compile": ["boolean", StrOptions(set(COMPILE_MODES))],
    "min_frequency": [
        Interval(Integral, 1, None, closed="left"),
        Interval(Real, 0, 1, closed="neither"),
        None,
    ],
    "numeric_embedding": [StrOptions({*nn.NUMERIC_EMBEDDINGS, "auto"})],
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


def uses_early_stopping(setting, n_samples: int) -> bool:
    """Whether a fit on ``n_samples`` rows holds out a validation split and stops early."""
    if setting == "auto":
        return n_samples >= EARLY_STOPPING_MIN_SAMPLES
    return bool(setting)


@dataclasses.dataclass(frozen=True)
class TrainingOptions:
    """What one fit trains with: an estimator's training parameters, resolved once.

    Built by :meth:`resolve`; :func:`~sklearn_mtl._training.builder.build_net`
    reads these fields and nothing of the estimator. ``early_stopping`` and
    ``lr_schedule`` are the decisions for this fit (a validation split, a
    cosine schedule), ``device`` a device this machine has.
    """

    estimator_name: str
    device: torch.device
    activation: str
    dropout: float
    max_epochs: int
    batch_size: int
    lr: float
    optimizer: str | type
    weight_decay: float
    early_stopping: bool
    validation_fraction: float
    n_iter_no_change: int
    early_stopping_task: int | None
    loss_normalization: str
    lr_schedule: bool
    partial: bool
    callbacks: tuple
    verbose: int
    embedding_dim: int | str
    periodic_sigma: float
    loss_weighting: str | TaskWeighting
    task_weights: object
    accelerator: object
    compile: bool | str
    funnel: object = None
    funnel_penalty: float = 0.0
    feature_names: object = None

    @classmethod
    def resolve(
        cls,
        params: dict,
        *,
        estimator_name: str,
        n_samples: int | None = None,
        partial: bool = False,
        early_stopping: bool | None = None,
        lr_schedule: bool | None = None,
        feature_names=None,
    ) -> TrainingOptions:
        """The options of a fit from an estimator's ``get_params(deep=False)``.

        ``partial`` is ``partial_fit``'s net: no validation split, early
        stopping or schedule. ``early_stopping`` and ``lr_schedule`` override
        what the parameters decide for ``n_samples`` rows (a loaded file's net
        is built as its history shows it was trained).
        """
        if early_stopping is None:
            early_stopping = uses_early_stopping(params["early_stopping"], n_samples)
        if lr_schedule is None:
            lr_schedule = params.get("lr_schedule", "constant") != "constant"
        return cls(
            estimator_name=estimator_name,
            device=check_device(params["device"], estimator_name),
            activation=params["activation"],
            dropout=params["dropout"],
            max_epochs=params["max_epochs"],
            batch_size=params["batch_size"],
            lr=params["lr"],
            optimizer=params["optimizer"],
            weight_decay=params["weight_decay"],
            early_stopping=bool(early_stopping) and not partial,
            validation_fraction=params["validation_fraction"],
            n_iter_no_change=params["n_iter_no_change"],
            early_stopping_task=params.get("early_stopping_task"),
            loss_normalization=params.get("loss_normalization", "batch"),
            lr_schedule=bool(lr_schedule) and not partial,
            partial=partial,
            callbacks=tuple(params["callbacks"] or ()),
            verbose=params["verbose"],
            embedding_dim=params["embedding_dim"],
            periodic_sigma=params["periodic_sigma"],
            loss_weighting=params["loss_weighting"],
            task_weights=params["task_weights"],
            accelerator=params["accelerator"],
            compile=params["compile"],
            funnel=params.get("funnel"),
            funnel_penalty=params.get("funnel_penalty", 0.0),
            feature_names=feature_names,
        )


def check_device(device, estimator_name: str) -> torch.device:
    """``device`` (a parameter) as a torch device that this machine has, or a ValueError."""
    try:
        resolved = torch.device(device)
    except RuntimeError:
        raise ValueError(
            f"The 'device' parameter of {estimator_name} must be a torch "
            f"device such as 'cpu' or 'cuda'. Got {device!r} instead."
        ) from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} was requested but CUDA is not available on "
            "this machine; use device='cpu'."
        )
    if resolved.type == "meta":
        raise ValueError(
            f"The 'device' parameter of {estimator_name} must be a device that "
            "holds data; 'meta' holds shapes only. Use device='cpu' or 'cuda'."
        )
    if resolved.type not in ("cpu", "cuda") and not _usable(resolved):
        raise ValueError(
            f"device={device!r} was requested but this torch build or machine "
            f"cannot use {resolved.type!r} devices (allocating a tensor there fails); use "
            "device='cpu'."
        )
    if resolved.type == "cuda" and resolved.index is None:
        resolved = torch.device("cuda", torch.cuda.current_device())
    return resolved


@functools.cache
def _usable(device: torch.device) -> bool:
    """Whether a tensor can be made on ``device`` (mps, xpu and the other kinds torch names)."""
    try:
        torch.empty(1, device=device)
    except Exception:  # NotImplementedError, AssertionError, RuntimeError, ImportError, ...
        return False
    return True
