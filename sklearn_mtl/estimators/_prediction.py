"""Prediction in batches: a fitted network's outputs over ``X``, a chunk of rows at a time."""

from __future__ import annotations

import numpy as np
import torch
from scipy import sparse
from sklearn.utils.validation import check_is_fitted

from .._training.data import TensorBatchDataset

__all__ = ["PREDICT_CHUNK_ROWS", "PREDICT_MIN_BATCH_ROWS", "BatchedPredictionMixin"]

PREDICT_CHUNK_ROWS = 65536
"""Rows encoded at a time in prediction, so that a large ``X`` is not copied whole."""

PREDICT_MIN_BATCH_ROWS = 32
"""The fewest rows a prediction batch is computed with (a shorter last batch is padded):
measured on this CPU, a row's outputs agree bit for bit from 4 rows on, not at 1 or 2."""


class BatchedPredictionMixin:
    """The outputs of a fitted network (``net_``, ``_fit_state``, ``batch_size``) over ``X``.

    The estimator provides ``_check_inputs(X, reset)``; predictions are
    computed on the net's device in batches of ``batch_size`` rows, over
    chunks of ``PREDICT_CHUNK_ROWS`` encoded rows.
    """

    def _predict_outputs(self, X) -> np.ndarray:
        """Raw network outputs, shape ``(n_samples, sum(head_sizes))``.

        A last batch of fewer than ``PREDICT_MIN_BATCH_ROWS`` rows is padded with
        zero rows (their outputs dropped): CPU matrix products of one or two rows
        take another kernel, whose sums round differently, and a row's
        prediction would depend on how many rows came with it.
        """
        outputs = []
        for encoded in self._encoded_chunks(X):
            n_rows = encoded.shape[0]
            encoded = _pad_last_batch(encoded, self.batch_size)
            dataset = TensorBatchDataset(encoded, device=self.net_.device)  # one transfer
            # the batches' outputs stay on the device, then come back in one copy
            # (skorch's forward copies each batch's outputs to the host on its own)
            batches = self.net_.forward_iter(dataset, device=None)
            outputs.append(torch.cat(list(batches))[:n_rows].cpu())
        return torch.cat(outputs).numpy().astype(np.float64)

    def _encoded_chunks(self, X):
        """``X`` checked, then encoded ``PREDICT_CHUNK_ROWS`` rows at a time.

        Prediction needs memory for ``X``, the outputs and one encoded chunk,
        not for an encoded copy of the whole of ``X``.
        """
        check_is_fitted(self)
        X = self._check_inputs(X, reset=False)
        rows = max(self.batch_size, PREDICT_CHUNK_ROWS)
        for start in range(0, X.shape[0], rows):
            part = X.iloc[start : start + rows] if hasattr(X, "iloc") else X[start : start + rows]
            yield self._fit_state.inputs.transform(part)

    def _apply_module(self, X, function):
        """``function(architecture, encoded_batch)`` over ``X`` in batches, in eval mode.

        ``function`` returns a tensor or a list of tensors; the result is the
        concatenation over batches, as float64 arrays (a list for a list).
        """
        check_is_fitted(self)
        module, device = self.net_.module_, self.net_.device
        training = module.training
        module.eval()
        outputs = []
        try:
            with torch.no_grad():
                for encoded in self._encoded_chunks(X):
                    for i in range(0, encoded.shape[0], self.batch_size):
                        part = encoded[i : i + self.batch_size]
                        part = part.toarray() if sparse.issparse(part) else part
                        x = torch.as_tensor(part, device=device)
                        outputs.append(function(module.model, module.input_layer(x)))
        finally:
            module.train(training)
        if isinstance(outputs[0], list):
            return [_concatenate(parts) for parts in zip(*outputs)]
        return _concatenate(outputs)


def _pad_last_batch(encoded, batch_size: int):
    """``encoded`` with zero rows after it, so its last batch has enough rows (see above)."""
    last = encoded.shape[0] % batch_size or batch_size
    missing = min(PREDICT_MIN_BATCH_ROWS, batch_size) - last
    if missing <= 0:
        return encoded
    if sparse.issparse(encoded):
        padding = sparse.csr_matrix((missing, encoded.shape[1]), dtype=encoded.dtype)
        return sparse.vstack([encoded, padding], format="csr")
    return np.vstack([encoded, np.zeros((missing, encoded.shape[1]), dtype=encoded.dtype)])


def _concatenate(tensors) -> np.ndarray:
    return torch.cat(list(tensors)).cpu().numpy().astype(np.float64)
