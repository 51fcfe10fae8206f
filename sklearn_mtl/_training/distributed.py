"""Data-parallel training: Hugging Face Accelerate through skorch's ``AccelerateMixin``.

Every process of a ``torchrun`` / ``accelerate launch`` job calls ``fit`` on
the same data. The module is wrapped in ``DistributedDataParallel`` by the
accelerator, and the fast data path shards each global batch across the
processes (:class:`~sklearn_mtl._training.data.BatchLoader` with ``shard``), so the
averaged gradient is the one-process gradient of the whole batch.
"""

from __future__ import annotations

import contextlib

import torch
from skorch.hf import AccelerateMixin

from ..weighting import weighting_names
from .net import MultiTaskNeuralNet, print_log_sink


def _silent(*args, **kwargs):
    """A print sink that prints nothing."""


def check_accelerator(accelerator, device: torch.device, weighting, estimator: str):
    """Validate the ``accelerator`` parameter against the rest of the fit.

    Returns the accelerator, or None when training in this process alone.
    """
    if accelerator is None:
        return None
    if not weighting.data_parallel:
        raise ValueError(
            f"{estimator} with an accelerator needs a loss_weighting among "
            f"{weighting_names(data_parallel=True)}; "
            f"got {type(weighting).__name__}, whose state (learnt parameters, observed "
            "losses or per-task gradients) would differ between processes."
        )
    accelerator_device = torch.device(accelerator.device)
    if accelerator_device.type != device.type:
        raise ValueError(
            f"{estimator} got device={str(device)!r} but the accelerator trains on "
            f"{str(accelerator_device)!r}; set device={accelerator_device.type!r} "
            "(or Accelerator(cpu=True) to train on CPU processes)."
        )
    return accelerator


def distributed_net_options(accelerator, seed: int, device: torch.device):
    """``(net_class, net_options, seed, device)`` of a fit with or without an accelerator.

    With more than one process the seed of process 0 is sent to every process,
    so that all draw the same initialisation, validation split and row order.
    """
    if accelerator is None:
        return MultiTaskNeuralNet, {"device": device}, seed, device
    if accelerator.num_processes > 1:
        from accelerate.utils import broadcast_object_list

        seed = broadcast_object_list([seed], from_process=0)[0]
    options = {
        "accelerator": accelerator,
        "device": None if accelerator.device_placement else device,
        "iterator_train__shard": (accelerator.process_index, accelerator.num_processes),
    }
    device = torch.device(accelerator.device)
    if device.type == "cpu":  # accelerate says "cpu:0", which torch.load cannot map back
        device = torch.device("cpu")
    return AcceleratedMultiTaskNeuralNet, options, seed, device


@contextlib.contextmanager
def _barrier_on_the_training_device(accelerator):
    """Make ``accelerator.wait_for_everyone()`` wait without touching a GPU when training on CPUs.

    accelerate's barrier passes ``device_ids=[local_process_index]`` to
    ``torch.distributed.barrier``, which then allocates on the machine's
    accelerator even under a CPU (gloo) process group: with CPU processes on a
    machine with one GPU, rank 1 asks for GPU 1 and dies ("invalid device
    ordinal"). On CPUs the plain barrier is used instead.
    """
    if torch.device(accelerator.device).type != "cpu" or accelerator.num_processes < 2:
        yield
        return
    accelerator.wait_for_everyone = torch.distributed.barrier  # shadows the method
    try:
        yield
    finally:
        del accelerator.wait_for_everyone


def _unwrap_best_weights(callbacks) -> None:
    """Early stopping's best weights, keyed for the unwrapped module it loads them into.

    ``EarlyStopping`` copies the module's state during training, when it is
    wrapped in ``DistributedDataParallel`` (every key starts ``module.``); the
    mixin unwraps the module at the end of training, before the callback loads
    the best epoch's weights back.
    """
    for _, callback in callbacks:
        weights = getattr(callback, "best_model_weights_", None)
        if weights and all(key.startswith("module.") for key in weights):
            callback.best_model_weights_ = {
                key.removeprefix("module."): value for key, value in weights.items()
            }


class AcceleratedMultiTaskNeuralNet(AccelerateMixin, MultiTaskNeuralNet):
    """``MultiTaskNeuralNet`` trained by an ``accelerate.Accelerator``.

    Every process evaluates the whole validation set (it is not sharded), so
    the validation outputs are used as they are, not gathered.
    """

    def _initialize_accelerator(self):
        # With the weightings allowed here the criterion has no trainable
        # parameter, and DistributedDataParallel refuses a module without one:
        # only the module and the optimizer are prepared; the criterion moves.
        criteria, self._criteria = self._criteria, []
        try:
            super()._initialize_accelerator()
        finally:
            self._criteria = criteria
        for name in criteria:
            setattr(self, name + "_", getattr(self, name + "_").to(self.accelerator.device))
        return self

    def evaluation_step(self, batch, training=False):
        return MultiTaskNeuralNet.evaluation_step(self, batch, training=training)

    # skorch's mixin waits for every process in these three
    def on_train_end(self, net, X=None, y=None, **kwargs):
        with _barrier_on_the_training_device(self.accelerator):
            result = super().on_train_end(net, X=X, y=y, **kwargs)
        _unwrap_best_weights(self.callbacks_)
        return result

    def save_params(self, *args, **kwargs):
        with _barrier_on_the_training_device(self.accelerator):
            return super().save_params(*args, **kwargs)

    def load_params(self, *args, **kwargs):
        with _barrier_on_the_training_device(self.accelerator):
            return super().load_params(*args, **kwargs)

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        # The mixin unwraps the module at the end of training; a later
        # partial_fit must train it data-parallel again, so wrap it anew (the
        # optimizer holds the same parameters and stays prepared).
        if not self._wrapped_with_accelerator:
            for name in self._modules:
                module = getattr(self, name + "_")
                setattr(self, name + "_", self.accelerator.prepare_model(module))
            self._wrapped_with_accelerator = True
        return super().on_train_begin(net, X=X, y=y, **kwargs)

    def _initialize_callbacks(self):
        # skorch's PrintLog prints to any sink but ``print`` whatever ``verbose``
        # says, and the mixin's sink is ``accelerator.print``: silence it here,
        # and print from the main process only (without colour codes off a terminal).
        if self.callbacks__print_log__sink == "auto":
            printing = self.verbose and self.accelerator.is_main_process
            self.callbacks__print_log__sink = print_log_sink if printing else _silent
        return super()._initialize_callbacks()

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        """The epoch, then each batch's training loss averaged over the processes.

        Each process's loss is that of its share of the batch; the history
        records their mean, the loss of the whole batch, as one process would.
        """
        super().run_single_epoch(iterator, training, prefix, step_fn, **fit_params)
        key = prefix + "_loss"
        entries = [batch for batch in self.history[-1]["batches"] if key in batch]
        if training and entries and self.accelerator.num_processes > 1:
            losses = torch.tensor([entry[key] for entry in entries], device=self.accelerator.device)
            for entry, loss in zip(entries, self.accelerator.reduce(losses, "mean").tolist()):
                entry[key] = loss
