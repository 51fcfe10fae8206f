"""``n_ensemble``: the BatchEnsemble members of an architecture, and ``"auto"``'s rule.

MMoE, OMoE, PLE and Shared-Bottom take ``n_ensemble``, an int or ``"auto"``.
``"auto"`` is decided by each fit from its training rows that hold a label of
at least one task (a row without any label trains nothing), passed to
``build`` as a build argument, and kept as the fitted attribute
``n_ensemble_`` so that a loaded file is rebuilt with the members it was
trained with. ``benchmarks/defaults.py`` measures the rule
(``benchmarks/results/defaults-n-ensemble.md``, ``defaults-auto.md``).
"""

from __future__ import annotations

from numbers import Integral

from ..utils._sklearn import Interval, StrOptions

__all__ = [
    "AUTO_MEMBERS",
    "ENSEMBLE_CONSTRAINT",
    "ENSEMBLE_MIN_SAMPLES",
    "EnsembleMembers",
    "ensemble_members",
]

AUTO_MEMBERS = 4
"""Members that ``n_ensemble="auto"`` trains on a large enough fit."""

ENSEMBLE_MIN_SAMPLES = 5000
"""``n_ensemble="auto"`` trains :data:`AUTO_MEMBERS` members from this many training rows
with a label on, one network below: on the defaults benchmark's sets of 300 and 1,000 training rows
the 4-member MMoE lost 7 of 8 tasks to one network, on its sets of 6,940 rows and more
it won 26 of 29 (3 seeds). Any threshold between the two sizes gives that benchmark
the same result; 5,000 is a round number between them."""

ENSEMBLE_CONSTRAINT = [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})]
"""``n_ensemble``: a number of members, or ``"auto"``."""


def ensemble_members(setting, n_samples: int | None, partial: bool = False) -> int:
    """The members a fit on ``n_samples`` labelled rows trains for ``n_ensemble=setting``.

    ``"auto"`` gives :data:`AUTO_MEMBERS` from :data:`ENSEMBLE_MIN_SAMPLES` rows
    on and 1 below, and 1 for ``partial_fit``, whose first batch does not tell
    how much data will follow, and where the rows are unknown (``None``).
    """
    if setting != "auto":
        return setting  # checked by the parameter's constraint, or by ``build``
    if partial or n_samples is None:
        return 1
    return AUTO_MEMBERS if n_samples >= ENSEMBLE_MIN_SAMPLES else 1


def _checked_members(value, name: str = "n_ensemble_") -> int:
    if not isinstance(value, Integral) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive int; got {value!r}.")
    return int(value)


class EnsembleMembers:
    """What an architecture with ``n_ensemble`` adds to :class:`Architecture`.

    ``build`` takes the members this fit decided (``n_ensemble``, a build
    argument), the fitted attribute ``n_ensemble_`` records them, and a loaded
    file is rebuilt with them.
    """

    def fit_build_arguments(self, n_samples: int, partial: bool) -> dict:
        return {"n_ensemble": ensemble_members(self.n_ensemble, n_samples, partial)}

    def fitted_build_arguments(self, estimator) -> dict:
        """The fitted members, ``n_ensemble_``: a positive int, equal to ``n_ensemble``
        unless that is ``"auto"`` (a file of before ``"auto"`` lacks it: the parameter's int)."""
        members = getattr(estimator, "n_ensemble_", None)
        if members is None and self.n_ensemble == "auto":
            raise ValueError("n_ensemble='auto', but the fitted members n_ensemble_ are missing.")
        if members is None:
            return {}
        members = _checked_members(members)
        if self.n_ensemble != "auto" and members != self.n_ensemble:
            raise ValueError(
                f"n_ensemble_ is {members}, but n_ensemble={self.n_ensemble!r}: "
                "the fitted members must be the parameter's."
            )
        return {"n_ensemble": members}

    def fitted_attributes(self, module) -> dict:
        return {**super().fitted_attributes(module), "n_ensemble_": module.n_ensemble}

    def build(self, in_features, head_sizes, *, activation, dropout, n_ensemble=None):
        """The module; ``n_ensemble`` (the fit's or the file's members) overrides the parameter.

        Without it, ``"auto"`` builds one network, as for data of unknown size.
        """
        self._validate_params()
        params = self.module_parameters()
        members = ensemble_members(params["n_ensemble"] if n_ensemble is None else n_ensemble, None)
        params["n_ensemble"] = _checked_members(members, "n_ensemble")
        return self.module(
            in_features, head_sizes, **params, activation=activation, dropout=dropout
        )
