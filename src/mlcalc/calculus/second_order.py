"""Second-order structure of a scalar function at a point: the Hessian's spectrum,
definiteness, conditioning and principal directions, and the Laplacian.

Convention: ``f`` takes one real array ``x`` (any shape, flattened in C order for the
Hessian matrix) and returns a real scalar.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import numpy as np

from ..autodiff.api import hessian, jvp
from ..autodiff.vmap import vmap

__all__ = ["curvature", "Curvature", "laplacian", "DEFAULT_CURVATURE_RTOL"]

DEFAULT_CURVATURE_RTOL = float(np.sqrt(np.finfo(np.float64).eps))
"""Default relative tolerance of :func:`curvature`: √ε ≈ 1.5e-8. An eigenvalue λ counts
as zero when |λ| ≤ tol · max|λ|."""


def _point(x) -> np.ndarray:
    arr = np.asarray(x)
    return arr if arr.dtype.kind == "f" else arr.astype(np.float64)


@dataclasses.dataclass(frozen=True, eq=False)
class Curvature:
    """The Hessian H = ∇²f(point) and what its spectrum says.

    - ``hessian``: (n, n), n = point.size, symmetrised as (H + Hᵀ)/2;
    - ``eigenvalues``: ascending; ``eigenvectors``: (n, n), column j belongs to
      eigenvalue j (``numpy.linalg.eigh``'s layout);
    - ``principal_directions``: the same unit eigenvectors as rows, shaped
      ``(n,) + point.shape``, ordered with the eigenvalues (row 0: least curvature);
    - ``threshold``: the absolute tolerance ``tol · max|λ|``; an eigenvalue with
      |λ| ≤ threshold counts as zero;
    - ``inertia``: (number positive, number negative, number zero);
    - ``definiteness``: "positive definite", "negative definite",
      "positive semidefinite", "negative semidefinite" or "indefinite" (the zero matrix
      is reported "positive semidefinite": it is both, and ``inertia`` says so);
    - ``condition_number``: max|λ| / min|λ|, inf when min|λ| is exactly 0; it is the
      computed ratio and does not look at ``threshold``.
    """

    point: np.ndarray
    hessian: np.ndarray
    eigenvalues: np.ndarray
    eigenvectors: np.ndarray
    principal_directions: np.ndarray
    threshold: float
    inertia: tuple[int, int, int]
    definiteness: str
    condition_number: float

    @property
    def singular(self) -> bool:
        """Whether some eigenvalue is zero within the tolerance."""
        return self.inertia[2] > 0


def _definiteness(n_pos: int, n_neg: int, n_zero: int) -> str:
    if n_pos and n_neg:
        return "indefinite"
    if n_neg:
        return "negative definite" if not n_zero else "negative semidefinite"
    if n_pos and not n_zero:
        return "positive definite"
    return "positive semidefinite"


def curvature(f: Callable, x, tol: float | None = None) -> Curvature:
    """The curvature of a scalar ``f`` at ``x``: the Hessian ∇²f(x), its eigenvalues
    (ascending) and eigenvectors, definiteness, condition number and principal
    directions (see :class:`Curvature`).

    ``tol`` is relative: an eigenvalue λ counts as zero when |λ| ≤ tol · max|λ|
    (default :data:`DEFAULT_CURVATURE_RTOL` = √ε ≈ 1.5e-8, well above the rounding of
    an AD Hessian). A non-finite Hessian is a ValueError.
    Cost: one Hessian (n HVPs batched into one forward-over-reverse pass, ≈ 4
    evaluations of f on an n-batch) plus an O(n³) symmetric eigendecomposition.
    """
    tol = DEFAULT_CURVATURE_RTOL if tol is None else float(tol)
    if not tol >= 0:
        raise ValueError(f"curvature: tol must be a non-negative number, not {tol!r}.")
    x = _point(x)
    n = math.prod(x.shape)
    H = np.asarray(hessian(f)(x), dtype=np.float64).reshape(n, n)
    if not np.all(np.isfinite(H)):
        raise ValueError(
            f"curvature: the Hessian of {getattr(f, '__name__', 'f')} at x = {x} is not "
            f"finite:\n{H}"
        )
    H = (H + H.T) / 2
    lam, V = np.linalg.eigh(H)
    abs_lam = np.abs(lam)
    lam_max = float(abs_lam.max(initial=0.0))
    threshold = tol * lam_max
    n_zero = int(np.sum(abs_lam <= threshold))
    n_pos = int(np.sum(lam > threshold))
    n_neg = int(np.sum(lam < -threshold))
    lam_min = float(abs_lam.min()) if n else 0.0
    cond = math.inf if lam_min == 0.0 else lam_max / lam_min
    return Curvature(
        point=x,
        hessian=H,
        eigenvalues=lam,
        eigenvectors=V,
        principal_directions=V.T.reshape((n,) + x.shape),
        threshold=threshold,
        inertia=(n_pos, n_neg, n_zero),
        definiteness=_definiteness(n_pos, n_neg, n_zero),
        condition_number=cond,
    )


def laplacian(f: Callable, x):
    """Δf(x) = tr ∇²f(x) = Σᵢ ∂²f/∂xᵢ², for a scalar ``f`` (x flattened).

    The Hessian is never formed: each term eᵢᵀ∇²f eᵢ is a second directional derivative
    computed forward-over-forward (a JVP of a JVP along eᵢ), and the n of them run as one
    vmap-batched pass. Cost ≈ n × 4 evaluations of f, memory of n evaluations at once;
    no reverse pass. Differentiable in ``x``.
    """
    if not (hasattr(x, "shape") and hasattr(x, "dtype")) or isinstance(x, np.ndarray):
        x = _point(x)
    shape = tuple(x.shape)
    n = math.prod(shape)
    dtype = x.dtype if np.dtype(x.dtype).kind == "f" else np.float64
    basis = np.eye(n, dtype=dtype).reshape((n,) + shape)

    def second_directional(e):
        return jvp(lambda z: jvp(f, (z,), (e,))[1], (x,), (e,))[1]

    return np.sum(vmap(second_directional)(basis))
