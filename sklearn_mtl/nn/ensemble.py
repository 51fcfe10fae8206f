"""Efficient ensembles: ``k`` networks in one, sharing their weights (BatchEnsemble).

BatchEnsemble (Wen, Tran and Ba, ICLR 2020), as TabM uses it for tabular data
(Gorishniy et al., ICLR 2025): member ``m`` of a linear layer computes
``((x * r_m) W) * s_m + b_m``, one weight matrix ``W`` shared by all ``k``
members and per-member scalings ``r_m``, ``s_m`` and bias ``b_m``. The members
cost ``k`` times the computation of one network and a fraction more
parameters (the scalings, biases and each member's own output head); they
are trained on the mean of their ``k`` losses, and predict the mean of their
``k`` probabilities.

The members of a batch travel folded into the batch dimension, member-major:
a tensor of a member layer has ``k * batch`` rows, row ``m * batch + i`` being
member ``m``'s view of row ``i`` (:func:`to_members` makes them from one view,
:func:`from_members` unfolds an output). Initialisation follows TabM's
(``tabm.LinearBatchEnsemble`` with ``tabm_init``): the network's first scaling
``r`` has random signs, so that the members differ from the first step, every
other scaling is one, and the biases of the members start equal.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .layers import make_activation

__all__ = [
    "EnsembleExperts",
    "EnsembleHead",
    "EnsembleLinear",
    "EnsembleMean",
    "EnsembleMLP",
    "EnsembleTaskTowers",
    "from_members",
    "to_members",
]


def to_members(x: Tensor, n_ensemble: int) -> Tensor:
    """``k`` copies of a batch, member-major. Shape: ``(batch, ...) -> (k * batch, ...)``."""
    if n_ensemble == 1:
        return x
    return x.repeat(n_ensemble, *([1] * (x.dim() - 1)))


def from_members(x: Tensor, n_ensemble: int) -> Tensor:
    """The members of an output side by side. Shape: ``(k * batch, S) -> (batch, k, S)``.

    With one member, the output is returned as it is, ``(batch, S)``.
    """
    if n_ensemble == 1:
        return x
    return x.view(n_ensemble, -1, *x.shape[1:]).transpose(0, 1)  # (batch, k, S)


def _uniform_(tensor: Tensor, fan_in: int) -> Tensor:
    """Uniform in ``+-1/sqrt(fan_in)``, as ``torch.nn.Linear`` initialises its own."""
    bound = 1.0 / math.sqrt(fan_in)
    return nn.init.uniform_(tensor, -bound, bound)


class EnsembleLinear(nn.Module):
    """``n_ensemble`` members of a linear layer (or of a bank of them) sharing one weight.

    Member ``m`` computes ``((x * r_m) @ W) * s_m + b_m``. With ``bank=E`` the
    layer is ``E`` independent layers (a bank of experts), each with its own
    ``W``, ``r``, ``s`` and ``b``, computed as one contraction.

    Shape: ``(k * batch, in_features) -> (k * batch, out_features)``; with a
    bank, ``(k * batch, E, in_features)``, or ``(k * batch, in_features)``
    read by every layer of the bank, ``-> (k * batch, E, out_features)``.

    Parameters
    ----------
    in_features, out_features : int
        Widths of each member's input and output.
    n_ensemble : int
        Number of members ``k``.
    bank : int or None, default=None
        Number of independent layers side by side; None for one layer.
    random_signs : bool, default=False
        Whether ``r`` starts at random signs (the network's first layer) or at one.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        n_ensemble: int,
        *,
        bank: int | None = None,
        random_signs: bool = False,
    ) -> None:
        super().__init__()
        banks = () if bank is None else (bank,)
        self.weight = nn.Parameter(torch.empty(*banks, in_features, out_features))
        self.r = nn.Parameter(torch.empty(n_ensemble, *banks, in_features))
        self.s = nn.Parameter(torch.empty(n_ensemble, *banks, out_features))
        self.bias = nn.Parameter(torch.empty(n_ensemble, *banks, out_features))
        self.n_ensemble, self.bank, self.random_signs = n_ensemble, bank, random_signs
        self.in_features, self.out_features = in_features, out_features
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _uniform_(self.weight, self.in_features)
        if self.random_signs:
            with torch.no_grad():
                self.r.copy_(torch.randint_like(self.r, 2) * 2 - 1)
        else:
            nn.init.ones_(self.r)
        nn.init.ones_(self.s)
        with torch.no_grad():  # the members' biases start equal
            self.bias.copy_(_uniform_(torch.empty(self.bias.shape[1:]), self.in_features))

    def forward(self, x: Tensor) -> Tensor:
        k = self.n_ensemble
        h = x.view(k, -1, *x.shape[1:])  # (k, batch, [E,] in)
        if self.bank is not None and h.dim() == 3:  # one input read by every layer of the bank
            h = h.unsqueeze(2)  # (k, batch, 1, in)
        h = h * self.r.unsqueeze(1)  # (k, batch, [E,] in)
        if self.bank is None:
            h = h @ self.weight  # (k, batch, out)
        else:
            h = torch.einsum("mbei,eio->mbeo", h, self.weight)  # (k, batch, E, out)
        h = h * self.s.unsqueeze(1) + self.bias.unsqueeze(1)  # (k, batch, [E,] out)
        return h.reshape(-1, *h.shape[2:])  # (k * batch, [E,] out)


