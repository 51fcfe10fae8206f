"""The scikit-learn estimator checks each estimator is expected to fail, and why.

scikit-learn 1.6 and later take the expected failures as an argument of the
checks, not from the estimator: pass this module's table on.

>>> from sklearn.utils.estimator_checks import check_estimator
>>> from sklearn_mtl import MMoEClassifier
>>> from sklearn_mtl.utils.estimator_checks import expected_failed_checks
>>> model = MMoEClassifier(max_epochs=3, batch_size=64)
>>> sorted(expected_failed_checks(model))
['check_sample_weight_equivalence_on_dense_data', 'check_sample_weight_equivalence_on_sparse_data']
>>> results = check_estimator(
...     model, expected_failed_checks=expected_failed_checks(model), on_fail=None
... )  # doctest: +SKIP

Every entry was seen failing, and the package's own tests run every check on
every estimator with these tables, as strict expected failures: a check
that starts to pass fails the tests until its entry goes.
"""

from __future__ import annotations

__all__ = ["expected_failed_checks"]

MINIBATCH_WEIGHTS = (
    "minibatch training: a sample weight of k is not k repeated rows (the batches, their "
    "row order and the number of optimizer steps differ), so the fits differ; the loss is "
    "weighted exactly (tests/test_losses.py, tests/estimators/test_estimators.py)"
)

NETWORK_CHECKS = {
    "check_sample_weight_equivalence_on_dense_data": MINIBATCH_WEIGHTS,
    "check_sample_weight_equivalence_on_sparse_data": MINIBATCH_WEIGHTS,
}
"""The checks every neural estimator fails."""

MULTITASK_NET_CHECKS = {
    **NETWORK_CHECKS,
    **dict.fromkeys(
        ["check_estimator_sparse_array", "check_estimator_sparse_matrix"],
        "the check reads classifier tags of any estimator with predict_proba; MultiTaskNet is "
        "neither a classifier nor a regressor (each task has its own type); it fits and "
        "predicts sparse X (tests/estimators/test_sparse.py)",
    ),
}
"""MultiTaskNet's: the networks' and the sparse checks, which assume a classifier."""

ESMM_CHECKS = {
    **dict.fromkeys(
        [
            "check_all_zero_sample_weights_error",
            "check_classifier_data_not_an_array",
            "check_classifier_multioutput",
            "check_classifiers_classes",
            "check_classifiers_multilabel_output_format_decision_function",
            "check_classifiers_multilabel_output_format_predict",
            "check_classifiers_multilabel_output_format_predict_proba",
            "check_classifiers_multilabel_representation_invariance",
            "check_classifiers_one_label",
            "check_classifiers_one_label_sample_weights",
            "check_classifiers_regression_target",
            "check_classifiers_train",
            "check_dict_unchanged",
            "check_dont_overwrite_parameters",
            "check_dtype_object",
            "check_estimator_sparse_array",
            "check_estimator_sparse_matrix",
            "check_estimator_sparse_tag",
            "check_estimators_dtypes",
            "check_estimators_fit_returns_self",
            "check_estimators_nan_inf",
            "check_estimators_overwrite_params",
            "check_estimators_partial_fit_n_features",
            "check_estimators_pickle",
            "check_f_contiguous_array_estimator",
            "check_fit2d_1feature",
            "check_fit2d_1sample",
            "check_fit2d_predict1d",
            "check_fit_check_is_fitted",
            "check_fit_idempotent",
            "check_fit_score_takes_y",
            "check_methods_sample_order_invariance",
            "check_methods_subset_invariance",
            "check_n_features_in",
            "check_n_features_in_after_fitting",
            "check_pipeline_consistency",
            "check_positive_only_tag_during_fit",
            "check_readonly_memmap_input",
            "check_sample_weight_equivalence_on_dense_data",
            "check_sample_weight_equivalence_on_sparse_data",
            "check_sample_weights_list",
            "check_sample_weights_not_an_array",
            "check_sample_weights_not_overwritten",
            "check_sample_weights_pandas_series",
            "check_sample_weights_shape",
            "check_supervised_y_2d",
        ],
        "ESMM models one funnel: y must be (n_samples, 2) binary click and conversion labels "
        "with no conversion without a click, and the check fits another y; "
        "tests/estimators/test_esmm.py checks the same properties on funnel data",
    )
}
"""ESMMClassifier's: every check that fits a target other than a click/conversion pair."""


def expected_failed_checks(estimator) -> dict[str, str]:
    """The checks of ``sklearn.utils.estimator_checks`` that ``estimator`` fails, with why.

    Parameters
    ----------
    estimator : estimator of sklearn_mtl
        An instance.

    Returns
    -------
    checks : dict of str to str
        Check name to reason, as ``check_estimator`` and
        ``parametrize_with_checks`` take it (``expected_failed_checks=``).
        Empty for the linear models: deterministic solvers pass every check.
    """
    from ..estimators._base import BaseMultiTaskNet
    from ..estimators._esmm import ESMMClassifier
    from ..estimators._multitask_net import MultiTaskNet

    if isinstance(estimator, ESMMClassifier):
        return dict(ESMM_CHECKS)
    if isinstance(estimator, MultiTaskNet):
        return dict(MULTITASK_NET_CHECKS)
    if isinstance(estimator, BaseMultiTaskNet):
        return dict(NETWORK_CHECKS)
    return {}
