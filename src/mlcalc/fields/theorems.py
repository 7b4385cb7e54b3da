"""Green's, Stokes' and the divergence theorem: both sides computed independently (the
boundary side by line or flux integrals, the interior side by integrating the curl or
the divergence), for teaching and for checking.

Describing the geometry: a :class:`Curve` is r: t ↦ R^d on [t0, t1]; a boundary is one
curve or a sequence of pieces (:func:`polygon` gives the sides of a polygon). A
:class:`Patch` is a region, surface or volume parametrised by φ from a box of
parameters; the area or volume element |det Jφ| and the surface normal
∂φ/∂u × ∂φ/∂v come from the engine's Jacobian of φ. :func:`triangle` is a ready-made
planar region.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..autodiff.api import jacfwd
from ..autodiff.vmap import vmap
from .integrals import flux, line_integral
from .operators import curl, divergence
from .quadrature import QuadratureResult, gauss_legendre

__all__ = ["Curve", "Patch", "TheoremCheck", "segment", "polygon", "triangle", "green",
           "stokes", "divergence_theorem"]


@dataclass(frozen=True)
class Curve:
    """A curve piece r: t ↦ R^d (written for one scalar t) for t from t0 to t1, oriented
    from r(t0) to r(t1)."""

    r: Callable
    t0: float
    t1: float


@dataclass(frozen=True)
class Patch:
    """A region, surface or volume φ(box): φ maps a parameter point (k,) of the box
    ``bounds`` ((lo, hi), ...) to R^d. k = d = 2 for a planar region, k = d = 3 for a
    volume (element |det Jφ|); k = 2, d = 3 for a surface, oriented by ∂φ/∂u × ∂φ/∂v."""

    phi: Callable
    bounds: tuple


@dataclass(frozen=True)
class TheoremCheck:
    """Both sides of an integral theorem: ``lhs`` (the boundary integral, the sum of
    ``pieces``, one :class:`QuadratureResult` per boundary piece), ``rhs`` (the interior
    integral, ``interior``), ``difference`` = lhs − rhs, each side's error estimate, and
    ``agree``: |difference| ≤ lhs_error + rhs_error + 100ε(|lhs| + |rhs|)."""

    theorem: str
    lhs: float
    rhs: float
    difference: float
    lhs_error: float
    rhs_error: float
    agree: bool
    pieces: tuple[QuadratureResult, ...]
    interior: QuadratureResult


def segment(a, b) -> Curve:
    """The straight segment from a to b: r(t) = a + t(b − a), t in [0, 1]."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"a segment joins two points of the same shape (d,); got {a.shape} "
                         f"and {b.shape}.")
    return Curve(lambda t: a + t * (b - a), 0.0, 1.0)


def polygon(vertices) -> tuple[Curve, ...]:
    """The closed polygon through ``vertices`` (m, d) in order, as m segments (the last
    back to the first); counter-clockwise vertices give the positive orientation in 2-D."""
    v = np.asarray(vertices, dtype=float)
    if v.ndim != 2 or len(v) < 3:
        raise ValueError(f"a polygon needs at least 3 vertices as an (m, d) array; got shape "
                         f"{v.shape}.")
    return tuple(segment(v[i], v[(i + 1) % len(v)]) for i in range(len(v)))


def triangle(a, b, c) -> Patch:
    """The planar triangle abc as a Patch from the unit square,
    φ(s, t) = a + s(b − a) + st(c − b) (the collapsed, or Duffy, map; |det Jφ| = 2·area·s)."""
    a, b, c = (np.asarray(p, dtype=float) for p in (a, b, c))
    if not a.shape == b.shape == c.shape == (2,):
        raise ValueError(f"a triangle needs three points of shape (2,); got {a.shape}, "
                         f"{b.shape}, {c.shape}.")
    return Patch(lambda u: a + u[0] * (b - a) + u[0] * u[1] * (c - b), ((0.0, 1.0), (0.0, 1.0)))


def _pieces(boundary, kind, what: str) -> tuple:
    pieces = tuple(boundary) if isinstance(boundary, Sequence) else (boundary,)
    if not pieces or not all(isinstance(p, kind) for p in pieces):
        raise TypeError(f"{what} must be a {kind.__name__} or a sequence of them; got "
                        f"{boundary!r}.")
    return pieces


def _patch_dims(patch: Patch, k: int, d: int, what: str) -> None:
    """Checks that ``patch`` maps a k-box into R^d."""
    if not isinstance(patch, Patch):
        raise TypeError(f"{what} must be a Patch(phi, bounds); got {patch!r}.")
    b = np.asarray(patch.bounds, dtype=float)
    if b.shape != (k, 2):
        raise ValueError(f"{what} needs {k} parameter intervals, bounds of shape ({k}, 2); got "
                         f"shape {b.shape}.")
    out = np.shape(patch.phi(b.mean(axis=1)))
    if out != (d,):
        raise ValueError(f"{what} must map parameters ({k},) to points ({d},); it gave shape "
                         f"{out}.")


