"""Line and surface integrals over parametrised curves and surfaces, the
parametrisation's derivatives from the engine.

Conventions: a curve is r: t ↦ R^d, written for one scalar t; a surface is
r: (u, v) ↦ R^d, written for one 2-vector (u, v); fields are written for one point
(d,) (a vector field returns (d,), a scalar field a scalar). Everything is vmapped over
the quadrature nodes, so none of these functions sees a batch axis. The integrals use
the adaptive tensor Gauss–Legendre rule of :mod:`.quadrature` and return its
:class:`~.quadrature.QuadratureResult` (value, error estimate, nfev, method, success).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..autodiff.api import jacfwd, jvp
from ..autodiff.vmap import vmap
from .quadrature import QuadratureResult, gauss_legendre

__all__ = ["line_integral", "line_integral_scalar", "surface_integral", "flux"]


def _interval(bounds, name: str) -> tuple[float, float]:
    pair = np.asarray(bounds, dtype=float)
    if pair.shape != (2,):
        raise ValueError(f"{name} must be a pair (lo, hi); got shape {pair.shape}.")
    return float(pair[0]), float(pair[1])


def _curve_points(curve: Callable, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """r(t) and r'(t) at the nodes t (n,), both (n, d), from one forward-mode pass."""
    r, dr = vmap(lambda s: jvp(curve, (s,), (np.ones_like(s),)))(t)
    r, dr = np.asarray(r, dtype=float), np.asarray(dr, dtype=float)
    if r.ndim != 2:
        raise ValueError(f"a curve maps a scalar t to a point (d,); at {len(t)} nodes it gave "
                         f"shape {r.shape}, expected ({len(t)}, d).")
    return r, dr


def _field_values(F: Callable, r: np.ndarray, vector: bool) -> np.ndarray:
    vals = np.asarray(vmap(F)(r), dtype=float)
    expected = r.shape if vector else r.shape[:1]
    if vals.shape != expected:
        kind = f"a vector ({r.shape[1]},)" if vector else "a scalar"
        raise ValueError(f"the field must return {kind} per point: on points of shape "
                         f"{r.shape} it returned shape {vals.shape}, expected {expected}.")
    return vals


def line_integral(F: Callable, curve: Callable, t0: float, t1: float, order: int | None = None,
                  rtol: float = 1e-10, atol: float = 0.0,
                  max_evals: int = 200_000) -> QuadratureResult:
    """∫_C F·dr = ∫_{t0}^{t1} F(r(t))·r'(t) dt (the work of F along C, oriented from
    r(t0) to r(t1)), with r'(t) by forward mode. Cost: per node one evaluation of F and
    one JVP of the curve; n + (2n+1) nodes per panel (n = ``order``, default 16), panels
    bisected until the error estimate meets max(atol, rtol·|value|)."""
    t0, t1 = _interval((t0, t1), "(t0, t1)")

    def integrand(t):
        r, dr = _curve_points(curve, t[:, 0])
        return np.sum(_field_values(F, r, vector=True) * dr, axis=-1)

    return gauss_legendre(integrand, [(t0, t1)], order, rtol, atol, max_evals)


def line_integral_scalar(f: Callable, curve: Callable, t0: float, t1: float,
                         order: int | None = None, rtol: float = 1e-10, atol: float = 0.0,
                         max_evals: int = 200_000) -> QuadratureResult:
    """∫_C f ds = ∫_{t0}^{t1} f(r(t)) ‖r'(t)‖ dt (independent of the orientation, so the
    ends may come in either order; with f ≡ 1 the arc length), r'(t) by forward mode.
    Cost: as :func:`line_integral`."""
    t0, t1 = _interval((t0, t1), "(t0, t1)")
    lo, hi = min(t0, t1), max(t0, t1)

    def integrand(t):
        r, dr = _curve_points(curve, t[:, 0])
        return _field_values(f, r, vector=False) * np.linalg.norm(dr, axis=-1)

    return gauss_legendre(integrand, [(lo, hi)], order, rtol, atol, max_evals)


def surface_points(surface: Callable, uv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """r(u, v) (n, d) and the tangents ∂r/∂u, ∂r/∂v stacked as the Jacobian (n, d, 2) at
    the parameter nodes uv (n, 2), the Jacobian by forward mode."""
    r = np.asarray(vmap(surface)(uv), dtype=float)
    if r.ndim != 2:
        raise ValueError(f"a surface maps (u, v) to a point (d,); at nodes of shape {uv.shape}"
                         f" it gave shape {r.shape}, expected ({len(uv)}, d).")
    J = np.asarray(vmap(jacfwd(surface))(uv), dtype=float)
    return r, J


def surface_integral(f: Callable, surface: Callable, u_bounds, v_bounds,
                     order: int | None = None, rtol: float = 1e-10, atol: float = 0.0,
                     max_evals: int = 500_000) -> QuadratureResult:
    """∫_S f dS = ∫∫ f(r(u, v)) √det(JᵀJ) du dv over the rectangle u_bounds × v_bounds,
    J = [∂r/∂u ∂r/∂v] by forward mode; in R³ the area element √det(JᵀJ) is
    ‖∂r/∂u × ∂r/∂v‖, and in any R^d it is the Gram determinant's root (with f ≡ 1: the
    area; the parameter intervals may come in either order). Cost: per node one
    evaluation of f and of r plus a Jacobian of r (2 JVPs); n² + (2n+1)² nodes per cell,
    n = ``order`` (default 10), adaptive to max(atol, rtol·|value|)."""
    u_bounds = tuple(sorted(_interval(u_bounds, "u_bounds")))
    v_bounds = tuple(sorted(_interval(v_bounds, "v_bounds")))

    def integrand(uv):
        r, J = surface_points(surface, uv)
        gram = np.einsum("ndi,ndj->nij", J, J)
        return _field_values(f, r, vector=False) * np.sqrt(np.abs(np.linalg.det(gram)))

    return gauss_legendre(integrand, [u_bounds, v_bounds], order, rtol, atol, max_evals)


def flux(F: Callable, surface: Callable, u_bounds, v_bounds, order: int | None = None,
         rtol: float = 1e-10, atol: float = 0.0, max_evals: int = 500_000) -> QuadratureResult:
    """∫_S F·n dS = ∫∫ F(r(u, v))·(∂r/∂u × ∂r/∂v) du dv for a surface in R³; the
    orientation is that of ∂r/∂u × ∂r/∂v (reverse it by swapping u and v, or the ends of
    a parameter interval). Cost: as :func:`surface_integral`."""
    u_bounds, v_bounds = _interval(u_bounds, "u_bounds"), _interval(v_bounds, "v_bounds")

    def integrand(uv):
        r, J = surface_points(surface, uv)
        if r.shape[1] != 3:
            raise ValueError(f"flux needs a surface in R^3 (the normal ∂r/∂u × ∂r/∂v); this "
                             f"one maps (u, v) to shape {r.shape[1:]}.")
        normal = np.cross(J[..., 0], J[..., 1])
        return np.sum(_field_values(F, r, vector=True) * normal, axis=-1)

    return gauss_legendre(integrand, [u_bounds, v_bounds], order, rtol, atol, max_evals)
