"""Integrals over regions beyond boxes, by a change of variables from a box.

A region is the image of a parameter box B = [lower, upper] ⊂ ℝᵏ under a map
φ: B → ℝᵈ (k ≤ d). Then

    ∫_{φ(B)} f dV = ∫_B f(φ(u)) · ρ(u) du,   ρ(u) = |det Jφ(u)|        (k = d)
                                            ρ(u) = √det(Jφ(u)ᵀ Jφ(u))  (k < d)

(the volume element; for a surface the area element, for a curve the arc length
element). :func:`integrate_region` builds that integrand and hands it to the box
integrator :func:`mlcalc.integrate.box.integrate`. ρ comes either from the region's
closed form (:meth:`element`, for the built-in regions) or from the engine:
``mc.vmap(mc.jacfwd(φ))`` at the nodes, then ``slogdet``. φ must be one-to-one on the
interior of B (a boundary of measure zero may be collapsed, as at the centre of a disk).

Built-in regions: :class:`Disk`, :class:`Annulus`, :class:`Ball` (any dimension ≥ 2),
:class:`Simplex` and :class:`Triangle` (Duffy's collapsed coordinates), and
:class:`SphereSurface` (the sphere Sᵈ⁻¹ ⊂ ℝᵈ as a (d−1)-manifold); :class:`MappedRegion`
for a user map. Convention: ``phi`` takes parameters of shape (..., k) (the built-in
maps broadcast over leading axes; a user map needs only accept one point (k,)) and
returns points (..., d); integrands take points (n, d) and return (n,) or (n, m).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

from ..autodiff.api import jacfwd
from ..autodiff.vmap import vmap
from .box import IntegrationResult, integrate

__all__ = [
    "Disk",
    "Annulus",
    "Ball",
    "Simplex",
    "Triangle",
    "SphereSurface",
    "MappedRegion",
    "RegionIntegral",
    "volume_element",
    "integrate_region",
]


def _vector(x, what: str, who: str) -> np.ndarray:
    arr = np.asarray(x, dtype=float)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{who}: {what} must be a non-empty 1-D array, got shape {arr.shape}.")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{who}: {what} must be finite, got {arr}.")
    return arr


def _positive(x, what: str, who: str, allow_zero: bool = False) -> float:
    v = float(x)
    if not (np.isfinite(v) and (v >= 0 if allow_zero else v > 0)):
        bound = "≥ 0" if allow_zero else "> 0"
        raise ValueError(f"{who}: {what} must be finite and {bound}, got {x!r}.")
    return v


def _unit_sphere(angles) -> Any:
    """Hyperspherical coordinates: angles (..., m) → unit vectors (..., m + 1).

    x₁ = cos θ₁, xⱼ = sin θ₁ ⋯ sin θⱼ₋₁ cos θⱼ, x_{m+1} = sin θ₁ ⋯ sin θ_m, with
    θ₁…θ_{m−1} ∈ [0, π] and θ_m ∈ [0, 2π]. Engine-friendly (traced angles work)."""
    m = angles.shape[-1]
    coords = []
    sines = None
    for j in range(m):
        t = angles[..., j]
        coords.append(np.cos(t) if sines is None else sines * np.cos(t))
        sines = np.sin(t) if sines is None else sines * np.sin(t)
    coords.append(sines)
    return np.stack(coords, axis=-1)


def _sphere_element(angles) -> Any:
    """The area element of the unit sphere in hyperspherical coordinates:
    ∏ⱼ sin^{m−j} θⱼ (j = 1…m−1) for angles (..., m)."""
    m = angles.shape[-1]
    out = np.ones(angles.shape[:-1])
    for j in range(m - 1):
        out = out * np.sin(angles[..., j]) ** (m - 1 - j)
    return out


def _angle_box(m: int) -> tuple[np.ndarray, np.ndarray]:
    upper = np.full(m, np.pi)
    upper[-1] = 2 * np.pi
    return np.zeros(m), upper


@dataclasses.dataclass(frozen=True, eq=False)
class Annulus:
    """The annulus r_in ≤ |x − center| ≤ r_out in ℝ², by polar coordinates
    u = (r, θ) ∈ [r_in, r_out] × [0, 2π]: φ(u) = center + r (cos θ, sin θ), ρ = r."""

    center: np.ndarray
    r_in: float
    r_out: float

    def __post_init__(self):
        c = _vector(self.center, "center", "Annulus")
        if c.shape != (2,):
            raise ValueError(f"Annulus: center must have shape (2,), got {c.shape}.")
        r_in = _positive(self.r_in, "r_in", "Annulus", allow_zero=True)
        r_out = _positive(self.r_out, "r_out", "Annulus")
        if not r_in < r_out:
            raise ValueError(f"Annulus: need r_in < r_out, got r_in={r_in}, r_out={r_out}.")
        object.__setattr__(self, "center", c)
        object.__setattr__(self, "r_in", r_in)
        object.__setattr__(self, "r_out", r_out)

    @property
    def dim(self) -> int:
        return 2

    @property
    def lower(self) -> np.ndarray:
        return np.array([self.r_in, 0.0])

    @property
    def upper(self) -> np.ndarray:
        return np.array([self.r_out, 2 * np.pi])

    def phi(self, u):
        """(r, θ) of shape (..., 2) → points (..., 2)."""
        return self.center + u[..., :1] * _unit_sphere(u[..., 1:])

    def element(self, u):
        """ρ(u) = r, shape u.shape[:-1]."""
        return u[..., 0]


@dataclasses.dataclass(frozen=True, eq=False)
class Disk:
    """The disk |x − center| ≤ radius in ℝ², by polar coordinates
    u = (r, θ) ∈ [0, radius] × [0, 2π]: φ(u) = center + r (cos θ, sin θ), ρ = r."""

    center: np.ndarray
    radius: float

    def __post_init__(self):
        c = _vector(self.center, "center", "Disk")
        if c.shape != (2,):
            raise ValueError(f"Disk: center must have shape (2,), got {c.shape}.")
        object.__setattr__(self, "center", c)
        object.__setattr__(self, "radius", _positive(self.radius, "radius", "Disk"))

    @property
    def dim(self) -> int:
        return 2

    @property
    def lower(self) -> np.ndarray:
        return np.zeros(2)

    @property
    def upper(self) -> np.ndarray:
        return np.array([self.radius, 2 * np.pi])

    def phi(self, u):
        """(r, θ) of shape (..., 2) → points (..., 2)."""
        return self.center + u[..., :1] * _unit_sphere(u[..., 1:])

    def element(self, u):
        """ρ(u) = r, shape u.shape[:-1]."""
        return u[..., 0]


@dataclasses.dataclass(frozen=True, eq=False)
class Ball:
    """The ball |x − center| ≤ radius in ℝᵈ (d = len(center) ≥ 2), by hyperspherical
    coordinates u = (r, θ₁, …, θ_{d−1}) ∈ [0, radius] × [0, π]^{d−2} × [0, 2π]:
    ρ(u) = r^{d−1} ∏ⱼ sin^{d−1−j} θⱼ."""

    center: np.ndarray
    radius: float

    def __post_init__(self):
        c = _vector(self.center, "center", "Ball")
        if c.size < 2:
            raise ValueError(f"Ball: center must have at least 2 entries, got shape {c.shape}.")
        object.__setattr__(self, "center", c)
        object.__setattr__(self, "radius", _positive(self.radius, "radius", "Ball"))

    @property
    def dim(self) -> int:
        return self.center.size

    @property
    def lower(self) -> np.ndarray:
        return np.concatenate([[0.0], _angle_box(self.dim - 1)[0]])

    @property
    def upper(self) -> np.ndarray:
        return np.concatenate([[self.radius], _angle_box(self.dim - 1)[1]])

    def phi(self, u):
        """(r, θ₁, …) of shape (..., d) → points (..., d)."""
        return self.center + u[..., :1] * _unit_sphere(u[..., 1:])

    def element(self, u):
        """ρ(u) = r^{d−1} ∏ sin^{d−1−j} θⱼ, shape u.shape[:-1]."""
        return u[..., 0] ** (self.dim - 1) * _sphere_element(u[..., 1:])


@dataclasses.dataclass(frozen=True, eq=False)
class SphereSurface:
    """The sphere |x − center| = radius in ℝᵈ (d = len(center) ≥ 2), a (d−1)-manifold
    (a circle for d = 2), by the angles u = (θ₁, …, θ_{d−1}) ∈ [0, π]^{d−2} × [0, 2π]:
    φ(u) = center + radius·(hyperspherical unit vector), area element
    ρ(u) = radius^{d−1} ∏ⱼ sin^{d−1−j} θⱼ (r² sin θ in ℝ³)."""

    center: np.ndarray
    radius: float

    def __post_init__(self):
        c = _vector(self.center, "center", "SphereSurface")
        if c.size < 2:
            raise ValueError(
                f"SphereSurface: center must have at least 2 entries, got shape {c.shape}."
            )
        object.__setattr__(self, "center", c)
        object.__setattr__(self, "radius", _positive(self.radius, "radius", "SphereSurface"))

    @property
    def dim(self) -> int:
        return self.center.size

    @property
    def lower(self) -> np.ndarray:
        return _angle_box(self.dim - 1)[0]

    @property
    def upper(self) -> np.ndarray:
        return _angle_box(self.dim - 1)[1]

    def phi(self, u):
        """Angles (..., d − 1) → points (..., d) on the sphere."""
        return self.center + self.radius * _unit_sphere(u)

    def element(self, u):
        """The area element radius^{d−1} ∏ sin^{d−1−j} θⱼ, shape u.shape[:-1]."""
        return self.radius ** (self.dim - 1) * _sphere_element(u)


@dataclasses.dataclass(frozen=True, eq=False)
class Simplex:
    """The k-simplex with vertices v₀…v_k (an array (k + 1, d), d ≥ k ≥ 1; k < d is a
    k-dimensional simplex embedded in ℝᵈ, e.g. a triangle in space), by Duffy's
    collapsed coordinates from the unit cube [0, 1]ᵏ:

        λⱼ = uⱼ ∏_{i<j} (1 − uᵢ),   φ(u) = v₀ + Σⱼ λⱼ (vⱼ − v₀),
        ρ(u) = V · ∏ᵢ (1 − uᵢ)^{k−i}   (i = 1…k),

    where V = √det(A Aᵀ) (|det A| when k = d) for the edge matrix A with rows vⱼ − v₀;
    the volume is V / k!."""

    vertices: np.ndarray

    def __post_init__(self):
        v = np.asarray(self.vertices, dtype=float)
        if v.ndim != 2 or v.shape[0] < 2 or v.shape[0] - 1 > v.shape[1]:
            raise ValueError(
                "Simplex: vertices must be an array (k + 1, d) with 1 ≤ k ≤ d, got shape "
                f"{v.shape}."
            )
        if not np.all(np.isfinite(v)):
            raise ValueError(f"Simplex: vertices must be finite, got {v}.")
        edges = v[1:] - v[0]
        if np.linalg.matrix_rank(edges) < edges.shape[0]:
            raise ValueError(
                f"Simplex: the vertices are affinely dependent (a degenerate simplex): {v}."
            )
        object.__setattr__(self, "vertices", v)

    @property
    def dim(self) -> int:
        return self.vertices.shape[1]

    @property
    def lower(self) -> np.ndarray:
        return np.zeros(self.vertices.shape[0] - 1)

    @property
    def upper(self) -> np.ndarray:
        return np.ones(self.vertices.shape[0] - 1)

    @property
    def scale(self) -> float:
        """V = √det(A Aᵀ) for the edge matrix A (rows vⱼ − v₀): k! times the volume."""
        edges = self.vertices[1:] - self.vertices[0]
        return float(np.sqrt(np.linalg.det(edges @ edges.T)))

    def phi(self, u):
        """u ∈ [0, 1]ᵏ of shape (..., k) → points (..., d) of the simplex."""
        edges = self.vertices[1:] - self.vertices[0]
        lam = []
        rest = None
        for j in range(u.shape[-1]):
            uj = u[..., j]
            lam.append(uj if rest is None else rest * uj)
            rest = 1 - uj if rest is None else rest * (1 - uj)
        return self.vertices[0] + np.stack(lam, axis=-1) @ edges

    def element(self, u):
        """ρ(u) = V ∏ᵢ (1 − uᵢ)^{k−i}, shape u.shape[:-1]."""
        k = u.shape[-1]
        out = np.full(u.shape[:-1], self.scale)
        for i in range(k - 1):
            out = out * (1 - u[..., i]) ** (k - 1 - i)
        return out


@dataclasses.dataclass(frozen=True, eq=False, init=False)
class Triangle(Simplex):
    """The triangle with corners a, b, c (points of ℝᵈ, d ≥ 2): ``Simplex([a, b, c])``."""

    def __init__(self, a, b, c):
        super().__init__(np.stack([np.asarray(p, dtype=float) for p in (a, b, c)]))


@dataclasses.dataclass(frozen=True, eq=False)
class MappedRegion:
    """The image φ(B) of the box B = [lower, upper] ⊂ ℝᵏ under a user map
    φ: ℝᵏ → ℝᵈ (k ≤ d; a point (k,) to a point (d,), written in NumPy so the engine
    can differentiate it). Its volume element (|det Jφ| for k = d, √det(JφᵀJφ) for
    k < d) always comes from the engine. ``dim`` (d) is found by one evaluation of φ
    at the box centre."""

    phi: Callable
    lower: np.ndarray
    upper: np.ndarray
    dim: int = dataclasses.field(init=False)

    def __post_init__(self):
        lo = _vector(self.lower, "lower", "MappedRegion")
        hi = _vector(self.upper, "upper", "MappedRegion")
        if lo.shape != hi.shape:
            raise ValueError(
                f"MappedRegion: lower has shape {lo.shape} but upper has shape {hi.shape}."
            )
        if not np.all(lo < hi):
            raise ValueError(f"MappedRegion: need lower < upper, got lower={lo}, upper={hi}.")
        if not callable(self.phi):
            raise TypeError(f"MappedRegion: phi must be callable, got {self.phi!r}.")
        x = np.asarray(self.phi(0.5 * (lo + hi)))
        if x.ndim != 1 or x.size < lo.size:
            raise ValueError(
                f"MappedRegion: phi must send a point of shape {lo.shape} to a point of "
                f"shape (d,) with d ≥ {lo.size}, but it returned shape {x.shape}."
            )
        object.__setattr__(self, "lower", lo)
        object.__setattr__(self, "upper", hi)
        object.__setattr__(self, "dim", x.size)


def volume_element(phi: Callable, u) -> tuple[np.ndarray, np.ndarray]:
    """(φ(u), ρ(u)) at parameters u of shape (n, k), with the Jacobians J (n, d, k) from
    the engine (``mc.vmap(mc.jacfwd(φ))``, the points as its aux) and
    ρ = |det J| = exp(slogdet J) when k = d, √det(JᵀJ) = exp(½ slogdet JᵀJ) when k < d.

    ``phi`` maps one point (k,) to one point (d,). Cost: one forward-mode sweep of φ with
    k tangents per point, plus an O(k³) determinant per point.
    """
    u = np.asarray(u, dtype=float)
    if u.ndim != 2:
        raise ValueError(f"volume_element: u must be a batch (n, k), got shape {u.shape}.")

    def with_point(p):
        x = phi(p)
        return x, x

    J, x = vmap(jacfwd(with_point, has_aux=True))(u)
    n, k = u.shape
    if np.ndim(x) != 2 or np.shape(x)[0] != n or np.shape(x)[1] < k:
        raise ValueError(
            f"volume_element: phi must map a point (k,) = ({k},) to a point (d,) with d ≥ "
            f"{k}; on a batch {u.shape} it gave {np.shape(x)}."
        )
    if np.shape(x)[1] == k:
        logdet = np.linalg.slogdet(J)[1]
        return x, np.exp(logdet)
    logdet = np.linalg.slogdet(np.swapaxes(J, -1, -2) @ J)[1]
    return x, np.exp(0.5 * logdet)


@dataclasses.dataclass(frozen=True, eq=False, kw_only=True)
class RegionIntegral(IntegrationResult):
    """The box integrator's result for the pulled-back integrand, with the ``region``
    integrated over and how its volume element was computed (``element``: "closed"
    or "engine")."""

    region: Any
    element: str


_ELEMENTS = ("auto", "closed", "engine")


def integrate_region(
    f: Callable,
    region: Any,
    method: str = "auto",
    rtol: float = 1e-8,
    atol: float = 0.0,
    max_evals: int | None = None,
    seed: int | None = None,
    element: str = "auto",
    order: int | None = None,
    randomisations: int = 16,
) -> RegionIntegral:
    """∫_region f dV = ∫_B f(φ(u)) ρ(u) du over the region's parameter box B, by
    :func:`mlcalc.integrate.box.integrate` (``method``, ``rtol``, ``atol``,
    ``max_evals``, ``seed``, ``order`` and ``randomisations`` are passed on, with its
    defaults). Differentiable like it: when ``f`` closes over traced values, so is the
    result's ``value``.

    ``f`` takes points (n, d) and returns (n,) or (n, m). ``element`` chooses ρ:
    "closed" the region's closed form (built-in regions), "engine" the Jacobian of
    φ by forward mode and a determinant (see :func:`volume_element`), "auto" the
    closed form where the region has one. A region is any object with ``phi``,
    ``lower``, ``upper`` and ``dim`` (and optionally ``element``).
    Cost: that of the box method, each integrand evaluation costing one f on the
    mapped points plus φ (closed form) or a k-tangent forward sweep of φ and an
    O(k³) determinant per point (engine).
    """
    if element not in _ELEMENTS:
        raise ValueError(f"integrate_region: element must be one of {_ELEMENTS}, not {element!r}.")
    for name in ("phi", "lower", "upper", "dim"):
        if not hasattr(region, name):
            raise TypeError(
                f"integrate_region: the region {region!r} has no {name!r}; use a built-in "
                "region or MappedRegion(phi, lower, upper)."
            )
    closed = getattr(region, "element", None)
    if element == "closed" and closed is None:
        raise ValueError(
            f"integrate_region: {type(region).__name__} has no closed-form volume element; "
            'use element="engine" (or "auto").'
        )
    use_closed = closed is not None and element != "engine"
    d = region.dim

    def pulled_back(u):
        u = np.asarray(u, dtype=float)
        x, rho = (region.phi(u), closed(u)) if use_closed else volume_element(region.phi, u)
        values = f(x)
        shape = np.shape(values)
        if shape[:1] != (u.shape[0],) or len(shape) > 2:
            raise ValueError(
                f"integrate_region: f must map points ({u.shape[0]}, {d}) to values "
                f"({u.shape[0]},) or ({u.shape[0]}, m), but it returned shape {shape}."
            )
        return values * (rho if len(shape) == 1 else rho[:, None])

    res = integrate(
        pulled_back,
        region.lower,
        region.upper,
        method=method,
        rtol=rtol,
        atol=atol,
        max_evals=max_evals,
        seed=seed,
        order=order,
        randomisations=randomisations,
    )
    base = {fld.name: getattr(res, fld.name) for fld in dataclasses.fields(res) if fld.init}
    return RegionIntegral(**base, region=region, element="closed" if use_closed else "engine")
