"""Turning ``X`` (an array or a DataFrame with categorical columns) into what the nets read.

:class:`InputEncoder` is learnt inside ``fit`` on the training rows only, so
cross-validation never leaks: it learns each numeric column's mean and scale
(applied batch by batch by the net's input layer) and turns categorical
columns into integer codes for the embedding tables of
:class:`~sklearn_mtl.nn.TabularInput`.
"""

from __future__ import annotations

import warnings
from numbers import Integral

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.preprocessing import OrdinalEncoder
from sklearn.utils import check_array

# Categorical codes: 0 is a missing value, 1 a category unseen in fit, 2.. the known
# ones (with min_frequency, the infrequent ones share the last code).
MISSING_CODE, UNKNOWN_CODE, FIRST_CODE = 0, 1, 2


def embedding_size(n_codes: int) -> int:
    """The rule of thumb ``min(50, round(1.6 * n_codes ** 0.56))`` (fast.ai)."""
    return int(min(50, round(1.6 * n_codes**0.56)))


def _is_categorical_dtype(dtype) -> bool:
    return isinstance(dtype, pd.CategoricalDtype) or (
        not pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
    )


FLOAT32_MAX = float(np.finfo(np.float32).max)


def _check_float32_range(values: np.ndarray, columns: np.ndarray) -> None:
    """The networks compute in float32: a larger value would become inf, then NaN."""
    # max and min, not abs: no temporary copy of X; over the whole array first (one
    # contiguous pass, 2.6-5x faster than per column), per column only to name them
    limit = FLOAT32_MAX / 4
    if values.max() <= limit and values.min() >= -limit:
        return
    too_large = np.flatnonzero((values.max(axis=0) > limit) | (values.min(axis=0) < -limit))
    if too_large.size:
        raise ValueError(
            f"X has values beyond float32's range (|x| > {FLOAT32_MAX / 4:.1e}) in column(s) "
            f"{columns[too_large].tolist()}; the networks compute in float32: rescale them "
            "(e.g. a log transform or StandardScaler)."
        )


STATISTICS_CHUNK_ROWS = 8192
"""Rows per block of :func:`column_mean_std`: small enough to stay in cache."""


def column_mean_std(X: np.ndarray, rows: int = STATISTICS_CHUNK_ROWS):
    """Each column's mean and (population) standard deviation, as float64.

    One sweep over ``X`` in blocks of ``rows`` rows, combined with Chan et al.'s
    pairwise update, with float64 accumulation (a sparse ``X`` is made dense a
    block at a time, so it gives what its dense copy gives): the result matches
    ``X.mean(axis=0, dtype=float64)`` and ``X.std(axis=0, dtype=float64)`` to
    about 1e-10 (relative) for float32 ``X``, without their ``n x d`` float64
    temporary, and about twice as fast on this CPU. Shape:
    ``(n, d) -> (d,), (d,)``.
    """
    n_seen = 0
    mean = np.zeros(X.shape[1])
    squares = np.zeros(X.shape[1])  # sum of squared deviations from the mean
    for start in range(0, X.shape[0], rows):
        block = X[start : start + rows]  # (k, d), a view
        if sparse.issparse(block):  # the same blocks, dense: the same sums as a dense X
            block = block.toarray()
        k = block.shape[0]
        block_mean = block.mean(axis=0, dtype=np.float64)  # (d,)
        deviations = block - block_mean.astype(block.dtype)  # (k, d), the block's dtype
        # squares summed in float64: a float32 deviation of 2e19 squares beyond float32
        block_squares = np.einsum("ij,ij->j", deviations, deviations, dtype=np.float64)
        delta = block_mean - mean
        total = n_seen + k
        mean += delta * (k / total)
        squares += block_squares + delta**2 * (n_seen * k / total)
        n_seen = total
    return mean, np.sqrt(squares / max(n_seen, 1))


QUANTILE_SAMPLE_ROWS = 200_000
"""Most rows the quantile bins are computed on (a fixed random subset beyond), as in
``HistGradientBoostingClassifier``'s binning."""


