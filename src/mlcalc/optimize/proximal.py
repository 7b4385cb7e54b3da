"""Proximal gradient methods for min f(x) + h(x), f smooth and h with a cheap proximal
operator: ISTA and FISTA (Beck & Teboulle 2009), with the prox operators of the L1, L2,
elastic-net, box and non-negativity penalties."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .driver import Run
from .objective import Objective
from .registry import register_method

__all__ = ["prox_l1", "prox_l2", "prox_elastic_net", "prox_box", "prox_nonnegative"]


# ---------------------------------------------------------------------------------
# prox_{t h}(v) = argmin_u h(u) + ‖u − v‖²/(2t)


def prox_l1(x: np.ndarray, t) -> np.ndarray:
    """prox of t‖·‖₁, the soft threshold sign(x)·max(|x| − t, 0) (t ≥ 0, a scalar or
    per-coordinate). O(n)."""
    x = np.asarray(x, dtype=float)
    return np.sign(x) * np.maximum(np.abs(x) - t, 0.0)


def prox_l2(x: np.ndarray, t: float) -> np.ndarray:
    """prox of t‖·‖₂ (not squared), block soft thresholding max(0, 1 − t/‖x‖)·x. O(n)."""
    x = np.asarray(x, dtype=float)
    nrm = float(np.linalg.norm(x))
    return np.zeros_like(x) if nrm <= t else (1.0 - t / nrm) * x


def prox_elastic_net(x: np.ndarray, t: float, l1: float, l2: float) -> np.ndarray:
    """prox of t·(l1‖·‖₁ + (l2/2)‖·‖₂²): soft(x, t·l1)/(1 + t·l2). O(n)."""
    return prox_l1(x, t * l1) / (1.0 + t * l2)


def prox_box(x: np.ndarray, lo, hi) -> np.ndarray:
    """prox of the indicator of {lo ≤ u ≤ hi} (any t): the projection clip(x, lo, hi). O(n)."""
    return np.clip(np.asarray(x, dtype=float), lo, hi)


def prox_nonnegative(x: np.ndarray) -> np.ndarray:
    """prox of the indicator of {u ≥ 0} (any t): max(x, 0). O(n)."""
    return np.maximum(np.asarray(x, dtype=float), 0.0)


EPS = float(np.finfo(float).eps)
PROX_NAMES = ("l1", "l2", "elastic_net", "nonnegative", "box")


def _penalty(prox, lam: float, l2: float, h, bounds) -> tuple[Callable, Callable]:
    """(prox(v, t), h(v)) on the flat vector for a named penalty or a user prox."""
    if callable(prox):
        return prox, (h if h is not None else (lambda v: 0.0))
    name = "box" if prox is None and bounds is not None else prox
    if name is None:
        raise ValueError(f"ista/fista: pass options={{'prox': ...}} (one of {PROX_NAMES} or a "
                         "callable prox(v, t)), or bounds.")
    if name == "l1":
        return (lambda v, t: prox_l1(v, t * lam)), (lambda v: lam * float(np.sum(np.abs(v))))
    if name == "l2":
        return (lambda v, t: prox_l2(v, t * lam)), (lambda v: lam * float(np.linalg.norm(v)))
    if name == "elastic_net":
        return (lambda v, t: prox_elastic_net(v, t, lam, l2)), (
            lambda v: lam * float(np.sum(np.abs(v))) + 0.5 * l2 * float(v @ v))
    if name == "nonnegative":
        return (lambda v, t: prox_nonnegative(v)), (lambda v: 0.0)
    if name == "box":
        if bounds is None:
            raise ValueError("ista/fista: prox='box' needs bounds.")
        lo, hi = bounds[:, 0], bounds[:, 1]
        return (lambda v, t: prox_box(v, lo, hi)), (lambda v: 0.0)
    raise ValueError(f"ista/fista: unknown prox {prox!r}; known: {', '.join(PROX_NAMES)} or a "
                     "callable prox(v, t).")


@register_method("ista")
def ista(obj: Objective, x: np.ndarray, run: Run, **options):
    """ISTA, the proximal gradient method x_{k+1} = prox_{t h}(x_k − t∇f(x_k)) for
    min f + h (f = the objective given to ``minimize``). F(x_k) − F* ≤ L‖x₀ − x*‖²/(2k)
    (Beck & Teboulle 2009, Thm 3.1). Options as for :func:`fista`."""
    return _proximal_gradient(obj, x, run, accelerated=False, **options)


@register_method("fista")
def fista(obj: Objective, x: np.ndarray, run: Run, **options):
    """FISTA (Beck & Teboulle 2009): x_k = prox_{t h}(y_k − t∇f(y_k)),
    t_{k+1} = (1 + √(1 + 4t_k²))/2, y_{k+1} = x_k + ((t_k − 1)/t_{k+1})(x_k − x_{k−1});
    F(x_k) − F* ≤ 2L‖x₀ − x*‖²/(k+1)² (Thm 4.4).

    Options: ``prox``: "l1" (h = lam‖x‖₁), "l2" (lam‖x‖₂), "elastic_net"
    (lam‖x‖₁ + (l2/2)‖x‖²), "nonnegative", "box" (from ``bounds``; the default when
    bounds are given) or a callable ``prox(v, t)`` on the flat vector with ``h(v)`` its
    value (optional, for reporting); ``lam``, ``l2``: the weights. ``step``: a fixed step
    t (≤ 1/L for the bounds above); by default Beck–Teboulle backtracking from ``step0``
    (t ← t/2 until f(p) ≤ f(y) + ∇f(y)ᵀ(p − y) + ‖p − y‖²/(2t), t never grows).
    ``restart=True``: adaptive restart (O'Donoghue & Candès 2015): when F increases the
    momentum is reset (y = x_k, t_k = 1); linear convergence on strongly convex problems.

    ``fun`` and the trajectory's values are F = f + h; ``tol`` applies to the gradient
    mapping G = (y − p)/t at the point the step was taken from (zero exactly at a
    minimiser), which is also the trajectory's gradient norm and the result's
    ``gradient_mapping``; ``jac`` is ∇f. Cost per iteration: one gradient of f, one
    prox and one value of f per trial step.
    """
    return _proximal_gradient(obj, x, run, accelerated=True, **options)


def _proximal_gradient(
    obj: Objective,
    x: np.ndarray,
    run: Run,
    *,
    accelerated: bool,
    prox: str | Callable | None = None,
    lam: float = 1.0,
    l2: float = 0.0,
    h: Callable | None = None,
    step: float | None = None,
    step0: float = 1.0,
    restart: bool = False,
    bounds=None,
    constraints=(),
):
    if constraints:
        raise ValueError("ista/fista: general constraints are not supported; use "
                         "'augmented_lagrangian', or a prox for simple sets.")
    prox_fn, h_fn = _penalty(prox, lam, l2, h, bounds)

    def finish():
        gm = None if run.g is None else obj.unravel(run.g)
        return run.result(jac=obj.unravel(obj.grad(run.x)), gradient_mapping=gm)

    F = obj.value(x) + h_fn(x)
    if run.start(x, F, None):
        return finish()
    t = float(step if step is not None else step0)
    y, x_prev, tk = x.copy(), x.copy(), 1.0
    while True:
        fy, gy = obj.value_and_grad(y)
        while True:
            p = prox_fn(y - t * gy, t)
            fp = obj.value(p)
            d = p - y
            # the rounding allowance keeps t from collapsing once f(p) − f(y) is noise
            slack = 8.0 * EPS * max(abs(fy), abs(fp))
            if step is not None or (
                np.isfinite(fp) and fp <= fy + float(gy @ d) + float(d @ d) / (2.0 * t) + slack
            ):
                break
            t *= 0.5
            if t < 1e-300:
                run.fail("the backtracking step underflowed")
                return finish()
        gmap = (y - p) / t
        x_prev, x = x, p
        F_prev, F = F, fp + h_fn(x)
        if accelerated and restart and F > F_prev:
            y, tk = x.copy(), 1.0
        elif accelerated:
            tk_next = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * tk * tk))
            y = x + ((tk - 1.0) / tk_next) * (x - x_prev)
            tk = tk_next
        else:
            y = x
        if run.iterate(x, F, gmap, t):
            return finish()
