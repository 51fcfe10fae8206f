"""Saving and loading fitted estimators without pickle.

:func:`save` writes one zip file: the parameters and fitted state as typed
JSON (``metadata.json``), the network's weights as safetensors, and the
preprocessing steps of a ``Pipeline`` as skops. :func:`load` reads it back
only through an allow-list of classes, checks every count, shape and
attribute against what the file declares before anything is sized by it,
rebuilds the network and probes one prediction. A file it refuses raises
:class:`ModelFileError`, with the reason.

The modules: ``_model_file`` (the layout of the archive, ``save`` and
``load``), ``_allow_list`` (the classes a file may name), ``_typed_json``
(plain data to and from Python objects), ``_checks`` (the checks of fitted
state), ``_tensor_checks`` (the safetensors header against the network),
``_weights`` (the network's tensors), ``_probe`` (the prediction that ends a
load), ``_pipeline`` (a pipeline's steps), ``_upgrades`` (files of earlier
releases).
"""

from ._allow_list import skops_trusted_types
from ._model_file import FORMAT_VERSION, ModelFileError, load, save

__all__ = ["FORMAT_VERSION", "ModelFileError", "load", "save", "skops_trusted_types"]
