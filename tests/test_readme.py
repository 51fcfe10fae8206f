"""Every Python block of the README runs as written, as a script.

Each block is written to a file in an empty folder and run by a new Python
process, as a reader who pastes it into ``block.py`` would run it (the process
is forked from one that has imported torch, scikit-learn and skorch, which
saves their 4 s a block; the block's namespace and imports are its own): a block
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
import select
import subprocess
import sys
from pathlib import Path

import joblib
import pytest

README = Path(__file__).resolve().parents[1] / "README.md"

FULL = os.environ.get("SKLEARN_MTL_README_FULL") == "1"


def _at_most(match, rows: int) -> int:
    return min(int(match[1]), rows)


SCALED = [
    (re.compile(r"max_epochs=\d+"), "max_epochs=2"),
    # make_task_pair(50_000, ...) -> at most 1,000 rows; make_task_groups -> 600
    (re.compile(r"make_task_pair\((\d[\d_]*)"), lambda m: f"make_task_pair({_at_most(m, 1000)}"),
    (re.compile(r"make_task_groups\((\d[\d_]*)"), lambda m: f"make_task_groups({_at_most(m, 600)}"),
    # the bundled Adult data -> its first 3,000 rows
    (re.compile(r"^(X, Y = load_adult\(.*?\))", re.M), r"\1\nX, Y = X.iloc[:3000], Y.iloc[:3000]"),
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


# A process that imports what every block imports (about 4 s of torch, scikit-learn and
# skorch), then forks a new process per block, which runs the block's file as __main__
# (runpy), as `python block.py` would: its namespace is fresh and its imports its own,
# and a Dask LocalCluster's spawned workers re-run that file, as they would the script.
ZYGOTE = r"""
import os, runpy, sys, traceback
import numpy, pandas, scipy.stats, sklearn.base, skorch, torch  # noqa: F401
import sklearn_mtl, sklearn_mtl._training.builder  # noqa: F401
print("ready", flush=True)
for line in sys.stdin:
    folder, name = line.rstrip("\n").split("\t")
    pid = os.fork()
    if pid == 0:
        os.chdir(folder)
        name = os.path.join(folder, name)  # multiprocessing resolves a relative one elsewhere
        sys.argv, sys.path[0] = [name], folder
        output = os.open("output.txt", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(output, 1)
        os.dup2(output, 2)
        code = 0
        try:
            runpy.run_path(name, run_name="__main__")
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else 1
        except BaseException:
            traceback.print_exc()
            code = 1
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    print(os.waitstatus_to_exitcode(status), flush=True)
"""

# one thread a process: the suite runs two test processes on two cores
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


@pytest.fixture(scope="module")
def run_script():
    """``run_script(folder, name) -> (exit code, output)``: ``python name`` in ``folder``."""
    if not hasattr(os, "fork"):  # a new interpreter per block

        def run(folder, name):
            result = subprocess.run([sys.executable, name], capture_output=True, text=True,
                                    timeout=600, cwd=folder, env=ENV)  # fmt: skip
            return result.returncode, result.stdout + result.stderr

        yield run
        return
    zygote = subprocess.Popen([sys.executable, "-c", ZYGOTE], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, env=ENV)  # fmt: skip
    assert zygote.stdout.readline().strip() == "ready"

    def run(folder, name):
        zygote.stdin.write(f"{folder}\t{name}\n")
        zygote.stdin.flush()
        ready, _, _ = select.select([zygote.stdout], [], [], 600)
        assert ready, f"{name} ran for more than 600 s"
        code = int(zygote.stdout.readline())
        return code, (Path(folder) / "output.txt").read_text()

    yield run
    zygote.stdin.close()
    zygote.wait(timeout=60)


@pytest.mark.parametrize(
    "code", BLOCKS, ids=[f"{i}: {block_id(code)}" for i, code in enumerate(BLOCKS, start=1)]
)
def test_a_readme_block_runs_as_written(code, tmp_path, run_script):
    code = scaled(code)
    if code.startswith("# train.py"):
        pytest.importorskip("accelerate")
        (tmp_path / "train.py").write_text(code)
        command = [sys.executable, "-m", "torch.distributed.run", "--standalone",
                   "--nproc-per-node=2", "train.py"]  # fmt: skip
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=600, cwd=tmp_path, env=ENV
        )
        assert result.returncode == 0, result.stderr[-3000:]
        assert joblib.load(tmp_path / "model.joblib").n_iter_ >= 1
        return
    (tmp_path / "block.py").write_text(code)
    returncode, output = run_script(tmp_path, "block.py")
    assert returncode == 0, f"README block {block_id(code)!r}:\n{output[-3000:]}"


def test_a_block_that_fails_as_a_script_fails_here(tmp_path, run_script):
    """What the runner must catch: a name from another block, and a Dask cluster without
    the __main__ guard (its spawned workers re-run the file)."""
    (tmp_path / "other.py").write_text("print(X)\n")
    assert run_script(tmp_path, "other.py")[0] == 1
    (tmp_path / "named.py").write_text("print(__name__, __file__)\n")
    code, output = run_script(tmp_path, "named.py")
    assert code == 0 and output.strip() == f"__main__ {tmp_path / 'named.py'}"
    spawn = (
        "import multiprocessing\n"
        "child = multiprocessing.get_context('spawn').Process(target=print, args=('child',))\n"
        "child.start()\n"
        "child.join()\n"
        "raise SystemExit(child.exitcode)\n"
    )
    (tmp_path / "unguarded.py").write_text(spawn)
    code, output = run_script(tmp_path, "unguarded.py")
    assert code == 1 and "bootstrapping phase" in output  # the child re-ran the file
    indented = "".join(f"    {line}\n" for line in spawn.splitlines())
    guarded = "if __name__ == '__main__':\n" + indented
    (tmp_path / "guarded.py").write_text(guarded)
    assert run_script(tmp_path, "guarded.py") == (0, "child\n")
