"""Differential operators on vector and scalar fields, at a point or a batch of points.

Convention: a vector field ``F`` is written for one point, mapping shape (d,) to shape
(d,); a scalar field maps (d,) to a scalar. Each operator accepts one point (d,) or a
batch (n, d) and returns one value per point: the batch goes through ``vmap`` of the
engine's Jacobian, so ``F`` itself never sees the batch axis. Points may be traced, so
the operators can themselves be differentiated or vmapped.
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
    """The Jacobian Jᵢⱼ = ∂Fᵢ/∂xⱼ of a field (forward mode: one batched pass of d
    tangents per point); shape (m, d) at a point, (n, m, d) for a batch."""
    return at_points(jacfwd(F), x)


def _square_jacobian(F: Callable, x, what: str):
    """The field's Jacobian, checked to be that of a map R^d → R^d."""
    J = field_jacobian(F, x)
    if J.ndim < 2 or J.shape[-1] != J.shape[-2]:
        d = J.shape[-1] if J.ndim else 0
        raise ValueError(f"{what} needs a vector field R^d → R^d; at points of dimension {d} "
                         f"the field returned shape {tuple(J.shape[:-1])[-1:]} "
                         f"(Jacobian shape {tuple(J.shape)}).")
    return J


def divergence(F: Callable, x) -> np.ndarray:
    """div F = Σᵢ ∂Fᵢ/∂xᵢ, the trace of the Jacobian. Cost: one field Jacobian (d JVPs,
    batched) per point."""
    J = _square_jacobian(F, x, "divergence")
    return trace(J, axis1=-2, axis2=-1)


def curl(F: Callable, x) -> np.ndarray:
    """curl F: in 3-D the vector (∂₂F₃ − ∂₃F₂, ∂₃F₁ − ∂₁F₃, ∂₁F₂ − ∂₂F₁); in 2-D the
    scalar ∂₁F₂ − ∂₂F₁ (the z-component of the 3-D curl). Cost: one field Jacobian per
    point."""
    J = _square_jacobian(F, x, "curl")
    d = J.shape[-1]
    if d == 2:
        return J[..., 1, 0] - J[..., 0, 1]
    if d == 3:
        return stack([J[..., 2, 1] - J[..., 1, 2], J[..., 0, 2] - J[..., 2, 0],
                      J[..., 1, 0] - J[..., 0, 1]], axis=-1)
    raise ValueError(f"curl is defined for 2-D and 3-D fields; this field is {d}-D "
                     "(use field_jacobian and its antisymmetric part).")


def laplacian_field(f: Callable, x) -> np.ndarray:
    """Δf = Σᵢ ∂²f/∂xᵢ² of a scalar field f: R^d → R, the trace of the Hessian. Cost: one
    Hessian (d Hessian-vector products, forward-over-reverse, batched) per point."""
    H = at_points(hessian(f), x)
    return trace(H, axis1=-2, axis2=-1)
