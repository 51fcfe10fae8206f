"""How the files here were written: with sklearn_mtl 0.1.0 at commit 7780be5, format 1.

They are model files written before architectures became parameter objects
(issue 15); ``tests/persistence/test_persistence.py`` loads them with the current code
and compares the predictions with ``expected_predictions.npz``.
``mmoe_classifier.pkl`` is a pickle of the same time (``make_pickle``): the
estimators then held five private attributes where they now hold a
``FitState``. Rerun only
from a checkout of that commit: ``python make_files.py OUTPUT_FOLDER``.
"""

import sys

import numpy as np

import sklearn_mtl as m
from sklearn_mtl.datasets import make_task_pair


def main(out):
    X, Yb = make_task_pair(120, correlation=0.9, target="binary", random_state=0)
    _, Yr = make_task_pair(120, correlation=0.9, random_state=0)
    X = X[:, :4]
    mixed = np.column_stack([Yb[:, 0], Yr[:, 1]]).astype(object)
    mixed[:, 0] = mixed[:, 0].astype(int)
    fast = dict(max_epochs=2, batch_size=32, random_state=0, tower_units=(4,))
    models = {
        "mmoe_classifier": (m.MMoEClassifier(n_experts=2, expert_units=(4,), **fast), Yb),
        "cross_stitch_regressor": (m.CrossStitchRegressor(column_units=(4,), **fast), Yr),
        "esmm_classifier": (
            m.ESMMClassifier(bottom_units=(4,), **fast),
            np.column_stack([Yb[:, 0], Yb[:, 0] * Yb[:, 1]]),
        ),
        "multitask_net_ple": (
            m.MultiTaskNet(
                "ple",
                task_types=["binary", "regression"],
                n_task_experts=1,
                n_shared_experts=1,
                expert_units=(4,),
                **fast,
            ),
            mixed,
        ),
        "l1lq_classifier": (m.MultiTaskL1LqClassifier(alpha=0.01), Yb),
        "l1lq_regressor_1d": (m.MultiTaskL1LqRegressor(alpha=0.01), Yr[:, 0]),
    }
    expected = {}
    for name, (model, y) in models.items():
        model.fit(X, y)
        m.save(model, f"{out}/{name}.mtl")
        pred = model.predict(X[:10])
        expected[name] = np.asarray(pred, dtype=float)
    np.savez(f"{out}/expected_predictions.npz", X=X[:10], **expected)
    print(sorted(expected))


def make_pickle(out):
    import pickle

    X, Yb = make_task_pair(120, correlation=0.9, target="binary", random_state=0)
    X = X[:, :4]
    model = m.MMoEClassifier(2, expert_units=(4,), tower_units=(4,), max_epochs=2,
                             batch_size=32, random_state=0).fit(X, Yb)  # fmt: skip
    linear = m.MultiTaskL1LqRegressor(alpha=0.01).fit(X, Yb.astype(float))
    saved = {
        "network": model,
        "linear": linear,
        "X": X[:10],
        "proba": model.predict_proba(X[:10]),
        "linear_pred": linear.predict(X[:10]),
    }
    with open(f"{out}/mmoe_classifier.pkl", "wb") as f:
        pickle.dump(saved, f)


if __name__ == "__main__":
    main(sys.argv[1])
    make_pickle(sys.argv[1])
