"""Labelling functions on tabular data: rules that become a label matrix, and their statistics.

A :class:`LabelingFunction` is one weak source for one task: a pandas
expression (``query="hours_per_week > 45"``, labelling ``label`` where it holds
and abstaining elsewhere), or a Python function of a row (or of the whole
frame, ``vectorized=True``) returning a class index or -1.
:func:`apply_labeling_functions` runs them into ``L``;
:func:`label_matrix_summary` gives, per source, what Snorkel's ``LFAnalysis``
gives: coverage, overlaps, conflicts and, with true labels, accuracy.
"""

from __future__ import annotations

from collections.abc import Callable
from numbers import Integral

import numpy as np
import pandas as pd

from ._label_matrix import ABSTAIN, check_label_matrix


class LabelingFunction:
    """One weak source for one task of a table.

    Parameters
    ----------
    name : str
        The source's name (a column of :func:`label_matrix_summary`).
    function : callable or None, default=None
        ``function(row) -> int`` (a class index, or -1 to abstain), or with
        ``vectorized=True`` ``function(frame) -> array of int``.
    query : str or None, default=None
        A boolean ``DataFrame.eval`` expression instead of ``function``: the
        source says ``label`` where it holds and abstains elsewhere (and where
        it is missing).
    label : int, default=1
        The class a ``query`` source gives.
    task : int, default=0
        The column of ``y`` (task) the source labels.
    vectorized : bool, default=False
        Whether ``function`` takes the whole frame.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn_mtl.weak import LabelingFunction, apply_labeling_functions
    >>> frame = pd.DataFrame({"hours": [50, 20, 40], "age": [30, 60, 45]})
    >>> long_hours = LabelingFunction("long hours", query="hours > 45", label=1)
    >>> retired = LabelingFunction("retired", lambda row: 0 if row["age"] > 55 else -1)
    >>> apply_labeling_functions(frame, [long_hours, retired])
    array([[ 1, -1],
           [-1,  0],
           [-1, -1]])
    """

    def __init__(
        self,
        name: str,
        function: Callable | None = None,
        *,
        query: str | None = None,
        label: int = 1,
        task: int = 0,
        vectorized: bool = False,
    ) -> None:
        if (function is None) == (query is None):
            raise ValueError(f"LabelingFunction {name!r} needs exactly one of function and query.")
        if not isinstance(task, Integral) or task < 0:
            raise ValueError(f"LabelingFunction {name!r}: task must be an int >= 0; got {task!r}.")
        if not isinstance(label, Integral) or label < 0:
            raise ValueError(
                f"LabelingFunction {name!r}: label must be a class index >= 0; got {label!r}."
            )
        self.name, self.function, self.query = name, function, query
        self.label, self.task, self.vectorized = int(label), int(task), vectorized

    def __repr__(self) -> str:
        return f"LabelingFunction({self.name!r}, task={self.task})"

    def __call__(self, frame: pd.DataFrame) -> np.ndarray:
        """The source's vote on every row: a class index or -1.

        Raises
        ------
        ValueError
            Naming the function, for votes that are not class indices or -1
            (fractions, booleans, unsigned or non-numeric values), a ``query``
            that is not a condition, or a result whose rows do not match the
            frame's. An error raised inside the function or query is raised
            again, of the same type where it can be, with the function's name.
        """
        try:
            if self.query is not None:
                result = frame.eval(self.query)
            elif self.vectorized:
                result = self.function(frame)
            else:
                result = frame.apply(self.function, axis=1)
        except Exception as error:
            raise _named(error, f"LabelingFunction {self.name!r} raised {error!r}") from error
        if self.query is not None:
            return np.where(self._condition(result, frame), self.label, ABSTAIN)
        return self._votes(result, frame)

    def _condition(self, holds, frame: pd.DataFrame) -> np.ndarray:
        """Where the query holds: a boolean per row (missing: it does not hold)."""
        if not isinstance(holds, pd.Series):  # a constant, or an array of one per row
            holds = pd.Series(holds, index=frame.index)
        kind = holds.dtype
        boolean = pd.api.types.is_bool_dtype(kind) or (
            kind.kind == "O" and holds.dropna().map(type).isin([bool, np.bool_]).all()
        )
        if not boolean:
            raise ValueError(
                f"LabelingFunction {self.name!r}: query {self.query!r} gives {kind} values, not "
                "True/False; write a condition, such as 'hours > 40' (a number is not read as "
                "one)."
            )
        return holds.fillna(False).astype(bool).to_numpy()

    def _votes(self, votes, frame: pd.DataFrame) -> np.ndarray:
        if isinstance(votes, pd.Series) and not votes.index.equals(frame.index):
            # a vectorised function may sort or filter: its Series is read by index
            if (
                votes.index.has_duplicates
                or not votes.index.isin(frame.index).all()
                or len(votes) != len(frame)
            ):
                raise ValueError(
                    f"LabelingFunction {self.name!r} returned a Series whose index is not "
                    "the frame's (one vote per row, by index label)."
                )
            votes = votes.reindex(frame.index)
        votes = np.asarray(votes)
        if votes.shape != (len(frame),):
            raise ValueError(
                f"LabelingFunction {self.name!r} returned shape {votes.shape}; expected one "
                f"vote per row, ({len(frame)},)."
            )
        if votes.dtype.kind == "O":
            try:
                votes = votes.astype(np.float64)
            except (TypeError, ValueError):
                raise ValueError(
                    f"LabelingFunction {self.name!r} returned values such as {votes[0]!r}; "
                    "it must return class indices or -1."
                ) from None
        kind = votes.dtype.kind
        if kind == "b":
            raise ValueError(
                f"LabelingFunction {self.name!r} returned True/False; a vote is a class index "
                "or -1 to abstain (False would vote class 0, not abstain): return, e.g., "
                "np.where(condition, 1, -1), or use query=."
            )
        if kind == "u":
            raise ValueError(
                f"LabelingFunction {self.name!r} returned {votes.dtype} votes, which cannot "
                "hold -1 (abstain): return a signed integer type."
            )
        if kind == "f":
            bad = ~np.isfinite(votes) | (votes != np.round(votes))
            if bad.any():
                example = float(votes[np.flatnonzero(bad)[0]])
                raise ValueError(
                    f"LabelingFunction {self.name!r} returned {example!r}, which is not a "
                    "class index: votes are whole numbers (a class index, or -1 to abstain)."
                )
        elif kind != "i":
            raise ValueError(
                f"LabelingFunction {self.name!r} must return class indices or -1; got "
                f"{votes.dtype}."
            )
        return votes.astype(np.int64)


