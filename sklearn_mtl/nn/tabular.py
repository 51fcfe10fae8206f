"""The input layer for tabular data: categorical embeddings next to projected numeric columns."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn


class TabularInput(nn.Module):
    """One embedding table per categorical column and a learnt projection of the numeric ones.

    The input holds the (standardised) numeric columns first, then one integer
    code per categorical column stored as a float; the output concatenates the
    projected numeric columns and the embeddings, as the inputs of seed 004's
    models are embedded and projected into one latent space.

    Shape: ``(batch, n_numeric + n_categorical) -> (batch, n_numeric + sum(embedding_dims))``.

    Parameters
    ----------
    n_numeric : int
        Number of numeric columns (projected by a square linear layer).
    cardinalities : sequence of int
        Number of codes of each categorical column.
    embedding_dims : sequence of int
        Embedding width of each categorical column.
    """

    def __init__(
        self, n_numeric: int, cardinalities: Sequence[int], embedding_dims: Sequence[int]
    ) -> None:
        super().__init__()
        if len(cardinalities) != len(embedding_dims):
            raise ValueError("cardinalities and embedding_dims must have the same length.")
        self.projection = nn.Linear(n_numeric, n_numeric) if n_numeric else None
        self.embeddings = nn.ModuleList(
            nn.Embedding(n_codes, dim) for n_codes, dim in zip(cardinalities, embedding_dims)
        )
        self.n_numeric = n_numeric
        self.out_features = n_numeric + sum(embedding_dims)

    def forward(self, x: Tensor) -> Tensor:
        parts = []
        if self.projection is not None:
            parts.append(self.projection(x[:, : self.n_numeric]))  # (batch, n_numeric)
        codes = x[:, self.n_numeric :].long()  # (batch, n_categorical)
        parts += [table(codes[:, j]) for j, table in enumerate(self.embeddings)]  # (batch, d_j)
        return torch.cat(parts, dim=1)  # (batch, out_features)


class WithInputLayer(nn.Module):
    """``model(input_layer(x))``: an architecture behind an input layer (or the identity).

    Shape: as ``input_layer`` followed by ``model``.

    Parameters
    ----------
    input_layer : nn.Module
        :class:`TabularInput`, or ``nn.Identity`` for numeric inputs.
    model : nn.Module
        The multi-task architecture.
    """

    def __init__(self, input_layer: nn.Module, model: nn.Module) -> None:
        super().__init__()
        self.input_layer = input_layer
        self.model = model

    def forward(self, x: Tensor) -> Tensor:
        return self.model(self.input_layer(x))  # (batch, sum(head_sizes))
