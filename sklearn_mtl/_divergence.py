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
  than ``LOSS_GROWTH_LIMIT`` times the first epoch's.

The advice in the messages follows the task types: regression targets are
only mentioned when a task is a regression.
"""

from __future__ import annotations

import math
import warnings

import torch
from sklearn.exceptions import ConvergenceWarning
from skorch.callbacks import Callback

LOSS_GROWTH_LIMIT = 1e3
"""A final training loss above this multiple of the first epoch's gets a warning."""

CHECKED_ROWS = 1024
"""Training rows whose outputs must be finite at the end of training."""


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
    """

    def __init__(self, task_types):
        self.task_types = task_types

    def on_train_end(self, net, X=None, **kwargs):
        problem = _non_finite_weight(net) or _non_finite_outputs(net, X)
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
                    stacklevel=2,
                )


def _sentence(net, task_types) -> str:
    advice = divergence_advice(net, task_types)
    return f"{advice[0].upper()}{advice[1:]}."


def _non_finite_weight(net) -> str | None:
    for part in ("module", "criterion"):
        for name, tensor in getattr(net, part + "_").state_dict().items():
            if tensor.is_floating_point() and not torch.isfinite(tensor).all():
                return f"the {part}'s {name} holds NaN or infinite values"
    return None


def _non_finite_outputs(net, dataset) -> str | None:
    inputs = getattr(dataset, "X", None)
    if not isinstance(inputs, torch.Tensor) or not len(inputs):
        return None
    module = net.module_
    training = module.training
    module.eval()
    try:
        with torch.no_grad():
            outputs = module(inputs[:CHECKED_ROWS])  # already on the training device
    finally:
        module.train(training)
    if torch.isfinite(outputs).all():
        return None
    largest = max(float(p.detach().abs().max()) for p in module.parameters())
    return (
        f"the network's outputs on the training rows are NaN or infinite (its largest "
        f"weight is {largest:.3g})"
    )
