"""Checks of a file's safetensors header against the network, before a tensor is read.

The expected tensors are the network's, built on torch's ``meta`` device
(which allocates nothing); the header must name exactly those, with their
shapes and dtypes, and its data must end where the member ends.
"""

from __future__ import annotations

import json
import struct

import torch

from ._checks import is_int_list

__all__ = ["check_finite_tensors", "check_tensors", "read_safetensors_header"]

MAX_HEADER_BYTES = 100_000_000
"""The largest safetensors header read (safetensors' own limit)."""

SAFETENSORS_DTYPES = {
    torch.float64: "F64",
    torch.float32: "F32",
    torch.float16: "F16",
    torch.bfloat16: "BF16",
    torch.int64: "I64",
    torch.int32: "I32",
    torch.int16: "I16",
    torch.int8: "I8",
    torch.uint8: "U8",
    torch.bool: "BOOL",
}


def read_safetensors_header(file, size: int) -> tuple[dict, int]:
    """The header of a safetensors member read from ``file``, and where its data starts."""
    start = file.read(8)
    if len(start) != 8:
        raise ValueError("the weights are truncated")
    (length,) = struct.unpack("<Q", start)
    if length > min(MAX_HEADER_BYTES, size - 8):
        raise ValueError(f"the weights declare a {length}-byte header in {size} bytes")
    header = json.loads(file.read(length))
    if not isinstance(header, dict):
        raise ValueError("the weights header is not a JSON object")
    header.pop("__metadata__", None)
    return header, 8 + length


def check_tensors(header: dict, expected: dict[str, torch.Tensor], data_start: int, size: int):
    """The header names the architecture's tensors, with its shapes and dtypes, and no more.

    ``expected`` holds tensors on the ``meta`` device. The data must end
    where the member ends, so what is read is what the architecture needs.
    """
    if set(header) != set(expected):
        missing = sorted(set(expected) - set(header))[:3]
        unknown = sorted(set(header) - set(expected))[:3]
        raise ValueError(
            f"the weights do not fit the network (missing {missing}, unknown {unknown})"
        )
    end = 0
    for name, tensor in expected.items():
        entry = header[name]
        shape = list(tensor.shape)
        dtype = SAFETENSORS_DTYPES.get(tensor.dtype)
        fits = isinstance(entry, dict) and entry.get("shape") == shape
        if not fits or entry.get("dtype") != dtype:
            raise ValueError(
                f"the weights' {name} is not a {dtype} tensor of shape {shape}, as the "
                "network's parameters imply"
            )
        offsets = entry.get("data_offsets")
        if not is_int_list(offsets, 2, minimum=0) or offsets[1] < offsets[0]:
            raise ValueError(f"the weights' {name} has bad data offsets")
        end = max(end, offsets[1])
    if data_start + end != size:
        raise ValueError(f"the weights hold {size} bytes where the tensors need {data_start + end}")


def check_finite_tensors(tensors: dict[str, torch.Tensor]) -> None:
    for name, tensor in tensors.items():
        if tensor.is_floating_point() and not torch.isfinite(tensor).all():
            raise ValueError(f"the weights' {name} holds NaN or infinite values")
