"""Line searches along a descent direction."""

from __future__ import annotations

import numpy as np

from .objective import Objective

__all__ = ["backtracking"]


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
