"""Callbacks that stop or flag a diverging fit instead of returning a broken model.

Training can diverge in three ways that a user must hear about:

- a batch's loss becomes NaN or infinite: :class:`StopOnNonFiniteLoss` raises
  ``FloatingPointError`` at once;
- the last steps blow the weights up while the loss was still finite (the
  model then predicts NaN): :class:`CheckTrainedModel` checks every parameter
  and buffer, and the network's outputs on the first ``CHECKED_ROWS``
  training rows (weights of 1e19 are finite, their products are not), when
  training ends (``fit``, each ``partial_fit``) and raises the same
  ``FloatingPointError``;
- the loss grows without becoming infinite (Adam can reach 1e21):
  :class:`CheckTrainedModel` warns when the last epoch's training loss is more
  than ``LOSS_GROWTH_LIMIT`` times the first epoch's;
- the loss is huge from the first epoch on (``lr=100``: finite predictions,
  an R^2 of -5e10): :class:`CheckTrainedModel` warns when the trained
  network's loss on the first ``CHECKED_ROWS`` training rows is worse, for
  some task, than the loss of the best constant prediction on those rows
  (the base rate, the class frequencies, the mean), by more than
  ``CONSTANT_TOLERANCE``.

The advice in the messages follows the task types: regression targets are
only mentioned when a task is a regression.
"""

from __future__ import annotations

import math
import os
import sys
import warnings

import sklearn
import skorch
import torch
from sklearn.exceptions import ConvergenceWarning
from skorch.callbacks import Callback

LOSS_GROWTH_LIMIT = 1e3
"""A final training loss above this multiple of the first epoch's gets a warning."""

CHECKED_ROWS = 1024
"""Training rows whose outputs must be finite at the end of training."""

CONSTANT_TOLERANCE = 0.1
"""A task's trained loss above ``1 + CONSTANT_TOLERANCE`` times a constant's gets a warning."""

CONSTANT_FLOOR = 1e-2
"""A task whose best constant's loss is below this (its labels all but constant) is not
compared: the network cannot beat a constant that fits."""

DIVERGED_FACTOR = 10.0
"""Above this multiple of the constant's loss the warning says the fit diverged (lower the
learning rate); below it, that it has not converged (train longer)."""


def divergence_advice(net, task_types) -> str:
    """What to try, for these task types: "try a lower lr ..."."""
    advice = f"try a lower lr (it is {net.lr:g})"
    if "regression" in task_types:
        return (
            f"{advice}, and look for extreme values in the regression targets (each task is "
            "standardised, so an outlier stays far from the others)"
        )
    return f"{advice}, or weight_decay to keep the weights small"


class StopOnNonFiniteLoss(Callback):
    """Raise when a training batch's loss is NaN or infinite.

    Reads the losses skorch already recorded in the history, so the check
    costs no extra device synchronisation: after the batch when losses are
    synchronised per batch, at the end of the epoch otherwise.

    Parameters
    ----------
    task_types : list of str, default=()
        The tasks' types, for the advice in the message.
    """

    def __init__(self, task_types=()):
        self.task_types = task_types

    def on_batch_end(self, net, batch=None, training=False, **kwargs):
        # History's tuple keys cost about 6 us a lookup; an int and dict keys, about 1 us
        batches = net.history[-1]["batches"]
        loss = batches[-1].get("train_loss")
        if training and isinstance(loss, float):
            self._check(net, loss, len(batches))

    def on_epoch_end(self, net, **kwargs):
        train_batches = [b for b in net.history[-1, "batches"] if "train_loss" in b]
        for number, batch in enumerate(train_batches, start=1):
            self._check(net, batch["train_loss"], number)

    def _check(self, net, loss: float, batch_number: int) -> None:
        if not math.isfinite(loss):
            raise FloatingPointError(
                f"The training loss became {loss} at epoch {len(net.history)}, batch "
                f"{batch_number}. Training diverged: {divergence_advice(net, self.task_types)}."
            )


class CheckTrainedModel(Callback):
    """At the end of training: raise if a weight is not finite, warn if the loss grew.

    Put it after every callback that changes the weights at the end of
    training (``EarlyStopping(load_best=True)``, a ``Checkpoint`` that loads
    the best one), so that it checks the model ``fit`` returns.

    Parameters
    ----------
    task_types : list of str
        The tasks' types, for the advice in the messages.
    warn_unconverged : bool, default=True
        Whether a network worse than a constant by less than
        ``DIVERGED_FACTOR`` (one that has not converged yet) gets a warning;
        one worse by more (a diverged fit) always does.
    """

    def __init__(self, task_types, warn_unconverged=True):
        self.task_types = task_types
        self.warn_unconverged = warn_unconverged

    def on_train_end(self, net, X=None, **kwargs):
        outputs = _training_outputs(net, X)
        problem = _non_finite_weight(net) or _non_finite_outputs(net, outputs)
        if problem:
            raise FloatingPointError(
                f"After epoch {len(net.history)} {problem}, though the training loss was "
                f"finite: training diverged in its last steps. "
                f"{_sentence(net, self.task_types)}"
            )
        losses = [epoch.get("train_loss") for epoch in net.history]
        first, last = losses[0] if losses else None, losses[-1] if losses else None
        if isinstance(first, float) and isinstance(last, float) and first > 0:
            if last > LOSS_GROWTH_LIMIT * first:
                warnings.warn(
                    f"The training loss grew from {first:.3g} in epoch 1 to {last:.3g} in "
                    f"epoch {len(losses)}, more than {LOSS_GROWTH_LIMIT:g} times: training "
                    f"diverged. {_sentence(net, self.task_types)}",
                    ConvergenceWarning,
                    stacklevel=caller_stacklevel(),
                )
                return
        worse = _worse_than_constant(net, X, outputs)
        if worse:
            tasks = ", ".join(str(t) for t, _, _ in worse)
            t, trained, constant = max(worse, key=lambda task: task[1] / max(task[2], 1e-12))
            if trained > DIVERGED_FACTOR * constant:
                advice = f"Training diverged. {_sentence(net, self.task_types)}"
            elif not getattr(self, "warn_unconverged", True):
                return
            else:
                advice = (
                    f"Training has not converged: train longer (max_epochs={net.max_epochs}), "
                    f"or try another lr (it is {net.lr:g})."
                )
            warnings.warn(
                f"After {len(net.history)} epoch(s), the network predicts the training rows "
                f"worse than a constant would, on task(s) {tasks} (task {t}: loss {trained:.3g} "
                f"against {constant:.3g} for the best constant). {advice}",
                ConvergenceWarning,
                stacklevel=caller_stacklevel(),
            )


