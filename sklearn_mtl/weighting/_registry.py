"""The registry of balancing methods: every weighting of this package, by its ``name``.

A method is a :class:`~sklearn_mtl.weighting.TaskWeighting` subclass in its own
module of :mod:`sklearn_mtl.weighting` that sets ``name``; importing it in the
package's ``__init__`` (one line) registers it. What the rest of the package
needs to know of a method (whether it is gradient-based, whether it trains
data-parallel, whether it takes ``task_weights``) is a class attribute, so no
module outside this package names a method.
"""

from __future__ import annotations

import copy
import textwrap

import numpy as np

from ._base import TaskWeighting

__all__ = ["WEIGHTINGS", "collect", "make_weighting", "weighting_names", "weighting_parameter_doc"]

WEIGHTINGS: dict[str, type[TaskWeighting]] = {}
"""Weighting methods by the name ``loss_weighting`` accepts (filled by :func:`collect`)."""


def collect() -> dict[str, type[TaskWeighting]]:
    """Fill :data:`WEIGHTINGS` with the package's named subclasses, in definition order."""
    found, stack = [], list(reversed(TaskWeighting.__subclasses__()))
    while stack:
        cls = stack.pop()
        found.append(cls)
        stack.extend(reversed(cls.__subclasses__()))
    for cls in found:
        name = vars(cls).get("name")
        if name is not None and cls.__module__.startswith("sklearn_mtl.weighting."):
            if WEIGHTINGS.get(name, cls) is not cls:
                raise RuntimeError(f"two weightings are named {name!r}")
            WEIGHTINGS[name] = cls
    return WEIGHTINGS


def weighting_names(**capabilities) -> str:
    """The registered names whose class attributes equal ``capabilities``, as ``'a', 'b'``."""
    names = [
        name
        for name, cls in WEIGHTINGS.items()
        if all(getattr(cls, key) == value for key, value in capabilities.items())
    ]
    return ", ".join(repr(name) for name in names)


def weighting_parameter_doc() -> str:
    """The ``loss_weighting`` entry of the estimators' docstrings, written from the registry.

    Each method's line is the first line of its class's docstring, so that a new
    method documents itself where the estimators take it.
    """
    names = ", ".join(f'"{name}"' for name in sorted(WEIGHTINGS))
    lines = [
        f'    loss_weighting : {{{names}}} or TaskWeighting, default="equal"',
        "        How the task losses share the gradient (:mod:`sklearn_mtl.weighting`):",
        "",
    ]
    for name, cls in sorted(WEIGHTINGS.items()):
        summary = cls.__doc__.strip().splitlines()[0]
        if cls.takes_task_weights:
            summary += " Its weights are ``task_weights``."
        if cls.gradient_based:
            summary += " Gradient-based: it reads the task gradients on the shared layer."
        item = textwrap.fill(f'- ``"{name}"``: {summary}', width=88, initial_indent=" " * 8,
                             subsequent_indent=" " * 10, break_on_hyphens=False)  # fmt: skip
        lines.append(item)
    lines += [
        "",
        "        An instance of a ``TaskWeighting`` subclass is copied at ``fit``. The",
        "        weights used are in ``net_.history`` (key ``task_weights``, per epoch)",
        "        and ``task_weights_``.",
    ]
    return "\n".join(lines)


def make_weighting(method, task_weights, task_types) -> TaskWeighting:
    """A fresh weighting for one fit, set up for ``task_types``.

    Parameters
    ----------
    method : str or TaskWeighting
        A name of :data:`WEIGHTINGS` or an instance, which is copied.
    task_weights : array-like or None
        The weights of a method that takes them (``takes_task_weights``).
    task_types : list of str
        Each task's type.
    """
    cls = WEIGHTINGS[method] if isinstance(method, str) else type(method)
    takes = isinstance(method, str) and cls.takes_task_weights
    if task_weights is not None and not takes:
        raise ValueError(
            f"task_weights gives the weights of loss_weighting="
            f"{weighting_names(takes_task_weights=True)}; got loss_weighting={method!r}."
        )
    if takes:
        if task_weights is None:
            raise ValueError(f"loss_weighting={method!r} needs task_weights, one per task.")
        weighting = cls(np.asarray(task_weights, dtype=float).ravel())
    elif isinstance(method, str):
        weighting = cls()
    else:
        weighting = copy.deepcopy(method)
    weighting.setup(task_types)
    return weighting
