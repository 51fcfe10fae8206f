"""Task affinity and task grouping (sklearn_mtl.tasks) and the planted-group data set."""

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score
from sklearn.multioutput import MultiOutputRegressor

from sklearn_mtl import SharedBottomClassifier, SharedBottomRegressor
from sklearn_mtl.datasets import make_task_groups, make_task_pair
from sklearn_mtl.tasks import (
    EXHAUSTIVE_MAX_TASKS,
    ErrorMarginAffinity,
    LookaheadAffinity,
    branch_affinity,
    group_tasks,
    plot_task_affinity,
    task_affinity,
)

# --------------------------------------------------------------- make_task_groups


def test_task_groups_have_the_planted_cosines_and_group_order():
    X, Y, W = make_task_groups(200, n_groups=3, tasks_per_group=2, within_correlation=0.8,
                               between_correlation=0.1, scale=2.0, n_features=10,
                               return_weights=True, random_state=0)  # fmt: skip
    assert X.shape == (200, 10) and Y.shape == (200, 6) and W.shape == (6, 10)
    norms = np.linalg.norm(W, axis=1)
    np.testing.assert_allclose(norms, 2.0)
    cosines = W @ W.T / np.outer(norms, norms)
    group = np.arange(6) // 2  # task t is in group t // tasks_per_group
    expected = np.where(group[:, None] == group[None, :], 0.8, 0.1)
    np.fill_diagonal(expected, 1.0)
    np.testing.assert_allclose(cosines, expected, atol=1e-6)


def test_task_groups_is_the_task_pair_construction():
    X, Y, W = make_task_groups(300, n_groups=1, tasks_per_group=2, within_correlation=0.7,
                               return_weights=True, random_state=3)  # fmt: skip
    X2, Y2, W2 = make_task_pair(300, 0.7, return_weights=True, random_state=3)
    np.testing.assert_allclose(W, W2, atol=1e-9)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_allclose(Y, Y2, atol=1e-8)


def test_task_groups_correlate_within_groups_only():
    _, Y = make_task_groups(20000, n_groups=2, tasks_per_group=2, random_state=1)
    r = np.corrcoef(Y.T)
    assert r[0, 1] > 0.7 and r[2, 3] > 0.7
    assert abs(r[0, 2]) < 0.1 and abs(r[1, 3]) < 0.1


def test_task_groups_binary_and_function_seed():
    _, Y = make_task_groups(101, 2, 2, target="binary", random_state=0)
    assert set(np.unique(Y)) == {0, 1} and np.allclose(Y.mean(axis=0), 0.5, atol=0.01)
    *_, W1 = make_task_groups(10, 2, 2, function_seed=5, random_state=1, return_weights=True)
    *_, W2 = make_task_groups(10, 2, 2, function_seed=5, random_state=2, return_weights=True)
    np.testing.assert_array_equal(W1, W2)


def test_task_groups_refuse_impossible_designs():
    with pytest.raises(ValueError, match="not positive semi-definite"):
        make_task_groups(10, 2, 2, within_correlation=0.1, between_correlation=0.9)
    with pytest.raises(ValueError, match="n_features=3 must be at least the number of tasks"):
        make_task_groups(10, 2, 2, n_features=3)
    with pytest.raises(ValueError, match="'n_groups' parameter"):
        make_task_groups(10, 0, 2)


# --------------------------------------------------------------- recovery of planted groups


def _planted(seed):
    return make_task_groups(3000, n_groups=3, tasks_per_group=3, n_features=20, random_state=seed)


def _network(seed):
    return SharedBottomRegressor(bottom_units=(32,), tower_units=(8,), max_epochs=10,
                                 batch_size=512, lr=3e-3, early_stopping=False,
                                 random_state=seed)  # fmt: skip


@pytest.mark.parametrize("method", ["lookahead", "error_margin"])
def test_both_affinities_recover_planted_groups(method):
    """Within-group correlation 0.9, between 0: ARI >= 0.9 on each of 5 seeds."""
    truth = np.arange(9) // 3
    scores = []
    for seed in range(5):
        X, Y = _planted(seed)
        affinity = task_affinity(_network(seed), X, Y, method=method)
        assert affinity.shape == (9, 9) and np.isfinite(affinity).all()
        scores.append(adjusted_rand_score(truth, group_tasks(affinity)))
    assert min(scores) >= 0.9, scores


