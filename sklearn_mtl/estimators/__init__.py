"""One small private module per architecture: its parameter object (an
:class:`~sklearn_mtl.estimators._architecture.Architecture`) and its thin
estimators. The estimators are public in :mod:`sklearn_mtl` (registered in
``sklearn_mtl.PUBLIC``), the architectures in :mod:`sklearn_mtl.architectures`.
``from sklearn_mtl.estimators import MMoEClassifier`` still works, through the
same registry."""


def __getattr__(name):
    import sklearn_mtl

    if sklearn_mtl._MODULE_OF.get(name, "").startswith("estimators."):
        return getattr(sklearn_mtl, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
