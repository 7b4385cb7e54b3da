"""Line and surface integrals over parametrised curves and surfaces, with the
parametrisation's derivatives from the engine.

A curve is r: t ↦ R^d (a function of a scalar t); a surface is r: (u, v) ↦ R³ (a
function of a 2-vector). Integrals use tensor Gauss–Legendre rules and report an error
estimate from two orders.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..autodiff.api import jacfwd
from ..autodiff.vmap import vmap
from .quadrature import QuadratureResult, gauss_legendre

__all__ = ["line_integral", "line_integral_scalar", "surface_integral", "flux"]


def _curve_points(curve: Callable, t: np.ndarray):
    """r(t) and r'(t) at the nodes t (shape (n,)): (n, d) each."""
    r = vmap(curve)(t)
    dr = vmap(jacfwd(curve))(t)
    return np.asarray(r, dtype=float), np.asarray(dr, dtype=float)


def line_integral(F: Callable, curve: Callable, t0: float, t1: float,
                  order: int = 32) -> QuadratureResult:
    """∫_C F·dr = ∫_{t0}^{t1} F(r(t))·r'(t) dt, with r'(t) by forward mode. Cost: 2 ×
    (order + 2·order) evaluations of F and of the curve's JVP."""

    def integrand(t):
        r, dr = _curve_points(curve, t[:, 0])
        return np.sum(np.asarray(vmap(F)(r), dtype=float) * dr, axis=-1)

    return gauss_legendre(integrand, [(t0, t1)], order)


def line_integral_scalar(f: Callable, curve: Callable, t0: float, t1: float,
                         order: int = 32) -> QuadratureResult:
    """∫_C f ds = ∫_{t0}^{t1} f(r(t)) ‖r'(t)‖ dt (with f ≡ 1: the arc length)."""

    def integrand(t):
        r, dr = _curve_points(curve, t[:, 0])
        return np.asarray(vmap(f)(r), dtype=float) * np.linalg.norm(dr, axis=-1)

    return gauss_legendre(integrand, [(t0, t1)], order)


def _surface_points(surface: Callable, uv: np.ndarray):
    """r(u, v) and the normal ∂r/∂u × ∂r/∂v at the nodes (n, 2)."""
    r = np.asarray(vmap(surface)(uv), dtype=float)
    J = np.asarray(vmap(jacfwd(surface))(uv), dtype=float)  # (n, 3, 2)
    if r.shape[-1] != 3:
        raise ValueError(f"a surface maps (u, v) to R^3; this one maps to shape {r.shape[1:]}.")
    return r, np.cross(J[..., 0], J[..., 1])


def surface_integral(f: Callable, surface: Callable, u_bounds, v_bounds,
                     order: int = 24) -> QuadratureResult:
    """∫_S f dS = ∫∫ f(r(u, v)) ‖∂r/∂u × ∂r/∂v‖ du dv (with f ≡ 1: the area)."""

    def integrand(uv):
        r, normal = _surface_points(surface, uv)
        return np.asarray(vmap(f)(r), dtype=float) * np.linalg.norm(normal, axis=-1)

    return gauss_legendre(integrand, [tuple(u_bounds), tuple(v_bounds)], order)


def flux(F: Callable, surface: Callable, u_bounds, v_bounds,
         order: int = 24) -> QuadratureResult:
    """∫_S F·n dS = ∫∫ F(r(u, v))·(∂r/∂u × ∂r/∂v) du dv; the orientation is that of
    ∂r/∂u × ∂r/∂v."""

    def integrand(uv):
        r, normal = _surface_points(surface, uv)
        return np.sum(np.asarray(vmap(F)(r), dtype=float) * normal, axis=-1)

    return gauss_legendre(integrand, [tuple(u_bounds), tuple(v_bounds)], order)
