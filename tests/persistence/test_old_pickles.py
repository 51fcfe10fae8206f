"""Pickles written before the package took its layout (issue 30) still load and predict.

The pickles under ``tests/persistence/data/pickles_f8276ef`` name the private modules of
that commit (``sklearn_mtl._net``, ``sklearn_mtl._inputs``, ``sklearn_mtl._tasks``,
``sklearn_mtl._training``, ...); ``make_pickles.py`` there says how they were written.
"""

import importlib
import pickle
import pickletools
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sklearn_mtl.datasets import make_task_pair
from tests._internals import MOVED_MODULES, training_builder, training_options, training_schedule

DATA = Path(__file__).parent / "data" / "pickles_f8276ef"
EXPECTED = np.load(DATA / "expected_predictions.npz")


def _modules_named(data: bytes) -> set[str]:
    named = set()
    for _, argument, _ in pickletools.genops(data):
        if isinstance(argument, str) and argument.startswith("sklearn_mtl"):
            named.add(argument.split(" ")[0])
    return named


def _features(name):
    X, _ = make_task_pair(120, correlation=0.9, target="binary", random_state=0)
    X = X[:, :4]
    if "categorical" not in name:
        return X[:10]
    frame = pd.DataFrame(X, columns=list("abcd"))
    frame["colour"] = np.array(["red", "green", "blue"])[np.arange(120) % 3]
    return frame[:10]


@pytest.mark.parametrize("name", EXPECTED.files)
def test_a_pickle_of_the_old_layout_predicts_as_it_did(name):
    data = (DATA / f"{name}.pkl").read_bytes()
    assert _modules_named(data) & set(MOVED_MODULES), "the pickle no longer tests the aliases"
    model = pickle.loads(data)
    predicted = np.asarray(model.predict(_features(name)), dtype=float)
    np.testing.assert_allclose(predicted, EXPECTED[name], rtol=1e-6, atol=1e-6)
    again = pickle.dumps(model)
    assert not _modules_named(again) & set(MOVED_MODULES), "a new pickle names an old module"


def test_the_old_names_are_the_new_modules_contents():
    for old, new in MOVED_MODULES.items():
        alias = importlib.import_module(old)
        for target in (new,) if isinstance(new, str) else new:  # a module split in several
            module = importlib.import_module(target)
            public = [name for name in vars(module) if not name.startswith("__")]
            assert public and all(getattr(alias, name) is getattr(module, name) for name in public)
    assert importlib.import_module("sklearn_mtl._net").EpochSeed.__module__.endswith(".callbacks")
    with pytest.raises(AttributeError):
        _ = importlib.import_module("sklearn_mtl._net").no_such_name


def test_the_former_training_module_still_answers_its_names():
    former = importlib.import_module("sklearn_mtl._training")
    # what pickles of 0.1 name
    assert former.CosineLearningRate is training_schedule.CosineLearningRate
    assert former.build_net is training_builder.build_net
    assert former.TRAINING_CONSTRAINTS is training_options.TRAINING_CONSTRAINTS
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        _ = importlib.import_module("sklearn_mtl._training").no_such_name


def test_importing_the_package_imports_none_of_the_moved_modules():
    code = (
        "import sys, sklearn_mtl, sklearn_mtl.linear;"
        f"print(sorted(m for m in sys.modules if m in {sorted(MOVED_MODULES)} or m == 'torch'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
