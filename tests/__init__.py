"""The test suite, a folder per layer of the package, as scikit-learn's ``sklearn/*/tests/``.

- ``tests/``: the root modules (losses, metrics, export, stream, parallel, the task
  encoders) and the package as a whole (layout, README, demo, extending it, GPU);
- ``utils/``, ``nn/``, ``weighting/``, ``tasks/``, ``training/`` (the private engine
  ``sklearn_mtl._training``), ``estimators/``, ``linear/``, ``weak/``, ``persistence/``
  (with the model files of earlier versions under ``data/``), ``datasets/``; and
  ``benchmarks/``, the benchmark scripts' own tests.

A test imports private names only of the layer its folder tests
(``tests/test_layout.py`` checks every import). What tests share lives in the
documented helpers:

- ``_settings.py``: fast settings of every public estimator, the data and the
  outputs the shared tests fit and compare;
- ``_callbacks.py``: callbacks to train with (an interrupt at a given batch);
- ``_model_files.py``: reading and rewriting a model file's members;
- ``_cost.py``: deterministic measures of the work a call does;
- ``_internals.py``: the private names a test of another layer needs, each with why.

(A package, so that ``tests`` here wins over a ``tests`` package that some
distributions install into site-packages, e.g. snorkel-metal 0.5.0.)
"""
