"""How the pickles here were written: with sklearn_mtl at commit f8276ef, before the layout
of issue 30 moved the private modules (``_net``, ``_inputs``, ``_tasks``, ...) into packages.

``tests/estimators/test_old_pickles.py`` unpickles them with the current code and compares
the predictions with ``expected_predictions.npz``. Rerun only from a checkout of that commit:
``python make_pickles.py OUTPUT_FOLDER``.
"""

import pickle
import sys

import numpy as np
import pandas as pd

import sklearn_mtl as m
from sklearn_mtl.architectures import MMoE
from sklearn_mtl.datasets import make_task_pair


def main(out):
    X, Yb = make_task_pair(120, correlation=0.9, target="binary", random_state=0)
    _, Yr = make_task_pair(120, correlation=0.9, random_state=0)
    X = X[:, :4]
    frame = pd.DataFrame(X, columns=list("abcd"))
    frame["colour"] = np.array(["red", "green", "blue"])[np.arange(120) % 3]
    mixed = np.column_stack([Yb[:, 0], Yr[:, 1]]).astype(object)
    mixed[:, 0] = mixed[:, 0].astype(int)
    fast = dict(max_epochs=2, batch_size=32, random_state=0, tower_units=(4,))
    models = {
        "mmoe_categorical": (m.MMoEClassifier(n_experts=2, expert_units=(4,), **fast), frame, Yb),
        "multitask_net_mixed": (
            m.MultiTaskNet(
                MMoE(n_experts=2),
                task_types=["binary", "regression"],
                max_epochs=2,
                batch_size=32,
                random_state=0,
            ),
            X,
            mixed,
        ),
        "adaptive_regressor": (
            m.AdaptiveSharingRegressor(max_epochs=4, batch_size=32, random_state=0),
            X,
            Yr,
        ),
        "ple_weighted_regressor": (m.PLERegressor(loss_weighting="dwa", **fast), X, Yr),
    }
    expected = {}
    for name, (model, features, y) in models.items():
        model.fit(features, y)
        with open(f"{out}/{name}.pkl", "wb") as file:
            pickle.dump(model, file)
        expected[name] = np.asarray(model.predict(features[:10]), dtype=float)
    np.savez(f"{out}/expected_predictions.npz", **expected)
    print(sorted(expected))


if __name__ == "__main__":
    main(sys.argv[1])
