"""Entire Space Multi-task Model for the click -> conversion funnel (Ma et al., SIGIR 2018)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .base import MultiTaskModule
from .layers import MLP
from .towers import TaskTowers

__all__ = ["ESMMModule", "logit_of_product"]


def logit_of_product(log_p: Tensor) -> Tensor:
    """``logit(p)`` from ``log(p)``, computed without leaving log space.

    ``log p - log(1 - p)`` with ``log(1 - p) = log(-expm1(log p))``; ``log p``
    is kept below ``-1e-7`` so that ``p = 1`` stays a finite logit.
    """
    log_p = log_p.clamp(max=-1e-7)
    return log_p - torch.log(-torch.expm1(log_p))


class ESMMModule(MultiTaskModule):
    """pCTR and pCVR towers over a shared bottom, trained on CTR and CTCVR.

    The module returns the logits of pCTR and of
    ``pCTCVR = pCTR * pCVR`` (the probability that an impression converts),
    so the usual binary cross-entropy on every impression trains both towers
    and ``pCTCVR <= pCTR`` holds by construction.

    Shape: ``(batch, in_features) -> (batch, 2)`` logits (CTR, CTCVR).

    Parameters
    ----------
    in_features : int
        Number of input features.
    head_sizes : sequence of int, default=(1, 1)
        The heads of the click and conversion tasks: one logit each.
    bottom_units : sequence of int
        Hidden widths of the shared bottom (empty: the towers read ``x``).
    tower_units : sequence of int
        Hidden widths of the CTR and CVR towers.
    activation : str, default="relu"
        Hidden activation.
    dropout : float, default=0.0
        Dropout after each hidden activation.
    """

    def __init__(
        self,
        in_features: int,
        head_sizes: Sequence[int] = (1, 1),
        bottom_units: Sequence[int] = (64,),
        tower_units: Sequence[int] = (32,),
        activation: str = "relu",
        dropout: float = 0.0,
    ) -> None:
        if tuple(head_sizes) != (1, 1):
            raise ValueError(
                "ESMM models two binary tasks, click and conversion (head_sizes (1, 1)); "
                f"got head_sizes {tuple(head_sizes)}."
            )
        super().__init__(in_features, head_sizes)
        self.bottom = MLP(in_features, bottom_units, activation, dropout)
        self.towers = TaskTowers(self.bottom.out_features, tower_units, (1, 1), activation, dropout)

    def shared_representation(self) -> nn.Module:
        """The bottom shared by the CTR and CVR towers."""
        return self.bottom

    def ctr_cvr_logits(self, x: Tensor) -> Tensor:
        """Logits of pCTR and pCVR (conversion given click). Shape ``(batch, 2)``."""
        return self.towers(self.bottom(x))  # (batch, 2)

    def forward(self, x: Tensor) -> Tensor:
        logits = self.ctr_cvr_logits(x)  # (batch, 2)
        log_ctcvr = F.logsigmoid(logits).sum(dim=1)  # (batch,) log pCTR + log pCVR
        return torch.stack([logits[:, 0], logit_of_product(log_ctcvr)], dim=1)  # (batch, 2)


# The names before 0.2, where the module and the parameter object shared one; code and
# pickles of 0.1 that name them still find the class.
ESMM = ESMMModule
