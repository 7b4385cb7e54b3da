"""Conservative fields: the test (a symmetric Jacobian, i.e. zero curl) and the
potential recovered by line integrals."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .operators import field_jacobian

__all__ = ["ConservativeTest", "is_conservative", "potential"]


@dataclass(frozen=True)
class ConservativeTest:
    """``conservative``: the verdict; ``max_asymmetry``: max over the samples of
    ‖J − Jᵀ‖ (Frobenius), relative to max(1, ‖J‖); ``worst_point`` where it occurs;
    ``n_samples``; ``tol``."""

    conservative: bool
    max_asymmetry: float
    worst_point: np.ndarray
    n_samples: int
    tol: float


def is_conservative(F: Callable, bounds, n_samples: int = 256, seed: int = 0,
                    tol: float = 1e-8) -> ConservativeTest:
    """Whether F = ∇φ on a box: a C¹ field on a simply connected region is a gradient
    exactly when its Jacobian is symmetric (in 2-D and 3-D: zero curl). Samples
    ``n_samples`` uniform points of the box (``bounds`` [(lo, hi), ...]) and checks
    ‖J − Jᵀ‖ ≤ tol·max(1, ‖J‖) at each. Cost: one batched forward-mode Jacobian."""
    b = np.asarray(bounds, dtype=float)
    if b.ndim != 2 or b.shape[1] != 2:
        raise ValueError(f"bounds must be [(lo, hi), ...]; got shape {b.shape}.")
    rng = np.random.default_rng(seed)
    pts = b[:, 0] + (b[:, 1] - b[:, 0]) * rng.random((n_samples, len(b)))
    J = np.asarray(field_jacobian(F, pts), dtype=float)
    asym = np.linalg.norm(J - np.swapaxes(J, -1, -2), axis=(-2, -1))
    scale = np.maximum(1.0, np.linalg.norm(J, axis=(-2, -1)))
    rel = asym / scale
    worst = int(np.argmax(rel))
    return ConservativeTest(bool(rel[worst] <= tol), float(rel[worst]), pts[worst],
                            n_samples, tol)


def potential(F: Callable, x0, bounds=None, order: int = 32, tol: float = 1e-8):
    """A potential φ with ∇φ = F and φ(x0) = 0, as the line integral along the segment
    φ(x) = ∫₀¹ F(x0 + t(x − x0))·(x − x0) dt (Gauss–Legendre, ``order`` nodes).

    F is first checked with :func:`is_conservative` on ``bounds`` (default: the unit box
    around x0); a non-conservative field raises ValueError, since no potential exists.
    The returned φ takes one point (d,) or a batch (n, d)."""
    x0 = np.asarray(x0, dtype=float)
    if bounds is None:
        bounds = [(c - 1.0, c + 1.0) for c in x0]
    test = is_conservative(F, bounds, tol=tol)
    if not test.conservative:
        raise ValueError(
            "potential: the field is not conservative (its Jacobian is not symmetric: "
            f"relative asymmetry {test.max_asymmetry:.3g} at {test.worst_point}), so no "
            "potential exists."
        )
    t, w = np.polynomial.legendre.leggauss(order)
    t, w = 0.5 * (t + 1.0), 0.5 * w
    from ..autodiff.vmap import vmap

    def phi_one(x):
        x = np.asarray(x, dtype=float)
        h = x - x0
        pts = x0 + t[:, None] * h
        vals = np.asarray(vmap(F)(pts), dtype=float)
        return float(w @ (vals @ h))

    def phi(x):
        x = np.asarray(x, dtype=float)
        if x.ndim == 1:
            return phi_one(x)
        return np.array([phi_one(row) for row in x])

    return phi
