"""What a benchmark ran on: one record, written into every benchmark's results.

A result is read months later on another machine; the record says which code
(the git commit, ``+changes`` for a dirty checkout), which libraries and which
hardware produced it.
"""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

__all__ = ["code_revision", "environment"]

ROOT = Path(__file__).resolve().parent.parent


def code_revision() -> str | None:
    """The git commit of this checkout, ``+changes`` when tracked files differ from it.

    ``None`` outside a git checkout (an installed copy, an exported tree).
    """

    def git(*command):
        return subprocess.run(
            ["git", *command], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()

    try:
        head = git("rev-parse", "--short=12", "HEAD")
        changed = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.CalledProcessError):  # not a git checkout
        return None
    return head + ("+changes" if changed else "")


def environment(device: str = "cpu", **extra) -> dict:
    """The record of the run: versions, machine, threads, device and ``extra`` fields.

    Parameters
    ----------
    device : str, default="cpu"
        The torch device the benchmark trained on; a CUDA device adds its name.
    **extra
        The benchmark's own fields (processes, peer libraries' versions, ...),
        which take precedence over the common ones.
    """
    import numpy as np
    import sklearn
    import torch

    import sklearn_mtl

    record = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "numpy": np.__version__,
        "scikit-learn": sklearn.__version__,
        "sklearn_mtl": sklearn_mtl.__version__,
        "code_revision": code_revision(),
        "device": device,
        "cuda_device": torch.cuda.get_device_name(device) if device.startswith("cuda") else None,
    }
    return {**record, **extra}
