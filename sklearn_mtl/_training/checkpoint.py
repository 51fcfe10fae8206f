"""Checkpoints that resume exactly or not at all.

skorch's ``Checkpoint`` writes ``params.pt``, ``optimizer.pt``,
``criterion.pt`` and ``history.json`` one after another. A process killed
between two of those writes leaves files of two different epochs, which
skorch would load without a word: a different model, or a history that
disagrees with the weights.

Every network therefore adds :class:`CheckpointManifest` after the user's
callbacks: once a ``Checkpoint`` has written its files, it writes
``manifest.json`` beside them, atomically, with the number of epochs, the
SHA-256 of each file, what identifies the training data (its shape, a hash
of its values, the input and target statistics learnt from it) and the state
of every ``EarlyStopping`` callback (its patience counter, best score and
best epoch; its best weights in a file of their own, hashed too). skorch's
checkpoint holds none of that, and an early-stopped fit resumed without it
runs more epochs and returns other weights.

:func:`verified_checkpoint`, which ``fit(resume_from=...)`` calls, refuses a
checkpoint whose files do not match their manifest, or that has none;
:meth:`CheckpointManifest.prepare_resume` refuses to resume on other data
or with another early-stopping set-up, naming what differs. Each refusal is
a ``ValueError``.
"""

from __future__ import annotations

import json
import math
import os
from numbers import Integral, Real
from pathlib import Path

import torch
from skorch.callbacks import Callback, Checkpoint, EarlyStopping, PassthroughScoring

from ..utils._files import atomic_write, file_sha256
from .fingerprint import check_same_data, training_data_fingerprint

MANIFEST = "manifest.json"

MAX_MANIFEST_BYTES = 1 << 26
"""The largest manifest read (it lists a few files and the input statistics)."""


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

    Parameters
    ----------
    fit_state : FitState or None, default=None
        The fit's learnt encoding, recorded with the training data's
        fingerprint (:func:`training_data_fingerprint`).
    feature_names : ndarray or None, default=None
        The input's column names, recorded with it.
    """

    def __init__(self, fit_state=None, feature_names=None):
        self.fit_state = fit_state
        self.feature_names = feature_names

    def initialize(self):
        self.resume_state_ = None
        self.dataset_ = None
        self.fingerprint_ = None
        self.best_written_ = {}
        return self

    # a net pickled before the manifest recorded the data and early stopping has none of these
    # (and pickle restores no empty state through __setstate__)
    fit_state = feature_names = resume_state_ = dataset_ = fingerprint_ = None

    def on_train_begin(self, net, X=None, **kwargs):
        # After every callback's own on_train_begin, which resets EarlyStopping.
        self.dataset_, self.fingerprint_ = X, None
        if self.resume_state_ is not None:
            _restore_callbacks(net, *self.resume_state_)
            self.resume_state_ = None

    def on_train_end(self, net, **kwargs):
        self.dataset_ = None  # never keep (or pickle) the data

    def on_epoch_end(self, net, **kwargs):
        for _, callback in net.callbacks_:
            if isinstance(callback, Checkpoint) and self._saved_now(net, callback):
                self._write(net, callback)

    def fingerprint(self) -> dict | None:
        """The training data's fingerprint, computed once per call that trains."""
        if self.fingerprint_ is None and self.dataset_ is not None and self.fit_state is not None:
            self.fingerprint_ = training_data_fingerprint(
                self.dataset_, self.fit_state, self.feature_names
            )
        return self.fingerprint_

    @staticmethod
    def _saved_now(net, checkpoint: Checkpoint) -> bool:
        if checkpoint.event_name is not None:
            return bool(net.history[-1].get(checkpoint.event_name))
        return checkpoint.monitor is None

    def _write(self, net, checkpoint: Checkpoint) -> None:
        manifest = _manifest_path(checkpoint)
        files = _checkpoint_files(checkpoint, net)
        if not all(os.path.isfile(path) for path in files):
            Path(manifest).unlink(missing_ok=True)
            return
        stopping = {}
        for name, callback in net.callbacks_:
            if isinstance(callback, EarlyStopping):
                state, weights = self._early_stopping_state(net, checkpoint, name, callback)
                stopping[name] = state
                if weights is not None:
                    files.append(weights)
        content = {
            "epochs": len(net.history),
            "files": {os.path.basename(path): file_sha256(path) for path in files},
            "data": self.fingerprint(),
            "early_stopping": stopping,
        }
        text = json.dumps(content, indent=1).encode()
        atomic_write(manifest, lambda file: file.write(text))

    def _early_stopping_state(self, net, checkpoint, name: str, callback) -> tuple:
        """The callback's state, and the file of its best weights (None: none kept)."""
        state = {
            "misses": int(callback.misses_),
            "threshold": _plain_float(callback.dynamic_threshold_),
            "best_epoch": int(callback.best_epoch_),
        }
        best = getattr(callback, "best_model_weights_", None)
        if best is None:
            return state, None
        path = os.path.join(checkpoint.dirname, f"{checkpoint.fn_prefix}{name}_best_params.pt")
        key = (path, callback.best_epoch_)
        written = self.__dict__.setdefault("best_written_", {})
        if written.get(name) != key or not os.path.isfile(path):
            atomic_write(path, lambda file: torch.save(best, file))
            written[name] = key
        state["weights"] = os.path.basename(path)
        return state, path

    def prepare_resume(self, net, checkpoint: Checkpoint, manifest: dict, dataset) -> None:
        """Check that ``dataset`` and ``net`` match the checkpoint; restore its callbacks' state.

        The state is applied when training begins, after every callback has
        reset itself.
        """
        where = f"resume_from={str(checkpoint.dirname)!r}"
        current = training_data_fingerprint(dataset, self.fit_state, self.feature_names)
        check_same_data(where, manifest.get("data"), current)
        stopping = _checked_early_stopping(where, manifest.get("early_stopping"), net, checkpoint)
        self.resume_state_ = (stopping, len(net.history))


