"""One small private module per architecture: its parameter object (an
:class:`~sklearn_mtl.estimators._architecture.Architecture`) and its thin
estimators, beside the bases they share (``_base``, ``_multioutput``). The
estimators are public in :mod:`sklearn_mtl` (registered in
``sklearn_mtl.PUBLIC``), the architectures in :mod:`sklearn_mtl.architectures`.
``from sklearn_mtl.estimators import MMoEClassifier`` still works, through the
same registry."""

from ..utils._registry import MODULE_OF, public_object

__all__ = sorted(name for name, module in MODULE_OF.items() if module.startswith("estimators."))


def __getattr__(name):
    if name in __all__:
        return public_object(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
