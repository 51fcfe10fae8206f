"""Writing a file so that readers see the old one or the new one, never a part.

:func:`atomic_write` writes the new content to a temporary file in the
target's directory, flushes it to disk (``fsync``), then moves it over the
target with ``os.replace``, which is atomic on POSIX and Windows. A failed
write (an exception, a full disk, a file-size limit) leaves the old file as it
was and removes the temporary file. On Linux the temporary file is created
without a name (``O_TMPFILE``) and named only once it is complete, so even a
process killed mid-write leaves nothing behind; elsewhere a killed process
can leave a hidden ``.<name>.*.tmp`` file beside the target.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Callable
from typing import BinaryIO

__all__ = ["atomic_write", "file_sha256"]


def atomic_write(path: str | os.PathLike, write: Callable[[BinaryIO], None]) -> None:
    """Call ``write(file)`` on a temporary file, then move it to ``path`` atomically.

    Parameters
    ----------
    path : str or path-like
        The file to create or replace.
    write : callable
        Writes the whole content to the binary file object it is given
        (seekable, opened for reading and writing).
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    descriptor = _anonymous_file(directory)
    if descriptor is not None:
        with os.fdopen(descriptor, "w+b") as file:
            write(file)
            _flush(file)
            temporary = _temporary_name(path)
            try:
                # Give the complete, unnamed file a name, then move it into place.
                os.link(f"/proc/self/fd/{file.fileno()}", temporary)
            except OSError:
                temporary = None  # no /proc: write it again through a named file
            if temporary is not None:
                _replace(temporary, path, directory)
                return
    descriptor, temporary = tempfile.mkstemp(
        dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "w+b") as file:
            write(file)
            _flush(file)
        os.chmod(temporary, 0o666 & ~_umask())
        _replace(temporary, path, directory)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def file_sha256(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _anonymous_file(directory: str) -> int | None:
    """A descriptor of a new unnamed file in ``directory``, or None where unsupported."""
    flag = getattr(os, "O_TMPFILE", None)
    if flag is None:
        return None
    try:
        return os.open(directory, flag | os.O_RDWR, 0o666)
    except OSError:  # a file system without O_TMPFILE support
        return None


def _temporary_name(path: str) -> str:
    head, tail = os.path.split(os.path.abspath(path))
    return os.path.join(head, f".{tail}.{os.getpid()}.{os.urandom(4).hex()}.tmp")


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
