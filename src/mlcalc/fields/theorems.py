"""Green's, Stokes' and the divergence theorem: both sides computed independently, for
teaching and for checking. Regions are parametrised from boxes, with the area/volume
element from the engine's Jacobian."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..autodiff.api import jacfwd
from ..autodiff.vmap import vmap
from .integrals import flux, line_integral
from .operators import curl, divergence
from .quadrature import gauss_legendre

__all__ = ["Curve", "Patch", "TheoremCheck", "green", "stokes", "divergence_theorem"]


@dataclass(frozen=True)
class Curve:
    """A closed or open curve r: t ↦ R^d for t in [t0, t1]."""

    r: Callable
    t0: float
    t1: float


@dataclass(frozen=True)
class Patch:
    """A region, surface or volume parametrised by ``phi`` from the box ``bounds``
    [(lo, hi), ...]: φ: R^k ⊃ box → R^d (k = d for a region or volume, k = 2, d = 3 for a
    surface, oriented by ∂φ/∂u × ∂φ/∂v)."""

    phi: Callable
    bounds: tuple


@dataclass(frozen=True)
class TheoremCheck:
    """``lhs`` (the boundary integral), ``rhs`` (the interior integral), their
    ``difference`` and each side's quadrature error estimate."""

    lhs: float
    rhs: float
    difference: float
    lhs_error: float
    rhs_error: float


def _volume_integral(g: Callable, patch: Patch, order: int):
    """∫ g(φ(u)) |det Jφ(u)| du over the patch's box (k = d)."""

    def integrand(u):
        x = np.asarray(vmap(patch.phi)(u), dtype=float)
        det = np.abs(np.linalg.det(np.asarray(vmap(jacfwd(patch.phi))(u), dtype=float)))
        return np.asarray(g(x), dtype=float) * det

    return gauss_legendre(integrand, patch.bounds, order)


def _check(lhs, rhs) -> TheoremCheck:
    lv, rv = float(lhs.value), float(rhs.value)
    return TheoremCheck(lv, rv, lv - rv, lhs.error, rhs.error)


def green(F: Callable, curve: Curve, region: Patch, order: int = 24) -> TheoremCheck:
    """Green's theorem: ∮_C F·dr (lhs) against ∫∫_D (∂₁F₂ − ∂₂F₁) dA (rhs), C the
    positively oriented boundary of D."""
    lhs = line_integral(F, curve.r, curve.t0, curve.t1, order=2 * order)
    rhs = _volume_integral(lambda x: curl(F, x), region, order)
    return _check(lhs, rhs)


def stokes(F: Callable, surface: Patch, boundary: Curve, order: int = 24) -> TheoremCheck:
    """Stokes' theorem: ∮_∂S F·dr (lhs) against ∫∫_S (curl F)·n dS (rhs), the boundary
    oriented with the surface's normal ∂φ/∂u × ∂φ/∂v by the right-hand rule."""
    lhs = line_integral(F, boundary.r, boundary.t0, boundary.t1, order=2 * order)
    (u_bounds, v_bounds) = surface.bounds
    rhs = flux(lambda x: curl(F, x), surface.phi, u_bounds, v_bounds, order)
    return _check(lhs, rhs)


def divergence_theorem(F: Callable, volume: Patch, boundary, order: int = 16) -> TheoremCheck:
    """The divergence theorem: ∯_∂V F·n dS (lhs; ``boundary`` one outward-oriented
    surface Patch or a list of them) against ∭_V div F dV (rhs)."""
    pieces = boundary if isinstance(boundary, (list, tuple)) else [boundary]
    parts = [flux(F, s.phi, s.bounds[0], s.bounds[1], order=2 * order) for s in pieces]
    lhs_value = sum(float(p.value) for p in parts)
    lhs_error = sum(p.error for p in parts)
    rhs = _volume_integral(lambda x: divergence(F, x), volume, order)
    rv = float(rhs.value)
    return TheoremCheck(lhs_value, rv, lhs_value - rv, lhs_error, rhs.error)
