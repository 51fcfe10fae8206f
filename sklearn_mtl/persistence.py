"""Saving fitted estimators without pickle: plain data and safetensors in one file.

``save(estimator, path)`` writes a zip file holding ``metadata.json`` (the
format and its version, the estimator's class and hyper-parameters, its
fitted attributes and label encodings as typed JSON, the training history)
and, for a network, ``weights.safetensors`` (the module's and the loss's
tensors). ``load(path)`` rebuilds the estimator from them. Loading never
executes code from the file: JSON is parsed as data, safetensors holds only
tensors, and the only classes it instantiates are the package's estimators
and input encoder and scikit-learn's ``OrdinalEncoder``, named in the file
and looked up in an allow-list, their attributes set from plain data.

The linear estimators are plain numpy models, which scikit-learn's secure
persistence library skops also carries: ``skops.io.dump(model, file)`` and
``skops.io.load(file, trusted=skops_trusted_types())``. A network holds torch
modules, which skops would carry only as pickled bytes (code on load), so
networks are saved with ``save`` only.

What is not plain data cannot be saved this way, and ``save`` says so:
``callbacks`` objects, a ``TaskWeighting`` instance as ``loss_weighting``, an
optimizer class outside the named ones. The ``accelerator`` is a run-time
object and is saved as None. The optimizer's state is not saved: training a
loaded model (``partial_fit``) starts a fresh optimizer.
"""

from __future__ import annotations

import json
import math
import zipfile

import numpy as np
import torch

FORMAT = "sklearn-mtl"
FORMAT_VERSION = 1
"""The version of the file layout; ``load`` refuses files of another version."""

_METADATA, _WEIGHTS = "metadata.json", "weights.safetensors"

__all__ = ["FORMAT_VERSION", "load", "save", "skops_trusted_types"]


def _allowed_classes() -> dict[str, type]:
    """The classes a file may name: every estimator of the package, and the encoders."""
    from sklearn.preprocessing import OrdinalEncoder

    import sklearn_mtl

    from ._inputs import InputEncoder

    classes = {
        name: getattr(sklearn_mtl, name) for name in sklearn_mtl.__all__ if name[0].isupper()
    }
    classes.update({"InputEncoder": InputEncoder, "OrdinalEncoder": OrdinalEncoder})
    return classes


def skops_trusted_types() -> list[str]:
    """The types to trust when loading a linear estimator of the package with skops.

    Returns
    -------
    types : list of str
        ``"module.Class"`` of every linear estimator, for
        ``skops.io.load(file, trusted=skops_trusted_types())``.
    """
    from .linear._base import BaseMultiTaskLinear

    return sorted(
        f"{cls.__module__}.{cls.__qualname__}"
        for cls in _allowed_classes().values()
        if isinstance(cls, type) and issubclass(cls, BaseMultiTaskLinear)
    )


def save(estimator, path) -> None:
    """Write a fitted estimator to ``path`` as JSON metadata and safetensors weights.

    Parameters
    ----------
    estimator : estimator of sklearn_mtl
        A fitted estimator (neural or linear).
    path : str or path-like
        The file to write (a zip archive; ``.mtl`` is a good suffix).

    Raises
    ------
    NotFittedError
        If ``estimator`` is not fitted.
    TypeError
        If a hyper-parameter or attribute is not plain data (e.g. callback
        objects); the message names it.
    """
    from safetensors.torch import save as save_tensors
    from sklearn.utils.validation import check_is_fitted

    name = type(estimator).__name__
    if _allowed_classes().get(name) is not type(estimator):
        raise TypeError(f"save takes an estimator of sklearn_mtl; got {name}.")
    check_is_fitted(estimator)
    params = estimator.get_params(deep=False)
    if "accelerator" in params:
        params["accelerator"] = None  # a run-time object, not part of the model
    if isinstance(params.get("optimizer"), type):
        params["optimizer"] = _optimizer_name(params["optimizer"])
    state = {
        key: value
        for key, value in vars(estimator).items()
        if key not in params and key != "net_" and not key.startswith("__")
    }
    metadata = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "sklearn_mtl_version": _package_version(),
        "estimator": name,
        "params": {key: _encode(value, f"params[{key!r}]") for key, value in params.items()},
        "state": {key: _encode(value, key) for key, value in state.items()},
    }
    weights = None
    net = getattr(estimator, "net_", None)
    if net is not None:
        metadata["history"] = _encode(net.history.to_list(), "net_.history")
        tensors = {
            f"{part}.{key}": tensor.detach().cpu().contiguous().clone()
            for part, module in (("module", net.module_), ("criterion", net.criterion_))
            for key, tensor in module.state_dict().items()
        }
        weights = save_tensors(tensors)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(_METADATA, json.dumps(metadata))
        if weights is not None:
            archive.writestr(_WEIGHTS, weights)


