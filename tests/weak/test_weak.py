"""The multi-task label model and the majority vote (sklearn_mtl.weak)."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from sklearn_mtl.datasets import make_weak_labels
from sklearn_mtl.weak import (
    LabelingFunction,
    MajorityVoter,
    MultiTaskLabelModel,
    apply_labeling_functions,
    hierarchy,
    independent_tasks,
    mutually_exclusive,
)

ACCURACIES = np.array([0.9, 0.8, 0.75, 0.7, 0.65, 0.6, 0.85, 0.55])
TOLERANCE = 0.03
"""The largest error allowed on a recovered source accuracy at 20,000 items (measured: 0.012)."""


def _voted_accuracy(predicted, truth, L):
    voted = (L != -1).any(axis=1)
    return np.mean(predicted[voted] == truth[voted])


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("balance", [[0.5, 0.5], [0.7, 0.3], [0.85, 0.15]])
def test_the_label_model_recovers_planted_source_accuracies(seed, balance):
    L, Y = make_weak_labels(20000, ACCURACIES, propensity=0.6, class_balance=balance,
                            random_state=seed)  # fmt: skip
    L, y = L[:, :, 0], Y[:, 0]  # one task, as a 2-D label matrix
    model = MultiTaskLabelModel(class_balance="estimate").fit(L)
    assert model.source_accuracies_.shape == (8, 1)
    assert np.abs(model.source_accuracies_[:, 0] - ACCURACIES).max() <= TOLERANCE
    assert model.class_balance_ == pytest.approx(balance, abs=0.07)  # measured <= 0.053
    voter = MajorityVoter(tie_break="lowest").fit(L)
    assert _voted_accuracy(model.predict(L), y, L) > _voted_accuracy(voter.predict(L), y, L)


def test_probabilistic_labels_are_distributions_of_the_right_shapes():
    L, _ = make_weak_labels(500, ACCURACIES[:4], random_state=0)
    model = MultiTaskLabelModel().fit(L[:, :, 0])
    proba = model.predict_proba(L[:, :, 0])
    assert proba.shape == (500, 2) and np.allclose(proba.sum(axis=1), 1)
    assert ((proba >= 0) & (proba <= 1)).all()
    assert model.predict(L[:, :, 0]).shape == (500,)
    nobody = np.full((1, 4), -1)  # no vote: the class balance
    np.testing.assert_allclose(model.predict_proba(nobody)[0], model.class_balance_)
    three_d = MultiTaskLabelModel().fit(L)  # (n, m, 1): the multi-output shapes
    assert isinstance(three_d.predict_proba(L), list) and three_d.predict(L).shape == (500, 1)


def test_a_hierarchy_is_respected_and_the_model_beats_the_vote():
    """Degree (task 0) ⊃ postgraduate (task 1); income (task 2) independent."""
    graph = hierarchy([(1, 0)], 3)
    assert len(graph) == 6 and not ((graph[:, 1] == 1) & (graph[:, 0] == 0)).any()
    accuracies = np.array([[0.85, 0.8, 0.75], [0.7, 0.7, 0.7], [0.8, 0.65, 0.8],
                           [0.75, 0.85, 0.6], [0.65, 0.75, 0.85]])  # fmt: skip
    coverage = [[0, 1, 2], [0, 2], [1], [0, 1], [1, 2]]
    L, Y = make_weak_labels(20000, accuracies, propensity=0.7, coverage=coverage,
                            task_graph=graph, random_state=1)  # fmt: skip
    model = MultiTaskLabelModel(task_graph=graph).fit(L)
    covered = np.array([[t in c for t in range(3)] for c in coverage])
    assert np.isnan(model.source_accuracies_[~covered]).all()
    assert np.abs(model.source_accuracies_ - accuracies)[covered].max() <= 0.03  # measured 0.015
    degree, postgraduate, income = model.predict_proba(L)
    assert (postgraduate[:, 1] <= degree[:, 1] + 1e-12).all()  # never more likely than its parent
    predicted = model.predict(L)
    assert not ((predicted[:, 1] == 1) & (predicted[:, 0] == 0)).any()
    ours = np.mean([np.mean(predicted[:, t] == Y[:, t]) for t in range(3)])
    voted = MajorityVoter(tie_break="lowest").fit(L).predict(L)
    theirs = np.mean([np.mean(voted[:, t] == Y[:, t]) for t in range(3)])
    assert ours > theirs + 0.02  # measured 0.838 against 0.799


def test_a_source_depends_on_the_tasks_it_votes_on_only_by_default():
    """``source_model="coverage"`` ties mu; ``"joint"`` is MeTaL's full mu (and less accurate)."""
    graph = hierarchy([(1, 0)], 3)
    accuracies = np.array([[0.85, 0.8, 0.75], [0.7, 0.7, 0.7], [0.8, 0.65, 0.8],
                           [0.75, 0.85, 0.6], [0.65, 0.75, 0.85]])  # fmt: skip
    coverage = [[0, 1, 2], [0, 2], [1], [0, 1], [1, 2]]
    L, Y = make_weak_labels(20000, accuracies, propensity=0.7, coverage=coverage,
                            task_graph=graph, random_state=0)  # fmt: skip
    scores = {}
    for source_model in ("coverage", "joint"):
        model = MultiTaskLabelModel(task_graph=graph, source_model=source_model).fit(L)
        predicted = model.predict(L)
        scores[source_model] = np.mean([np.mean(predicted[:, t] == Y[:, t]) for t in range(3)])
        block = model.mu_[2 * 6 : 3 * 6]  # source 2 votes on postgraduate (task 1) only
        spread = max(np.ptp(block[np.ix_(graph[:, 1] == a, graph[:, 1] == b)])
                     for a in (0, 1) for b in (0, 1))  # fmt: skip
        if source_model == "coverage":  # one value per (its vote, true postgraduate)
            assert spread < 1e-12
        else:
            assert spread > 1e-3
    assert scores["coverage"] > scores["joint"] + 0.004  # measured 0.837 against 0.829


