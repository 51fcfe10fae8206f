"""The skorch callbacks every fit of the package runs: seeds, per-task scores, interrupts."""

from __future__ import annotations

import warnings

import numpy as np
import torch
from skorch.callbacks import Callback, EarlyStopping

__all__ = ["EpochSeed", "RewindOnInterrupt", "TaskLabelDensity", "TaskValidationScores"]


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


class TaskLabelDensity(Callback):
    """``loss_normalization="epoch"``: give the criterion each task's labels per row.

    At the start of every epoch, sets the masked loss's ``row_density`` (each
    task's mean weight per training row, zero for a missing label) from the
    epoch's training rows, so that a task's batch loss is divided by the
    labels it has on average rather than by those of the batch
    (:class:`~sklearn_mtl.losses.MaskedMultiTaskLoss`). Rows with every label
    and unit weights need nothing: the two normalisations agree.
    """

    def on_epoch_begin(self, net, dataset_train=None, **kwargs):
        weight = getattr(dataset_train, "weight", None)
        density = None if weight is None else weight.mean(dim=0)  # (n_tasks,)
        net.criterion_.task_loss.row_density = density


class TaskValidationScores(Callback):
    """Record a score per task on the validation rows after every epoch.

    Each task's own metric (:mod:`sklearn_mtl._task_encoders`: ROC AUC for a binary
    task, accuracy for a multi-class one, R^2 for a regression one, all
    higher-is-better), under ``valid_<metric>_task<t>``, with skorch's
    ``..._best`` flag set in the right direction. Missing labels (zero
    weight) are left out.

    With ``loss_task=t``, task ``t``'s validation loss (its weighted mean
    over the labelled validation rows, the criterion's) is recorded too, as
    ``valid_loss_task<t>``: what ``early_stopping_task=t`` watches.

    Parameters
    ----------
    tasks : list of TaskEncoder
        The fitted task encoders.
    loss_task : int or None, default=None
        The task whose validation loss is recorded.
    """

    def __init__(self, tasks, loss_task=None):
        self.tasks = tasks
        self.loss_task = loss_task

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
        outputs = net.forward(dataset_valid)
        if self.loss_task is not None:
            self._record_loss(net, outputs, dataset_valid)
        outputs = outputs.numpy()
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

    def _record_loss(self, net, outputs, dataset) -> None:
        weight, t = dataset.weight, self.loss_task
        if weight is not None and not bool((weight[:, t] > 0).any()):
            raise ValueError(
                f"early_stopping_task={t}: the validation split has no label of task {t}; "
                "raise validation_fraction or pick a task with more labels."
            )
        with torch.no_grad():
            losses = net.criterion_.task_loss(outputs.to(dataset.y.device), dataset.y, weight)
        net.history.record(f"valid_loss_task{t}", float(losses[t]))


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
