"""Writing a benchmark's results: one place for the JSON, the Markdown table and the figures."""

from __future__ import annotations

import contextlib
import json
import sys
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path


def write_report(
    report: dict, output: Path, table: str, *, markdown=True, plot: Callable | None = None
) -> None:
    """Print ``table``; write ``report`` as JSON to ``output``, the table beside it as .md.

    ``plot(report, output)`` draws the figures (named after ``output``).
    """
    print(table)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2))
    written = [output.name]
    if markdown:
        output.with_suffix(".md").write_text(table + "\n")
        written.append(output.with_suffix(".md").name)
    if plot is not None:
        plot(report, output)
        written.append("figures")
    print(f"wrote {', '.join(written)} in {output.parent}")


def benchmark_main(
    argv,
    parse_args: Callable,
    run: Callable,
    format_table: Callable,
    *,
    output=None,
    plot: Callable | None = None,
    markdown: bool = True,
    ignore: tuple[type[Warning], ...] = (),
) -> dict:
    """The ending every benchmark shares: parse ``argv``, run, write the report, return it.

    Parameters
    ----------
    argv : list of str or None
        The benchmark's options (None: the command line's).
    parse_args, run, format_table : callable
        The benchmark's parser, its run (``run(args) -> report``) and its table.
    output : Path or callable, optional
        Where the results go unless ``--output`` says: a path, or a function of
        the parsed options.
    plot : callable, optional
        ``plot(report, output)``, which draws the figures named after ``output``.
    markdown : bool, default=True
        Write the table beside the JSON as Markdown.
    ignore : tuple of Warning classes
        Warnings silenced during the run (a baseline's convergence warnings).
    """
    args = parse_args(argv)
    with warnings.catch_warnings():
        for category in ignore:
            warnings.simplefilter("ignore", category)
        report = run(args)
    path = getattr(args, "output", None) or (output(args) if callable(output) else output)
    write_report(report, path, format_table(report), markdown=markdown, plot=plot)
    return report


def save_figure(fig, path, dpi: int = 90) -> None:
    """Lay ``fig`` out, write it to ``path`` (a PNG) and free it."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)


def mean_spread(mean: float, std: float, n: int) -> str:
    """``"0.9081 ± 0.0012"`` over several runs; ``"0.9081"`` for one, which has no spread."""
    return f"{mean:.4f} ± {std:.4f}" if n > 1 else f"{mean:.4f}"


@contextlib.contextmanager
def heartbeat(label: str, every: float = 5.0):
    """Print ``label`` and the seconds so far on stderr every ``every`` seconds of the block.

    A long fit that prints nothing of its own (a grid search of a baseline)
    still shows that it runs, without its own line per fold.
    """
    start = time.perf_counter()
    done = threading.Event()

    def beat():
        while not done.wait(every):
            print(f"  {label}: still running ({time.perf_counter() - start:.0f} s)",
                  file=sys.stderr, flush=True)  # fmt: skip

    thread = threading.Thread(target=beat, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()
