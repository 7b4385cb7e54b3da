"""``qp_layer``: a quadratic program as a differentiable layer (Amos & Kolter,
*OptNet*, 2017),

    x*(Q, q, A, b, G, h) = argminₓ ½ xᵀQx + qᵀx   subject to  A x = b,  G x ≤ h,

with Q symmetric positive definite (only its symmetric part ½(Q + Qᵀ) is used). The
solution is differentiated through the KKT conditions in OptNet's form,

    Q x + q + Aᵀν + Gᵀλ = 0,    A x − b = 0,    diag(λ)(G x − h) = 0,

with :func:`~mlcalc.implicit.custom_root`: at a solution with strict complementarity
(every active inequality has λᵢ > 0) this is the equality-constrained QP of the active
set, and inactive constraints get zero derivative. The forward solve is a dense
primal–dual interior-point method (Mehrotra's predictor–corrector) followed by an exact
solve of the KKT system of the active set that it identifies.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .root import custom_root

__all__ = ["qp_layer", "solve_qp", "QPResult"]


@dataclass(frozen=True)
class QPResult:
    """A QP's solution and multipliers: ``x``, ``nu`` (equalities), ``lam``
    (inequalities, ≥ 0), the ``active`` inequalities, KKT residuals (stationarity,
    primal feasibility, complementarity: ∞-norms), interior-point iterations ``nit``,
    whether the active-set polish was accepted, and ``converged``."""

    x: np.ndarray
    nu: np.ndarray
    lam: np.ndarray
    active: np.ndarray
    stationarity: float
    feasibility: float
    complementarity: float
    nit: int
    polished: bool
    converged: bool


def _sym(Q):
    return 0.5 * (Q + Q.T)


def _as_parts(Q, q, A, b, G, h):
    Q = np.asarray(Q, dtype=float)
    q = np.asarray(q, dtype=float)
    n = q.shape[0] if q.ndim == 1 else -1
    if q.ndim != 1 or Q.shape != (n, n):
        raise ValueError(f"qp: need q of shape (n,) and Q of shape (n, n); got q {q.shape}, "
                         f"Q {Q.shape}.")
    parts = []
    for M, v, what in ((A, b, "A, b"), (G, h, "G, h")):
        if (M is None) != (v is None):
            raise ValueError(f"qp: give both of {what} or neither.")
        if M is None:
            parts.append((np.zeros((0, n)), np.zeros(0)))
            continue
        M = np.asarray(M, dtype=float)
        v = np.asarray(v, dtype=float)
        if M.ndim != 2 or M.shape[1] != n or v.shape != (M.shape[0],):
            raise ValueError(f"qp: {what} must have shapes (k, {n}) and (k,); got "
                             f"{M.shape} and {v.shape}.")
        parts.append((M, v))
    (A, b), (G, h) = parts
    return _sym(Q), q, A, b, G, h


def _kkt_residuals(Q, q, A, b, G, h, x, nu, lam):
    stat = Q @ x + q + A.T @ nu + G.T @ lam
    feas = np.concatenate([np.abs(A @ x - b), np.maximum(G @ x - h, 0.0)])
    comp = lam * (G @ x - h)
    norm = lambda v: float(np.max(np.abs(v))) if v.size else 0.0  # noqa: E731
    return norm(stat), norm(feas), norm(comp)


def _equality_kkt(Q, q, A, b):
    n, p = Q.shape[0], A.shape[0]
    K = np.block([[Q, A.T], [A, np.zeros((p, p))]])
    try:
        sol = np.linalg.solve(K, np.concatenate([-q, b]))
    except np.linalg.LinAlgError as exc:
        raise ValueError(
            f"qp: the KKT matrix (n = {n}, {p} equality/active constraints) is singular: Q "
            "must be positive definite on the null space of the constraints and their "
            "rows linearly independent."
        ) from exc
    return sol[:n], sol[n:]


def solve_qp(Q, q, A=None, b=None, G=None, h=None, *, tol: float = 1e-11,
             maxiter: int = 100) -> QPResult:
    """Solve the convex QP on plain arrays (see the module docstring for the form).

    Equality constraints only: one dense KKT solve. With inequalities: a primal–dual
    interior-point method (Mehrotra predictor–corrector, O(n³) per iteration, typically
    10–30 iterations) to residuals ≤ ``tol`` (relative to the data), then the KKT system
    of the active set {λᵢ > sᵢ} solved exactly, accepted if it is feasible with λ ≥ 0.
    Raises RuntimeError (with the residuals) if the interior point does not converge,
    e.g. for an infeasible problem."""
    Q, q, A, b, G, h = _as_parts(Q, q, A, b, G, h)
    p, m = A.shape[0], G.shape[0]
    if m == 0:
        x, nu = _equality_kkt(Q, q, A, b)
        res = _kkt_residuals(Q, q, A, b, G, h, x, nu, np.zeros(0))
        return QPResult(x, nu, np.zeros(0), np.zeros(0, dtype=bool), *res, 0, True, True)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        x, nu, lam, s, nit, converged, scale = _interior_point(Q, q, A, b, G, h, tol,
                                                               maxiter)
    if not converged:
        res = _kkt_residuals(Q, q, A, b, G, h, x, nu, lam)
        raise RuntimeError(
            f"solve_qp: the interior-point method did not converge in {maxiter} "
            f"iterations (stationarity {res[0]:.3g}, infeasibility {res[1]:.3g}, "
            f"complementarity {res[2]:.3g}); the problem may be infeasible or unbounded."
        )
    active = lam > s
    polished = False
    xa, nua = _try_polish(Q, q, A, b, G, h, active, tol * scale)
    if xa is not None:
        x, nu, lam_a = xa, nua[:p], nua[p:]
        lam = np.zeros(m)
        lam[active] = lam_a
        polished = True
    res = _kkt_residuals(Q, q, A, b, G, h, x, nu, lam)
    return QPResult(x, nu, lam, active, *res, nit, polished, True)


def _interior_point(Q, q, A, b, G, h, tol, maxiter):
    """Mehrotra predictor–corrector on the slack form G x + s = h, s ≥ 0, λ ≥ 0."""
    n, p, m = q.size, A.shape[0], G.shape[0]
    scale = 1.0 + max(np.max(np.abs(q)), np.max(np.abs(h)),
                      np.max(np.abs(b)) if p else 0.0)
    x = np.zeros(n)
    nu = np.zeros(p)
    s = np.maximum(h - G @ x, 1.0)
    lam = np.ones(m)
    nit = 0
    converged = False
    for nit in range(1, maxiter + 1):  # noqa: B007
        r_d = Q @ x + q + A.T @ nu + G.T @ lam
        r_p = A @ x - b
        r_i = G @ x + s - h
        mu = float(s @ lam) / m
        if not (np.all(np.isfinite(r_d)) and np.isfinite(mu)) or np.max(lam) > 1e14 * scale:
            break  # diverging multipliers: (near-)infeasible
        if max(np.max(np.abs(r_d)), np.max(np.abs(r_p)) if p else 0.0,
               np.max(np.abs(r_i)), mu) <= tol * scale:
            converged = True
            break
        d = lam / s
        K = np.block([[Q + G.T @ (d[:, None] * G), A.T], [A, np.zeros((p, p))]])

        def direction(r_c, K=K, d=d, r_d=r_d, r_p=r_p, r_i=r_i, s=s, lam=lam):
            # Λ ds + S dλ = r_c with ds = −r_i − G dx  ⇒  dλ = (r_c + Λ r_i)/s + D G dx
            rhs = np.concatenate([-r_d - G.T @ ((r_c + lam * r_i) / s), -r_p])
            sol = np.linalg.solve(K, rhs)
            dx, dnu = sol[:n], sol[n:]
            dlam = (r_c + lam * r_i) / s + d * (G @ dx)
            ds = -r_i - G @ dx
            return dx, dnu, dlam, ds

        def step_to_boundary(v, dv):
            neg = dv < 0
            return min(1.0, float(np.min(-v[neg] / dv[neg]))) if np.any(neg) else 1.0

        try:
            dx, dnu, dlam, ds = direction(-s * lam)
            a_aff = min(step_to_boundary(s, ds), step_to_boundary(lam, dlam))
            mu_aff = float((s + a_aff * ds) @ (lam + a_aff * dlam)) / m
            sigma = (mu_aff / mu) ** 3
            dx, dnu, dlam, ds = direction(-s * lam + sigma * mu - ds * dlam)
        except np.linalg.LinAlgError as exc:
            raise ValueError(
                "qp: singular Newton system; Q must be positive definite on the null "
                "space of A and A's rows linearly independent."
            ) from exc
        alpha = 0.99 * min(step_to_boundary(s, ds), step_to_boundary(lam, dlam))
        x, nu, lam, s = x + alpha * dx, nu + alpha * dnu, lam + alpha * dlam, s + alpha * ds
    return x, nu, lam, s, nit, converged, scale


def _try_polish(Q, q, A, b, G, h, active, tol):
    Aa = np.vstack([A, G[active]])
    ba = np.concatenate([b, h[active]])
    try:
        x, mult = _equality_kkt(Q, q, Aa, ba)
    except ValueError:
        return None, None
    lam_a = mult[A.shape[0]:]
    if np.all(G @ x - h <= tol) and np.all(lam_a >= -tol):
        mult[A.shape[0]:] = np.maximum(lam_a, 0.0)
        return x, mult
    return None, None


def _optimality(z, Q, q, A, b, G, h):
    """OptNet's KKT map (stationarity, equality residual, complementarity)."""
    x, nu, lam = z
    Qs = 0.5 * (Q + Q.T)
    r_x = Qs @ x + q
    r_nu = None
    r_lam = None
    if A is not None:
        r_x = r_x + A.T @ nu
        r_nu = A @ x - b
    if G is not None:
        r_x = r_x + G.T @ lam
        r_lam = lam * (G @ x - h)
    return (r_x, r_nu, r_lam)


def qp_layer(Q, q, A=None, b=None, G=None, h=None, *, solve=None, tol: float = 1e-11,
             return_duals: bool = False):
    """The solution x* of the QP (module docstring) as a differentiable function of all
    of its data (forward and reverse mode, any order, vmap by looping over examples).

    Omit ``A, b`` or ``G, h`` for no equality or no inequality constraints.
    ``return_duals=True`` returns ``(x, nu, lam)``. ``solve`` is the linear solver of
    the KKT Jacobian (default GMRES; it is not symmetric). The derivative needs strict
    complementarity (no active constraint with λᵢ = 0): otherwise the KKT Jacobian is
    singular, and the linear solve raises :class:`~mlcalc.implicit.ImplicitSolveError`.
    """

    @custom_root(_optimality, solve=solve, residual_tol=None)
    def solver(init, Q, q, A, b, G, h):
        r = solve_qp(Q, q, A, b, G, h, tol=tol)
        return (r.x, None if A is None else r.nu, None if G is None else r.lam)

    x, nu, lam = solver(None, Q, q, A, b, G, h)
    return (x, nu, lam) if return_duals else x
