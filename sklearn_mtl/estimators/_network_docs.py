"""The network estimators' shared docstring entries, with what the weighting registry says.

:data:`NETWORK_DOCS` is :data:`~sklearn_mtl.estimators._docstrings.DOCS` (which the
torch-free linear estimators use too) with the training parameters, whose
``loss_weighting`` entry lists every method of :data:`sklearn_mtl.weighting.WEIGHTINGS`
by its class's summary: no estimator module names a weighting.
"""

from ..weighting import weighting_names, weighting_parameter_doc
from ._docstrings import DOCS, TRAINING_TEMPLATE

__all__ = ["NETWORK_DOCS"]


def _training_parameters() -> str:
    text = TRAINING_TEMPLATE.replace("<loss_weighting>", weighting_parameter_doc())
    text = text.replace("<takes_task_weights>", weighting_names(takes_task_weights=True))
    return text.replace("<data_parallel>", weighting_names(data_parallel=True))


NETWORK_DOCS = {**DOCS, "training_parameters": _training_parameters()}
"""The entries of ``DOCS`` and ``training_parameters``, for the network estimators."""
