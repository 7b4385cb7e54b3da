"""Explicit Runge–Kutta solvers for dy/dt = f(y, t, *args), differentiable by the engine
through their steps (discretise-then-differentiate)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..autodiff.api import stop_gradient
from ..autodiff.core import full_lower
from ..numpy import stack

__all__ = ["odeint", "METHODS"]

# Butcher tableaus (a, b, c) of the fixed-step methods.
_TABLEAUS = {
    "euler": ((), (1.0,), (0.0,)),
    "heun": (((1.0,),), (0.5, 0.5), (0.0, 1.0)),
    "rk4": (((0.5,), (0.0, 0.5), (0.0, 0.0, 1.0)), (1 / 6, 1 / 3, 1 / 3, 1 / 6),
            (0.0, 0.5, 0.5, 1.0)),
}

# Dormand–Prince 5(4): stages, 5th-order weights b and 4th-order weights b_hat.
_DP_C = (0.0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1.0, 1.0)
_DP_A = (
    (),
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


def _rk_step(f, y, t, h, args, tableau):
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


def _dp_step(f, y, t, h, args):
    y5, ks = _rk_step(f, y, t, h, args, (_DP_A[1:], _DP_B, _DP_C))
    err = 0.0
    for bi, bhi, ki in zip(_DP_B, _DP_B_HAT, ks):
        if bi != bhi:
            err = err + (h * (bi - bhi)) * ki
    return y5, err


def odeint(
    f: Callable,
    y0,
    t,
    args: tuple = (),
    method: str = "rk45",
    rtol: float = 1e-6,
    atol: float = 1e-9,
    steps_per_interval: int = 1,
    first_step: float | None = None,
    max_steps: int = 100_000,
):
    """Solve dy/dt = f(y, t, *args), y(t[0]) = y0, and return y at every time of ``t``
    (shape ``(len(t),) + y0.shape``).

    ``euler`` (order 1), ``heun`` (2) and ``rk4`` (4) take ``steps_per_interval`` equal
    steps between consecutive times; ``rk45`` is Dormand–Prince 5(4) with the standard
    step-size control (error per step ≤ atol + rtol·|y| in the RMS norm), stepping
    exactly onto each requested time. The solution is differentiable by the engine with
    respect to y0 and args (the adaptive step sizes are decided on values and held
    fixed). Cost: 1/2/4 evaluations of f per fixed step, 6 per accepted rk45 step.
    """
    if method not in METHODS:
        raise ValueError(f"odeint: unknown method {method!r}; known methods: {', '.join(METHODS)}.")
    times = np.asarray(full_lower(t) if not isinstance(t, np.ndarray) else t, dtype=float)
    if times.ndim != 1 or times.size < 1:
        raise ValueError(f"odeint: t must be a 1-D array of times; got shape {times.shape}.")
    if np.any(np.diff(times) <= 0):
        raise ValueError("odeint: the times t must be strictly increasing.")
    y = y0
    out = [y]
    if method == "rk45":
        h = first_step
        steps = 0
        for t0, t1 in zip(times[:-1], times[1:]):
            tk = t0
            if h is None:
                h = _initial_step(f, y, tk, args, rtol, atol)
            while tk < t1:
                h = min(h, t1 - tk)
                y_new, err = _dp_step(f, y, tk, h, args)
                scale = atol + rtol * np.maximum(np.abs(_value(y)), np.abs(_value(y_new)))
                norm = float(np.sqrt(np.mean((_value(err) / scale) ** 2)))
                steps += 1
                if steps > max_steps:
                    raise RuntimeError(f"odeint: more than {max_steps} steps; the problem "
                                       "may be stiff (use a smaller interval or tolerance).")
                if norm <= 1.0 or h <= 1e-14 * max(1.0, abs(tk)):
                    tk = t1 if abs(t1 - (tk + h)) <= 1e-14 * max(1.0, abs(t1)) else tk + h
                    y = y_new
                factor = 0.9 * norm ** (-0.2) if norm > 0 else 5.0
                h = h * min(5.0, max(0.2, factor))
            out.append(y)
        return stack(out, axis=0)
    tableau = _TABLEAUS[method]
    for t0, t1 in zip(times[:-1], times[1:]):
        h = (t1 - t0) / steps_per_interval
        for k in range(steps_per_interval):
            y, _ = _rk_step(f, y, t0 + k * h, h, args, tableau)
        out.append(y)
    return stack(out, axis=0)


def _value(x) -> np.ndarray:
    return np.asarray(full_lower(stop_gradient(x)), dtype=float)


def _initial_step(f, y, t, args, rtol, atol) -> float:
    """Hairer–Nørsett–Wanner's starting step: h ≈ 0.01·‖y‖/‖f(y)‖, capped."""
    y_v = _value(y)
    f_v = _value(f(y, t, *args))
    scale = atol + rtol * np.abs(y_v)
    d0 = np.sqrt(np.mean((y_v / scale) ** 2))
    d1 = np.sqrt(np.mean((f_v / scale) ** 2))
    return float(0.01 * d0 / d1) if d0 > 1e-5 and d1 > 1e-5 else 1e-6
