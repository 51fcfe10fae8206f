"""Saving fitted estimators without pickle: plain data and safetensors in one file.

``save(estimator, path)`` writes a zip file holding ``metadata.json`` (the
format and its version, the estimator's class and hyper-parameters, its
fitted attributes and label encodings as typed JSON, the training history)
and, for a network, ``weights.safetensors`` (the module's and the loss's
tensors). The file is written atomically (a temporary file in the same
folder, flushed, then renamed over ``path``). ``load(path)`` rebuilds the
estimator from it.

``load`` treats the file as untrusted. It never executes code from it: JSON is
parsed as data, safetensors holds only tensors, and the only classes it
instantiates are the package's estimators (with the label model of
:mod:`sklearn_mtl.weak`) and input encoder and scikit-learn's
``OrdinalEncoder``, named in the file and looked up in an allow-list. It
bounds what it reads by the file's own size (a member may decompress to at
most ``MAX_EXPANSION`` times its compressed size), validates the
hyper-parameters with the estimator's constraints, sets fitted attributes only
(never a method), checks them against each other, checks the tensors'
shapes in the safetensors header against the architecture built on torch's
``meta`` device before reading any tensor, refuses non-finite weights, and
predicts on a probe input before returning. Every refusal is a
:class:`ModelFileError` (a ``ValueError``) that says what is wrong.

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
import os
import zipfile

from ..estimators._fit_state import FILE_STATE, FitState
from ..estimators._parameters import with_parameters_added_later
from ..utils._files import atomic_write
from ..utils._registry import package_version
from . import _checks as checks
from ._allow_list import allowed_classes, savable_classes
from ._pipeline import STEPS_MEMBER as _STEPS
from ._probe import probe
from ._typed_json import decode, encode
from ._upgrades import flat_architecture_parameters
from ._weights import read_member, restore_net, trained_with

FORMAT = "sklearn-mtl"
FORMAT_VERSION = 1
"""The version of the file layout; ``load`` refuses files of another version."""

MAX_EXPANSION = 50
"""A member of the file may decompress to at most this many times its compressed size
(or ``MIN_MEMBER_CAP``, if more): saved metadata compresses 3-8 times, weights barely."""

MIN_MEMBER_CAP = 1 << 20

_METADATA, _WEIGHTS = "metadata.json", "weights.safetensors"


class ModelFileError(ValueError):
    """A file that :func:`load` refuses, with the reason.

    Raised for a file that is not a model file of this format (a pickle, a
    truncated or foreign zip, a directory), of another format version, too
    large for its compressed size, naming a class or setting an attribute
    outside the allow-list, holding parameters that fail the estimator's
    constraints, fitted attributes inconsistent with each other, or weights
    that do not fit the network or are not finite.
    """


def save(estimator, path) -> None:
    """Write a fitted estimator to ``path`` as JSON metadata and safetensors weights.

    The file is written atomically: to a temporary file in the same folder,
    flushed to disk, then moved over ``path``. A save that fails (a full
    disk, a killed process, an exception) leaves a file already at ``path``
    as it was; two processes saving to one path leave one complete model.

    Parameters
    ----------
    estimator : estimator of sklearn_mtl, or Pipeline
        A fitted estimator (neural or linear, or the label model of
        :mod:`sklearn_mtl.weak`), or a fitted ``Pipeline`` whose last step is
        one and whose other steps are scikit-learn transformers
        (``ColumnTransformer``, ``OneHotEncoder``, ``StandardScaler``, ...;
        see :data:`sklearn_mtl.persistence._pipeline.TRANSFORMER_MODULES`), which are
        written with skops (``pip install 'sklearn-mtl[pipeline]'``).
    path : str or path-like
        The file to write (a zip archive; ``.mtl`` is a good suffix).

    Raises
    ------
    NotFittedError
        If ``estimator`` is not fitted.
    TypeError
        If a hyper-parameter or attribute is not plain data (e.g. callback
        objects), or a pipeline step is not an allowed transformer; the
        message names it.
    """
    from sklearn.pipeline import Pipeline

    pipeline = steps = None
    if isinstance(estimator, Pipeline):
        from . import _pipeline as _file_pipeline

        pipeline, estimator = estimator, estimator.steps[-1][1]
        if savable_classes().get(type(estimator).__name__) is not type(estimator):
            raise TypeError(
                "save takes a Pipeline whose last step is an estimator of sklearn_mtl; its "
                f"last step is a {type(estimator).__name__}."
            )
        _file_pipeline.check_steps(pipeline)
        _require_skops()
    metadata, weights = _payload(estimator)
    if pipeline is not None:
        metadata = {
            **{key: metadata[key] for key in ("format", "format_version", "sklearn_mtl_version")},
            "estimator": "Pipeline",
            "steps": [name for name, _ in pipeline.steps],
            "verbose": bool(pipeline.verbose),
            "final_step": metadata,
        }
        steps = _file_pipeline.dump_steps(pipeline)
    text = json.dumps(metadata).encode()

    def write(file):
        with zipfile.ZipFile(file, "w") as archive:
            archive.writestr(_METADATA, text, compress_type=zipfile.ZIP_DEFLATED)
            if weights is not None:  # float weights hardly compress; stored, they read fast
                archive.writestr(_WEIGHTS, weights, compress_type=zipfile.ZIP_STORED)
            if steps is not None:
                archive.writestr(_STEPS, steps, compress_type=zipfile.ZIP_STORED)

    atomic_write(path, write)


def _payload(estimator) -> tuple[dict, bytes | None]:
    """The metadata of a fitted estimator of sklearn_mtl, and its weights (None: none)."""
    from safetensors.torch import save as save_tensors
    from sklearn.utils.validation import check_is_fitted

    from ..weak._label_model_file import label_model_state

    name = type(estimator).__name__
    allowed = allowed_classes()
    if savable_classes().get(name) is not type(estimator):
        raise TypeError(f"save takes an estimator of sklearn_mtl, or a Pipeline; got {name}.")
    check_is_fitted(estimator)
    params = estimator.get_params(deep=False)
    if "accelerator" in params:
        params["accelerator"] = None  # a run-time object, not part of the model
    if isinstance(params.get("optimizer"), type):
        params["optimizer"] = _optimizer_name(params["optimizer"])
    if name == "MultiTaskLabelModel":
        state = label_model_state(estimator)
    else:
        state = {
            key: value
            for key, value in vars(estimator).items()
            if key not in params and key not in ("net_", "_fit_state") and not key.startswith("__")
        }
        state.update(estimator._fit_state.file_state(network=hasattr(estimator, "net_")))
    metadata = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "sklearn_mtl_version": package_version(),
        "estimator": name,
        "params": {
            key: encode(value, f"params[{key!r}]", allowed) for key, value in params.items()
        },
        "state": {key: encode(value, key, allowed) for key, value in state.items()},
    }
    weights = None
    net = getattr(estimator, "net_", None)
    if net is not None:
        metadata["history"] = encode(net.history.to_list(), "net_.history", allowed)
        tensors = {
            f"{part}.{key}": tensor.detach().cpu().contiguous().clone()
            for part, module in (("module", net.module_), ("criterion", net.criterion_))
            for key, tensor in module.state_dict().items()
        }
        weights = save_tensors(tensors)
    return metadata, weights


def _require_skops() -> None:
    try:
        import skops.io  # noqa: F401
    except ImportError:
        raise ImportError(
            "save writes a pipeline's scikit-learn steps with skops, which is not installed: "
            "pip install 'sklearn-mtl[pipeline]' (or skops)."
        ) from None


def load(path, *, device=None):
    """Read an estimator written by :func:`save`.

    Nothing in the file is trusted: no code is run, no class outside the
    allow-list is instantiated, no attribute but a fitted one is set, and no
    memory is allocated before the size that needs it has been checked (see
    ``ModelFileError`` for what is refused).

    Parameters
    ----------
    path : str or path-like
        The file.
    device : str or None, default=None
        The torch device of a loaded network; None keeps the saved
        ``device`` parameter (load a GPU-trained model with ``device="cpu"``
        on a machine without one). Ignored for the linear estimators, which
        compute with numpy.

    Returns
    -------
    estimator : estimator of sklearn_mtl
        Fitted; its predictions equal the saved estimator's.

    Raises
    ------
    ModelFileError
        A ``ValueError``, for any file that is not a sound model file of this
        format and version; the message says what is wrong.
    FileNotFoundError, PermissionError
        If the file cannot be opened.
    """
    label = repr(os.fspath(path)) if isinstance(path, (str, os.PathLike)) else repr(path)
    if isinstance(path, (str, os.PathLike)) and os.path.isdir(path):
        raise ModelFileError(f"{label} is a directory, not an sklearn_mtl model file.")
    try:
        archive = zipfile.ZipFile(path)
    except (FileNotFoundError, PermissionError):
        raise
    except Exception as error:  # any failure to read a crafted zip
        raise ModelFileError(f"{label} is not an sklearn_mtl model file: {error}") from None
    with archive:
        try:
            return _load(archive, label, device)
        except ModelFileError:
            raise
        except Exception as error:
            detail = str(error) or type(error).__name__
            raise ModelFileError(f"{label} cannot be loaded: {detail}.") from error


def _load(archive: zipfile.ZipFile, label: str, device):
    members = _members(archive, label)
    metadata = _read_metadata(archive, members[_METADATA], label)
    if metadata.get("estimator") == "Pipeline":
        return _load_pipeline(archive, members, metadata, label, device)
    if _STEPS in members:
        raise ValueError(f"it holds {_STEPS}, which only a Pipeline's file has")
    return _load_estimator(archive, members, metadata, label, device)


def _load_pipeline(archive, members: dict, metadata: dict, label: str, device):
    """A ``Pipeline``: its scikit-learn steps (skops, allow-listed), then its last step."""
    from ._pipeline import pipeline_from_file

    steps = read_member(archive, members[_STEPS]) if _STEPS in members else None
    return pipeline_from_file(
        metadata, steps, lambda final: _load_estimator(archive, members, final, label, device)
    )


def _load_estimator(archive, members: dict, metadata: dict, label: str, device):
    """The estimator of sklearn_mtl that ``metadata`` (and the file's weights) describe."""
    allowed = allowed_classes()
    name = metadata.get("estimator")
    if not isinstance(name, str) or name not in savable_classes():
        raise ModelFileError(f"{label} names the class {str(name)[:60]!r}, which is not an "
                             "estimator of sklearn_mtl.")  # fmt: skip
    params, state = metadata.get("params"), metadata.get("state")
    if not isinstance(params, dict) or not isinstance(state, dict):
        raise ValueError("its params and state must be JSON objects")
    if name == "MultiTaskNet":
        params = flat_architecture_parameters(params)
    params = with_parameters_added_later(allowed[name], params)
    checks.check_param_names(allowed[name], params)
    estimator = allowed[name](**{key: decode(value, allowed) for key, value in params.items()})
    checks.check_params(estimator)
    if device is not None and "device" in params:
        estimator.set_params(device=device)
    if name == "MultiTaskLabelModel":
        return _load_label_model(estimator, state, members, allowed)
    neural = "device" in params
    checks.check_state_names(state, params, type(estimator))
    fitted = {key: decode(value, allowed) for key, value in state.items()}
    checks.check_fitted_state(fitted)
    checks.check_params_match_state(estimator.get_params(deep=False), fitted)
    estimator._fit_state = FitState.from_file_state(fitted)
    estimator.__dict__.update({k: v for k, v in fitted.items() if k not in FILE_STATE})
    if neural:
        if _WEIGHTS not in members:
            raise ValueError("the network's weights are missing")
        history = decode(metadata.get("history"), allowed)
        checks.check_history(history, estimator.n_tasks_)
        recipe = _net_recipe(estimator, history, label)
        restore_net(estimator, recipe, archive, members[_WEIGHTS], history)
    elif _WEIGHTS in members:
        raise ValueError(f"a {name} has no weights, but the file holds some")
    probe(estimator)
    return estimator


def _load_label_model(model, state: dict, members: dict, allowed: dict):
    """A ``MultiTaskLabelModel``: its checked fitted attributes, then a probe of its posterior."""
    import numpy as np

    from ..weak._label_model_file import check_label_model_state

    if _WEIGHTS in members:
        raise ValueError("a MultiTaskLabelModel has no weights, but the file holds some")
    fitted = {key: decode(value, allowed) for key, value in state.items()}
    model.__dict__.update(check_label_model_state(fitted, model))
    probe = np.full((2, model.n_sources_, model.n_tasks_), -1)
    probe[1] = 0  # every source votes class 0 on every task
    joint = model.predict_joint_proba(probe)
    if not (np.isfinite(joint).all() and np.allclose(joint.sum(axis=1), 1.0)):
        raise ValueError("the loaded label model gives no probabilities on a probe")
    return model


def _members(archive: zipfile.ZipFile, label: str) -> dict[str, zipfile.ZipInfo]:
    """The archive's members by name: metadata, and weights for a network; nothing else."""
    infos = archive.infolist()
    names = [info.filename for info in infos]
    if _METADATA not in names:
        raise ModelFileError(f"{label} is not an sklearn_mtl model file: it has no {_METADATA}.")
    if len(set(names)) != len(names) or not set(names) <= {_METADATA, _WEIGHTS, _STEPS}:
        raise ModelFileError(
            f"{label} is not an sklearn_mtl model file: it holds {sorted(names)[:4]}, not "
            f"{_METADATA}, {_WEIGHTS} and {_STEPS} at most once each."
        )
    for info in infos:
        cap = max(MIN_MEMBER_CAP, MAX_EXPANSION * info.compress_size)
        if info.file_size > cap:
            raise ModelFileError(
                f"{label} is refused: its {info.filename} declares {info.file_size} bytes "
                f"from {info.compress_size} compressed, more than {MAX_EXPANSION} times as "
                "many (a decompression bomb?)."
            )
    return dict(zip(names, infos))


def _read_metadata(archive, info, label: str) -> dict:
    try:
        metadata = json.loads(read_member(archive, info))
    except (ValueError, RecursionError) as error:  # JSON, UTF-8 or nesting
        raise ModelFileError(
            f"{label} is not an sklearn_mtl model file: its {_METADATA} is not valid JSON "
            f"({type(error).__name__})."
        ) from None
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
        raise ModelFileError(f"{label} is not an sklearn_mtl model file.")
    version = metadata.get("format_version")
    if version != FORMAT_VERSION:
        raise ModelFileError(
            f"{label} was written in format version {str(version)[:20]} (by sklearn_mtl "
            f"{str(metadata.get('sklearn_mtl_version'))[:20]}); this sklearn_mtl "
            f"({package_version()}) reads format version {FORMAT_VERSION}."
        )
    return metadata


def _net_recipe(estimator, history: list, label: str) -> tuple:
    """What builds the file's net, as its history shows it was trained; the device checked
    first, since this machine may lack it (any other error is the file's)."""
    from .._training.options import check_device

    try:
        check_device(estimator.device, type(estimator).__name__)
    except ValueError as error:
        raise ModelFileError(
            f"{label} holds a network for device={estimator.device!r}, which this machine "
            f"cannot use ({error}); load it with load(path, device='cpu')."
        ) from None
    return estimator._net_recipe(**trained_with(history))


def _optimizer_name(optimizer: type) -> str:
    from .._training.options import OPTIMIZERS

    for name, cls in OPTIMIZERS.items():
        if cls is optimizer:
            return name
    raise TypeError(
        f"params['optimizer'] is {optimizer.__name__}, which is not one of the named "
        f"optimizers {sorted(OPTIMIZERS)}; it cannot be saved as plain data."
    )