def test_declaring_a_dependent_pair_keeps_it_from_fooling_the_model():
    """Source 5 copies source 0 (accuracy 0.6) on 90% of items: alone it looks 0.98-accurate."""
    accuracies = np.array([0.6, 0.85, 0.8, 0.75, 0.7, 0.65])
    L, Y = make_weak_labels(20000, accuracies, propensity=0.6, copies=[(0, 5, 0.9)],
                            random_state=0)  # fmt: skip
    voted = L[:, :, 0] != -1
    truth = [np.mean(L[voted[:, i], i, 0] == Y[voted[:, i], 0]) for i in range(6)]
    naive = MultiTaskLabelModel().fit(L)
    declared = MultiTaskLabelModel(source_dependencies=[(0, 5)]).fit(L)
    assert np.abs(naive.source_accuracies_[:, 0] - truth).max() > 0.2  # measured 0.38
    assert np.abs(declared.source_accuracies_[:, 0] - truth).max() < 0.02  # measured 0.007
    any_vote = voted.any(axis=1)
    label_accuracy = [
        np.mean(m.predict(L)[any_vote, 0] == Y[any_vote, 0]) for m in (naive, declared)
    ]
    assert label_accuracy[1] > label_accuracy[0] + 0.1  # measured 0.836 against 0.696
    # the pair's joint votes are read once: as if the copy were not there at all
    alone = MultiTaskLabelModel().fit(L[:, :5]).predict(L[:, :5])
    assert abs(label_accuracy[1] - np.mean(alone[any_vote, 0] == Y[any_vote, 0])) < 0.005


def test_dependent_cliques_at_the_edges():
    """A clique with no source outside it, a vote pattern unseen in fit, too many patterns."""
    L = make_weak_labels(3000, [0.8, 0.7, 0.75, 0.85], propensity=0.7, random_state=1)[0][:, :, 0]
    with pytest.warns(UserWarning, match="voted on by 1 conditionally independent source"):
        lonely = MultiTaskLabelModel(source_dependencies=[(0, 1)]).fit(L[:, :2])
    assert np.isfinite(lonely.source_accuracies_).all()  # read off the posterior instead
    model = MultiTaskLabelModel(source_dependencies=[(0, 1)]).fit(L)
    unseen = np.array([[1, 0, -1, -1]])  # a pattern of the pair that fit may not have seen
    fit_only_agreeing = MultiTaskLabelModel(source_dependencies=[(0, 1)]).fit(
        L[(L[:, 0] == L[:, 1]) | (L[:, :2] == -1).any(axis=1)]
    )
    for fitted in (model, fit_only_agreeing):
        proba = fitted.predict_proba(unseen)
        assert proba.shape == (1, 2) and np.allclose(proba.sum(axis=1), 1)
        assert proba[0, 1] > 0.5  # the more accurate source of the pair wins
    rng = np.random.default_rng(0)
    many = rng.integers(-1, 3, size=(20000, 8, 1))  # 8 sources of 3 classes: 4^8 patterns
    with pytest.raises(ValueError, match="source_dependencies.*distinct ways"):
        with pytest.warns(UserWarning, match="voted on by 2 conditionally independent"):
            MultiTaskLabelModel(source_dependencies=[(i, i + 1) for i in range(6)]).fit(many)


