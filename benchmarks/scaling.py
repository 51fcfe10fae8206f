"""Measured scaling: data-parallel training against processes, Dask search against workers.

Data parallelism: ``torchrun --standalone --nproc-per-node N`` trains one
``MMoEClassifier`` (``accelerator=Accelerator(cpu=True)``, gloo) with the same
global batch for N = ``--processes``; every process gets ``--threads`` torch
threads (1 by default, torchrun's own default), so N processes use N cores.
Speed-up is rows/s against one process, efficiency the speed-up over N.

Search: ``GridSearchCV`` over ``--grid`` candidates x 2 folds on a
``distributed.LocalCluster`` with W = ``--workers`` single-threaded worker
processes (``TorchThreads(1)``), through ``joblib.parallel_backend("dask")``.

Run ``python -m benchmarks run scaling --full``. On a machine with more cores
pass e.g. ``-- --processes 1 2 4 8 --workers 1 2 4 8``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

try:
    from ._environment import environment
    from ._report import benchmark_main, save_figure
except ImportError:  # run as a script: python benchmarks/scaling.py
    from _environment import environment
    from _report import benchmark_main, save_figure

RESULTS = Path(__file__).resolve().parent / "results"


def model(args):
    from sklearn_mtl import MMoEClassifier

    return MMoEClassifier(
        args.n_experts, expert_units=tuple(args.expert_units), tower_units=(64,),
        batch_size=args.batch_size, max_epochs=args.epochs, lr=1e-3, early_stopping=False,
        n_ensemble=1, random_state=0,
    )  # fmt: skip


def data(args):
    from sklearn_mtl.datasets import make_task_pair

    X, Y = make_task_pair(args.n_samples, 0.5, target="binary", random_state=0)
    return X.astype("float32"), Y


def ddp_child(args) -> None:
    """In every torchrun process: fit with an accelerator; the main process prints the time."""
    import torch
    from accelerate import Accelerator

    accelerator = Accelerator(cpu=True)
    # after the accelerator: with one process under torchrun accelerate sets its own count
    torch.set_num_threads(args.threads)
    X, Y = data(args)
    estimator = model(args).set_params(accelerator=accelerator)
    estimator.set_params(max_epochs=1).fit(X[: 4 * args.batch_size], Y[: 4 * args.batch_size])
    # warmed up: allocator, threads, process group. (Not accelerator.wait_for_everyone(),
    # which asks for a GPU per process on a machine that has one, even for CPU processes.)
    torch.distributed.barrier()
    start = time.perf_counter()
    estimator.set_params(max_epochs=args.epochs).fit(X, Y)
    seconds = time.perf_counter() - start
    if accelerator.is_main_process:
        print(json.dumps({"seconds": seconds}))


def torchrun(script, n_processes: int, arguments=()) -> str:
    """Run ``script`` in ``n_processes`` torchrun processes; return process 0's output.

    Each process writes to its own log files; if any fails, each failed
    process's own error (not only the first one's) is printed before the
    run stops.
    """
    with tempfile.TemporaryDirectory() as logs:
        command = [
            sys.executable, "-m", "torch.distributed.run", "--standalone",
            f"--nproc-per-node={n_processes}", "--log-dir", logs, "--redirects", "3",
            str(script), *arguments,
        ]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True)
        errors = {int(path.parent.name): path for path in Path(logs).rglob("stderr.log")}
        if result.returncode:
            for rank in sorted(errors):
                text = errors[rank].read_text()
                if "Traceback" in text or "Error" in text:
                    sys.stderr.write(f"--- process {rank} failed:\n{text[-3000:]}\n")
            if not errors:
                sys.stderr.write(result.stderr[-3000:])
            raise SystemExit(f"torchrun with {n_processes} processes failed")
        return next(Path(logs).rglob("0/stdout.log")).read_text()


def ddp_run(args, n_processes: int) -> dict:
    output = torchrun(__file__, n_processes, ["--ddp-child", *args.passthrough])
    seconds = json.loads(output.strip().splitlines()[-1])["seconds"]
    rows = args.n_samples * args.epochs / seconds
    print(f"  DDP, {n_processes} process(es): {seconds:.2f} s, {rows:,.0f} rows/s",
          file=sys.stderr, flush=True)  # fmt: skip
    return {"processes": n_processes, "seconds": seconds, "rows_per_second": rows}


def search_run(args, n_workers: int) -> dict:
    import joblib
    from distributed import Client, LocalCluster
    from sklearn.model_selection import GridSearchCV, KFold

    from sklearn_mtl.parallel import TorchThreads

    X, Y = data(args)
    X, Y = X[: args.search_samples], Y[: args.search_samples]
    grid = {"lr": [10 ** (-4 + 2 * i / max(args.grid - 1, 1)) for i in range(args.grid)]}
    with LocalCluster(n_workers=n_workers, threads_per_worker=1, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster) as client:  # fmt: skip
        client.register_plugin(TorchThreads(1))
        client.run(_import_package)  # the workers' imports are not part of the search's time
        search = GridSearchCV(model(args).set_params(max_epochs=args.search_epochs), grid,
                              cv=KFold(2), n_jobs=-1)  # fmt: skip
        start = time.perf_counter()
        with joblib.parallel_backend("dask"):
            search.fit(X, Y)
        seconds = time.perf_counter() - start
    print(f"  Dask search, {n_workers} worker(s): {seconds:.2f} s", file=sys.stderr, flush=True)
    return {"workers": n_workers, "seconds": seconds, "fits": 2 * args.grid + 1}


def _import_package() -> None:
    import sklearn_mtl  # noqa: F401


def run(args) -> dict:
    ddp = [ddp_run(args, n) for n in args.processes]
    for row in ddp:
        row["speedup"] = row["rows_per_second"] / ddp[0]["rows_per_second"]
        row["efficiency"] = row["speedup"] * ddp[0]["processes"] / row["processes"]
    search = [search_run(args, w) for w in args.workers]
    for row in search:
        row["speedup"] = search[0]["seconds"] / row["seconds"]
        row["efficiency"] = row["speedup"] * search[0]["workers"] / row["workers"]
    return {
        "benchmark": "scaling",
        "config": {
            **{k: v for k, v in vars(args).items() if k not in ("output", "passthrough")},
        },
        "environment": environment(),
        "results": {"data_parallel": ddp, "search": search},
    }


def format_table(report: dict) -> str:
    lines = ["| scaling | n | seconds | rows/s | speed-up | efficiency |",
             "|---|---:|---:|---:|---:|---:|"]  # fmt: skip
    for row in report["results"]["data_parallel"]:
        lines.append(
            f"| DDP training (processes) | {row['processes']} | {row['seconds']:.2f} "
            f"| {row['rows_per_second']:,.0f} | {row['speedup']:.2f} | {row['efficiency']:.2f} |"
        )
    for row in report["results"]["search"]:
        lines.append(
            f"| Dask grid search (workers) | {row['workers']} | {row['seconds']:.2f} | "
            f"| {row['speedup']:.2f} | {row['efficiency']:.2f} |"
        )
    return "\n".join(lines)


def plot(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.5))
    for key, label, n in [("data_parallel", "DDP training", "processes"),
                          ("search", "Dask grid search", "workers")]:  # fmt: skip
        rows = report["results"][key]
        ax.plot([r[n] for r in rows], [r["efficiency"] for r in rows], "o-", label=label)
    ax.axhline(1.0, color="grey", lw=0.5)
    ax.set_xlabel("processes / workers")
    ax.set_ylabel("parallel efficiency")
    ax.set_ylim(0, 1.2)
    ax.legend()
    save_figure(fig, path, dpi=100)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--threads", type=int, default=1, help="torch threads per process")
    parser.add_argument("--n-samples", type=int, default=200_000)
    parser.add_argument("--n-experts", type=int, default=8)
    parser.add_argument("--expert-units", type=int, nargs="+", default=[128, 128])
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--grid", type=int, default=8, help="candidates of the search")
    parser.add_argument("--search-samples", type=int, default=20_000)
    parser.add_argument("--search-epochs", type=int, default=3)
    parser.add_argument("--output", type=Path, default=None, help="JSON file to write")
    args = parser.parse_args(argv)
    args.passthrough = [
        f"--{name.replace('_', '-')}={getattr(args, name)}"
        for name in ("threads", "n_samples", "n_experts", "batch_size", "epochs")
    ] + ["--expert-units", *map(str, args.expert_units)]
    return args


def main(argv=None) -> dict:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--ddp-child"]:
        ddp_child(parse_args(argv[1:]))
        return {}
    return benchmark_main(
        argv,
        parse_args,
        run,
        format_table,
        output=RESULTS / "scaling.json",
        plot=lambda r, out: plot(r, out.with_suffix(".png")),
    )


if __name__ == "__main__":
    main()
