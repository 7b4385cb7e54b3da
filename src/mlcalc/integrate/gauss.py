"""Tensor Gauss–Legendre cubature on a box, with an error estimate from a second order.

Q_n f = Σ_{i ∈ [n]ᵈ} (Π_j w_{i_j} h_j) f(c + h ⊙ x_i) on the box with centre c and
half-widths h, exact for polynomials of degree ≤ 2n − 1 in each variable. The reported
error is |Q_n − Q_m| with m = ⌈n/2⌉: for a smooth integrand it estimates the error of
the coarser rule, so it bounds Q_n's error with a wide margin. It is floored at
50ε·Q_n|f| (rounding).
"""

from __future__ import annotations

import numpy as np

from .integrand import Integrand, plain
from .rules import gauss_legendre

__all__: list[str] = []

_CHUNK = 1 << 18  # points per call of f


def default_order(d: int, max_evals: int) -> int:
    """The largest n ≤ 64 (1-D) or ≤ 32 with nᵈ + ⌈n/2⌉ᵈ ≤ max_evals (at least 2)."""
    n = 64 if d == 1 else 32
    while n > 2 and n**d + ((n + 1) // 2) ** d > max_evals:
        n -= 1
    return n


def tensor_rule(integrand: Integrand, n: int):
    """Q_n over the integrand's finite box: the (k,) estimate (traced when the values
    are) and the plain ∫|f| by the same rule. Cost: nᵈ evaluations of f, in calls of
    at most 2¹⁸ points."""
    d = integrand.d
    x, w = gauss_legendre(n)
    c = (integrand.t_lo + integrand.t_hi) / 2
    h = (integrand.t_hi - integrand.t_lo) / 2
    total, magnitude = None, 0.0
    size = n**d
    for start in range(0, size, _CHUNK):
        idx = np.unravel_index(np.arange(start, min(size, start + _CHUNK)), (n,) * d)
        T = c + h * np.stack([x[i] for i in idx], axis=1)
        weights = np.prod(np.stack([w[i] for i in idx], axis=1), axis=1) * np.prod(h)
        Y = integrand(T)
        part = weights @ Y
        total = part if total is None else total + part
        magnitude = magnitude + np.abs(weights) @ np.abs(plain(Y))
    return total, magnitude


def gauss(integrand: Integrand, order: int, tol_of) -> tuple:
    """(value, error, success, message) of Q_order with the error |Q_order − Q_⌈order/2⌉|
    judged against ``tol_of(value)``."""
    coarse = (order + 1) // 2
    value, magnitude = tensor_rule(integrand, order)
    if coarse == order:
        error = np.full(np.shape(plain(value)), np.inf)
    else:
        error = np.abs(plain(value) - plain(tensor_rule(integrand, coarse)[0]))
    error = np.maximum(error, 50 * np.finfo(float).eps * magnitude)
    ok = bool(np.all(error <= tol_of(plain(value))))
    msg = (f"tensor Gauss–Legendre of order {order} ({order}^{integrand.d} points), error "
           f"estimated against order {coarse}; "
           + ("tolerance met" if ok else "the estimate exceeds the tolerance"))
    return value, error, ok, msg
