"""Checks of a model read from a file, before it is trusted with memory or predictions.

:func:`sklearn_mtl.load` reads untrusted data. It validates the
hyper-parameters with the estimator's own constraints before building
anything, the fitted attributes' types, shapes and values against each other,
the tensors' names, shapes and dtypes in the safetensors header against the
architecture the parameters describe (built on torch's ``meta`` device, which
allocates nothing) before reading the tensors, and finally runs the loaded
estimator on a probe input. Each check raises ``ValueError`` saying what is
wrong; ``load`` turns it into ``ModelFileError``.
"""

from __future__ import annotations

import math
import re
from numbers import Integral, Real

import numpy as np
import pandas as pd

from .._task_encoders import TASK_TYPES
from ..estimators._fit_state import FILE_STATE as PRIVATE_STATE

ONE_OUTPUT_TYPES = ("binary", "regression", "probabilistic")

_FITTED_NAME = re.compile(r"[a-z][a-z0-9_]*_")


def check_state_names(names, params, estimator_class: type) -> None:
    """A file's fitted state may set fitted attributes only: never a method or a parameter."""
    for name in names:
        fitted = isinstance(name, str) and (
            name in PRIVATE_STATE or (_FITTED_NAME.fullmatch(name) and not name.endswith("__"))
        )
        if not fitted or name in params or hasattr(estimator_class, name):
            raise ValueError(f"its state sets {str(name)[:40]!r}, which is not a fitted attribute")


def check_param_names(estimator_class: type, saved_names) -> None:
    """The file names exactly the estimator's parameters."""
    expected = set(estimator_class().get_params(deep=False))
    if set(saved_names) != expected:
        missing, unknown = sorted(expected - set(saved_names)), sorted(set(saved_names) - expected)
        raise ValueError(
            f"its parameters do not match {estimator_class.__name__}'s (missing {missing[:5]}, "
            f"unknown {[str(name)[:40] for name in unknown[:5]]})"
        )


def check_params(estimator) -> None:
    """The parameters are valid by the estimator's own constraints, and plain data."""
    estimator._validate_params()
    params = estimator.get_params(deep=False)
    if params.get("callbacks") not in (None, []):
        raise ValueError("callbacks must be None or empty in a file (save writes no callback)")
    if params.get("accelerator") is not None:
        raise ValueError("accelerator must be None in a file")
    for name in ("optimizer", "loss_weighting"):
        if name in params and not isinstance(params[name], str):
            raise ValueError(f"{name} must be a name in a file")


def check_params_match_state(params: dict, state: dict) -> None:
    """Parameters that describe the training data must describe the file's fitted state.

    ``MultiTaskNet``'s ``task_types`` must list the fitted tasks' types, and
    ``categorical_features`` (a mask, indices or names) the fitted categorical
    columns; other such parameters (``task_weights``, ``funnel``) are checked
    when the network is built.
    """
    kinds = params.get("task_types")
    fitted_kinds = state.get("_task_types")
    if kinds is not None:
        listed = [str(kind) for kind in np.asarray(kinds, dtype=object).ravel()]
        if listed != fitted_kinds:
            raise ValueError(
                f"its task_types parameter lists {len(listed)} task type(s) "
                f"({listed[:4]}{'...' if len(listed) > 4 else ''}), but the network was fitted "
                f"on {state['n_tasks_']} task(s) of types {fitted_kinds}"
            )
    spec = params.get("categorical_features")
    mask = state.get("is_categorical_")
    if spec is None or isinstance(spec, str) or mask is None:
        return
    from .._training.inputs import InputEncoder

    names = state.get("feature_names_in_")
    frame = None if names is None else pd.DataFrame(columns=[str(n) for n in names])
    implied = InputEncoder(spec, None, "the file")._categorical_mask(frame, len(mask))
    if not np.array_equal(implied, mask):
        raise ValueError("its categorical_features parameter does not give its categorical columns")


