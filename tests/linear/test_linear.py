"""The linear multi-task estimators: objectives, support recovery, contract and errors."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import MultiTaskLasso, MultiTaskLassoCV
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_mtl import (
    MeanRegularizedMultiTaskClassifier,
    MeanRegularizedMultiTaskRegressor,
    MMoERegressor,
    MultiTaskL1LqClassifier,
    MultiTaskL1LqClassifierCV,
    MultiTaskL1LqRegressor,
    MultiTaskL1LqRegressorCV,
)
from sklearn_mtl.linear import alpha_max


def row_sparse_problem(n=200, d=40, T=3, n_active=5, noise=0.1, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    W = np.zeros((d, T))
    active = np.sort(rng.choice(d, n_active, replace=False))
    W[active] = rng.choice([-1, 1], (n_active, T)) * rng.uniform(1, 2, (n_active, T))
    return X, X @ W + noise * rng.standard_normal((n, T)) + 1.0, active


def alpha_max_q2(X, Y):
    Xc, Yc = X - X.mean(axis=0), Y - Y.mean(axis=0)
    return np.max(np.linalg.norm(Xc.T @ Yc, axis=1)) / len(X)


def test_regressor_matches_multitask_lasso():
    X, Y, _ = row_sparse_problem()
    alpha = 0.05 * alpha_max_q2(X, Y)
    ours = MultiTaskL1LqRegressor(alpha, tol=1e-10).fit(X, Y)
    reference = MultiTaskLasso(alpha=alpha, tol=1e-12, max_iter=50000).fit(X, Y)

    def objective(model):
        residual = Y - X @ model.coef_.T - model.intercept_
        penalty = alpha * np.linalg.norm(model.coef_.T, axis=1).sum()
        return 0.5 / len(X) * np.sum(residual**2) + penalty

    assert objective(ours) == pytest.approx(objective(reference), rel=1e-6)
    np.testing.assert_array_equal(ours.support_, np.any(reference.coef_ != 0, axis=0))
    np.testing.assert_allclose(ours.predict(X), reference.predict(X), atol=1e-4)
    assert ours.coef_.shape == (3, 40) and ours.intercept_.shape == (3,)
    assert ours.dual_gap_ >= 0 and ours.n_iter_ > 0


@pytest.mark.parametrize("q", [2, np.inf])
def test_regressor_recovers_the_row_support(q):
    X, Y, active = row_sparse_problem()
    model = MultiTaskL1LqRegressor(0.1, q=q).fit(X, Y)
    np.testing.assert_array_equal(np.flatnonzero(model.support_), active)


@pytest.mark.parametrize("q", [2, np.inf])
def test_classifier_recovers_the_row_support(q):
    X, Y, active = row_sparse_problem(n=1500, seed=1)
    labels = np.where(Y > 1.0, "up", "down")
    model = MultiTaskL1LqClassifier(0.03, q=q).fit(X, labels)
    np.testing.assert_array_equal(np.flatnonzero(model.support_), active)
    assert model.score(X, labels) > 0.8


def test_alpha_above_alpha_max_gives_the_intercept_only_model():
    X, Y, _ = row_sparse_problem()
    top = alpha_max_q2(X, Y)
    empty = MultiTaskL1LqRegressor(top * 1.001).fit(X, Y)
    assert not empty.support_.any()
    np.testing.assert_allclose(empty.intercept_, Y.mean(axis=0))
    assert MultiTaskL1LqRegressor(top * 0.95).fit(X, Y).support_.any()


def test_linf_penalty_equalises_magnitudes_within_a_row():
    X, Y, _ = row_sparse_problem(seed=2)
    coef = MultiTaskL1LqRegressor(0.5, q=np.inf).fit(X, Y).coef_.T
    kept = coef[np.any(coef != 0, axis=1)]
    assert kept.size
    # The prox clips a row at one level: the tied maxima are exactly equal.
    tied = [np.sum(np.isclose(np.abs(w), np.abs(w).max(), rtol=1e-9)) for w in kept]
    assert max(tied) >= 2


def test_mean_regularization_pulls_tasks_together():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 8))
    shared = rng.standard_normal(8)
    W = shared[:, None] + 0.5 * rng.standard_normal((8, 4))
    Y = X @ W + 0.5 * rng.standard_normal((60, 4))

    def spread(model):
        coef = model.coef_
        return np.linalg.norm(coef - coef.mean(axis=0))

    loose = MeanRegularizedMultiTaskRegressor(1e-3, lambda_2=1e-3, tol=1e-8).fit(X, Y)
    tight = MeanRegularizedMultiTaskRegressor(1e-3, lambda_2=100.0, tol=1e-8).fit(X, Y)
    assert spread(tight) < 0.1 * spread(loose)
    # Optimality, from the documented objective: its gradient vanishes.
    residual = X @ tight.coef_.T + tight.intercept_ - Y
    w_mean = tight.coef_.mean(axis=0)
    grad = X.T @ residual / 60 + 2 * 1e-3 * w_mean[:, None] / 4
    grad += 2 * 100.0 / 4 * (tight.coef_.T - w_mean[:, None])
    np.testing.assert_allclose(grad, 0, atol=1e-5)
    np.testing.assert_allclose(residual.sum(axis=0), 0, atol=1e-6)


def test_mean_regularized_classifier_kkt():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((300, 6))
    Y = np.column_stack([X[:, 0] + X[:, t] + 0.5 * rng.standard_normal(300) > 0 for t in (1, 2)])
    model = MeanRegularizedMultiTaskClassifier(0.01, lambda_2=0.1, tol=1e-10).fit(X, Y)
    proba = np.column_stack([p[:, 1] for p in model.predict_proba(X)])
    W = model.coef_.T
    w_mean = W.mean(axis=1, keepdims=True)
    grad = X.T @ (proba - Y) / 300 + 2 * 0.01 * w_mean / 2 + 2 * 0.1 / 2 * (W - w_mean)
    np.testing.assert_allclose(grad, 0, atol=1e-6)


def test_missing_labels_are_zero_weights():
    X, Y, _ = row_sparse_problem()
    rng = np.random.default_rng(0)
    missing = rng.uniform(size=Y.shape) < 0.2
    weight = rng.uniform(0.5, 2, Y.shape)
    with_nan = MultiTaskL1LqRegressor(0.05, tol=1e-10).fit(
        X, np.where(missing, np.nan, Y), sample_weight=weight
    )
    zero_weight = MultiTaskL1LqRegressor(0.05, tol=1e-10).fit(
        X, Y, sample_weight=np.where(missing, 0.0, weight)
    )
    np.testing.assert_allclose(with_nan.coef_, zero_weight.coef_, atol=1e-6)
    # One task alone: its missing rows are as if dropped.
    observed = ~missing[:, 0]
    single = MultiTaskL1LqRegressor(0.05, tol=1e-10).fit(X, np.where(observed, Y[:, 0], np.nan))
    dropped = MultiTaskL1LqRegressor(0.05, tol=1e-10).fit(X[observed], Y[observed, 0])
    np.testing.assert_allclose(single.coef_, dropped.coef_, atol=1e-6)
    assert single.coef_.shape == (40,) and isinstance(single.intercept_, float)


def test_classifier_output_format_and_label_types():
    X, Y, _ = row_sparse_problem(n=300)
    y = pd.DataFrame({"a": np.where(Y[:, 0] > 1, "yes", "no"), "b": Y[:, 1] > 1, "c": Y[:, 2] > 1})
    y["b"] = y["b"].astype(int)
    y.loc[::7, "a"] = None  # missing labels
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(40)])
    model = MultiTaskL1LqClassifier(0.02).fit(frame, y)
    np.testing.assert_array_equal(model.feature_names_in_, frame.columns)
    assert [c.tolist() for c in model.classes_] == [["no", "yes"], [0, 1], [False, True]]
    probas = model.predict_proba(frame)
    assert len(probas) == 3
    for proba in probas:
        assert proba.shape == (300, 2)
        assert np.all((proba >= 0) & (proba <= 1))
        np.testing.assert_allclose(proba.sum(axis=1), 1)
    predicted = model.predict(frame)
    assert predicted.shape == (300, 3)
    assert set(predicted[:, 0]) <= {"no", "yes"}
    assert model.score(frame, y) > 0.7


def test_cv_regressor_agrees_with_multitask_lasso_cv():
    X, Y, _ = row_sparse_problem()
    folds = KFold(4)
    ours = MultiTaskL1LqRegressorCV(alphas=15, cv=folds, tol=1e-10).fit(X, Y)
    reference = MultiTaskLassoCV(alphas=15, cv=folds, tol=1e-12, max_iter=50000).fit(X, Y)
    np.testing.assert_allclose(ours.alphas_, reference.alphas_, rtol=1e-10)
    # loss_path_ is half the MSE averaged over tasks; sklearn's mse_path_ is the MSE.
    np.testing.assert_allclose(2 * ours.loss_path_, reference.mse_path_, rtol=1e-4)
    assert ours.alpha_ == pytest.approx(reference.alpha_)


def test_cv_classifier_in_parallel_equals_sequential():
    X, Y, _ = row_sparse_problem(n=300, seed=3)
    labels = Y > 1.0
    parallel = MultiTaskL1LqClassifierCV(alphas=6, cv=3, n_jobs=2).fit(X, labels)
    sequential = MultiTaskL1LqClassifierCV(alphas=6, cv=3, n_jobs=1).fit(X, labels)
    assert parallel.loss_path_.shape == (6, 3)
    np.testing.assert_array_equal(parallel.loss_path_, sequential.loss_path_)
    assert parallel.alpha_ in parallel.alphas_
    assert parallel.alpha_ < parallel.alphas_[0]  # the empty model is not the best


def test_grid_search_over_linear_and_neural_models_in_one_pipeline():
    X, Y, _ = row_sparse_problem(n=150, d=10)
    pipe = Pipeline([("scale", StandardScaler()), ("model", MultiTaskL1LqRegressor())])
    grid = [
        {"model": [MultiTaskL1LqRegressor()], "model__q": [2, np.inf]},
        {"model": [MMoERegressor(n_experts=2, expert_units=(8,), max_epochs=5)]},
    ]
    search = GridSearchCV(pipe, grid, cv=3).fit(X, Y)
    assert len(search.cv_results_["params"]) == 3
    assert isinstance(search.best_estimator_[-1], MultiTaskL1LqRegressor)
    assert search.best_score_ > 0.9


@pytest.mark.parametrize(
    "estimator, y, match",
    [
        (MultiTaskL1LqClassifier(), np.tile([0, 1, 2], 10), "Only binary classification"),
        (MultiTaskL1LqClassifier(), np.column_stack([np.tile([0, 1], 15), np.ones(30)]),
         "Task 1 of y has one class only"),
        (MultiTaskL1LqRegressor(), np.column_stack([np.ones(30), np.full(30, np.nan)]),
         "Task 1 of y has no observed label"),
        (MultiTaskL1LqRegressor(q=3), np.ones(30), "The 'q' parameter"),
        (MultiTaskL1LqRegressor(alpha=-1), np.ones(30), "The 'alpha' parameter"),
        (MeanRegularizedMultiTaskRegressor(lambda_2=0), np.ones(30), "The 'lambda_2' parameter"),
        (MultiTaskL1LqRegressorCV(alphas=[]), np.arange(30.0), "alphas must be"),
        (MultiTaskL1LqRegressor(), np.full(29, 1.0), "inconsistent numbers of samples"),
    ],
)  # fmt: skip
def test_clear_errors(estimator, y, match):
    X = np.random.default_rng(0).standard_normal((30, 3))
    with pytest.raises(ValueError, match=match):
        estimator.fit(X, y)
    assert not hasattr(estimator, "coef_") and not hasattr(estimator, "n_features_in_")


@pytest.mark.parametrize(
    "estimator", [MultiTaskL1LqClassifierCV(alphas=3, cv=2), MultiTaskL1LqRegressor()]
)
def test_sparse_input_is_called_sparse(estimator):
    """It was called "values that are not numbers"."""
    import scipy.sparse

    X = scipy.sparse.random(30, 4, density=0.5, format="csr", random_state=0)
    y = np.tile([0, 1], 15)
    with pytest.raises(TypeError, match="takes dense X; got a sparse matrix.*toarray") as error:
        estimator.fit(X, y)
    assert "not numbers" not in str(error.value)


def test_weights_that_zero_a_task_and_errors_at_predict():
    X = np.random.default_rng(0).standard_normal((30, 3))
    Y = X[:, :2].copy()
    weight = np.ones((30, 2))
    weight[:, 1] = 0
    with pytest.raises(ValueError, match="Task 1 of y has no observed label with a positive"):
        MultiTaskL1LqRegressor().fit(X, Y, sample_weight=weight)
    with pytest.raises(NotFittedError):
        MultiTaskL1LqRegressor().predict(X)
    model = MultiTaskL1LqRegressor(0.01).fit(X, Y)
    with pytest.raises(ValueError, match="features"):
        model.predict(X[:, :2])
    with pytest.raises(ValueError, match="NaN"):
        model.fit(np.where(X > 1, np.nan, X), Y)


def test_convergence_warning_and_verbose_fit(capsys):
    X, Y, _ = row_sparse_problem()
    with pytest.warns(ConvergenceWarning, match="max_iter=3"):
        model = MultiTaskL1LqRegressor(1e-4, max_iter=3, tol=1e-12).fit(X, Y)
    assert model.n_iter_ == 3 and model.dual_gap_ > 0
    MultiTaskL1LqClassifier(0.05, verbose=1).fit(X, Y > 1)
    assert "duality gap" in capsys.readouterr().out


def test_alpha_max_for_each_model():
    X, Y, _ = row_sparse_problem()
    assert alpha_max(MultiTaskL1LqRegressor(), X, Y) == pytest.approx(alpha_max_q2(X, Y))
    for model, target in [
        (MultiTaskL1LqRegressor(q=np.inf), Y),
        (MultiTaskL1LqClassifier(q=2), Y > 1),
        (MultiTaskL1LqClassifier(q=np.inf), Y > 1),
    ]:
        top = alpha_max(model, X, target)
        assert not clone(model).set_params(alpha=top * 1.001).fit(X, target).support_.any()
        assert clone(model).set_params(alpha=top * 0.9).fit(X, target).support_.any()
    with pytest.raises(TypeError, match="MultiTaskL1LqRegressor or MultiTaskL1LqClassifier"):
        alpha_max(MeanRegularizedMultiTaskRegressor(), X, Y)


def _assert_l1lq_kkt(W, G, alpha, q, atol):
    """Subgradient optimality of alpha * sum_j ||W_j||_q, from the definitions."""
    for w, g in zip(W, G):
        if not w.any():  # -g in the dual ball of radius alpha
            dual_norm = np.linalg.norm(g) if q == 2 else np.abs(g).sum()
            assert dual_norm <= alpha + atol
        elif q == 2:  # -g = alpha * w / ||w||
            np.testing.assert_allclose(-g, alpha * w / np.linalg.norm(w), atol=atol)
        else:  # -g supported on the maxima of |w|, with the signs of w, l1 norm alpha
            at_max = np.abs(w) > np.abs(w).max() * (1 - 1e-9)
            np.testing.assert_allclose(g[~at_max], 0, atol=atol)
            assert np.all(-g[at_max] * np.sign(w[at_max]) >= -atol)
            assert np.abs(g[at_max]).sum() == pytest.approx(alpha, abs=atol)


@pytest.mark.parametrize("q", [2, np.inf])
@pytest.mark.parametrize("kind", ["regressor", "classifier"])
def test_l1lq_solutions_satisfy_the_kkt_conditions(kind, q):
    X, Y, _ = row_sparse_problem(n=300, seed=5)
    rng = np.random.default_rng(5)
    weight = rng.uniform(0.5, 2.0, Y.shape)
    if kind == "regressor":
        model = MultiTaskL1LqRegressor(0.05, q=q, tol=1e-10)
        target = Y
    else:
        model = MultiTaskL1LqClassifier(0.01, q=q, tol=1e-10)
        target = (Y > 1.0).astype(int)
    model.fit(X, target, sample_weight=weight)
    Z = X @ model.coef_.T + model.intercept_
    residual = Z - target if kind == "regressor" else 1 / (1 + np.exp(-Z)) - target
    grad_Z = weight * residual / weight.sum(axis=0)  # each task's weighted mean loss
    np.testing.assert_allclose(grad_Z.sum(axis=0), 0, atol=1e-6)  # intercepts
    W = model.coef_.T
    assert W.any() and not W.all()
    _assert_l1lq_kkt(W, X.T @ grad_Z, model.alpha, q, atol=1e-6)


@pytest.mark.parametrize("estimator", [MultiTaskL1LqClassifier(), MultiTaskL1LqRegressor()])
def test_the_default_alpha_scales_with_the_data_and_learns(estimator):
    """alpha=1.0 used to zero every coefficient on standardised data."""
    rng = np.random.default_rng(0)
    X = StandardScaler().fit_transform(rng.standard_normal((300, 10)))
    signal = X[:, :3] @ np.array([[1.0, -1.0], [0.5, 1.0], [-1.0, 0.5]])
    y = (signal > 0).astype(int) if isinstance(estimator, MultiTaskL1LqClassifier) else signal
    model = clone(estimator).fit(X, y)
    assert model.alpha_ == pytest.approx(0.05 * alpha_max(estimator, X, y))
    assert model.support_[:3].all() and model.n_iter_ >= 1
    assert model.score(X, y) > 0.8
    at_the_top = clone(estimator).set_params(alpha=alpha_max(estimator, X, y)).fit(X, y)
    assert not at_the_top.support_.any() and at_the_top.n_iter_ == 1


def test_cross_validation_prints_its_progress(capsys):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 8))
    y = (X[:, :2] + rng.standard_normal((60, 2)) > 0).astype(int)
    MultiTaskL1LqClassifierCV(alphas=3, cv=2, verbose=1).fit(X, y)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 * 3 + 1  # a line per fold and alpha, then the refit
    assert lines[0].startswith("[MultiTaskL1LqClassifierCV] fold 1/2, alpha 1/3")
    assert lines[-1].startswith("[MultiTaskL1LqClassifierCV] refit on all rows at alpha")


def test_the_mean_regularized_solver_converges_on_columns_far_from_zero(recwarn):
    """The estimator checks' data (columns of mean 100) left FISTA unconverged after 5,000
    iterations; it solves on centred columns, whose intercepts absorb the means."""
    from sklearn.exceptions import ConvergenceWarning

    from sklearn_mtl import MeanRegularizedMultiTaskClassifier

    rng = np.random.RandomState(0)
    X = rng.normal(size=(100, 2))
    Y = np.column_stack([X[:, 0] + 0.3 * rng.normal(size=100) > 0, X[:, 1] > 0])
    shifted = MeanRegularizedMultiTaskClassifier().fit(X + 100, Y)
    assert not [w for w in recwarn if issubclass(w.category, ConvergenceWarning)]
    centred = MeanRegularizedMultiTaskClassifier().fit(X, Y)
    np.testing.assert_allclose(shifted.coef_, centred.coef_, rtol=1e-3, atol=1e-4)
    for got, expected in zip(shifted.predict_proba(X + 100), centred.predict_proba(X)):
        np.testing.assert_allclose(got, expected, atol=1e-4)


@pytest.mark.parametrize("estimator", ["linear", "network"])
def test_a_task_left_with_one_weighted_class_is_refused_by_name(estimator):
    from sklearn_mtl import MeanRegularizedMultiTaskClassifier, MMoEClassifier

    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 3))
    Y = np.column_stack([np.arange(60) % 2, rng.randint(0, 2, 60)])
    weight = np.ones((60, 2))
    weight[Y[:, 0] == 1, 0] = 0.0  # task 0 keeps class 0 only
    model = (
        MeanRegularizedMultiTaskClassifier() if estimator == "linear"
        else MMoEClassifier(2, max_epochs=1)
    )  # fmt: skip
    with pytest.raises(ValueError, match="Task 0 of y has one class only among the rows of "
                       "positive sample_weight"):  # fmt: skip
        model.fit(X, Y, sample_weight=weight)
