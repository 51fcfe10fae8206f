"""A net's training state, copied before more epochs and put back if they fail.

``warm_start`` and ``partial_fit`` train a fitted net further; when an epoch
fails (a diverged loss, a callback's error) the estimator must stay the one
fitted before the call, and the error must be the one raised.
"""

from __future__ import annotations

import copy

from torch.nn.parallel import DistributedDataParallel

__all__ = ["restore_snapshot", "training_snapshot"]


def training_snapshot(net) -> tuple:
    """What training changes (copies): the history's length, the modules and the optimizer.

    In one process the module, the criterion and the optimizer are copied
    together (one ``deepcopy``, so the copied optimizer holds the copied
    parameters): an epoch may replace the network by a grown one
    (``AdaptiveSharing``), whose weights no longer fit the old structure. A
    data-parallel net keeps its objects (the accelerator prepared them) and
    copies their state.
    """
    if getattr(net, "accelerator", None) is None:
        objects = copy.deepcopy((net.module_, net.criterion_, net.optimizer_))
        return (
            len(net.history),
            objects,
            (net.module is net.module_, net.criterion is net.criterion_),
        )
    modules = {
        name: copy.deepcopy(getattr(net, name + "_").state_dict())
        for name in ("module", "criterion")
    }
    return len(net.history), modules, copy.deepcopy(net.optimizer_.state_dict())


def restore_snapshot(net, snapshot: tuple) -> None:
    """Put ``net`` back in the state :func:`training_snapshot` copied."""
    epochs, saved, extra = snapshot
    del net.history[epochs:]
    if isinstance(saved, tuple):
        net.module_, net.criterion_, net.optimizer_ = saved
        same_module, same_criterion = extra  # skorch's parameters are the instances that train
        if same_module:
            net.module = net.module_
        if same_criterion:
            net.criterion = net.criterion_
        net.__dict__.pop("_compiled", None)
        return
    for name, module_state in saved.items():
        module = getattr(net, name + "_")
        # a failed data-parallel epoch can leave the module in its DDP wrapper
        module = module.module if isinstance(module, DistributedDataParallel) else module
        module.load_state_dict(module_state)
    net.optimizer_.load_state_dict(extra)
