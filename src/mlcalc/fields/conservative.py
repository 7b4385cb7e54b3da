"""Conservative fields: the test (a symmetric Jacobian, i.e. zero curl, sampled in a
box) and the potential recovered by line integrals along segments.

The test is local: a C¹ field on a simply connected region is a gradient exactly when
its Jacobian is symmetric there. A singularity the samples miss (the vortex
(−y, x)/(x² + y²) has zero curl away from the origin, yet circulation 2π around it) is
not detected; a closed line integral around it is the check.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..autodiff.vmap import vmap
from ..numpy import asarray
from .operators import field_jacobian

__all__ = ["ConservativeTest", "is_conservative", "Potential", "potential"]


@dataclass(frozen=True)
class ConservativeTest:
    """The verdict of :func:`is_conservative`.

    ``conservative``: every sample had asymmetry ≤ tol·max(1, ‖J‖_F);
    ``max_asymmetry``: the largest ‖J − Jᵀ‖_F/√2 over the samples, which is |curl F| in
    2-D and 3-D; ``max_relative``: the largest asymmetry / max(1, ‖J‖_F); ``worst_point``
    where that occurs; ``n_samples``, ``tol``, ``bounds``."""

    conservative: bool
    max_asymmetry: float
    max_relative: float
    worst_point: np.ndarray
    n_samples: int
    tol: float
    bounds: np.ndarray


def _box(bounds) -> np.ndarray:
    b = np.asarray(bounds, dtype=float)
    if b.ndim != 2 or b.shape[1] != 2 or len(b) == 0:
        raise ValueError(f"bounds must be [(lo, hi), ...], one pair per axis; got shape {b.shape}.")
    if np.any(b[:, 1] < b[:, 0]):
        raise ValueError(f"bounds need lo ≤ hi on every axis; got {b.tolist()}.")
    return b


def is_conservative(F: Callable, bounds, n_samples: int = 256, seed: int | None = 0,
                    tol: float = 1e-8) -> ConservativeTest:
    """Whether F = ∇φ on the box ``bounds`` [(lo, hi), ...]: checks that the Jacobian is
    symmetric, ‖J − Jᵀ‖_F/√2 ≤ tol·max(1, ‖J‖_F) (in 2-D and 3-D the left side is |curl F|),
    at the box's centre and ``n_samples`` − 1 uniform random points (``seed``). A NaN or
    infinite Jacobian fails the test. Assumes F is C¹ on the box (see the module note).
    Cost: one batched forward-mode Jacobian over the samples (n_samples·d JVPs)."""
    b = _box(bounds)
    if n_samples < 1:
        raise ValueError(f"n_samples must be at least 1; got {n_samples}.")
    rng = np.random.default_rng(seed)
    pts = b[:, 0] + (b[:, 1] - b[:, 0]) * rng.random((n_samples, len(b)))
    pts[0] = b.mean(axis=1)
    J = np.asarray(field_jacobian(F, pts), dtype=float)
    if J.shape[1:] != (len(b), len(b)):
        raise ValueError(f"is_conservative needs a field R^d → R^d; on points of shape "
                         f"({len(b)},) its Jacobian has shape {J.shape[1:]}.")
    asym = np.linalg.norm(J - np.swapaxes(J, -1, -2), axis=(-2, -1)) / np.sqrt(2.0)
    rel = asym / np.maximum(1.0, np.linalg.norm(J, axis=(-2, -1)))
    rel = np.where(np.isfinite(rel), rel, np.inf)
    worst = int(np.argmax(rel))
    return ConservativeTest(bool(rel[worst] <= tol), float(np.max(np.where(
        np.isfinite(asym), asym, np.inf))), float(rel[worst]), pts[worst], n_samples, tol, b)


@dataclass(frozen=True)
class Potential:
    """φ(x) = ∫₀¹ F(x0 + t(x − x0))·(x − x0) dt, so that ∇φ = F and φ(x0) = 0.

    Call it on one point (d,) (a scalar) or a batch (n, d) (shape (n,)). The segment
    integral is a Gauss–Legendre rule of ``order`` nodes, exact to rounding for fields
    that are polynomials of degree < 2·order along the segment. φ is written in NumPy,
    so the engine differentiates it: ``mc.grad(phi)(x)`` gives back F(x). ``check`` is
    the :class:`ConservativeTest` that admitted F. Cost per point: ``order`` evaluations
    of F (one vmapped call for the whole batch)."""

    F: Callable
    x0: np.ndarray
    order: int
    check: ConservativeTest

    def __call__(self, x):
        x = asarray(x, dtype=float)
        single = x.ndim == 1
        X = x[None] if single else x
        if X.ndim != 2 or X.shape[-1] != len(self.x0):
            raise ValueError(f"a potential of a field on R^{len(self.x0)} takes points of "
                             f"shape ({len(self.x0)},) or (n, {len(self.x0)}); got shape "
                             f"{x.shape}.")
        t, w = np.polynomial.legendre.leggauss(self.order)
        t, w = 0.5 * (t + 1.0), 0.5 * w
        h = X - self.x0                                     # (n, d)
        pts = self.x0 + t[None, :, None] * h[:, None, :]     # (n, order, d)
        vals = vmap(self.F)(pts.reshape(-1, len(self.x0))).reshape(pts.shape)
        out = np.einsum("q,nqd,nd->n", w, vals, h)
        return out[0] if single else out


def potential(F: Callable, x0, bounds=None, order: int = 32, n_samples: int = 256,
              seed: int | None = 0, tol: float = 1e-8) -> Potential:
    """A potential φ with ∇φ = F and φ(x0) = 0, by line integrals along the segments from
    x0: φ(x) = ∫₀¹ F(x0 + t(x − x0))·(x − x0) dt (see :class:`Potential`).

    F is first tested with :func:`is_conservative` on ``bounds`` (default: the box of
    half-width 1 around x0); a non-conservative field raises ValueError naming the
    worst point, since no potential exists. φ is meaningful on a star-shaped region
    around x0 where F is C¹ and curl-free. Cost: the test (n_samples·d JVPs), then
    ``order`` evaluations of F per point where φ is called."""
    x0 = np.asarray(x0, dtype=float)
    if x0.ndim != 1:
        raise ValueError(f"x0 must be one point of shape (d,); got shape {x0.shape}.")
    if order < 1:
        raise ValueError(f"order must be a positive number of nodes; got {order}.")
    if bounds is None:
        bounds = [(c - 1.0, c + 1.0) for c in x0]
    if len(bounds) != len(x0):
        raise ValueError(f"bounds has {len(bounds)} axes but x0 has shape {x0.shape}.")
    test = is_conservative(F, bounds, n_samples=n_samples, seed=seed, tol=tol)
    if not test.conservative:
        raise ValueError(
            "potential: the field is not conservative on the box "
            f"{test.bounds.tolist()}: its Jacobian is not symmetric (‖J − Jᵀ‖/√2 = "
            f"{test.max_asymmetry:.3g}, relative {test.max_relative:.3g} > tol {tol:g}, at "
            f"{test.worst_point}), so no potential φ with ∇φ = F exists there."
        )
    return Potential(F, x0, int(order), test)