def test_task_graph_helpers():
    np.testing.assert_array_equal(independent_tasks([2, 3])[:4], [[0, 0], [0, 1], [0, 2], [1, 0]])
    np.testing.assert_array_equal(mutually_exclusive(3), [[0, 0, 0], [0, 0, 1], [0, 1, 0],
                                                          [1, 0, 0]])  # fmt: skip
    with pytest.raises(ValueError, match=r"implication \(3, 0\) names a task outside 0..2"):
        hierarchy([(3, 0)], 3)


@pytest.mark.parametrize(
    "L, message",
    [
        (np.array([[0.5, 1.0]]), "class indices"),
        (np.array([[np.nan, 1.0]]), "NaN or inf"),
        (np.array([[0, -2]]), "labels are 0, 1, ... and -1 abstains"),
        (np.zeros(3, dtype=int), r"shape \(n_items, n_sources\)"),
        (np.zeros((0, 3), dtype=int), "at least one item"),
        (np.array([["a", "b"]]), "must hold integers"),
    ],
)
def test_bad_label_matrices_are_refused_by_name(L, message):
    with pytest.raises(ValueError, match=message):
        MultiTaskLabelModel().fit(L)
    with pytest.raises(ValueError, match=message):
        MajorityVoter().fit(L)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"task_graph": [[0], [0]]}, "lists a joint label twice"),
        ({"task_graph": [[0, 1]]}, "at least 2 feasible joint labels"),
        ({"task_graph": [[0], [5]], "cardinalities": [2]}, "outside a task's classes"),
        ({"cardinalities": [1]}, "at least 2 classes"),
        ({"cardinalities": [2, 2]}, "each of the 1 task"),
        ({"class_balance": [0.2, 0.2]}, "summing to 1"),
        ({"source_dependencies": [(0, 0)]}, "two different sources"),
        ({"source_model": "tree"}, "source_model"),
        ({"source_dependencies": [(0, 9)]}, "two different sources"),
        ({"source_dependencies": ["ab"]}, "pairs of source indices"),
        ({"class_balance": "learn"}, "'class_balance' parameter"),
    ],
)
def test_bad_parameters_are_refused_by_name(params, message):
    L = np.array([[0, 1, 1], [1, 1, 0], [0, 0, -1]])
    model = MultiTaskLabelModel(**params)
    with pytest.raises(ValueError, match=message):
        model.fit(L)
    assert not hasattr(model, "mu_")


def test_a_stray_huge_label_is_refused_before_it_sizes_an_allocation():
    L = np.array([[0, 1, 10**9], [1, 1, 0]])
    with pytest.raises(ValueError, match="more than 4096 joint labels"):
        MultiTaskLabelModel().fit(L)
    with pytest.raises(ValueError, match="more than 4096 joint labels"):
        MultiTaskLabelModel(task_graph=[[0], [1]]).fit(L)  # a task graph does not bound L
    with pytest.raises(ValueError, match="more than 4096 joint labels"):
        MajorityVoter().fit(L)
    many = np.zeros((2, 2, 13), dtype=int)  # 13 independent binary tasks: 8192 joint labels
    with pytest.raises(ValueError, match="need a task_graph"):
        MultiTaskLabelModel().fit(many)


def test_prediction_checks_the_matrix_against_the_fit():
    L = np.array([[0, 1, 1], [1, 1, 0], [0, 0, -1]])
    with pytest.raises(NotFittedError):
        MultiTaskLabelModel().predict(L)
    model = MultiTaskLabelModel().fit(L)
    with pytest.raises(ValueError, match="L has 2 sources; the model was fitted with 3"):
        model.predict(L[:, :2])
    with pytest.raises(ValueError, match="class 2 on task 0, which has 2 classes"):
        model.predict(np.array([[2, 0, 0]]))
    assert clone(model).get_params() == model.get_params()


