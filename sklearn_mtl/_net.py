"""The private skorch net every neural estimator builds in ``fit``."""

from __future__ import annotations

import math
from collections.abc import Mapping

from skorch import NeuralNet
from skorch.callbacks import Callback
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

    def __init__(self, module, criterion, **kwargs):
        kwargs.setdefault("iterator_train", BatchLoader)
        kwargs.setdefault("iterator_valid", BatchLoader)
        super().__init__(module, criterion, **kwargs)

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
        return self.get_task_losses(y_pred, y_true, X).sum()


class StopOnNonFiniteLoss(Callback):
    """Raise as soon as a training batch's loss is NaN or infinite.

    Reads the loss skorch already recorded in the history, so the check costs
    no extra device synchronisation.
    """

    def on_batch_end(self, net, batch=None, training=False, **kwargs):
        if not training:
            return
        loss = net.history[-1, "batches", -1, "train_loss"]
        if not math.isfinite(loss):
            epoch = len(net.history)
            batch_number = len(net.history[-1, "batches"])
            raise FloatingPointError(
                f"The training loss became {loss} at epoch {epoch}, batch "
                f"{batch_number}. Training diverged: try a lower lr (it is "
                f"{net.lr}) or standardise the inputs and regression targets."
            )
