"""MeTaL's multi-task label model (Ratner et al., AAAI 2019), as a scikit-learn estimator.

Sources vote on items, task by task, and abstain elsewhere; no true label is
seen. Each source ``i`` is summarised by MeTaL's indicators ``psi_i`` (one per
feasible joint label ``y'``: does every vote of the source agree with
``y'``?). If sources are independent given the true joint label ``Y``, their
second moments factor through it:

``O = E[psi psi^T] = mu P mu^T`` off the diagonal blocks,

with ``mu[i*K + y', y] = P(psi_{i,y'} = 1 | Y = y)`` and ``P = diag(p)`` the
class balance over the ``K`` feasible joint labels. :class:`MultiTaskLabelModel`
completes this matrix: it finds the ``mu`` (and ``p``) whose ``mu P mu^T``
matches the observed ``O`` on the entries that the model explains (pairs of
distinct, independent sources), with the row sums of ``mu P`` matching the
diagonal of ``O`` (each indicator's rate), as MeTaL's and Snorkel's
``LabelModel`` do. A pair of sources declared dependent is left out of the
fit, since ``Y`` alone does not explain their agreement, and votes once, as
a group, in the posterior. By default each source depends on the true labels
of the tasks it votes on only (``source_model="coverage"``). The posterior is
``P(Y = y | votes) ∝ p_y prod_i mu[i*K + y'_i, y]``, ``y'_i`` a joint label
that source ``i``'s votes agree with (the mean of the logs over all of them,
which are one event; MeTaL multiplies them all, counting a source that
labels few tasks many times); joint
labels outside the task graph are never proposed, so each task's marginal
respects the graph.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from scipy.special import logsumexp
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from ..utils._sklearn import Interval, StrOptions, _fit_context
from ._completion import complete_mu, coverage_ties, fit_mask
from ._cross_moments import (
    clique_patterns,
    clique_tables,
    conditional_table,
    cross_moments,
    dependency_cliques,
    match_patterns,
    outside_columns,
    vote_events,
)
from ._label_matrix import (
    ABSTAIN,
    check_feasible,
    check_fit_size,
    check_label_matrix,
    independent_tasks,
    indicators,
)
from ._label_model_checks import (
    class_counts,
    fixed_class_balance,
    source_dependency_pairs,
    warn_unidentifiable,
)

BALANCE_ROUNDS = 50
"""Most rounds of completing ``mu`` and updating the estimated class balance."""

BALANCE_TOL = 1e-3
"""The class balance has settled when no probability moves more than this in a round."""

MU_CLIP = (0.01, 0.99)
"""The conditional probabilities' range at prediction (Snorkel's), so no vote is certain."""


class MultiTaskLabelModel(BaseEstimator):
    """Learn the accuracies of weak sources without labels and emit probabilistic labels.

    MeTaL's label model [1]_ for several tasks whose joint labels may be
    constrained (a hierarchy, a mutual exclusion): ``fit`` takes a label
    matrix alone; ``predict_proba`` gives each task's class probabilities,
    zero on every joint label the task graph rules out. With one task it is
    Snorkel's ``LabelModel``.

    Parameters
    ----------
    task_graph : array-like of shape (n_feasible, n_tasks) or None, default=None
        The feasible joint labels, one row each (see
        :func:`~sklearn_mtl.weak.hierarchy`,
        :func:`~sklearn_mtl.weak.mutually_exclusive`); ``None``: the tasks
        are independent and every combination of classes is feasible.
    cardinalities : list of int or None, default=None
        Number of classes of each task; ``None`` reads it from ``L`` (its
        largest label plus one, at least 2) or from ``task_graph``.
    source_dependencies : list of (int, int) or None, default=None
        Pairs of sources that are not independent given the true labels
        (e.g. one rule refines another). Their agreement is left out of the
        fit; each connected group of them votes as one in the posterior, by a
        table of ``P(the group's votes | Y)`` that the sources outside the
        group identify (MeTaL's junction tree over the group), so a copied
        rule is not counted twice. A group that votes in more than
        ``MAX_CLIQUE_PATTERNS`` distinct ways is refused.
    class_balance : "estimate", "uniform" or array-like of shape (n_feasible,), \
default="uniform"
        The prior over the feasible joint labels: uniform (as Snorkel's and
        MeTaL's label models assume without labelled data), given, or
        ``"estimate"``d: start uniform and alternate, completing ``mu`` under
        the prior and setting the prior to the mean posterior of the items
        with a vote, until it moves less than ``BALANCE_TOL``. Measured
        (``benchmarks/weak_supervision.py``): on one task with classes 70/30
        estimating raised the label accuracy from 0.83 to 0.91, and on
        Adult's 15 rules the Bachelors+ accuracy from 0.68 to 0.84; on a
        simulated hierarchy of three tasks (6 joint labels, uniform) it
        lowered every task's, by 0.04 at most.
    prec_init : float, default=0.7
        The precision each source starts from (Snorkel's ``prec_init``); it
        breaks the symmetry between a source and its opposite.
    l2 : float, default=0.0
        Strength of the pull of ``mu`` towards its starting point.
    max_iter : int, default=1000
        Iterations of L-BFGS.
    source_model : {"coverage", "joint"}, default="coverage"
        What a source's votes may depend on. ``"coverage"``: the true labels
        of the tasks it votes on (in ``fit``) only, so a rule for one task
        is not free to read as evidence about another task, other than
        through the task graph and the class balance; ``mu`` is tied
        accordingly. ``"joint"``: MeTaL's full ``mu``, in which every joint
        label may change every source. Measured
        (``benchmarks/weak_supervision.py``): on Adult's 15 rules,
        ``"coverage"`` labels Bachelors+ / postgraduate / income 0.680 /
        0.896 / 0.835 of the voted rows right and ``"joint"`` 0.466 / 0.916 /
        0.767; on the simulated hierarchy ``"coverage"`` is ahead on every
        task, by 0.01.

    Attributes
    ----------
    mu_ : ndarray of shape (n_sources * n_feasible, n_feasible)
        ``mu_[i * K + a, y]``: the probability that source ``i``'s votes agree
        with joint label ``a`` given the true joint label ``y``.
    class_balance_ : ndarray of shape (n_feasible,)
        The prior over ``feasible_labels_``.
    feasible_labels_ : ndarray of shape (n_feasible, n_tasks)
        The joint labels the model puts probability on.
    source_accuracies_ : ndarray of shape (n_sources, n_tasks)
        Each source's estimated accuracy on each task, ``P(vote right | it
        votes)``: from its vote table given the true label, which its
        cross-moments with the sources independent of it identify (so a
        declared dependent source does not inflate it); where they cannot,
        the posterior probability that its votes are right, averaged over the
        items it votes on in ``fit``. NaN where it never votes.
    cardinalities_ : list of int
    n_sources_ : int
    n_tasks_ : int
    n_iter_ : int
        L-BFGS iterations run.

    References
    ----------
    .. [1] A. Ratner, B. Hancock, J. Dunnmon, F. Sala, S. Pandey and C. Ré,
       "Training Complex Models with Multi-Task Weak Supervision", AAAI 2019.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mtl.weak import MultiTaskLabelModel
    >>> L = np.array([[0, 0, -1], [1, 1, 1], [0, 0, 0], [1, -1, 1], [0, 1, 0]])
    >>> model = MultiTaskLabelModel().fit(L)
    >>> model.predict(L)
    array([0, 1, 0, 1, 0])
    """

    _parameter_constraints: dict = {
        "task_graph": ["array-like", None],
        "cardinalities": ["array-like", None],
        "source_dependencies": [list, None],
        "class_balance": [StrOptions({"estimate", "uniform"}), "array-like"],
        "prec_init": [Interval(Real, 0, 1, closed="neither")],
        "l2": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "source_model": [StrOptions({"coverage", "joint"})],
    }

    def __init__(
        self,
        task_graph=None,
        *,
        cardinalities=None,
        source_dependencies=None,
        class_balance="uniform",
        prec_init=0.7,
        l2=0.0,
        max_iter=1000,
        source_model="coverage",
    ):
        self.task_graph = task_graph
        self.cardinalities = cardinalities
        self.source_dependencies = source_dependencies
        self.class_balance = class_balance
        self.prec_init = prec_init
        self.l2 = l2
        self.max_iter = max_iter
        self.source_model = source_model

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = False
        return tags

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, L, y=None):
        """Learn the sources' conditional probabilities from the label matrix ``L`` alone.

        Parameters
        ----------
        L : array-like of shape (n_items, n_sources) or (n_items, n_sources, n_tasks)
            Each source's class index per item (and task), -1 where it abstains.
        y : None
            Ignored: the label model learns without labels.

        Returns
        -------
        self : MultiTaskLabelModel
        """
        L, single = check_label_matrix(L)
        n_items, n_sources, n_tasks = L.shape
        if (L == ABSTAIN).all():
            raise ValueError(
                f"L holds no vote: all {n_sources} source(s) abstain on all {n_items} items, "
                "so there is nothing to learn from."
            )
        cardinalities = class_counts(L, self.cardinalities, self.task_graph)
        feasible = (
            independent_tasks(cardinalities)
            if self.task_graph is None
            else check_feasible(self.task_graph, cardinalities)
        )
        K = len(feasible)
        check_fit_size(n_sources, K)
        dependencies = source_dependency_pairs(self.source_dependencies, n_sources)
        warn_unidentifiable(L, dependencies)
        mask = fit_mask(n_sources, K, dependencies)
        cliques = dependency_cliques(n_sources, dependencies)
        patterns = [clique_patterns(L, members) for members in cliques]
        ties = coverage_ties(L, feasible) if self.source_model == "coverage" else None
        psi = indicators(L, feasible)
        moments = (psi.T @ psi).toarray() / n_items  # O, (m K, m K)
        fixed = fixed_class_balance(self.class_balance, K)
        balance = np.full(K, 1.0 / K) if fixed is None else fixed
        self.feasible_labels_ = feasible
        self.n_sources_ = n_sources
        self.n_iter_ = 0
        for _ in range(1 if fixed is not None else BALANCE_ROUNDS):
            # with the balance fixed, mu is a matrix completion; to estimate the balance,
            # the prior is set to the mean posterior and mu completed again, until it settles
            self.mu_, iterations = complete_mu(
                moments, mask, balance, self.prec_init, self.l2, self.max_iter, ties
            )
            self.class_balance_ = balance
            self.n_iter_ += iterations
            self._cliques = clique_tables(
                cliques, patterns, psi, self.mu_, self.class_balance_, n_sources
            )
            if fixed is not None:
                break
            voted = np.asarray(psi.sum(axis=1)).ravel() > 0
            posterior = self._joint_proba(L[voted], psi[voted]).mean(axis=0)
            converged = np.abs(posterior - balance).max() < BALANCE_TOL
            balance = np.clip(posterior, 1e-6, None) / np.clip(posterior, 1e-6, None).sum()
            if converged:
                break
        if fixed is None:  # the last round moved the balance: the tables follow it
            self.class_balance_ = balance
            self._cliques = clique_tables(
                cliques, patterns, psi, self.mu_, self.class_balance_, n_sources
            )
        self.cardinalities_ = cardinalities
        self.n_tasks_ = n_tasks
        self._single_task = single
        self.source_accuracies_ = self._accuracies(L, psi, cliques)
        return self

    def _joint_proba(self, L, psi) -> np.ndarray:
        """The posterior over the feasible joint labels.

        A source that labels some tasks only agrees with several joint labels
        at once (all that match its votes): those indicators are one event,
        so its log-likelihood is their mean, not their sum (which would count
        the source once per compatible joint label). A clique of sources
        declared dependent contributes its joint vote pattern's likelihood
        once, where the fit saw that pattern and could identify its table.
        """
        K = len(self.feasible_labels_)
        log_mu = np.log(np.clip(self.mu_, *MU_CLIP))
        scores = np.tile(np.log(self.class_balance_), (psi.shape[0], 1))
        from_clique = np.zeros((psi.shape[0], self.n_sources_), dtype=bool)
        for members, found, log_table in self._cliques:
            if log_table is None:
                continue
            codes = match_patterns(L, members, found)
            seen = codes >= 0
            scores[seen] += log_table[codes[seen]]
            from_clique[np.ix_(seen, members)] = True
        psi = psi.tocsc()
        for i in range(self.n_sources_):
            block = psi[:, i * K : (i + 1) * K]
            count = np.asarray(block.sum(axis=1)).ravel()
            voted = (count > 0) & ~from_clique[:, i]
            if voted.any():
                evidence = block[voted] @ log_mu[i * K : (i + 1) * K]
                scores[voted] += evidence / count[voted, None]
        return np.exp(scores - logsumexp(scores, axis=1, keepdims=True))

    def _accuracies(self, L, psi, cliques) -> np.ndarray:
        """Each source's accuracy per task: ``P(vote right | it votes)``.

        From the source's per-task vote table given ``Y``, identified by its
        cross-moments with the sources independent of it
        (:func:`~sklearn_mtl.weak._cross_moments.conditional_table`), which
        needs no posterior and so is not misled by dependent sources. Where
        those sources cannot identify the table, the posterior probability
        that its votes are right, averaged over the items it votes on.
        """
        K = len(self.feasible_labels_)
        clique_of = {i: members for members in cliques for i in members}
        balance = self.class_balance_
        accuracies = np.full((L.shape[1], L.shape[2]), np.nan)
        joint = None
        for t in range(L.shape[2]):
            truth = self.feasible_labels_[:, t]  # (K,)
            k = self.cardinalities_[t]
            moments, rates = cross_moments(vote_events(L, t, k), psi)  # rows i * k + class
            for i in range(L.shape[1]):
                votes = L[:, i, t]
                voted = votes != ABSTAIN
                if not voted.any():
                    continue
                outside = outside_columns(clique_of.get(i, [i]), L.shape[1], K)
                rows = slice(i * k, (i + 1) * k)
                table = conditional_table(moments[rows], rates[rows], self.mu_, balance, outside)
                total = None if table is None else (table * balance).sum()
                if total:
                    accuracies[i, t] = (table[truth, np.arange(K)] * balance).sum() / total
                    continue
                if joint is None:
                    joint = self._joint_proba(L, psi)
                accuracies[i, t] = self._marginal(joint, t)[voted, votes[voted]].mean()
        return accuracies

    def _marginal(self, joint, t: int) -> np.ndarray:
        onehot = np.eye(self.cardinalities_[t])[self.feasible_labels_[:, t]]  # (K, k_t)
        return joint @ onehot

    def _check(self, L):
        check_is_fitted(self)
        L, _ = check_label_matrix(L, self.n_sources_, self.n_tasks_)
        over = [t for t in range(L.shape[2]) if L[:, :, t].max() >= self.cardinalities_[t]]
        if over:
            raise ValueError(
                f"L holds class {int(L[:, :, over[0]].max())} on task {over[0]}, which has "
                f"{self.cardinalities_[over[0]]} classes."
            )
        return L

    def predict_joint_proba(self, L) -> np.ndarray:
        """``P(Y = feasible_labels_[k] | votes)`` of every item, shape ``(n_items, n_feasible)``."""
        L = self._check(L)
        return self._joint_proba(L, indicators(L, self.feasible_labels_))

    def predict_proba(self, L):
        """Each task's class probabilities given the votes.

        Returns
        -------
        proba : ndarray of shape (n_items, k) for one task, else a list of them
            One ``(n_items, k_t)`` array per task (scikit-learn's multi-output
            convention); an item no source votes on gets the class balance.
        """
        joint = self.predict_joint_proba(L)
        marginals = [self._marginal(joint, t) for t in range(self.n_tasks_)]
        return marginals[0] if self._single_task else marginals

    def predict(self, L) -> np.ndarray:
        """The most probable feasible joint label of each item.

        Returns
        -------
        labels : ndarray of shape (n_items,) for one task, else (n_items, n_tasks)
        """
        joint = self.predict_joint_proba(L)
        labels = self.feasible_labels_[joint.argmax(axis=1)]
        return labels[:, 0] if self._single_task else labels
