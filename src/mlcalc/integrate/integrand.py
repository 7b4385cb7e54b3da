"""The integrand as the box methods see it: a finite box, points (n, d) in, values
(n, k) out, infinite limits mapped away, evaluations counted.

Infinite limits (a documented change of variables per axis, with its Jacobian factor):

- [a, ∞):  x = a + t/(1 − t),  t ∈ [0, 1),  dx = dt/(1 − t)²;
- (−∞, b]: x = b − t/(1 − t),  t ∈ [0, 1),  dx = dt/(1 − t)² (orientation reversed);
- (−∞, ∞): x = t/(1 − t²),     t ∈ (−1, 1), dx = (1 + t²)/(1 − t²)² dt.

Points on the open end (only Monte Carlo draws can land there) are moved to the
nearest float inside. ``lower > upper`` on an axis integrates with the opposite sign.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..autodiff.core import full_lower, is_tracer

__all__: list[str] = []

_OPEN_HI = np.nextafter(1.0, 0.0)


def as_limits(lower: Any, upper: Any) -> tuple[np.ndarray, np.ndarray]:
    """``lower`` and ``upper`` as float vectors of one length d ≥ 1 (scalars: d = 1)."""
    lo = np.atleast_1d(np.asarray(lower, dtype=float))
    hi = np.atleast_1d(np.asarray(upper, dtype=float))
    if lo.ndim != 1 or lo.shape != hi.shape or lo.size == 0:
        raise ValueError(
            f"integrate: lower and upper must be scalars or vectors of one length d ≥ 1; "
            f"got shapes {np.shape(lower)} and {np.shape(upper)}."
        )
    if np.isnan(lo).any() or np.isnan(hi).any():
        raise ValueError(f"integrate: the limits contain NaN: lower={lo}, upper={hi}.")
    return lo, hi


class Integrand:
    """``f`` pulled back to a finite box [t_lo, t_hi] (infinite axes mapped as in the
    module docstring). ``self(T)`` returns the values (n, k) — traced when f closes
    over traced values — with the Jacobian factor applied; ``nfev`` counts points."""

    def __init__(self, f: Callable, lower: np.ndarray, upper: np.ndarray):
        self.f = f
        self.d = lower.size
        self.sign = 1.0
        lo, hi = lower.copy(), upper.copy()
        flip = lo > hi
        lo[flip], hi[flip] = upper[flip], lower[flip]
        self.sign = -1.0 if flip.sum() % 2 else 1.0
        self.lo, self.hi = lo, hi
        self.kind = np.zeros(self.d, dtype=int)  # 0 finite, 1 [a,∞), 2 (−∞,b], 3 ℝ
        self.kind[np.isfinite(lo) & np.isposinf(hi)] = 1
        self.kind[np.isneginf(lo) & np.isfinite(hi)] = 2
        self.kind[np.isneginf(lo) & np.isposinf(hi)] = 3
        bad = (np.isinf(lo) | np.isinf(hi)) & (self.kind == 0)
        if bad.any():
            raise ValueError(f"integrate: empty infinite interval(s) from {lower} to {upper}.")
        self.t_lo = np.where(self.kind == 3, -1.0, np.where(self.kind == 0, lo, 0.0))
        self.t_hi = np.where(self.kind == 0, hi, 1.0)
        self.infinite = bool((self.kind > 0).any())
        self.nfev = 0
        self.k: int | None = None  # components of a vector integrand; None: scalar
        self.traced = False

    def _map(self, T: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        if not self.infinite:
            return T, None
        X = T.copy()
        jac = np.ones(T.shape[0])
        with np.errstate(divide="ignore", invalid="ignore"):
            for i in np.flatnonzero(self.kind):
                t = T[:, i]
                if self.kind[i] == 3:
                    t = np.clip(t, -_OPEN_HI, _OPEN_HI)
                    X[:, i] = t / (1 - t * t)
                    jac *= (1 + t * t) / (1 - t * t) ** 2
                else:
                    t = np.minimum(t, _OPEN_HI)
                    s = t / (1 - t)
                    X[:, i] = self.lo[i] + s if self.kind[i] == 1 else self.hi[i] - s
                    jac *= 1 / (1 - t) ** 2
        return X, jac

    def __call__(self, T: np.ndarray):
        X, jac = self._map(T)
        n = T.shape[0]
        y = self.f(X)
        if not is_tracer(y):
            y = np.asarray(y, dtype=float)
        shape = tuple(y.shape)
        if len(shape) not in (1, 2) or shape[0] != n:
            raise ValueError(
                f"integrate: f must map points of shape ({n}, {self.d}) to values of shape "
                f"({n},) or ({n}, k), but it returned shape {shape}."
            )
        k = None if len(shape) == 1 else shape[1]
        if self.nfev and k != self.k:
            raise ValueError(f"integrate: f changed its output shape between calls: {shape}.")
        self.k = k
        self.nfev += n
        if is_tracer(y):
            if full_lower(y).shape != shape:
                raise NotImplementedError(
                    "integrate cannot run under vmap (its error estimates and decisions "
                    "read each integrand's values); vmap the integrand, or loop over the "
                    "parameters."
                )
            self.traced = True
        if k is None:
            y = np.reshape(y, (n, 1))
        if jac is not None:
            y = y * jac[:, None]
        return y if self.sign > 0 else -y


def plain(x) -> np.ndarray:
    """The values of ``x`` with any tracing stripped (for error estimates and decisions)."""
    return np.asarray(full_lower(x), dtype=float)


def finish(integrand: Integrand, value, error: np.ndarray):
    """The value and error in the caller's shape: scalars for a scalar integrand (a
    float, or a 0-d traced value), (k,) arrays for a vector integrand."""
    error = np.asarray(error, dtype=float)
    if integrand.k is None:
        value = value[0]
        if not is_tracer(value):
            value = float(value)
        return value, float(error[0])
    return value, error
