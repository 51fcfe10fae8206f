"""``atomic_write``: one write, nothing left behind a kill, the target's mode and links kept.

The audit killed 12 saves of an 80 MB model on this Linux machine and found a
temporary file (up to 80 MB) after every one: ``os.link("/proc/self/fd/N")``
failed with ``EXDEV``, and the fallback wrote the archive a second time
through a named temporary file.
"""

import hashlib
import os
import random
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sklearn_mtl.utils import _files
from sklearn_mtl.utils._files import atomic_write, stale_temporaries

CHUNK = 1 << 16

# A child that imports nothing but the module under test (fast to start) and saves
# a 12 MB file over and over: each file is a run of one repeated byte and its
# SHA-256, so a reader can tell a complete file from a part.
CHILD = textwrap.dedent(
    """
    import hashlib, importlib.util, sys
    spec = importlib.util.spec_from_file_location("_files", sys.argv[1])
    files = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(files)
    target, chunks = sys.argv[2], int(sys.argv[3])
    print("ready", flush=True)
    n = 0
    while True:
        n += 1
        body = bytes([n % 251]) * (1 << 16)
        def write(file):
            digest = hashlib.sha256()
            for _ in range(chunks):
                file.write(body)
                digest.update(body)
            file.write(digest.hexdigest().encode())
        files.atomic_write(target, write)
    """
)


def _complete(path: Path) -> bool:
    data = path.read_bytes()
    body, digest = data[:-64], data[-64:]
    return hashlib.sha256(body).hexdigest().encode() == digest


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name != "model.mtl")


def test_a_save_killed_at_random_points_leaves_nothing_behind(tmp_path):
    """Kills at random moments of a loop of saves: during a write, the fsync, the link or
    the rename. The target is always a complete file (or absent), and nothing else is
    left: the unnamed file vanishes with the process, and a named one that a kill between
    link and rename leaves is removed by the next save."""
    target = tmp_path / "model.mtl"
    rng = random.Random(0)
    for kill in range(12):
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, _files.__file__, str(target), "192"],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert child.stdout.readline().strip() == "ready"
        try:
            child.wait(timeout=rng.uniform(0.02, 0.6))
        except subprocess.TimeoutExpired:
            child.send_signal(signal.SIGKILL)
        child.wait()
        assert child.returncode == -signal.SIGKILL, kill
        if target.exists():
            assert _complete(target), kill
        left = _leftovers(tmp_path)  # at most a named file whose writer is gone
        assert set(left) <= {Path(p).name for p in stale_temporaries(target)}, (kill, left)
        assert len(left) <= 1, (kill, left)
        atomic_write(target, lambda file: file.write(b"x" * 10 + hashlib.sha256(b"x" * 10)
                                                     .hexdigest().encode()))  # fmt: skip
        assert _leftovers(tmp_path) == [], (kill, left)
        assert _complete(target)


def test_the_content_is_written_once_and_never_through_a_named_file(tmp_path, monkeypatch):
    calls = []

    def named_file(*args, **kwargs):
        raise AssertionError("the fallback through a named temporary file was taken")

    monkeypatch.setattr(_files, "_write_named", named_file)
    atomic_write(tmp_path / "m.mtl", lambda file: calls.append(file.write(b"model")))
    assert calls == [5] and (tmp_path / "m.mtl").read_bytes() == b"model"
    assert _leftovers(tmp_path) == ["m.mtl"] or os.listdir(tmp_path) == ["m.mtl"]


def test_without_proc_the_complete_file_is_copied_not_written_again(tmp_path, monkeypatch):
    monkeypatch.setattr(_files, "_name_anonymous_file", lambda *args: False)
    calls = []
    atomic_write(tmp_path / "m.mtl", lambda file: calls.append(file.write(b"model" * 1000)))
    assert len(calls) == 1 and (tmp_path / "m.mtl").read_bytes() == b"model" * 1000
    assert os.listdir(tmp_path) == ["m.mtl"]


def test_a_failed_write_leaves_the_old_file_and_nothing_else(tmp_path):
    target = tmp_path / "m.mtl"
    target.write_bytes(b"old")

    def fails(file):
        file.write(b"half")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space"):
        atomic_write(target, fails)
    assert target.read_bytes() == b"old" and os.listdir(tmp_path) == ["m.mtl"]


def test_the_replaced_file_keeps_its_permissions(tmp_path):
    target = tmp_path / "m.mtl"
    target.write_bytes(b"old")
    target.chmod(0o600)
    atomic_write(target, lambda file: file.write(b"new"))
    assert target.read_bytes() == b"new"
    assert target.stat().st_mode & 0o777 == 0o600


def test_a_new_file_gets_the_umask_permissions(tmp_path):
    previous = os.umask(0o027)
    try:
        atomic_write(tmp_path / "m.mtl", lambda file: file.write(b"new"))
    finally:
        os.umask(previous)
    assert (tmp_path / "m.mtl").stat().st_mode & 0o777 == 0o640


def test_a_symbolic_link_is_written_through(tmp_path):
    (tmp_path / "models").mkdir()
    real = tmp_path / "models" / "v2.mtl"
    real.write_bytes(b"old")
    link = tmp_path / "current.mtl"
    link.symlink_to(real)
    atomic_write(link, lambda file: file.write(b"new"))
    assert link.is_symlink() and link.resolve() == real.resolve()
    assert real.read_bytes() == b"new"


def test_a_live_writers_temporary_file_is_never_removed(tmp_path):
    """Another process's save in progress holds its file's lock: the next save keeps it."""
    target = tmp_path / "m.mtl"
    script = textwrap.dedent(
        f"""
        import fcntl, os, sys, time
        path = os.path.join({str(tmp_path)!r}, ".m.mtl." + str(os.getpid()) + ".0123abcd.tmp")
        file = open(path, "wb")
        fcntl.flock(file.fileno(), fcntl.LOCK_EX)
        print(path, flush=True)
        time.sleep(60)
        """
    )
    writer = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        held = Path(writer.stdout.readline().strip())
        atomic_write(target, lambda file: file.write(b"new"))
        assert held.exists() and stale_temporaries(target) == []
    finally:
        writer.kill()
        writer.wait()
    assert stale_temporaries(target) == [str(held)]  # its writer is gone now
    atomic_write(target, lambda file: file.write(b"newer"))
    assert os.listdir(tmp_path) == ["m.mtl"]
