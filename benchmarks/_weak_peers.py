"""The peer libraries of the weak-supervision benchmark: Snorkel's and MeTaL's label models.

Each is imported if it can be (the ``benchmark`` extra); a library that does
not import is reported with the reason, and the benchmark's other rows run.
"""

from __future__ import annotations

import time
import warnings

import numpy as np

__all__ = ["accuracy_errors", "metal_accuracies", "metal_multitask", "peers", "snorkel_model",
           "timed"]  # fmt: skip

EPOCHS = 500
"""Training epochs of Snorkel's and MeTaL's label models (their default is 100)."""


def timed(function, *args):
    start = time.perf_counter()
    value = function(*args)
    return value, time.perf_counter() - start


def peers() -> dict:
    """The peer libraries that import here, or the reason each does not."""
    found = {}
    try:
        from snorkel.labeling.model import LabelModel

        found["snorkel"] = LabelModel
    except Exception as error:  # noqa: BLE001 - any import failure is the finding
        found["snorkel"] = f"{type(error).__name__}: {error}"
    try:
        import networkx

        if not hasattr(networkx.Graph, "node"):  # removed in networkx 2.4; MeTaL 0.5 calls it
            networkx.Graph.node = property(lambda graph: graph.nodes)
        from metal.label_model import LabelModel as MetalLabelModel
        from metal.multitask import MTLabelModel, TaskGraph

        found["metal"] = (MetalLabelModel, MTLabelModel, TaskGraph)
    except Exception as error:  # noqa: BLE001
        found["metal"] = f"{type(error).__name__}: {error}"
    return found


def accuracy_errors(estimated, true):
    error = np.abs(np.asarray(estimated) - np.asarray(true))
    return {"max_error": float(np.nanmax(error)), "mean_error": float(np.nanmean(error))}


def snorkel_model(LabelModel, L, seed):
    model = LabelModel(cardinality=2, verbose=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(L, n_epochs=EPOCHS, seed=seed, progress_bar=False)
    return model


def metal_accuracies(model, L):
    """MeTaL's per-source accuracy from its conditional probabilities (as Snorkel computes it)."""
    probs = model.get_conditional_probs()  # (m (k + 1), k); row 0 of a source: abstain
    k = probs.shape[1]
    balance = model.p
    coverage = (L != -1).mean(axis=0)
    return np.array([
        (np.diag(probs[i * (k + 1) + 1 : (i + 1) * (k + 1)]) * balance).sum() / coverage[i]
        for i in range(L.shape[1])
    ])  # fmt: skip


def metal_multitask(metal, L, graph, seed) -> np.ndarray:
    """MeTaL's ``MTLabelModel`` over the feasible joint labels ``graph``: its hard labels."""
    _, MTLabelModel, TaskGraph = metal
    n_tasks = graph.shape[1]

    class Feasible(TaskGraph):
        def feasible_set(self):
            yield from (row + 1 for row in graph)  # MeTaL counts classes from 1

        def is_feasible(self, y):
            return any((row + 1 == y).all() for row in graph)

    model = MTLabelModel(task_graph=Feasible([2] * n_tasks), verbose=False)
    per_task = [L[:, :, t] + 1 for t in range(n_tasks)]
    model.train_model(per_task, n_epochs=EPOCHS, seed=seed, verbose=False)
    return np.stack([np.asarray(p).argmax(axis=1) for p in model.predict_proba(per_task)], axis=1)