# --------------------------------------------------------------- the two measures


def _training_steps(model):
    return sum("train_loss" in b for epoch in model.net_.history for b in epoch["batches"])


def test_lookahead_leaves_the_training_run_unchanged():
    X, Y = make_task_groups(400, 2, 2, n_features=8, random_state=0)
    plain = SharedBottomRegressor(bottom_units=(8,), max_epochs=3, random_state=0).fit(X, Y)
    recorder = LookaheadAffinity()
    watched = SharedBottomRegressor(bottom_units=(8,), max_epochs=3, random_state=0,
                                    callbacks=[("lookahead", recorder)]).fit(X, Y)  # fmt: skip
    np.testing.assert_array_equal(plain.predict(X), watched.predict(X))
    fitted = dict(watched.net_.callbacks_)["lookahead"]
    assert fitted.n_steps_ == _training_steps(watched) > 0
    assert fitted.affinity_.shape == (4, 4)
    assert np.all(np.diag(fitted.affinity_) > 0)  # a step on a task lowers its own loss


def test_lookahead_every_records_fewer_steps_and_ignores_tasks_without_labels():
    X, Y = make_task_groups(300, 2, 2, n_features=8, random_state=0)
    Y = Y.astype(float)
    Y[:, 3] = np.nan
    Y[:5, 3] = 1.0  # task 3 labelled in 5 rows only: most batches have no label of it
    every = LookaheadAffinity(every=2)
    model = SharedBottomRegressor(bottom_units=(8,), max_epochs=2, batch_size=32,
                                  random_state=0, callbacks=[("la", every)]).fit(X, Y)  # fmt: skip
    fitted = dict(model.net_.callbacks_)["la"]
    assert fitted.n_steps_ == (_training_steps(model) + 1) // 2
    assert np.isfinite(fitted.affinity_[:3, :3]).all()


def test_error_margin_affinity_is_a_symmetric_agreement_rate():
    X, Y = make_task_groups(600, 2, 2, n_features=8, target="binary", random_state=0)
    Y = Y.astype(float)
    Y[::7, 1] = np.nan  # missing labels are left out of every pair
    model = SharedBottomClassifier(bottom_units=(16,), max_epochs=5, random_state=0).fit(X, Y)
    before = model.predict_proba(X)
    affinity = task_affinity(model, X, Y, method="error_margin")
    np.testing.assert_array_equal(before[0], model.predict_proba(X)[0])  # used, not refitted
    np.testing.assert_allclose(affinity, affinity.T)
    np.testing.assert_allclose(np.diag(affinity), 1.0)
    assert ((affinity >= 0) & (affinity <= 1)).all()
    # an unfitted estimator is cloned and fitted; the given one stays unfitted
    unfitted = SharedBottomRegressor(bottom_units=(8,), max_epochs=2, random_state=0)
    Xr, Yr = make_task_groups(300, 2, 2, n_features=8, random_state=0)
    assert task_affinity(unfitted, Xr, Yr, method="error_margin").shape == (4, 4)
    assert not hasattr(unfitted, "net_")


def test_an_unfitted_network_gives_the_mean_error_margin_affinity_over_its_epochs():
    """Each epoch's affinity is the one its network's margins give; the result is their mean."""
    X, Y = make_task_groups(300, 2, 2, n_features=8, random_state=0)
    Y = Y.copy()
    Y[::5, 2] = np.nan
    snapshots = []
    for epochs in (1, 2, 3):  # the same run stopped after 1, 2 and 3 epochs (epochs are seeded)
        fitted = SharedBottomRegressor(bottom_units=(8,), max_epochs=epochs, random_state=0)
        snapshots.append(task_affinity(fitted.fit(X, Y), X, Y, method="error_margin"))
    network = SharedBottomRegressor(bottom_units=(8,), max_epochs=3, random_state=0)
    recorder = ErrorMarginAffinity()
    network.set_params(callbacks=[("recorder", recorder)]).fit(X, Y)
    fitted = dict(network.net_.callbacks_)["recorder"]
    assert fitted.n_epochs_ == 3
    np.testing.assert_allclose(fitted.affinity_, np.mean(snapshots, axis=0), atol=1e-12)
    unfitted = SharedBottomRegressor(bottom_units=(8,), max_epochs=3, random_state=0)
    np.testing.assert_allclose(
        task_affinity(unfitted, X, Y, method="error_margin"), np.mean(snapshots, axis=0)
    )