class EnsembleHead(nn.Module):
    """``n_ensemble`` independent linear layers, one per member (TabM's output heads).

    Shape: ``(k * batch, in_features) -> (k * batch, out_features)``.

    Parameters
    ----------
    in_features, out_features : int
        Widths of each member's input and output.
    n_ensemble : int
        Number of members ``k``.
    """

    def __init__(self, in_features: int, out_features: int, n_ensemble: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n_ensemble, in_features, out_features))
        self.bias = nn.Parameter(torch.empty(n_ensemble, out_features))
        self.n_ensemble, self.in_features, self.out_features = n_ensemble, in_features, out_features
        _uniform_(self.weight, in_features)
        _uniform_(self.bias, in_features)

    def forward(self, x: Tensor) -> Tensor:
        h = x.view(self.n_ensemble, -1, self.in_features)  # (k, batch, in)
        h = torch.baddbmm(self.bias.unsqueeze(1), h, self.weight)  # (k, batch, out)
        return h.reshape(-1, self.out_features)  # (k * batch, out)


class _EnsembleStack(nn.Module):
    """``EnsembleLinear -> activation -> dropout`` layers; the first one may have random signs."""

    def __init__(self, in_features, units, n_ensemble, activation, dropout, bank, random_signs):
        super().__init__()
        widths = [in_features, *units]
        self.layers = nn.ModuleList(
            EnsembleLinear(
                fan_in, fan_out, n_ensemble, bank=bank, random_signs=random_signs and i == 0
            )
            for i, (fan_in, fan_out) in enumerate(zip(widths[:-1], widths[1:]))
        )
        self.activation = make_activation(activation)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.n_ensemble = n_ensemble
        self.out_features = widths[-1]

    def forward(self, x: Tensor) -> Tensor:
        for layer in self.layers:
            x = self.dropout(self.activation(layer(x)))
        return x


class EnsembleExperts(_EnsembleStack):
    """A bank of ``n_experts`` expert MLPs, each an ensemble of ``n_ensemble`` members.

    :class:`~sklearn_mtl.nn.BatchedExperts` with BatchEnsemble layers. The
    experts read one member-free input, ``(batch, in_features)``, copied to
    every member (the first layer's random signs make the members differ), or
    one input per member and expert, ``(k * batch, n_experts, in_features)``.

    Shape: ``(batch, in_features)`` or ``(k * batch, n_experts, in_features)``
    ``-> (k * batch, n_experts, units[-1])``.

    Parameters
    ----------
    in_features : int
        Width of the input.
    units : sequence of int
        Width of each expert layer; must not be empty.
    n_experts : int
        Number of experts.
    n_ensemble : int
        Number of members.
    activation : str, default="relu"
        Activation after every layer.
    dropout : float, default=0.0
        Dropout after every activation.
    random_signs : bool, default=True
        Whether the first layer's ``r`` starts at random signs (the network's first layer).
    """

    def __init__(
        self,
        in_features: int,
        units: Sequence[int],
        n_experts: int,
        n_ensemble: int,
        activation: str = "relu",
        dropout: float = 0.0,
        random_signs: bool = True,
    ) -> None:
        if len(units) == 0:
            raise ValueError("EnsembleExperts needs at least one layer in 'units'.")
        super().__init__(
            in_features, units, n_ensemble, activation, dropout, n_experts, random_signs
        )
        self.n_experts = n_experts

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() == 2:  # one member-free input shared by all experts
            x = to_members(x, self.n_ensemble)  # (k * batch, in)
        return super().forward(x)  # (k * batch, E, units[-1])


