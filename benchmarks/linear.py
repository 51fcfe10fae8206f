"""Linear multi-task solvers: time and objective against scikit-learn and celer.

On one correlated design (AR(1) features, a row-sparse ``W``), at several
fractions of ``alpha_max``, this fits

- the l1/l2 model with ``sklearn_mtl.MultiTaskL1LqRegressor``,
  ``sklearn.linear_model.MultiTaskLasso`` and, when installed,
  ``celer.homotopy.mtl_path`` (celer's estimator class does not run on
  current scikit-learn; its path function does, on centred data), all to the
  same duality-gap tolerance (scikit-learn's ``tol``: gap <= tol * ||Yc||^2,
  which is ``tol=2 * tol`` for sklearn_mtl), and compares their times and
  objectives;
- the l1/l-infinity regressor and the l1/l2 and l1/l-infinity logistic models
  (no peer), reporting time and the relative duality gap reached.

Repeats are interleaved and medians reported, since this machine's timings
vary. Run ``python benchmarks/linear.py``; it prints a table and writes
``benchmarks/results/linear.json`` and ``linear.png``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import MultiTaskLasso

from sklearn_mtl import MultiTaskL1LqClassifier, MultiTaskL1LqRegressor
from sklearn_mtl.linear import alpha_max

try:
    from celer.homotopy import mtl_path
except ImportError:  # celer is optional
    mtl_path = None


try:
    from ._environment import environment
    from ._report import benchmark_main, save_figure
except ImportError:  # run as a script: python benchmarks/linear.py
    from _environment import environment
    from _report import benchmark_main, save_figure

RESULTS = Path(__file__).resolve().parent / "results"


def make_problem(n_samples, n_features, n_tasks, rho, n_active, seed=0):
    """AR(1) features with correlation ``rho`` and a row-sparse ``W``."""
    rng = np.random.default_rng(seed)
    X = np.empty((n_samples, n_features))
    X[:, 0] = rng.standard_normal(n_samples)
    innovations = rng.standard_normal((n_samples, n_features))
    for j in range(1, n_features):
        X[:, j] = rho * X[:, j - 1] + np.sqrt(1 - rho**2) * innovations[:, j]
    W = np.zeros((n_features, n_tasks))
    active = rng.choice(n_features, n_active, replace=False)
    W[active] = rng.standard_normal((n_active, n_tasks))
    signal = X @ W
    Y = signal + rng.standard_normal(signal.shape) * signal.std()
    return X, Y


def l1l2_objective(X, Y, coef, intercept, alpha):
    residual = Y - X @ coef.T - intercept
    return 0.5 / len(X) * np.sum(residual**2) + alpha * np.linalg.norm(coef, axis=0).sum()


def fit_sklearn_mtl(X, Y, alpha, tol):
    model = MultiTaskL1LqRegressor(alpha, tol=2 * tol, max_iter=100_000).fit(X, Y)
    return model.coef_, model.intercept_


def fit_sklearn(X, Y, alpha, tol):
    model = MultiTaskLasso(alpha=alpha, tol=tol, max_iter=100_000).fit(X, Y)
    return model.coef_, model.intercept_


def fit_celer(X, Y, alpha, tol):
    x_mean, y_mean = X.mean(axis=0), Y.mean(axis=0)
    Xc = np.asfortranarray(X - x_mean)
    _, coefs, _ = mtl_path(Xc, Y - y_mean, alphas=[alpha], tol=tol, max_epochs=100_000)
    coef = coefs[:, :, 0]  # (n_tasks, n_features)
    return coef, y_mean - coef @ x_mean


SOLVERS = {"sklearn_mtl": fit_sklearn_mtl, "sklearn": fit_sklearn}
if mtl_path is not None:
    SOLVERS["celer"] = fit_celer


def timed(function, *args):
    start = time.perf_counter()
    out = function(*args)
    return time.perf_counter() - start, out


def compare_l1l2(X, Y, alpha, ratio, tol, repeats):
    """Time every l1/l2 solver, interleaved; objectives relative to the best."""
    times = {name: [] for name in SOLVERS}
    objectives = {}
    for _ in range(repeats):
        for name, fit in SOLVERS.items():
            seconds, (coef, intercept) = timed(fit, X, Y, alpha, tol)
            times[name].append(seconds)
            objectives[name] = l1l2_objective(X, Y, coef, intercept, alpha)
    best = min(objectives.values())
    reference = statistics.median(times["sklearn"])
    return [
        {
            "model": "l1/l2 regression",
            "solver": name,
            "alpha_ratio": ratio,
            "tol": tol,
            "median_seconds": statistics.median(times[name]),
            "time_vs_sklearn": statistics.median(times[name]) / reference,
            "objective": objectives[name],
            "objective_rel_excess": (objectives[name] - best) / best,
            "seconds": times[name],
        }
        for name in SOLVERS
    ]


def no_peer_models(X, Y, ratio, tol, repeats):
    """The models without a peer: time and the relative duality gap reached."""
    labels = Y > np.median(Y, axis=0)
    rows = []
    for name, estimator, target in [
        ("l1/l-inf regression", MultiTaskL1LqRegressor(q=np.inf), Y),
        ("l1/l2 logistic", MultiTaskL1LqClassifier(q=2), labels),
        ("l1/l-inf logistic", MultiTaskL1LqClassifier(q=np.inf), labels),
    ]:
        alpha = ratio * alpha_max(estimator, X, target)
        estimator.set_params(alpha=alpha, tol=2 * tol, max_iter=20_000)
        times = []
        for _ in range(repeats):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                times.append(timed(estimator.fit, X, target)[0])
        objective = _objective(estimator, X, target)
        rows.append(
            {
                "model": name,
                "solver": "sklearn_mtl",
                "alpha_ratio": ratio,
                "tol": tol,
                "median_seconds": statistics.median(times),
                "n_iter": estimator.n_iter_,
                "objective": objective,
                "relative_gap": estimator.dual_gap_ / objective,
                "n_selected_features": int(estimator.support_.sum()),
                "seconds": times,
            }
        )
    return rows


def _objective(estimator, X, y):
    """Primal objective recomputed from the fitted model."""
    if isinstance(estimator, MultiTaskL1LqClassifier):
        positive = np.column_stack([y[:, t] == c[1] for t, c in enumerate(estimator.classes_)])
        Z = X @ estimator.coef_.T + estimator.intercept_
        loss = np.mean(np.logaddexp(0, Z) - positive * Z, axis=0).sum()
    else:
        residual = y - X @ estimator.coef_.T - estimator.intercept_
        loss = 0.5 * np.mean(residual**2, axis=0).sum()
    penalty = estimator._make_penalty(estimator.alpha_).value(estimator.coef_.T)
    return float(loss + penalty)


def run(args) -> dict:
    X, Y = make_problem(args.n_samples, args.n_features, args.n_tasks, args.rho, args.n_active)
    top = np.max(np.linalg.norm((X - X.mean(0)).T @ (Y - Y.mean(0)), axis=1)) / len(X)
    for fit in SOLVERS.values():  # warm-up: imports, BLAS thread pools
        fit(X[:200], Y[:200], top, 1e-4)
    results = []
    for tol in args.tol:
        for ratio in args.ratios:
            results += compare_l1l2(X, Y, ratio * top, ratio, tol, args.repeats)
            results += no_peer_models(X, Y, ratio, tol, args.repeats)
            print(f"  tol {tol:g}, alpha/alpha_max {ratio:g}: done", file=sys.stderr)
    return {
        "benchmark": "linear",
        "config": {
            **{k: v for k, v in vars(args).items() if k != "output"},
            "solvers": list(SOLVERS),
        },
        "environment": environment(),
        "results": results,
    }


def format_table(report: dict) -> str:
    lines = [
        "| model | solver | tol | alpha/alpha_max | seconds | time vs sklearn "
        "| objective excess | relative gap |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in report["results"]:
        ratio = row.get("time_vs_sklearn")
        excess = row.get("objective_rel_excess")
        gap = row.get("relative_gap")
        lines.append(
            f"| {row['model']} | {row['solver']} | {row['tol']:g} | {row['alpha_ratio']:g} "
            f"| {row['median_seconds']:.3f} | {'' if ratio is None else f'{ratio:.2f}'} "
            f"| {'' if excess is None else f'{excess:.1e}'} "
            f"| {'' if gap is None else f'{gap:.1e}'} |"
        )
    return "\n".join(lines)


def plot(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in report["results"] if r["model"] == "l1/l2 regression"]
    tols = sorted({r["tol"] for r in rows}, reverse=True)
    ratios = sorted({r["alpha_ratio"] for r in rows}, reverse=True)
    solvers = report["config"]["solvers"]
    fig, axes = plt.subplots(1, len(tols), figsize=(5 * len(tols), 3.5), squeeze=False)
    width = 0.8 / len(solvers)
    for ax, tol in zip(axes[0], tols):
        for k, solver in enumerate(solvers):
            seconds = [
                next(
                    r["median_seconds"]
                    for r in rows
                    if r["solver"] == solver and r["tol"] == tol and r["alpha_ratio"] == ratio
                )
                for ratio in ratios
            ]
            ax.bar(np.arange(len(ratios)) + k * width, seconds, width, label=solver)
        ax.set_xticks(np.arange(len(ratios)) + width * (len(solvers) - 1) / 2)
        ax.set_xticklabels([f"{r:g}" for r in ratios])
        ax.set_xlabel("alpha / alpha_max")
        ax.set_ylabel("seconds (median)")
        ax.set_title(f"l1/l2 regression, tol={tol:g}")
        ax.legend()
    save_figure(fig, path, dpi=100)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=5000)
    parser.add_argument("--n-features", type=int, default=500)
    parser.add_argument("--n-tasks", type=int, default=20)
    parser.add_argument("--n-active", type=int, default=50, help="non-zero rows of W")
    parser.add_argument("--rho", type=float, default=0.9, help="AR(1) feature correlation")
    parser.add_argument("--ratios", type=float, nargs="+", default=[0.1, 0.01, 0.001])
    parser.add_argument("--tol", type=float, nargs="+", default=[1e-4, 1e-8])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--output", type=Path, default=None, help="JSON file to write")
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    return benchmark_main(
        argv,
        parse_args,
        run,
        format_table,
        output=RESULTS / "linear.json",
        plot=lambda r, out: plot(r, out.with_suffix(".png")),
        markdown=False,
    )


if __name__ == "__main__":
    main()
