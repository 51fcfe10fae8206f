"""scikit-learn's estimator checks over every estimator, the registry, and docstring checks."""

import importlib
import inspect
import pkgutil
import re
import subprocess
import sys

import pytest
from sklearn.base import BaseEstimator
from sklearn.utils.estimator_checks import parametrize_with_checks

import sklearn_mtl
from sklearn_mtl import architectures
from sklearn_mtl.base import BaseMultiTaskNet
from sklearn_mtl.utils.estimator_checks import expected_failed_checks
from tests._internals import (
    FUNNEL_CONSTRAINTS,
    TRAINING_CONSTRAINTS,
    allowed_classes,
    estimator_classes,
)
from tests._settings import ESTIMATORS, FAST_SETTINGS, public_estimator_classes


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize(
    "estimator", ESTIMATORS, ids=lambda e: type(e).__name__ + str(getattr(e, "q", ""))
)
def test_docstring_lists_exactly_the_parameters(estimator):
    doc = type(estimator).__doc__
    section = doc.split("Parameters\n    ----------\n")[1].split("\n    Attributes")[0]
    documented = re.findall(r"^    (\w+) :", section, flags=re.MULTILINE)
    assert sorted(documented) == sorted(estimator.get_params(deep=False))


def test_every_public_estimator_runs_the_shared_checks():
    """Every public estimator, with an entry in tests/_settings.py or without, is checked."""
    classes = public_estimator_classes()
    assert set(FAST_SETTINGS) <= set(classes), "FAST_SETTINGS names a class that is not public"
    assert {type(e).__name__ for e in ESTIMATORS} == set(classes)


def test_the_registry_is_the_public_api_and_the_persistence_allow_list():
    names = {name for module_names in sklearn_mtl.PUBLIC.values() for name in module_names}
    assert set(sklearn_mtl.__all__) == names | {"__version__"}
    for name in names:
        assert getattr(sklearn_mtl, name).__name__ == name
    assert set(estimator_classes()) == set(public_estimator_classes())
    from sklearn_mtl import estimators

    assert estimators.MMoEClassifier is sklearn_mtl.MMoEClassifier  # the old import path


def test_shared_training_defaults_are_identical_across_estimators():
    """Every network estimator repeats the training signature; its defaults must agree."""
    signatures = {
        name: inspect.signature(cls).parameters
        for name, cls in public_estimator_classes().items()
        if issubclass(cls, BaseMultiTaskNet)
    }
    for parameter in [*TRAINING_CONSTRAINTS, *FUNNEL_CONSTRAINTS]:
        defaults = {
            name: params[parameter].default
            for name, params in signatures.items()
            if parameter in params
        }
        assert len(defaults) >= (12 if parameter in TRAINING_CONSTRAINTS else 11), parameter
        assert len({repr(value) for value in defaults.values()}) == 1, (parameter, defaults)
    for name, params in signatures.items():  # and nothing else but the architecture's own
        cls = public_estimator_classes()[name]
        own = set(cls._parameter_constraints) - set(TRAINING_CONSTRAINTS) - set(FUNNEL_CONSTRAINTS)
        assert set(params) == set(cls._parameter_constraints), name
        if name != "MultiTaskNet":
            assert own == set(cls._architecture_class._get_param_names()), name


ARCHITECTURE_ESTIMATORS = sorted(
    name
    for name, cls in public_estimator_classes().items()
    if getattr(cls, "_architecture_class", None) is not None
)


@pytest.mark.parametrize("name", ARCHITECTURE_ESTIMATORS)
def test_an_estimator_takes_its_architectures_parameters_with_the_same_defaults(name):
    cls = public_estimator_classes()[name]
    architecture = cls._architecture_class
    estimator_defaults = inspect.signature(cls).parameters
    for parameter, spec in inspect.signature(architecture).parameters.items():
        assert estimator_defaults[parameter].default == spec.default, parameter
        assert (
            cls._parameter_constraints[parameter] == architecture._parameter_constraints[parameter]
        )
    built = cls()._architecture()
    assert built == architecture() and built.get_params() == architecture().get_params()


def test_the_linear_models_import_without_torch():
    code = (
        "import sys, sklearn_mtl.linear, sklearn_mtl.metrics, sklearn_mtl._task_encoders;"
        "import sklearn_mtl.estimators._multioutput, sklearn_mtl.estimators._fit_state;"
        "from sklearn_mtl import MultiTaskL1LqRegressor;"
        "print(sorted(m for m in ('torch', 'skorch') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


ARCHITECTURE_CLASSES = [
    getattr(architectures, name)
    for name in architectures.__all__
    if name not in ("ARCHITECTURES", "Architecture")
]


@pytest.mark.parametrize("architecture", ARCHITECTURE_CLASSES, ids=lambda c: c.__name__)
def test_architecture_docstrings_list_exactly_their_parameters(architecture):
    section = architecture.__doc__.split("Parameters\n    ----------\n")[1].split(
        "\n    References"
    )[0]
    documented = re.findall(r"^    (\w+) :", section, flags=re.MULTILINE)
    assert sorted(documented) == sorted(architecture().get_params())
    assert "%(" not in architecture.__doc__


def _classes_defined_in(package) -> list[type]:
    """Every class defined in the modules of ``package``."""
    found = []
    for info in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
        module = importlib.import_module(info.name)
        found += [
            value
            for value in vars(module).values()
            if isinstance(value, type) and value.__module__ == module.__name__
        ]
    return found


def test_every_estimator_of_the_package_is_in_the_registry():
    """A new estimator class that is not in sklearn_mtl.PUBLIC fails here, by name."""
    from sklearn_mtl import estimators, linear

    defined = {
        cls.__name__
        for package in (estimators, linear)
        for cls in _classes_defined_in(package)
        if issubclass(cls, BaseEstimator)
        and not issubclass(cls, architectures.Architecture)
        and not cls.__name__.startswith(("_", "Base", "MultiTaskLinear"))
        and cls.__module__ != "sklearn_mtl.estimators._base"  # the bases, for subclassing
    }
    assert defined, "no estimator found: the search itself is broken"
    assert sorted(defined - set(public_estimator_classes())) == []


def test_every_architecture_of_the_package_is_exported_and_saveable():
    """MultiTaskNet takes, and save writes, the architectures of sklearn_mtl.architectures."""
    from sklearn_mtl import estimators

    defined = {
        cls
        for cls in _classes_defined_in(estimators)
        if issubclass(cls, architectures.Architecture) and cls is not architectures.Architecture
    }
    assert defined == set(ARCHITECTURE_CLASSES)
    allowed = allowed_classes()
    assert all(allowed[cls.__name__] is cls for cls in defined)
