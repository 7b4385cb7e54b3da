"""Checking derivatives: forward and reverse mode against central finite differences,
and the dot-product identity ⟨u, J v⟩ = ⟨Jᵀ u, v⟩, to any order.

``check_grads(f, args, order=2)`` checks, at the given point:

1. JVP: J·v from forward mode equals the central difference
   (f(x + εv) − f(x − εv)) / 2ε along a random direction v;
2. VJP: ⟨u, J v⟩ (forward mode) equals ⟨Jᵀ u, v⟩ (reverse mode) for random u;
3. for ``order`` ≥ 2, the same checks applied to the functions x ↦ J(x)·v and
   x ↦ J(x)ᵀu themselves (second derivatives, forward-over-forward,
   reverse-over-forward, forward-over-reverse, reverse-over-reverse), and so on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .autodiff import tree
from .autodiff.api import jvp, vjp

__all__ = ["check_grads", "check_vmap", "numerical_jvp"]


def _leaves(x):
    return [np.asarray(v, dtype=float) for v in tree.leaves(x)]


def _vdot(a, b) -> float:
    la, lb = _leaves(a), _leaves(b)
    return float(sum(np.sum(x * y) for x, y in zip(la, lb)))


def _random_like(x, rng):
    return tree.map(lambda v: rng.standard_normal(np.shape(v)).astype(_float_dtype(v)), x)


def _float_dtype(v):
    dt = np.result_type(v)
    return dt if dt.kind == "f" else np.float64


def _axpy(a, x, y):
    return tree.map(lambda xi, yi: yi + a * xi, x, y)


def numerical_jvp(f: Callable, args: Sequence, tangents: Sequence, eps: float = 1e-5):
    """Central difference (f(x + εv) − f(x − εv)) / 2ε, leafwise over f's output."""
    plus = f(*_axpy(eps, tuple(tangents), tuple(args)))
    minus = f(*_axpy(-eps, tuple(tangents), tuple(args)))
    return tree.map(lambda a, b: (np.asarray(a) - np.asarray(b)) / (2 * eps), plus, minus)


def _assert_close(actual, expected, rtol, atol, what):
    la, le = _leaves(actual), _leaves(expected)
    if len(la) != len(le):
        raise AssertionError(f"{what}: structures differ ({len(la)} vs {len(le)} leaves)")
    for a, e in zip(la, le):
        if a.shape != e.shape:
            raise AssertionError(f"{what}: shapes differ, {a.shape} vs {e.shape}")
        scale = max(1.0, float(np.max(np.abs(e), initial=0.0)))
        if not np.allclose(a, e, rtol=rtol, atol=atol * scale, equal_nan=True):
            err = np.max(np.abs(a - e))
            raise AssertionError(
                f"{what}: max abs error {err:.3e} (rtol={rtol}, atol={atol}·{scale:.3g})\n"
                f"actual:\n{a}\nexpected:\n{e}"
            )


def check_grads(
    f: Callable,
    args: Sequence,
    order: int = 2,
    modes: Sequence[str] = ("fwd", "rev"),
    eps: float = 1e-5,
    rtol: float = 1e-5,
    atol: float = 1e-5,
    seed: int = 0,
) -> None:
    """Check ``f``'s derivatives at ``args`` up to ``order`` in the given modes; raise
    AssertionError with the discrepancy if any check fails."""
    rng = np.random.default_rng(seed)
    args = tuple(args)

    def check_jvp(fn, xs):
        v = _random_like(xs, rng)
        _, t_ad = jvp(fn, xs, v)
        t_fd = numerical_jvp(fn, xs, v, eps)
        _assert_close(t_ad, t_fd, rtol, atol, "JVP vs central difference")

    def check_vjp(fn, xs):
        v = _random_like(xs, rng)
        if "fwd" in modes:
            out, t_ad = jvp(fn, xs, v)
        else:
            out, t_ad = fn(*xs), numerical_jvp(fn, xs, v, eps)
        u = _random_like(out, rng)
        _, pull = vjp(fn, *xs)
        ct = pull(u)
        lhs = _vdot(u, t_ad)
        rhs = _vdot(ct, v)
        tol = atol * max(1.0, abs(lhs)) + rtol * abs(lhs)
        if not abs(lhs - rhs) <= tol or (np.isnan(lhs) != np.isnan(rhs)):
            raise AssertionError(
                f"dot-product identity: <u, J v> = {lhs!r} but <J^T u, v> = {rhs!r}"
            )

    def check(fn, xs, k):
        if "fwd" in modes:
            check_jvp(fn, xs)
        if "rev" in modes:
            check_vjp(fn, xs)
        if k > 1:
            v = _random_like(xs, rng)
            if "fwd" in modes:
                check(lambda *ys: jvp(fn, ys, v)[1], xs, k - 1)
            if "rev" in modes:
                u = _random_like(fn(*xs), rng)
                check(lambda *ys: vjp(fn, *ys)[1](u), xs, k - 1)

    check(f, args, order)


def check_vmap(f: Callable, args: Sequence, in_axes=0, out_axes=0, rtol=1e-12, atol=1e-12):
    """Check ``vmap(f, in_axes, out_axes)(*args)`` against applying ``f`` to each example
    and stacking (``in_axes``: an int/None or a tuple with one int/None per argument)."""
    from .autodiff.vmap import vmap

    args = tuple(args)
    axes = in_axes if isinstance(in_axes, tuple) else (in_axes,) * len(args)
    size = next(np.shape(a)[ax] for a, ax in zip(args, axes) if ax is not None)
    expected = []
    for b in range(size):
        ex = [a if ax is None else np.take(a, b, axis=ax) for a, ax in zip(args, axes)]
        expected.append(f(*ex))
    stacked = tree.map(lambda *xs: np.stack([np.asarray(x) for x in xs], axis=out_axes),
                       *expected)
    actual = vmap(f, in_axes=in_axes, out_axes=out_axes)(*args)
    _assert_close(actual, stacked, rtol, atol, "vmap vs stacked loop")
