"""Constrained stationary points.

``lagrange`` finds the points where the Lagrangian L(x, λ) = f(x) − Σᵢ λᵢ gᵢ(x) is
stationary, i.e. ∇f = Σᵢ λᵢ ∇gᵢ and g(x) = 0 (the textbook sign: λᵢ = ∂f*/∂cᵢ, the
rate at which the optimal value moves with the level cᵢ of the constraint gᵢ(x) = cᵢ),
and classifies them on the constraint manifold.

``kkt_residuals`` measures how far a point is from satisfying the Karush–Kuhn–Tucker
conditions of  min f(x)  s.t.  gᵢ(x) = 0, hⱼ(x) ≤ 0, in the convention of Boyd and
Vandenberghe: L = f + Σᵢ λᵢ gᵢ + Σⱼ μⱼ hⱼ with μ ≥ 0 (so its λ has the opposite sign
to ``lagrange``'s).

Constraints are given as one callable returning a vector (or a scalar), or as a
sequence of scalar callables. Points are 1-D arrays of shape (n,).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import lsq_linear

from ..autodiff.api import grad, jacobian
from .critical import (
    _CONVERGED,
    _DIVERGED,
    _LEFT_BOX,
    _MAX_ITER,
    _STALLED,
    KINDS,
    MultiStartResult,
    _Batched,
    _check_bounds,
    _check_starts,
    _damped_newton,
    _dedup,
    _frozen,
    _newton_distance,
    _pinv_step,
    _scalar_fun,
    _starts,
    _sym_kind,
)

__all__ = ["LagrangePoint", "LagrangeResult", "lagrange", "KKTResult", "kkt_residuals"]

Constraints = Callable | Sequence[Callable]


def _constraint_map(constraints, x: np.ndarray, what: str) -> tuple[Callable | None, int]:
    """The constraints as one map x ↦ vector of shape (m,), and m (0: no constraints)."""
    if constraints is None:
        return None, 0
    if callable(constraints):
        out = np.shape(constraints(x))
        if len(out) > 1:
            raise ValueError(f"{what} must return a scalar or a 1-D array; at a point of "
                             f"shape {x.shape} it returned shape {out}.")

        def fun(v):
            return np.reshape(constraints(v), (-1,))
    else:
        cons = tuple(constraints)
        for i, c in enumerate(cons):
            if not callable(c):
                raise TypeError(f"{what}[{i}] must be a callable; got {type(c).__name__}.")
            if np.size(c(x)) != 1:
                raise ValueError(f"{what}[{i}] must return a scalar; at a point of shape "
                                 f"{x.shape} it returned shape {np.shape(c(x))}.")
        if not cons:
            return None, 0

        def fun(v):
            return np.stack([np.reshape(c(v), ()) for c in cons])
    return fun, int(np.size(fun(x)))


# ---------------------------------------------------------------------------------
# lagrange


@dataclass(frozen=True)
class LagrangePoint:
    """A stationary point of L = f − Σλᵢgᵢ, classified on the constraint manifold.

    ``kind`` ("minimum", "maximum", "saddle", "degenerate": local, for f restricted to
    {g = 0}) comes from the projected Hessian Zᵀ∇ₓ²L Z, Z an orthonormal basis of the
    tangent space ker ∇g (``tangent_basis``), whose eigenvalues are
    ``projected_eigenvalues``; ``index`` counts the negative ones. The bordered
    Hessian [[0, ∇g], [∇gᵀ, ∇ₓ²L]] is given for the classical determinant test.
    ``licq`` is False when the constraint gradients are linearly dependent (the
    multipliers are then not unique and the point is reported degenerate).
    ``stationarity`` is ‖∇ₓL‖ and ``constraint_residual`` max|gᵢ(x)|.
    """

    x: np.ndarray
    multipliers: np.ndarray
    value: float
    kind: str
    index: int
    projected_eigenvalues: np.ndarray
    tangent_basis: np.ndarray
    hessian_lagrangian: np.ndarray
    bordered_hessian: np.ndarray
    stationarity: float
    constraint_residual: float
    licq: bool
    message: str


@dataclass(frozen=True)
class LagrangeResult(MultiStartResult):
    """The constrained stationary points found, sorted by f value (then by x), with
    counts by kind, how many starts reached each point (``hits``), what became of
    the starts (converged, left the region, stalled at a nonzero local minimum of the
    residual, diverged, ran out of iterations), the most Newton steps any start took,
    the threshold ``gtol`` used on ‖(∇ₓL, g)‖, and whether the iterations ran
    batched (vmap) or in a loop."""

    @property
    def multipliers(self) -> np.ndarray:
        """The multipliers as an array of shape (n_points, m)."""
        return np.array([p.multipliers for p in self.points]).reshape(len(self.points), -1)


def _classify_on_manifold(x, lam, value, R, K, n: int, tol: float) -> LagrangePoint:
    """Projected-Hessian test from the KKT matrix K = [[∇ₓ²L, −∇gᵀ], [∇g, 0]]."""
    HL = 0.5 * (K[:n, :n] + K[:n, :n].T)
    A = K[n:, :n]
    m = A.shape[0]
    _, s, Vt = np.linalg.svd(A)
    rank = int(np.sum(s > 1e-8 * max(float(s[0]), np.finfo(float).tiny)))
    Z = Vt[rank:].T
    lam_p = np.linalg.eigvalsh(Z.T @ HL @ Z) if Z.shape[1] else np.zeros(0)
    bordered = np.block([[np.zeros((m, m)), A], [A.T, HL]])
    licq = rank == m
    if not licq:
        kind, index = "degenerate", int(np.sum(lam_p < 0))
        msg = ("degenerate: the constraint gradients are linearly dependent here (LICQ "
               "fails), so the multipliers are not unique and the test does not apply.")
    elif Z.shape[1] == 0:
        kind, index = "degenerate", 0
        msg = ("degenerate: the constraints leave no tangent direction (the feasible set "
               "is locally this single point), so there is nothing to test.")
    else:
        eig_tol = tol * max(1.0, float(np.max(np.abs(lam_p))))
        kind, index, _, why = _sym_kind(lam_p, eig_tol, "the projected Hessian of L")
        head = f"saddle of index {index}" if kind == "saddle" else f"local {kind}"
        msg = f"{head} on the constraint set: {why}."
    return LagrangePoint(
        _frozen(x), _frozen(lam), float(value), kind, index, _frozen(lam_p), _frozen(Z),
        _frozen(HL), _frozen(bordered), float(np.linalg.norm(R[:n])),
        float(np.max(np.abs(R[n:]))), licq, msg)


def lagrange(f: Callable, equality_constraints: Constraints, bounds=None, starts=None,
             n_starts: int = 256, seed: int | None = 0, tol: float = 1e-8, *,
             gtol: float = 1e-10, dedup_tol: float = 1e-6,
             max_iter: int = 100) -> LagrangeResult:
    """Stationary points of f on {x : g(x) = 0}: solutions (x, λ) of
    ∇ₓL = ∇f(x) − Σᵢ λᵢ ∇gᵢ(x) = 0, g(x) = 0  (L = f − λᵀg; λᵢ = ∂f*/∂cᵢ).

    Method: the square system F(x, λ) = (∇ₓL, g) = 0 (n + m equations) is solved by
    damped Newton (Levenberg–Marquardt on ½‖F‖², as in ``critical_points``) from
    many starts; its Jacobian [[∇ₓ²L, −∇gᵀ], [∇g, 0]] comes from ``jacobian`` of F
    (F itself holds a reverse-mode gradient). Starts are the rows of ``starts``, or
    ``n_starts`` scrambled-Sobol points in ``bounds`` (pairs (min, max)); each start's
    λ is the least-squares solution of ∇f = ∇gᵀλ there. With ``bounds``, starts that
    leave the box widened by 10% are discarded and only points inside the box are
    kept; without, a start is discarded beyond 10⁶ times the spread of the starts.
    Converged: ‖F‖ ≤ gtol · median ‖F‖ over the starts. Points (x only) are merged
    when within ``dedup_tol`` in coordinates scaled by the box widths (or the starts'
    spread), or within twice their estimated distances to the exact point.

    Classification: the projected Hessian of L onto the tangent space ker ∇g(x)
    (eigenvalues within tol·max(1, max|λ|) of 0 count as zero); this is equivalent to
    the bordered-Hessian test on the signs of the last n − m leading principal minors,
    and numerically better conditioned. Cost per iteration: one batched (vmap)
    evaluation of F and its Jacobian, i.e. a Hessian of f and of each gᵢ.
    """
    if bounds is None and starts is None:
        raise ValueError("lagrange needs bounds (to draw starts in) or starts.")
    if bounds is not None:
        lo, hi = _check_bounds(bounds)
        n = lo.size
        X0 = _starts(lo, hi, n_starts, seed) if starts is None else _check_starts(starts, n)
        width = hi - lo
        region = (lo - 0.1 * width, hi + 0.1 * width)
    else:
        X0 = np.asarray(starts, dtype=float)
        X0 = _check_starts(X0, X0.shape[-1] if X0.ndim else 0)
        n = X0.shape[1]
        width = np.maximum(np.ptp(X0, axis=0), 1.0)
        region = (X0.min(axis=0) - 1e6 * width, X0.max(axis=0) + 1e6 * width)
    fs = _scalar_fun(f, X0[0])
    gfun, m = _constraint_map(equality_constraints, X0[0], "equality_constraints")
    if m == 0:
        raise ValueError("lagrange needs at least one equality constraint; for none, "
                         "use critical_points.")
    if m > n:
        raise ValueError(f"{m} equality constraints in {n} variables: the constraint "
                         "gradients cannot be independent.")

    def F(z):
        x, lam = z[:n], z[n:]
        return np.concatenate([grad(lambda v: fs(v) - np.dot(lam, gfun(v)))(x), gfun(x)])

    jac_F = jacobian(F)
    resjac = _Batched(lambda z: (F(z), jac_F(z)))
    with np.errstate(all="ignore"):
        gf, jg = _Batched(lambda x: (grad(fs)(x), jacobian(gfun)(x)))(X0)
    lam0 = -_pinv_step(np.swapaxes(jg.reshape(len(X0), m, n), 1, 2), gf)
    lam0[~np.all(np.isfinite(lam0), axis=1)] = 0.0
    Z0 = np.concatenate([X0, lam0], axis=1)
    inf = np.full(m, np.inf)
    sol = _damped_newton(resjac, Z0, lo=np.concatenate([region[0], -inf]),
                         hi=np.concatenate([region[1], inf]),
                         cap=np.concatenate([0.25 * width, inf]), rtol=gtol,
                         max_iter=max_iter)
    conv = sol.status == _CONVERGED
    inside = conv.copy()
    if bounds is not None:
        X = sol.Z[:, :n]
        inside &= np.all((X >= lo - 1e-12 * width) & (X <= hi + 1e-12 * width), axis=1)
    keep = np.flatnonzero(inside)
    points: list[LagrangePoint] = []
    hits: list[int] = []
    if keep.size:
        Zk, Rk, Kk = sol.Z[keep], sol.R[keep], sol.J[keep]
        delta = _newton_distance(Kk, Rk, sol.last_step[keep])[:, :n]
        clusters = _dedup(Zk[:, :n], np.linalg.norm(delta, axis=1), width, dedup_tol)
        rep = np.array([c[0] for c in clusters])
        values = _Batched(lambda x: (fs(x),))(Zk[rep, :n])[0].reshape(-1)
        for j, i in enumerate(rep):
            points.append(_classify_on_manifold(Zk[i, :n], Zk[i, n:], values[j], Rk[i],
                                                Kk[i], n, tol))
            hits.append(len(clusters[j]))
        order = sorted(range(len(points)),
                       key=lambda i: (points[i].value, tuple(points[i].x)))
        points = [points[i] for i in order]
        hits = [hits[i] for i in order]
    st = sol.status
    return LagrangeResult(
        points=tuple(points), counts={k: sum(p.kind == k for p in points) for k in KINDS},
        hits=tuple(hits), n_starts=len(X0), n_converged=int(np.sum(inside)),
        n_left_box=int(np.sum(st == _LEFT_BOX) + np.sum(conv & ~inside)),
        n_stalled=int(np.sum(st == _STALLED)), n_diverged=int(np.sum(st == _DIVERGED)),
        n_unconverged=int(np.sum(st == _MAX_ITER)),
        max_iterations=int(np.max(sol.iterations, initial=0)), gtol=float(sol.atol),
        vectorised=resjac.vectorised)


# ---------------------------------------------------------------------------------
# KKT


@dataclass(frozen=True)
class KKTResult:
    """KKT residuals of  min f  s.t.  g = 0, h ≤ 0  at a point (L = f + λᵀg + μᵀh):

    - ``stationarity``: ‖∇f + Σλᵢ∇gᵢ + Σμⱼ∇hⱼ‖₂
    - ``primal_equality``: max|gᵢ|; ``primal_inequality``: max(hⱼ, 0)
    - ``dual_feasibility``: max(−μⱼ, 0)
    - ``complementary_slackness``: max|μⱼ hⱼ|

    (each 0 when there is nothing to measure), with the multipliers used, the active
    set (hⱼ ≥ −active_tol) and whether the multipliers were estimated.
    """

    stationarity: float
    primal_equality: float
    primal_inequality: float
    dual_feasibility: float
    complementary_slackness: float
    eq_multipliers: np.ndarray
    ineq_multipliers: np.ndarray
    active: np.ndarray
    estimated: bool

    @property
    def max_residual(self) -> float:
        return max(self.stationarity, self.primal_equality, self.primal_inequality,
                   self.dual_feasibility, self.complementary_slackness)

    def satisfied(self, tol: float = 1e-6) -> bool:
        """Whether every residual is at most ``tol``."""
        return self.max_residual <= tol


def _readonly(a: np.ndarray) -> np.ndarray:
    out = np.array(a, copy=True)
    out.setflags(write=False)
    return out


def _multiplier_vector(values, size: int, what: str) -> np.ndarray:
    v = np.asarray(values, dtype=float).reshape(-1)
    if v.size != size:
        raise ValueError(f"{what} must have shape ({size},), one per constraint; got "
                         f"shape {np.shape(values)}.")
    return v


def kkt_residuals(f: Callable, x, equality: Constraints = (), inequality: Constraints = (),
                  multipliers: tuple | None = None, *,
                  active_tol: float = 1e-6) -> KKTResult:
    """The KKT residuals of  min f(x)  s.t.  gᵢ(x) = 0, hⱼ(x) ≤ 0  at ``x``, with
    L = f + Σλᵢgᵢ + Σμⱼhⱼ, μ ≥ 0 (Boyd and Vandenberghe's sign convention; the
    opposite sign to ``lagrange``'s λ).

    ``multipliers=(λ, μ)`` are used as given. Otherwise they are estimated: the
    inequalities with hⱼ(x) ≥ −active_tol form the active set, μ is 0 off it, and
    (λ, μ_active) minimise ‖∇f + ∇gᵀλ + ∇h_activeᵀμ‖ subject to μ ≥ 0 (bounded least
    squares, scipy.optimize.lsq_linear). At a KKT point every residual is ≈ 0.
    Cost: one gradient of f and one Jacobian of each constraint map.
    """
    x = np.asarray(x, dtype=float)
    if x.ndim != 1:
        raise ValueError(f"x must be a 1-D array of shape (n,); got shape {x.shape}.")
    n = x.size
    fs = _scalar_fun(f, x)
    gf = np.asarray(grad(fs)(x), dtype=float).reshape(n)
    gfun, m = _constraint_map(equality, x, "equality")
    hfun, p = _constraint_map(inequality, x, "inequality")
    gval = np.asarray(gfun(x), dtype=float) if m else np.zeros(0)
    hval = np.asarray(hfun(x), dtype=float) if p else np.zeros(0)
    Jg = np.asarray(jacobian(gfun)(x), dtype=float).reshape(m, n) if m else np.zeros((0, n))
    Jh = np.asarray(jacobian(hfun)(x), dtype=float).reshape(p, n) if p else np.zeros((0, n))
    active = hval >= -active_tol
    if multipliers is not None:
        if not (isinstance(multipliers, (tuple, list)) and len(multipliers) == 2):
            raise ValueError("multipliers must be a pair (λ for the equalities, μ for the "
                             "inequalities).")
        lam = _multiplier_vector(multipliers[0], m, "λ (equality multipliers)")
        mu = _multiplier_vector(multipliers[1], p, "μ (inequality multipliers)")
        estimated = False
    else:
        lam, mu = np.zeros(m), np.zeros(p)
        A = np.concatenate([Jg, Jh[active]], axis=0).T
        if A.shape[1]:
            lb = np.concatenate([np.full(m, -np.inf), np.zeros(int(active.sum()))])
            sol = lsq_linear(A, -gf, bounds=(lb, np.full(A.shape[1], np.inf)),
                             method="bvls", tol=1e-14)
            lam, mu[active] = sol.x[:m], sol.x[m:]
        estimated = True
    stat = gf + Jg.T @ lam + Jh.T @ mu
    return KKTResult(
        stationarity=float(np.linalg.norm(stat)),
        primal_equality=float(np.max(np.abs(gval), initial=0.0)),
        primal_inequality=float(np.max(np.maximum(hval, 0.0), initial=0.0)),
        dual_feasibility=float(np.max(np.maximum(-mu, 0.0), initial=0.0)),
        complementary_slackness=float(np.max(np.abs(mu * hval), initial=0.0)),
        eq_multipliers=_frozen(lam), ineq_multipliers=_frozen(mu),
        active=_readonly(active), estimated=estimated)
