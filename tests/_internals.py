"""The private names of the package that a test of another layer reads: the one door for them.

Each folder of ``tests/`` tests one layer (``tests/training/`` the engine,
``tests/estimators/`` the estimators, ...) and may import that layer's private
names; ``tests/test_layout.py`` fails a test that imports a private name of
another layer other than from here. Each name says why a test outside its
layer needs it.
"""

# The shared training signature of every network estimator is the engine's options:
# tests/estimators/test_common.py checks that each estimator takes them, with one default.
# The former module sklearn_mtl._training now answers for builder, options and schedule;
# tests/persistence/test_old_pickles.py checks that it gives their very objects.
from sklearn_mtl._training import builder as training_builder
from sklearn_mtl._training import options as training_options
from sklearn_mtl._training import schedule as training_schedule

# The bin edges that piecewise-linear encoding learns in fit: tests/nn/ checks the module
# on the edges the estimator would give it.
from sklearn_mtl._training.inputs import quantile_bin_edges
from sklearn_mtl._training.options import FUNNEL_CONSTRAINTS, TRAINING_CONSTRAINTS

# A fit state holds the task encoders; tests/test_task_encoders.py round-trips them
# through its file attributes.
from sklearn_mtl.estimators._fit_state import FitState

# What a model file may name: tests/estimators/test_common.py checks that every public
# estimator and architecture is on the allow-list.
from sklearn_mtl.persistence._allow_list import allowed_classes, estimator_classes

# The modules of 0.1 that pickles name: tests/persistence/test_old_pickles.py loads them.
from sklearn_mtl.utils._moved_modules import MOVED_MODULES

__all__ = [
    "FUNNEL_CONSTRAINTS",
    "FitState",
    "MOVED_MODULES",
    "TRAINING_CONSTRAINTS",
    "allowed_classes",
    "estimator_classes",
    "quantile_bin_edges",
    "training_builder",
    "training_options",
    "training_schedule",
]