def load(path, *, device=None):
    """Read an estimator written by :func:`save`.

    Parameters
    ----------
    path : str or path-like
        The file.
    device : str or None, default=None
        The torch device of a loaded network; None keeps the saved
        ``device`` parameter (load a GPU-trained model with ``device="cpu"``
        on a machine without one).

    Returns
    -------
    estimator : estimator of sklearn_mtl
        Fitted; its predictions equal the saved estimator's.

    Raises
    ------
    ValueError
        If the file is not of this format, is of another format version,
        names a class outside the allow-list, or is damaged.
    """
    from safetensors.torch import load as load_tensors

    try:
        with zipfile.ZipFile(path) as archive:
            metadata = json.loads(archive.read(_METADATA))
            weights = archive.read(_WEIGHTS) if _WEIGHTS in archive.namelist() else None
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError) as error:
        raise ValueError(f"{str(path)!r} is not an sklearn_mtl model file: {error}") from None
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
        raise ValueError(f"{str(path)!r} is not an sklearn_mtl model file.")
    version = metadata.get("format_version")
    if version != FORMAT_VERSION:
        raise ValueError(
            f"{str(path)!r} was written in format version {version!r} (by sklearn_mtl "
            f"{metadata.get('sklearn_mtl_version')}); this sklearn_mtl "
            f"({_package_version()}) reads format version {FORMAT_VERSION}."
        )
    allowed = _allowed_classes()
    name = metadata.get("estimator")
    if name not in allowed:
        raise ValueError(f"{str(path)!r} names the class {name!r}, which is not an estimator.")
    try:
        params = {key: _decode(value, allowed) for key, value in metadata["params"].items()}
        estimator = allowed[name](**params)
        state = {key: _decode(value, allowed) for key, value in metadata["state"].items()}
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"{str(path)!r} is damaged: {error}") from None
    estimator.__dict__.update(state)
    if device is not None:
        estimator.set_params(device=device)
    if hasattr(estimator, "_make_net"):
        if weights is None:
            raise ValueError(f"{str(path)!r} is damaged: the network's weights are missing.")
        _restore_net(estimator, load_tensors(weights), _decode(metadata["history"], allowed))
    return estimator


def _restore_net(estimator, tensors: dict, history: list) -> None:
    """Build the estimator's net as ``fit`` does and fill it with the saved tensors."""
    from skorch.history import History

    fitted = {
        name: getattr(estimator, name)
        for name in ("classes_", "target_mean_", "target_scale_")
        if hasattr(estimator, name)
    }
    with torch.random.fork_rng(devices=[]):
        net, _, device = estimator._make_net(
            estimator._input_encoder, estimator._task_types, estimator._head_sizes, fitted,
            estimator._single_output, estimator._seed, partial=False,
        )  # fmt: skip
        net.initialize()
    for part, module in (("module", net.module_), ("criterion", net.criterion_)):
        saved = {
            key[len(part) + 1 :]: tensor
            for key, tensor in tensors.items()
            if key.startswith(part + ".")
        }
        try:
            module.load_state_dict(saved)
        except RuntimeError as error:
            raise ValueError(f"The saved {part} weights do not fit the network: {error}") from None
        module.to(device)
    net.history = History(history)
    net.device = device
    estimator.net_ = net


def _optimizer_name(optimizer: type) -> str:
    from .base import OPTIMIZERS

    for name, cls in OPTIMIZERS.items():
        if cls is optimizer:
            return name
    raise TypeError(
        f"params['optimizer'] is {optimizer.__name__}, which is not one of the named "
        f"optimizers {sorted(OPTIMIZERS)}; it cannot be saved as plain data."
    )


