"""Linear solvers for the implicit system: conjugate gradients, GMRES, BiCGSTAB, dense.

Every solver works on plain 1-D NumPy vectors with a matrix-free operator
``matvec(v) -> A v`` and stops when the true residual satisfies

    ‖A x − b‖₂ ≤ max(tol · ‖b‖₂, atol).

A solve that does not reach it (iteration cap, breakdown, an operator that is not
positive definite for CG) is never returned silently: :class:`LinearSolver` raises
:class:`ImplicitSolveError` (or warns with :class:`ImplicitSolveWarning`) and states the
residual it reached.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = [
    "ImplicitSolveError",
    "ImplicitSolveWarning",
    "LinearSolveResult",
    "LinearSolver",
    "cg",
    "gmres",
    "bicgstab",
    "dense_solve",
    "as_linear_solver",
    "METHODS",
]

Matvec = Callable[[np.ndarray], np.ndarray]


class ImplicitSolveError(RuntimeError):
    """A linear solve of the implicit system did not reach its tolerance."""


class ImplicitSolveWarning(UserWarning):
    """A solve did not reach its tolerance and ``on_failure="warn"`` was asked for."""


@dataclass(frozen=True)
class LinearSolveResult:
    """The solution of ``A x = b`` and how it was reached.

    ``residual_norm`` is the true residual ‖A x − b‖₂ (recomputed at the end, not the
    recurrence's estimate); ``nit`` the number of iterations (products with A, for
    ``dense_solve`` the n columns); ``converged`` whether the tolerance was met;
    ``message`` says why the solver stopped."""

    x: np.ndarray
    converged: bool
    nit: int
    residual_norm: float
    b_norm: float
    method: str
    message: str


def _prepare(matvec: Matvec, b, x0, method: str):
    b = np.asarray(b, dtype=float)
    if b.ndim != 1:
        raise ValueError(f"{method}: b must be a 1-D vector, got shape {b.shape}.")
    n = b.size
    x = np.zeros(n) if x0 is None else np.array(x0, dtype=float).reshape(n)

    def mv(v):
        out = np.asarray(matvec(v), dtype=float)
        if out.shape != (n,):
            raise ValueError(
                f"{method}: matvec maps a vector of shape ({n},) to shape {out.shape}; "
                f"the system must be square, so it must return shape ({n},)."
            )
        return out

    return b, x, n, mv


def _target(b_norm: float, tol: float, atol: float) -> float:
    return max(tol * b_norm, atol)


def _finish(mv, x, b, nit, method, target, message=None) -> LinearSolveResult:
    res = float(np.linalg.norm(b - mv(x)))
    b_norm = float(np.linalg.norm(b))
    ok = bool(np.isfinite(res) and res <= target)
    if message is None:
        message = "converged" if ok else "iteration cap reached"
    elif ok:
        message = "converged"
    return LinearSolveResult(x, ok, nit, res, b_norm, method, message)


def _default_maxiter(n: int) -> int:
    return max(10 * n, 100)


def cg(matvec: Matvec, b, *, x0=None, tol: float = 1e-10, atol: float = 0.0,
       maxiter: int | None = None) -> LinearSolveResult:
    """Conjugate gradients for a symmetric positive definite A (Hestenes–Stiefel).

    One product with A per iteration; at most n iterations in exact arithmetic.
    Stops (not converged) when pᵀAp ≤ 0: A is not positive definite, use GMRES."""
    b, x, n, mv = _prepare(matvec, b, x0, "cg")
    target = _target(float(np.linalg.norm(b)), tol, atol)
    maxiter = _default_maxiter(n) if maxiter is None else int(maxiter)
    r = b - mv(x) if x0 is not None else b.copy()
    p = r.copy()
    rr = float(r @ r)
    k = 0
    message = None
    while np.sqrt(rr) > target and k < maxiter:
        ap = mv(p)
        pap = float(p @ ap)
        k += 1
        if not pap > 0.0:
            message = f"pᵀAp = {pap:.3g} ≤ 0: the operator is not positive definite"
            break
        alpha = rr / pap
        x = x + alpha * p
        r = r - alpha * ap
        rr_new = float(r @ r)
        p = r + (rr_new / rr) * p
        rr = rr_new
    return _finish(mv, x, b, k, "cg", target, message)


def gmres(matvec: Matvec, b, *, x0=None, tol: float = 1e-10, atol: float = 0.0,
          maxiter: int | None = None, restart: int = 50) -> LinearSolveResult:
    """Restarted GMRES(m) for a general nonsingular A (Saad & Schultz, 1986).

    Arnoldi with modified Gram–Schmidt and one reorthogonalisation, the least-squares
    problem updated by Givens rotations; restarts every ``restart`` iterations (m) from
    the true residual. One product with A per iteration, O(m·n) memory."""
    b, x, n, mv = _prepare(matvec, b, x0, "gmres")
    target = _target(float(np.linalg.norm(b)), tol, atol)
    maxiter = _default_maxiter(n) if maxiter is None else int(maxiter)
    m = max(1, min(int(restart), n))
    k_total = 0
    message = None
    r = b - mv(x) if x0 is not None else b.copy()
    beta = float(np.linalg.norm(r))
    while beta > target and k_total < maxiter:
        V = np.zeros((m + 1, n))
        H = np.zeros((m + 1, m))
        cs = np.zeros(m)
        sn = np.zeros(m)
        g = np.zeros(m + 1)
        g[0] = beta
        V[0] = r / beta
        j_used = 0
        for j in range(m):
            w = mv(V[j])
            k_total += 1
            for _ in range(2):  # modified Gram–Schmidt, twice for orthogonality
                for i in range(j + 1):
                    h = float(V[i] @ w)
                    H[i, j] += h
                    w = w - h * V[i]
            H[j + 1, j] = float(np.linalg.norm(w))
            if H[j + 1, j] > 0:
                V[j + 1] = w / H[j + 1, j]
            for i in range(j):  # apply the earlier rotations to the new column
                a, c = H[i, j], H[i + 1, j]
                H[i, j] = cs[i] * a + sn[i] * c
                H[i + 1, j] = -sn[i] * a + cs[i] * c
            den = np.hypot(H[j, j], H[j + 1, j])
            if den == 0.0:
                message = "breakdown: the Krylov space is degenerate (A may be singular)"
                break
            cs[j], sn[j] = H[j, j] / den, H[j + 1, j] / den
            H[j, j], H[j + 1, j] = den, 0.0
            g[j + 1] = -sn[j] * g[j]
            g[j] = cs[j] * g[j]
            j_used = j + 1
            if abs(g[j + 1]) <= 0.5 * target or k_total >= maxiter:
                break
        if j_used:
            y = np.linalg.solve(np.triu(H[:j_used, :j_used]), g[:j_used])
            x = x + y @ V[:j_used]
        if message is not None:
            break
        r = b - mv(x)
        beta_new = float(np.linalg.norm(r))
        if beta_new >= beta and j_used < m:  # no progress: stagnation
            message = "stagnation: the residual stopped decreasing (A may be singular)"
            break
        beta = beta_new
    return _finish(mv, x, b, k_total, "gmres", target, message)


def bicgstab(matvec: Matvec, b, *, x0=None, tol: float = 1e-10, atol: float = 0.0,
             maxiter: int | None = None) -> LinearSolveResult:
    """BiCGSTAB for a general nonsingular A (van der Vorst, 1992).

    Two products with A per iteration, O(n) memory; may break down (ρ = 0 or ω = 0),
    which is reported as not converged."""
    b, x, n, mv = _prepare(matvec, b, x0, "bicgstab")
    target = _target(float(np.linalg.norm(b)), tol, atol)
    maxiter = _default_maxiter(n) if maxiter is None else int(maxiter)
    r = b - mv(x) if x0 is not None else b.copy()
    r_hat = r.copy()
    rho = alpha = omega = 1.0
    v = np.zeros(n)
    p = np.zeros(n)
    k = 0
    message = None
    while float(np.linalg.norm(r)) > target and k < maxiter:
        rho_new = float(r_hat @ r)
        if rho_new == 0.0:
            message = "breakdown: ρ = 0"
            break
        beta = (rho_new / rho) * (alpha / omega)
        p = r + beta * (p - omega * v)
        v = mv(p)
        den = float(r_hat @ v)
        k += 1
        if den == 0.0:
            message = "breakdown: r̂ᵀAp = 0"
            break
        alpha = rho_new / den
        s = r - alpha * v
        if float(np.linalg.norm(s)) <= target:
            x = x + alpha * p
            r = s
            break
        t = mv(s)
        tt = float(t @ t)
        omega = float(t @ s) / tt if tt > 0 else 0.0
        if omega == 0.0:
            x = x + alpha * p
            message = "breakdown: ω = 0"
            break
        x = x + alpha * p + omega * s
        r = s - omega * t
        rho = rho_new
    return _finish(mv, x, b, k, "bicgstab", target, message)


def dense_solve(matvec: Matvec, b, *, x0=None, tol: float = 1e-10, atol: float = 0.0,
                maxiter: int | None = None) -> LinearSolveResult:
    """Materialise A column by column (n products) and solve by LU (``np.linalg.solve``).

    Exact up to rounding; O(n²) memory and O(n³) time: for small systems or as a
    reference. ``x0`` and ``maxiter`` are ignored."""
    b, _, n, mv = _prepare(matvec, b, None, "dense")
    target = _target(float(np.linalg.norm(b)), tol, atol)
    A = np.stack([mv(e) for e in np.eye(n)], axis=1) if n else np.zeros((0, 0))
    try:
        x = np.linalg.solve(A, b)
        message = None
    except np.linalg.LinAlgError:
        x = np.linalg.lstsq(A, b, rcond=None)[0]
        message = "the operator is singular (least-squares solution)"
    return _finish(mv, x, b, n, "dense", target, message)


METHODS: dict[str, Callable[..., LinearSolveResult]] = {
    "cg": cg,
    "gmres": gmres,
    "bicgstab": bicgstab,
    "dense": dense_solve,
}


@dataclass(frozen=True)
class LinearSolver:
    """How the implicit system is solved: ``method`` in {"cg" (symmetric positive
    definite), "gmres", "bicgstab", "dense"}, stopping rule ‖Ax − b‖ ≤ max(tol·‖b‖,
    atol), iteration cap ``maxiter`` (default max(10 n, 100)), ``restart`` for GMRES.
    ``on_failure``: "raise" (:class:`ImplicitSolveError`) or "warn"
    (:class:`ImplicitSolveWarning`, and the unconverged solution is used).

    Calling it solves ``matvec(x) = b`` on plain vectors; a zero right-hand side returns
    zero without iterating."""

    method: str = "gmres"
    tol: float = 1e-10
    atol: float = 0.0
    maxiter: int | None = None
    restart: int = 50
    on_failure: str = "raise"

    def __post_init__(self):
        if self.method not in METHODS:
            raise ValueError(
                f"LinearSolver: unknown method {self.method!r}; choose one of "
                f"{sorted(METHODS)}."
            )
        if self.on_failure not in ("raise", "warn"):
            raise ValueError(
                f"LinearSolver: on_failure must be 'raise' or 'warn', not "
                f"{self.on_failure!r}."
            )
        if not (self.tol >= 0 and self.atol >= 0):
            raise ValueError(f"LinearSolver: tol and atol must be >= 0, got {self.tol!r}, "
                             f"{self.atol!r}.")

    @property
    def symmetric(self) -> bool:
        """Whether the method assumes a symmetric operator (CG)."""
        return self.method == "cg"

    def solve(self, matvec: Matvec, b: np.ndarray, x0=None) -> LinearSolveResult:
        """Solve and return the full :class:`LinearSolveResult` (no failure check)."""
        b = np.asarray(b, dtype=float)
        if not np.any(b):
            return LinearSolveResult(np.zeros_like(b), True, 0, 0.0, 0.0, self.method,
                                     "zero right-hand side")
        kwargs = dict(x0=x0, tol=self.tol, atol=self.atol, maxiter=self.maxiter)
        if self.method == "gmres":
            kwargs["restart"] = self.restart
        return METHODS[self.method](matvec, b, **kwargs)

    def __call__(self, matvec: Matvec, b: np.ndarray, x0=None) -> np.ndarray:
        res = self.solve(matvec, b, x0)
        if not res.converged:
            text = (
                f"{res.method} did not solve the implicit linear system (size {b.size}): "
                f"{res.message} after {res.nit} iterations; residual ‖Ax − b‖ = "
                f"{res.residual_norm:.3g}, asked for ≤ "
                f"{_target(res.b_norm, self.tol, self.atol):.3g} (‖b‖ = {res.b_norm:.3g}). "
                "The derivative would be wrong. Check that ∂F/∂x is nonsingular at the "
                "solution (and that the solution is accurate), or raise maxiter, loosen "
                "tol, or use method='gmres' / 'dense'."
            )
            if self.on_failure == "raise":
                raise ImplicitSolveError(text)
            warnings.warn(text, ImplicitSolveWarning, stacklevel=3)
        return res.x


def as_linear_solver(solve, *, symmetric: bool = False) -> Callable[[Matvec, np.ndarray],
                                                                     np.ndarray]:
    """Normalise the ``solve=`` argument of the implicit transforms.

    ``None`` → CG when ``symmetric`` else GMRES; a method name → :class:`LinearSolver`
    with default settings; a :class:`LinearSolver`; or any callable
    ``solve(matvec, b) -> x`` on plain 1-D vectors (used as given: it is responsible for
    its own accuracy)."""
    if solve is None:
        return LinearSolver("cg" if symmetric else "gmres")
    if isinstance(solve, str):
        return LinearSolver(solve)
    if isinstance(solve, LinearSolver) or callable(solve):
        return solve
    raise TypeError(
        "solve must be None, a method name ('cg', 'gmres', 'bicgstab', 'dense'), a "
        f"LinearSolver, or a callable solve(matvec, b) -> x; got {type(solve).__name__}."
    )