def _training_outputs(net, dataset) -> torch.Tensor | None:
    """The network's outputs (eval mode) on the first ``CHECKED_ROWS`` training rows."""
    inputs = getattr(dataset, "X", None)
    if inputs is None or not len(inputs):
        return None
    module = net.module_
    training = module.training
    module.eval()
    try:
        with torch.no_grad():
            return module(inputs[:CHECKED_ROWS])  # on the training device (sparse: made dense)
    finally:
        module.train(training)


def _worse_than_constant(net, dataset, outputs) -> list[tuple[int, float, float]]:
    """``(task, trained loss, constant's loss)`` of each task the network predicts worse."""
    targets = getattr(dataset, "y", None)
    task_loss = net.criterion_.task_loss
    if outputs is None or targets is None or not hasattr(task_loss, "task_losses"):
        return []  # no targets, or a loss pickled before it named its tasks' losses
    rows = len(outputs)
    y = targets[:rows]
    weight = None if dataset.weight is None else dataset.weight[:rows]
    constant = _constant_logits(task_loss, y, weight)
    with torch.no_grad():
        trained = net.criterion_(outputs, y, weight).double()
        baseline = net.criterion_(constant.expand_as(outputs), y, weight).double()
    observed = torch.ones(y.shape[1], dtype=torch.bool) if weight is None else (
        weight.sum(dim=0) > 0
    ).cpu()  # fmt: skip
    limit = baseline * (1 + CONSTANT_TOLERANCE) + 1e-6
    return [
        (t, float(trained[t]), float(baseline[t]))
        for t in range(len(trained))
        # a constant that fits already (one class, a constant target) is no yardstick
        if observed[t] and baseline[t] > CONSTANT_FLOOR and trained[t] > limit[t]
    ]


def _constant_logits(task_loss, y, weight) -> torch.Tensor:
    """The logits of the best constant prediction of every task, shape ``(1, sum(heads))``."""
    weight = torch.ones_like(y) if weight is None else weight
    total = weight.sum(dim=0).clamp_min(1e-12)  # (n_tasks,)
    parts = []
    for t, (kind, size) in enumerate(zip(task_loss.task_losses, task_loss.head_sizes)):
        if kind == "multiclass":
            counts = torch.zeros(size, dtype=y.dtype, device=y.device)
            counts.index_add_(0, y[:, t].long().clamp(0, size - 1), weight[:, t])
            parts.append(torch.log((counts / total[t]).clamp_min(1e-7)))
            continue
        mean = (weight[:, t] * y[:, t]).sum() / total[t]
        if kind == "binary":
            mean = mean.clamp(1e-7, 1 - 1e-7)
            mean = torch.log(mean) - torch.log1p(-mean)
        parts.append(mean.reshape(1))
    return torch.cat(parts)[None]


_LIBRARIES = tuple(
    os.path.dirname(module.__file__) + os.sep for module in (sklearn, skorch, torch)
) + (os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep,)


def caller_stacklevel() -> int:
    """The ``stacklevel`` that points a warning at the first frame outside the libraries.

    A callback warns from deep inside skorch's loop, under the estimator's
    ``fit``; the user's line that called ``fit`` is what the warning should name.
    """
    level, frame = 1, sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_LIBRARIES):
        level, frame = level + 1, frame.f_back
    return level


def _sentence(net, task_types) -> str:
    advice = divergence_advice(net, task_types)
    return f"{advice[0].upper()}{advice[1:]}."


def _non_finite_weight(net) -> str | None:
    for part in ("module", "criterion"):
        for name, tensor in getattr(net, part + "_").state_dict().items():
            if tensor.is_floating_point() and not torch.isfinite(tensor).all():
                return f"the {part}'s {name} holds NaN or infinite values"
    return None


def _non_finite_outputs(net, outputs) -> str | None:
    if outputs is None or torch.isfinite(outputs).all():
        return None
    largest = max(float(p.detach().abs().max()) for p in net.module_.parameters())
    return (
        f"the network's outputs on the training rows are NaN or infinite (its largest "
        f"weight is {largest:.3g})"
    )
