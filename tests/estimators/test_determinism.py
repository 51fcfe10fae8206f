"""What random_state guarantees on CPU: bit-identical refits (GPU: tests/test_gpu.py)."""

import numpy as np
import pytest
from sklearn.base import clone

from tests._settings import NEURAL_ESTIMATORS, outputs, task_data


@pytest.mark.parametrize("estimator", NEURAL_ESTIMATORS, ids=lambda e: type(e).__name__)
def test_the_same_random_state_refits_bit_identically(estimator):
    X, Y = task_data(estimator)
    model = clone(estimator).set_params(max_epochs=2, dropout=0.1, random_state=7)
    first = outputs(clone(model).fit(X, Y), X)
    again = outputs(clone(model).fit(X, Y), X)
    other = outputs(clone(model).set_params(random_state=8).fit(X, Y), X)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for a, b in zip(first, other) if a.dtype.kind == "f")
