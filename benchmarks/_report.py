"""Writing a benchmark's results: one place for the JSON, the Markdown table and the figures."""

from __future__ import annotations

import json
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
