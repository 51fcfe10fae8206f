"""One training run of a fit: the net trained from scratch, resumed, or for one epoch.

``fit`` makes one run per numeric embedding it tries (one, unless
``numeric_embedding="auto"``; :mod:`~sklearn_mtl.estimators._numeric_choice`)
and keeps one :class:`Trained`.
"""

from __future__ import annotations

from typing import NamedTuple

from skorch.history import History

from .._training.checkpoint import verified_checkpoint
from ._fit_state import FitState

__all__ = ["Trained", "train_net"]


class Trained(NamedTuple):
    """One trained net of a fit, with its numeric embedding and fit state."""

    kind: str
    net: object
    state: FitState


def train_net(net, dataset, architecture, partial: bool, resume_from, max_epochs: int) -> None:
    """Train ``net`` on ``dataset``: one epoch (``partial``), the rest of a checkpointed
    fit (``resume_from``), or a whole fit."""
    if partial:
        net.partial_fit(dataset, y=None, epochs=1)
    elif resume_from is not None:
        net.initialize()
        checkpoint, manifest = verified_checkpoint(resume_from)
        architecture.prepare_resume(net, History.from_file(checkpoint.f_history_))
        net.load_params(checkpoint=checkpoint)
        dict(net.callbacks_)["checkpoint_manifest"].prepare_resume(
            net, checkpoint, manifest, dataset
        )
        remaining = max_epochs - len(net.history)
        if remaining > 0:
            net.partial_fit(dataset, y=None, epochs=remaining)
    else:
        net.fit(dataset, y=None)
