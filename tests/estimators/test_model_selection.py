"""The estimators inside Pipeline, ColumnTransformer, GridSearchCV and cross_validate."""

import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn.compose import ColumnTransformer
from sklearn.model_selection import GridSearchCV, KFold, cross_validate
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from sklearn_mtl import MMoEClassifier, MMoERegressor, SharedBottomClassifier
from sklearn_mtl.datasets import make_task_pair
from sklearn_mtl.metrics import get_scorer

FAST = {"n_experts": 3, "expert_units": (16,), "tower_units": (8,), "max_epochs": 10}


@pytest.fixture(scope="module")
def binary_pair():
    return make_task_pair(300, 0.9, n_features=6, target="binary", random_state=0)


def test_pipeline_with_pandas_output(binary_pair):
    X, Y = binary_pair
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    pipe = make_pipeline(StandardScaler(), MMoEClassifier(**FAST, lr=1e-2, random_state=0))
    pipe.set_output(transform="pandas")
    pipe.fit(frame, Y)
    model = pipe[-1]
    np.testing.assert_array_equal(model.feature_names_in_, frame.columns)
    assert pipe.predict(frame).shape == (300, 2)
    assert pipe.score(frame, Y) > 0.6  # subset accuracy; chance is 0.25


def test_after_a_column_transformer():
    rng = np.random.RandomState(0)
    frame = pd.DataFrame({"age": rng.normal(40, 10, 300), "city": rng.choice(["a", "b", "c"], 300)})
    y = np.column_stack([frame["age"] > 40, frame["city"] == "a"]).astype(int)
    pre = ColumnTransformer(
        [("num", StandardScaler(), ["age"]), ("cat", OneHotEncoder(), ["city"])]
    )
    pipe = make_pipeline(pre, SharedBottomClassifier(max_epochs=40, lr=1e-2, random_state=0))
    pipe.fit(frame, y)
    assert pipe.score(frame, y) > 0.9


def test_grid_search_and_cross_validate_in_parallel(binary_pair):
    X, Y = binary_pair

    def grid_search(n_jobs):
        return GridSearchCV(
            MMoEClassifier(**FAST, random_state=0),
            {"n_experts": [2, 4], "gate_temperature": [0.5, 2.0]},
            cv=3,
            n_jobs=n_jobs,
            scoring=get_scorer("mean_roc_auc"),
        ).fit(X, Y)

    search, sequential = grid_search(n_jobs=2), grid_search(n_jobs=1)
    assert set(search.best_params_) == {"n_experts", "gate_temperature"}
    assert 0.5 < search.best_score_ <= 1.0
    np.testing.assert_allclose(
        search.cv_results_["mean_test_score"], sequential.cv_results_["mean_test_score"]
    )
    scores = cross_validate(
        MMoERegressor(**FAST, random_state=0), X, Y.astype(float), cv=3, n_jobs=2
    )
    assert scores["test_score"].shape == (3,)


def test_grid_search_with_missing_labels_and_a_nan_aware_scorer(binary_pair):
    X, Y = binary_pair
    y = Y.astype(float)
    y[np.random.RandomState(0).rand(*y.shape) < 0.2] = np.nan
    search = GridSearchCV(
        MMoEClassifier(**FAST, random_state=0),
        {"lr": [1e-3, 1e-2]},
        cv=KFold(3),  # a splitter object: cv=3 would call type_of_target on NaN labels
        scoring={"auc": get_scorer("mean_roc_auc"), "acc": get_scorer("mean_accuracy")},
        refit="auc",
    ).fit(X, y)
    assert np.isfinite(search.cv_results_["mean_test_auc"]).all()
    assert np.isfinite(search.best_estimator_.score(X, y))


def test_an_integer_cv_with_missing_labels_fails_in_scikit_learn_as_documented(binary_pair):
    """The docstrings of y say to pass cv=KFold(...): scikit-learn's check_cv asks
    type_of_target, which refuses NaN before any estimator code runs (no hook exists to
    word that error). If scikit-learn stops refusing, this test says the advice is stale."""
    X, Y = binary_pair
    y = Y.astype(float)
    y[::5, 0] = np.nan
    search = GridSearchCV(MMoEClassifier(**FAST), {"lr": [1e-3]}, cv=3)
    with pytest.raises(ValueError, match="Input y contains NaN"), np.errstate(invalid="ignore"):
        search.fit(X, y)  # (type_of_target casts the NaN to int before it refuses it)
    assert "cv=KFold(5)" in MMoEClassifier.fit.__doc__


def test_sample_weight_routes_through_pipeline_and_grid_search(binary_pair):
    X, Y = binary_pair
    weight = np.where(Y[:, 0] == 1, 20.0, 1.0)
    direct = MMoEClassifier(**FAST, random_state=0).fit(X, Y, sample_weight=weight)
    pipe = Pipeline([("mtl", MMoEClassifier(**FAST, random_state=0))])
    pipe.fit(X, Y, mtl__sample_weight=weight)
    np.testing.assert_array_equal(pipe.predict_proba(X)[0], direct.predict_proba(X)[0])
    unweighted = MMoEClassifier(**FAST, random_state=0).fit(X, Y)
    assert not np.array_equal(unweighted.predict_proba(X)[0], direct.predict_proba(X)[0])

    search = GridSearchCV(MMoEClassifier(**FAST, random_state=0), {"lr": [1e-3]}, cv=2)
    search.fit(X, Y, sample_weight=weight)
    np.testing.assert_array_equal(
        search.best_estimator_.predict_proba(X)[0], direct.predict_proba(X)[0]
    )


def test_sample_weight_with_metadata_routing(binary_pair):
    X, Y = binary_pair
    weight = np.column_stack([np.where(Y[:, 0] == 1, 20.0, 1.0), np.ones(len(Y))])
    scaled = make_pipeline(StandardScaler(), MMoEClassifier(**FAST, random_state=0))
    scaled.fit(X, Y, mmoeclassifier__sample_weight=weight)
    unweighted = make_pipeline(StandardScaler(), MMoEClassifier(**FAST, random_state=0))
    unweighted.fit(X, Y)
    with sklearn.config_context(enable_metadata_routing=True):
        model = MMoEClassifier(**FAST, random_state=0)
        model.set_fit_request(sample_weight=True).set_score_request(sample_weight=False)
        pipe = make_pipeline(StandardScaler().set_fit_request(sample_weight=False), model)
        search = GridSearchCV(
            pipe, {"mmoeclassifier__lr": [1e-3]}, cv=2, scoring=get_scorer("mean_roc_auc")
        )
        search.fit(X, Y, sample_weight=weight)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    np.testing.assert_array_equal(
        search.best_estimator_.predict_proba(X)[0], scaled.predict_proba(X)[0]
    )
    assert not np.array_equal(unweighted.predict_proba(X)[0], scaled.predict_proba(X)[0])
