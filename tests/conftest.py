import os

import numpy as np
import pytest
import torch


@pytest.fixture(autouse=True)
def _fixed_seeds():
    """Every test starts from the same global numpy and torch random state."""
    np.random.seed(0)
    torch.manual_seed(0)
    yield


def pytest_configure(config):
    """One torch (and BLAS) thread per test process when pytest-xdist runs several (``-n 2``).

    Two processes of two threads each on a 2-core machine oversubscribe it,
    and a small network's step is then several times slower; one thread per
    process keeps every core busy with one computation. numpy's BLAS too:
    the label model's many small products slowed fivefold without the limit.
    """
    if os.environ.get("PYTEST_XDIST_WORKER"):
        torch.set_num_threads(1)
        import scipy.optimize  # noqa: F401  (loads scipy's own BLAS, so that the limit covers it)
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
