"""What extending the package touches (issue 30, part 5), each shown on a copy of it.

- A weighting: one file of ``weighting/`` and its import line in
  ``weighting/__init__.py``; a fresh process fits, saves and loads an estimator
  with it by name, and lists it among the data-parallel-safe methods.
- An architecture: ``nn/<name>.py``, ``estimators/_<name>.py`` and its line in
  ``sklearn_mtl.PUBLIC``; a fresh process trains its estimators and
  ``MultiTaskNet("<name>")``, saves and loads them, and the unchanged ``tests/``
  run their signature and docstring tests on its estimators and collect
  scikit-learn's checks for them.

Nothing else of the package or of the tests is edited.
"""

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import sklearn_mtl

PACKAGE = Path(sklearn_mtl.__file__).parent
ROOT = PACKAGE.parent

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


def _hard_sharing_files(package: Path) -> dict[str, str]:
    """A new architecture's two files, "HardSharing", written from Shared-Bottom's.

    Derived from the package's own files by renaming, so that the new estimators
    keep the shared training signature as the package grows; the module is
    imported from its file (``nn/__init__.py`` is not edited).
    """

    def renamed(text: str) -> str:
        text = text.split("# The names before 0.2")[0].rstrip() + "\n"  # no alias of 0.1
        for old, new in [("SharedBottom", "HardSharing"), ("shared_bottom", "hard_sharing"),
                         ("Shared-Bottom", "Hard-Sharing")]:  # fmt: skip
            text = text.replace(old, new)
        return text

    module = renamed((package / "nn" / "shared_bottom.py").read_text())
    estimators = renamed((package / "estimators" / "_shared_bottom.py").read_text())
    estimators = estimators.replace("module = nn.HardSharingModule", "module = HardSharingModule")
    estimators = estimators.replace(
        "from ..nn.numeric import PERIODIC_SIGMA",
        "from ..nn.hard_sharing import HardSharingModule\nfrom ..nn.numeric import PERIODIC_SIGMA",
    )
    return {"nn/hard_sharing.py": module, "estimators/_hard_sharing.py": estimators}


ARCHITECTURE_SCRIPT = """
import os

import numpy as np

import sklearn_mtl
assert sklearn_mtl.__file__.startswith(os.getcwd()), sklearn_mtl.__file__  # the copy
from sklearn_mtl import HardSharingClassifier, HardSharingRegressor, MultiTaskNet, load, save
from sklearn_mtl import architectures
from sklearn_mtl.datasets import make_task_pair

assert "HardSharing" in architectures.__all__
assert architectures.ARCHITECTURES["hard_sharing"] is architectures.HardSharing
X, Y = make_task_pair(300, correlation=0.9, target="binary", random_state=0)
fast = dict(max_epochs=3, random_state=0)
for model in [HardSharingClassifier(**fast), HardSharingRegressor(**fast),
              MultiTaskNet("hard_sharing", **fast)]:
    model.fit(X, Y.astype(float) if isinstance(model, HardSharingRegressor) else Y)
    save(model, "m.mtl")
    again = load("m.mtl")
    assert type(again) is type(model)
    assert np.allclose(again.predict(X[:50]).astype(float), model.predict(X[:50]).astype(float))
    module = model.net_.module_
    print(type(model).__name__, type(getattr(module, "model", module)).__name__)
"""


def test_a_new_architecture_is_two_files_and_one_registry_line(tmp_path):
    copy = tmp_path / "sklearn_mtl"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    for name, text in _hard_sharing_files(PACKAGE).items():
        assert not (copy / name).exists()
        (copy / name).write_text(text)  # the two files
    registry = copy / "utils" / "_registry.py"
    line = '    "estimators._shared_bottom": ("SharedBottomClassifier", "SharedBottomRegressor"),\n'
    text = registry.read_text()
    assert line in text
    registry.write_text(  # the one registry line
        text.replace(line, line + '    "estimators._hard_sharing": '
                     '("HardSharingClassifier", "HardSharingRegressor"),\n')
    )  # fmt: skip
    environment = {"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(ARCHITECTURE_SCRIPT)],
        cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split() == [
        "HardSharingClassifier", "HardSharingModule", "HardSharingRegressor",
        "HardSharingModule", "MultiTaskNet", "HardSharingModule",
    ]  # fmt: skip
    # the shared tests find the new estimators in the registry, with no line in tests/: the
    # signature and docstring tests run, and scikit-learn's checks are collected for both
    shutil.copytree(ROOT / "tests", tmp_path / "tests",
                    ignore=shutil.ignore_patterns("__pycache__", "data"))  # fmt: skip
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    pytest = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
              "tests/estimators/test_common.py", "-k"]  # fmt: skip
    options = {"cwd": tmp_path, "env": environment, "capture_output": True, "text": True}
    run = subprocess.run([*pytest, "HardSharing and not test_sklearn_compatible"], **options)
    assert run.returncode == 0, run.stdout[-3000:]
    assert int(run.stdout.split(" passed")[0].split()[-1]) >= 4, run.stdout[-500:]
    collected = subprocess.run(
        [*pytest, "HardSharing and test_sklearn_compatible", "--collect-only"], **options
    )
    names = [line for line in collected.stdout.splitlines() if "::test_sklearn_compatible[" in line]
    for estimator in ("HardSharingClassifier", "HardSharingRegressor"):
        assert sum(estimator in line for line in names) > 40, collected.stdout[-500:]
