"""The test suite (a package, so that ``tests`` here wins over a ``tests`` package that
some distributions install into site-packages, e.g. snorkel-metal 0.5.0)."""
