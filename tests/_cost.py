"""Deterministic measures of how much work a call does, for tests of its growth.

Timing a test is flaky on a shared machine; counting is not. Two proxies:

- :func:`package_lines` counts the Python lines run inside ``sklearn_mtl`` (a
  quadratic loop there runs quadratically many lines);
- :func:`peak_allocation` measures the largest memory held at once by Python
  and numpy allocations (numpy reports its buffers to ``tracemalloc``).
"""

import sys
import tracemalloc
from pathlib import Path

import sklearn_mtl

PACKAGE = str(Path(sklearn_mtl.__file__).resolve().parent)


def package_lines(function, *args, **kwargs) -> tuple[int, object]:
    """``(lines run inside sklearn_mtl, what function returned or raised)``."""
    count = 0

    def local(frame, event, arg):
        nonlocal count
        if event == "line":
            count += 1
        return local

    def on_call(frame, event, arg):
        return local if frame.f_code.co_filename.startswith(PACKAGE) else None

    previous = sys.gettrace()
    sys.settrace(on_call)
    try:
        outcome = function(*args, **kwargs)
    except Exception as error:  # the refusals under test
        outcome = error
    finally:
        sys.settrace(previous)
    return count, outcome


def peak_allocation(function, *args, **kwargs) -> tuple[int, object]:
    """``(peak bytes allocated during the call, what function returned or raised)``."""
    tracemalloc.start()
    try:
        outcome = function(*args, **kwargs)
    except Exception as error:
        outcome = error
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return peak, outcome
