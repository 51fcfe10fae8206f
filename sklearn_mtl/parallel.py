"""Running many fits at once: hyper-parameter search on a Dask cluster.

scikit-learn's searches parallelise through joblib, and joblib's ``"dask"``
backend sends their fits to a Dask cluster::

    from dask.distributed import Client
    from sklearn_mtl.parallel import TorchThreads

    client = Client("scheduler-address:8786")   # or Client(LocalCluster(...))
    client.register_plugin(TorchThreads(1))      # one torch thread per fit
    with joblib.parallel_backend("dask"):
        GridSearchCV(MMoEClassifier(random_state=0), grid, n_jobs=-1).fit(X, y)

Every fit on a worker uses torch's intra-op thread pool; with several fits per
machine each must use a share of the cores, or they oversubscribe them.
:class:`TorchThreads` sets that share on every worker of the cluster, including
workers that join later.
"""

from __future__ import annotations

from numbers import Integral

try:
    from distributed import WorkerPlugin
except ImportError:  # dask.distributed is optional: only this plugin needs it
    WorkerPlugin = object

__all__ = ["TorchThreads"]


class TorchThreads(WorkerPlugin):
    """A Dask worker plugin that sets torch's intra-op threads on every worker.

    Parameters
    ----------
    n_threads : int or None, default=None
        Threads per worker process. ``None`` gives each task thread of the
        worker one torch thread (the worker's ``nthreads``), so a worker never
        runs more torch threads than it was given cores.

    Examples
    --------
    >>> from dask.distributed import Client, LocalCluster        # doctest: +SKIP
    >>> client = Client(LocalCluster(n_workers=2, threads_per_worker=1))  # doctest: +SKIP
    >>> client.register_plugin(TorchThreads())                   # doctest: +SKIP
    """

    name = "sklearn-mtl-torch-threads"

    def __init__(self, n_threads: int | None = None) -> None:
        if WorkerPlugin is object:
            raise ImportError(
                "TorchThreads is a dask.distributed worker plugin; install "
                "'dask[distributed]' to use it."
            )
        if n_threads is not None and (
            not isinstance(n_threads, Integral) or isinstance(n_threads, bool) or n_threads < 1
        ):
            raise ValueError(f"n_threads must be a positive int or None; got {n_threads!r}.")
        self.n_threads = n_threads

    def setup(self, worker) -> None:
        import torch

        torch.set_num_threads(self.n_threads or worker.state.nthreads)
