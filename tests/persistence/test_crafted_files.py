"""Crafted model files whose checks used to cost quadratic time or memory.

Each file is built here from a small fitted model, tampered so that it
declares many tasks, columns or categories. The work ``load`` does before
refusing it must grow linearly with what the file holds: counted with
``tests/_cost.py``, never timed.
"""

import json
import zipfile

import numpy as np
import pandas as pd
import pytest

from sklearn_mtl import AdaptiveSharingRegressor, MMoEClassifier, MultiTaskNet, load, save
from sklearn_mtl.architectures import MMoE
from sklearn_mtl.datasets import make_task_groups, make_task_pair
from sklearn_mtl.nn.adaptive import check_branches
from sklearn_mtl.persistence import ModelFileError
from tests._cost import package_lines, peak_allocation


def _rewrite(path, change):
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    metadata = json.loads(members["metadata.json"])
    change(metadata)
    members["metadata.json"] = json.dumps(metadata).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED)


def _array(values, dtype):
    return {"__ndarray__": dtype, "shape": [len(values)], "data": list(values)}


@pytest.fixture(scope="module")
def adaptive_file(tmp_path_factory):
    X, Y = make_task_groups(100, n_groups=1, tasks_per_group=2, n_features=4, random_state=0)
    model = AdaptiveSharingRegressor(units=(4, 4), tower_units=(), max_epochs=1, random_state=0)
    path = tmp_path_factory.mktemp("adaptive") / "m.mtl"
    save(model.fit(X, Y), path)
    return path.read_bytes()


def _adaptive_with_tasks(source: bytes, folder, n_tasks: int):
    """The file, declaring two layers of ``n_tasks`` one-task branches (its weights: two tasks)."""
    path = folder / f"tasks{n_tasks}.mtl"
    path.write_bytes(source)

    def change(metadata):
        state = metadata["state"]
        state["n_tasks_"] = n_tasks
        for name in ("target_mean_", "target_scale_", "task_weights_"):
            state[name] = _array([1.0] * n_tasks, "<f8")
        state["_head_sizes"] = [1] * n_tasks
        state["_task_types"] = ["regression"] * n_tasks
        state["branches_"] = {"__tuple__": [[[t] for t in range(n_tasks)]] * 2}
        metadata["history"][-1]["__dict__"] = [
            [key, [1.0] * n_tasks if key == "task_weights" else value]
            for key, value in metadata["history"][-1]["__dict__"]
        ]

    _rewrite(path, change)
    return path


def test_a_file_of_many_one_task_branches_is_refused_in_linear_work(adaptive_file, tmp_path):
    """The audit's 68 kB file of 12,000 one-task branches took 35 s (quadratic) to refuse."""
    counts = []
    for n_tasks in (500, 2000):
        lines, outcome = package_lines(load, _adaptive_with_tasks(adaptive_file, tmp_path, n_tasks))
        assert isinstance(outcome, ModelFileError), outcome
        assert "tensors, far more than its weights hold" in str(outcome)
        counts.append(lines)
    assert counts[1] < 6 * counts[0], counts  # 4 times the tasks: 4 times the work, not 16


@pytest.mark.parametrize("n_tasks", [300, 1200])
def test_checking_a_tree_is_linear_in_its_tasks(n_tasks):
    one_task = [[(t,) for t in range(n_tasks)]]
    nested = [[tuple(range(n_tasks))], [(t,) for t in range(n_tasks)]]
    small, _ = package_lines(check_branches, [[(t,) for t in range(300)]], 300, 1)
    lines, tree = package_lines(check_branches, one_task, n_tasks, 1)
    assert tree == tuple(tuple((t,) for t in range(n_tasks)) for _ in range(1))
    assert lines <= 1.5 * small * n_tasks / 300
    lines, tree = package_lines(check_branches, nested, n_tasks, 2)
    assert len(tree[1]) == n_tasks and lines <= 3 * small * n_tasks / 300
    lines, tree = package_lines(check_branches, one_task * 2, n_tasks, 2)
    assert len(tree[1]) == n_tasks and lines <= 3 * small * n_tasks / 300


def test_a_tree_larger_than_its_tasks_is_refused_before_it_is_read():
    huge = [[(t,) for t in range(10**6)]]
    lines, outcome = package_lines(check_branches, huge, 4, 1)
    assert isinstance(outcome, ValueError)
    assert "has 1000000 branches; there are 4 tasks" in str(outcome)
    assert lines < 100


@pytest.fixture(scope="module")
def categorical_file(tmp_path_factory):
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"x": rng.normal(size=60),
                      "c0": pd.Categorical(rng.choice(list("abc"), 60)),
                      "c1": pd.Categorical(rng.choice(list("de"), 60))})  # fmt: skip
    model = MMoEClassifier(n_experts=2, expert_units=(4,), tower_units=(), max_epochs=1,
                           random_state=0).fit(X, rng.integers(0, 2, size=(60, 2)))  # fmt: skip
    path = tmp_path_factory.mktemp("categorical") / "m.mtl"
    save(model, path)
    return path.read_bytes()