def test_the_majority_vote():
    L = np.array([[0, 0, 1], [1, -1, 1], [-1, -1, -1], [0, 1, -1]])
    voter = MajorityVoter().fit(L)
    np.testing.assert_array_equal(voter.predict(L), [0, 1, -1, -1])  # a tie and no vote abstain
    np.testing.assert_array_equal(MajorityVoter(tie_break="lowest").fit(L).predict(L),
                                  [0, 1, 0, 0])  # fmt: skip
    np.testing.assert_allclose(voter.predict_proba(L), [[2 / 3, 1 / 3], [0, 1], [0.5, 0.5],
                                                        [0.5, 0.5]])  # fmt: skip
    with pytest.raises(ValueError, match="tie_break must be 'abstain' or 'lowest'"):
        MajorityVoter(tie_break="random").fit(L)


def test_make_weak_labels_votes_on_given_true_labels():
    Y = np.array([[0, 1], [1, 1], [1, 0]] * 400)
    L, returned = make_weak_labels(len(Y), [1.0, 1.0, 0.0], propensity=1.0, true_labels=Y,
                                   random_state=0)  # fmt: skip
    np.testing.assert_array_equal(returned, Y)
    np.testing.assert_array_equal(L[:, 0], Y)  # a perfect source repeats them
    assert (L[:, 2] != Y).all()  # an always-wrong binary source flips them
    graph = hierarchy([(1, 0)], 2)
    with pytest.raises(ValueError, match="rows of feasible joint labels"):
        make_weak_labels(len(Y), [0.9], task_graph=graph, true_labels=Y)  # (0, 1) is infeasible


# ------------------------------------------------------------ labelling functions


def _frame():
    import pandas as pd

    return pd.DataFrame({"hours": [50, 20, 40, 60, np.nan], "age": [30, 60, 45, 70, 20],
                         "job": ["a", "b", "a", "c", "b"]})  # fmt: skip


def test_labeling_functions_make_a_label_matrix():
    from sklearn_mtl.weak import LabelingFunction, apply_labeling_functions

    functions = [
        LabelingFunction("long hours", query="hours > 45", label=1),  # NaN hours: abstain
        LabelingFunction("retired", lambda row: 0 if row["age"] > 55 else -1),
        LabelingFunction(
            "job a", lambda frame: np.where(frame["job"] == "a", 1, -1), vectorized=True, task=1
        ),  # fmt: skip
    ]
    L = apply_labeling_functions(_frame(), functions)
    assert L.shape == (5, 3, 2)
    np.testing.assert_array_equal(L[:, 0, 0], [1, -1, -1, 1, -1])
    np.testing.assert_array_equal(L[:, 1, 0], [-1, 0, -1, 0, -1])
    np.testing.assert_array_equal(L[:, 2, 1], [1, -1, 1, -1, -1])
    assert (L[:, 2, 0] == -1).all() and (L[:, :2, 1] == -1).all()  # each labels its task only
    assert apply_labeling_functions(_frame(), functions[:2]).shape == (5, 2)  # one task: 2-D


def test_labeling_functions_refuse_bad_rules_by_name():
    from sklearn_mtl.weak import LabelingFunction, apply_labeling_functions

    with pytest.raises(ValueError, match="'x' needs exactly one of function and query"):
        LabelingFunction("x")
    with pytest.raises(ValueError, match="names must differ; \\['x'\\] appear twice"):
        apply_labeling_functions(_frame(), [LabelingFunction("x", query="age > 1")] * 2)
    with pytest.raises(ValueError, match="'bad' returned -3"):
        apply_labeling_functions(_frame(), [LabelingFunction("bad", lambda row: -3)])
    with pytest.raises(ValueError, match="'text' returned values such as 'yes'; it must return"):
        apply_labeling_functions(_frame(), [LabelingFunction("text", lambda row: "yes")])
    with pytest.raises(TypeError, match="X must be a pandas DataFrame"):
        apply_labeling_functions(np.zeros((2, 2)), [LabelingFunction("x", query="a > 1")])


