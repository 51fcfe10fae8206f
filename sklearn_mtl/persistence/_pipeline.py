"""The scikit-learn steps of a saved ``Pipeline``: carried by skops, on an allow-list.

A ``Pipeline(ColumnTransformer(...), MMoEClassifier())`` is saved as one
model file: the network (or linear model) of sklearn_mtl as usual, and the
steps before it as a skops archive, scikit-learn's secure persistence format,
which instantiates only the types it is told to trust. Both sides check the
steps against :data:`TRANSFORMER_MODULES`: every estimator in them, nested
ones included (a ``ColumnTransformer``'s transformers, a ``Pipeline``'s
steps), must be a transformer of those modules of scikit-learn, and skops
may trust nothing but them and :data:`SUPPORT_TYPES`. A ``FunctionTransformer``
of one's own function, or a classifier inside a step, is refused by name.
"""

from __future__ import annotations

import io
import zipfile

TRANSFORMER_MODULES = (
    "sklearn.compose",
    "sklearn.decomposition",
    "sklearn.feature_extraction",
    "sklearn.feature_selection",
    "sklearn.impute",
    "sklearn.kernel_approximation",
    "sklearn.pipeline",
    "sklearn.preprocessing",
    "sklearn.random_projection",
)
"""The scikit-learn modules whose transformers a saved pipeline's steps may be."""

SUPPORT_TYPES = ("numpy.dtype",)
"""What skops flags in such steps besides the transformers: plain data types."""

STEPS_MEMBER = "steps.skops"
"""The member of a model file that holds a pipeline's steps."""

MAX_STEP_EXPANSION = 200
"""A member of the steps' skops archive may decompress to at most this many times its size."""


def check_steps(pipeline) -> None:
    """Raise a ``TypeError`` naming any step of ``pipeline[:-1]`` outside the allow-list."""
    for name, step in pipeline.steps[:-1]:
        for where, estimator in nested_estimators(step, name):
            if not allowed_class(type(estimator)):
                kind = f"{type(estimator).__module__}.{type(estimator).__qualname__}"
                raise TypeError(
                    f"the pipeline's step {where!r} is a {kind}; save writes pipelines whose "
                    f"steps before the last are transformers of {', '.join(TRANSFORMER_MODULES)}."
                )


def allowed_class(cls: type) -> bool:
    """Whether ``cls`` is a transformer class of one of :data:`TRANSFORMER_MODULES`."""
    from sklearn.base import BaseEstimator

    module = getattr(cls, "__module__", "")
    inside = any(module == m or module.startswith(m + ".") for m in TRANSFORMER_MODULES)
    return inside and isinstance(cls, type) and issubclass(cls, BaseEstimator)


def dump_steps(pipeline) -> bytes:
    """The steps before the last, as a skops archive (a ``Pipeline`` of them)."""
    import skops.io as sio
    from sklearn.pipeline import Pipeline

    steps = Pipeline(pipeline.steps[:-1], memory=None, verbose=pipeline.verbose)
    data = sio.dumps(steps)
    untrusted = [t for t in sio.get_untrusted_types(data=data) if not _trusted(t)]
    if untrusted:
        raise TypeError(
            f"the pipeline's steps hold {untrusted[:5]}, which are not plain data or "
            "transformers of scikit-learn; save cannot write them (a FunctionTransformer of "
            "your own function, say): replace them, or use pickle."
        )
    return data


def load_steps(data: bytes):
    """The steps of a saved pipeline, from an untrusted skops archive; ValueError if unsound."""
    from sklearn.pipeline import Pipeline

    try:
        import skops.io as sio
    except ImportError:
        raise ValueError(
            "the file holds a pipeline, whose steps need the skops package to load: "
            "pip install 'sklearn-mtl[pipeline]'"
        ) from None
    _check_archive(data)
    untrusted = sio.get_untrusted_types(data=data)
    refused = [t for t in untrusted if not _trusted(t)]
    if refused:
        shown = [str(t)[:80] for t in refused[:5]]
        raise ValueError(f"its pipeline steps hold types outside the allow-list: {shown}")
    steps = sio.loads(data, trusted=list(untrusted))
    if not isinstance(steps, Pipeline):
        raise ValueError("its pipeline steps are not a Pipeline")
    for where, estimator in nested_estimators(steps, "steps"):
        if not allowed_class(type(estimator)):
            raise ValueError(f"its pipeline step {where!r} is a {type(estimator).__name__}")
    return steps


