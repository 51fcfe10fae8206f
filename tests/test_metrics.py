"""NaN-aware per-task metrics and scorers."""

import numpy as np
import pytest
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import r2_score, roc_auc_score

from sklearn_mtl import MMoEClassifier
from sklearn_mtl.datasets import make_task_pair
from sklearn_mtl.metrics import (
    get_scorer,
    masked_r2_score,
    masked_subset_accuracy,
    per_task_scores,
)


def test_masked_r2_equals_sklearn_without_nan_and_ignores_nan():
    rng = np.random.RandomState(0)
    y, pred = rng.normal(size=(50, 3)), rng.normal(size=(50, 3))
    assert masked_r2_score(y, pred) == pytest.approx(r2_score(y, pred))
    y_nan = y.copy()
    y_nan[:10, 1] = np.nan
    expected = np.mean(
        [
            r2_score(y[:, 0], pred[:, 0]),
            r2_score(y[10:, 1], pred[10:, 1]),
            r2_score(y[:, 2], pred[:, 2]),
        ]
    )
    assert masked_r2_score(y_nan, pred) == pytest.approx(expected)


def test_subset_accuracy_counts_labelled_cells_only():
    y = np.array([[1, np.nan], [0, 1], [np.nan, np.nan], [1, 0]])
    pred = np.array([[1, 0], [0, 0], [1, 1], [1, 0]])
    assert masked_subset_accuracy(y, pred) == pytest.approx(2 / 3)


def test_per_task_scores_and_undefined_tasks():
    y = np.array([[0, 1], [1, 1], [0, 1], [1, 1]], dtype=float)
    probas = [np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])] * 2
    with pytest.warns(UndefinedMetricWarning):  # task 1 has one class: AUC is undefined
        scores = per_task_scores(y, [p[:, 1] for p in probas], roc_auc_score)
    assert scores[0] == 1.0 and np.isnan(scores[1])


def test_scorers_in_grid_search_shape_and_sign():
    X, Y = make_task_pair(200, 0.9, n_features=5, target="binary", random_state=0)
    model = MMoEClassifier(max_epochs=5, random_state=0).fit(X, Y)
    probas = model.predict_proba(X)
    auc = get_scorer("mean_roc_auc")(model, X, Y)
    expected = np.mean([roc_auc_score(Y[:, t], probas[t][:, 1]) for t in range(2)])
    assert auc == pytest.approx(expected)
    assert get_scorer("mean_neg_log_loss")(model, X, Y) < 0
    y = Y.astype(float)
    y[::2, 0] = np.nan
    assert 0 <= get_scorer("mean_accuracy")(model, X, y) <= 1
    with pytest.raises(ValueError, match="Unknown scorer 'auc'; expected one of"):
        get_scorer("auc")


def test_scorer_names_go_through_get_scorer_not_strings():
    """scikit-learn refuses the names as strings (metrics docstring says why)."""
    from sklearn.metrics import get_scorer as sklearn_get_scorer
    from sklearn.model_selection import cross_validate

    X, Y = make_task_pair(120, 0.9, n_features=4, target="binary", random_state=0)
    model = MMoEClassifier(max_epochs=2, random_state=0)
    with pytest.raises(ValueError, match="mean_roc_auc"):
        cross_validate(model, X, Y, cv=2, scoring="mean_roc_auc")
    scores = cross_validate(model, X, Y, cv=2, scoring=get_scorer("mean_roc_auc"))
    assert ((scores["test_score"] > 0) & (scores["test_score"] <= 1)).all()
    assert repr(get_scorer("accuracy")) == repr(sklearn_get_scorer("accuracy"))