def _plain_float(value) -> float | str:
    value = float(value)
    return value if math.isfinite(value) else repr(value)


def _checked_early_stopping(where: str, saved, net, checkpoint: Checkpoint) -> dict:
    """Each EarlyStopping callback's saved state, checked against the net's callbacks."""
    callbacks = {name: cb for name, cb in net.callbacks_ if isinstance(cb, EarlyStopping)}
    saved = saved if isinstance(saved, dict) else {}
    if set(saved) != set(callbacks):
        had = "with early stopping" if saved else "without early stopping"
        now = "with it" if callbacks else "without it"
        raise ValueError(
            f"{where} was written by a fit {had} ({sorted(saved)}), and this fit runs {now} "
            f"({sorted(callbacks)}): resume with the parameters (early_stopping, "
            "n_iter_no_change, validation_fraction) and the number of rows of the interrupted "
            "fit."
        )
    epochs = len(net.history)
    restored = {}
    for name, state in saved.items():
        callback = callbacks[name]
        misses, best_epoch = state.get("misses"), state.get("best_epoch")
        threshold = _read_float(state.get("threshold"))
        valid = (
            _is_int(misses) and 0 <= misses < callback.patience
            and _is_int(best_epoch) and 0 <= best_epoch <= epochs and threshold is not None
        )  # fmt: skip
        if not valid:
            raise ValueError(
                f"{where}: the {MANIFEST}'s state of {name!r} is not that of its "
                f"EarlyStopping(patience={callback.patience}) after {epochs} epochs."
            )
        weights = None
        if state.get("weights") is not None:
            path = os.path.join(checkpoint.dirname, os.path.basename(str(state["weights"])))
            weights = torch.load(path, map_location=net.device, weights_only=True)
            expected = net.module_.state_dict()
            if not isinstance(weights, dict) or set(weights) != set(expected) or any(
                not isinstance(weights[k], torch.Tensor) or weights[k].shape != v.shape
                for k, v in expected.items()
            ):  # fmt: skip
                raise ValueError(f"{where}: the best weights of {name!r} do not fit the network.")
        restored[name] = (misses, threshold, best_epoch, weights)
    return restored


def _restore_callbacks(net, stopping: dict, epochs: int) -> None:
    """Put the checkpoint's callback state back, after their ``on_train_begin`` reset it."""
    callbacks = dict(net.callbacks_)
    for name, (misses, threshold, best_epoch, weights) in stopping.items():
        callback = callbacks[name]
        callback.misses_, callback.dynamic_threshold_ = misses, threshold
        callback.best_epoch_, callback.best_model_weights_ = best_epoch, weights
    history = net.history[:epochs]
    net.criterion_.weighting.resume(history)
    # skorch's scores keep their best value in the callback; the history has it
    for _, callback in net.callbacks_:
        if isinstance(callback, PassthroughScoring) and callback.lower_is_better is not None:
            scores = [e[callback.name] for e in history if callback.name in e]
            if scores:
                best = min(scores) if callback.lower_is_better else max(scores)
                callback.best_score_ = best


def _read_float(value) -> float | None:
    if isinstance(value, str) and value in ("inf", "-inf"):
        return float(value)
    if isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def _is_int(value) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool)


def verified_checkpoint(resume_from) -> tuple[Checkpoint, dict]:
    """The ``Checkpoint`` to resume from and its manifest, once its files match the manifest.

    Parameters
    ----------
    resume_from : str, path-like or skorch.callbacks.Checkpoint
        The checkpoint's folder (default file names), or the callback that
        wrote it.

    Returns
    -------
    checkpoint : skorch.callbacks.Checkpoint
    manifest : dict
        What :class:`CheckpointManifest` wrote with it.

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
            manifest = json.loads(file.read(MAX_MANIFEST_BYTES))
        files, epochs = manifest["files"], manifest["epochs"]
        if not isinstance(files, dict) or not _is_int(epochs):
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
    return checkpoint, manifest
