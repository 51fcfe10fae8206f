"""One small private module per architecture: its parameter object (an
:class:`~sklearn_mtl.estimators._architecture.Architecture`) and its thin
estimators. The estimators are public in :mod:`sklearn_mtl` (registered in
``sklearn_mtl.PUBLIC``), the architectures in :mod:`sklearn_mtl.architectures`."""
