"""The Euler–Lagrange residual of a trajectory for a Lagrangian L(t, q, q̇).

A trajectory q(t) makes the action J[q] = ∫ L(t, q, q̇) dt stationary exactly when

    E(t) = ∂L/∂q(t, q, q̇) − d/dt ∂L/∂q̇(t, q, q̇) = 0.

The convention of the sign: δJ = ∫ E·δq dt for variations δq vanishing at the ends.
``q`` is either a callable of t (then q̇ and the time derivative d/dt are exact, by
the engine) or samples on a grid. On a grid, q̇ and q̈ come from finite differences on
the five nearest nodes (Fornberg's weights, any spacing; one-sided near the ends), with
errors O(h⁴) and O(h³) (O(h⁴) for q̈ at interior nodes of a uniform grid), and then
d/dt ∂L/∂q̇ = ∂²L/∂q̇∂t + ∂²L/∂q̇∂q·q̇ + ∂²L/∂q̇²·q̈ by one forward-mode derivative of the
engine's ∂L/∂q̇ — so the residual is O(h³) up to the ends (differencing ∂L/∂q̇ itself
would lose an order next to the ends). ∂L/∂q and ∂L/∂q̇ are always by the engine. The
configuration q(t) is a scalar or a vector of shape (d,).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..autodiff.api import grad, jvp
from ..autodiff.vmap import vmap

__all__ = ["euler_lagrange_residual"]


def _scalar_lagrangian(L: Callable) -> Callable:
    def checked(t, q, qd):
        out = L(t, q, qd)
        if np.size(out) != 1:
            raise ValueError(f"L(t, q, q̇) must return a scalar; for q of shape {np.shape(q)} "
                             f"it returned shape {np.shape(out)}.")
        return np.reshape(out, ())
    return checked


def _times(t) -> np.ndarray:
    times = np.asarray(t, dtype=float)
    if times.ndim > 1:
        raise ValueError(f"euler_lagrange_residual: t must be a time or a 1-D array of times; "
                         f"got shape {times.shape}.")
    return times


def euler_lagrange_residual(L: Callable, q, t) -> np.ndarray:
    """E(t) = ∂L/∂q − d/dt ∂L/∂q̇ along the trajectory q at the times ``t``, for a
    Lagrangian ``L(t, q, q̇)`` returning a scalar.

    ``q`` callable: ``q(t)`` returns a scalar or a (d,) vector for a scalar time; q̇ is
    its forward-mode derivative and d/dt ∂L/∂q̇(t, q(t), q̇(t)) is a forward-mode
    derivative in t of the reverse-mode ∂L/∂q̇ (so q is differentiated twice). ``t`` a
    scalar or an array (n,). Cost per time: about one evaluation of L's gradient with
    two nested forward passes (vectorised over the times by vmap).

    ``q`` an array: samples q(t_i) of shape (n,) or (n, d) on the increasing grid ``t``
    (n ≥ 5); q̇ and q̈ are 5-point finite differences (see the module docstring), so the
    residual carries an O(h³) discretisation error, plus about ε/h² times the samples'
    own rounding ε. Cost: n forward-over-reverse derivatives of L, O(n) otherwise.

    Returns E with the times as leading axis: shape ``t.shape + q.shape`` (per time).
    """
    L = _scalar_lagrangian(L)
    times = _times(t)
    partials = grad(L, argnums=(1, 2))
    if callable(q):
        def velocity(s):
            return jvp(q, (s,), (np.ones_like(s),))[1]

        def momentum(s):
            return partials(s, q(s), velocity(s))[1]

        def residual(s):
            l_q = partials(s, q(s), velocity(s))[0]
            dp_dt = jvp(momentum, (s,), (np.ones_like(s),))[1]
            return l_q - dp_dt

        if times.ndim == 0:
            return np.asarray(residual(times), dtype=float)
        return np.asarray(vmap(residual)(times), dtype=float)
    samples = np.asarray(q, dtype=float)
    if times.ndim != 1 or times.size < 5 or samples.ndim not in (1, 2) or (
            samples.shape[0] != times.size):
        raise ValueError(f"euler_lagrange_residual: samples q need shape (n,) or (n, d) on a "
                         f"grid t of shape (n,), n ≥ 5; got q {samples.shape} and t "
                         f"{times.shape}.")
    if np.any(np.diff(times) <= 0):
        raise ValueError("euler_lagrange_residual: the grid t must be strictly increasing.")
    weights = _difference_weights(times)
    flat = samples.reshape(times.size, -1)
    velocity = np.einsum("kij,ij...->ki...", weights, flat[_stencils(times.size)])
    qd, qdd = (v.reshape(samples.shape) for v in velocity)

    def residual(s, q_s, qd_s, qdd_s):
        (l_q, _), (_, dp_dt) = jvp(partials, (s, q_s, qd_s), (np.ones_like(s), qd_s, qdd_s))
        return l_q - dp_dt

    return np.asarray(vmap(residual)(times, samples, qd, qdd), dtype=float)


def _stencils(n: int, width: int = 5) -> np.ndarray:
    """Indices (n, width) of the ``width`` nodes nearest each node (shifted at the ends)."""
    start = np.clip(np.arange(n) - width // 2, 0, n - width)
    return start[:, None] + np.arange(width)


def _difference_weights(t: np.ndarray, width: int = 5) -> np.ndarray:
    """Weights (2, n, width) of the first and second derivatives at each node from its
    stencil: the derivatives at t_i of the interpolating polynomial (Fornberg 1988,
    solved as a scaled Vandermonde system)."""
    idx = _stencils(t.size, width)
    out = np.empty((2, t.size, width))
    powers = np.arange(width)
    for i, nodes in enumerate(idx):
        d = t[nodes] - t[i]
        scale = np.max(np.abs(d))
        vander = (d / scale)[None, :] ** powers[:, None]  # row k: (d_j/scale)^k
        for order in (1, 2):
            rhs = np.zeros(width)
            rhs[order] = float(np.prod(np.arange(1, order + 1)))
            out[order - 1, i] = np.linalg.solve(vander, rhs) / scale ** order
    return out
