"""Architectures as parameter objects, the way scikit-learn's Gaussian processes take kernels.

An :class:`Architecture` names a :class:`~sklearn_mtl.nn.MultiTaskModule`
class and holds its hyper-parameters with their constraints; ``build`` makes
the module for a fit. Each architecture's estimators (``MMoEClassifier``,
...) take the same parameters flat in their signature and build through the
same object; :class:`~sklearn_mtl.MultiTaskNet` takes one as its
``architecture`` parameter, so that a grid search reaches
``architecture__n_experts``.

The architectures are found, not listed: :func:`registered_architectures`
collects the ``Architecture`` subclasses that the estimator modules of the
registry (``sklearn_mtl.PUBLIC``) define, so that a new architecture is its
two files and its registry line.
"""

from __future__ import annotations

import functools
import importlib
import inspect
from collections.abc import Set
from numbers import Integral

from sklearn.base import BaseEstimator

from ..utils._registry import PUBLIC
from ..utils._sklearn import Interval
from ._parameters import ARCHITECTURE_PARAMETERS_ADDED_LATER

__all__ = [
    "ARCHITECTURE_NAMES",
    "UNITS_CONSTRAINT",
    "Architecture",
    "check_units",
    "registered_architectures",
]

UNITS_CONSTRAINT = ["array-like", Interval(Integral, 1, None, closed="left")]
"""Layer widths: one int, or a sequence of them."""


def check_units(name: str, units, *, allow_empty: bool) -> tuple[int, ...]:
    """Return layer widths as a tuple of positive ints, or raise naming ``name``."""
    if isinstance(units, Integral):
        units = (units,)
    units = tuple(units)
    valid = all(isinstance(u, Integral) and not isinstance(u, bool) and u > 0 for u in units)
    if not valid or (not units and not allow_empty):
        expected = "a tuple of positive ints" + ("" if allow_empty else ", not empty")
        raise ValueError(f"{name} must be {expected}; got {units!r}.")
    return tuple(int(u) for u in units)


class Architecture(BaseEstimator):
    """A multi-task network's shape, as a parameter object.

    Subclasses set ``name`` (what ``MultiTaskNet(architecture=...)`` takes for
    the default instance), ``module`` (a ``MultiTaskModule`` class whose
    keyword arguments are the subclass's parameters), ``_parameter_constraints``
    and, for layer widths that may be ``()``, ``optional_units``; and declare
    what they support: ``mixed_tasks``, and ``gated`` follows from the module.
    """

    name: str = None
    """The architecture's name, as ``MultiTaskNet`` takes it ("mmoe")."""
    module: type = None
    optional_units: tuple[str, ...] = ("tower_units",)
    mixed_tasks: bool = True
    """Whether it trains any number of tasks, each binary, multi-class or regression
    (False for a model of fixed tasks, as ESMM's click and conversion; ``check_tasks``
    says which)."""

    def __eq__(self, other):
        """Equal when of the same class with equal parameters (as scikit-learn's kernels)."""
        if type(self) is not type(other):
            return NotImplemented
        return self.get_params(deep=False) == other.get_params(deep=False)

    __hash__ = None

    def __setstate__(self, state) -> None:
        """A pickle from before a parameter existed reads the value it meant (its default,
        or ``ARCHITECTURE_PARAMETERS_ADDED_LATER``'s where the default changed since)."""
        super().__setstate__(state)
        signature = inspect.signature(type(self).__init__).parameters
        for name in self._get_param_names():
            if name not in self.__dict__:
                default = ARCHITECTURE_PARAMETERS_ADDED_LATER.get(name, signature[name].default)
                setattr(self, name, default)

    @classmethod
    def from_estimator(cls, estimator) -> Architecture:
        """The architecture that an estimator's flat parameters describe."""
        return cls(**{name: getattr(estimator, name) for name in cls._get_param_names()})

    @property
    def gated(self) -> bool:
        """Whether the module reports gate weights (``GatedMultiTaskModule``)."""
        from ..nn import GatedMultiTaskModule

        return issubclass(self.module, GatedMultiTaskModule)

    def module_parameters(self) -> dict:
        """The module's keyword arguments: the parameters, layer widths as tuples."""
        params = self.get_params(deep=False)
        for name, value in params.items():
            if name.endswith("_units"):
                params[name] = check_units(name, value, allow_empty=name in self.optional_units)
        return params

    def check_tasks(self, task_types: list[str]) -> None:
        """Raise a ``ValueError`` for tasks the architecture cannot model (any, by default)."""

    def build(self, in_features: int, head_sizes, *, activation: str, dropout: float):
        """The module for ``in_features`` inputs and heads of ``head_sizes`` logits."""
        self._validate_params()
        return self.module(
            in_features,
            head_sizes,
            **self.module_parameters(),
            activation=activation,
            dropout=dropout,
        )

    def fitted_attributes(self, module) -> dict:
        """Fitted attributes that the estimator reads off the trained module (none by default)."""
        return {}

    def fit_build_arguments(self, n_samples: int, partial: bool) -> dict:
        """Arguments of ``build`` that a fit on ``n_samples`` rows decides (none by default;
        ``n_ensemble="auto"``'s members, see ``EnsembleMembers``)."""
        return {}

    def fitted_build_arguments(self, estimator) -> dict:
        """Arguments of ``build`` that a fitted estimator's attributes give (a loaded file).

        None by default; a network that changes its shape while it trains
        (``AdaptiveSharing``) is rebuilt in its fitted shape.
        """
        return {}

    def training_callbacks(self, state) -> list:
        """``(name, callback)`` pairs that train the architecture, beside the usual ones (none)."""
        return []

    def check_training(self, options, weighting, accelerator) -> None:
        """Raise a ``ValueError`` for a training option the architecture cannot train with.

        ``options`` are the fit's ``TrainingOptions``, ``weighting`` its task
        weighting and ``accelerator`` the accelerator or None.
        """

    def prepare_resume(self, net, history) -> None:
        """Make ``net``'s module match a checkpoint's ``history`` before its weights load."""


@functools.cache
def registered_architectures() -> dict[str, type[Architecture]]:
    """Every architecture of the package, by name, in the order of the registry.

    The ``Architecture`` subclasses defined in the estimator modules of
    ``sklearn_mtl.PUBLIC``; imported on first use, when every module is.
    """
    package = __name__.split(".")[0]
    found: dict[str, type[Architecture]] = {}
    for module_name in PUBLIC:
        if not module_name.startswith("estimators."):
            continue
        module = importlib.import_module(f"{package}.{module_name}")
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, Architecture)
                and value.__module__ == module.__name__
            ):
                if not isinstance(value.name, str) or value.name in found:
                    raise TypeError(
                        f"{value.__name__} must set name, a str of its own; got {value.name!r}."
                    )
                found[value.name] = value
    return found


class _ArchitectureNames(Set):
    """The architectures' names, read from the registry on first use.

    ``MultiTaskNet`` declares its ``architecture`` constraint when its module is
    imported, before every architecture's module is; this set looks them up
    when a fit validates its parameters.
    """

    def __contains__(self, name) -> bool:
        return name in registered_architectures()

    def __iter__(self):
        return iter(sorted(registered_architectures()))

    def __len__(self) -> int:
        return len(registered_architectures())

    def __repr__(self) -> str:
        return f"{{{', '.join(map(repr, self))}}}"

    @classmethod
    def _from_iterable(cls, iterable) -> set:
        return set(iterable)


ARCHITECTURE_NAMES = _ArchitectureNames()
"""The names ``MultiTaskNet(architecture=...)`` takes, as a set."""
