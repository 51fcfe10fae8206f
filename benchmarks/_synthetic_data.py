"""The synthetic benchmark's data: ``make_task_pair`` samples, drawn once and kept."""

from __future__ import annotations

import numpy as np

from sklearn_mtl.datasets import make_task_pair

__all__ = ["N_FEATURES", "sample", "samples"]

N_FEATURES = 100


def sample(correlation: float, seed: int, args):
    X, Y = make_task_pair(
        args.n_samples,
        correlation,
        n_features=N_FEATURES,
        function_seed=args.function_seed,
        random_state=seed,
    )
    return X.astype(np.float32), Y


_SAMPLES: dict = {}
"""With one process: each seed's rows (the same at every correlation) and each (correlation,
seed)'s targets, drawn once for all models. Several processes draw their own instead."""


def samples(keys: list[tuple[float, int]], args) -> tuple[np.ndarray, np.ndarray]:
    """The stacked rows and targets of ``(correlation, sample seed)`` pairs.

    Drawing one run's 11,000 rows takes about 36 ms and holds the GIL, so on a GPU, where a
    stack holds a model's 1,400 runs, the missing ones are drawn in ``args.data_jobs``
    processes, and with one process (the GPU default) they are kept for the next model.
    """
    cache = _SAMPLES if args.jobs == 1 else {}
    tag = (args.n_samples, args.function_seed)
    missing = list(dict.fromkeys(k for k in keys if (tag, *k) not in cache))
    if args.data_jobs > 1 and len(missing) > 1:
        from joblib import Parallel, delayed

        drawn = Parallel(n_jobs=min(args.data_jobs, len(missing)))(
            delayed(sample)(c, seed, args) for c, seed in missing
        )
    else:
        drawn = [sample(c, seed, args) for c, seed in missing]
    for (c, seed), (X, Y) in zip(missing, drawn):
        cache.setdefault((tag, "X", seed), X)  # make_task_pair draws one X at every correlation
        cache[(tag, c, seed)] = Y
    X = np.stack([cache[(tag, "X", seed)] for _, seed in keys])
    Y = np.stack([cache[(tag, c, seed)] for c, seed in keys])
    return X, Y
