"""Task weightings: known answers, what each records, and that every method trains."""

import numpy as np
import pytest
import torch
from sklearn.model_selection import GridSearchCV, KFold

from sklearn_mtl import ESMMClassifier, MMoEClassifier, MMoERegressor, SharedBottomRegressor
from sklearn_mtl.datasets import make_click_conversion, make_task_pair
from sklearn_mtl.weighting import (
    WEIGHTINGS,
    TaskWeighting,
    min_norm_weights,
    project_conflicts,
)

FAST = {"n_experts": 3, "expert_units": (16,), "tower_units": (8,), "lr": 1e-2}


def test_two_task_mgda_weight_is_the_closed_form():
    torch.manual_seed(0)
    for _ in range(20):
        g = torch.randn(2, 7, dtype=torch.float64)
        alpha = ((g[1] - g[0]) @ g[1] / (g[0] - g[1]).square().sum()).clamp(0, 1)
        weights = min_norm_weights(g)
        torch.testing.assert_close(weights, torch.stack([alpha, 1 - alpha]))


def test_frank_wolfe_finds_the_min_norm_point_of_several_gradients():
    torch.manual_seed(1)
    g = torch.randn(4, 6, dtype=torch.float64)
    weights = min_norm_weights(g)
    assert torch.all(weights >= 0) and weights.sum().item() == pytest.approx(1.0)
    v = weights @ g
    # optimality on the simplex: no vertex is a better direction than v itself
    assert torch.all(g @ v >= v @ v - 1e-8)
    for _ in range(200):  # and no random point of the simplex has a smaller norm
        other = torch.distributions.Dirichlet(torch.ones(4, dtype=torch.float64)).sample()
        assert (other @ g).norm() >= v.norm() - 1e-9


def test_pcgrad_removes_the_conflicting_components():
    g = torch.tensor([[1.0, 0.0], [-1.0, 1.0]])  # dot product -1: they conflict
    projected = project_conflicts(g)
    assert projected[0] @ g[1] >= -1e-7 and projected[1] @ g[0] >= -1e-7
    torch.testing.assert_close(projected[0], torch.tensor([0.5, 0.5]))
    agreeing = torch.tensor([[1.0, 0.0], [1.0, 1.0]])
    torch.testing.assert_close(project_conflicts(agreeing), agreeing)  # nothing to remove


def test_uncertainty_weights_follow_the_noise_levels():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((2000, 5)).astype(np.float32)
    signal = X[:, 0] + X[:, 1]
    Y = np.column_stack([signal + 0.1 * rng.standard_normal(2000),
                         signal + 1.5 * rng.standard_normal(2000)])  # fmt: skip
    model = SharedBottomRegressor(
        bottom_units=(16,), tower_units=(8,), max_epochs=40, lr=1e-2, early_stopping=False,
        loss_weighting="uncertainty", random_state=0,
    )  # fmt: skip
    model.fit(X, Y)
    variances = 1 / model.task_weights_  # exp(s_t)
    assert variances[1] > 5 * variances[0]  # the noisy task's sigma^2 is learnt larger
    # at the optimum exp(s_t) is the task's (standardised) mean squared error; the
    # clean task's s_t is still on its way down to log(0.005) after 40 epochs
    mse = np.mean(((model.predict(X) - Y) / model.target_scale_) ** 2, axis=0)
    assert variances[1] == pytest.approx(mse[1], rel=0.2) and variances[0] < 0.1


def test_gradnorm_gives_the_slower_task_more_weight():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((2000, 5)).astype(np.float32)
    easy = X[:, 0]
    hard = np.sin(3 * X[:, 1]) * np.cos(3 * X[:, 2])  # trains far more slowly
    model = MMoERegressor(**FAST, max_epochs=15, loss_weighting="gradnorm", random_state=0)
    model.fit(X, np.column_stack([easy, hard]))
    weights = np.array(model.net_.history[:, "task_weights"])
    assert weights[-1, 1] > 1.1 * weights[-1, 0]
    np.testing.assert_allclose(weights.sum(axis=1), 2.0, rtol=1e-5)  # renormalised


