"""Typed JSON: estimator state as plain data, and back, without running code.

:func:`encode` turns hyper-parameters and fitted attributes (numbers,
strings, numpy scalars and arrays of plain dtypes, tuples, lists, dicts,
torch devices, numpy scalar types, the input encoders) into JSON-able data
that :func:`decode` turns back. Decoding reads untrusted data: it refuses
anything it does not know with :class:`DecodeError`, nests at most
``MAX_DEPTH`` levels, checks that an array's shape matches its data before
building it, bounds the width of string dtypes by the strings it holds, and
instantiates no class but the two input encoders, whose attributes it sets
from plain data.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

from ..estimators._architecture import Architecture
from ..estimators._parameters import ARCHITECTURE_PARAMETERS_ADDED_LATER

MAX_DEPTH = 64
"""The deepest nesting :func:`decode` reads (a saved model nests about 12 levels)."""

PLAIN_KINDS = "biufcUS"  # bool, int, uint, float, complex, unicode, bytes

ENCODER_CLASSES = ("InputEncoder", "OrdinalEncoder")
"""The only classes a file may instantiate, and only as holders of plain attributes."""


class DecodeError(ValueError):
    """Data that :func:`decode` cannot turn back into a value."""


def encode(value, where: str, allowed: dict[str, type]):
    """``value`` as JSON-able data that :func:`decode` turns back into it.

    Raises
    ------
    TypeError
        Naming ``where``, for a value that is not plain data.
    """

    def recurse(item, at):
        return encode(item, at, allowed)

    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int) and not isinstance(value, np.integer):
        return value
    if isinstance(value, float) and not isinstance(value, np.floating):
        return value if math.isfinite(value) else {"__float__": repr(value)}
    if isinstance(value, np.generic):
        if value.dtype.kind not in PLAIN_KINDS:
            raise TypeError(f"{where} is a numpy {value.dtype} scalar; it cannot be saved.")
        return {"__scalar__": value.dtype.str, "value": recurse(value.item(), where)}
    if isinstance(value, np.ndarray):
        if value.dtype.kind in PLAIN_KINDS:
            data = [recurse(v, where) for v in value.ravel().tolist()]
            return {"__ndarray__": value.dtype.str, "shape": list(value.shape), "data": data}
        if value.dtype.kind == "O":
            data = [recurse(v, f"{where}[...]") for v in value.ravel()]
            return {"__ndarray__": "object", "shape": list(value.shape), "data": data}
        raise TypeError(f"{where} is an array of dtype {value.dtype}; it cannot be saved.")
    if isinstance(value, tuple):
        return {"__tuple__": [recurse(v, f"{where}[{i}]") for i, v in enumerate(value)]}
    if isinstance(value, list):
        return [recurse(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {"__dict__": [[recurse(k, where), recurse(v, f"{where}[{k!r}]")]
                             for k, v in value.items()]}  # fmt: skip
    if isinstance(value, torch.device):
        return {"__device__": str(value)}
    if isinstance(value, type) and issubclass(value, np.generic):  # e.g. dtype=np.float64
        return {"__dtype__": plain_dtype(np.dtype(value).str).str}
    name = type(value).__name__
    if isinstance(value, Architecture) and allowed.get(name) is type(value):
        params = value.get_params(deep=False)
        return {"__architecture__": name,
                "params": {k: recurse(v, f"{where}.{k}") for k, v in params.items()}}  # fmt: skip
    if name in ENCODER_CLASSES and allowed.get(name) is type(value):
        state = {k: recurse(v, f"{where}.{k}") for k, v in vars(value).items()}
        return {"__object__": name, "state": state}
    if value is _pd_na():
        return {"__na__": True}
    raise TypeError(
        f"{where} is a {type(value).__module__}.{name}, which is not plain data and cannot "
        "be saved by sklearn_mtl.save; set it to a name or None (or use pickle, which "
        "executes code on load)."
    )


def decode(value, allowed: dict[str, type], depth: int = 0):
    """The inverse of :func:`encode`, for untrusted data.

    Raises
    ------
    DecodeError
        For anything :func:`encode` does not write, nesting deeper than
        ``MAX_DEPTH``, an array whose shape does not match its data, or a
        number that does not fit its dtype.
    """
    if depth > MAX_DEPTH:
        raise DecodeError(f"the data nests more than {MAX_DEPTH} levels deep")
    if isinstance(value, list):
        return [decode(v, allowed, depth + 1) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if not isinstance(value, dict):
        raise DecodeError(f"unexpected {type(value).__name__}")
    tags = [key for key in value if key.startswith("__")]
    if len(tags) != 1:
        raise DecodeError(f"an entry must have one type tag; got {sorted(value)[:3]}")
    tag = tags[0]
    decoder = _DECODERS.get(tag)
    if decoder is None:
        raise DecodeError(f"unknown entry {tag!r}")
    try:
        return decoder(value, allowed, depth + 1)
    except DecodeError:
        raise
    except (TypeError, ValueError, OverflowError, KeyError, RuntimeError) as error:
        raise DecodeError(f"bad {tag} entry: {type(error).__name__}: {error}") from None


def _decode_float(value, allowed, depth):
    text = _expect(value["__float__"], str, "__float__")
    number = float(text)
    if math.isfinite(number):
        raise DecodeError(f"__float__ holds only nan and infinities; got {text!r}")
    return number


def _decode_scalar(value, allowed, depth):
    dtype = plain_dtype(_expect(value["__scalar__"], str, "__scalar__"))
    item = decode(value["value"], allowed, depth)
    if isinstance(item, (list, tuple, dict)):
        raise DecodeError(f"a {dtype.str} scalar holds a {type(item).__name__}")
    return _plain_array([item], dtype)[0]


def _decode_ndarray(value, allowed, depth):
    kind = _expect(value["__ndarray__"], str, "__ndarray__")
    shape = _expect(value["shape"], list, "shape")
    if not all(type(n) is int and n >= 0 for n in shape) or len(shape) > 32:
        raise DecodeError(f"an array shape must be a list of non-negative ints; got {shape[:5]}")
    data = [decode(v, allowed, depth) for v in _expect(value["data"], list, "data")]
    if math.prod(shape) != len(data):
        raise DecodeError(f"an array of shape {shape} cannot hold {len(data)} values")
    if kind == "object":
        array = np.empty(len(data), dtype=object)
        array[:] = data
    else:
        array = _plain_array(data, plain_dtype(kind))
    return array.reshape(shape)


def _decode_tuple(value, allowed, depth):
    return tuple(decode(v, allowed, depth) for v in _expect(value["__tuple__"], list, "__tuple__"))


def _decode_dict(value, allowed, depth):
    pairs = _expect(value["__dict__"], list, "__dict__")
    result = {}
    for pair in pairs:
        if not isinstance(pair, list) or len(pair) != 2:
            raise DecodeError("a __dict__ entry must be a list of [key, value] pairs")
        key = decode(pair[0], allowed, depth)
        if not isinstance(key, (str, int, float, bool, tuple)) and key is not None:
            raise DecodeError(f"a dict key must be plain; got {type(key).__name__}")
        result[key] = decode(pair[1], allowed, depth)
    return result


def _decode_device(value, allowed, depth):
    text = _expect(value["__device__"], str, "__device__")
    try:
        return torch.device(text)
    except RuntimeError:
        raise DecodeError(f"{text!r} is not a torch device") from None


def _decode_dtype(value, allowed, depth):
    return plain_dtype(_expect(value["__dtype__"], str, "__dtype__")).type


def _decode_na(value, allowed, depth):
    if value["__na__"] is not True:
        raise DecodeError("__na__ must be true")
    return _pd_na()


def _decode_object(value, allowed, depth):
    name = value["__object__"]
    if name not in ENCODER_CLASSES or name not in allowed:
        raise DecodeError(f"the class {name!r} may not be instantiated from a file")
    state = _expect(value["state"], dict, "state")
    attributes = {}
    for key, item in state.items():
        if not key.isidentifier() or key.startswith("__") or hasattr(allowed[name], key):
            raise DecodeError(f"{name} may not have the attribute {key!r} set from a file")
        attributes[key] = decode(item, allowed, depth)
    instance = object.__new__(allowed[name])
    instance.__dict__.update(attributes)
    return instance


def _decode_architecture(value, allowed, depth):
    """An architecture parameter object, built through its ``__init__`` and validated."""
    name = value["__architecture__"]
    cls = allowed.get(name) if isinstance(name, str) else None
    if not (isinstance(cls, type) and issubclass(cls, Architecture)):
        raise DecodeError(f"{str(name)[:40]!r} is not an architecture of sklearn_mtl")
    params = _expect(value["params"], dict, "params")
    expected = set(cls._get_param_names())
    missing = expected - set(params)  # a file from before a parameter existed: its old value
    if set(params) - expected or not missing <= set(ARCHITECTURE_PARAMETERS_ADDED_LATER):
        raise DecodeError(f"the {name} architecture must list exactly its parameters")
    decoded = {key: decode(item, allowed, depth) for key, item in params.items()}
    decoded |= {key: ARCHITECTURE_PARAMETERS_ADDED_LATER[key] for key in missing}
    architecture = cls(**decoded)
    architecture._validate_params()
    return architecture


_DECODERS: dict[str, Callable] = {
    "__float__": _decode_float,
    "__scalar__": _decode_scalar,
    "__ndarray__": _decode_ndarray,
    "__tuple__": _decode_tuple,
    "__dict__": _decode_dict,
    "__device__": _decode_device,
    "__dtype__": _decode_dtype,
    "__na__": _decode_na,
    "__object__": _decode_object,
    "__architecture__": _decode_architecture,
}


def _expect(value, kind: type, name: str):
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise DecodeError(f"{name} must be a {kind.__name__}; got {type(value).__name__}")
    return value


def _plain_array(data: list, dtype: np.dtype) -> np.ndarray:
    """``data`` as a 1-D array of ``dtype``, with no allocation sized by the dtype's tag.

    A string dtype may be wider than its longest value (``np.unique`` keeps
    the width of the labels' array), but not so much wider that the tag,
    rather than the data, decides how much memory the array takes.
    """
    if not all(isinstance(v, (bool, int, float, str, bytes)) for v in data):
        raise DecodeError(f"an array of dtype {dtype.str} holds values that are not plain")
    if dtype.kind in "iub" and not all(isinstance(v, (bool, int)) for v in data):
        raise DecodeError(f"an array of dtype {dtype.str} holds values that are not ints")
    if dtype.kind not in "US":
        return np.array(data, dtype=dtype)
    natural = np.array(data, dtype=dtype.kind) if data else np.array([], dtype=dtype.kind)
    if dtype.itemsize > natural.itemsize:
        if len(data) * dtype.itemsize > max(1 << 20, 16 * natural.nbytes):
            raise DecodeError(f"the dtype {dtype.str!r} is far wider than the strings it holds")
        return natural.astype(dtype)
    return np.array(data, dtype=dtype)


def plain_dtype(text: str) -> np.dtype:
    """The numpy dtype named ``text``, if it is plain data (no objects, no records)."""
    try:
        dtype = np.dtype(text)
    except TypeError:
        raise DecodeError(f"{text!r} is not a numpy dtype") from None
    if dtype.kind not in PLAIN_KINDS or dtype.fields is not None or dtype.subdtype is not None:
        raise DecodeError(f"the dtype {text!r} is not plain data")
    return dtype


def _pd_na():
    import pandas as pd

    return pd.NA
