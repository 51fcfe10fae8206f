"""Writing a benchmark's results: one place for the JSON, the Markdown table and the figures."""

from __future__ import annotations

import contextlib
import json
import sys
import threading
import time
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
