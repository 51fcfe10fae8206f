"""The network architectures as parameter objects, for :class:`~sklearn_mtl.MultiTaskNet`.

``MultiTaskNet(architecture=MMoE(n_experts=4))`` trains an MMoE whose tasks
may each be binary, multi-class or regression; a grid search reaches the
architecture's parameters as ``architecture__n_experts``, as
``GaussianProcessRegressor`` exposes ``kernel__length_scale``. Each
architecture's own estimators (``MMoEClassifier``, ...) take the same
parameters in their signature and build through the same object.

The architectures are those the package's registry finds, each defined in an
estimator module of ``sklearn_mtl.PUBLIC`` (``MMoE``, ``PLE``, ...; ``__all__``
lists them).
"""

from .estimators._architecture import Architecture, registered_architectures

ARCHITECTURES: dict[str, type[Architecture]] = dict(registered_architectures())
"""The architectures by the name ``MultiTaskNet(architecture=...)`` takes ("mmoe")."""

globals().update({cls.__name__: cls for cls in ARCHITECTURES.values()})

__all__ = ["ARCHITECTURES", "Architecture", *sorted(cls.__name__ for cls in ARCHITECTURES.values())]
