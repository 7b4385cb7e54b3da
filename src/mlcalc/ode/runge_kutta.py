"""Explicit Runge–Kutta integration of dy/dt = f(y, t, *args) for a flat state vector,
differentiable by the engine through its steps (discretise-then-differentiate).

Fixed-step methods (Butcher tableaus): ``euler`` (order 1), ``heun`` (2), ``rk4`` (4).
Adaptive: ``rk45``, Dormand–Prince 5(4) with local extrapolation (the 5th-order
solution is propagated, the embedded 4th-order one only estimates the error) and the
standard controller (Hairer, Nørsett and Wanner, *Solving ODEs I*, §II.4): a step is
accepted when the RMS of err/(atol + rtol·max(|y|, |y_new|)) is ≤ 1, and the next step
is h·clip(0.9·norm^(−1/5), 0.2, 5) (no growth right after a rejection). The solver
steps exactly onto every requested time. Step sizes are decided on values, so the
derivative is the one of the discrete map with those steps held fixed.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..autodiff.api import stop_gradient
from ..numpy import stack

__all__ = ["METHODS", "dormand_prince_step", "integrate_flat"]

# Butcher tableaus (a rows, b, c) of the fixed-step methods.
_TABLEAUS = {
    "euler": ((), (1.0,), (0.0,)),
    "heun": (((1.0,),), (0.5, 0.5), (0.0, 1.0)),
    "rk4": (((0.5,), (0.0, 0.5), (0.0, 0.0, 1.0)), (1 / 6, 1 / 3, 1 / 3, 1 / 6),
            (0.0, 0.5, 0.5, 1.0)),
}

# Dormand–Prince 5(4): nodes, stage rows, 5th-order weights b and 4th-order weights b̂.
_DP_C = (0.0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1.0, 1.0)
_DP_A = (
    (1 / 5,),
    (3 / 40, 9 / 40),
    (44 / 45, -56 / 15, 32 / 9),
    (19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729),
    (9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656),
    (35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84),
)
_DP_B = (35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84, 0.0)
_DP_B_HAT = (5179 / 57600, 0.0, 7571 / 16695, 393 / 640, -92097 / 339200, 187 / 2100, 1 / 40)

METHODS = ("euler", "heun", "rk4", "rk45")


def _rk_step(f: Callable, y, t: float, h: float, args: tuple, tableau) -> tuple:
    """One explicit Runge–Kutta step: (y_new, stage derivatives k_i)."""
    a, b, c = tableau
    ks = []
    for i, ci in enumerate(c):
        yi = y
        for aij, kj in zip(a[i - 1] if i else (), ks):
            if aij:
                yi = yi + (h * aij) * kj
        ks.append(f(yi, t + ci * h, *args))
    out = y
    for bi, ki in zip(b, ks):
        if bi:
            out = out + (h * bi) * ki
    return out, ks


def dormand_prince_step(f: Callable, y, t: float, h: float, args: tuple = ()) -> tuple:
    """One Dormand–Prince step from (t, y) with step h: (y₅, y₅ − y₄), the 5th-order
    solution and the embedded error estimate. Cost: 7 evaluations of f (6 when the last
    stage is reused, which this plain version does not do)."""
    y5, ks = _rk_step(f, y, t, h, args, (_DP_A, _DP_B, _DP_C))
    err = 0.0
    for bi, bhi, ki in zip(_DP_B, _DP_B_HAT, ks):
        if bi != bhi:
            err = err + (h * (bi - bhi)) * ki
    return y5, err


def _value(x) -> np.ndarray:
    return np.asarray(stop_gradient(x), dtype=float)


def _initial_step(f: Callable, y, t: float, args: tuple, rtol: float, atol: float,
                  span: float) -> float:
    """Hairer–Nørsett–Wanner's starting step h ≈ 0.01·‖y‖/‖f(y)‖ (scaled norms),
    capped by the interval."""
    y_v = _value(y)
    f_v = _value(f(y, t, *args))
    scale = atol + rtol * np.abs(y_v)
    d0 = float(np.sqrt(np.mean((y_v / scale) ** 2)))
    d1 = float(np.sqrt(np.mean((f_v / scale) ** 2)))
    h = 0.01 * d0 / d1 if d0 > 1e-5 and d1 > 1e-5 else 1e-6
    return min(h, span)


def integrate_flat(
    f: Callable,
    y0,
    times: np.ndarray,
    args: tuple,
    method: str,
    rtol: float,
    atol: float,
    steps_per_interval: int,
    first_step: float | None,
    max_steps: int,
):
    """Solve dy/dt = f(y, t, *args) for a 1-D state from times[0] and return the states at
    every time, stacked (shape (len(times), n)). ``times`` strictly monotone (increasing
    or decreasing: a negative step integrates backwards). Cost: 1/2/4 evaluations of f
    per fixed step; 7 per attempted rk45 step."""
    y = y0
    out = [y]
    if method != "rk45":
        tableau = _TABLEAUS[method]
        for t0, t1 in zip(times[:-1], times[1:]):
            h = (t1 - t0) / steps_per_interval
            for k in range(steps_per_interval):
                y, _ = _rk_step(f, y, t0 + k * h, h, args, tableau)
            out.append(y)
        return stack(out, axis=0)
    direction = 1.0 if times[-1] >= times[0] else -1.0
    h = abs(first_step) if first_step else None
    steps = 0
    for t0, t1 in zip(times[:-1], times[1:]):
        tk = float(t0)
        if h is None:
            h = _initial_step(f, y, tk, args, rtol, atol, abs(t1 - t0))
        while direction * (t1 - tk) > 0:
            remaining = abs(t1 - tk)
            last = h >= remaining * (1 - 1e-12)
            step = remaining if last else h
            y_new, err = dormand_prince_step(f, y, tk, direction * step, args)
            scale = atol + rtol * np.maximum(np.abs(_value(y)), np.abs(_value(y_new)))
            norm = float(np.sqrt(np.mean((_value(err) / scale) ** 2)))
            steps += 1
            if steps > max_steps:
                raise RuntimeError(
                    f"odeint: more than max_steps={max_steps} rk45 steps before t={t1}; the "
                    "problem may be stiff or singular (raise max_steps or loosen rtol/atol)."
                )
            if not np.isfinite(norm):
                norm = np.inf
            accepted = norm <= 1.0 or step <= 1e-14 * max(1.0, abs(tk))
            factor = 0.9 * norm ** -0.2 if norm > 0 else 5.0
            if accepted:
                tk = float(t1) if last else tk + direction * step
                y = y_new
                proposal = step * min(5.0, max(0.2, factor))
                # a step shortened to land on t1 says little about the next one
                h = max(proposal, h) if step < h else proposal
            else:
                h = step * min(1.0, max(0.2, factor))
        out.append(y)
    return stack(out, axis=0)
