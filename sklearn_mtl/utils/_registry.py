"""The registry of the package's public names, and its version.

Plain data, importing nothing of the package: the package root builds
``__all__`` and its lazy imports from it, :mod:`sklearn_mtl.estimators` its
own names, and :mod:`sklearn_mtl.persistence` its allow-list, so that none of
them has to import a layer above its own.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version

__all__ = ["MODULE_OF", "PUBLIC", "package_version", "public_object"]

PUBLIC = {
    "estimators._adaptive": ("AdaptiveSharingClassifier", "AdaptiveSharingRegressor"),
    "estimators._cross_stitch": ("CrossStitchClassifier", "CrossStitchRegressor"),
    "estimators._esmm": ("ESMMClassifier",),
    "estimators._moe": ("MMoEClassifier", "MMoERegressor", "OMoEClassifier", "OMoERegressor"),
    "estimators._multitask_net": ("MultiTaskNet",),
    "estimators._ple": ("PLEClassifier", "PLERegressor"),
    "estimators._shared_bottom": ("SharedBottomClassifier", "SharedBottomRegressor"),
    "linear": (
        "MeanRegularizedMultiTaskClassifier",
        "MeanRegularizedMultiTaskRegressor",
        "MultiTaskL1LqClassifier",
        "MultiTaskL1LqClassifierCV",
        "MultiTaskL1LqRegressor",
        "MultiTaskL1LqRegressorCV",
    ),
    "persistence": ("load", "save"),
}
"""The registry of public names: each module (under ``sklearn_mtl``) and the names it gives.

A new architecture is one line here (its module and its estimators); the
architectures (``sklearn_mtl.architectures``, the names ``MultiTaskNet`` takes),
tests, the persistence allow-list and ``__all__`` are built from it, and a
test fails for an estimator class of the package that is missing here.
"""

MODULE_OF = {name: module for module, names in PUBLIC.items() for name in names}
"""Public name: the module under ``sklearn_mtl`` that defines it."""


def public_object(name: str):
    """The public object ``name`` of the package, its module imported on first use."""
    return getattr(importlib.import_module(f"sklearn_mtl.{MODULE_OF[name]}"), name)


def package_version() -> str:
    """The installed version (its one source is ``pyproject.toml``)."""
    try:
        return version("sklearn-mtl")
    except PackageNotFoundError:  # a source tree that was never installed
        return "0+unknown"
