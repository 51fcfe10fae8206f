"""The fast data path: tensors moved to the device once, batches sliced whole.

skorch's default ``DataLoader`` converts and collates one row at a time; that
costs about a quarter of ``fit`` on CPU and most of it on a GPU. Here a fit
moves ``X``, the targets and the per-task weights to the training device once,
and every batch is one index operation on those tensors. A sparse ``X`` (a
scipy matrix, as ``OneHotEncoder`` gives) moves as its three CSR arrays
(:class:`SparseRows`), and each batch is made dense on the device.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from scipy import sparse
from sklearn.model_selection import train_test_split
from torch import Tensor
from torch.utils.data import Dataset


class SparseRows:
    """A CSR matrix held as three tensors on a device; indexing rows gives dense rows.

    Shape: ``X[index] -> (len(index), n_columns)`` float32, for an int, a
    slice or an index tensor, with the zeros filled in; one gather and one
    scatter on the device, so a batch is never dense on the host.

    Parameters
    ----------
    matrix : scipy sparse matrix of shape (n_rows, n_columns)
        Converted to CSR with sorted indices and float32 values.
    device : str or torch.device, default="cpu"
    """

    def __init__(self, matrix, device="cpu") -> None:
        matrix = sparse.csr_matrix(matrix, dtype=np.float32)
        matrix.sort_indices()
        self.indptr = torch.as_tensor(matrix.indptr.astype(np.int64), device=device)
        self.indices = torch.as_tensor(matrix.indices.astype(np.int64), device=device)
        self.data = torch.as_tensor(matrix.data, device=device)
        self.shape = matrix.shape

    @classmethod
    def _of(cls, indptr, indices, data, shape) -> SparseRows:
        rows = cls.__new__(cls)
        rows.indptr, rows.indices, rows.data, rows.shape = indptr, indices, data, shape
        return rows

    @property
    def device(self) -> torch.device:
        return self.data.device

    def __len__(self) -> int:
        return self.shape[0]

    def _entries(self, index):
        """The rows at ``index``: their positions, and where their stored entries lie."""
        if isinstance(index, slice):
            rows = torch.arange(self.shape[0], device=self.device)[index]
        else:
            rows = torch.as_tensor(index, device=self.device).reshape(-1)
        starts = self.indptr[rows]
        counts = self.indptr[rows + 1] - starts  # (n_rows,)
        owner = torch.repeat_interleave(torch.arange(len(rows), device=self.device), counts)
        first = torch.cumsum(counts, 0) - counts  # each row's first entry in the gathered list
        offsets = torch.arange(len(owner), device=self.device) - first[owner] + starts[owner]
        return rows, counts, owner, offsets

    def __getitem__(self, index) -> Tensor:
        if isinstance(index, (int, np.integer)):  # one row, as a tensor's index gives it
            return self[torch.arange(self.shape[0])[index : index + 1 or None]][0]
        rows, _, owner, offsets = self._entries(index)
        dense = torch.zeros(len(rows), self.shape[1], dtype=self.data.dtype, device=self.device)
        dense[owner, self.indices[offsets]] = self.data[offsets]  # (n_rows, n_columns)
        return dense

    def subset(self, index) -> SparseRows:
        """The rows at ``index``, still sparse."""
        rows, counts, _, offsets = self._entries(index)
        indptr = torch.cat([counts.new_zeros(1), torch.cumsum(counts, 0)])
        shape = (len(rows), self.shape[1])
        return SparseRows._of(indptr, self.indices[offsets], self.data[offsets], shape)


def as_rows(X, device) -> Tensor | SparseRows:
    """``X`` on ``device``: a tensor, or :class:`SparseRows` for a scipy sparse matrix."""
    if sparse.issparse(X):
        return SparseRows(X, device=device)
    if isinstance(X, np.ndarray) and not X.flags.writeable:
        X = X.copy()  # torch cannot share a read-only array (a memmap opened "r")
    return torch.as_tensor(X, device=device)


class TensorBatchDataset(Dataset):
    """Inputs, targets and per-task weights held as tensors on one device.

    Parameters
    ----------
    X : ndarray or scipy sparse matrix of shape (n_samples, n_features), float32
        Inputs; a sparse matrix is kept sparse (:class:`SparseRows`).
    y : ndarray of shape (n_samples, n_tasks) or None
        Encoded targets; NaN (missing) entries must already be replaced by a
        finite value and carry zero weight.
    weight : ndarray of shape (n_samples, n_tasks) or None
        Per-row, per-task loss weight (zero where a label is missing); None
        when every label is present with unit weight. Batches are
        ``({"X": X, "sample_weight": weight}, y)``, or ``(X, y)`` without
        weights, or ``(X, None)`` without targets.
    device : str or torch.device, default="cpu"
        Where the tensors live.
    """

    def __init__(self, X, y=None, weight=None, device="cpu") -> None:
        self.X = as_rows(X, device)
        self.y = None if y is None else torch.as_tensor(y, device=device)
        self.weight = None if weight is None else torch.as_tensor(weight, device=device)

    @property
    def device(self) -> torch.device:
        return self.X.device

    def __len__(self) -> int:
        return len(self.X)

    def __getitem__(self, index):
        """Return the batch at ``index`` (an int, a slice or an index tensor)."""
        if self.y is None:
            return self.X[index], None
        if self.weight is None:
            return self.X[index], self.y[index]
        return {"X": self.X[index], "sample_weight": self.weight[index]}, self.y[index]

    def subset(self, index) -> TensorBatchDataset:
        """A new dataset holding the rows at ``index``."""
        index = torch.as_tensor(index, device=self.device)
        subset = TensorBatchDataset.__new__(TensorBatchDataset)
        subset.X = self.X.subset(index) if isinstance(self.X, SparseRows) else self.X[index]
        subset.y = None if self.y is None else self.y[index]
        subset.weight = None if self.weight is None else self.weight[index]
        return subset


class BatchLoader:
    """Iterate over a :class:`TensorBatchDataset` one whole batch at a time.

    Used as skorch's ``iterator_train`` and ``iterator_valid``. A shuffled epoch
    draws one permutation on the data's device and gathers each batch with one
    index operation.

    Parameters
    ----------
    dataset : TensorBatchDataset
        The data.
    batch_size : int
        Rows per batch (the last batch may be smaller).
    shuffle : bool, default=False
        Draw a new row order for each pass (from torch's global generator,
        which the estimators seed).
    shard : tuple of (int, int) or None, default=None
        ``(rank, world_size)`` in data-parallel training: every process draws
        the same row order (the same seed), cuts each batch of ``batch_size``
        rows into ``world_size`` near-equal parts and yields part ``rank``,
        so the processes together see the batches one process would. A last
        batch with fewer rows than processes is skipped.
    """

    def __init__(self, dataset: TensorBatchDataset, batch_size: int, shuffle=False, shard=None):
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.shard = shard

    def __len__(self) -> int:
        return math.ceil(len(self.dataset) / self.batch_size)

    def __iter__(self):
        n = len(self.dataset)
        if self.shard is not None:
            rank, world_size = self.shard
            order = (
                torch.randperm(n, device=self.dataset.device)
                if self.shuffle
                else torch.arange(n, device=self.dataset.device)
            )
            for start in range(0, n, self.batch_size):
                batch = order[start : start + self.batch_size]
                if len(batch) >= world_size:
                    yield self.dataset[torch.tensor_split(batch, world_size)[rank]]
        elif self.shuffle:
            order: Tensor = torch.randperm(n, device=self.dataset.device)
            for start in range(0, n, self.batch_size):
                yield self.dataset[order[start : start + self.batch_size]]
        else:
            for start in range(0, n, self.batch_size):
                yield self.dataset[start : start + self.batch_size]


class ShuffleSplitDataset:
    """skorch ``train_split``: hold out a random fraction of rows for validation.

    Unlike skorch's default ``ValidSplit``, it works for multi-output ``y``
    and for rows with missing labels. When a task has missing labels, the
    split is stratified on whether the scarcest task (the one with fewest
    labelled rows) is labelled, so that its labelled rows are divided in the
    same proportion as all rows (scikit-learn's ``train_test_split(stratify=)``):
    a task with 1 % of its labels holds out ``validation_fraction`` of them,
    rounded, and trains on the rest, where a plain permutation may hold out
    many more or fewer (or none) by chance. With every label present the split is a plain
    permutation.

    Parameters
    ----------
    validation_fraction : float
        Fraction of rows held out, in (0, 1).
    random_state : int
        Seed of the row permutation.
    """

    def __init__(self, validation_fraction: float, random_state: int) -> None:
        self.validation_fraction = validation_fraction
        self.random_state = random_state

    def __call__(self, dataset: TensorBatchDataset, y=None, **fit_params):
        n = len(dataset)
        n_valid = int(math.ceil(self.validation_fraction * n))
        if n_valid < 1 or n - n_valid < 1:
            raise ValueError(
                f"validation_fraction={self.validation_fraction} leaves an empty "
                f"training or validation set with {n} samples; use more samples "
                "or set early_stopping=False."
            )
        rng = np.random.RandomState(self.random_state)
        labelled = scarcest_task_labelled(dataset.weight)
        if labelled is None or min(n_valid, n - n_valid) < 2:
            order = rng.permutation(n)
            return dataset.subset(order[n_valid:]), dataset.subset(order[:n_valid])
        train, valid = train_test_split(
            np.arange(n), test_size=n_valid, stratify=labelled, random_state=rng
        )
        return dataset.subset(np.sort(train)), dataset.subset(np.sort(valid))


def scarcest_task_labelled(weight: Tensor | None) -> np.ndarray | None:
    """Whether each row has a label of the task with the fewest, to stratify a split on.

    None when every task is labelled on every row, or when the scarcest task
    has fewer than two labelled (or unlabelled) rows, too few to divide.
    """
    if weight is None:
        return None
    observed = (weight > 0).cpu().numpy()  # (n_samples, n_tasks)
    counts = observed.sum(axis=0)
    task = int(np.argmin(counts))
    if not 2 <= counts[task] <= len(observed) - 2:
        return None
    return observed[:, task]