def _named(error: Exception, message: str) -> Exception:
    """``error``'s type with ``message``; a ``ValueError`` where the type words its own."""
    try:
        named = type(error)(message)
    except Exception:
        return ValueError(message)
    return named if message in str(named) else ValueError(message)


def apply_labeling_functions(X, functions, *, n_tasks: int | None = None) -> np.ndarray:
    """Run labelling functions over a table: the label matrix ``L``.

    Parameters
    ----------
    X : pandas.DataFrame
        The rows to label.
    functions : list of LabelingFunction
        The sources, in the order of ``L``'s second axis; names must differ.
    n_tasks : int or None, default=None
        Number of tasks; ``None``: one more than the largest ``task``.

    Returns
    -------
    L : ndarray of shape (n_rows, n_sources), or (n_rows, n_sources, n_tasks) for several tasks
        Each source's vote on its task, -1 elsewhere.
    """
    if not isinstance(X, pd.DataFrame):
        raise TypeError(f"X must be a pandas DataFrame; got {type(X).__name__}.")
    functions = list(functions)
    if not functions or not all(isinstance(f, LabelingFunction) for f in functions):
        raise TypeError("functions must be a non-empty list of LabelingFunction.")
    names = [f.name for f in functions]
    if len(set(names)) != len(names):
        twice = sorted({n for n in names if names.count(n) > 1})
        raise ValueError(f"labelling function names must differ; {twice} appear twice.")
    largest = max(f.task for f in functions)
    n_tasks = largest + 1 if n_tasks is None else n_tasks
    if largest >= n_tasks:
        raise ValueError(f"a labelling function labels task {largest}; n_tasks is {n_tasks}.")
    L = np.full((len(X), len(functions), n_tasks), ABSTAIN, dtype=np.int64)
    for i, function in enumerate(functions):
        votes = function(X)
        if (votes < ABSTAIN).any():
            raise ValueError(
                f"LabelingFunction {function.name!r} returned {int(votes.min())}; votes are "
                "class indices or -1."
            )
        L[:, i, function.task] = votes
    return L[:, :, 0] if n_tasks == 1 else L


def label_matrix_summary(L, names=None, y=None) -> pd.DataFrame:
    """Per source and task: coverage, overlaps, conflicts and (with ``y``) accuracy.

    Parameters
    ----------
    L : array-like of shape (n_rows, n_sources) or (n_rows, n_sources, n_tasks)
        A label matrix.
    names : list of str or None, default=None
        Source names; ``source 0, ...`` by default.
    y : array-like of shape (n_rows,) or (n_rows, n_tasks) or None, default=None
        True labels (NaN or -1: unknown), only to evaluate the sources.

    Returns
    -------
    summary : pandas.DataFrame
        One row per (source, task) the source votes on, with ``polarity``
        (the classes it gives), ``coverage`` (share of rows it votes on),
        ``overlaps`` (share of rows where it and another source vote),
        ``conflicts`` (share where another source votes differently) and,
        with ``y``, ``correct``, ``incorrect`` and ``accuracy``.
    """
    L, _ = check_label_matrix(L)
    n_rows, n_sources, n_tasks = L.shape
    names = [f"source {i}" for i in range(n_sources)] if names is None else list(names)
    if len(names) != n_sources:
        raise ValueError(f"names has {len(names)} names for {n_sources} sources.")
    truth = None
    if y is not None:
        truth = np.asarray(y, dtype=float).reshape(n_rows, -1)
        if truth.shape[1] != n_tasks:
            raise ValueError(f"y has {truth.shape[1]} task(s); L has {n_tasks}.")
    rows = []
    for t in range(n_tasks):
        votes = L[:, :, t]
        voted = votes != ABSTAIN
        n_voting = voted.sum(axis=1)
        for i in range(n_sources):
            mine = voted[:, i]
            if not mine.any():
                continue
            others_differ = ((votes != votes[:, [i]]) & voted).any(axis=1)
            row = {
                "source": names[i],
                "task": t,
                "polarity": sorted(np.unique(votes[mine, i]).tolist()),
                "coverage": mine.mean(),
                "overlaps": (mine & (n_voting > 1)).mean(),
                "conflicts": (mine & others_differ).mean(),
            }
            if truth is not None:
                known = mine & np.isfinite(truth[:, t]) & (truth[:, t] != ABSTAIN)
                right = int((votes[known, i] == truth[known, t]).sum())
                row.update(correct=right, incorrect=int(known.sum()) - right,
                           accuracy=right / known.sum() if known.any() else np.nan)  # fmt: skip
            rows.append(row)
    return pd.DataFrame(rows)