def test_label_matrix_summary_counts_coverage_overlaps_conflicts_and_accuracy():
    from sklearn_mtl.weak import label_matrix_summary

    L = np.array([[1, 1, -1], [1, 0, -1], [-1, 0, 0], [-1, -1, -1]])
    summary = label_matrix_summary(L, names=["a", "b", "c"], y=[1, 1, 0, 0])
    a, b, c = (summary.set_index("source").loc[name] for name in "abc")
    assert (a.coverage, a.overlaps, a.conflicts) == (0.5, 0.5, 0.25)
    assert (b.coverage, b.overlaps, b.conflicts) == (0.75, 0.75, 0.25)
    assert b.polarity == [0, 1] and (b.correct, b.incorrect) == (2, 1)
    assert a.accuracy == 1.0 and c.accuracy == 1.0
    with pytest.raises(ValueError, match="names has 2 names for 3 sources"):
        label_matrix_summary(L, names=["a", "b"])


# ------------------------------------------------------------ networks on soft labels


@pytest.fixture(scope="module")
def soft_labels():
    from sklearn_mtl.datasets import make_task_pair

    X, Y = make_task_pair(1500, correlation=0.8, n_features=8, target="binary", random_state=0)
    L, _ = make_weak_labels(len(Y), [0.85, 0.8, 0.75, 0.7, 0.65], propensity=0.6,
                            true_labels=Y, random_state=0)  # fmt: skip
    soft = np.column_stack([p[:, 1] for p in MultiTaskLabelModel().fit(L).predict_proba(L)])
    soft[~(L != -1).any(axis=1)] = np.nan  # rows without a vote: missing labels
    return X, Y, soft


def _classifiers():
    from tests._settings import CLASSIFIERS

    return [e for e in CLASSIFIERS if type(e).__name__ != "MultiTaskNet"]


@pytest.mark.parametrize("estimator", _classifiers(), ids=lambda e: type(e).__name__)
def test_every_classifier_trains_on_probabilistic_labels(estimator, soft_labels, tmp_path):
    from sklearn_mtl import load, save

    X, Y, soft = soft_labels
    assert np.isnan(soft).any() and ((soft > 0) & (soft < 1)).any()
    model = clone(estimator).set_params(random_state=0).fit(X, soft)
    assert [c.tolist() for c in model.classes_] == [[0, 1], [0, 1]]
    probas = model.predict_proba(X)
    assert all(p.shape == (1500, 2) and ((p >= 0) & (p <= 1)).all() for p in probas)
    gold = np.mean(model.predict(X) == Y)
    assert gold > 0.6  # both tasks learnt from the soft labels (chance is 0.5)
    assert model.score(X, soft) == pytest.approx(
        model.score(X, np.where(np.isnan(soft), np.nan, (soft > 0.5).astype(float)))
    )
    save(model, tmp_path / "m.mtl")
    np.testing.assert_array_equal(load(tmp_path / "m.mtl").predict_proba(X)[0], probas[0])
    model.partial_fit(X, soft)  # later batches may be soft as well


def test_soft_labels_pass_through_a_grid_search(soft_labels):
    from sklearn.model_selection import GridSearchCV, KFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from sklearn_mtl import SharedBottomClassifier

    X, _, soft = soft_labels
    pipeline = make_pipeline(StandardScaler(), SharedBottomClassifier(bottom_units=(8,),
                                                                      max_epochs=2))  # fmt: skip
    # with missing (NaN) labels scikit-learn cannot stratify: the folds are a KFold
    search = GridSearchCV(pipeline, {"sharedbottomclassifier__lr": [1e-3, 1e-2]}, cv=KFold(2))
    search.fit(X, soft)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


# ------------------------------------------------ hostile label matrices (issue 29)


