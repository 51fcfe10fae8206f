"""The private skorch net every neural estimator builds in ``fit``."""

from __future__ import annotations

import math
from collections.abc import Mapping

import torch
from skorch import NeuralNet
from skorch.callbacks import Callback
from skorch.dataset import get_len
from torch import nn

from ._data import BatchLoader


class MultiTaskNeuralNet(NeuralNet):
    """A skorch ``NeuralNet`` for multi-task targets.

    Batches are ``({"X": inputs, "sample_weight": weights}, targets)`` made by
    :class:`~sklearn_mtl._data.BatchLoader`, or ``(inputs, targets)`` when every
    label is present with unit weight; the per-task weights (zero for a
    missing label) travel inside ``X`` as skorch recommends, reach the
    criterion in :meth:`get_loss` and never reach the module. The criterion
    returns one loss per task; the training loss is their sum.
    """

    def __init__(self, module, criterion, *, loss_sync="batch", penalty=None, **kwargs):
        kwargs.setdefault("iterator_train", BatchLoader)
        kwargs.setdefault("iterator_valid", BatchLoader)
        super().__init__(module, criterion, **kwargs)
        if loss_sync not in ("batch", "epoch"):
            raise ValueError(f"loss_sync must be 'batch' or 'epoch'; got {loss_sync!r}.")
        self.loss_sync = loss_sync
        self.penalty = penalty

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        """skorch's epoch loop, with ``loss_sync="epoch"`` reading losses once per epoch.

        skorch records ``loss.item()`` after every batch, which on a GPU makes
        the host wait for the device at every step. With ``loss_sync="epoch"``
        the batch losses are recorded as 0-d tensors and turned into floats in
        one transfer when the epoch's batches are done, before any
        ``on_epoch_end`` callback reads them; an ``on_batch_end`` callback sees
        the tensor (``float()`` of it still works, at the cost of a sync).
        """
        if self.loss_sync == "batch":
            return super().run_single_epoch(iterator, training, prefix, step_fn, **fit_params)
        if iterator is None:
            return None
        key = prefix + "_loss"
        losses = []
        for batch in iterator:
            self.notify("on_batch_begin", batch=batch, training=training)
            step = step_fn(batch, **fit_params)
            losses.append(step["loss"].detach())
            self.history.record_batch(key, losses[-1])
            self.history.record_batch(prefix + "_batch_size", get_len(batch[0]))
            self.notify("on_batch_end", batch=batch, training=training, **step)
        if losses:
            values = torch.stack(losses).tolist()  # one device synchronisation
            for entry, value in zip(self.history[-1]["batches"][-len(losses) :], values):
                entry[key] = value
        self.history.record(prefix + "_batch_count", len(losses))
        return None

    def initialize_module(self):
        super().initialize_module()
        # ``module`` is the very instance that becomes ``module_`` (and so for the
        # criterion): pickle it through skorch's device-aware path too, or a net
        # trained on CUDA cannot be unpickled on a machine without CUDA.
        extra = [
            name for name in ("module", "criterion") if name not in self.cuda_dependent_attributes_
        ]
        self.cuda_dependent_attributes_ = [*self.cuda_dependent_attributes_, *extra]
        return self

    def _set_training(self, training=True):
        # skorch calls this before every batch and walks the whole module tree
        # each time (about 0.15 ms a step measured here, most of skorch's per-step
        # cost). Walk it only when a top-level module is not in the requested mode.
        for name in self._modules + self._criteria:
            module = getattr(self, name + "_")
            if isinstance(module, nn.Module) and module.training != training:
                return super()._set_training(training)
        return None

    def infer(self, x, **fit_params):
        if isinstance(x, Mapping):
            x = x["X"]
        return super().infer(x, **fit_params)

    def get_task_losses(self, y_pred, y_true, X):
        """Per-task losses of a batch, shape ``(n_tasks,)``."""
        weight = X["sample_weight"] if isinstance(X, Mapping) else None
        return self.criterion_(y_pred, y_true, weight)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        loss = self.get_task_losses(y_pred, y_true, X).sum()
        if self.penalty is not None:  # a label-free term on the outputs, e.g. a funnel
            loss = loss + self.penalty(y_pred)
        return loss


class StopOnNonFiniteLoss(Callback):
    """Raise when a training batch's loss is NaN or infinite.

    Reads the losses skorch already recorded in the history, so the check
    costs no extra device synchronisation: after the batch when losses are
    synchronised per batch, at the end of the epoch otherwise.
    """

    def on_batch_end(self, net, batch=None, training=False, **kwargs):
        loss = net.history[-1, "batches", -1].get("train_loss")
        if training and isinstance(loss, float):
            self._check(net, loss, len(net.history[-1, "batches"]))

    def on_epoch_end(self, net, **kwargs):
        train_batches = [b for b in net.history[-1, "batches"] if "train_loss" in b]
        for number, batch in enumerate(train_batches, start=1):
            self._check(net, batch["train_loss"], number)

    @staticmethod
    def _check(net, loss: float, batch_number: int) -> None:
        if not math.isfinite(loss):
            raise FloatingPointError(
                f"The training loss became {loss} at epoch {len(net.history)}, batch "
                f"{batch_number}. Training diverged: try a lower lr (it is "
                f"{net.lr}) or standardise the inputs and regression targets."
            )
