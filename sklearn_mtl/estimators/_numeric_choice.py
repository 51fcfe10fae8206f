"""``numeric_embedding="auto"``: the numeric embedding chosen inside ``fit`` by validation.

A fit with ``"auto"`` and early stopping trains one network per candidate,
from the same seed and on the same training and validation rows, and keeps the
one whose best validation loss is lowest (the loss early stopping watched:
the sum over the tasks, or ``early_stopping_task``'s). Without early stopping
(fewer than 1,000 rows at ``early_stopping="auto"``, or ``partial_fit``) there
is no validation split to choose on, and ``"auto"`` is ``"linear"``, which
was the better of the two on every small data set that
``benchmarks/defaults.py`` measures; so it is for a sparse ``X``, whose
quantile bins are not learnt.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from .._training.options import uses_early_stopping

__all__ = ["AUTO_CANDIDATES", "best_fit", "numeric_embedding_candidates"]

AUTO_CANDIDATES = ("linear", "piecewise_linear")
"""What ``"auto"`` chooses between: the standardised value, or quantile bins.

``"periodic"`` is left out: it fails on the smooth synthetic sets at its
default scale (``benchmarks/results/defaults.md``)."""


def numeric_embedding_candidates(estimator, X, partial: bool, resume_from) -> tuple:
    """The numeric embeddings that ``estimator``'s fit on ``X`` trains."""
    kind = estimator.numeric_embedding
    if kind != "auto":
        return (kind,)
    if resume_from is not None:
        raise ValueError(
            f"{type(estimator).__name__}(numeric_embedding='auto') cannot resume a fit: it "
            "trains one network per candidate embedding. Resume with the embedding the "
            "interrupted fit was training, e.g. numeric_embedding='piecewise_linear'."
        )
    if (
        partial
        or sparse.issparse(X)
        or not uses_early_stopping(estimator.early_stopping, X.shape[0])
    ):
        return ("linear",)
    return AUTO_CANDIDATES


def best_fit(fits: list, early_stopping_task: int | None, verbose: int = 0):
    """The fit (``.kind``, ``.net``) whose best validation loss is lowest; ties keep the first."""
    if len(fits) == 1:
        return fits[0]
    key = "valid_loss" if early_stopping_task is None else f"valid_loss_task{early_stopping_task}"
    losses = [float(np.min(fit.net.history[:, key])) for fit in fits]
    chosen = fits[int(np.argmin(losses))]
    if verbose:
        scores = ", ".join(f"{fit.kind} {loss:.4f}" for fit, loss in zip(fits, losses))
        print(f"numeric_embedding='auto': best {key} {scores}; keeping {chosen.kind}")
    return chosen
