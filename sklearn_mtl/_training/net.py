"""The private skorch net every neural estimator builds in ``fit``."""

from __future__ import annotations

import re
import sys
import types
from collections.abc import Mapping

import torch
from skorch import NeuralNet
from skorch.callbacks import Callback
from skorch.dataset import get_len, unpack_data
from skorch.utils import to_tensor
from torch import nn

from .compiling import CUDA_GRAPH_MODES, forward_code_for, silence_compiler_notices
from .data import BatchLoader

_ANSI_CODES = re.compile(r"\x1b\[[0-9;]*m")


def print_log_sink(text: str) -> None:
    """Print skorch's epoch table; its colours only where standard output is a terminal.

    skorch's ``PrintLog`` marks the best values with ANSI colour codes, which
    a log file or a notebook without a terminal shows as raw escapes.
    """
    isatty = getattr(sys.stdout, "isatty", None)
    if not (isatty and isatty()):
        text = _ANSI_CODES.sub("", text)
    print(text)


class MultiTaskNeuralNet(NeuralNet):
    """A skorch ``NeuralNet`` for multi-task targets.

    Batches are ``({"X": inputs, "sample_weight": weights}, targets)`` made by
    :class:`~sklearn_mtl._training.data.BatchLoader`, or ``(inputs, targets)`` when every
    label is present with unit weight; the per-task weights (zero for a
    missing label) travel inside ``X`` as skorch recommends, reach the
    criterion in :meth:`get_loss` and never reach the module. The criterion
    returns one loss per task; the training loss is their sum.
    """

    def __init__(
        self, module, criterion, *, loss_sync="batch", penalty=None, compile_mode=None, **kwargs
    ):
        kwargs.setdefault("iterator_train", BatchLoader)
        kwargs.setdefault("iterator_valid", BatchLoader)
        if kwargs.get("verbose", 1):  # skorch's PrintLog ignores verbose for other sinks
            kwargs.setdefault("callbacks__print_log__sink", print_log_sink)
        super().__init__(module, criterion, **kwargs)
        if loss_sync not in ("batch", "epoch"):
            raise ValueError(f"loss_sync must be 'batch' or 'epoch'; got {loss_sync!r}.")
        self.loss_sync = loss_sync
        self.penalty = penalty
        self.compile_mode = compile_mode

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

    def notify(self, method_name, **cb_kwargs):
        # skorch calls every callback's method at every hook, three hooks a
        # step; most are Callback's no-op. Call those that implement it.
        getattr(self, method_name)(self, **cb_kwargs)
        for callback in self._listeners(method_name):
            getattr(callback, method_name)(self, **cb_kwargs)

    def _listeners(self, method_name: str) -> list:
        """The callbacks in ``callbacks_`` whose ``method_name`` is not skorch's no-op."""
        callbacks = self.callbacks_
        cache = self.__dict__.get("_listener_cache")
        if cache is None or cache[0] is not callbacks or cache[1] != len(callbacks):
            cache = self._listener_cache = (callbacks, len(callbacks), {})
        listeners = cache[2].get(method_name)
        if listeners is None:
            listeners = cache[2][method_name] = [
                callback for _, callback in callbacks if _implements(callback, method_name)
            ]
        return listeners

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_listener_cache", None)
        state.pop("_compiled", None)  # never pickle compiled code: it is rebuilt on demand
        return state

    def __setstate__(self, state):
        state.setdefault("compile_mode", None)  # a net pickled before compiling existed
        super().__setstate__(state)

    def _step_optimizer(self, step_fn):
        # skorch passes the step as a closure to optimizer.step; the optimizers
        # that never call it twice step after it, as skorch's AccelerateMixin does.
        optimizers = [getattr(self, name + "_") for name in self._optimizers]
        if step_fn is None or not all(type(o) in CLOSURE_FREE_OPTIMIZERS for o in optimizers):
            return super()._step_optimizer(step_fn)
        step_fn()
        for optimizer in optimizers:
            optimizer.step()
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
        if self.compile_mode is not None and self.module_.training and torch.is_grad_enabled():
            if self.compile_mode in CUDA_GRAPH_MODES:
                # a new training step: the previous step's graph outputs may be reused
                torch.compiler.cudagraph_mark_step_begin()
            return self.compiled_module()(to_tensor(x, device=self.device), **fit_params)
        return super().infer(x, **fit_params)

    def compiled_module(self):
        """``torch.compile`` of ``module_``'s forward in ``compile_mode``, for training steps.

        Made once per module and kept out of pickles. It shares ``module_``'s
        parameters; evaluation and prediction use ``module_`` itself, so that
        switching to eval mode or to ``no_grad`` recompiles nothing. A full
        graph (``fullgraph=True``): every architecture compiles without a
        graph break. torch keeps its compiled variants on the code object of
        the compiled function, at most ``torch._dynamo.config.recompile_limit``
        (8) of them, which every network would share; each network structure
        therefore compiles its own copy of ``forward``'s code
        (:func:`forward_code_for`): a refit of the same structure (a search's
        folds, a clone) reuses the compiled code, and a search over many
        architectures never reaches that limit.
        """
        cached = self.__dict__.get("_compiled")
        if cached is None or cached[0] is not self.module_:
            mode = None if self.compile_mode == "default" else self.compile_mode
            forward = forward_code_for(self.module_)
            silence_compiler_notices()
            compiled = torch.compile(
                types.MethodType(forward, self.module_), mode=mode, fullgraph=True
            )
            cached = self._compiled = (self.module_, compiled)
        return cached[1]

    def get_task_losses(self, y_pred, y_true, X):
        """Per-task losses of a batch, shape ``(n_tasks,)``."""
        weight = X["sample_weight"] if isinstance(X, Mapping) else None
        return self.criterion_(y_pred, y_true, weight)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """The weighted objective in training; the plain sum of task losses otherwise.

        Validation losses are not weighted, so that early stopping compares
        epochs on one scale whatever the weighting learns.
        """
        task_losses = self.get_task_losses(y_pred, y_true, X)
        if training:
            weighting = self.criterion_.weighting
            weighting.observe(task_losses)
            loss = weighting.combine(task_losses)
        else:
            loss = task_losses.sum()
        if self.penalty is not None:  # a label-free term on the outputs, e.g. a funnel
            loss = loss + self.penalty(y_pred)
        return loss

    def train_step_single(self, batch, **fit_params):
        """skorch's step, or, for a gradient-based weighting, one that lets it set the grads.

        The shared representation is caught with a forward hook on the
        architecture's ``shared_representation()`` module.
        """
        weighting = self.criterion_.weighting
        if not weighting.gradient_based:
            return super().train_step_single(batch, **fit_params)
        self._set_training(True)
        Xi, yi = unpack_data(batch)
        captured = []
        layer = self.module_.model.shared_representation()
        hook = layer.register_forward_hook(lambda module, inputs, output: captured.append(output))
        try:
            y_pred = self.infer(Xi, **fit_params)
        finally:
            hook.remove()
        representation = captured[0]
        if not representation.requires_grad:
            raise ValueError(
                f"loss_weighting={type(weighting).__name__} needs a shared layer with "
                "parameters, and this architecture's shared representation has none "
                "(e.g. ESMM with bottom_units=()); add one or pick a loss-level weighting."
            )
        task_losses = self.get_task_losses(y_pred, yi, Xi)
        weighting.observe(task_losses)
        objective = task_losses.new_zeros(())
        if self.penalty is not None:  # its gradient first; the weighting adds to it
            objective = self.penalty(y_pred)
            objective.backward(retain_graph=True)
        parameters = list(self.module_.parameters())
        objective = objective.detach() + weighting.backward(task_losses, representation, parameters)
        return {"loss": objective, "y_pred": y_pred}


CLOSURE_FREE_OPTIMIZERS = (
    torch.optim.Adam,
    torch.optim.AdamW,
    torch.optim.SGD,
    torch.optim.RMSprop,
    torch.optim.Adagrad,
)
"""Optimizers that evaluate a step's closure once, if at all (unlike ``LBFGS``)."""


def _implements(callback, method_name: str) -> bool:
    """Whether ``callback.method_name`` does something: not the base ``Callback``'s no-op."""
    if not isinstance(callback, Callback) or method_name in vars(callback):
        return True
    return getattr(type(callback), method_name, None) is not getattr(Callback, method_name, None)