def _package_version() -> str:
    import sklearn_mtl

    return sklearn_mtl.__version__


_PLAIN_KINDS = "biufcUS"  # bool, int, uint, float, complex, unicode, bytes


def _encode(value, where: str):
    """``value`` as JSON-able data that :func:`_decode` turns back into it."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int) and not isinstance(value, np.integer):
        return value
    if isinstance(value, float) and not isinstance(value, np.floating):
        return value if math.isfinite(value) else {"__float__": repr(value)}
    if isinstance(value, np.generic):
        if value.dtype.kind not in _PLAIN_KINDS:
            raise TypeError(f"{where} is a numpy {value.dtype} scalar; it cannot be saved.")
        return {"__scalar__": value.dtype.str, "value": _encode(value.item(), where)}
    if isinstance(value, np.ndarray):
        if value.dtype.kind in _PLAIN_KINDS:
            data = [_encode(v, where) for v in value.ravel().tolist()]
            return {"__ndarray__": value.dtype.str, "shape": list(value.shape), "data": data}
        if value.dtype.kind == "O":
            data = [_encode(v, f"{where}[...]") for v in value.ravel()]
            return {"__ndarray__": "object", "shape": list(value.shape), "data": data}
        raise TypeError(f"{where} is an array of dtype {value.dtype}; it cannot be saved.")
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v, f"{where}[{i}]") for i, v in enumerate(value)]}
    if isinstance(value, list):
        return [_encode(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {"__dict__": [[_encode(k, where), _encode(v, f"{where}[{k!r}]")]
                             for k, v in value.items()]}  # fmt: skip
    if isinstance(value, torch.device):
        return {"__device__": str(value)}
    if isinstance(value, type) and issubclass(value, np.generic):  # e.g. dtype=np.float64
        return {"__dtype__": _plain_dtype(np.dtype(value).str).str}
    name = type(value).__name__
    if _allowed_classes().get(name) is type(value) and name in ("InputEncoder", "OrdinalEncoder"):
        state = {k: _encode(v, f"{where}.{k}") for k, v in vars(value).items()}
        return {"__object__": name, "state": state}
    if value is _pd_na():
        return {"__na__": True}
    raise TypeError(
        f"{where} is a {type(value).__module__}.{name}, which is not plain data and cannot "
        "be saved by sklearn_mtl.save; set it to a name or None (or use pickle, which "
        "executes code on load)."
    )


def _decode(value, allowed: dict):
    """The inverse of :func:`_encode`; instantiates only the classes in ``allowed``."""
    if isinstance(value, list):
        return [_decode(v, allowed) for v in value]
    if not isinstance(value, dict):
        return value
    if "__float__" in value:
        return float(value["__float__"])
    if "__scalar__" in value:
        return _plain_dtype(value["__scalar__"]).type(_decode(value["value"], allowed))
    if "__ndarray__" in value:
        data = [_decode(v, allowed) for v in value["data"]]
        if value["__ndarray__"] == "object":
            array = np.empty(len(data), dtype=object)
            array[:] = data
        else:
            array = np.array(data, dtype=_plain_dtype(value["__ndarray__"]))
        return array.reshape(value["shape"])
    if "__tuple__" in value:
        return tuple(_decode(v, allowed) for v in value["__tuple__"])
    if "__dict__" in value:
        return {_decode(k, allowed): _decode(v, allowed) for k, v in value["__dict__"]}
    if "__device__" in value:
        return torch.device(value["__device__"])
    if "__dtype__" in value:
        return _plain_dtype(value["__dtype__"]).type
    if "__na__" in value:
        return _pd_na()
    if "__object__" in value:
        name = value["__object__"]
        if name not in ("InputEncoder", "OrdinalEncoder"):
            raise ValueError(f"the class {name!r} may not be instantiated from a file")
        instance = object.__new__(allowed[name])
        instance.__dict__.update({k: _decode(v, allowed) for k, v in value["state"].items()})
        return instance
    raise ValueError(f"unknown entry {sorted(value)[:3]}")


def _plain_dtype(text: str) -> np.dtype:
    dtype = np.dtype(text)
    if dtype.kind not in _PLAIN_KINDS:
        raise ValueError(f"the dtype {text!r} is not plain data")
    return dtype


def _pd_na():
    import pandas as pd

    return pd.NA