def _stray(vote: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    L = rng.integers(-1, 2, size=(300, 3))
    L[7, 1] = vote
    return L


def test_a_stray_label_is_refused_before_it_sizes_the_model():
    """The audit: one vote of 1000 in a 300 x 3 matrix fitted for 118 s and 2 GB into a
    silent 1,001-class model; 4000 reached 21 GB."""
    with pytest.raises(ValueError, match=r"run up to class 1000, but only 3 of those 1001"):
        MultiTaskLabelModel().fit(_stray(1000))
    with pytest.raises(ValueError, match="cardinalities="):
        MultiTaskLabelModel().fit(_stray(4000))


def test_declared_classes_that_would_take_minutes_are_refused():
    with pytest.raises(ValueError, match=r"3 sources over 1001 joint labels .* an iteration"):
        MultiTaskLabelModel(cardinalities=[1001]).fit(_stray(1000))


def test_a_class_no_source_votes_for_is_fine_when_declared():
    L = _stray(2)  # classes 0, 1, 2: all voted
    assert MultiTaskLabelModel().fit(L).cardinalities_ == [3]
    L = _stray(3)
    L[L == 2] = 1  # class 2 never voted, class 3 once
    with pytest.raises(ValueError, match="only 3 of those 4 classes"):
        MultiTaskLabelModel().fit(L)
    assert MultiTaskLabelModel(cardinalities=[4]).fit(L).predict_proba(L).shape == (300, 4)


def test_a_source_voting_one_class_only_keeps_two_classes():
    L = np.where(np.random.default_rng(0).random((200, 3)) < 0.5, 1, -1)
    L[0] = 0  # a third source votes both
    assert MultiTaskLabelModel().fit(L).cardinalities_ == [2]


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_an_unsigned_label_matrix_is_refused(dtype):
    """-1 in uint8 is 255: the audit got a silent 256-class model."""
    L = np.array([[0, 1, -1], [1, -1, 1]]).astype(dtype)
    with pytest.raises(ValueError, match=f"dtype {np.dtype(dtype)}, which cannot hold -1"):
        MultiTaskLabelModel().fit(L)


def test_an_all_abstain_matrix_is_refused():
    with pytest.raises(ValueError, match="L holds no vote: all 3 source"):
        MultiTaskLabelModel().fit(np.full((50, 3), -1))


@pytest.mark.parametrize("n_sources", [1, 2])
def test_accuracies_that_cannot_be_identified_are_flagged(n_sources):
    """One source: 0.85 whether it was planted at 0.6 or 0.95; two at 0.6 and 0.95: 0.685
    and 0.689. The method needs three conditionally independent sources."""
    L = make_weak_labels(2000, [0.6, 0.95, 0.8][:n_sources], random_state=0)[0][:, :, 0]
    message = f"Task 0 of L is voted on by {n_sources} conditionally independent source"
    with pytest.warns(UserWarning, match=message):
        MultiTaskLabelModel().fit(L)


def test_three_sources_two_of_them_dependent_are_flagged_too():
    L = make_weak_labels(2000, [0.6, 0.95, 0.8], random_state=0)[0][:, :, 0]
    with pytest.warns(UserWarning, match=r"voted on by 2 conditionally independent.*0, 1, 2"):
        MultiTaskLabelModel(source_dependencies=[(0, 1)]).fit(L)


def test_three_independent_sources_raise_no_warning(recwarn):
    L = make_weak_labels(2000, [0.6, 0.95, 0.8], random_state=0)[0][:, :, 0]
    MultiTaskLabelModel().fit(L)
    assert not [w for w in recwarn if "conditionally independent" in str(w.message)]


# ------------------------------------------------ labelling functions that vote wrong


FRAME = pd.DataFrame({"hours": [50, 20, 40, 60], "age": [30, 60, 45, 25]}, index=[10, 11, 12, 13])


def test_a_series_in_another_order_is_read_by_index():
    def by_age(frame):  # sorts: the Series comes back in another order
        votes = pd.Series(np.where(frame["age"] > 40, 0, 1), index=frame.index)
        return votes.sort_values()

    votes = LabelingFunction("by age", by_age, vectorized=True)(FRAME)
    np.testing.assert_array_equal(votes, [1, 0, 0, 1])


def test_a_series_of_other_rows_is_refused():
    wrong = LabelingFunction("wrong rows", lambda f: pd.Series([1, 1, 1, 1]), vectorized=True)
    with pytest.raises(ValueError, match="'wrong rows' returned a Series whose index"):
        wrong(FRAME)


@pytest.mark.parametrize(
    "votes, message",
    [
        (np.array([0.9, 1.0, -1.0, 0.0]), "returned 0.9, which is not a class index"),
        (np.array([1.0, np.nan, -1.0, 0.0]), "returned nan, which is not a class index"),
        (np.array([True, False, True, True]), "returned True/False"),
        (np.array([1, 0, 255, 0], dtype=np.uint8), "returned uint8 votes, which cannot hold -1"),
        (np.array(["a", "b", "a", "b"], dtype=object), "returned values such as 'a'"),
    ],
    ids=["fraction", "nan", "bool", "uint8", "strings"],
)
def test_votes_that_are_not_class_indices_are_refused(votes, message):
    function = LabelingFunction("rule", lambda frame: votes, vectorized=True)
    with pytest.raises(ValueError, match=f"LabelingFunction 'rule' {message}"):
        function(FRAME)


def test_whole_floats_are_votes():
    function = LabelingFunction("rule", lambda f: np.array([1.0, -1.0, 0.0, 1.0]), vectorized=True)
    np.testing.assert_array_equal(function(FRAME), [1, -1, 0, 1])


def test_a_query_that_is_not_a_condition_is_refused():
    """The audit: query="hours - 40" counted every non-zero row as a vote."""
    with pytest.raises(ValueError, match=r"'long hours': query 'hours - 40' gives int64 values"):
        LabelingFunction("long hours", query="hours - 40")(FRAME)
    votes = LabelingFunction("long hours", query="hours > 40")(FRAME)
    np.testing.assert_array_equal(votes, [1, -1, -1, 1])


def test_an_error_inside_a_labelling_function_names_it():
    row_rule = LabelingFunction("senior", lambda row: 1 if row["salary"] > 5 else -1)
    with pytest.raises(KeyError, match="LabelingFunction 'senior' raised KeyError\\('salary'\\)"):
        apply_labeling_functions(FRAME, [row_rule])
    query_rule = LabelingFunction("rich", query="salary > 5")
    with pytest.raises(Exception, match="LabelingFunction 'rich' raised"):
        apply_labeling_functions(FRAME, [query_rule])


# ------------------------------------------------ saving a label model without pickle


@pytest.mark.parametrize(
    "settings",
    [{}, {"source_dependencies": [(0, 1)], "class_balance": "estimate"},
     {"task_graph": "hierarchy", "source_model": "joint"}],
    ids=["plain", "dependent, estimated balance", "hierarchy"],
)  # fmt: skip
def test_a_label_model_saves_and_loads_with_its_posterior(tmp_path, settings):
    """save(MultiTaskLabelModel) used to be refused, so the label model could only be pickled."""
    from sklearn_mtl import load, save

    settings = dict(settings)
    graph = None
    if settings.get("task_graph") == "hierarchy":
        graph = settings["task_graph"] = hierarchy([(1, 0)], 2)
    L, _ = make_weak_labels(1500, [0.8, 0.7, 0.75, 0.85], task_graph=graph, random_state=0)
    L = L if graph is not None else L[:, :, 0]
    model = MultiTaskLabelModel(**settings).fit(L)
    save(model, tmp_path / "labels.mtl")
    loaded = load(tmp_path / "labels.mtl")
    assert type(loaded) is MultiTaskLabelModel
    np.testing.assert_array_equal(loaded.predict_joint_proba(L), model.predict_joint_proba(L))
    np.testing.assert_array_equal(loaded.source_accuracies_, model.source_accuracies_)


def _tampered_label_model(tmp_path, change):
    import json
    import zipfile

    from sklearn_mtl import save

    L = make_weak_labels(500, [0.8, 0.7, 0.75, 0.85], random_state=0)[0][:, :, 0]
    save(MultiTaskLabelModel(source_dependencies=[(0, 1)]).fit(L), tmp_path / "m.mtl")
    with zipfile.ZipFile(tmp_path / "m.mtl") as archive:
        metadata = json.loads(archive.read("metadata.json"))
    change(metadata)
    with zipfile.ZipFile(tmp_path / "m.mtl", "w") as archive:
        archive.writestr("metadata.json", json.dumps(metadata))
    return tmp_path / "m.mtl"


def _set(path, value):
    def change(metadata):
        target = metadata
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


@pytest.mark.parametrize(
    "change, message",
    [
        (_set(["state", "n_sources_"], 7), "mu_ must be a float array of shape"),
        (_set(["state", "mu_", "data", 0], 3.5), "mu_ must hold probabilities"),
        (_set(["state", "class_balance_", "data"], [0.9, 0.9]), "class_balance_ must be positive"),
        (_set(["state", "cardinalities_"], [2**20]), "cardinalities_ must list 1 class count"),
        (_set(["state", "_cliques"], []), "source_dependencies do not give its cliques"),
        (_set(["params", "source_dependencies"], [[0, 9]]), "must name two different sources"),
        (_set(["state", "__class__"], 1), "its state must set exactly"),
    ],
    ids=["sources", "mu", "balance", "classes", "cliques", "dependencies", "extra attribute"],
)
def test_a_crafted_label_model_file_is_refused(tmp_path, change, message):
    from sklearn_mtl import load
    from sklearn_mtl.persistence import ModelFileError

    with pytest.raises(ModelFileError, match=message):
        load(_tampered_label_model(tmp_path, change))
