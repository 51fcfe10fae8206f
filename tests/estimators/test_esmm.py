"""ESMM on click/conversion data: the funnel, the contract the sklearn checks cannot test."""

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr
from sklearn.exceptions import NotFittedError
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_mtl import ESMMClassifier
from sklearn_mtl.datasets import make_click_conversion
from sklearn_mtl.metrics import get_scorer

FAST = {"bottom_units": (16,), "tower_units": (8,), "max_epochs": 15, "lr": 1e-2}
GRID_FAST = {**FAST, "max_epochs": 3, "random_state": 0}


@pytest.fixture(scope="module")
def funnel():
    return make_click_conversion(3000, n_features=6, return_probabilities=True, random_state=0)


@pytest.fixture(scope="module")
def fitted(funnel):
    X, Y, _ = funnel
    return ESMMClassifier(**FAST, random_state=0).fit(X[:2000], Y[:2000])


def test_ctcvr_is_ctr_times_cvr_and_never_exceeds_ctr(funnel, fitted):
    X = funnel[0][2000:]
    p_click, p_conversion = (p[:, 1] for p in fitted.predict_proba(X))
    p_cvr = fitted.predict_cvr_proba(X)
    assert p_cvr.shape == (1000,) and np.all((p_cvr >= 0) & (p_cvr <= 1))
    np.testing.assert_allclose(p_conversion, p_click * p_cvr, rtol=1e-4, atol=1e-7)
    assert np.all(p_conversion <= p_click + 1e-6)


def test_esmm_learns_click_conversion_and_post_click_rate(funnel, fitted):
    X, Y, truth = funnel
    X, Y, truth = X[2000:], Y[2000:], truth[2000:]
    p_click, p_conversion = (p[:, 1] for p in fitted.predict_proba(X))
    assert roc_auc_score(Y[:, 0], p_click) > 0.75  # a constant scores 0.5
    assert roc_auc_score(Y[:, 1], p_conversion) > 0.75
    # pCVR was never trained on its own label, yet it ranks the true pCVR.
    assert spearmanr(fitted.predict_cvr_proba(X), truth[:, 1]).statistic > 0.5


def test_contract_on_funnel_data(funnel):
    X, Y, _ = funnel
    X, Y = X[:400], Y[:400]
    model = ESMMClassifier(**{**FAST, "max_epochs": 2}, random_state=0)
    with pytest.raises(NotFittedError):
        model.predict_cvr_proba(X)
    labels = pd.DataFrame({"click": np.where(Y[:, 0], "yes", "no"), "buy": Y[:, 1] == 1})
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    assert model.fit(frame, labels) is model
    assert model.n_features_in_ == 6 and model.n_tasks_ == 2
    assert [c.tolist() for c in model.classes_] == [["no", "yes"], [False, True]]
    assert set(model.predict(frame)[:, 0]) <= {"no", "yes"}
    with pytest.raises(ValueError, match="6 features"), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "X does not have valid feature names"
        model.predict(X[:, :5])
    # Missing labels and per-task weights
    y = Y.astype(float)
    y[::5, 1] = np.nan
    y[1::7, 0] = np.nan
    weights = np.random.default_rng(0).uniform(0.5, 2, Y.shape)
    assert ESMMClassifier(**FAST, random_state=0).fit(X, y, sample_weight=weights).score(X, Y) > 0.5


def _conversion_without_click(Y):
    y = Y.copy()
    y[1] = [0, 1]
    return y


@pytest.mark.parametrize(
    "y, match",
    [
        (lambda Y: Y[:, 0], "needs y of shape \\(n_samples, 2\\)"),
        (lambda Y: np.column_stack([Y, Y[:, 0]]), "needs y of shape \\(n_samples, 2\\)"),
        (lambda Y: np.column_stack([Y[:, 0], np.arange(len(Y)) % 3]), "must be binary"),
        (lambda Y: np.column_stack([np.ones(len(Y)), Y[:, 1]]), "one class only"),
        (_conversion_without_click, r"1 row\(s\) with a conversion but no click \(first: row 1"),
    ],
)  # fmt: skip
def test_clear_errors(funnel, y, match):
    X, Y, _ = funnel
    model = ESMMClassifier(max_epochs=1)
    with pytest.raises(ValueError, match=match):
        model.fit(X[:40], y(Y[:40]))
    assert not hasattr(model, "net_")


def test_missing_click_does_not_count_as_a_funnel_break(funnel):
    X, Y, _ = funnel
    y = Y[:200].astype(float)
    converted = np.flatnonzero(y[:, 1] == 1)[:3]
    y[converted, 0] = np.nan  # the click is unknown: no contradiction
    ESMMClassifier(**{**FAST, "max_epochs": 1}).fit(X[:200], y)


def test_grid_search_in_a_pipeline(funnel):
    X, Y, _ = funnel
    search = GridSearchCV(
        make_pipeline(StandardScaler(), ESMMClassifier(**GRID_FAST)),
        {"esmmclassifier__bottom_units": [(8,), ()]},
        cv=KFold(2),
        scoring=get_scorer("mean_roc_auc"),
        n_jobs=2,
    ).fit(X[:600], Y[:600])
    assert search.best_score_ > 0.65  # mean ROC AUC of the two tasks; 0.5 is chance


def test_the_funnel_holds_when_trained_on_a_label_models_soft_labels(funnel):
    """Weak sources on click ⊃ conversion: the label model's soft labels train ESMM's funnel."""
    from sklearn_mtl.datasets import make_weak_labels
    from sklearn_mtl.weak import MultiTaskLabelModel, hierarchy

    X, Y, _ = funnel
    graph = hierarchy([(1, 0)], 2)  # a conversion implies a click
    L, _ = make_weak_labels(len(Y), [0.85, 0.8, 0.75, 0.7], propensity=0.7, task_graph=graph,
                            true_labels=Y, random_state=0)  # fmt: skip
    click, conversion = MultiTaskLabelModel(task_graph=graph).fit(L).predict_proba(L)
    soft = np.column_stack([click[:, 1], conversion[:, 1]])
    soft[~(L != -1).any(axis=(1, 2))] = np.nan
    assert (soft[:, 1] <= soft[:, 0] + 1e-12)[~np.isnan(soft[:, 0])].all()
    assert ((soft > 0) & (soft < 1)).any()
    model = ESMMClassifier(**FAST, random_state=0).fit(X[:2000], soft[:2000])
    p_click, p_conversion = (p[:, 1] for p in model.predict_proba(X[2000:]))
    np.testing.assert_allclose(
        p_conversion, p_click * model.predict_cvr_proba(X[2000:]), rtol=1e-4, atol=1e-7
    )
    assert np.all(p_conversion <= p_click + 1e-6)
    assert roc_auc_score(Y[2000:, 0], p_click) > 0.75  # measured 0.85, from soft labels alone
    assert roc_auc_score(Y[2000:, 1], p_conversion) > 0.75  # measured 0.81
