"""Line searches along a descent direction: backtracking (Armijo) and strong Wolfe
(Nocedal & Wright, Algorithms 3.5/3.6, with safeguarded cubic interpolation), both with
Hager & Zhang's approximate sufficient-decrease test for steps whose change of f is
hidden by the rounding error of f."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .objective import Objective

__all__ = ["backtracking", "strong_wolfe", "more_thuente", "sufficient_decrease",
           "LineSearchResult",
           "APPROX_EPSILON"]

# Hager & Zhang (2005)'s ε: the approximate test may accept f(t) ≤ f(0) + ε|f(0)|
APPROX_EPSILON = 1e-6
# the rise of f that backtracking (no curvature condition) puts down to rounding
ROUNDING_RISE = 64 * float(np.finfo(float).eps)


def sufficient_decrease(
    f0: float, slope0: float, t: float, ft: float, slope_t: float, c1: float, slack: float
) -> bool:
    """Sufficient decrease of φ(t) = f(x + t d) with φ(0) = ``f0``, φ'(0) = ``slope0`` < 0:
    Armijo's φ(t) ≤ φ(0) + c1 t φ'(0); but where the change predicted by the slope,
    t |φ'(0)|, and φ(t) − φ(0) are both within ``slack`` (the values cannot resolve the
    decrease, and may pass or fail Armijo by rounding alone), Hager & Zhang's (2005)
    approximate form φ'(t) ≤ (2c1 − 1) φ'(0) instead. The approximate form is Armijo's
    with f(x + t d) − f(x) estimated by the trapezoid t(φ'(0) + φ'(t))/2: near a
    minimiser the change of f falls below its rounding error while the directional
    derivatives φ'(t) = ∇f(x + t d)ᵀd keep their relative accuracy, so the gradient
    certifies a decrease that the values cannot show. Non-finite values fail."""
    if not (math.isfinite(ft) and math.isfinite(slope_t)):
        return False
    if t * abs(slope0) <= slack and ft <= f0 + slack:
        return slope_t <= (2.0 * c1 - 1.0) * slope0
    return ft <= f0 + c1 * t * slope0


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
    """Backtracking (Armijo) line search: the first t = step·shrink^j with sufficient
    decrease (:func:`sufficient_decrease`: f(x + t d) ≤ f(x) + c1 t ∇f·d, or, where
    both f(x + t d) − f(x) and the predicted t|∇f·d| are within ε|f(x)| (ε =
    ``APPROX_EPSILON``, so that the difference of values is mostly rounding),
    ∇f(x + t d)·d ≤ (2c1 − 1) ∇f(x)·d, one extra gradient per such trial, provided that
    x + t d ≠ x and f(x + t d) ≤ f(x) + ``ROUNDING_RISE``·|f(x)|: with no curvature
    condition to vouch for the gradient, a wrong gradient would otherwise let f creep
    up by ε|f| per step). Returns
    ``(t, x_new, f_new)``, or ``(0.0, x, f)`` when no step decreases f (or d is not a
    descent direction)."""
    slope = float(g @ d)
    if not slope < 0:
        return 0.0, x, f
    slack = APPROX_EPSILON * abs(f)
    rise = ROUNDING_RISE * abs(f)
    t = step
    for _ in range(max_halvings):
        x_new = x + t * d
        f_new = obj.value(x_new)
        if math.isfinite(f_new):
            if f_new <= f + slack and t * abs(slope) <= slack:  # values unresolved
                # with no curvature condition to vouch for the gradient, f may not rise
                # by more than rounding (else a wrong gradient would let it creep up)
                if f_new <= f + rise and not np.array_equal(x_new, x):
                    slope_new = float(obj.grad(x_new) @ d)
                    if sufficient_decrease(f, slope, t, f_new, slope_new, c1, slack):
                        return t, x_new, f_new
            elif f_new <= f + c1 * t * slope:
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
    if not (math.isfinite(fa) and math.isfinite(fb) and math.isfinite(da) and math.isfinite(db)):
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

    Rounding: values within ε|φ(0)| of each other (ε = ``APPROX_EPSILON``) are compared
    through the derivatives, as Hager & Zhang (2005) do: sufficient decrease may hold in
    its approximate form (:func:`sufficient_decrease`), φ(b) > φ(a) is decided by the
    sign of the trapezoid (b − a)(φ'(a) + φ'(b))/2, and the zoom interpolates the
    derivatives by a secant instead of the values by a cubic. So near a minimiser,
    where the change of f is below its rounding error, a step still passes on its
    gradient. Non-finite trial values count as too large. The zoom gives up once the
    bracket moves x by less than rounding (4 eps ‖x‖). Each trial costs one
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
    slack = APPROX_EPSILON * abs(f)

    def decreases(t, ft, dt):
        return sufficient_decrease(f, d0, t, ft, dt, c1, slack)

    def rises(ta, fa, da, tb, fb, db):
        """φ(tb) > φ(ta): by the values, or by the trapezoid where they are within the
        slack of each other (mostly rounding)."""
        if not math.isfinite(fb):
            return True
        if abs(fb - fa) > slack or not math.isfinite(db):
            return fb > fa
        return 0.5 * (da + db) * (tb - ta) > 0

    def trial(t):
        nonlocal best, evals
        evals += 1
        xt = x + t * d
        ft, gt = obj.value_and_grad(xt)
        dt = float(gt @ d)
        if not (math.isfinite(ft) and math.isfinite(dt)):
            ft, dt = float("inf"), float("nan")
        elif ft <= f + c1 * t * d0 and ft < best.f:  # the fallback needs a visible decrease
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
            if not math.isfinite(f_hi):
                t = lo + 0.2 * (hi - lo)
            else:
                if abs(f_hi - f_lo) <= slack and d_hi != d_lo:
                    t = lo - d_lo * (hi - lo) / (d_hi - d_lo)  # secant on φ'
                else:
                    t = _cubic_min(lo, f_lo, d_lo, hi, f_hi, d_hi)
                if not math.isfinite(t):
                    t = 0.5 * (lo + hi)
                t = min(max(t, a + 0.1 * width), b - 0.1 * width)
            xt, ft, gt, dt = trial(t)
            if not decreases(t, ft, dt) or rises(lo, f_lo, d_lo, t, ft, dt):
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
        if not decreases(t, ft, dt) or (
            t_prev > 0 and rises(t_prev, f_prev, d_prev, t, ft, dt)
        ):
            return zoom(t_prev, f_prev, d_prev, t, ft, dt)
        if abs(dt) <= -c2 * d0:
            return LineSearchResult(t, xt, ft, gt, True)
        if dt >= 0:
            return zoom(t, ft, dt, t_prev, f_prev, d_prev)
        if t >= max_step:
            break
        lo_ext, hi_ext = t + 1.1 * (t - t_prev), t + 4.0 * (t - t_prev)
        t_next = _cubic_min(t_prev, f_prev, d_prev, t, ft, dt)
        if not (math.isfinite(t_next) and t_next > t):
            t_next = hi_ext
        t_prev, f_prev, d_prev = t, ft, dt
        t = min(min(max(t_next, lo_ext), hi_ext), max_step)
    return best


# -- Moré–Thuente --------------------------------------------------------------------
def _mt_step(stx, fx, dx, sty, fy, dy, stp, fp, dp, brackt, stpmin, stpmax):
    """One safeguarded step of Moré & Thuente (1994, §4): from the interval end points
    (stx, fx, dx) (best so far) and (sty, fy, dy) and the trial (stp, fp, dp), choose the
    next trial by cubic and quadratic (secant) interpolation, and update the interval.
    Returns (stx, fx, dx, sty, fy, dy, stp_next, brackt)."""
    same_sign = dp * np.sign(dx) > 0

    def gamma_of(theta, da, db):
        s = max(abs(theta), abs(da), abs(db))
        if s == 0:
            return 0.0
        return s * math.sqrt(max(0.0, (theta / s) ** 2 - (da / s) * (db / s)))

    if fp > fx:
        # case 1: a higher value; the minimiser is bracketed. Take the cubic step if it
        # is closer to stx than the quadratic (values and dx) step, else their midpoint.
        theta = 3.0 * (fx - fp) / (stp - stx) + dx + dp
        gamma = gamma_of(theta, dx, dp)
        if stp < stx:
            gamma = -gamma
        p = (gamma - dx) + theta
        q = ((gamma - dx) + gamma) + dp
        stpc = stx + (p / q) * (stp - stx)
        stpq = stx + ((dx / ((fx - fp) / (stp - stx) + dx)) / 2.0) * (stp - stx)
        stpf = stpc if abs(stpc - stx) < abs(stpq - stx) else stpc + (stpq - stpc) / 2.0
        brackt = True
    elif not same_sign:
        # case 2: lower value, derivatives of opposite signs: bracketed. The cubic step
        # if it is farther from stp than the secant step, else the secant step.
        theta = 3.0 * (fx - fp) / (stp - stx) + dx + dp
        gamma = gamma_of(theta, dx, dp)
        if stp > stx:
            gamma = -gamma
        p = (gamma - dp) + theta
        q = ((gamma - dp) + gamma) + dx
        stpc = stp + (p / q) * (stx - stp)
        stpq = stp + (dp / (dp - dx)) * (stx - stp)
        stpf = stpc if abs(stpc - stp) > abs(stpq - stp) else stpq
        brackt = True
    elif abs(dp) < abs(dx):
        # case 3: lower value, same sign, the derivative decreases in magnitude. The
        # cubic step only if it goes in the right direction (else to the bound).
        theta = 3.0 * (fx - fp) / (stp - stx) + dx + dp
        gamma = gamma_of(theta, dx, dp)
        if stp > stx:
            gamma = -gamma
        p = (gamma - dp) + theta
        q = (gamma + (dx - dp)) + gamma
        r = p / q
        if r < 0 and gamma != 0:
            stpc = stp + r * (stx - stp)
        else:
            stpc = stpmax if stp > stx else stpmin
        stpq = stp + (dp / (dp - dx)) * (stx - stp)
        if brackt:
            stpf = stpc if abs(stpc - stp) < abs(stpq - stp) else stpq
            bound = stp + 0.66 * (sty - stp)
            stpf = min(bound, stpf) if stp > stx else max(bound, stpf)
        else:
            stpf = stpc if abs(stpc - stp) > abs(stpq - stp) else stpq
            stpf = min(max(stpf, stpmin), stpmax)
    else:
        # case 4: lower value, same sign, the derivative does not decrease: the cubic
        # through stp and sty if bracketed, else the bound.
        if brackt:
            theta = 3.0 * (fp - fy) / (sty - stp) + dy + dp
            gamma = gamma_of(theta, dy, dp)
            if stp > sty:
                gamma = -gamma
            p = (gamma - dp) + theta
            q = ((gamma - dp) + gamma) + dy
            stpf = stp + (p / q) * (sty - stp)
        else:
            stpf = stpmax if stp > stx else stpmin
    if fp > fx:
        sty, fy, dy = stp, fp, dp
    else:
        if not same_sign:
            sty, fy, dy = stx, fx, dx
        stx, fx, dx = stp, fp, dp
    return stx, fx, dx, sty, fy, dy, float(stpf), brackt


def more_thuente(
    obj: Objective,
    x: np.ndarray,
    f: float,
    g: np.ndarray,
    d: np.ndarray,
    step: float = 1.0,
    c1: float = 1e-4,
    c2: float = 0.9,
    xtol: float = 1e-14,
    max_step: float = 1e10,
    max_evals: int = 30,
) -> LineSearchResult:
    """Moré & Thuente's (1994) line search for the strong Wolfe conditions
    φ(t) ≤ φ(0) + c1 t φ'(0), |φ'(t)| ≤ c2 |φ'(0)| along ``d`` (the algorithm of
    MINPACK-2's dcsrch, which scipy's BFGS and L-BFGS-B use).

    It keeps an interval of uncertainty [stx, sty] and chooses each trial by the
    safeguarded cubic/quadratic interpolation of :func:`_mt_step`; until a trial has
    sufficient decrease and φ' ≥ 0 it works on ψ(t) = φ(t) − φ(0) − c1 t φ'(0) (stage 1).
    Before bracketing, trials extrapolate into [t + 1.1(t − stx), t + 4(t − stx)]; once
    bracketed, two trials that have not shrunk the interval by a third force a
    bisection.
    Sufficient decrease is tested as in :func:`sufficient_decrease` (approximately where
    the values are within rounding). When it stops without meeting the conditions
    (``max_evals`` trials, a relative interval width below ``xtol``, rounding, or a
    non-finite trial value) the strong Wolfe search of :func:`strong_wolfe` takes over
    from the best point's step size, as scipy falls back from dcsrch to its zoom. Each
    trial costs one ``obj.value_and_grad``. Returns a :class:`LineSearchResult`.
    """
    if not 0 < c1 < c2 < 1:
        raise ValueError(f"more_thuente: need 0 < c1 < c2 < 1; got c1={c1}, c2={c2}.")
    d0 = float(g @ d)
    if not d0 < 0:
        return LineSearchResult(0.0, x, f, g, False)
    slack = APPROX_EPSILON * abs(f)
    gtest = c1 * d0
    stp = min(float(step), max_step)
    stx, fx, dx = 0.0, f, d0
    sty, fy, dy = 0.0, f, d0
    stmin, stmax = 0.0, stp + 4.0 * stp
    brackt, stage = False, 1
    width = max_step
    width1 = 2.0 * width
    for _ in range(max_evals):
        xt = x + stp * d
        ft, gt = obj.value_and_grad(xt)
        dt = float(gt @ d)
        if not (math.isfinite(ft) and math.isfinite(dt)):
            # interpolation needs finite data: the zoom of strong_wolfe backs off instead
            return strong_wolfe(obj, x, f, g, d, step=stp, c1=c1, c2=c2,
                                max_step=max_step, max_evals=max_evals)
        ok_decrease = sufficient_decrease(f, d0, stp, ft, dt, c1, slack)
        if ok_decrease and abs(dt) <= -c2 * d0:
            return LineSearchResult(stp, xt, ft, gt, True)
        ftest = f + stp * gtest
        if stage == 1 and ok_decrease and dt >= 0:
            stage = 2
        if brackt and (stp <= stmin or stp >= stmax or stmax - stmin <= xtol * stmax):
            break  # rounding errors, or the interval is too narrow
        if stp >= max_step and ft <= ftest and dt <= gtest:
            break
        try:
            if stage == 1 and ft <= fx and ft > ftest:
                # the modified function ψ has the same minimisers as φ's sufficient part
                res = _mt_step(stx, fx - stx * gtest, dx - gtest, sty, fy - sty * gtest,
                               dy - gtest, stp, ft - stp * gtest, dt - gtest, brackt, stmin,
                               stmax)
                stx, fx, dx, sty, fy, dy, stp, brackt = res
                fx, fy = fx + stx * gtest, fy + sty * gtest
                dx, dy = dx + gtest, dy + gtest
            else:
                stx, fx, dx, sty, fy, dy, stp, brackt = _mt_step(
                    stx, fx, dx, sty, fy, dy, stp, ft, dt, brackt, stmin, stmax
                )
        except ZeroDivisionError:  # degenerate interpolation data (rounding)
            break
        if not math.isfinite(stp):
            break
        if brackt:
            if abs(sty - stx) >= 0.66 * width1:
                stp = stx + 0.5 * (sty - stx)
            width1, width = width, abs(sty - stx)
            stmin, stmax = min(stx, sty), max(stx, sty)
        else:
            stmin, stmax = stp + 1.1 * (stp - stx), stp + 4.0 * (stp - stx)
        stp = min(max(stp, 0.0), max_step)
        if brackt and (stp <= stmin or stp >= stmax or stmax - stmin <= xtol * stmax):
            stp = stx
    fallback_step = stx if stx > 0 else min(float(step), max_step)
    return strong_wolfe(obj, x, f, g, d, step=fallback_step, c1=c1, c2=c2,
                        max_step=max_step, max_evals=max_evals)
