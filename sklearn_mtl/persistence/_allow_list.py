"""The classes a model file may name: the allow-list of :func:`load`, and skops' trusted types.

A file names its estimator, its architecture and its encoders by class name;
``load`` instantiates only the classes listed here, looked up by that name.
"""

from __future__ import annotations

__all__ = ["allowed_classes", "estimator_classes", "savable_classes", "skops_trusted_types"]


def estimator_classes() -> dict[str, type]:
    """The estimators a file may hold: the public ones of the package's registry."""
    from sklearn.base import BaseEstimator

    from ..utils._registry import MODULE_OF, public_object

    objects = {name: public_object(name) for name in MODULE_OF}
    return {
        name: value
        for name, value in objects.items()
        if isinstance(value, type) and issubclass(value, BaseEstimator)
    }


def savable_classes() -> dict[str, type]:
    """The estimators ``save`` writes: the package's, and the label model of weak supervision."""
    from ..weak import MultiTaskLabelModel

    return {**estimator_classes(), "MultiTaskLabelModel": MultiTaskLabelModel}


def allowed_classes() -> dict[str, type]:
    """The classes a file may name: the estimators, the architectures and the encoders."""
    from sklearn.preprocessing import OrdinalEncoder

    from .. import architectures
    from .._training.inputs import InputEncoder

    classes = savable_classes()
    classes.update(
        {
            name: getattr(architectures, name)
            for name in architectures.__all__
            if name not in ("ARCHITECTURES", "Architecture")
        }
    )
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
    from .._task_encoders import BinaryTask, RegressionTask
    from ..estimators._fit_state import FitState
    from ..linear._base import BaseMultiTaskLinear

    estimators = [
        cls
        for cls in allowed_classes().values()
        if isinstance(cls, type) and issubclass(cls, BaseMultiTaskLinear)
    ]
    # what a linear model's fit state holds: its tasks, plain attributes only
    state = [FitState, BinaryTask, RegressionTask]
    return sorted(f"{cls.__module__}.{cls.__qualname__}" for cls in estimators + state)
