"""What identifies a fit's training data, and the first difference between two such records.

A checkpoint's manifest records the fingerprint of the data its fit trained
on; a resume computes the fingerprint of its own data and refuses, naming the
first difference, when the two disagree.
"""

from __future__ import annotations

import hashlib

import numpy as np
import torch

__all__ = ["check_same_data", "training_data_fingerprint"]


def training_data_fingerprint(dataset, fit_state, feature_names=None) -> dict:
    """What identifies a fit's training data: shapes, a hash, the statistics learnt from it.

    Parameters
    ----------
    dataset : TensorBatchDataset
        The encoded inputs, targets and per-task weights of the fit.
    fit_state : FitState
        The input encoding and the tasks learnt from the data.
    feature_names : ndarray or None, default=None
        The input's column names.

    Returns
    -------
    fingerprint : dict
        Plain JSON data.
    """
    digest = hashlib.sha256()
    for part in (dataset.X, dataset.y, dataset.weight):
        _hash_part(digest, part)
    inputs = fit_state.inputs
    return {
        "n_samples": len(dataset),
        "n_features": int(dataset.X.shape[1]),
        "n_tasks": len(fit_state.tasks),
        "feature_names": None if feature_names is None else [str(n) for n in feature_names],
        "input_mean": np.asarray(inputs.mean, dtype=float).tolist(),
        "input_scale": np.asarray(inputs.scale, dtype=float).tolist(),
        "targets": [_target_summary(task) for task in fit_state.tasks],
        "sha256": digest.hexdigest(),
    }


def _hash_part(digest, part) -> None:
    if part is None:
        digest.update(b"none;")
        return
    if not isinstance(part, torch.Tensor):  # SparseRows: its CSR arrays identify it
        digest.update(f"sparse{tuple(part.shape)};".encode())
        for array in (part.indptr, part.indices, part.data):
            _hash_part(digest, array)
        return
    array = part.detach().cpu().contiguous().numpy()
    digest.update(f"{array.dtype.str}{array.shape};".encode())
    digest.update(np.ascontiguousarray(array).reshape(-1).view(np.uint8).data)


def _target_summary(task) -> dict:
    summary = {"kind": task.kind}
    classes = getattr(task, "classes", None)
    if classes is not None:
        summary["classes"] = [str(label) for label in classes]
    if task.kind == "regression":
        summary["mean"], summary["scale"] = float(task.mean), float(task.scale)
    return summary


def check_same_data(where: str, saved, current: dict) -> None:
    """Raise a ``ValueError`` naming the first difference between two data fingerprints."""
    if not isinstance(saved, dict):
        raise ValueError(
            f"{where}: its manifest does not record the training data (it was written by an "
            "earlier sklearn_mtl), so a resume on the same data cannot be verified. Fit again "
            "from the start."
        )
    detail = _first_difference(saved, current)
    if detail is not None:
        raise ValueError(
            f"{where} was written by a fit on other data: {detail}. Resume with the data (and "
            "the parameters) of the interrupted fit, or fit again from the start."
        )


def _first_difference(saved: dict, current: dict) -> str | None:
    shape = ("n_samples", "n_features", "n_tasks")
    if any(saved.get(key) != current[key] for key in shape):
        return "X has {} rows of {} encoded columns and y {} task(s); ".format(
            *(current[key] for key in shape)
        ) + "the checkpoint's fit had {} rows of {} columns and {} task(s)".format(
            *(str(saved.get(key))[:20] for key in shape)
        )
    if saved.get("feature_names") != current["feature_names"]:
        return "X's column names differ from the checkpoint's"
    targets = saved.get("targets")
    if not isinstance(targets, list) or len(targets) != len(current["targets"]):
        return "the checkpoint does not describe y's tasks"
    for t, (old, new) in enumerate(zip(targets, current["targets"])):
        if old != new:
            return (
                f"the targets of task {t} differ ({_describe_target(new)}; the checkpoint's: "
                f"{_describe_target(old)})"
            )
    for name in ("input_mean", "input_scale"):
        old, new = saved.get(name), current[name]
        if old != new:
            column = next(
                (j for j, (a, b) in enumerate(zip(old, new)) if a != b), None
            ) if isinstance(old, list) and len(old) == len(new) else None  # fmt: skip
            where = "" if column is None else f" (numeric column {column}: {new[column]!r}"
            where += "" if column is None else f", the checkpoint's {old[column]!r})"
            return f"the input {name.split('_')[1]}s differ{where}"
    if saved.get("sha256") != current["sha256"]:
        return "the values of X, y or sample_weight differ (their SHA-256 does not match)"
    return None


def _describe_target(summary) -> str:
    if not isinstance(summary, dict):
        return "not described"
    if "mean" in summary:
        return f"{summary.get('kind')}, mean {summary['mean']:.6g}, scale {summary.get('scale')}"
    classes = summary.get("classes")
    shown = classes[:5] if isinstance(classes, list) else classes
    return f"{summary.get('kind')} with classes {shown}"