def check_fitted_state(state: dict) -> None:
    """Types, shapes and values of a file's fitted attributes, against each other."""
    n_features = _count(state, "n_features_in_")
    n_tasks = _count(state, "n_tasks_")
    single = state.get("_single_output")
    if not isinstance(single, bool) or (single and n_tasks != 1):
        raise ValueError("_single_output must be a bool, True only for one task")
    if "feature_names_in_" in state:
        names = state["feature_names_in_"]
        if not _array(names, (n_features,), "O") or not all(isinstance(n, str) for n in names):
            raise ValueError(f"feature_names_in_ must hold {n_features} column names")
    head_sizes = state.get("_head_sizes")
    if not is_int_list(head_sizes, n_tasks, minimum=1):
        raise ValueError(f"_head_sizes must list {n_tasks} positive ints")
    if "classes_" in state:
        _check_classes(state["classes_"], head_sizes, single, n_tasks)
    for name in ("target_mean_", "target_scale_"):
        if name in state and not _finite_array(state[name], (n_tasks,)):
            raise ValueError(f"{name} must be {n_tasks} finite numbers")
    if "target_scale_" in state and not (state["target_scale_"] > 0).all():
        raise ValueError("target_scale_ must be positive")
    if "coef_" in state:
        _check_linear_state(state, n_features, n_tasks, single)
    else:
        _check_network_state(state, n_features, n_tasks, head_sizes)


def _check_classes(classes, head_sizes, single: bool, n_tasks: int) -> None:
    per_task = _per_task(classes, single)
    if not isinstance(per_task, list) or len(per_task) != n_tasks:
        raise ValueError(f"classes_ must list the classes of {n_tasks} task(s)")
    for t, (labels, size) in enumerate(zip(per_task, head_sizes)):
        if labels is None:  # a regression task of MultiTaskNet
            continue
        expected = 2 if size == 1 else size
        if not isinstance(labels, np.ndarray) or labels.shape != (expected,):
            raise ValueError(f"classes_ of task {t} must be an array of {expected} labels")
        try:
            ordered = bool((np.unique(labels) == labels).all())
        except TypeError:
            ordered = False
        if not ordered:
            raise ValueError(f"classes_ of task {t} must be sorted and unique")


def _check_linear_state(state: dict, n_features: int, n_tasks: int, single: bool) -> None:
    regressor_1d = single and np.ndim(state["coef_"]) == 1
    coef_shape = (n_features,) if regressor_1d else (n_tasks, n_features)
    if not _finite_array(state["coef_"], coef_shape):
        raise ValueError(f"coef_ must be a finite array of shape {coef_shape}")
    intercept = state.get("intercept_")
    if regressor_1d:
        valid = isinstance(intercept, Real) and math.isfinite(intercept)
    else:
        valid = _finite_array(intercept, (n_tasks,))
    if not valid:
        raise ValueError("intercept_ must hold one finite number per task")
    if "support_" in state and not _array(state["support_"], (n_features,), "b"):
        raise ValueError(f"support_ must be {n_features} bools")


def _check_network_state(state: dict, n_features: int, n_tasks: int, head_sizes) -> None:
    types = state.get("_task_types")
    if not isinstance(types, list) or len(types) != n_tasks or not set(types) <= set(TASK_TYPES):
        raise ValueError(f"_task_types must list one of {list(TASK_TYPES)} per task")
    for t, (kind, size) in enumerate(zip(types, head_sizes)):
        if (kind in ONE_OUTPUT_TYPES) != (size == 1):
            raise ValueError(f"task {t} is {kind} with {size} outputs")
    if "task_types_" in state and state["task_types_"] != types:
        raise ValueError("task_types_ does not match _task_types")
    classes = _per_task(state.get("classes_"), state["_single_output"])
    for t, kind in enumerate(types):
        labels = None if classes is None else classes[t]
        if (kind == "regression") != (labels is None):
            raise ValueError(f"task {t} is {kind} but classes_ says otherwise")
    if not isinstance(state.get("_seed"), Integral):
        raise ValueError("_seed must be an int")
    _check_input_encoder(state.get("_input_encoder"), state.get("is_categorical_"), n_features)


