"""Jacobians, Hessians and per-example gradients: mlcalc against torch.func, autograd and JAX.

All libraries run in this one process, each pinned to one thread, in float64. Every case
first checks that all libraries agree numerically, then times each of them (best of
several timed loops after a warm-up) and prints a table of times, the ratios
mlcalc/peer and the targets.

    a. Hessian of f(x) = sum(log(1 + exp(Ax))) + ½‖x‖², x in R^100, A 200×100
    b. Jacobian of x -> tanh(Wx) + x, x in R^200, W 200×200
    c. per-example gradients of a logistic-regression loss, 1000 examples × 50 features
    d. peak memory (tracemalloc) and time of mc.jacrev(chunk_size=k) on case b's function

Usage::

    python benchmarks/bench_vmap.py               # all cases
    python benchmarks/bench_vmap.py --cases ab    # some of them
    python benchmarks/bench_vmap.py --quick       # fewer, shorter timing loops
    python benchmarks/bench_vmap.py --profile     # cProfile of mlcalc's side of a-c

A peer that is not installed is skipped with an install hint.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import (  # noqa: E402
    pin_threads,
    print_machine,
    print_table,
    settle_allocator,
    time_call,
)

pin_threads()  # before NumPy (and JAX, torch) are imported
os.environ["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"

import argparse  # noqa: E402
import cProfile  # noqa: E402
import functools  # noqa: E402
import gc  # noqa: E402
import importlib  # noqa: E402
import io  # noqa: E402
import pstats  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
import warnings  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

import mlcalc as mc  # noqa: E402
from mlcalc.autodiff.batching import BatchingFallbackWarning  # noqa: E402
from mlcalc.autodiff.core import Primitive  # noqa: E402

INSTALL_HINTS = {
    "torch": "pip install 'torch==2.13.0'",
    "autograd": "pip install autograd",
    "jax": "pip install jax jaxlib",
}
RTOL, ATOL = 1e-8, 1e-10
TIMING = {"repeats": 7, "min_loop_s": 0.2, "warmup": 3}
FALLBACKS: set[str] = set()


# ---------------------------------------------------------------------------------
# peers and helpers


def load_peers() -> dict[str, Any]:
    """Import torch, autograd and JAX (each pinned to one thread, JAX in float64);
    a missing one is ``None`` and its install hint is printed."""
    peers: dict[str, Any] = {}
    for name, hint in INSTALL_HINTS.items():
        try:
            peers[name] = importlib.import_module(name)
        except ImportError:
            print(f"[skip] {name} is not installed; install it with: {hint}")
            peers[name] = None
    torch = peers["torch"]
    if torch is not None:
        torch.set_num_threads(1)
        try:
            torch.set_num_interop_threads(1)
        except RuntimeError:  # already set in this process
            pass
    if peers["jax"] is not None:
        peers["jax"].config.update("jax_enable_x64", True)
    return peers


def timed(fn: Callable[[], Any]) -> float:
    """Milliseconds per call of ``fn`` (best of several timed loops)."""
    return 1e3 * time_call(fn, **TIMING)


def first_call_ms(fn: Callable[[], Any]) -> float:
    """Milliseconds of one call (used for JAX's first, compiling call)."""
    start = time.perf_counter()
    fn()
    return 1e3 * (time.perf_counter() - start)


def run_mlcalc(fn: Callable[[], Any]) -> Any:
    """Call ``fn`` once, recording which primitives vmap had to loop over."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", BatchingFallbackWarning)
        out = fn()
    for w in caught:
        if issubclass(w.category, BatchingFallbackWarning):
            FALLBACKS.add(str(w.message).split(" has no batching rule")[0].split(": ")[-1])
    return out


def check(name: str, ref: np.ndarray, value: Any) -> None:
    """Assert that a peer's result agrees with mlcalc's."""
    np.testing.assert_allclose(np.asarray(value), ref, rtol=RTOL, atol=ATOL,
                               err_msg=f"{name} disagrees with mlcalc")


def report(title: str, rows: list[tuple[str, float | None]], targets: dict[str, float],
           notes: list[str] = ()) -> None:
    """Print the table of one case: times, mlcalc/peer ratios, targets and verdicts.

    ``rows[0]`` is the mlcalc time the ratios are taken of; a row whose time is ``None``
    was skipped."""
    print(f"\n== {title}")
    ref = rows[0][1]
    table = []
    for name, ms in rows:
        if ms is None:
            table.append([name, "skipped", "-", "-", "-"])
            continue
        own = name.startswith("mlcalc")
        ratio = "-" if own else f"{ref / ms:.3f}"
        target = targets.get(name)
        verdict = "-" if target is None else ("met" if ref / ms <= target else "MISSED")
        table.append([name, f"{ms:.3f}", ratio,
                      "-" if target is None else f"<= {target:g}", verdict])
    print_table(["library", "time (ms)", "mlcalc/lib", "target", "met?"], table)
    for note in notes:
        print(f"   note: {note}")


# ---------------------------------------------------------------------------------
# a. Hessian


def case_hessian(peers: dict[str, Any], rng: np.random.Generator) -> None:
    A = rng.standard_normal((200, 100)) / 10.0
    x = rng.standard_normal(100)

    def f(x):
        return np.sum(np.logaddexp(0, A @ x)) + 0.5 * np.sum(x * x)

    hess = mc.hessian(f)
    H = run_mlcalc(lambda: hess(x))
    rows = [("mlcalc mc.hessian", timed(lambda: hess(x)))]
    notes = []

    torch = peers["torch"]
    if torch is None:
        rows.append(("torch.func.hessian", None))
    else:
        At, xt = torch.from_numpy(A), torch.from_numpy(x)

        def f_torch(x):
            return torch.nn.functional.softplus(At @ x).sum() + 0.5 * (x * x).sum()

        th = torch.func.hessian(f_torch)
        check("torch.func.hessian", H, th(xt))
        rows.append(("torch.func.hessian", timed(lambda: th(xt))))

    ag = peers["autograd"]
    if ag is None:
        rows.append(("autograd.hessian", None))
    else:
        anp = importlib.import_module("autograd.numpy")

        def f_ag(x):
            return anp.sum(anp.logaddexp(0, anp.dot(A, x))) + 0.5 * anp.sum(x * x)

        ah = ag.hessian(f_ag)
        check("autograd.hessian", H, ah(x))
        rows.append(("autograd.hessian", timed(lambda: ah(x))))

    jax = peers["jax"]
    if jax is None:
        rows.append(("jax.jit(jax.hessian)", None))
    else:
        jnp = jax.numpy
        Aj, xj = jnp.asarray(A), jnp.asarray(x)

        def f_jax(x):
            return jnp.sum(jnp.logaddexp(0, Aj @ x)) + 0.5 * jnp.sum(x * x)

        jh = jax.jit(jax.hessian(f_jax))
        compile_ms = first_call_ms(lambda: jh(xj).block_until_ready())
        check("jax.hessian", H, jh(xj))
        rows.append(("jax.jit(jax.hessian)", timed(lambda: jh(xj).block_until_ready())))
        notes.append(f"JAX first call (trace + compile): {compile_ms:.1f} ms")

    report("a. Hessian of sum(logaddexp(0, Ax)) + ½‖x‖², x in R^100, A 200×100", rows,
           {"torch.func.hessian": 0.3, "autograd.hessian": 0.05, "jax.jit(jax.hessian)": 3.0},
           notes)


# ---------------------------------------------------------------------------------
# b. Jacobian


def _tanh_problem(rng: np.random.Generator):
    W = rng.standard_normal((200, 200)) / np.sqrt(200.0)
    x = rng.standard_normal(200)

    def g(x):
        return np.tanh(W @ x) + x

    return W, x, g


def case_jacobian(peers: dict[str, Any], rng: np.random.Generator) -> None:
    W, x, g = _tanh_problem(rng)
    jr = mc.jacrev(g)
    jac = mc.jacobian(g)
    J = run_mlcalc(lambda: jr(x))
    check("mc.jacobian", J, run_mlcalc(lambda: jac(x)))
    rows = [("mlcalc mc.jacrev", timed(lambda: jr(x))),
            ("mlcalc mc.jacobian", timed(lambda: jac(x)))]

    torch = peers["torch"]
    if torch is None:
        rows.append(("torch.func.jacrev", None))
    else:
        Wt, xt = torch.from_numpy(W), torch.from_numpy(x)
        tj = torch.func.jacrev(lambda x: torch.tanh(Wt @ x) + x)
        check("torch.func.jacrev", J, tj(xt))
        rows.append(("torch.func.jacrev", timed(lambda: tj(xt))))

    ag = peers["autograd"]
    if ag is None:
        rows.append(("autograd.jacobian", None))
    else:
        anp = importlib.import_module("autograd.numpy")
        aj = ag.jacobian(lambda x: anp.tanh(anp.dot(W, x)) + x)
        check("autograd.jacobian", J, aj(x))
        rows.append(("autograd.jacobian", timed(lambda: aj(x))))

    jax = peers["jax"]
    notes = []
    if jax is None:
        rows.append(("jax.jit(jax.jacrev)", None))
    else:
        jnp = jax.numpy
        Wj, xj = jnp.asarray(W), jnp.asarray(x)
        jj = jax.jit(jax.jacrev(lambda x: jnp.tanh(Wj @ x) + x))
        compile_ms = first_call_ms(lambda: jj(xj).block_until_ready())
        check("jax.jacrev", J, jj(xj))
        rows.append(("jax.jit(jax.jacrev)", timed(lambda: jj(xj).block_until_ready())))
        notes.append(f"JAX first call (trace + compile): {compile_ms:.1f} ms")

    report("b. Jacobian of tanh(Wx) + x, x in R^200, W 200×200", rows,
           {"torch.func.jacrev": 0.5}, notes)


# ---------------------------------------------------------------------------------
# c. per-example gradients

N_EXAMPLES, N_FEATURES, N_AUTOGRAD = 1000, 50, 100


def case_per_example(peers: dict[str, Any], rng: np.random.Generator) -> None:
    X = rng.standard_normal((N_EXAMPLES, N_FEATURES))
    y = (rng.random(N_EXAMPLES) < 0.5).astype(np.float64)
    w = rng.standard_normal(N_FEATURES) / np.sqrt(N_FEATURES)

    def loss(w, x, y):  # binary cross-entropy of one example, from the logit x·w
        z = x @ w
        return np.logaddexp(0, z) - y * z

    pg = mc.vmap(mc.grad(loss), in_axes=(None, 0, 0))
    G = run_mlcalc(lambda: pg(w, X, y))
    rows = [("mlcalc vmap(grad)", timed(lambda: pg(w, X, y)))]
    notes = []

    torch = peers["torch"]
    if torch is None:
        rows.append(("torch.func vmap(grad)", None))
    else:
        wt, Xt, yt = (torch.from_numpy(a) for a in (w, X, y))

        def loss_torch(w, x, y):
            z = x @ w
            return torch.nn.functional.softplus(z) - y * z

        tg = torch.func.vmap(torch.func.grad(loss_torch), in_dims=(None, 0, 0))
        check("torch.func vmap(grad)", G, tg(wt, Xt, yt))
        rows.append(("torch.func vmap(grad)", timed(lambda: tg(wt, Xt, yt))))

    ag = peers["autograd"]
    if ag is None:
        rows.append(("autograd loop (extrap.)", None))
    else:
        anp = importlib.import_module("autograd.numpy")
        ag_grad = ag.grad(lambda w, x, y: anp.logaddexp(0, anp.dot(x, w)) - y * anp.dot(x, w))

        def ag_loop(n):
            return np.stack([ag_grad(w, X[i], y[i]) for i in range(n)])

        check("autograd loop", G[:N_AUTOGRAD], ag_loop(N_AUTOGRAD))
        per_call = timed(lambda: ag_loop(N_AUTOGRAD))
        rows.append(("autograd loop (extrap.)", per_call * N_EXAMPLES / N_AUTOGRAD))
        notes.append(f"autograd: a Python loop timed over {N_AUTOGRAD} examples "
                     f"({per_call:.1f} ms), extrapolated ×{N_EXAMPLES // N_AUTOGRAD}")

    jax = peers["jax"]
    if jax is None:
        rows.append(("jax.jit(vmap(grad))", None))
    else:
        jnp = jax.numpy
        wj, Xj, yj = (jnp.asarray(a) for a in (w, X, y))

        def loss_jax(w, x, y):
            z = x @ w
            return jnp.logaddexp(0, z) - y * z

        jg = jax.jit(jax.vmap(jax.grad(loss_jax), in_axes=(None, 0, 0)))
        compile_ms = first_call_ms(lambda: jg(wj, Xj, yj).block_until_ready())
        check("jax vmap(grad)", G, jg(wj, Xj, yj))
        rows.append(("jax.jit(vmap(grad))", timed(lambda: jg(wj, Xj, yj).block_until_ready())))
        notes.append(f"JAX first call (trace + compile): {compile_ms:.1f} ms")

    report(f"c. per-example gradients, logistic loss, {N_EXAMPLES} examples × "
           f"{N_FEATURES} features", rows, {"torch.func vmap(grad)": 1.0}, notes)


# ---------------------------------------------------------------------------------
# d. memory with chunk_size


def peak_kib(fn: Callable[[], Any]) -> float:
    """Peak traced memory (KiB) above the level at the start of one call of ``fn``."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        fn()
        return (tracemalloc.get_traced_memory()[1] - base) / 1024
    finally:
        tracemalloc.stop()


def case_chunks(rng: np.random.Generator) -> None:
    _, x, g = _tanh_problem(rng)
    J = run_mlcalc(lambda: mc.jacrev(g)(x))
    table = []
    peaks = []
    for k in (None, 50, 10):
        jr = mc.jacrev(g, chunk_size=k)
        check(f"jacrev(chunk_size={k})", J, jr(x))
        peak = peak_kib(lambda jr=jr: jr(x))
        peaks.append(peak)
        table.append([f"chunk_size={k}", f"{peak:.0f}", f"{timed(lambda jr=jr: jr(x)):.3f}"])
    print("\n== d. mc.jacrev(tanh(Wx) + x, chunk_size=k): peak memory (tracemalloc) and time")
    print_table(["chunk_size", "peak (KiB)", "time (ms)"], table)
    jac_kib = J.nbytes / 1024
    print(f"   peak at k=10 / peak all at once: {peaks[-1] / peaks[0]:.2f}. The 200×200 Jacobian "
          f"is {jac_kib:.0f} KiB;")
    print("   chunks are written into the preallocated Jacobian, so the peak tends to it "
          "plus one chunk's work")


# ---------------------------------------------------------------------------------
# profiling


def _mlcalc_jobs() -> dict[str, tuple[str, Callable[[], Any]]]:
    """mlcalc's side of cases a-c, as argument-free calls."""
    rng = np.random.default_rng(0)
    A = rng.standard_normal((200, 100)) / 10.0
    xa = rng.standard_normal(100)
    _, xb, g = _tanh_problem(rng)
    X = rng.standard_normal((N_EXAMPLES, N_FEATURES))
    y = (rng.random(N_EXAMPLES) < 0.5).astype(np.float64)
    w = rng.standard_normal(N_FEATURES)

    def f(x):
        return np.sum(np.logaddexp(0, A @ x)) + 0.5 * np.sum(x * x)

    def loss(w, x, y):
        z = x @ w
        return np.logaddexp(0, z) - y * z

    return {
        "a": ("mc.hessian", functools.partial(mc.hessian(f), xa)),
        "b": ("mc.jacrev", functools.partial(mc.jacrev(g), xb)),
        "c": ("mc.vmap(mc.grad)",
              functools.partial(mc.vmap(mc.grad(loss), in_axes=(None, 0, 0)), w, X, y)),
    }


def _primitives() -> list[Primitive]:
    return [p for p in gc.get_objects() if isinstance(p, Primitive) and p.impl is not None]


def impl_breakdown(fn: Callable[[], Any], calls: int) -> tuple[float, dict[str, list[float]]]:
    """Wall time per call of ``fn`` and, per primitive, [calls, ms] of its NumPy ``impl``
    per call of ``fn`` (the rest of the wall time is mlcalc's Python overhead)."""
    stats: dict[str, list[float]] = {}
    originals = {}
    for prim in _primitives():
        originals[prim] = prim.impl

        def timed_impl(*args, _impl=prim.impl, _name=prim.name, **params):
            start = time.perf_counter()
            try:
                return _impl(*args, **params)
            finally:
                entry = stats.setdefault(_name, [0, 0.0])
                entry[0] += 1
                entry[1] += time.perf_counter() - start

        prim.impl = timed_impl
    try:
        fn()
        stats.clear()
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        wall = 1e3 * (time.perf_counter() - start) / calls
    finally:
        for prim, impl in originals.items():
            prim.impl = impl
    return wall, {k: [n / calls, 1e3 * t / calls] for k, (n, t) in stats.items()}


def profile_mlcalc(cases: str, top: int, calls: int = 50) -> None:
    """Where mlcalc's time goes in cases a-c: the NumPy work of each primitive against
    the wall time, then cProfile sorted by tottime."""
    jobs = _mlcalc_jobs()
    for case in cases:
        if case not in jobs:
            continue
        name, fn = jobs[case]
        wall, stats = impl_breakdown(fn, calls)
        numpy_ms = sum(ms for _, ms in stats.values())
        print(f"\n== profile {case}. {name}: {wall:.3f} ms/call with timed primitives; "
              f"NumPy work {numpy_ms:.3f} ms ({100 * numpy_ms / wall:.0f}%), "
              f"the rest is mlcalc's Python")
        rows = sorted(stats.items(), key=lambda kv: -kv[1][1])
        print_table(["primitive", "binds/call", "NumPy ms/call"],
                    [[k, f"{n:g}", f"{ms:.4f}"] for k, (n, ms) in rows])
        fn()
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(calls):
            fn()
        prof.disable()
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(top)
        print(f"\ncProfile of {calls} calls of {name} (tottime of bind includes the NumPy "
              "work of the primitives):")
        print(out.getvalue())


# ---------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default="abcd", help="which cases to run (default abcd)")
    parser.add_argument("--quick", action="store_true", help="fewer, shorter timing loops")
    parser.add_argument("--profile", action="store_true",
                        help="cProfile mlcalc's side of cases a-c instead of timing")
    parser.add_argument("--system-malloc", action="store_true",
                        help="leave glibc's malloc thresholds at their defaults")
    parser.add_argument("--top", type=int, default=25, help="rows per profile (default 25)")
    args = parser.parse_args(argv)
    if args.quick:
        TIMING.update(repeats=3, min_loop_s=0.05, warmup=1)
    malloc = "allocator left as is" if args.system_malloc else settle_allocator()
    if args.profile:
        print(f"Allocator: {malloc}")
        profile_mlcalc(args.cases, args.top)
        return
    peers = load_peers()
    print_machine(peers)
    print(f"Allocator: {malloc}")
    rng = np.random.default_rng(0)
    runners = {
        "a": lambda: case_hessian(peers, rng),
        "b": lambda: case_jacobian(peers, rng),
        "c": lambda: case_per_example(peers, rng),
        "d": lambda: case_chunks(rng),
    }
    for case in args.cases:
        runners[case]()
    if FALLBACKS:
        names = ", ".join(sorted(FALLBACKS))
        print(f"\nvmap looped over the batch (no batching rule) for: {names}")
    else:
        print("\nvmap found a batching rule for every primitive (no BatchingFallbackWarning).")


if __name__ == "__main__":
    main()
