"""The input layer for tabular data: categorical embeddings next to projected numeric columns."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

__all__ = ["Standardize", "TabularInput", "WithInputLayer"]


class Standardize(nn.Module):
    """``(x - mean) / scale`` per column, with the statistics learnt in ``fit``.

    Shape: ``(batch, n) -> (batch, n)``.

    Parameters
    ----------
    mean, scale : sequence of float
        Per-column mean and (positive) scale.
    """

    def __init__(self, mean: Sequence[float], scale: Sequence[float]) -> None:
        super().__init__()
        self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32))
        self.register_buffer("scale", torch.as_tensor(scale, dtype=torch.float32))
        self.out_features = len(self.mean)

    def forward(self, x: Tensor) -> Tensor:
        return (x - self.mean) / self.scale  # (batch, n)


class TabularInput(nn.Module):
    """One embedding table per categorical column and a learnt projection of the numeric ones.

    The input holds the numeric columns first, then one integer code per
    categorical column stored as a float; the output concatenates the
    standardised, projected numeric columns and the embeddings, as the inputs
    of seed 004's models are embedded and projected into one latent space.

    Shape: ``(batch, n_numeric + n_categorical) -> (batch, n_numeric + sum(embedding_dims))``.

    Parameters
    ----------
    standardize : Standardize or NumericEmbedding
        The numeric columns' standardisation (its width is their number),
        followed here by a learnt projection; or their
        :class:`~sklearn_mtl.nn.NumericEmbedding`, used as it is.
    cardinalities : sequence of int
        Number of codes of each categorical column.
    embedding_dims : sequence of int
        Embedding width of each categorical column.
    """

    def __init__(
        self,
        standardize: Standardize,
        cardinalities: Sequence[int],
        embedding_dims: Sequence[int],
    ) -> None:
        super().__init__()
        if len(cardinalities) != len(embedding_dims):
            raise ValueError("cardinalities and embedding_dims must have the same length.")
        embedded = not isinstance(standardize, Standardize)
        n_numeric = standardize.n_inputs if embedded else standardize.out_features
        numeric_width = standardize.out_features if embedded else n_numeric
        self.standardize = standardize
        self.projection = nn.Linear(n_numeric, n_numeric) if n_numeric and not embedded else None
        self.embeddings = nn.ModuleList(
            nn.Embedding(n_codes, dim) for n_codes, dim in zip(cardinalities, embedding_dims)
        )
        self.n_numeric = n_numeric
        self.out_features = numeric_width + sum(embedding_dims)

    def forward(self, x: Tensor) -> Tensor:
        parts = []
        if self.projection is not None:
            numeric = self.standardize(x[:, : self.n_numeric])  # (batch, n_numeric)
            parts.append(self.projection(numeric))  # (batch, n_numeric)
        elif self.n_numeric:
            parts.append(self.standardize(x[:, : self.n_numeric]))  # (batch, its out_features)
        codes = x[:, self.n_numeric :].long()  # (batch, n_categorical)
        parts += [table(codes[:, j]) for j, table in enumerate(self.embeddings)]  # (batch, d_j)
        return torch.cat(parts, dim=1)  # (batch, out_features)


class WithInputLayer(nn.Module):
    """``model(input_layer(x))``: an architecture behind an input layer (or the identity).

    Shape: as ``input_layer`` followed by ``model`` (and ``output_layer``).

    Parameters
    ----------
    input_layer : nn.Module
        :class:`TabularInput`, or :class:`Standardize` for numeric inputs.
    model : nn.Module
        The multi-task architecture.
    output_layer : nn.Module or None, default=None
        Applied to the architecture's output: :class:`~sklearn_mtl.nn.EnsembleMean`
        for an architecture of several ensemble members; None for none.
    """

    def __init__(
        self, input_layer: nn.Module, model: nn.Module, output_layer: nn.Module | None = None
    ) -> None:
        super().__init__()
        self.input_layer = input_layer
        self.model = model
        self.register_module("output_layer", output_layer)

    def __setstate__(self, state) -> None:
        super().__setstate__(state)
        self._modules.setdefault("output_layer", None)  # pickles from before it existed

    def forward(self, x: Tensor) -> Tensor:
        logits = self.model(self.input_layer(x))  # (batch, [k,] sum(head_sizes))
        if self.output_layer is not None:
            logits = self.output_layer(logits)  # (batch, sum(head_sizes)) in evaluation
        return logits
