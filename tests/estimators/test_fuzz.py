"""Property-based fuzzing of inputs: every estimator works or says what is wrong.

Hypothesis draws the data: shapes (empty, one row, a few rows), column dtypes
(floats, ints, unsigned, bools, pandas nullable Int64 / Float64 / boolean,
object and string columns, categoricals), NaN, inf, None and huge values,
constant columns, and labels (ints, strings, bools, floats, NaN, one class,
1-D or 2-D). Each estimator must either fit and predict finite outputs, or
raise ValueError / TypeError whose message names what is wrong; never an
IndexError, a RuntimeError from torch, or a silent NaN. ``N_EXAMPLES`` cases
are generated per test (see the constant below), 5 x N_EXAMPLES in all.
"""

import re

import numpy as np
import pandas as pd
import pytest

from sklearn_mtl import MMoEClassifier, MMoERegressor, MultiTaskL1LqClassifier, MultiTaskNet
from sklearn_mtl.architectures import MMoE

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

N_EXAMPLES = 100
FUZZ = settings(
    max_examples=N_EXAMPLES,
    deadline=None,
    derandomize=True,  # the same cases every run: CI stays reproducible
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
NUMERIC_KINDS = ["float64", "float32", "int64", "uint8", "bool", "Int64", "Float64", "boolean"]
CATEGORICAL_KINDS = ["object", "string", "category"]
# a message names the problem when it speaks of X, y or one of these (case aside)
NAMES_THE_PROBLEM = re.compile(
    r"\bX\b|\by\b|column|sample|feature|class|task|label|dtype|\bnan\b|infinity|target"
    r"|categor|numeric|missing|float32|shape",
    re.IGNORECASE,
)


def names_the_problem(error) -> bool:
    message = str(error)
    return bool(NAMES_THE_PROBLEM.search(message)) and "torch" not in message.lower()


def numeric_column(draw, kind, n):
    special = st.sampled_from([np.nan, np.inf, -np.inf, 1e300, -1e300, 3e38, 0.0])
    if kind in ("bool", "boolean"):
        values = draw(st.lists(st.booleans(), min_size=n, max_size=n))
        if kind == "boolean" and n and draw(st.booleans()):
            values[0] = None
        return pd.array(values, dtype=kind) if kind == "boolean" else np.array(values)
    if kind in ("int64", "uint8", "Int64"):
        bound = 255 if kind == "uint8" else 2**40
        values = draw(st.lists(st.integers(0, bound), min_size=n, max_size=n))
        if kind == "Int64" and n and draw(st.booleans()):
            values[0] = None
        return pd.array(values, dtype=kind) if kind == "Int64" else np.array(values, dtype=kind)
    values = draw(st.lists(st.floats(-1e6, 1e6, width=32), min_size=n, max_size=n))
    if n and draw(st.booleans()):
        values[draw(st.integers(0, n - 1))] = draw(special)
    if draw(st.booleans()):  # a constant column
        values = [values[0]] * n if n else values
    if kind == "Float64":
        return pd.array([None if v != v else v for v in values], dtype="Float64")
    with np.errstate(over="ignore", invalid="ignore"):  # 1e300 as float32 is inf, on purpose
        return np.array(values, dtype=kind)


def categorical_column(draw, kind, n):
    values = draw(st.lists(st.sampled_from(["a", "b", "c", None]), min_size=n, max_size=n))
    if kind == "category":
        return pd.Categorical(values)
    return pd.array(values, dtype="string") if kind == "string" else np.array(values, dtype=object)


@st.composite
def inputs(draw):
    n = draw(st.sampled_from([0, 1, 2, 7, 20]))
    numeric = [draw(st.sampled_from(NUMERIC_KINDS)) for _ in range(draw(st.integers(0, 3)))]
    categorical = [draw(st.sampled_from(CATEGORICAL_KINDS)) for _ in range(draw(st.integers(0, 2)))]
    columns = {f"n{j}": numeric_column(draw, kind, n) for j, kind in enumerate(numeric)}
    columns.update({f"c{j}": categorical_column(draw, k, n) for j, k in enumerate(categorical)})
    frame = pd.DataFrame(columns, index=range(n))
    if not categorical and draw(st.booleans()):
        return frame.to_numpy()  # an array (object dtype when nullable columns mix)
    return frame


@st.composite
def labels(draw, n):
    kind = draw(st.sampled_from(["int", "str", "bool", "float", "one class", "nan"]))
    n_tasks = draw(st.sampled_from([1, 2]))
    if kind == "int":
        y = np.array(draw(st.lists(st.integers(0, 2), min_size=n * n_tasks, max_size=n * n_tasks)))
    elif kind == "str":
        y = np.array(draw(st.lists(st.sampled_from(["no", "yes"]), min_size=n * n_tasks,
                                   max_size=n * n_tasks)), dtype=object)  # fmt: skip
    elif kind == "bool":
        y = np.array(draw(st.lists(st.booleans(), min_size=n * n_tasks, max_size=n * n_tasks)))
    elif kind == "one class":
        y = np.ones(n * n_tasks)
    else:
        y = np.array(draw(st.lists(st.floats(-10, 10), min_size=n * n_tasks,
                                   max_size=n * n_tasks)))  # fmt: skip
        if kind == "nan" and y.size:
            y[:: max(1, y.size // 3)] = np.nan
    y = y.reshape(n, n_tasks)
    return y[:, 0] if n_tasks == 1 and draw(st.booleans()) else y


def check(estimator, X, y):
    try:
        estimator.fit(X, y)
    except (ValueError, TypeError) as error:
        assert names_the_problem(error), str(error)
        assert not hasattr(estimator, "net_") and not hasattr(estimator, "coef_")
        return
    try:
        outputs = [estimator.predict(X)]
        if hasattr(estimator, "predict_proba"):
            proba = estimator.predict_proba(X)
            outputs += [p for p in proba if p is not None] if isinstance(proba, list) else [proba]
    except (ValueError, TypeError) as error:
        assert names_the_problem(error), str(error)
        return
    for output in outputs:
        values = np.asarray(output)
        if values.dtype.kind == "f":
            assert np.isfinite(values).all(), f"{type(estimator).__name__} predicted NaN/inf"
        if values.dtype.kind == "O":  # mixed task types: check each float entry
            assert all(np.isfinite(v) for v in values.ravel() if isinstance(v, float))


SMALL = {"expert_units": (4,), "tower_units": (), "max_epochs": 1, "batch_size": 8}


@FUZZ
@given(st.data())
def test_fuzzed_classifier(data):
    X = data.draw(inputs())
    check(MMoEClassifier(2, **SMALL, random_state=0), X, data.draw(labels(len(X))))


@FUZZ
@given(st.data())
def test_fuzzed_regressor(data):
    X = data.draw(inputs())
    check(MMoERegressor(2, **SMALL, random_state=0), X, data.draw(labels(len(X))))


@FUZZ
@given(st.data())
def test_fuzzed_mixed_task_net(data):
    X = data.draw(inputs())
    architecture = MMoE(2, expert_units=(4,), tower_units=())
    model = MultiTaskNet(architecture, max_epochs=1, batch_size=8, random_state=0)
    check(model, X, data.draw(labels(len(X))))


@FUZZ
@given(st.data())
def test_fuzzed_linear_classifier(data):
    X = data.draw(inputs())
    check(MultiTaskL1LqClassifier(alpha=0.1, max_iter=50), X, data.draw(labels(len(X))))


@pytest.fixture(scope="module")
def fitted_on_mixed_columns():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({
        "n0": rng.normal(size=60),
        "n1": rng.integers(0, 5, 60),
        "c0": pd.Categorical(rng.choice(["a", "b"], 60)),
    })  # fmt: skip
    Y = np.column_stack([frame["n0"] > 0, frame["c0"] == "a"]).astype(int)
    return MMoEClassifier(2, **SMALL, random_state=0).fit(frame, Y)


@FUZZ
@given(st.data())
def test_fuzzed_prediction_inputs(fitted_on_mixed_columns, data):
    n = data.draw(st.sampled_from([0, 1, 5]))
    columns = {
        "n0": numeric_column(data.draw, data.draw(st.sampled_from(NUMERIC_KINDS)), n),
        "n1": numeric_column(data.draw, data.draw(st.sampled_from(NUMERIC_KINDS)), n),
        "c0": categorical_column(data.draw, data.draw(st.sampled_from(CATEGORICAL_KINDS)), n),
    }
    X = pd.DataFrame(columns, index=range(n))
    if data.draw(st.booleans()):  # a column missing or in another order
        X = X.iloc[:, data.draw(st.permutations([0, 1, 2]))[: data.draw(st.integers(2, 3))]]
    model = fitted_on_mixed_columns
    try:
        probas = model.predict_proba(X)
    except (ValueError, TypeError) as error:
        assert names_the_problem(error), str(error)
        return
    assert all(np.isfinite(p).all() and p.shape == (n, 2) for p in probas)
