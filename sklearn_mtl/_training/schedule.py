"""The learning-rate schedule of the ``lr_schedule`` parameter: a half-cosine per cycle."""

from __future__ import annotations

import math

from skorch.callbacks import Callback, LRScheduler

__all__ = ["COSINE_FINAL_FACTOR", "CosineLearningRate", "cosine_factor", "learning_rate_schedule"]

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


def learning_rate_schedule(options) -> list:
    """The callback of the ``lr_schedule`` option (none for a constant rate).

    ``partial_fit`` from scratch has no known length, so it keeps the rate constant;
    a skorch ``LRScheduler`` among the user's callbacks replaces the schedule.
    """
    if not options.lr_schedule or _has_own_scheduler(options.callbacks):
        return []
    return [("lr_schedule", CosineLearningRate(options.max_epochs))]


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
