"""The neural estimators' parameters that are newer than the first release.

A model file of format 1 or a pickle of 0.1 lacks them; both are read with the
value that the older release meant. Estimators use this in ``__setstate__``,
:mod:`sklearn_mtl.persistence` when it reads a file.
"""

from __future__ import annotations

__all__ = [
    "ARCHITECTURE_PARAMETERS_ADDED_LATER",
    "PARAMETERS_ADDED_LATER",
    "with_parameters_added_later",
]

PARAMETERS_ADDED_LATER = {
    "compile": False,
    "early_stopping_task": None,
    "loss_normalization": "batch",
    "lr_schedule": "constant",
    "n_ensemble": 1,
    "numeric_embedding": "linear",
    "numeric_embedding_size": 16,
    "numeric_missing": "error",
    "periodic_sigma": 1.0,
}
"""Parameters of the neural estimators newer than format 1, with the value an older file means."""

ARCHITECTURE_PARAMETERS_ADDED_LATER = {"n_ensemble": 1}
"""Parameters of the architecture objects newer than their first files, with the value an
older file means (a ``MultiTaskNet`` file's architecture may lack them)."""


def with_parameters_added_later(estimator_class: type, params: dict) -> dict:
    """``params`` of a file, or a pickle, with the defaults of parameters added since."""
    known = estimator_class._get_param_names()
    added = {k: v for k, v in PARAMETERS_ADDED_LATER.items() if k in known and k not in params}
    return {**params, **added}
