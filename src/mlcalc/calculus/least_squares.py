"""Linear least squares: min_x ‖Ax − b‖² + λ‖x‖², by QR, the normal equations or the SVD.

``lstsq(A, b, method=..., ridge=λ)`` returns the solution with its diagnostics (residual,
rank, singular values, condition number, the gradient of the objective at the solution).
Every path is written with NumPy functions mlcalc differentiates (``np.linalg.qr``,
``solve``, ``cholesky``, ``svd``), so ``lstsq`` called on traced values is
differentiable: ``mc.grad(lambda A: np.sum(lstsq(A, b).x ** 2))(A)`` works (where the
rank is locally constant). The diagnostics (rank, singular values, condition number)
are computed on ``mc.stop_gradient`` values and carry no derivative.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..autodiff.api import stop_gradient
from ..autodiff.core import TracerConversionError

__all__ = ["LstsqResult", "lstsq"]

_METHODS = ("qr", "normal", "svd")


@dataclass(frozen=True)
class LstsqResult:
    """Solution of min_x ‖Ax − b‖² + λ‖x‖² and its diagnostics.

    x: the solution, shape (n,) or (n, k) for k right-hand sides.
    residuals: Ax − b, shape (m,) or (m, k).
    residual_norm: ‖Ax − b‖₂ (one per right-hand side for a matrix b).
    rank: the numerical rank of A, #{σᵢ > rcond·σ_max}.
    singular_values: σ(A), descending (for "normal": square roots of the eigenvalues of
        AᵀA, accurate only to about √ε·σ_max).
    condition_number: κ₂(A) = σ_max/σ_min over the min(m, n) singular values (inf if
        σ_min = 0).
    method: the method that produced x ("svd" when "qr" fell back on a rank-deficient A).
    requested_method: the method asked for.
    ridge: λ.
    gradient_at_solution: ∇ₓ(‖Ax − b‖² + λ‖x‖²) = 2Aᵀ(Ax − b) + 2λx, ≈ 0 at the solution.
    note: why the method changed, or "".
    """

    x: Any
    residuals: Any
    residual_norm: Any
    rank: int
    singular_values: np.ndarray
    condition_number: float
    method: str
    requested_method: str
    ridge: float
    gradient_at_solution: Any
    note: str = ""


def _is_plain(x) -> bool:
    return isinstance(x, (np.ndarray, np.generic, int, float, list, tuple))


def _as_float(x, name: str):
    """Plain inputs become float arrays; traced inputs pass through unchanged."""
    if _is_plain(x):
        x = np.asarray(x)
        if x.dtype.kind not in "f":
            if x.dtype.kind not in "biu":
                raise TypeError(f"lstsq: {name} must be real, got dtype {x.dtype}.")
            x = x.astype(np.float64)
    return x


def _plain(v) -> np.ndarray:
    """The value of v without its derivative, for the diagnostics (rank, σ, κ)."""
    try:
        return np.asarray(stop_gradient(v))
    except TracerConversionError:
        raise NotImplementedError(
            "lstsq under vmap over A is not supported: the rank, and with it the method, "
            "is decided per matrix; loop over the matrices (vmap over b works)."
        ) from None


def _to_plain_scalar(v):
    return float(v) if _is_plain(v) else v


def _cond(s: np.ndarray) -> float:
    if s.size == 0:
        return float("nan")
    smin = s[-1]
    return float("inf") if smin == 0 else float(s[0] / smin)


def _numerical_rank(s: np.ndarray, rcond: float) -> int:
    if s.size == 0:
        return 0
    return int(np.sum(s > rcond * s[0]))


def _solve_svd(A, b, lam: float, rcond: float):
    """x = V diag(φ(σ)) Uᵀ b with φ(σ) = σ/(σ² + λ) for σ > rcond·σ_max, else 0."""
    U, s, Vt = np.linalg.svd(A, full_matrices=False)
    s_plain = _plain(s)
    keep = s_plain > rcond * s_plain[0] if s_plain.size else s_plain > 0
    s_safe = np.where(keep, s, 1.0)
    phi = np.where(keep, s_safe / (s_safe**2 + lam), 0.0)
    c = U.T @ b
    x = Vt.T @ (phi * c if np.ndim(b) == 1 else phi[:, None] * c)
    return x, s_plain


def _solve_qr(Q, R, b, lam: float):
    """x = R⁻¹Qᵀb from Householder QR A = QR; with ridge, a second QR of the augmented
    triangle [R; √λ I] (equivalent to QR of [A; √λ I], since ‖Ax − b‖² = ‖Rx − Qᵀb‖² +
    ‖(I − QQᵀ)b‖²)."""
    c = Q.T @ b
    if lam > 0:
        R, c = _augment_qr(R, c, lam)
    return np.linalg.solve(R, c)


def _augment_qr(M, c, lam: float):
    """QR of [M; √λ I]: returns the triangle and the rotated right-hand side [c; 0]."""
    n = M.shape[1]
    zeros = np.zeros((n,) + tuple(np.shape(c)[1:]))
    Q2, R2 = np.linalg.qr(np.concatenate([M, np.sqrt(lam) * np.eye(n)], axis=0))
    return R2, Q2.T @ np.concatenate([c, zeros], axis=0)


def lstsq(A, b, method: str = "qr", ridge: float = 0.0, rcond: float | None = None
          ) -> LstsqResult:
    """Solve min_x ‖Ax − b‖₂² + λ‖x‖₂² (λ = ``ridge`` ≥ 0) for A of shape (m, n) and b of
    shape (m,) or (m, k) (k right-hand sides, solved column by column).

    Methods:

    - ``"qr"`` (default): Householder QR, x = R⁻¹Qᵀb; backward stable, forward error
      ∝ κ(A)·ε for small residuals. Ridge: QR of the augmented matrix [A; √λ I].
      For λ = 0 and a rank-deficient A (rank < n, including m < n) it falls back to
      the SVD path (the minimum-norm solution) and says so in ``method``/``note``.
      Cost ≈ 2mn² flops (+ O(n³) for the diagnostics from R's singular values).
    - ``"normal"``: the normal equations (AᵀA + λI)x = Aᵀb by Cholesky. Cheapest
      (≈ mn² + n³/3 flops) but **squares the condition number**: κ(AᵀA) = κ(A)², so the
      forward error grows like κ(A)²·ε; avoid it for ill-conditioned A. With λ = 0 and a
      numerically rank-deficient A (σ_min ≤ max(rcond, √(max(m,n)·ε))·σ_max) it raises
      ``np.linalg.LinAlgError``.
    - ``"svd"``: the pseudoinverse path, x = V diag(σᵢ/(σᵢ² + λ)) Uᵀb with σᵢ ≤
      rcond·σ_max cut to 0: for λ = 0, x = A⁺b, the minimum-norm least-squares solution.
      Cost ≈ 4mn² + 8n³ flops.

    ``rcond`` (default max(m, n)·ε, as ``np.linalg.lstsq``) is the relative cut-off for
    the numerical rank. Traced A or b give a differentiable x (away from rank changes);
    ``mc.vmap`` over b works, over A it raises NotImplementedError.
    """
    if method not in _METHODS:
        raise ValueError(f"lstsq: method must be one of {_METHODS}, not {method!r}.")
    A, b = _as_float(A, "A"), _as_float(b, "b")
    if np.ndim(A) != 2:
        raise ValueError(f"lstsq: A must be a matrix (m, n); got shape {np.shape(A)}.")
    if np.ndim(b) not in (1, 2) or np.shape(b)[0] != np.shape(A)[0]:
        raise ValueError(
            f"lstsq: b must have shape (m,) or (m, k) with m = A.shape[0]; got A of shape "
            f"{np.shape(A)} and b of shape {np.shape(b)}."
        )
    lam = float(ridge)
    if not lam >= 0:
        raise ValueError(f"lstsq: ridge must be >= 0, got {ridge!r}.")
    m, n = A.shape
    if m == 0 or n == 0:
        raise ValueError(f"lstsq: A must be non-empty; got shape {np.shape(A)}.")
    eps = float(np.finfo(np.result_type(A.dtype, b.dtype)).eps)
    rcond = max(m, n) * eps if rcond is None else float(rcond)
    if rcond < 0:
        raise ValueError(f"lstsq: rcond must be >= 0, got {rcond!r}.")

    used, note = method, ""
    A_plain = _plain(A)
    if method == "svd":
        x, s = _solve_svd(A, b, lam, rcond)
    elif method == "qr":
        if m >= n:
            Q, R = np.linalg.qr(A)
            s = np.linalg.svd(_plain(R), compute_uv=False)
        else:
            s = np.linalg.svd(A_plain, compute_uv=False)
        rank = _numerical_rank(s, rcond)
        if lam == 0 and rank < n:
            used = "svd"
            note = (f"A is rank-deficient (rank {rank} < n = {n}): the least-squares "
                    "solution is not unique; fell back to the SVD path (minimum-norm "
                    "solution).")
            x, s = _solve_svd(A, b, lam, rcond)
        elif m < n:  # λ > 0: QR of the augmented (m + n) × n matrix [A; √λ I]
            x = np.linalg.solve(*_augment_qr(A, b, lam))
        else:
            x = _solve_qr(Q, R, b, lam)
    else:  # normal equations
        G_plain = A_plain.T @ A_plain
        s = np.sqrt(np.clip(np.linalg.eigvalsh(G_plain)[::-1], 0.0, None))[: min(m, n)]
        floor = max(rcond, float(np.sqrt(max(m, n) * eps)))
        rank_normal = _numerical_rank(s, floor)
        if lam == 0 and rank_normal < n:
            raise np.linalg.LinAlgError(
                f"lstsq(method='normal'): AᵀA is numerically singular (rank {rank_normal} "
                f"< n = {n} at the normal equations' resolution √ε·σ_max): use "
                "method='qr' or 'svd' (minimum-norm solution), or ridge > 0."
            )
        G = A.T @ A + lam * np.eye(n) if lam > 0 else A.T @ A
        L = np.linalg.cholesky(G)
        x = np.linalg.solve(L.T, np.linalg.solve(L, A.T @ b))

    r = A @ x - b
    grad = 2.0 * (A.T @ r) + (2.0 * lam * x if lam > 0 else 0.0)
    norm = np.linalg.norm(r, axis=0)
    return LstsqResult(
        x=x,
        residuals=r,
        residual_norm=_to_plain_scalar(norm) if np.ndim(b) == 1 else norm,
        rank=_numerical_rank(s, rcond),
        singular_values=s,
        condition_number=_cond(s),
        method=used,
        requested_method=method,
        ridge=lam,
        gradient_at_solution=grad,
        note=note,
    )
