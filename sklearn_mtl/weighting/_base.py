"""The interface every task-weighting method implements.

A weighting turns the per-task losses of a batch, shape ``(n_tasks,)``, into
gradients. Loss-level methods (equal, fixed, uncertainty, DWA) return a scalar
objective from :meth:`TaskWeighting.combine`; gradient-level methods (MGDA,
PCGrad, GradNorm) set ``grad`` themselves in :meth:`TaskWeighting.backward`,
from the task gradients with respect to the shared representation or the
shared parameters. A weighting is an ``nn.Module`` held by the criterion, so
its learnable parameters (uncertainty's log-variances, GradNorm's weights) are
trained by the net's optimizer.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from skorch.callbacks import Callback
from torch import Tensor, nn


class TaskWeighting(nn.Module):
    """Base class: equal weights; subclasses override what they change.

    ``setup(task_types)`` is called once per ``fit``, before the optimizer is
    built, with each task's type (``"binary"``, ``"multiclass"``,
    ``"regression"`` or ``"probabilistic"``: the ``kind`` of its encoder in
    :mod:`sklearn_mtl._task_encoders`).
    """

    #: The ``loss_weighting`` name of a method of this package (None: not registered).
    name: str | None = None
    #: Whether :meth:`backward` needs the task gradients (extra backward passes).
    gradient_based: bool = False
    #: Whether every process of a data-parallel fit computes the same objective
    #: (no learnt, observed or per-task-gradient state that would differ).
    data_parallel: bool = False
    #: Whether the method is built from the estimator's ``task_weights``.
    takes_task_weights: bool = False

    def setup(self, task_types: Sequence[str]) -> None:
        self.task_types = list(task_types)
        self.n_tasks = len(task_types)
        # Zero: the losses were once summed into it in place; model files and
        # checkpoints list it, and a checkpoint's criterion stays the same
        # from epoch to epoch under a weighting that learns nothing.
        self.register_buffer("loss_sum", torch.zeros(self.n_tasks))
        self.register_buffer("ones", torch.ones(self.n_tasks))
        self.observed: list[Tensor] = []

    def __setstate__(self, state) -> None:
        # a weighting pickled by an earlier version counted n_batches
        if "n_batches" in state:
            state = {k: v for k, v in state.items() if k != "n_batches"}
            state["observed"] = []
        super().__setstate__(state)

    def weights(self) -> Tensor:
        """The weights of the task losses in use now, shape ``(n_tasks,)``."""
        return self.ones  # a buffer: no allocation per training step

    def combine(self, task_losses: Tensor) -> Tensor:
        """The scalar training objective of a batch."""
        return (self.weights() * task_losses).sum()

    def backward(self, task_losses: Tensor, representation: Tensor, parameters) -> Tensor:
        """Set the gradients of a batch; return the objective for logging."""
        objective = self.combine(task_losses)
        objective.backward()
        return objective

    def observe(self, task_losses: Tensor) -> None:
        """Keep a training batch's task losses, detached, until the epoch ends.

        A list append (about 1 us): no device synchronisation, and no
        in-place sum per step, which cost 40 us of a 3.5 ms step here.
        """
        self.observed.append(task_losses.detach())

    def resume(self, history) -> None:
        """Take up a fit resumed from a checkpoint with ``history``, its epochs so far.

        The checkpoint holds the weighting's tensors (the criterion's state);
        a weighting that keeps other state rebuilds it here from the history
        (``train_task_losses`` and ``task_weights`` of each epoch).
        """

    def start_epoch(self) -> None:
        """Forget the losses of an epoch that did not finish (an interrupted one)."""
        self.observed = []

    def end_epoch(self) -> Tensor:
        """Mean training task losses of the epoch that ended; starts the next one."""
        observed, self.observed = self.observed, []
        if not observed:
            return self.ones.new_zeros(self.n_tasks)
        return torch.stack(observed).mean(dim=0)


class RecordTaskWeights(Callback):
    """Record the weights used and the mean task losses of every epoch in the history.

    Keys: ``task_weights`` and ``train_task_losses`` (lists of floats), read
    before the weighting's end-of-epoch update (DWA's) takes effect.
    """

    def on_epoch_begin(self, net, **kwargs):
        net.criterion_.weighting.start_epoch()

    def on_epoch_end(self, net, **kwargs):
        weighting = net.criterion_.weighting
        net.history.record("task_weights", weighting.weights().detach().cpu().tolist())
        net.history.record("train_task_losses", weighting.end_epoch().cpu().tolist())


def task_gradients(task_losses: Tensor, inputs: Sequence[Tensor]) -> list[tuple]:
    """``d L_t / d inputs`` for every task, keeping the graph for the final backward.

    Returns one tuple per task, with ``None`` where an input does not affect
    the task.
    """
    return [
        torch.autograd.grad(loss, inputs, retain_graph=True, allow_unused=True)
        for loss in task_losses
    ]
