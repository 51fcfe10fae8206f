"""ESMM on a real funnel: 401(k) eligibility ("click") and participation ("conversion").

The 401(k) data (Abadie 2003; ``benchmarks/data``) has 9,275 households:
eligibility ``e401k`` plays the click and participation ``p401k`` the
conversion, which never happens without eligibility. As in the ESMM paper,
ESMM is compared with BASE, two independent classifiers (CTR on all rows, CVR
on the eligible rows only), on

- CVR AUC over the eligible rows of the test split (participation given
  eligibility: the post-click conversion rate);
- CTCVR AUC over all test rows (participation).

Several seeds (a new split and initialisation each); mean and spread.
Writes ``benchmarks/results/esmm.json`` and ``.md``.
Run ``python -m benchmarks run esmm``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from sklearn_mtl import ESMMClassifier, SharedBottomClassifier

DATA = Path(__file__).resolve().parent / "data" / "401ksubs.csv.bz2"

try:
    from ._environment import environment
    from ._report import benchmark_main, mean_spread
except ImportError:  # run as a script: python benchmarks/esmm.py
    from _environment import environment
    from _report import benchmark_main, mean_spread

RESULTS = Path(__file__).resolve().parent / "results"
FEATURES = ["inc", "marr", "male", "age", "fsize", "nettfa", "pira", "incsq", "agesq"]
NETWORK = {"tower_units": (32,), "max_epochs": 20, "lr": 3e-3, "batch_size": 256,
           "early_stopping": False}  # fmt: skip


def load():
    frame = pd.read_csv(DATA)
    X = frame[FEATURES].to_numpy(dtype=np.float32)
    Y = frame[["e401k", "p401k"]].to_numpy()
    return X, Y


def run_seed(X, Y, seed, args):
    network = {**NETWORK, "max_epochs": args.epochs}
    X_train, X_test, Y_train, Y_test = train_test_split(
        X, Y, test_size=0.3, random_state=seed, stratify=Y[:, 0] + Y[:, 1]
    )
    eligible_test = Y_test[:, 0] == 1
    scores = {}
    esmm = ESMMClassifier(bottom_units=(64,), random_state=seed, **network).fit(X_train, Y_train)
    p_ctcvr = esmm.predict_proba(X_test)[1][:, 1]
    scores["ESMM"] = {
        "cvr_auc": roc_auc_score(
            Y_test[eligible_test, 1], esmm.predict_cvr_proba(X_test)[eligible_test]
        ),
        "ctcvr_auc": roc_auc_score(Y_test[:, 1], p_ctcvr),
    }
    # BASE: a CTR model on all rows and a CVR model on the clicked (eligible) rows only
    # one network each (n_ensemble=1), as ESMM's towers
    ctr = SharedBottomClassifier((64,), random_state=seed, n_ensemble=1, **network)
    ctr.fit(X_train, Y_train[:, 0])
    eligible = Y_train[:, 0] == 1
    cvr = SharedBottomClassifier((64,), random_state=seed, n_ensemble=1, **network)
    cvr.fit(X_train[eligible], Y_train[eligible, 1])
    p_cvr = cvr.predict_proba(X_test)[:, 1]
    scores["BASE (independent CTR, CVR)"] = {
        "cvr_auc": roc_auc_score(Y_test[eligible_test, 1], p_cvr[eligible_test]),
        "ctcvr_auc": roc_auc_score(Y_test[:, 1], ctr.predict_proba(X_test)[:, 1] * p_cvr),
    }
    return scores


def run(args) -> dict:
    X, Y = load()
    X, Y = X[: args.rows], Y[: args.rows]
    per_seed = []
    for seed in range(args.seeds):
        per_seed.append(run_seed(X, Y, seed, args))
        print(f"  seed {seed} done", file=sys.stderr, flush=True)
    results = []
    for model in per_seed[0]:
        for metric in ("cvr_auc", "ctcvr_auc"):
            values = np.array([s[model][metric] for s in per_seed])
            results.append({"model": model, "metric": metric, "mean": float(values.mean()),
                            "std": float(values.std()), "per_seed": values.tolist()})  # fmt: skip
    network = {**NETWORK, "max_epochs": args.epochs}
    return {"benchmark": "esmm", "environment": environment(),
            "config": {"seeds": args.seeds, "rows": len(X), "network": {
        k: list(v) if isinstance(v, tuple) else v for k, v in network.items()}},
        "results": results}  # fmt: skip


def format_table(report) -> str:
    seeds = report["config"]["seeds"]
    header = "test AUC (mean ± std)" if seeds > 1 else "test AUC (one seed)"
    lines = [f"| model | metric | {header} |", "|---|---|---:|"]
    for r in report["results"]:
        lines.append(
            f"| {r['model']} | {r['metric']} | {mean_spread(r['mean'], r['std'], seeds)} |"
        )
    return "\n".join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=NETWORK["max_epochs"])
    parser.add_argument("--rows", type=int, default=None, help="first rows only")
    parser.add_argument("--output", type=Path, default=None, help="JSON file to write")
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    return benchmark_main(argv, parse_args, run, format_table, output=RESULTS / "esmm.json")


if __name__ == "__main__":
    main()
