"""Checkpoints that resume exactly or not at all.

skorch's ``Checkpoint`` writes ``params.pt``, ``optimizer.pt``,
``criterion.pt`` and ``history.json`` one after another. A process killed
between two of those writes leaves files of two different epochs, which
skorch would load without a word: a different model, or a history that
disagrees with the weights.

Every network therefore adds :class:`CheckpointManifest` after the user's
callbacks: once a ``Checkpoint`` has written its files, it writes
``manifest.json`` beside them, atomically, with the number of epochs and the
SHA-256 of each file. :func:`verified_checkpoint`, which ``fit(resume_from=...)``
calls, refuses a checkpoint whose files do not match their manifest, or that
has none, with a ``ValueError`` that says so.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from skorch.callbacks import Callback, Checkpoint

from .utils._files import atomic_write, file_sha256

MANIFEST = "manifest.json"


def _manifest_path(checkpoint: Checkpoint) -> str:
    return os.path.join(checkpoint.dirname, checkpoint.fn_prefix + MANIFEST)


def _checkpoint_files(checkpoint: Checkpoint, net) -> list[str]:
    """The files the checkpoint wrote for the last epoch it saved."""
    formatted = checkpoint.get_formatted_files(net)
    return [path for path in formatted.values() if isinstance(path, str)]


class CheckpointManifest(Callback):
    """Write a manifest after every checkpoint a ``Checkpoint`` callback saves.

    The manifest is written last and atomically, so it names a complete set
    of files; a file changed afterwards (by a later, interrupted checkpoint)
    no longer matches it. A checkpoint that could not write one of its files
    (skorch only logs that) gets no manifest.
    """

    def on_epoch_end(self, net, **kwargs):
        for _, callback in net.callbacks_:
            if isinstance(callback, Checkpoint) and self._saved_now(net, callback):
                self._write(net, callback)

    @staticmethod
    def _saved_now(net, checkpoint: Checkpoint) -> bool:
        if checkpoint.event_name is not None:
            return bool(net.history[-1].get(checkpoint.event_name))
        return checkpoint.monitor is None

    @staticmethod
    def _write(net, checkpoint: Checkpoint) -> None:
        manifest = _manifest_path(checkpoint)
        files = _checkpoint_files(checkpoint, net)
        if not all(os.path.isfile(path) for path in files):
            Path(manifest).unlink(missing_ok=True)
            return
        content = {
            "epochs": len(net.history),
            "files": {os.path.basename(path): file_sha256(path) for path in files},
        }
        text = json.dumps(content, indent=1).encode()
        atomic_write(manifest, lambda file: file.write(text))


def verified_checkpoint(resume_from) -> Checkpoint:
    """The ``Checkpoint`` to resume from, once its files match their manifest.

    Parameters
    ----------
    resume_from : str, path-like or skorch.callbacks.Checkpoint
        The checkpoint's folder (default file names), or the callback that
        wrote it.

    Raises
    ------
    ValueError
        If the checkpoint is missing, has no manifest, or a file differs
        from its manifest (a fit killed while writing the checkpoint).
    """
    if isinstance(resume_from, Checkpoint):
        checkpoint = resume_from
    else:
        checkpoint = Checkpoint(dirname=str(Path(resume_from)))
    where = f"resume_from={str(checkpoint.dirname)!r}"
    params = os.path.join(checkpoint.dirname, checkpoint.fn_prefix + str(checkpoint.f_params))
    if not os.path.isfile(params):
        raise ValueError(
            f"{where} holds no checkpoint ({os.path.basename(params)}); pass the dirname of "
            "the Checkpoint callback that wrote it, or the callback itself."
        )
    try:
        with open(_manifest_path(checkpoint), "rb") as file:
            manifest = json.loads(file.read(1 << 20))
        files, epochs = manifest["files"], manifest["epochs"]
        if not isinstance(files, dict) or not isinstance(epochs, int):
            raise TypeError
    except (OSError, ValueError, TypeError, KeyError):
        raise ValueError(
            f"{where} has no valid {MANIFEST}: the checkpoint was not completed by a fit of "
            "sklearn_mtl (killed while writing its first checkpoint, or written by another "
            "program), so it cannot be resumed exactly. Fit again from the start."
        ) from None
    for name, digest in files.items():
        path = os.path.join(checkpoint.dirname, os.path.basename(str(name)))
        if not os.path.isfile(path) or file_sha256(path) != digest:
            raise ValueError(
                f"{where}: {os.path.basename(str(name))} does not match the {MANIFEST} written "
                f"with the checkpoint of epoch {epochs}. The fit was probably killed while "
                "writing a later checkpoint, which left files of two epochs; it cannot be "
                "resumed exactly. Fit again from the start."
            )
    return checkpoint
