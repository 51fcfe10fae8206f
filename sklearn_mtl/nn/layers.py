"""Small building blocks: activation registry and plain MLP blocks."""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

__all__ = ["ACTIVATIONS", "make_activation", "MLP"]

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "elu": nn.ELU,
    "selu": nn.SELU,
    "leaky_relu": nn.LeakyReLU,
    "tanh": nn.Tanh,
}
"""Activation names accepted by every estimator's ``activation`` parameter."""


def make_activation(name: str) -> nn.Module:
    """Return a fresh activation module for a name of :data:`ACTIVATIONS`."""
    try:
        return ACTIVATIONS[name]()
    except KeyError:
        raise ValueError(
            f"Unknown activation {name!r}; expected one of {sorted(ACTIVATIONS)}."
        ) from None


class MLP(nn.Sequential):
    """A stack of ``Linear -> activation -> dropout`` layers.

    Shape: ``(batch, in_features) -> (batch, units[-1])``; with empty ``units``
    the block is the identity and ``out_features == in_features``.

    Parameters
    ----------
    in_features : int
        Width of the input.
    units : sequence of int
        Width of each hidden layer.
    activation : str, default="relu"
        Name in :data:`ACTIVATIONS`, applied after every layer.
    dropout : float, default=0.0
        Dropout probability after every activation.
    """

    def __init__(
        self,
        in_features: int,
        units: Sequence[int],
        activation: str = "relu",
        dropout: float = 0.0,
    ) -> None:
        layers: list[nn.Module] = []
        width = in_features
        for out in units:
            layers += [nn.Linear(width, out), make_activation(activation)]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = out
        super().__init__(*layers)
        self.out_features = width

    def forward(self, x: Tensor) -> Tensor:  # (batch, in) -> (batch, out)
        return super().forward(x)
