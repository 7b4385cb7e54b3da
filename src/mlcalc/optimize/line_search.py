"""Line searches along a descent direction: backtracking (Armijo) and strong Wolfe
(Nocedal & Wright, Algorithms 3.5/3.6, with safeguarded cubic interpolation)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .objective import Objective

__all__ = ["backtracking", "strong_wolfe", "LineSearchResult"]


def backtracking(
    obj: Objective,
    x: np.ndarray,
    f: float,
    g: np.ndarray,
    d: np.ndarray,
    step: float = 1.0,
    c1: float = 1e-4,
    shrink: float = 0.5,
    max_halvings: int = 60,
):
    """Backtracking (Armijo) line search: the first t = step·shrink^j with
    f(x + t d) ≤ f(x) + c1 t ∇f·d. Returns ``(t, x_new, f_new)``, or ``(0.0, x, f)``
    when no step decreases f (or d is not a descent direction)."""
    slope = float(g @ d)
    if not slope < 0:
        return 0.0, x, f
    t = step
    for _ in range(max_halvings):
        x_new = x + t * d
        f_new = obj.value(x_new)
        if np.isfinite(f_new) and f_new <= f + c1 * t * slope:
            return t, x_new, f_new
        t *= shrink
    return 0.0, x, f


class LineSearchResult(NamedTuple):
    """Outcome of :func:`strong_wolfe`. ``ok``: both strong Wolfe conditions hold at
    ``step``. When they could not be met, ``step`` is the best point found with
    sufficient decrease (``ok`` False), or 0 with ``x``, ``f``, ``g`` unchanged when no
    step decreased f."""

    step: float
    x: np.ndarray
    f: float
    g: np.ndarray
    ok: bool


def _cubic_min(a: float, fa: float, da: float, b: float, fb: float, db: float) -> float:
    """Minimiser of the cubic through (a, fa, fa') and (b, fb, fb') (N&W eq. 3.59);
    NaN when the cubic has no local minimiser or the data are not finite."""
    if not (np.isfinite(fa) and np.isfinite(fb) and np.isfinite(da) and np.isfinite(db)):
        return float("nan")
    if a == b:
        return float("nan")
    d1 = da + db - 3.0 * (fa - fb) / (a - b)
    disc = d1 * d1 - da * db
    if disc < 0:
        return float("nan")
    d2 = np.copysign(np.sqrt(disc), b - a)
    denom = db - da + 2.0 * d2
    if denom == 0:
        return float("nan")
    return float(b - (b - a) * (db + d2 - d1) / denom)


def strong_wolfe(
    obj: Objective,
    x: np.ndarray,
    f: float,
    g: np.ndarray,
    d: np.ndarray,
    step: float = 1.0,
    c1: float = 1e-4,
    c2: float = 0.9,
    max_step: float = 1e10,
    max_evals: int = 30,
) -> LineSearchResult:
    """Strong Wolfe line search along ``d`` from ``x`` (N&W Algorithms 3.5 and 3.6).

    Finds t > 0 with φ(t) = f(x + t d) satisfying sufficient decrease
    φ(t) ≤ φ(0) + c1 t φ'(0) and the strong curvature condition |φ'(t)| ≤ c2 |φ'(0)|
    (0 < c1 < c2 < 1; c2 = 0.9 suits quasi-Newton and Newton methods, 0.1 nonlinear CG).
    It tries ``step`` first, extrapolates by cubic interpolation within
    [t + 1.1 Δ, t + 4 Δ] (Δ the last increase) until the minimiser is bracketed, then
    zooms with cubic interpolation safeguarded to the middle 80% of the bracket.
    Sufficient decrease is tested up to the rounding error of f (4 eps |f|), so that
    near a minimiser a step still passes on its gradient. Non-finite trial values count
    as too large. The zoom gives up once the bracket
    moves x by less than rounding (4 eps ‖x‖). Each trial costs one
    ``obj.value_and_grad``; at most ``max_evals`` trials. Returns a
    :class:`LineSearchResult`.
    """
    if not 0 < c1 < c2 < 1:
        raise ValueError(f"strong_wolfe: need 0 < c1 < c2 < 1; got c1={c1}, c2={c2}.")
    d0 = float(g @ d)
    none = LineSearchResult(0.0, x, f, g, False)
    if not d0 < 0:
        return none
    best = none
    evals = 0
    # the bracket is too narrow to matter once its steps move x by less than rounding
    min_width = 4.0 * np.finfo(float).eps * float(np.linalg.norm(x)) / float(np.linalg.norm(d))
    # sufficient decrease up to the rounding error of f, so that a step whose change of
    # f is below rounding (near a minimiser) can still pass on its gradient
    f_slack = 4.0 * np.finfo(float).eps * abs(f)

    def trial(t):
        nonlocal best, evals
        evals += 1
        xt = x + t * d
        ft, gt = obj.value_and_grad(xt)
        dt = float(gt @ d)
        if not (np.isfinite(ft) and np.isfinite(dt)):
            ft, dt = float("inf"), float("nan")
        elif ft <= f + c1 * t * d0 and ft < best.f:
            best = LineSearchResult(t, xt, ft, gt, False)
        return xt, ft, gt, dt

    def zoom(lo, f_lo, d_lo, hi, f_hi, d_hi):
        # Invariants: lo satisfies sufficient decrease with the lowest value so far;
        # d_lo·(hi − lo) < 0, so a minimiser lies between lo and hi.
        while evals < max_evals:
            a, b = min(lo, hi), max(lo, hi)
            width = b - a
            if width <= max(1e-15 * b, min_width):
                break
            if not np.isfinite(f_hi):
                t = lo + 0.2 * (hi - lo)
            else:
                t = _cubic_min(lo, f_lo, d_lo, hi, f_hi, d_hi)
                if not np.isfinite(t):
                    t = 0.5 * (lo + hi)
                t = min(max(t, a + 0.1 * width), b - 0.1 * width)
            xt, ft, gt, dt = trial(t)
            if ft > f + c1 * t * d0 + f_slack or ft > f_lo + f_slack:
                hi, f_hi, d_hi = t, ft, dt
            else:
                if abs(dt) <= -c2 * d0:
                    return LineSearchResult(t, xt, ft, gt, True)
                if dt * (hi - lo) >= 0:
                    hi, f_hi, d_hi = lo, f_lo, d_lo
                lo, f_lo, d_lo = t, ft, dt
        return best

    t_prev, f_prev, d_prev = 0.0, f, d0
    t = min(step, max_step)
    while evals < max_evals:
        xt, ft, gt, dt = trial(t)
        if ft > f + c1 * t * d0 + f_slack or (t_prev > 0 and ft > f_prev + f_slack):
            return zoom(t_prev, f_prev, d_prev, t, ft, dt)
        if abs(dt) <= -c2 * d0:
            return LineSearchResult(t, xt, ft, gt, True)
        if dt >= 0:
            return zoom(t, ft, dt, t_prev, f_prev, d_prev)
        if t >= max_step:
            break
        lo_ext, hi_ext = t + 1.1 * (t - t_prev), t + 4.0 * (t - t_prev)
        t_next = _cubic_min(t_prev, f_prev, d_prev, t, ft, dt)
        if not (np.isfinite(t_next) and t_next > t):
            t_next = hi_ext
        t_prev, f_prev, d_prev = t, ft, dt
        t = min(min(max(t_next, lo_ext), hi_ext), max_step)
    return best
