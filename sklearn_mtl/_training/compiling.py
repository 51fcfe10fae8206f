"""``torch.compile`` for training steps: one copy of ``forward`` per network structure."""

from __future__ import annotations

import types
import warnings

from torch import nn

__all__ = [
    "CUDA_GRAPH_MODES",
    "FORWARD_COPIES_KEPT",
    "forward_code_for",
    "silence_compiler_notices",
]


def silence_compiler_notices() -> None:
    """Hide torch's notice that it itself uses a deprecated ``torch.jit.script_method``.

    torch's inductor warns about its own code the first time it compiles; the
    user compiled nothing with ``torch.jit``. One filter, for that message only.
    """
    warnings.filterwarnings(
        "ignore", message=".*torch.jit.script_method.* is deprecated", category=DeprecationWarning
    )


CUDA_GRAPH_MODES = ("reduce-overhead", "max-autotune")
"""``torch.compile`` modes that capture CUDA graphs (on a GPU)."""

_FORWARD_COPIES: dict[tuple, types.FunctionType] = {}
FORWARD_COPIES_KEPT = 256
"""Network structures whose copy of ``forward`` (and compiled code) a process keeps."""


def forward_code_for(module: nn.Module) -> types.FunctionType:
    """``type(module).forward`` with a code object of its own per structure of ``module``.

    torch.compile's cache lives on the code object; the structure is the
    module's repr (its layers, sizes, activations, dropout).
    """
    key = (type(module), repr(module))
    forward = _FORWARD_COPIES.get(key)
    if forward is None:
        if len(_FORWARD_COPIES) >= FORWARD_COPIES_KEPT:
            del _FORWARD_COPIES[next(iter(_FORWARD_COPIES))]  # the oldest
        function = type(module).forward
        forward = _FORWARD_COPIES[key] = types.FunctionType(
            function.__code__.replace(),
            function.__globals__,
            function.__name__,
            function.__defaults__,
            function.__closure__,
        )
    return forward
