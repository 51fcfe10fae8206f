"""What adding a weighting touches (issue 30, part 5): one file and one import line.

The package is copied, a new method is written in one file of ``weighting/``
and imported in ``weighting/__init__.py``, and a fresh process fits, saves and
loads an estimator with it by name, and lists it among the data-parallel-safe
methods. Nothing else of the package is edited.
"""

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import sklearn_mtl

PACKAGE = Path(sklearn_mtl.__file__).parent

NEW_WEIGHTING = '''
"""Halved task weights: a method written for the test of the registry."""

from torch import Tensor

from ._base import TaskWeighting

__all__ = ["Halved"]


class Halved(TaskWeighting):
    """Half the sum of the task losses."""

    name = "halved"
    data_parallel = True

    def combine(self, task_losses: Tensor) -> Tensor:
        return 0.5 * task_losses.sum()
'''

SCRIPT = """
import os

import numpy as np

import sklearn_mtl
assert sklearn_mtl.__file__.startswith(os.getcwd()), sklearn_mtl.__file__  # the copy
from sklearn_mtl import MMoERegressor, load, save
from sklearn_mtl.weighting import WEIGHTINGS, weighting_names

rng = np.random.default_rng(0)
X, y = rng.standard_normal((64, 4)), rng.standard_normal((64, 2))
model = MMoERegressor(2, expert_units=(4,), tower_units=(4,), max_epochs=2,
                      loss_weighting="halved", random_state=0).fit(X, y)
save(model, "m.mtl")
again = load("m.mtl")
assert np.allclose(again.predict(X), model.predict(X))
assert "halved" in weighting_names(data_parallel=True), weighting_names(data_parallel=True)
print(type(model.net_.criterion_.weighting).__name__, sorted(WEIGHTINGS))
"""


def test_a_new_weighting_is_one_file_and_one_import_line(tmp_path):
    copy = tmp_path / "sklearn_mtl"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "weighting" / "halved.py").write_text(NEW_WEIGHTING)
    init = copy / "weighting" / "__init__.py"
    lines = init.read_text().splitlines()
    at = lines.index("from .gradnorm import GradNorm as GradNorm")
    lines.insert(at + 1, "from .halved import Halved as Halved")  # the one registry line
    init.write_text("\n".join(lines) + "\n")
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(SCRIPT)],
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.startswith("Halved [") and "'halved'" in result.stdout
