"""Fast settings of every public estimator, which the tests find in the package's registry.

``FAST_SETTINGS`` maps a public estimator's name to the parameter sets the
shared tests run it with; an estimator without an entry (a new architecture's)
runs once with ``TRAINING_FAST`` (its own defaults, trained briefly), so none
escapes scikit-learn's checks (every class in ``sklearn_mtl.__all__`` is run)
and a new architecture needs no line here.
"""

import numpy as np
from sklearn.base import BaseEstimator, is_classifier

import sklearn_mtl
from sklearn_mtl import ESMMClassifier, MultiTaskNet
from sklearn_mtl.architectures import MMoE
from sklearn_mtl.base import BaseMultiTaskNet, MultiTaskClassifier, MultiTaskRegressor
from sklearn_mtl.datasets import make_click_conversion, make_task_pair

FAST = {"max_epochs": 5, "batch_size": 64, "lr": 3e-2, "tower_units": (8,)}
TRAINING_FAST = {key: value for key, value in FAST.items() if key != "tower_units"}
MOE_FAST = {**FAST, "n_experts": 3, "expert_units": (16,)}
SHARED_BOTTOM_FAST = {**FAST, "bottom_units": (16,)}
PLE_FAST = {**FAST, "n_task_experts": 1, "n_shared_experts": 1, "expert_units": (8,)}
CROSS_STITCH_FAST = {**FAST, "column_units": (16,)}
ADAPTIVE_FAST = {**FAST, "units": (16, 16), "split_every": 3}

FAST_SETTINGS = {
    "AdaptiveSharingClassifier": [ADAPTIVE_FAST],
    "AdaptiveSharingRegressor": [ADAPTIVE_FAST],
    "CrossStitchClassifier": [CROSS_STITCH_FAST],
    "CrossStitchRegressor": [CROSS_STITCH_FAST],
    "ESMMClassifier": [SHARED_BOTTOM_FAST],
    "MMoEClassifier": [
        MOE_FAST,
        {
            **MOE_FAST,
            "numeric_embedding": "piecewise_linear",
            "numeric_embedding_size": 4,
            "numeric_missing": "learn",
        },
        # issue 31's options: early stopping on task 0, the epoch's loss, and the numeric
        # embedding chosen on validation (two networks per fit)
        {
            **MOE_FAST,
            "early_stopping": True,
            "early_stopping_task": 0,
            "loss_normalization": "epoch",
            "numeric_embedding": "auto",
            "numeric_embedding_size": 4,
        },
    ],
    # an efficient ensemble of two members (issue 31)
    "MMoERegressor": [MOE_FAST, {**MOE_FAST, "n_ensemble": 2}],
    "MultiTaskNet": [
        {**TRAINING_FAST, "architecture": MMoE(n_experts=3, expert_units=(16,), tower_units=(8,))}
    ],
    "OMoEClassifier": [MOE_FAST],
    "OMoERegressor": [MOE_FAST],
    "PLEClassifier": [PLE_FAST, {**PLE_FAST, "n_ensemble": 3}],
    "PLERegressor": [PLE_FAST],
    "SharedBottomClassifier": [SHARED_BOTTOM_FAST],
    "SharedBottomRegressor": [
        SHARED_BOTTOM_FAST,
        # smooth targets: a low frequency scale (at the default 10 the pair is overfitted)
        {
            **SHARED_BOTTOM_FAST,
            "max_epochs": 10,  # its regression check needs R^2 > 0.5, 5 epochs fall short
            "numeric_embedding": "periodic",
            "numeric_embedding_size": 4,
            "periodic_sigma": 1.0,
        },
    ],
    "MeanRegularizedMultiTaskClassifier": [{}],
    "MeanRegularizedMultiTaskRegressor": [{}],
    "MultiTaskL1LqClassifier": [{}, {"alpha": 0.05, "q": np.inf}],
    "MultiTaskL1LqClassifierCV": [{"alphas": 5, "cv": 3}],
    # the defaults must learn (alpha="auto")
    "MultiTaskL1LqRegressor": [{}, {"alpha": 0.05, "q": np.inf}],
    "MultiTaskL1LqRegressorCV": [{"alphas": 5, "cv": 3}],
}
"""Parameter sets per public estimator; each gives one estimator to every shared test."""


def public_estimator_classes() -> dict[str, type]:
    """Every estimator class that ``sklearn_mtl`` exports, by name."""
    exported = {name: getattr(sklearn_mtl, name) for name in sklearn_mtl.__all__}
    return {
        name: value
        for name, value in exported.items()
        if isinstance(value, type) and issubclass(value, BaseEstimator)
    }


def fast_settings(name: str, cls: type) -> list[dict]:
    """The parameter sets the shared tests run ``cls`` with: its entry, or brief training."""
    if name in FAST_SETTINGS:
        return FAST_SETTINGS[name]
    return [TRAINING_FAST] if issubclass(cls, BaseMultiTaskNet) else [{}]


ESTIMATORS = [
    cls(**params)
    for name, cls in public_estimator_classes().items()
    for params in fast_settings(name, cls)
]
NEURAL_ESTIMATORS = [e for e in ESTIMATORS if isinstance(e, BaseMultiTaskNet)]
LINEAR_ESTIMATORS = [e for e in ESTIMATORS if not isinstance(e, BaseMultiTaskNet)]
FUNNEL_CLASSIFIERS = [  # fixed tasks (ESMM's click and conversion), not any label matrix
    e for e in NEURAL_ESTIMATORS if not e._architecture().mixed_tasks
]
CLASSIFIERS = [
    e
    for e in NEURAL_ESTIMATORS
    if isinstance(e, MultiTaskClassifier) and e not in FUNNEL_CLASSIFIERS
]
REGRESSORS = [e for e in NEURAL_ESTIMATORS if isinstance(e, MultiTaskRegressor)]
MIXED = [e for e in NEURAL_ESTIMATORS if type(e).__name__ == "MultiTaskNet"]


def task_data(estimator):
    """300 rows the estimator can fit: a funnel for ESMM, mixed types for MultiTaskNet."""
    if isinstance(estimator, ESMMClassifier):
        return make_click_conversion(300, random_state=0)
    target = "binary" if is_classifier(estimator) else "regression"
    X, Y = make_task_pair(300, 0.5, n_features=6, target=target, random_state=0)
    if isinstance(estimator, MultiTaskNet):
        return X, np.column_stack([Y[:, 0], Y[:, 1] > 0]).astype(object)
    return X, Y


def outputs(model, X) -> list:
    """Everything a fitted model predicts on ``X``: predictions, then each probability array."""
    results = [model.predict(X)]
    if hasattr(model, "predict_proba"):
        proba = model.predict_proba(X)
        results += [p for p in proba if p is not None] if isinstance(proba, list) else [proba]
    return results
