"""Reading a model file's network: the weights checked against the architecture, then loaded.

Used by :func:`sklearn_mtl.load`; every check raises ``ValueError``.
"""

from __future__ import annotations

import contextlib
import zipfile

import torch

from . import _tensor_checks as tensor_checks


def read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """The member's bytes, never more than its declared (and capped) size."""
    with archive.open(info) as member:
        data = member.read(info.file_size + 1)
    if len(data) != info.file_size:
        raise ValueError(f"{info.filename} does not have its declared size")
    return data


def trained_with(history: list) -> dict:
    """How the history shows a net was trained: with a validation split, with a schedule."""
    return {
        "early_stopping": any("valid_loss" in epoch for epoch in history),
        "lr_schedule": any("event_lr" in epoch for epoch in history),
    }


def restore_net(estimator, recipe: tuple, archive, info, history: list) -> None:
    """Build the estimator's net once, fill it with the saved tensors, and hand it over.

    ``recipe`` is ``estimator._net_recipe(**trained_with(history))``. Before
    the net is built, its modules are built on torch's ``meta`` device (no
    memory), and the safetensors header must list exactly their tensors,
    shapes and dtypes; only then are the tensors read and the net built, so
    the memory used is what the file's own bytes hold. The estimator receives
    the net through its ``_restore`` hook.
    """
    from safetensors.torch import load as load_tensors
    from skorch.history import History

    from .._training.builder import build_modules, build_net

    options, architecture, build_arguments = recipe
    state = estimator._fit_state
    with archive.open(info) as member:
        header, data_start = tensor_checks.read_safetensors_header(member, info.file_size)
    with torch.random.fork_rng(devices=[]):
        with torch.device("meta"), tensor_budget(2 * len(header) + 64):
            expected = tensors_of(
                *build_modules(options, architecture, state, build_arguments=build_arguments)
            )
        tensor_checks.check_tensors(header, expected, data_start, info.file_size)
        tensors = load_tensors(read_member(archive, info))
        tensor_checks.check_finite_tensors(tensors)
        net, _, device = build_net(options, architecture, state, build_arguments=build_arguments)
        net.initialize()
    # Buffers that the fitted state determines (the input statistics, index
    # tables) must be the ones it builds, not whatever the file says.
    derived = {
        f"{part}.{key}": buffer.detach().cpu().clone()
        for part, module in (("module", net.module_), ("criterion", net.criterion_))
        for key, buffer in module.named_buffers()
        if part == "module" or not buffer.is_floating_point()
    }
    for key, buffer in derived.items():
        if not torch.equal(buffer, tensors[key]):
            raise ValueError(f"the weights' {key} does not match the fitted state")
    for part, module in (("module", net.module_), ("criterion", net.criterion_)):
        module.load_state_dict(
            {
                key[len(part) + 1 :]: value
                for key, value in tensors.items()
                if key.startswith(part + ".")
            }  # fmt: skip
        )
        module.to(device)
    net.history = History(history)
    net.device = device
    estimator._restore(net, architecture)


def tensors_of(module, criterion) -> dict:
    """Every tensor of the module and the criterion, by the name the file gives it."""
    return {
        f"{part}.{key}": tensor
        for part, part_module in (("module", module), ("criterion", criterion))
        for key, tensor in part_module.state_dict().items()
    }


@contextlib.contextmanager
def tensor_budget(n_tensors: int):
    """Stop building a network once it registers more tensors than ``n_tensors``.

    A file's parameters (e.g. ``n_levels=10**6``) can describe a network
    whose mere construction, even on the ``meta`` device, takes hours; its
    weights would have to list every tensor, so building stops, with a
    ``ValueError``, as soon as it has more than ``n_tensors`` (the caller
    allows a margin over the file's count, so that a file missing a few
    tensors is told which).
    """
    count = 0

    def hook(module, name, tensor):
        nonlocal count
        count += 1
        if count > n_tensors:
            raise ValueError(
                f"the parameters describe a network of more than {n_tensors} tensors, "
                "far more than its weights hold"
            )

    from torch.nn.modules import module as torch_module

    handles = [
        torch_module.register_module_parameter_registration_hook(hook),
        torch_module.register_module_buffer_registration_hook(hook),
    ]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()