def _trusted(name: str) -> bool:
    """Whether a type skops names may be loaded: a plain data type or an allowed transformer."""
    if name in SUPPORT_TYPES:
        return True
    module, _, qualname = str(name).rpartition(".")
    try:
        import importlib

        cls = getattr(importlib.import_module(module), qualname)
    except (ImportError, AttributeError, ValueError):
        return False
    return allowed_class(cls)


def _check_archive(data: bytes) -> None:
    """The skops archive's members may not decompress far beyond their size (a bomb)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except zipfile.BadZipFile:
        raise ValueError("its pipeline steps are not a skops archive") from None
    for info in infos:
        if info.file_size > max(1 << 20, MAX_STEP_EXPANSION * info.compress_size):
            raise ValueError(
                f"its pipeline steps' {info.filename[:40]} declares {info.file_size} bytes from "
                f"{info.compress_size} (a decompression bomb?)"
            )


def nested_estimators(estimator, where: str):
    """``(path, estimator)`` of ``estimator`` and every estimator nested in it."""
    from sklearn.base import BaseEstimator

    if isinstance(estimator, str) or estimator is None:  # "passthrough", "drop"
        return
    yield where, estimator
    for key, value in vars(estimator).items():
        for index, item in _items(value):
            if isinstance(item, BaseEstimator):
                yield from nested_estimators(item, f"{where}.{key}{index}")


def _items(value):
    """The values inside a step's attribute: itself, or a list's, a tuple's, a dict's."""
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            for index, inner in _items(item):
                yield f"[{i}]{index}", inner
    elif isinstance(value, dict):
        for key, item in value.items():
            yield f"[{key!r}]", item
    else:
        yield "", value


def pipeline_from_file(metadata: dict, steps_data: bytes | None, load_final):
    """The ``Pipeline`` a model file describes: its checked steps, then its last step.

    Parameters
    ----------
    metadata : dict
        The file's metadata: the steps' names, ``verbose`` and the last step's own metadata.
    steps_data : bytes or None
        The skops archive of the steps before the last (None when the file has none).
    load_final : callable
        ``load_final(final_metadata)`` loads the last step, an estimator of sklearn_mtl.
    """
    from sklearn.pipeline import Pipeline

    names, final = metadata.get("steps"), metadata.get("final_step")
    if not (
        isinstance(names, list) and len(names) >= 1 and all(isinstance(n, str) for n in names)
        and len(set(names)) == len(names) and isinstance(final, dict)
        and isinstance(metadata.get("verbose"), bool)
    ):  # fmt: skip
        raise ValueError("its pipeline must name its steps and hold its last step")
    if steps_data is None:
        raise ValueError(f"its pipeline's steps ({STEPS_MEMBER}) are missing")
    steps = load_steps(steps_data)
    if [name for name, _ in steps.steps] != names[:-1]:
        raise ValueError("its pipeline's steps are not the ones it names")
    if final.get("estimator") == "Pipeline":
        raise ValueError("its pipeline's last step is a pipeline")
    estimator = load_final(final)
    _check_step_widths(steps, estimator)
    return Pipeline([*steps.steps, (names[-1], estimator)], verbose=metadata["verbose"])


def _check_step_widths(steps, estimator) -> None:
    """The steps' output must have the columns the last step was fitted on."""
    try:
        names = steps.get_feature_names_out()
    except Exception:  # not every transformer names its outputs
        return
    if len(names) != estimator.n_features_in_:
        raise ValueError(
            f"its pipeline's steps give {len(names)} columns, and its last step was fitted on "
            f"{estimator.n_features_in_}"
        )
