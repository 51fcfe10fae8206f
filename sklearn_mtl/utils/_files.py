"""Writing a file so that readers see the old one or the new one, never a part.

:func:`atomic_write` writes the new content once, to a temporary file in the
target's directory, flushes it to disk (``fsync``), then moves it over the
target with ``os.replace``, which is atomic on POSIX and Windows. A failed
write (an exception, a full disk, a file-size limit) leaves the old file as it
was and removes the temporary file.

Where the system can (Linux), the temporary file is created without a name
(``O_TMPFILE``) and named only once it is complete, so a process killed while
writing it leaves nothing behind. Elsewhere, and between naming the complete
file and moving it into place, a killed process can leave a hidden
``.<name>.<pid>.<random>.tmp`` beside the target. Its writer holds an
advisory lock on it while it lives (the system drops the lock when the
process dies), so the next save to the same target removes such files whose
process is gone and whose lock it can take, and never a file another process
is still writing.

The new file keeps the permission bits of the file it replaces (a new file
gets those of the umask), and a target that is a symbolic link is written
through: the file it points to is replaced, and the link stays.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
from collections.abc import Callable
from typing import BinaryIO

try:
    import fcntl
except ImportError:  # Windows: no advisory locks, so no clean-up of others' files
    fcntl = None

__all__ = ["atomic_write", "file_sha256", "stale_temporaries"]

_TEMPORARY = re.compile(r"\.(?P<name>.+)\.(?P<pid>\d+)\.[0-9a-f]{8}\.tmp")


def atomic_write(path: str | os.PathLike, write: Callable[[BinaryIO], None]) -> None:
    """Call ``write(file)`` on a temporary file, then move it to ``path`` atomically.

    Parameters
    ----------
    path : str or path-like
        The file to create or replace (through a symbolic link, the file it
        points to).
    write : callable
        Writes the whole content to the binary file object it is given
        (seekable, opened for reading and writing). It is called once.
    """
    path = os.path.realpath(os.fspath(path))
    directory = os.path.dirname(path)
    mode = _mode_for(path)
    _remove_stale_temporaries(path)
    descriptor = _anonymous_file(directory)
    if descriptor is not None:
        with os.fdopen(descriptor, "w+b") as file:
            _lock(file)
            write(file)
            os.fchmod(file.fileno(), mode)
            _flush(file)
            temporary = _temporary_name(path)
            if _name_anonymous_file(file, temporary, directory):
                _replace(temporary, path, directory)
                return
            # no /proc here: copy the complete content into a named file instead
            # of calling write a second time
            file.seek(0)
            _write_named(path, directory, mode, lambda target: _copy(file, target))
            return
    _write_named(path, directory, mode, write)


def stale_temporaries(path: str | os.PathLike) -> list[str]:
    """The temporary files of :func:`atomic_write` for ``path`` that no live writer holds."""
    path = os.path.realpath(os.fspath(path))
    directory, name = os.path.split(path)
    stale = []
    if fcntl is None:  # no locks to tell a live writer's file from a dead one's
        return stale
    try:
        entries = os.listdir(directory)
    except OSError:
        return stale
    for entry in entries:
        match = _TEMPORARY.fullmatch(entry)
        if match is None or match["name"] != name:
            continue
        candidate = os.path.join(directory, entry)
        if not _process_alive(int(match["pid"])) and _unheld(candidate):
            stale.append(candidate)
    return stale


def file_sha256(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_named(path: str, directory: str, mode: int, write) -> None:
    """The portable path: a named temporary file, locked while it is written."""
    temporary = _temporary_name(path)
    descriptor = os.open(temporary, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w+b") as file:
            _lock(file)
            write(file)
            _flush(file)
            os.chmod(temporary, mode)
            _replace(temporary, path, directory)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _copy(source: BinaryIO, target: BinaryIO) -> None:
    for block in iter(lambda: source.read(1 << 20), b""):
        target.write(block)


def _mode_for(path: str) -> int:
    """The permission bits of the file being replaced, or of a new file (the umask's)."""
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        return 0o666 & ~_umask()


def _anonymous_file(directory: str) -> int | None:
    """A descriptor of a new unnamed file in ``directory``, or None where unsupported."""
    flag = getattr(os, "O_TMPFILE", None)
    if flag is None:
        return None
    try:
        return os.open(directory, flag | os.O_RDWR, 0o600)
    except OSError:  # a file system without O_TMPFILE support
        return None


def _name_anonymous_file(file: BinaryIO, temporary: str, directory: str) -> bool:
    """Link the unnamed file into ``directory`` as ``temporary``; False where /proc is missing.

    ``os.link`` with a ``dst_dir_fd`` calls ``linkat(..., AT_SYMLINK_FOLLOW)``,
    which follows ``/proc/self/fd/N`` to the file itself; a plain ``os.link``
    calls ``link``, which links the ``/proc`` entry and fails with ``EXDEV``.
    """
    handle = os.open(directory, os.O_RDONLY)
    try:
        os.link(
            f"/proc/self/fd/{file.fileno()}",
            os.path.basename(temporary),
            dst_dir_fd=handle,
            follow_symlinks=True,
        )
    except OSError as error:
        if error.errno in (errno.ENOENT, errno.EXDEV, errno.EPERM, errno.ENOTSUP):
            return False
        raise
    finally:
        os.close(handle)
    return True


def _temporary_name(path: str) -> str:
    head, tail = os.path.split(path)
    return os.path.join(head, f".{tail}.{os.getpid()}.{os.urandom(4).hex()}.tmp")


def _lock(file: BinaryIO) -> None:
    """Hold an exclusive advisory lock on ``file`` for as long as it is open."""
    if fcntl is not None:
        with contextlib.suppress(OSError):  # a file system without locks: no clean-up
            fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)


def _process_alive(pid: int) -> bool:
    """Whether a process of this id runs here (a named file is locked just after it is made)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # it exists (another user's), or cannot be told: keep its file
    return True


def _unheld(candidate: str) -> bool:
    """Whether no process holds the lock of ``candidate`` (its writer is gone)."""
    if fcntl is None:
        return False
    try:
        handle = os.open(candidate, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    else:
        return True
    finally:
        os.close(handle)


def _remove_stale_temporaries(path: str) -> None:
    for candidate in stale_temporaries(path):
        with contextlib.suppress(OSError):
            os.unlink(candidate)


def _flush(file: BinaryIO) -> None:
    file.flush()
    os.fsync(file.fileno())


def _replace(temporary: str, path: str, directory: str) -> None:
    try:
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    # Make the rename itself durable; not every platform can open a directory.
    with contextlib.suppress(OSError):
        handle = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(handle)
        finally:
            os.close(handle)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