def _check_input_encoder(inputs, is_categorical, n_features: int) -> None:
    from .._training.inputs import FIRST_CODE, InputEncoder

    if type(inputs) is not InputEncoder:
        raise ValueError("_input_encoder must be an InputEncoder")
    mask = getattr(inputs, "is_categorical", None)
    if not _array(mask, (n_features,), "b") or not _array(is_categorical, (n_features,), "b"):
        raise ValueError(f"the input encoder's categorical mask must be {n_features} bools")
    if not np.array_equal(mask, is_categorical):
        raise ValueError("is_categorical_ does not match the input encoder")
    dtypes = getattr(inputs, "numeric_dtypes", None)
    if dtypes is not None and not (
        isinstance(dtypes, list) and len(dtypes) == n_features
        and all(isinstance(d, bool) for d in dtypes)
    ):  # fmt: skip
        raise ValueError(f"the input encoder's numeric_dtypes must be None or {n_features} bools")
    n_numeric = int((~mask).sum())
    for name in ("mean", "scale"):
        if not _finite_array(getattr(inputs, name, None), (n_numeric,)):
            raise ValueError(f"the input encoder's {name} must be {n_numeric} finite numbers")
    if not (inputs.scale > 0).all():
        raise ValueError("the input encoder's scale must be positive")
    if not isinstance(getattr(inputs, "estimator_name", None), str):
        raise ValueError("the input encoder's estimator_name must be a str")
    _check_numeric_embedding(inputs, n_numeric)
    n_categorical = int(mask.sum())
    cardinalities = getattr(inputs, "cardinalities", None)
    if not is_int_list(cardinalities, n_categorical, minimum=FIRST_CODE):
        raise ValueError(f"the input encoder's cardinalities must be {n_categorical} ints >= 2")
    encoder = getattr(inputs, "encoder", None)
    if (encoder is None) != (n_categorical == 0):
        raise ValueError("the input encoder has categorical columns without an OrdinalEncoder")
    if encoder is not None:
        _check_ordinal_encoder(encoder, n_categorical, cardinalities)


def _check_numeric_embedding(inputs, n_numeric: int) -> None:
    """The numeric embedding's kind, size and quantile bins (files before them have none)."""
    from .._training.options import MAX_NUMERIC_EMBEDDING_SIZE
    from ..nn import NUMERIC_EMBEDDINGS

    kind = getattr(inputs, "numeric_embedding", "linear")
    if kind not in NUMERIC_EMBEDDINGS:
        raise ValueError(
            f"the input encoder's numeric_embedding must be one of {NUMERIC_EMBEDDINGS}"
        )
    n_bins = getattr(inputs, "n_bins", 16)
    if not (isinstance(n_bins, Integral) and 2 <= n_bins <= MAX_NUMERIC_EMBEDDING_SIZE):
        raise ValueError(
            f"the input encoder's n_bins must be an int in [2, {MAX_NUMERIC_EMBEDDING_SIZE}]"
        )
    if not isinstance(getattr(inputs, "allow_missing", False), bool):
        raise ValueError("the input encoder's allow_missing must be a bool")
    edges = getattr(inputs, "bin_edges", None)
    if kind != "piecewise_linear":
        if edges is not None:
            raise ValueError("the input encoder has bin edges without a piecewise-linear embedding")
        return
    if not _finite_array(edges, (n_numeric, n_bins + 1)) or (np.diff(edges, axis=1) < 0).any():
        raise ValueError(
            f"the input encoder's bin_edges must be ({n_numeric}, {n_bins + 1}) finite numbers, "
            "non-decreasing along each row"
        )


