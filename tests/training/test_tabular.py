"""DataFrames with categorical columns: embeddings, encoding learnt in fit, Adult."""

import pickle

import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_mtl import ESMMClassifier, MMoEClassifier, PLEClassifier, SharedBottomRegressor
from sklearn_mtl._training.inputs import MISSING_CODE, UNKNOWN_CODE, embedding_size
from sklearn_mtl.datasets import load_adult
from tests._settings import NEURAL_ESTIMATORS

FAST = {"n_experts": 2, "expert_units": (16,), "tower_units": (8,), "max_epochs": 8, "lr": 1e-2}


def mmoe(**overrides):
    return MMoEClassifier(**{**FAST, **overrides})


def shop_frame(n=400, seed=0):
    """Numeric, category, object and string columns; two tasks driven by both kinds."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "price": rng.normal(100, 30, n),
            "city": pd.Categorical(rng.choice(["paris", "rome", "oslo"], n)),
            "device": rng.choice(["ios", "android", "web", "tv"], n).astype(object),
            "plan": pd.array(rng.choice(["free", "pro"], n), dtype="string"),
            "visits": rng.poisson(3, n),
        }
    )
    frame.loc[::10, "device"] = None  # missing categorical values: a category of their own
    rome, pro = (frame["city"] == "rome").to_numpy(float), (frame["plan"] == "pro").to_numpy(float)
    signal = rome * 2.0 + pro - 0.02 * frame["price"].to_numpy()
    ios = (frame["device"] == "ios").to_numpy(bool)
    Y = np.column_stack([signal + 0.5 > 0, ios | (signal > 1)]).astype(int)
    return frame, Y


def test_categorical_columns_are_found_from_dtype_and_embedded():
    X, Y = shop_frame()
    model = mmoe(random_state=0).fit(X, Y)
    np.testing.assert_array_equal(model.is_categorical_, [False, True, True, True, False])
    layer = model.net_.module_.input_layer
    # codes: missing, unknown, then the known categories (device: 4 + missing + unknown)
    assert [t.num_embeddings for t in layer.embeddings] == [5, 6, 4]
    assert [t.embedding_dim for t in layer.embeddings] == [embedding_size(n) for n in (5, 6, 4)]
    assert layer.projection.in_features == 2
    for task, proba in enumerate(model.predict_proba(X)):
        assert roc_auc_score(Y[:, task], proba[:, 1]) > 0.85


@pytest.mark.parametrize(
    "spec",
    [["city", "device", "plan"], [1, 2, 3], [False, True, True, True, False]],
    ids=["names", "indices", "mask"],
)
def test_categorical_features_by_name_index_or_mask(spec):
    X, Y = shop_frame()
    model = mmoe(max_epochs=1, categorical_features=spec, embedding_dim=4)
    model.fit(X, Y)
    np.testing.assert_array_equal(model.is_categorical_, [False, True, True, True, False])
    assert {t.embedding_dim for t in model.net_.module_.input_layer.embeddings} == {4}


def test_numpy_object_array_with_categorical_indices():
    X, Y = shop_frame()
    array = X.to_numpy(dtype=object)
    model = mmoe(max_epochs=1, categorical_features=[1, 2, 3]).fit(array, Y)
    assert model.predict(array).shape == (400, 2)
    with pytest.raises(ValueError, match="name them in categorical_features"):
        mmoe(max_epochs=1).fit(array, Y)


def test_unknown_and_missing_categories_at_predict():
    X, Y = shop_frame()
    model = mmoe(max_epochs=2, random_state=0).fit(X, Y)
    new = X.iloc[:3].copy()
    new["device"] = np.array(["smart-fridge", None, "ios"], dtype=object)
    new["city"] = pd.Categorical(["tokyo", "rome", None])
    codes = model._fit_state.inputs.transform(new)[:, 2:]  # after the two numeric columns
    assert codes[0, 1] == UNKNOWN_CODE and codes[1, 1] == MISSING_CODE
    assert codes[0, 0] == UNKNOWN_CODE and codes[2, 0] == MISSING_CODE
    probas = model.predict_proba(new)
    assert all(np.all((p >= 0) & (p <= 1)) for p in probas)


def test_min_frequency_groups_rare_categories_with_unknown_ones():
    X, Y = shop_frame()
    X["device"] = X["device"].where(X.index % 50 != 0, "rare")  # 8 rows
    model = mmoe(max_epochs=1, min_frequency=20).fit(X, Y)
    # 4 devices, one shared code for the infrequent ones, missing, unknown
    assert model._fit_state.inputs.cardinalities[1] == 7
    X["device"] = X["device"].where(X.index != 1, "also-rare")  # unseen at fit: unknown
    codes = model._fit_state.inputs.transform(X.iloc[[0, 1, 50]])[:, 3]  # rows 0, 50: "rare"
    assert codes[0] == codes[2] == 6 and codes[1] == UNKNOWN_CODE


def test_encoding_is_learnt_on_the_training_rows_only():
    X, Y = shop_frame()
    seen = X["city"] != "oslo"
    model = mmoe(max_epochs=1).fit(X[seen], Y[seen.to_numpy()])
    assert model._fit_state.inputs.cardinalities[0] == 4  # paris, rome + missing, unknown
    oslo = model._fit_state.inputs.transform(X[~seen].iloc[:2])[:, 2]
    np.testing.assert_array_equal(oslo, UNKNOWN_CODE)


def test_clear_errors_for_bad_inputs():
    X, Y = shop_frame()
    model = mmoe(max_epochs=1)
    with pytest.raises(ValueError, match="Input X contains NaN.*SimpleImputer"):
        model.fit(X.assign(price=X["price"].where(X.index != 3)), Y)
    with pytest.raises(ValueError, match="'colour', which is not a column of X"):
        MMoEClassifier(categorical_features=["colour"]).fit(X, Y)
    with pytest.raises(ValueError, match="not a column index in \\[0, 5\\)"):
        MMoEClassifier(categorical_features=[7]).fit(X, Y)
    with pytest.raises(ValueError, match="boolean mask must have shape \\(5,\\)"):
        MMoEClassifier(categorical_features=[True, False]).fit(X, Y)
    with pytest.raises(ValueError, match="The 'embedding_dim' parameter"):
        MMoEClassifier(embedding_dim=0).fit(X, Y)
    model.fit(X, Y)
    with pytest.raises(ValueError, match="feature names"):
        model.predict(X.drop(columns="visits"))
    with pytest.raises(ValueError, match="Column 'visits' had a numeric dtype"):
        model.predict(X.assign(visits=X["visits"].astype(str)))


def test_after_a_column_transformer_in_a_grid_search_and_pickled():
    X, Y = shop_frame()
    scale = ColumnTransformer(
        [("numeric", StandardScaler(), ["price", "visits"])],
        remainder="passthrough",
        verbose_feature_names_out=False,
    ).set_output(transform="pandas")
    ple = PLEClassifier(
        n_task_experts=1, n_shared_experts=1, expert_units=(8,), max_epochs=3, random_state=0
    )
    pipe = make_pipeline(scale, ple)
    search = GridSearchCV(pipe, {"pleclassifier__embedding_dim": [2, "auto"]}, cv=KFold(2))
    search.fit(X, Y)
    model = search.best_estimator_
    assert model[-1].is_categorical_.sum() == 3
    restored = pickle.loads(pickle.dumps(model))
    for expected, got in zip(model.predict_proba(X), restored.predict_proba(X)):
        np.testing.assert_array_equal(got, expected)


def test_regressor_with_categorical_inputs():
    X, _ = shop_frame()
    y = X["price"] / 30 + (X["city"] == "rome") * 3.0
    model = SharedBottomRegressor(bottom_units=(16,), max_epochs=20, lr=1e-2, random_state=0)
    assert model.fit(X, y).score(X, y) > 0.8


# --- Adult --------------------------------------------------------------------------


def test_load_adult_splits_tasks_and_columns():
    bunch = load_adult()
    assert bunch.data.shape == (32561, 13) and bunch.target.shape == (32561, 2)
    assert bunch.target_names == ["income_over_50k", "never_married"]
    assert {"income", "marital-status"}.isdisjoint(bunch.data.columns)
    assert bunch.target.mean().round(2).tolist() == [0.24, 0.33]
    assert "CC BY 4.0" in bunch.DESCR and bunch.frame.shape == (32561, 15)
    X_test, Y_test = load_adult(task_group="education", subset="test", return_X_y=True)
    assert X_test.shape == (16281, 12) and list(Y_test.columns)[0] == "bachelors_or_more"
    assert {"education", "educational-num"}.isdisjoint(X_test.columns)
    assert "income" in X_test.columns
    X_all, Y_all = load_adult(subset="all", return_X_y=True, as_frame=False)
    assert X_all.shape == (48842, 13) and X_all.dtype == object and Y_all.dtype.kind == "i"


@pytest.mark.parametrize("task_group", ["income", "education"])
def test_a_small_fit_on_adult_learns_every_task(task_group):
    X, Y = load_adult(task_group=task_group, return_X_y=True)
    X_test, Y_test = load_adult(task_group=task_group, subset="test", return_X_y=True)
    model = MMoEClassifier(n_experts=4, expert_units=(16,), tower_units=(8,), max_epochs=4,
                           batch_size=128, lr=3e-3, random_state=0)  # fmt: skip
    model.fit(X.iloc[:3000], Y.iloc[:3000])
    probas = model.predict_proba(X_test.iloc[:3000])
    for task, proba in enumerate(probas):
        assert roc_auc_score(Y_test.iloc[:3000, task], proba[:, 1]) > 0.75


def test_every_column_categorical():
    frame, Y = shop_frame()
    only_categories = frame[["city", "device", "plan"]]
    model = MMoEClassifier(2, max_epochs=5, random_state=0).fit(only_categories, Y)
    assert model.is_categorical_.all()
    probas = model.predict_proba(only_categories)
    assert all(np.isfinite(p).all() and p.shape == (len(frame), 2) for p in probas)


@pytest.mark.parametrize("estimator", NEURAL_ESTIMATORS, ids=lambda e: type(e).__name__)
def test_categorical_fits_ignore_sklearns_transform_output_setting(estimator):
    """set_config(transform_output="pandas") broke every fit on categorical data."""
    X, Y = shop_frame(200)
    if isinstance(estimator, ESMMClassifier):
        Y = np.column_stack([Y[:, 0], Y[:, 0] * Y[:, 1]])
    outputs = {}
    for setting in ("default", "pandas"):
        with sklearn.config_context(transform_output=setting):
            model = clone(estimator).set_params(max_epochs=2, random_state=0).fit(X, Y)
            outputs[setting] = model.predict(X)
    np.testing.assert_array_equal(outputs["pandas"], outputs["default"])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_rows", [1, 5, 8192, 20001])
def test_column_statistics_match_numpy_in_one_blocked_pass(dtype, n_rows):
    from sklearn_mtl._training.inputs import column_mean_std

    rng = np.random.default_rng(n_rows)
    X = (rng.standard_normal((n_rows, 4)) * [1, 1e3, 1e-3, 0] + [0, 5e4, -2, 7]).astype(dtype)
    mean, std = column_mean_std(X, rows=4096)
    np.testing.assert_allclose(mean, X.mean(axis=0, dtype=np.float64), rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(std, X.std(axis=0, dtype=np.float64), rtol=1e-7, atol=1e-12)
    assert std[3] == 0.0  # a constant column: the encoder then scales by 1


def test_adult_five_tasks_remove_every_source_column():
    X, Y = load_adult(task_group="five", return_X_y=True)
    assert list(Y.columns) == ["income_over_50k", "never_married", "bachelors_or_more",
                               "over_40_hours", "self_employed"]  # fmt: skip
    removed = {"income", "marital-status", "education", "educational-num", "hours-per-week",
               "workclass"}  # fmt: skip
    assert removed.isdisjoint(X.columns) and X.shape == (32561, 9)
    assert Y.mean().round(3).tolist() == [0.241, 0.328, 0.248, 0.294, 0.112]


def test_adult_degrees_is_a_task_hierarchy_without_its_source_columns():
    X, Y = load_adult(task_group="degrees", return_X_y=True)
    assert list(Y.columns) == ["bachelors_or_more", "postgraduate", "income_over_50k"]
    assert {"education", "educational-num", "income"}.isdisjoint(X.columns)
    assert not ((Y.postgraduate == 1) & (Y.bachelors_or_more == 0)).any()  # postgraduate ⊂ degree
    assert Y.mean().round(3).tolist() == [0.248, 0.083, 0.241]