@pytest.mark.parametrize("method", sorted(WEIGHTINGS))
def test_every_method_trains_and_records_its_weights(method):
    X, Y = make_task_pair(600, 0.5, n_features=8, target="binary", random_state=0)
    params = {"task_weights": [1.0, 2.0]} if method == "fixed" else {}
    model = MMoEClassifier(**FAST, max_epochs=10, loss_weighting=method, random_state=0,
                           **params).fit(X, Y)  # fmt: skip
    history = model.net_.history
    losses = np.array(history[:, "train_task_losses"])  # (epochs, tasks)
    assert losses.shape == (10, 2)
    assert np.all(losses[-1] < 0.8 * losses[0])  # clearly below the start, every task
    weights = np.array(history[:, "task_weights"])
    assert weights.shape == (10, 2) and np.all(weights >= 0)
    np.testing.assert_array_equal(model.task_weights_, weights[-1])
    if method == "fixed":
        np.testing.assert_array_equal(weights, [[1.0, 2.0]] * 10)


def test_a_user_defined_weighting_is_one_class():
    class FirstTaskOnly(TaskWeighting):
        def weights(self):
            return torch.tensor([1.0, 0.0])

    X, Y = make_task_pair(600, 0.5, n_features=8, random_state=0)
    method = FirstTaskOnly()
    model = MMoERegressor(**FAST, max_epochs=10, loss_weighting=method, random_state=0).fit(X, Y)
    losses = np.array(model.net_.history[:, "train_task_losses"])
    assert losses[-1, 0] < 0.5 * losses[0, 0]  # the weighted task learns
    assert losses[-1, 1] > 0.8 * losses[0, 1]  # the other one is ignored
    assert not hasattr(method, "n_tasks")  # the instance given was copied, not set up


def test_loss_weighting_is_a_grid_search_parameter():
    X, Y = make_task_pair(300, 0.9, n_features=6, target="binary", random_state=0)
    search = GridSearchCV(
        MMoEClassifier(**FAST, max_epochs=3, random_state=0),
        {"loss_weighting": ["equal", "uncertainty", "pcgrad"]},
        cv=KFold(2),
    ).fit(X, Y)
    assert search.best_params_["loss_weighting"] in {"equal", "uncertainty", "pcgrad"}


def test_gradient_weighting_with_a_funnel_penalty():
    X, Y = make_click_conversion(600, n_features=6, random_state=0)
    model = MMoEClassifier(**FAST, max_epochs=5, loss_weighting="mgda", funnel=(0, 1),
                           random_state=0).fit(X, Y)  # fmt: skip
    assert np.isfinite(model.net_.history[-1, "train_loss"])


@pytest.mark.parametrize(
    "params, match",
    [
        ({"loss_weighting": "fixed"}, "needs task_weights"),
        ({"loss_weighting": "fixed", "task_weights": [1.0]}, "must hold 2 non-negative"),
        ({"loss_weighting": "fixed", "task_weights": [1.0, -1.0]}, "must hold 2 non-negative"),
        ({"task_weights": [1.0, 1.0]}, "task_weights gives the weights of"),
        ({"loss_weighting": "nash"}, "The 'loss_weighting' parameter"),
    ],
)
def test_weighting_errors(params, match):
    X, Y = make_task_pair(100, 0.5, n_features=4, random_state=0)
    with pytest.raises(ValueError, match=match):
        MMoERegressor(**FAST, max_epochs=1, **params).fit(X, Y)


def test_gradient_weighting_needs_a_shared_layer():
    X, Y = make_click_conversion(200, n_features=4, random_state=0)
    with pytest.raises(ValueError, match="needs a shared layer with parameters"):
        ESMMClassifier(bottom_units=(), max_epochs=1, loss_weighting="mgda").fit(X, Y)