def quantile_bin_edges(numeric: np.ndarray, n_bins: int) -> np.ndarray:
    """Each column's ``n_bins`` quantile bins: edges of shape ``(n_columns, n_bins + 1)``.

    Repeated quantiles (a column of few distinct values) are merged, and the
    column's last edge repeated to pad it: such bins have no width and stay
    off. NaN is left out; a column without a value gets edges of zeros.
    """
    if len(numeric) > QUANTILE_SAMPLE_ROWS:
        rows = np.random.RandomState(0).choice(len(numeric), QUANTILE_SAMPLE_ROWS, replace=False)
        numeric = numeric[np.sort(rows)]
    edges = np.zeros((numeric.shape[1], n_bins + 1))
    levels = np.linspace(0, 1, n_bins + 1)
    if sparse.issparse(numeric):
        numeric = numeric.tocsc()
    for j in range(numeric.shape[1]):
        column = numeric[:, [j]].toarray().ravel() if sparse.issparse(numeric) else numeric[:, j]
        column = column.astype(np.float64)
        column = column[~np.isnan(column)]
        if column.size == 0:
            continue
        distinct = np.unique(np.quantile(column, levels))
        edges[j, : len(distinct)] = distinct
        edges[j, len(distinct) :] = distinct[-1]
    return edges


def _nan_mean_std(numeric: np.ndarray):
    """Per-column mean and standard deviation over the values that are not NaN."""
    with warnings.catch_warnings():  # a column without a value: mean 0, scale 1
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nan_to_num(np.nanmean(numeric, axis=0, dtype=np.float64))
        std = np.nan_to_num(np.nanstd(numeric, axis=0, dtype=np.float64))
    return mean, std


