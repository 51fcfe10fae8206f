"""Training on data larger than memory: batches streamed from Parquet files.

The estimators learn incrementally with ``partial_fit`` (one epoch over each
batch it is given), so a data set that does not fit in memory is read one
batch at a time::

    from sklearn_mtl.stream import ParquetBatches

    batches = ParquetBatches("clicks/", target_columns=["click", "buy"], shuffle=True,
                             random_state=0)
    model = MMoEClassifier(random_state=0)
    for epoch in range(3):
        for X, y in batches:
            model.partial_fit(X, y, classes=[[0, 1], [0, 1]])

Peak memory is about one Parquet row group plus one batch, whatever the size
of the data set. Prediction is chunked the same way:
``np.concatenate([model.predict_proba(X)[1] for X, _ in batches])``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from numbers import Integral
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["ParquetBatches"]


class ParquetBatches:
    """Re-iterable ``(X, y)`` batches read from a Parquet file or folder of files.

    Each pass reads one row group at a time (with pyarrow) and cuts it into
    batches of at most ``batch_rows`` rows, so memory holds one row group and
    one batch, never the data set.

    Parameters
    ----------
    path : str or path-like
        A Parquet file, or a folder whose ``*.parquet`` files (in name order)
        form the data set.
    target_columns : sequence of str
        The label columns, in task order; ``y`` is their values as an array of
        shape ``(n_rows, n_tasks)`` (NaN or None marks a missing label).
    feature_columns : sequence of str or None, default=None
        The input columns; None takes every column that is not a target.
    batch_rows : int, default=65536
        Rows per batch; a row group's last batch may be smaller.
    shuffle : bool, default=False
        Visit the row groups in a new random order on every pass (rows within
        a batch are shuffled by ``partial_fit`` itself). Sorted data should be
        shuffled, or be written in shuffled order.
    random_state : int, RandomState instance or None, default=None
        Seeds the row-group order of the passes when ``shuffle`` is True.

    Attributes
    ----------
    files_ : list of Path
        The Parquet files read.
    n_rows_ : int
        Rows in the data set (from the files' metadata).
    """

    def __init__(
        self,
        path,
        target_columns: Sequence[str],
        *,
        feature_columns: Sequence[str] | None = None,
        batch_rows: int = 65536,
        shuffle: bool = False,
        random_state=None,
    ) -> None:
        import pyarrow.parquet as pq
        from sklearn.utils import check_random_state

        path = Path(path)
        self.files_ = sorted(path.glob("*.parquet")) if path.is_dir() else [path]
        if not self.files_ or not all(file.is_file() for file in self.files_):
            raise ValueError(f"path={str(path)!r} is neither a Parquet file nor a folder of them.")
        if not isinstance(batch_rows, Integral) or batch_rows < 1:
            raise ValueError(f"batch_rows must be a positive int; got {batch_rows!r}.")
        metadata = [pq.ParquetFile(file).metadata for file in self.files_]
        columns = metadata[0].schema.to_arrow_schema().names
        target_columns = [target_columns] if isinstance(target_columns, str) else target_columns
        if feature_columns is None:
            feature_columns = [c for c in columns if c not in set(target_columns)]
        absent = [c for c in [*target_columns, *feature_columns] if c not in columns]
        if absent:
            raise ValueError(f"Column(s) {absent} are not in {self.files_[0].name}: {columns}.")
        self.target_columns = list(target_columns)
        self.feature_columns = list(feature_columns)
        self.batch_rows = batch_rows
        self.shuffle = shuffle
        self._random = check_random_state(random_state)
        self._row_groups = [
            (file, group) for file, meta in zip(self.files_, metadata)
            for group in range(meta.num_row_groups)
        ]  # fmt: skip
        self.n_rows_ = sum(meta.num_rows for meta in metadata)

    def __len__(self) -> int:
        """Number of batches in a pass."""
        import pyarrow.parquet as pq

        return sum(
            -(-pq.ParquetFile(file).metadata.row_group(group).num_rows // self.batch_rows)
            for file, group in self._row_groups
        )

    def __iter__(self) -> Iterator[tuple[pd.DataFrame, np.ndarray]]:
        import pyarrow.parquet as pq

        order = np.arange(len(self._row_groups))
        if self.shuffle:
            order = self._random.permutation(order)
        for index in order:
            file, group = self._row_groups[index]
            with pq.ParquetFile(file) as parquet:  # opened per row group: nothing piles up
                table = parquet.read_row_group(
                    group, columns=[*self.feature_columns, *self.target_columns]
                )
            for start in range(0, table.num_rows, self.batch_rows):
                chunk = table.slice(start, self.batch_rows)
                X = chunk.select(self.feature_columns).to_pandas()
                y = chunk.select(self.target_columns).to_pandas().to_numpy()
                del chunk
                yield X, y
                del X, y  # before the next batch is made: one batch alive at a time
            del table  # before the next row group is read: one alive at a time
