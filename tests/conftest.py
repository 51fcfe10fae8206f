import numpy as np
import pytest
import torch


@pytest.fixture(autouse=True)
def _fixed_seeds():
    """Every test starts from the same global numpy and torch random state."""
    np.random.seed(0)
    torch.manual_seed(0)
    yield