class InputEncoder:
    """Learns numeric columns' mean and scale, and codes categorical columns.

    Parameters
    ----------
    categorical_features : "from_dtype", None or array-like
        As ``HistGradientBoostingClassifier``'s: ``"from_dtype"`` takes the
        DataFrame columns of ``category``, ``object`` or string dtype; or
        column names, indices, or a boolean mask.
    min_frequency : int, float or None
        Categories seen fewer times (or in a smaller fraction of rows) share
        one code, as in ``OrdinalEncoder``.
    estimator_name : str
        Used in error messages.
    numeric_embedding : {"linear", "piecewise_linear", "periodic"}, default="linear"
        With ``"piecewise_linear"``, ``fit_transform`` also learns each
        numeric column's ``n_bins`` quantile bins (``bin_edges``).
    n_bins : int, default=16
    allow_missing : bool, default=False
        Whether NaN in a numeric column is a value (else it is refused).
    """

    def __init__(
        self,
        categorical_features,
        min_frequency,
        estimator_name: str,
        numeric_embedding: str = "linear",
        n_bins: int = 16,
        allow_missing: bool = False,
    ):
        self.categorical_features = categorical_features
        self.min_frequency = min_frequency
        self.estimator_name = estimator_name
        self.numeric_embedding = numeric_embedding
        self.n_bins = n_bins
        self.allow_missing = allow_missing

    def fit_transform(self, X) -> np.ndarray:
        """Learn the encoding on ``X`` and return it encoded, float32 (CSR for a sparse ``X``)."""
        frame = X if isinstance(X, pd.DataFrame) else None
        n_features = X.shape[1]
        self.is_categorical = self._categorical_mask(frame, n_features)
        if sparse.issparse(X):
            self._check_sparse()
        self.numeric_dtypes = (
            [pd.api.types.is_numeric_dtype(d) for d in frame.dtypes] if frame is not None else None
        )
        numeric = self._numeric_part(X, fit=True)
        if self.allow_missing and np.isnan(numeric).any():
            self.mean, scale = _nan_mean_std(numeric)
        else:
            self.mean, scale = column_mean_std(numeric)
        self.scale = np.where(scale > 0, scale, 1.0)
        self.bin_edges = (
            quantile_bin_edges(numeric, self.n_bins)
            if self.numeric_embedding == "piecewise_linear"
            else None
        )
        self.encoder = None
        self.cardinalities: list[int] = []
        if self.is_categorical.any():
            self.encoder = OrdinalEncoder(
                handle_unknown="use_encoded_value",
                unknown_value=UNKNOWN_CODE - FIRST_CODE,
                encoded_missing_value=MISSING_CODE - FIRST_CODE,
                min_frequency=self.min_frequency,
                dtype=np.float64,
            ).set_output(transform="default")  # arrays, whatever set_config says
            codes = self._codes(self._categorical_part(X), fit=True)
            self.cardinalities = [int(max(c.max(), UNKNOWN_CODE)) + 1 for c in codes.T]
            return self._assemble(numeric, codes)
        return self._assemble(numeric, None)

    def transform(self, X) -> np.ndarray:
        """Encode ``X`` as learnt; float32, numeric columns (raw) first, then codes."""
        if self.numeric_dtypes is not None and isinstance(X, pd.DataFrame):
            for name, was_numeric, dtype in zip(X.columns, self.numeric_dtypes, X.dtypes):
                if was_numeric != pd.api.types.is_numeric_dtype(dtype):
                    kind = "numeric" if was_numeric else "non-numeric"
                    raise ValueError(
                        f"Column {name!r} had a {kind} dtype during fit and has dtype {dtype} "
                        "now; pass the columns with the dtypes they had in fit."
                    )
        numeric = self._numeric_part(X, fit=False)
        codes = None
        if self.encoder is not None:
            codes = self._codes(self._categorical_part(X), fit=False)
        return self._assemble(numeric, codes)

    @property
    def n_numeric(self) -> int:
        return int((~self.is_categorical).sum())

    def _check_sparse(self) -> None:
        """A sparse ``X`` is numeric, and complete unless missing values are learnt."""
        if self.is_categorical.any():
            raise ValueError(
                f"{self.estimator_name} got a sparse X with categorical_features: a sparse X "
                "holds numbers only; pass categorical columns in a DataFrame, or one-hot "
                "encode them (OneHotEncoder's sparse output is read as numbers)."
            )
        if getattr(self, "allow_missing", False):
            raise ValueError(
                f"{self.estimator_name}(numeric_missing='learn') needs a dense X; a sparse "
                "X's absent entries are zeros, not missing values."
            )
        if self.numeric_embedding == "piecewise_linear":
            raise ValueError(
                f"{self.estimator_name}(numeric_embedding='piecewise_linear') needs a dense X "
                "to learn each column's quantile bins; densify X (X.toarray()) or use "
                "numeric_embedding='linear'."
            )

    @staticmethod
    def _assemble(numeric: np.ndarray, codes: np.ndarray | None) -> np.ndarray:
        """Row-major float32, the nets gather rows of it for every batch.

        Numeric columns stay as they are (a float32 C-ordered ``X`` is not even
        copied; a sparse one stays sparse, as CSR); the net's input layer
        standardises each batch with ``mean`` and ``scale``.
        """
        if sparse.issparse(numeric):
            return sparse.csr_matrix(numeric, dtype=np.float32)
        if codes is not None:
            numeric = np.hstack([numeric, codes])  # (n, n_numeric + n_categorical)
        return np.ascontiguousarray(numeric, dtype=np.float32)

    def _numeric_part(self, X, fit: bool) -> np.ndarray:
        allow_missing = getattr(self, "allow_missing", False)  # encoders older than the option
        columns = np.flatnonzero(~self.is_categorical)
        if columns.size == 0:  # every column is categorical
            return np.empty((X.shape[0], 0))
        if not self.is_categorical.any():
            part = X  # no column selection: no copy of an all-numeric X
        elif isinstance(X, pd.DataFrame):
            part = X.iloc[:, columns]
        else:
            part = np.asarray(X)[:, columns]
        if sparse.issparse(part) and not fit:
            self._check_sparse()
        try:
            values = check_array(
                part,
                accept_sparse="csr",
                dtype=[np.float64, np.float32],
                ensure_min_features=0,
                ensure_min_samples=1 if fit else 0,
                ensure_all_finite="allow-nan" if allow_missing else True,
                input_name="X",
            )
        except ValueError as error:
            if "NaN" in str(error):
                raise ValueError(
                    f"{error} {self.estimator_name} does not impute numeric columns unless "
                    "numeric_missing='learn' (a learnt embedding for a missing value, as "
                    "boosted trees handle it): set it, or impute them first, e.g. with "
                    "sklearn.impute.SimpleImputer in a Pipeline (a missing value in a "
                    "categorical column is a category of its own)."
                ) from None
            if "could not convert" in str(error) or "string" in str(error):
                raise ValueError(
                    f"{error} Non-numeric columns are categorical features: pass them in a "
                    "DataFrame with category, object or string dtype, or name them in "
                    "categorical_features."
                ) from None
            raise
        except TypeError as error:  # e.g. pd.NA inside an object array
            raise TypeError(
                f"X's numeric columns could not be read as numbers ({error}); a missing "
                "value there must be NaN, and non-numeric columns belong in a DataFrame "
                "with category, object or string dtype."
            ) from None
        if sparse.issparse(values):
            if values.nnz:  # the stored entries; the others are zeros
                _check_float32_range(values.max(axis=0).toarray()[0][None], columns)
                _check_float32_range(values.min(axis=0).toarray()[0][None], columns)
        elif values.size:  # float32 too: 3e38 is a float32, but the network's sums overflow
            _check_float32_range(np.nan_to_num(values) if allow_missing else values, columns)
        return values

    def _codes(self, part: np.ndarray, fit: bool) -> np.ndarray:
        encode = self.encoder.fit_transform if fit else self.encoder.transform
        codes = encode(part) + FIRST_CODE
        # Missing is its own category even in a column that had none in fit.
        codes[pd.isna(part)] = MISSING_CODE
        return codes

    def _categorical_part(self, X) -> np.ndarray:
        """The categorical columns as objects, every kind of missing value as NaN."""
        columns = np.flatnonzero(self.is_categorical)
        if isinstance(X, pd.DataFrame):
            part = X.iloc[:, columns].astype(object).to_numpy()
        else:
            part = np.asarray(X, dtype=object)[:, columns]
        return np.where(pd.isna(part), np.nan, part)

    def _categorical_mask(self, frame: pd.DataFrame | None, n_features: int) -> np.ndarray:
        spec = self.categorical_features
        if spec is None:
            return np.zeros(n_features, dtype=bool)
        if isinstance(spec, str):  # "from_dtype"; other strings fail parameter validation
            if frame is None:
                return np.zeros(n_features, dtype=bool)
            return np.array([_is_categorical_dtype(d) for d in frame.dtypes], dtype=bool)
        spec = np.asarray(spec)
        if spec.dtype.kind == "b":
            if spec.shape != (n_features,):
                raise ValueError(
                    f"categorical_features as a boolean mask must have shape ({n_features},), "
                    f"one entry per feature; got shape {spec.shape}."
                )
            return spec.copy()
        mask = np.zeros(n_features, dtype=bool)
        if spec.dtype.kind in "OUS":
            names = [] if frame is None else [str(c) for c in frame.columns]
            for name in spec.ravel():
                if name not in names:
                    raise ValueError(
                        f"categorical_features names {str(name)!r}, which is not a column of X"
                        + (" (X has no column names)." if frame is None else ".")
                    )
                mask[names.index(name)] = True
            return mask
        for index in spec.ravel():
            in_range = isinstance(index, Integral) and -n_features <= index < n_features
            if not in_range:
                raise ValueError(
                    f"categorical_features holds {index!r}, not a column index in "
                    f"[0, {n_features})."
                )
            mask[index] = True
        return mask
