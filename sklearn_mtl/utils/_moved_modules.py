"""The modules that moved when the package took its layout, under their old names.

A pickle names the module of each class it holds. Pickles of release 0.1 name
private modules that now live in packages (``sklearn_mtl._net`` is
``sklearn_mtl._training.net``); so do skops files and old checkpoints. The
finder installed by :func:`install` answers an import of an old name with a
module whose attributes are the new module's, imported on first use, so an
old pickle unpickles into the current classes. Nothing else imports the old
names; a file written now names the new modules.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import types

__all__ = ["MOVED_MODULES", "install"]

MOVED_MODULES = {
    "sklearn_mtl._branching": "sklearn_mtl._training.branching",
    "sklearn_mtl._checkpoint": "sklearn_mtl._training.checkpoint",
    "sklearn_mtl._data": "sklearn_mtl._training.data",
    "sklearn_mtl._distributed": "sklearn_mtl._training.distributed",
    "sklearn_mtl._divergence": "sklearn_mtl._training.divergence",
    "sklearn_mtl._docstrings": "sklearn_mtl.estimators._docstrings",
    "sklearn_mtl._file_checks": "sklearn_mtl.persistence._checks",
    "sklearn_mtl._file_pipeline": "sklearn_mtl.persistence._pipeline",
    "sklearn_mtl._file_weights": "sklearn_mtl.persistence._weights",
    "sklearn_mtl._fit_state": "sklearn_mtl.estimators._fit_state",
    "sklearn_mtl._inputs": "sklearn_mtl._training.inputs",
    "sklearn_mtl._multioutput": "sklearn_mtl.estimators._multioutput",
    "sklearn_mtl._net": (
        "sklearn_mtl._training.net",
        "sklearn_mtl._training.callbacks",
        "sklearn_mtl._training.criterion",
        "sklearn_mtl._training.compiling",
    ),
    "sklearn_mtl._serialization": "sklearn_mtl.persistence._typed_json",
    "sklearn_mtl._tasks": "sklearn_mtl._task_encoders",
}
"""Old module name: the module that holds its contents now (or the modules, in order,
where its contents were split).

``sklearn_mtl._training`` (a module then, a package now) answers the names of
its former contents itself; ``sklearn_mtl.base``, ``sklearn_mtl.tasks`` and
``sklearn_mtl.persistence`` keep their public names."""


class _MovedModule(types.ModuleType):
    """An old module name whose attributes are read from the module that holds them now."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        targets = MOVED_MODULES[self.__name__]
        for target in (targets,) if isinstance(targets, str) else targets:
            module = importlib.import_module(target)
            if hasattr(module, name):
                return getattr(module, name)
        raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")


class _MovedModuleFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname, path=None, target=None):
        if fullname not in MOVED_MODULES:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec):
        return _MovedModule(spec.name)

    def exec_module(self, module):
        pass


def install() -> None:
    """Answer imports of the old module names (once per process)."""
    if not any(isinstance(finder, _MovedModuleFinder) for finder in sys.meta_path):
        sys.meta_path.append(_MovedModuleFinder())
