"""Every Python block of the README runs as written, as a script.

Each block is written to a file in an empty folder and run by a new Python
process, as a reader who pastes it into ``block.py`` would run it: a block
that leans on another's variables fails here, and so does one that only works
inside a running interpreter (a Dask ``LocalCluster`` starts its workers with
``spawn``, which re-imports the script: without ``if __name__ ==
"__main__":`` it fails with "Nanny failed to start", which ``exec`` hid). A
block that starts with ``# train.py`` is a script for ``torchrun``: it runs in
two CPU processes, as the README launches it. To keep the suite short, epochs
and data sizes are scaled down by the substitutions in ``SCALED``;
``SKLEARN_MTL_README_FULL=1`` runs the blocks exactly as written.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import joblib
import pytest

README = Path(__file__).resolve().parents[1] / "README.md"

FULL = os.environ.get("SKLEARN_MTL_README_FULL") == "1"

SCALED = [
    (re.compile(r"max_epochs=\d+"), "max_epochs=2"),
    # make_task_pair(50_000, ...) -> at most 1,000 rows
    (re.compile(r"make_task_pair\((\d[\d_]*)"), lambda m: f"make_task_pair({min(int(m[1]), 1000)}"),
]


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def scaled(code: str) -> str:
    if FULL:
        return code
    for pattern, replacement in SCALED:
        code = pattern.sub(replacement, code)
    return code


def block_id(code: str) -> str:
    """The block's first line of code after its imports (or the script's name)."""
    if code.startswith("# train.py"):
        return "train.py"
    lines = [line for line in code.splitlines() if line.strip()]
    return next(line for line in lines if not line.startswith(("import", "from", "#")))[:40]


BLOCKS = python_blocks()


def test_the_readme_has_its_python_blocks():
    assert len(BLOCKS) >= 8  # a broken pattern must not make the tests below vanish


@pytest.mark.parametrize(
    "code", BLOCKS, ids=[f"{i}: {block_id(code)}" for i, code in enumerate(BLOCKS, start=1)]
)
def test_a_readme_block_runs_as_written(code, tmp_path):
    code = scaled(code)
    # one thread a process: the suite runs two test processes on two cores
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    if code.startswith("# train.py"):
        pytest.importorskip("accelerate")
        (tmp_path / "train.py").write_text(code)
        command = [sys.executable, "-m", "torch.distributed.run", "--standalone",
                   "--nproc-per-node=2", "train.py"]  # fmt: skip
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=600, cwd=tmp_path, env=env
        )
        assert result.returncode == 0, result.stderr[-3000:]
        assert joblib.load(tmp_path / "model.joblib").n_iter_ >= 1
        return
    (tmp_path / "block.py").write_text(code)
    result = subprocess.run(
        [sys.executable, "block.py"], capture_output=True, text=True, timeout=600,
        cwd=tmp_path, env=env,
    )  # fmt: skip
    assert result.returncode == 0, f"README block {block_id(code)!r}:\n{result.stderr[-3000:]}"
