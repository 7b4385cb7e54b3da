"""Differential operators on vector and scalar fields, at a point or a batch of points.

A vector field ``F`` maps a point of shape (d,) to a vector of shape (d,); a scalar
field maps a point to a scalar. Each operator accepts one point (d,) or a batch (n, d)
and then returns one value per point (the batch is vmapped, so ``F`` is written for a
single point).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..autodiff.api import hessian, jacfwd
from ..autodiff.vmap import vmap
from ..numpy import asarray, stack, trace

__all__ = ["field_jacobian", "divergence", "curl", "laplacian_field", "at_points"]


def at_points(fn: Callable, x) -> np.ndarray:
    """``fn`` at one point (d,) or at each row of a batch (n, d) (points may be traced,
    so the operators can themselves be differentiated or vmapped)."""
    x = asarray(x, dtype=float)
    if x.ndim == 1:
        return fn(x)
    if x.ndim != 2:
        raise ValueError(f"points must have shape (d,) or (n, d); got shape {x.shape}.")
    return vmap(fn)(x)


def field_jacobian(F: Callable, x) -> np.ndarray:
    """The Jacobian ∂Fᵢ/∂xⱼ of a field (forward mode, one pass of d tangents); shape
    (d, d) at a point, (n, d, d) for a batch."""
    return at_points(jacfwd(F), x)


def divergence(F: Callable, x) -> np.ndarray:
    """div F = Σᵢ ∂Fᵢ/∂xᵢ, the trace of the Jacobian."""
    J = field_jacobian(F, x)
    return trace(J, axis1=-2, axis2=-1)


def curl(F: Callable, x) -> np.ndarray:
    """curl F: in 3-D the vector (∂₂F₃ − ∂₃F₂, ∂₃F₁ − ∂₁F₃, ∂₁F₂ − ∂₂F₁); in 2-D the
    scalar ∂₁F₂ − ∂₂F₁ (the z-component of the 3-D curl)."""
    J = field_jacobian(F, x)
    d = J.shape[-1]
    if d == 2:
        return J[..., 1, 0] - J[..., 0, 1]
    if d == 3:
        return stack([J[..., 2, 1] - J[..., 1, 2], J[..., 0, 2] - J[..., 2, 0],
                      J[..., 1, 0] - J[..., 0, 1]], axis=-1)
    raise ValueError(f"curl is defined for 2-D and 3-D fields; this field is {d}-D "
                     "(use field_jacobian and its antisymmetric part).")


def laplacian_field(f: Callable, x) -> np.ndarray:
    """Δf = Σᵢ ∂²f/∂xᵢ² of a scalar field (trace of the Hessian)."""
    H = at_points(hessian(f), x)
    return trace(H, axis1=-2, axis2=-1)
