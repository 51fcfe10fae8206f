"""The UCI Adult census data, bundled, as the MMoE paper's task pairs."""

from __future__ import annotations

from importlib import resources

import pandas as pd
from sklearn.utils import Bunch

from ..utils._sklearn import StrOptions, validate_params

_CATEGORICAL = [
    "workclass",
    "education",
    "marital-status",
    "occupation",
    "relationship",
    "race",
    "gender",
    "native-country",
    "income",
]
_BACHELORS_OR_MORE = {"Bachelors", "Masters", "Prof-school", "Doctorate"}
_SELF_EMPLOYED = {"Self-emp-inc", "Self-emp-not-inc"}
_POSTGRADUATE = {"Masters", "Prof-school", "Doctorate"}
TASK_GROUPS = {
    "income": (["income_over_50k", "never_married"], ["income", "marital-status"]),
    "education": (
        ["bachelors_or_more", "never_married"],
        ["education", "educational-num", "marital-status"],
    ),
    "five": (
        ["income_over_50k", "never_married", "bachelors_or_more", "over_40_hours", "self_employed"],
        ["income", "marital-status", "education", "educational-num", "hours-per-week", "workclass"],
    ),  # fmt: skip
    "degrees": (
        ["bachelors_or_more", "postgraduate", "income_over_50k"],
        ["education", "educational-num", "income"],
    ),
}
"""Targets of each task group and the source columns they remove from the inputs."""


def _read_adult() -> pd.DataFrame:
    path = resources.files("sklearn_mtl.datasets") / "data" / "adult.csv.gz"
    with resources.as_file(path) as file:
        frame = pd.read_csv(file, compression="gzip")
    for column in _CATEGORICAL:
        frame[column] = frame[column].astype("category")
    return frame


@validate_params(
    {
        "task_group": [StrOptions(set(TASK_GROUPS))],
        "subset": [StrOptions({"train", "test", "all"})],
        "return_X_y": ["boolean"],
        "as_frame": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def load_adult(*, task_group="income", subset="train", return_X_y=False, as_frame=True):
    """Load the Adult census data as a two-task classification problem.

    48,842 people from the 1994 US census, bundled with the package (CC BY
    4.0; no download). The task pairs are those of the MMoE paper: see
    ``task_group``. Categorical inputs have pandas ``category`` dtype, so the
    neural estimators embed them with ``categorical_features="from_dtype"``.

    Parameters
    ----------
    task_group : {"income", "education", "five", "degrees"}, default="income"
        ``"income"``: targets ``income_over_50k`` and ``never_married``.
        ``"education"``: targets ``bachelors_or_more`` and ``never_married``.
        ``"five"``: those three, ``over_40_hours`` (more than 40 hours a week)
        and ``self_employed`` (either self-employed work class).
        ``"degrees"``: ``bachelors_or_more``, ``postgraduate`` (Masters,
        Prof-school or Doctorate, so a subset of the first: a task hierarchy)
        and ``income_over_50k``.
        The columns a target is made from are removed from the inputs.
    subset : {"train", "test", "all"}, default="train"
        UCI's canonical training file (32,561 rows), test file (16,281 rows),
        or both (training rows first).
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.
    as_frame : bool, default=True
        Data as a DataFrame (categorical columns of ``category`` dtype, missing
        values NaN) and target as a DataFrame of 0/1 ints; otherwise an object
        ndarray and an int ndarray.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``data`` (n_samples, 13 inputs for ``"income"``, 12 for ``"education"``, 9 for
        ``"five"``),
        ``target`` (n_samples, 2),
        ``feature_names``, ``target_names``, ``frame`` (data and target
        together, when ``as_frame``) and ``DESCR``.
    (data, target) : tuple
        When ``return_X_y``.

    Examples
    --------
    >>> from sklearn_mtl.datasets import load_adult
    >>> X, Y = load_adult(return_X_y=True)
    >>> X.shape, list(Y.columns)
    ((32561, 13), ['income_over_50k', 'never_married'])
    >>> X["workclass"].dtype.name, int(X["workclass"].isna().sum())
    ('category', 1836)
    """
    frame = _read_adult()
    if subset != "all":
        frame = frame[frame["split"] == subset].reset_index(drop=True)
    target = pd.DataFrame(
        {
            "income_over_50k": (frame["income"] == ">50K").astype(int),
            "bachelors_or_more": frame["education"].isin(_BACHELORS_OR_MORE).astype(int),
            "never_married": (frame["marital-status"] == "Never-married").astype(int),
            "over_40_hours": (frame["hours-per-week"] > 40).astype(int),
            "self_employed": frame["workclass"].isin(_SELF_EMPLOYED).astype(int),
            "postgraduate": frame["education"].isin(_POSTGRADUATE).astype(int),
        }
    )
    target_names, removed = TASK_GROUPS[task_group]
    target = target[target_names]
    data = frame.drop(columns=["split", *removed])
    descr = (resources.files("sklearn_mtl.datasets") / "descr" / "adult.rst").read_text()
    if not as_frame:
        data, target = data.to_numpy(dtype=object), target.to_numpy()
    if return_X_y:
        return data, target
    return Bunch(
        data=data,
        target=target,
        feature_names=list(frame.columns.drop(["split", *removed])),
        target_names=list(target_names),
        frame=pd.concat([data, target], axis=1) if as_frame else None,
        DESCR=descr,
    )
