"""The skorch callbacks every fit of the package runs: seeds, per-task scores, interrupts."""

from __future__ import annotations

import warnings

import numpy as np
import torch
from skorch.callbacks import Callback, EarlyStopping

__all__ = ["EpochSeed", "RewindOnInterrupt", "TaskValidationScores"]


class EpochSeed(Callback):
    """Seeds torch's generator at the start of each epoch from ``seed`` and the epoch number.

    Each epoch's row order and dropout then depend on the seed and the epoch
    alone, so a fit resumed from a checkpoint draws what the uninterrupted fit
    drew.
    """

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def on_epoch_begin(self, net, **kwargs):
        torch.manual_seed(self.seed + len(net.history))


class TaskValidationScores(Callback):
    """Record a score per task on the validation rows after every epoch.

    Each task's own metric (:mod:`sklearn_mtl._task_encoders`: ROC AUC for a binary
    task, accuracy for a multi-class one, R^2 for a regression one, all
    higher-is-better), under ``valid_<metric>_task<t>``, with skorch's
    ``..._best`` flag set in the right direction. Missing labels (zero
    weight) are left out.

    Parameters
    ----------
    tasks : list of TaskEncoder
        The fitted task encoders.
    """

    def __init__(self, tasks):
        self.tasks = tasks

    def initialize(self):
        self.best_ = {}
        return self

    def on_train_begin(self, net, **kwargs):
        # the best scores so far are the history's: a fit resumed from a checkpoint
        # flags its epochs as the uninterrupted fit does
        for t, task in enumerate(self.tasks):
            key = f"valid_{task.metric}_task{t}"
            scores = [epoch[key] for epoch in net.history if key in epoch]
            if scores:
                self.best_[key] = max(scores)

    def on_epoch_end(self, net, dataset_valid=None, **kwargs):
        if dataset_valid is None or len(dataset_valid) == 0:
            return
        outputs = net.forward(dataset_valid).numpy()
        targets = dataset_valid.y.cpu().numpy()
        observed = (
            np.ones(targets.shape, dtype=bool)
            if dataset_valid.weight is None
            else dataset_valid.weight.cpu().numpy() > 0
        )
        start = 0
        for t, task in enumerate(self.tasks):
            rows = observed[:, t]
            head = outputs[rows, start : start + task.head_size]
            start += task.head_size
            score = task.score(targets[rows, t], head)
            if score is None:
                continue
            key = f"valid_{task.metric}_task{t}"
            improved = key not in self.best_ or score > self.best_[key]
            if improved:
                self.best_[key] = score
            net.history.record(key, score)
            net.history.record(f"{key}_best", improved)


class RewindOnInterrupt(Callback):
    """After an interrupt (Ctrl-C), go back to the end of the last finished epoch.

    skorch's ``partial_fit`` stops quietly on ``KeyboardInterrupt`` and keeps
    the weights of the half-done epoch. This callback copies the weights
    after every finished epoch (cheap next to an epoch); when training ends
    inside an epoch that was not stopped by early stopping, it restores them
    and the history, with a warning. An interrupt before any epoch finished
    is raised again: there is no model to keep. Place it before
    ``EarlyStopping``, whose ``on_epoch_end`` ends training by raising.
    """

    def on_train_begin(self, net, **kwargs):
        self.in_epoch_ = False
        self._snapshot(net)

    def on_epoch_begin(self, net, **kwargs):
        self.in_epoch_ = True

    def on_epoch_end(self, net, **kwargs):
        self.in_epoch_ = False
        self._snapshot(net)

    def on_train_end(self, net, **kwargs):
        snapshot, self.last_epoch_ = self.last_epoch_, None  # never pickle the copy
        if not self.in_epoch_ or _stopped_early(net):
            return
        epochs, states = snapshot
        if epochs == 0:
            raise KeyboardInterrupt
        for name, state in states.items():
            getattr(net, name + "_").load_state_dict(state)
        del net.history[epochs:]
        warnings.warn(
            f"fit was interrupted during epoch {epochs + 1}; the model is that of epoch "
            f"{epochs}, the last finished one.",
            UserWarning,
            stacklevel=2,
        )

    def _snapshot(self, net) -> None:
        states = {
            name: {k: v.detach().clone() for k, v in getattr(net, name + "_").state_dict().items()}
            for name in ("module", "criterion")
        }
        self.last_epoch_ = (len(net.history), states)


def _stopped_early(net) -> bool:
    return any(
        isinstance(callback, EarlyStopping) and callback.misses_ >= callback.patience
        for _, callback in net.callbacks_
    )