def _categorical_columns(source: bytes, path, counts: list[int]):
    """The file, with one categorical column per entry of ``counts`` (that many categories)."""
    path.write_bytes(source)
    n_features = 1 + len(counts)

    def change(metadata):
        state = metadata["state"]
        mask = [False] + [True] * len(counts)
        state["n_features_in_"] = n_features
        state["feature_names_in_"] = _array([f"c{j}" for j in range(n_features)], "object")
        state["is_categorical_"] = _array(mask, "|b1")
        inputs = state["_input_encoder"]["state"]
        inputs["is_categorical"] = _array(mask, "|b1")
        inputs["numeric_dtypes"] = [not m for m in mask]
        inputs["cardinalities"] = [count + 2 for count in counts]
        encoder = inputs["encoder"]["state"]
        encoder["n_features_in_"] = len(counts)
        encoder["categories_"] = [
            _array([f"v{i}" for i in range(count)], "object") for count in counts
        ]

    _rewrite(path, change)
    return path


def test_a_file_of_many_categorical_columns_is_refused_in_linear_memory(categorical_file, tmp_path):
    """The audit's 56 kB file (2,000 columns, one of 20,000 categories) took ~1 GB to refuse.

    The encoder's check built an object array of (largest category count x columns).
    """
    path = _categorical_columns(categorical_file, tmp_path / "m.mtl", [20_000] + [1] * 1999)
    assert path.stat().st_size < 200_000
    peak, outcome = peak_allocation(load, path)
    assert isinstance(outcome, ModelFileError), outcome
    assert "far more than its weights hold" in str(outcome)
    assert peak < 60e6, f"{peak / 1e6:.0f} MB"  # the quadratic probe took 320 MB and more


def test_an_encoder_that_codes_beyond_its_tables_is_refused(categorical_file, tmp_path):
    path = tmp_path / "m.mtl"
    path.write_bytes(categorical_file)

    def change(metadata):
        encoder = metadata["state"]["_input_encoder"]["state"]["encoder"]["state"]
        encoder["categories_"][0] = _array(["a", "b", "c", "z"], "object")  # table: 3 rows

    _rewrite(path, change)
    with pytest.raises(ModelFileError, match="codes 4 categories in column 0, whose embedding"):
        load(path)


@pytest.mark.parametrize(
    "name, value",
    [("unknown_value", 5), ("handle_unknown", "error"), ("_infrequent_enabled", "yes"),
     ("_missing_indices", {"__dict__": [[0, 99]]}), ("n_features_in_", 7)],
)  # fmt: skip
def test_an_encoder_with_other_settings_is_refused(categorical_file, tmp_path, name, value):
    path = tmp_path / "m.mtl"
    path.write_bytes(categorical_file)

    def change(metadata):
        metadata["state"]["_input_encoder"]["state"]["encoder"]["state"][name] = value

    _rewrite(path, change)
    with pytest.raises(ModelFileError, match="the OrdinalEncoder's"):
        load(path)


def test_a_model_with_infrequent_categories_still_loads(tmp_path):
    rng = np.random.default_rng(0)
    shares = [0.5, 0.3, 0.1, 0.04, 0.03, 0.01, 0.01, 0.01]
    column = pd.Categorical(rng.choice(list("abcdefgh"), 200, p=shares))
    X = pd.DataFrame({"x": rng.normal(size=200), "c": column})
    Y = rng.integers(0, 2, size=(200, 2))
    model = MMoEClassifier(n_experts=2, expert_units=(4,), tower_units=(), max_epochs=2,
                           min_frequency=10, random_state=0).fit(X, Y)  # fmt: skip
    save(model, tmp_path / "m.mtl")
    loaded = load(tmp_path / "m.mtl")
    np.testing.assert_array_equal(loaded.predict_proba(X)[0], model.predict_proba(X)[0])


# ------------------------------------------------ parameters against the fitted state


def test_parameters_that_contradict_the_fitted_state_are_refused(tmp_path):
    """The audit loaded a 3-task MultiTaskNet whose task_types listed 50 entries."""
    X, Y = make_task_pair(200, 0.5, n_features=4, target="binary", random_state=0)
    Y = np.column_stack([Y, Y[:, 0]])
    model = MultiTaskNet(MMoE(n_experts=2, expert_units=(4,), tower_units=()), max_epochs=1,
                         task_types=["binary"] * 3, random_state=0).fit(X, Y)  # fmt: skip
    save(model, tmp_path / "m.mtl")
    source = (tmp_path / "m.mtl").read_bytes()

    def task_types(metadata):
        metadata["params"]["task_types"] = ["binary"] * 50

    _rewrite(tmp_path / "m.mtl", task_types)
    with pytest.raises(ModelFileError, match="task_types parameter lists 50 task type"):
        load(tmp_path / "m.mtl")
    (tmp_path / "m.mtl").write_bytes(source)

    def categorical(metadata):
        metadata["params"]["categorical_features"] = [0, 2]

    _rewrite(tmp_path / "m.mtl", categorical)
    with pytest.raises(ModelFileError, match="categorical_features parameter does not give"):
        load(tmp_path / "m.mtl")
    (tmp_path / "m.mtl").write_bytes(source)
    np.testing.assert_array_equal(load(tmp_path / "m.mtl").predict(X), model.predict(X))
