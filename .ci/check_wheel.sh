#!/usr/bin/env bash
# The install section of the README, checked: build the wheel (and the sdist), install the
# wheel into a fresh virtual environment, then install from the repository's git URL, and
# each time import the package and fit a model on its bundled data (package data included).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
TORCH_SPEC=${TORCH_SPEC:-torch==2.13.0}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$PYTHON" -m venv "$work/build-venv"
"$work/build-venv/bin/python" -m pip install --quiet --upgrade pip build
"$work/build-venv/bin/python" -m build --outdir "$work/dist" . > "$work/build.log"
ls "$work/dist"

"$PYTHON" -m venv "$work/venv"
pip="$work/venv/bin/python -m pip"
$pip install --quiet --upgrade pip
$pip install --quiet "$TORCH_SPEC"
$pip install --quiet "$work"/dist/*.whl

check() {
    (cd "$work" && "$work/venv/bin/python" - <<'PY'
import sklearn_mtl
from sklearn_mtl import MMoEClassifier
from sklearn_mtl.datasets import load_adult

X, Y = load_adult(task_group="income", return_X_y=True)
model = MMoEClassifier(max_epochs=5, random_state=0).fit(X[:2000], Y[:2000])
assert len(model.predict_proba(X[:5])) == Y.shape[1]
from importlib.metadata import version
from importlib.resources import files

assert sklearn_mtl.__version__ == version("sklearn-mtl") != "0+unknown"
assert files("sklearn_mtl").joinpath("py.typed").is_file(), "the wheel lacks py.typed"
print("sklearn_mtl", sklearn_mtl.__version__, "from", sklearn_mtl.__file__)
PY
    )
}
check
# the README's git-URL form, from this clone (a file URL: no network needed)
$pip install --quiet --force-reinstall --no-deps "sklearn-mtl @ git+file://$PWD"
check
