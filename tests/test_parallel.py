"""Hyper-parameter search on a Dask cluster through joblib's "dask" backend."""

import joblib
import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, KFold

from sklearn_mtl import MMoEClassifier
from sklearn_mtl.datasets import make_task_pair
from sklearn_mtl.metrics import get_scorer
from sklearn_mtl.parallel import TorchThreads

distributed = pytest.importorskip("distributed")


def search():
    model = MMoEClassifier(
        expert_units=(8,), tower_units=(4,), max_epochs=4, batch_size=64, random_state=0
    )
    grid = {"n_experts": [2, 3], "lr": [1e-2, 3e-2]}
    return GridSearchCV(model, grid, cv=KFold(2), scoring=get_scorer("mean_roc_auc"), n_jobs=-1)


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address=":0",  # any free port: 8787 may be taken
    )  # fmt: skip
    with cluster, distributed.Client(cluster) as client:
        yield client


def test_search_on_a_dask_cluster_equals_the_serial_search(client):
    X, Y = make_task_pair(400, 0.5, n_features=8, target="binary", random_state=0)
    client.register_plugin(TorchThreads(1))
    with distributed.get_task_stream(client) as tasks, joblib.parallel_backend("dask"):
        on_cluster = search().fit(X, Y)
    serial = search().set_params(n_jobs=1).fit(X, Y)
    assert len({task["worker"] for task in tasks.data}) == 2  # both workers fitted
    np.testing.assert_allclose(
        on_cluster.cv_results_["mean_test_score"], serial.cv_results_["mean_test_score"],
        rtol=1e-6,
    )  # fmt: skip
    assert on_cluster.best_params_ == serial.best_params_
    np.testing.assert_allclose(
        on_cluster.predict_proba(X)[0], serial.predict_proba(X)[0], rtol=1e-5
    )


def test_torch_threads_plugin_sets_every_workers_threads(client):
    import torch

    client.register_plugin(TorchThreads(2))
    assert set(client.run(torch.get_num_threads).values()) == {2}
    client.register_plugin(TorchThreads())  # one per task thread of the worker
    assert set(client.run(torch.get_num_threads).values()) == {1}


def test_torch_threads_rejects_a_bad_count():
    with pytest.raises(ValueError, match="n_threads must be a positive int"):
        TorchThreads(0)