class EnsembleMLP(_EnsembleStack):
    """An MLP of ``n_ensemble`` BatchEnsemble members (:class:`~sklearn_mtl.nn.MLP`'s ensemble).

    Shape: ``(k * batch, in_features) -> (k * batch, units[-1])``; with empty
    ``units`` the identity.

    Parameters
    ----------
    in_features : int
        Width of the input.
    units : sequence of int
        Width of each hidden layer.
    n_ensemble : int
        Number of members.
    activation : str, default="relu"
        Activation after every layer.
    dropout : float, default=0.0
        Dropout after every activation.
    random_signs : bool, default=False
        Whether the first layer's ``r`` starts at random signs (the network's first layer).
    """

    def __init__(
        self,
        in_features: int,
        units: Sequence[int],
        n_ensemble: int,
        activation: str = "relu",
        dropout: float = 0.0,
        random_signs: bool = False,
    ) -> None:
        super().__init__(in_features, units, n_ensemble, activation, dropout, None, random_signs)


class EnsembleTaskTowers(nn.Module):
    """:class:`~sklearn_mtl.nn.TaskTowers` of ``n_ensemble`` members.

    Every task's tower is an :class:`EnsembleMLP` and an :class:`EnsembleHead`
    (an independent head per member, as TabM's).

    Shape: ``(k * batch, n_tasks, in_features)`` (or ``(k * batch,
    in_features)``, shared by all towers) ``-> (k * batch, sum(head_sizes))``.

    Parameters
    ----------
    in_features : int
        Width of each task's input representation.
    units : sequence of int
        Hidden widths of every tower (may be empty: a linear head).
    head_sizes : sequence of int
        Number of logits of each task.
    n_ensemble : int
        Number of members.
    activation : str, default="relu"
        Activation of the hidden layers.
    dropout : float, default=0.0
        Dropout after each hidden activation.
    """

    def __init__(
        self,
        in_features: int,
        units: Sequence[int],
        head_sizes: Sequence[int],
        n_ensemble: int,
        activation: str = "relu",
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.towers = nn.ModuleList()
        for size in head_sizes:
            hidden = EnsembleMLP(in_features, units, n_ensemble, activation, dropout)
            head = EnsembleHead(hidden.out_features, size, n_ensemble)
            self.towers.append(nn.Sequential(hidden, head))
        self.head_sizes = tuple(head_sizes)

    def forward(self, h: Tensor) -> Tensor:
        if h.dim() == 2:  # one representation shared by all towers
            outputs = [tower(h) for tower in self.towers]  # n_tasks x (k * batch, size_t)
        else:
            outputs = [tower(h[:, t]) for t, tower in enumerate(self.towers)]
        return torch.cat(outputs, dim=1)  # (k * batch, sum(head_sizes))


class EnsembleMean(nn.Module):
    """The members' mean prediction, as logits: what the package's outputs are everywhere.

    In training mode the members' logits pass through, ``(batch, k, S)``, and
    the loss averages the members' losses. In evaluation mode, each task's
    members are combined into the logits of their mean prediction: for a
    binary task ``log(mean p) - log(mean (1 - p))``, whose sigmoid is the mean
    probability; for a multi-class task ``log(mean softmax)``, whose softmax
    is the mean of the members' probabilities; for a regression task the mean.

    Shape: ``(batch, k, sum(head_sizes)) -> (batch, sum(head_sizes))`` in
    evaluation mode.

    Parameters
    ----------
    task_losses : sequence of str
        Each task's loss (``"binary"``, ``"multiclass"`` or ``"regression"``).
    head_sizes : sequence of int
        Number of logits of each task, in the output's order.
    """

    def __init__(self, task_losses: Sequence[str], head_sizes: Sequence[int]) -> None:
        super().__init__()
        unknown = set(task_losses) - {"binary", "multiclass", "regression"}
        if unknown or len(task_losses) != len(head_sizes):
            raise ValueError(
                "EnsembleMean needs one loss of 'binary', 'multiclass' or 'regression' per "
                f"head; got {list(task_losses)!r} for head sizes {list(head_sizes)!r}."
            )
        starts = [sum(head_sizes[:t]) for t in range(len(head_sizes))]
        self.heads = [
            (kind, start, start + size)
            for kind, start, size in zip(task_losses, starts, head_sizes)
        ]

    def forward(self, logits: Tensor) -> Tensor:
        if self.training:
            return logits  # (batch, k, S)
        n_members = logits.shape[1]
        parts = []
        for kind, start, stop in self.heads:
            z = logits[:, :, start:stop]  # (batch, k, size)
            if kind == "binary":
                positive = torch.logsumexp(F.logsigmoid(z), dim=1)  # log(k * mean p)
                negative = torch.logsumexp(F.logsigmoid(-z), dim=1)  # log(k * mean(1 - p))
                parts.append(positive - negative)  # (batch, 1)
            elif kind == "multiclass":
                log_mean = torch.logsumexp(F.log_softmax(z, dim=2), dim=1)  # (batch, C)
                parts.append(log_mean - math.log(n_members))
            else:
                parts.append(z.mean(dim=1))  # (batch, 1)
        return torch.cat(parts, dim=1)  # (batch, S)
