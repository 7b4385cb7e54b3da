"""Shared helpers of the benchmarks: single-thread pinning, a robust timer, tables.

A benchmark script calls :func:`pin_threads` before it imports NumPy, so that the BLAS
thread pools start with one thread.
"""

from __future__ import annotations

import ctypes
import gc
import importlib
import os
import platform
import sys
import time
import tracemalloc
import warnings
from collections.abc import Callable
from importlib import metadata
from typing import Any

THREAD_VARS = (
    "OPENBLAS_NUM_THREADS",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)

INSTALL_HINT = "pip install -e '.[bench]'   (from the repository root)"


def pin_threads() -> None:
    """Limit every BLAS/OpenMP pool to one thread (effective before NumPy is imported)."""
    changed = [var for var in THREAD_VARS if os.environ.get(var) != "1"]
    for var in changed:
        os.environ[var] = "1"
    if changed and "numpy" in sys.modules:
        warnings.warn("NumPy was imported before pin_threads(): its BLAS may use several "
                      "threads.", RuntimeWarning, stacklevel=2)


def load_peer(name: str) -> Any | None:
    """Import a peer library, or print how to install it and return ``None``."""
    try:
        module = importlib.import_module(name)
    except ImportError:
        print(f"[skip] {name} is not installed; install the peers with: {INSTALL_HINT}")
        return None
    if name == "torch":
        module.set_num_threads(1)
        module.set_num_interop_threads(1)
    return module


def time_call(fn: Callable[[], Any], *, repeats: int = 7, min_loop_s: float = 0.2,
              warmup: int = 3) -> float:
    """Seconds per call of ``fn``: the best of ``repeats`` timed loops.

    After ``warmup`` calls, the loop length is calibrated so that one loop lasts at least
    ``min_loop_s``; the garbage collector is paused inside each loop (as in ``timeit``)
    and run between loops.
    """
    for _ in range(warmup):
        fn()
    number = 1
    while True:
        elapsed = _loop(fn, number)
        if elapsed >= min_loop_s or number >= 1 << 20:
            break
        number *= max(2, min(10, int(min_loop_s / max(elapsed, 1e-9)) + 1))
    best = elapsed / number
    for _ in range(repeats - 1):
        best = min(best, _loop(fn, number) / number)
    return best


def _loop(fn: Callable[[], Any], number: int) -> float:
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        for _ in range(number):
            fn()
        return time.perf_counter() - start
    finally:
        gc.enable()


def print_table(headers: list[str], rows: list[list[Any]]) -> None:
    """Print a plain-text table with right-aligned columns (first column left)."""
    cells = [[str(h) for h in headers]] + [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def line(r: list[str]) -> str:
        first = r[0].ljust(widths[0])
        rest = (c.rjust(w) for c, w in zip(r[1:], widths[1:], strict=True))
        return "  ".join([first, *rest])

    print(line(cells[0]))
    print("  ".join("-" * w for w in widths))
    for r in cells[1:]:
        print(line(r))


def _fmt(c: Any) -> str:
    if isinstance(c, float):
        return f"{c:.3g}" if abs(c) < 10 else f"{c:.1f}"
    return str(c)


def ratio_line(name: str, value: float, target: float) -> str:
    """``name = value (target <= t): PASS/MISS``."""
    verdict = "PASS" if value <= target else "MISS"
    return f"{name:<28} {value:6.2f}   (target <= {target:.2f})  {verdict}"


def print_machine(peers: dict[str, Any]) -> None:
    """Print the interpreter, library versions, CPU and thread settings."""
    import numpy as np

    import mlcalc

    print(f"Python {platform.python_version()} on {platform.machine()} ({_cpu_name()})")
    versions = [f"numpy {np.__version__}", f"mlcalc {mlcalc.__version__}"]
    versions += [f"{n} {metadata.version(n)}" for n, m in peers.items() if m is not None]
    print("Libraries: " + ", ".join(versions))
    threads = ", ".join(f"{v}={os.environ[v]}" for v in THREAD_VARS[:3])
    torch = peers.get("torch")
    if torch is not None:
        threads += f", torch.get_num_threads()={torch.get_num_threads()}"
    print(f"Threads: {threads}")


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def settle_allocator() -> str:
    """Keep freed memory in glibc's heap (trim threshold 64 MiB, mmap threshold 4 MiB).

    By default glibc hands large freed blocks back to the system and every fresh
    temporary of a few hundred KiB then page-faults; the peers' imports raise these
    thresholds as a side effect, so setting them explicitly makes every library (and
    every ``--cases`` selection) run under the same allocator regime."""
    try:
        libc = ctypes.CDLL(None)
        ok = libc.mallopt(-1, 64 << 20) and libc.mallopt(-3, 4 << 20)  # TRIM, MMAP
    except (OSError, AttributeError):
        ok = 0
    return "glibc mallopt: trim 64 MiB, mmap 4 MiB" if ok else "allocator left as is"


def peak_mb(fn, *args) -> float:
    """Peak memory allocated while ``fn(*args)`` runs, above what was live before (MB)."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        fn(*args)
        return (tracemalloc.get_traced_memory()[1] - before) / 1e6
    finally:
        tracemalloc.stop()