def _interior(g: Callable, patch: Patch, quad: dict) -> QuadratureResult:
    """∫ g(φ(u)) |det Jφ(u)| du over the patch's box (k = d); g takes a batch (n, d)."""

    def integrand(u):
        x = np.asarray(vmap(patch.phi)(u), dtype=float)
        det = np.abs(np.linalg.det(np.asarray(vmap(jacfwd(patch.phi))(u), dtype=float)))
        return np.asarray(g(x), dtype=float) * det

    bounds = [tuple(sorted(map(float, p))) for p in patch.bounds]
    return gauss_legendre(integrand, bounds, **quad)


def _check(theorem: str, pieces: tuple, interior: QuadratureResult) -> TheoremCheck:
    lhs = float(sum(p.value for p in pieces))
    lhs_error = float(sum(p.error for p in pieces))
    rhs = float(interior.value)
    diff = lhs - rhs
    slack = lhs_error + interior.error + 100 * np.finfo(float).eps * (abs(lhs) + abs(rhs))
    return TheoremCheck(theorem, lhs, rhs, diff, lhs_error, interior.error,
                        bool(abs(diff) <= slack), pieces, interior)


def green(F: Callable, curve, region: Patch, rtol: float = 1e-10,
          atol: float = 0.0) -> TheoremCheck:
    """Green's theorem, ∮_C F·dr (lhs) = ∫∫_D (∂₁F₂ − ∂₂F₁) dA (rhs), for F: R² → R²,
    C = ∂D positively oriented (counter-clockwise; holes clockwise), given as one
    :class:`Curve` or a sequence of pieces, and D a planar :class:`Patch`. Cost: the line
    integrals (one F and one curve JVP per node) and the area integral (one field
    Jacobian and one Jacobian of φ per node), each adaptive to rtol/atol."""
    curves = _pieces(curve, Curve, "green's curve")
    _patch_dims(region, 2, 2, "green's region")
    quad = {"rtol": rtol, "atol": atol}
    pieces = tuple(line_integral(F, c.r, c.t0, c.t1, **quad) for c in curves)
    return _check("green", pieces, _interior(lambda x: curl(F, x), region, quad))


def stokes(F: Callable, surface: Patch, boundary, rtol: float = 1e-10,
           atol: float = 0.0) -> TheoremCheck:
    """Stokes' theorem, ∮_∂S F·dr (lhs) = ∫∫_S (curl F)·n dS (rhs), for F: R³ → R³, S a
    surface :class:`Patch` with n = ∂φ/∂u × ∂φ/∂v, and its boundary (one :class:`Curve`
    or pieces) oriented with n by the right-hand rule. Cost: the line integrals and one
    flux integral of curl F (a field Jacobian per node), adaptive to rtol/atol."""
    curves = _pieces(boundary, Curve, "stokes' boundary")
    _patch_dims(surface, 2, 3, "stokes' surface")
    quad = {"rtol": rtol, "atol": atol}
    pieces = tuple(line_integral(F, c.r, c.t0, c.t1, **quad) for c in curves)
    (u_bounds, v_bounds) = surface.bounds
    interior = flux(lambda x: curl(F, x), surface.phi, u_bounds, v_bounds, **quad)
    return _check("stokes", pieces, interior)


def divergence_theorem(F: Callable, volume: Patch, boundary, rtol: float = 1e-10,
                       atol: float = 0.0) -> TheoremCheck:
    """The divergence theorem, ∯_∂V F·n dS (lhs) = ∭_V div F dV (rhs), for F: R³ → R³, V a
    volume :class:`Patch` (box of 3 parameters) and its boundary one surface Patch or a
    sequence of pieces, each with ∂φ/∂u × ∂φ/∂v pointing outward. Cost: one flux
    integral per piece and a volume integral of div F (a field Jacobian and a Jacobian
    of φ per node), adaptive to rtol/atol."""
    surfaces = _pieces(boundary, Patch, "the divergence theorem's boundary")
    _patch_dims(volume, 3, 3, "the divergence theorem's volume")
    for s in surfaces:
        _patch_dims(s, 2, 3, "each boundary surface")
    quad = {"rtol": rtol, "atol": atol}
    pieces = tuple(flux(F, s.phi, s.bounds[0], s.bounds[1], **quad) for s in surfaces)
    return _check("divergence", pieces, _interior(lambda x: divergence(F, x), volume, quad))
