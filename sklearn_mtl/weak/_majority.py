"""The majority vote of weak sources: the label model's baseline."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from ._label_matrix import ABSTAIN, check_joint_size, check_label_matrix


class MajorityVoter(BaseEstimator):
    """Each task's label by majority vote of the sources that do not abstain.

    ``predict_proba`` is each class's share of the votes; an item nobody
    votes on gets equal probabilities, and ``predict`` gives it ``-1``
    (abstain), as Snorkel's ``MajorityLabelVoter`` does for ties and empty
    votes (``tie_break="abstain"``), or the lowest tied class
    (``tie_break="lowest"``).

    Parameters
    ----------
    cardinalities : list of int or None, default=None
        Classes of each task; ``None`` reads them from ``L`` in ``fit``.
    tie_break : {"abstain", "lowest"}, default="abstain"
        What ``predict`` gives for a tie or an item without votes.

    Attributes
    ----------
    cardinalities_ : list of int
    n_sources_ : int
    n_tasks_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_mtl.weak import MajorityVoter
    >>> L = np.array([[0, 0, 1], [1, -1, 1], [-1, -1, -1]])
    >>> MajorityVoter().fit(L).predict(L)
    array([ 0,  1, -1])
    """

    _parameter_constraints: dict = {"cardinalities": ["array-like", None],
                                    "tie_break": [str]}  # fmt: skip

    def __init__(self, cardinalities=None, *, tie_break="abstain"):
        self.cardinalities = cardinalities
        self.tie_break = tie_break

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = False
        return tags

    def fit(self, L, y=None):
        """Record the label matrix's shape and classes; the vote itself learns nothing."""
        if self.tie_break not in ("abstain", "lowest"):
            raise ValueError(f"tie_break must be 'abstain' or 'lowest'; got {self.tie_break!r}.")
        L, single = check_label_matrix(L)
        seen = [max(int(L[:, :, t].max()) + 1, 2) for t in range(L.shape[2])]
        given = None if self.cardinalities is None else list(np.atleast_1d(self.cardinalities))
        short = given is not None and (
            len(given) != len(seen) or any(s > g for s, g in zip(seen, given))
        )
        if short:
            raise ValueError(f"cardinalities {given!r} do not cover the classes in L ({seen}).")
        for k in given or seen:  # a count per class and task: bounded before it is allocated
            check_joint_size([k])
        self.cardinalities_ = [int(k) for k in (given or seen)]
        self.n_sources_, self.n_tasks_ = L.shape[1], L.shape[2]
        self._single_task = single
        return self

    def _counts(self, L) -> list[np.ndarray]:
        check_is_fitted(self)
        L, _ = check_label_matrix(L, self.n_sources_, self.n_tasks_)
        counts = []
        for t, k in enumerate(self.cardinalities_):
            votes = L[:, :, t]
            if votes.max() >= k:
                raise ValueError(f"L holds class {int(votes.max())} on task {t}, which has {k}.")
            counts.append(np.stack([(votes == c).sum(axis=1) for c in range(k)], axis=1))
        return counts

    def predict_proba(self, L):
        """Each class's share of the votes (equal shares without votes), per task."""
        probas = []
        for count in self._counts(L):
            total = count.sum(axis=1, keepdims=True)
            share = np.where(total > 0, count / np.maximum(total, 1), 1.0 / count.shape[1])
            probas.append(share)
        return probas[0] if self._single_task else probas

    def predict(self, L) -> np.ndarray:
        """The majority class per task; ``-1`` for a tie or no votes (``tie_break="abstain"``)."""
        labels = []
        for count in self._counts(L):
            best = count.argmax(axis=1)
            if self.tie_break == "abstain":
                tied = (count == count.max(axis=1, keepdims=True)).sum(axis=1) > 1
                best = np.where(tied | (count.sum(axis=1) == 0), ABSTAIN, best)
            labels.append(best)
        labels = np.stack(labels, axis=1)
        return labels[:, 0] if self._single_task else labels