def _check_ordinal_encoder(encoder, n_columns: int, cardinalities: list[int]) -> None:
    """Its settings and categories, then codes inside the embedding tables for every category.

    Linear in what the file holds: each column's largest code follows from its
    own categories (and infrequent-category mapping), checked column by
    column; the encoder then codes a probe of two rows (each column's first
    and last category), not one row per category of the largest column.
    """
    from sklearn.preprocessing import OrdinalEncoder

    from .._training.inputs import FIRST_CODE, MISSING_CODE, UNKNOWN_CODE

    categories = getattr(encoder, "categories_", None)
    if type(encoder) is not OrdinalEncoder or not (
        isinstance(categories, list) and len(categories) == n_columns
        and all(isinstance(c, np.ndarray) and c.ndim == 1 and c.size for c in categories)
    ):  # fmt: skip
        raise ValueError(f"the OrdinalEncoder must hold the categories of {n_columns} columns")
    settings = {
        "handle_unknown": "use_encoded_value",
        "unknown_value": UNKNOWN_CODE - FIRST_CODE,
        "encoded_missing_value": MISSING_CODE - FIRST_CODE,
        "n_features_in_": n_columns,
        "categories": "auto",
        "max_categories": None,
    }
    for name, value in settings.items():
        current = getattr(encoder, name, _ABSENT)
        if isinstance(current, bool) or type(current) is not type(value) or current != value:
            raise ValueError(f"the OrdinalEncoder's {name} must be {value!r}")
    infrequent = getattr(encoder, "_infrequent_enabled", None)
    if not isinstance(infrequent, bool):
        raise ValueError("the OrdinalEncoder's _infrequent_enabled must be a bool")
    mappings = getattr(encoder, "_default_to_infrequent_mappings", None) if infrequent else None
    indices = getattr(encoder, "_infrequent_indices", None) if infrequent else None
    if infrequent and not (_list_of(mappings, n_columns) and _list_of(indices, n_columns)):
        raise ValueError(
            f"the OrdinalEncoder's infrequent categories must be listed for {n_columns} columns"
        )
    missing = getattr(encoder, "_missing_indices", None)
    if not isinstance(missing, dict) or not all(
        _index(j, n_columns) and _index(i, len(categories[j])) for j, i in missing.items()
    ):
        raise ValueError("the OrdinalEncoder's _missing_indices must map columns to categories")
    for j, (column, size) in enumerate(zip(categories, cardinalities)):
        # a missing value (the last category, if any) codes as MISSING_CODE, outside the count
        coded = np.ones(len(column), dtype=bool)
        if j in missing:
            coded[missing[j]] = False
        largest = int(np.flatnonzero(coded).max(initial=0))
        if infrequent and mappings[j] is not None:
            mapping, rare = mappings[j], indices[j]
            if not _array(mapping, (len(column),), "iu") or (mapping < 0).any():
                raise ValueError(f"the OrdinalEncoder's infrequent mapping of column {j} is wrong")
            if rare is not None and not (
                _array(rare, rare.shape, "iu") and rare.ndim == 1
                and ((rare >= 0) & (rare < len(column))).all()
            ):  # fmt: skip
                raise ValueError(f"the OrdinalEncoder's infrequent categories of column {j}")
            largest = int(mapping[coded].max(initial=0))
        if largest + FIRST_CODE >= size:
            raise ValueError(
                f"the OrdinalEncoder codes {largest + 1} categories in column {j}, whose "
                f"embedding table has {size - FIRST_CODE}"
            )
    probe = np.empty((2, n_columns), dtype=object)
    for j, column in enumerate(categories):
        probe[0, j], probe[1, j] = column[0], column[-1]
    codes = encoder.transform(probe) + FIRST_CODE
    within = (codes >= 0) & (codes < np.asarray(cardinalities))
    if codes.shape != probe.shape or not within.all():
        raise ValueError("the OrdinalEncoder's codes fall outside the embedding tables")


_ABSENT = object()


def _list_of(value, length: int) -> bool:
    return isinstance(value, list) and len(value) == length


def _index(value, size: int) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool) and 0 <= value < size


def check_history(history, n_tasks: int) -> None:
    """skorch's history as a network's fit leaves it: one dict per epoch."""
    if not isinstance(history, list) or not history:
        raise ValueError("the training history must be a non-empty list of epochs")
    for epoch in history:
        if not isinstance(epoch, dict) or not all(isinstance(k, str) for k in epoch):
            raise ValueError("each epoch of the training history must be a dict")
        batches = epoch.get("batches", [])
        if not isinstance(batches, list) or not all(isinstance(b, dict) for b in batches):
            raise ValueError("the batches of an epoch must be a list of dicts")
    weights = history[-1].get("task_weights")
    if not (isinstance(weights, list) and len(weights) == n_tasks
            and all(isinstance(w, Real) and math.isfinite(w) for w in weights)):  # fmt: skip
        raise ValueError(f"the last epoch's task_weights must be {n_tasks} finite numbers")


def _per_task(classes, single: bool):
    """``classes_`` as a list per task (a 1-D ``y`` gives one array, except in MultiTaskNet)."""
    return [classes] if single and isinstance(classes, np.ndarray) else classes


def _count(state: dict, name: str) -> int:
    value = state.get(name)
    if not isinstance(value, Integral) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive int")
    return int(value)


def is_int_list(value, length: int, minimum: int) -> bool:
    return (
        isinstance(value, list)
        and len(value) == length
        and all(isinstance(v, Integral) and not isinstance(v, bool) and v >= minimum for v in value)
    )


def _array(value, shape: tuple, kinds: str) -> bool:
    return isinstance(value, np.ndarray) and value.shape == shape and value.dtype.kind in kinds


def _finite_array(value, shape: tuple) -> bool:
    return _array(value, shape, "fiu") and bool(np.isfinite(value).all())