def test_task_affinity_rejects_what_it_cannot_use():
    X, Y = make_task_groups(50, 1, 2, n_features=4, random_state=0)
    with pytest.raises(ValueError, match="'method' parameter"):
        task_affinity(SharedBottomRegressor(), X, Y, method="gradient")
    with pytest.raises(TypeError, match="trains one of this package's networks"):
        task_affinity(MultiOutputRegressor(None), X, Y, method="lookahead")
    with pytest.raises(TypeError, match="needs a classifier or a regressor"):
        from sklearn.cluster import KMeans

        task_affinity(KMeans(2, n_init=1).fit(X), X, Y, method="error_margin")
    with pytest.raises(ValueError, match=r"y must have shape \(n_samples, n_tasks\)"):
        task_affinity(MultiOutputRegressor(None), X, Y[:, 0], method="error_margin")


# --------------------------------------------------------------- grouping


def test_group_tasks_on_a_clear_matrix_and_with_a_fixed_count():
    A = np.array([[1, 0.9, 0.1, 0.2], [0.9, 1, 0.2, 0.1], [0.1, 0.2, 1, 0.8],
                  [0.2, 0.1, 0.8, 1]])  # fmt: skip
    np.testing.assert_array_equal(group_tasks(A), [0, 0, 1, 1])
    np.testing.assert_array_equal(group_tasks(A, 1), [0, 0, 0, 0])
    np.testing.assert_array_equal(group_tasks(A, 4), [0, 1, 2, 3])
    np.testing.assert_array_equal(group_tasks(A, linkage="min"), [0, 0, 1, 1])
    # a high cost per group merges everything; a free one never pays for a weak pair
    np.testing.assert_array_equal(group_tasks(A, group_cost=5.0), [0, 0, 0, 0])


def test_group_tasks_greedy_beyond_the_exhaustive_size():
    n = EXHAUSTIVE_MAX_TASKS + 2
    truth = np.arange(n) // 4
    rng = np.random.default_rng(0)
    A = np.where(truth[:, None] == truth[None, :], 0.9, 0.1) + rng.uniform(0, 0.05, (n, n))
    labels = group_tasks(A)  # greedy: 12 tasks have 4.2 million partitions
    assert adjusted_rand_score(truth, labels) == 1.0
    np.testing.assert_array_equal(labels, group_tasks(A, 3, search="greedy"))


def test_branch_affinity_mean_and_min():
    A = np.array([[1, 0.9, 0.1], [0.9, 1, 0.5], [0.1, 0.5, 1]])
    assert branch_affinity(A, [0, 1, 2], "min") == pytest.approx((0.1 + 0.5 + 0.1) / 3)
    assert branch_affinity(A, [0, 1, 2], "mean") == pytest.approx((0.9 + 0.1 + 0.5) / 3)
    assert branch_affinity(A, [2]) == 0.0  # a task alone gets no help


def test_group_tasks_validates_its_input():
    with pytest.raises(ValueError, match="square matrix"):
        group_tasks(np.ones((2, 3)))
    with pytest.raises(ValueError, match="n_groups=3 is more than the 2 tasks"):
        group_tasks(np.eye(2), 3)
    with pytest.raises(ValueError, match="must be finite"):
        group_tasks(np.array([[1, np.inf], [np.inf, 1]]))


def test_plot_task_affinity_orders_tasks_by_group(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    A = np.array([[1, 0.1, 0.9], [0.1, 1, 0.2], [0.9, 0.2, 1]])
    ax = plot_task_affinity(A, ["a", "b", "c"])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "c", "b"]
    ax.figure.savefig(tmp_path / "affinity.png")
    assert (tmp_path / "affinity.png").stat().st_size > 0
    with pytest.raises(ValueError, match="task_names has 2 names for 3 tasks"):
        plot_task_affinity(A, ["a", "b"])
