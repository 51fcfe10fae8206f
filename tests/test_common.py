"""scikit-learn's estimator checks over every estimator, and docstring checks."""

import re

import pytest
from sklearn.base import is_regressor
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_mtl.linear._base import BaseMultiTaskLinear
from tests._settings import ESTIMATORS

EXPECTED_FAILED_CHECKS = {
    "check_sample_weight_equivalence_on_dense_data": (
        "minibatch SGD: a weight of k is not k repeated rows (batches and shuffling differ)"
    ),
}
REGRESSOR_EXPECTED_FAILED_CHECKS = {
    "check_methods_subset_invariance": (
        "float32 GEMM on CPU sums in an order that depends on the batch's row count: "
        "predictions of a subset differ by about 2e-7, the check allows 1e-7; "
        "float64 inference would cost 2.5x"
    ),
}


def expected_failed_checks(estimator):
    if isinstance(estimator, BaseMultiTaskLinear):
        return {}  # a deterministic convex solver: every check must pass
    if is_regressor(estimator):
        return {**EXPECTED_FAILED_CHECKS, **REGRESSOR_EXPECTED_FAILED_CHECKS}
    return EXPECTED_FAILED_CHECKS


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize(
    "estimator", ESTIMATORS, ids=lambda e: type(e).__name__ + str(getattr(e, "q", ""))
)
def test_docstring_lists_exactly_the_parameters(estimator):
    doc = type(estimator).__doc__
    section = doc.split("Parameters\n    ----------\n")[1].split("\n    Attributes")[0]
    documented = re.findall(r"^    (\w+) :", section, flags=re.MULTILINE)
    assert sorted(documented) == sorted(estimator.get_params())
