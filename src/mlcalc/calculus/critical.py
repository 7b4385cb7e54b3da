"""Critical points of a scalar function f: Rⁿ → R.

``classify(f, x)`` applies the second-derivative test at one point: the eigenvalues of
the Hessian ∇²f(x) decide minimum (all > 0), maximum (all < 0), saddle (both signs;
its index is the count of negative eigenvalues) or degenerate (semidefinite with an
eigenvalue within ``tol`` of 0: the test is inconclusive there).

``critical_points(f, bounds)`` finds every critical point it can in a box: Newton's
method on the gradient map ∇f(x) = 0 from many quasi-random starts, damped as a
Levenberg–Marquardt (Gauss–Newton) minimisation of ½‖∇f‖², whose Jacobian is the
Hessian. Unlike a minimiser it is attracted to maxima and saddles as well as minima.

Points are 1-D arrays of shape (n,) (a 0-d point is a function of one variable);
batches of points are (n_points, n). ``f`` must return a scalar.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.stats import qmc

from ..autodiff.api import grad, hessian
from ..autodiff.core import TracerConversionWarning
from ..autodiff.vmap import vmap

__all__ = ["CriticalPoint", "CriticalPointsResult", "classify", "critical_points"]

KINDS = ("minimum", "maximum", "saddle", "degenerate")

# Status codes of the damped Newton solver.
_RUNNING, _CONVERGED, _LEFT_BOX, _STALLED, _DIVERGED, _MAX_ITER = range(6)


def _frozen(a) -> np.ndarray:
    """A read-only float copy (results are frozen, their arrays too)."""
    out = np.array(a, dtype=float, copy=True)
    out.setflags(write=False)
    return out


# ---------------------------------------------------------------------------------
# shared helpers (also used by constrained.py)


def _scalar_fun(f: Callable, x: np.ndarray, what: str = "f") -> Callable:
    """``f`` checked to return one number at ``x``; wrapped to return a 0-d value."""
    out = f(x)
    shape = np.shape(out)
    if np.size(out) != 1:
        raise ValueError(f"{what} must return a scalar; at a point of shape {x.shape} it "
                         f"returned shape {shape}.")
    if shape == ():
        return f
    return lambda v: np.reshape(f(v), ())


def _vector_point(f: Callable, x) -> tuple[Callable, np.ndarray]:
    """(f as a function of a 1-D vector, the point as a float 1-D vector)."""
    x = np.asarray(x, dtype=float)
    if x.ndim == 0:
        return (lambda v: f(v[0])), x.reshape(1)
    if x.ndim != 1:
        raise ValueError(f"the point must be a 1-D array of shape (n,); got shape {x.shape}.")
    return f, x


def _check_bounds(bounds) -> tuple[np.ndarray, np.ndarray]:
    """``bounds`` as scipy.optimize takes them: a sequence of (min, max) pairs."""
    b = np.asarray(bounds, dtype=float)
    if b.ndim != 2 or b.shape[1] != 2:
        raise ValueError(f"bounds must be a sequence of (min, max) pairs, shape (n, 2); "
                         f"got shape {b.shape}.")
    lo, hi = b[:, 0], b[:, 1]
    if not (np.all(np.isfinite(b)) and np.all(lo < hi)):
        raise ValueError(f"bounds must be finite with min < max in every row; got {b.tolist()}.")
    return lo, hi


def _starts(lo: np.ndarray, hi: np.ndarray, n_starts: int, seed: int | None) -> np.ndarray:
    """``n_starts`` scrambled-Sobol points in the box [lo, hi] (reproducible from seed)."""
    if int(n_starts) < 1:
        raise ValueError(f"n_starts must be at least 1; got {n_starts}.")
    sampler = qmc.Sobol(d=lo.size, scramble=True, seed=seed)
    with warnings.catch_warnings():  # Sobol prefers powers of 2; any count is fine here
        warnings.simplefilter("ignore", UserWarning)
        u = sampler.random(int(n_starts))
    return lo + u * (hi - lo)


def _check_starts(starts, n: int) -> np.ndarray:
    s = np.asarray(starts, dtype=float)
    if s.ndim == 1 and n == s.size:
        s = s[None, :]
    if s.ndim != 2 or s.shape[1] != n or s.shape[0] == 0:
        raise ValueError(f"starts must have shape (n_starts, {n}); got shape {s.shape}.")
    return s


class _Batched:
    """``fun`` (a point of shape (n,) → a tuple of arrays) over the rows of a batch:
    one ``vmap`` call when ``fun`` vectorises, else a Python loop (decided on the
    first failure and kept)."""

    def __init__(self, fun: Callable):
        self.fun = fun
        self.batched = vmap(fun)
        self.vectorised = True

    def __call__(self, X: np.ndarray) -> tuple[np.ndarray, ...]:
        if self.vectorised:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", TracerConversionWarning)
                    return tuple(np.asarray(o, dtype=float) for o in self.batched(X))
            except Exception:  # f does not vectorise: loop (real errors re-raise there)
                self.vectorised = False
        outs = [self.fun(x) for x in X]
        return tuple(np.stack([np.asarray(o[i], dtype=float) for o in outs])
                     for i in range(len(outs[0])))


def _lm_step(J: np.ndarray, R: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """Levenberg–Marquardt steps p = −(JᵀJ + μI)⁻¹JᵀR for a batch, through the SVD
    J = UΣVᵀ (p = −V diag(σ/(σ²+μ)) UᵀR): no squared condition number, and defined
    for singular J."""
    U, s, Vt = np.linalg.svd(J, full_matrices=False)
    c = np.einsum("bji,bj->bi", U, R)
    d = s / (s * s + mu[:, None])
    return -np.einsum("bji,bj->bi", Vt, d * c)


def _pinv_step(J: np.ndarray, R: np.ndarray) -> np.ndarray:
    """The minimum-norm Newton step −J⁺R for a batch (singular values below
    n·eps·σ_max treated as 0)."""
    U, s, Vt = np.linalg.svd(J, full_matrices=False)
    cut = max(J.shape[-2:]) * np.finfo(float).eps * np.max(s, axis=1, keepdims=True)
    d = np.divide(1.0, s, out=np.zeros_like(s), where=s > cut)
    c = np.einsum("bji,bj->bi", U, R)
    return -np.einsum("bji,bj->bi", Vt, d * c)


def _newton_distance(J: np.ndarray, R: np.ndarray, last_step: np.ndarray) -> np.ndarray:
    """Estimated displacement from converged iterates to the exact roots: the Newton
    step −J⁺R divided by 1 − r, where r (≤ 0.9) is its ratio to the previous accepted
    step, the observed contraction (≈ 0 under quadratic convergence, (k − 1)/k at a
    root of multiplicity k, where Newton is only linear)."""
    P = _pinv_step(J, R)
    pn = np.linalg.norm(P, axis=1)
    r = np.divide(pn, last_step, out=np.zeros_like(pn), where=last_step > 0)
    return P / (1.0 - np.clip(r, 0.0, 0.9))[:, None]


@dataclass(frozen=True)
class _Solve:
    Z: np.ndarray          # final iterates (B, k)
    R: np.ndarray          # residuals there
    J: np.ndarray          # Jacobians there
    status: np.ndarray     # codes above
    iterations: np.ndarray  # accepted steps per start
    last_step: np.ndarray  # norm of the last accepted step (0 if none)
    atol: float            # the convergence threshold on ‖R‖


def _damped_newton(resjac: Callable, Z0: np.ndarray, *, lo: np.ndarray, hi: np.ndarray,
                   cap: np.ndarray, rtol: float, max_iter: int) -> _Solve:
    """Solve R(z) = 0 from every row of ``Z0`` at once by Levenberg–Marquardt on
    ½‖R‖² (Madsen–Nielsen–Tingleff damping update), with the step capped
    componentwise by ``cap`` (direction kept).

    ``resjac(Z) -> (R, J)`` is batched. A start converges when
    ‖R‖ ≤ rtol · median‖R(Z0)‖ (over the finite ones; ``rtol`` alone where that
    median is 0); it has left the region when an accepted step lands outside
    [lo, hi]; it has stalled when the linear model predicts no decrease (a local
    minimum of ‖R‖ that is not a root); it has diverged when R or J is not finite
    at its current point. Non-finite trial points are rejected steps.
    """
    B = Z0.shape[0]
    Z = Z0.copy()
    with np.errstate(all="ignore"):
        R, J = resjac(Z)
    rn0 = np.linalg.norm(R, axis=1)
    rn0 = rn0[np.isfinite(rn0)]
    scale = float(np.median(rn0)) if rn0.size else 0.0
    atol = rtol * scale if scale > 0 else rtol
    status = np.full(B, _RUNNING)
    iterations = np.zeros(B, dtype=int)
    last_step = np.zeros(B)
    sig2 = np.max(np.sum(J * J, axis=1), axis=1)  # max diag of JᵀJ
    mu = 1e-3 * np.where(np.isfinite(sig2) & (sig2 > 0), sig2, 1.0)
    nu = np.full(B, 2.0)
    with np.errstate(all="ignore"):
        for it in range(max_iter + 1):
            run = status == _RUNNING
            rn = np.linalg.norm(R, axis=1)
            bad = run & ~(np.isfinite(rn) & np.all(np.isfinite(J), axis=(1, 2)))
            status[bad] = _DIVERGED
            status[run & ~bad & (rn <= atol)] = _CONVERGED
            act = np.flatnonzero(status == _RUNNING)
            if act.size == 0 or it == max_iter:
                break
            Ja, Ra = J[act], R[act]
            P = _lm_step(Ja, Ra, mu[act])
            ratio = np.min(np.divide(cap, np.abs(P), out=np.full_like(P, np.inf),
                                     where=P != 0), axis=1)
            P *= np.minimum(1.0, ratio)[:, None]
            phi = 0.5 * np.sum(Ra * Ra, axis=1)
            model = Ra + np.einsum("bij,bj->bi", Ja, P)
            pred = phi - 0.5 * np.sum(model * model, axis=1)
            stalled = ~(pred > 1e-15 * phi)
            status[act[stalled]] = _STALLED
            Zt = Z[act] + P
            Rt, Jt = resjac(Zt)
            phit = 0.5 * np.sum(Rt * Rt, axis=1)
            rho = (phi - phit) / np.where(stalled, 1.0, pred)
            ok = (~stalled & np.isfinite(phit) & np.all(np.isfinite(Jt), axis=(1, 2))
                  & (rho > 1e-4))
            acc, rej = act[ok], act[~ok & ~stalled]
            Z[acc], R[acc], J[acc] = Zt[ok], Rt[ok], Jt[ok]
            iterations[acc] += 1
            last_step[acc] = np.linalg.norm(P[ok], axis=1)
            mu[acc] *= np.maximum(1.0 / 3.0, 1.0 - (2.0 * rho[ok] - 1.0) ** 3)
            nu[acc] = 2.0
            mu[rej] *= nu[rej]
            nu[rej] *= 2.0
            outside = np.any((Zt[ok] < lo) | (Zt[ok] > hi), axis=1)
            status[acc[outside]] = _LEFT_BOX
    status[status == _RUNNING] = _MAX_ITER
    return _Solve(Z, R, J, status, iterations, last_step, atol)


def _dedup(X: np.ndarray, radius: np.ndarray, width: np.ndarray, tol: float) -> list[list[int]]:
    """Greedy clusters of the rows of X, visited from the most precisely known
    (smallest ``radius``, the estimated distance to the exact point); the first of a
    cluster is its representative. Row i joins representative j when they are within
    ``tol`` in the ∞-norm of coordinates scaled by ``width``, or within
    2·(radiusᵢ + radiusⱼ) in the 2-norm."""
    reps: list[list[int]] = []
    for i in np.argsort(radius, kind="stable"):
        for members in reps:
            j = members[0]
            d = X[i] - X[j]
            if (np.max(np.abs(d) / width) <= tol
                    or np.linalg.norm(d) <= 2.0 * (radius[i] + radius[j])):
                members.append(int(i))
                break
        else:
            reps.append([int(i)])
    return reps


def _sym_kind(eigenvalues: np.ndarray, eig_tol: float,
              name: str = "the Hessian") -> tuple[str, int, bool, str]:
    """The second-derivative test on the eigenvalues of the symmetric matrix ``name``:
    (kind, index, has a near-zero eigenvalue, explanation)."""
    neg = int(np.sum(eigenvalues < -eig_tol))
    pos = int(np.sum(eigenvalues > eig_tol))
    zero = eigenvalues.size - neg - pos
    if neg and pos:
        why = f"{name} is indefinite ({neg} negative, {pos} positive eigenvalues"
        why += f", {zero} within {eig_tol:.3g} of 0)" if zero else ")"
        return "saddle", neg, zero > 0, why
    if zero:
        which = ("every eigenvalue is" if zero == eigenvalues.size
                 else f"{zero} eigenvalue(s) are")
        return "degenerate", neg, True, (
            f"{which} within {eig_tol:.3g} of 0 and no two have opposite signs: "
            "the second-derivative test is inconclusive here (higher-order terms decide)")
    if neg:
        return "maximum", neg, False, f"{name} is negative definite"
    return "minimum", 0, False, f"{name} is positive definite"


# ---------------------------------------------------------------------------------
# classify


@dataclass(frozen=True)
class CriticalPoint:
    """The second-derivative test at a point.

    ``kind`` is "minimum", "maximum", "saddle" or "degenerate"; ``index`` counts the
    eigenvalues below −``eig_tol``; ``degenerate`` is True when some eigenvalue lies
    within ``eig_tol`` of 0 (an indefinite Hessian is still a saddle then).
    ``is_critical`` is False when ‖∇f(x)‖ exceeds ``gtol``: the kind then describes
    the local curvature only, and ``message`` says so.
    """

    x: np.ndarray
    value: float
    kind: str
    index: int
    eigenvalues: np.ndarray
    eigenvectors: np.ndarray
    hessian: np.ndarray
    grad_norm: float
    is_critical: bool
    degenerate: bool
    eig_tol: float
    gtol: float
    message: str


def _classified(x, value, g, H, *, eig_tol_rel: float, gtol: float,
                eig_err: float = 0.0) -> CriticalPoint:
    H = 0.5 * (H + H.T)
    lam, vec = np.linalg.eigh(H)
    eig_tol = eig_tol_rel * max(1.0, float(np.max(np.abs(lam), initial=0.0))) + eig_err
    kind, index, degenerate, why = _sym_kind(lam, eig_tol)
    gnorm = float(np.linalg.norm(g))
    is_critical = bool(gnorm <= gtol)
    head = f"saddle of index {index}" if kind == "saddle" else kind
    msg = f"{head}: {why}."
    if not is_critical:
        msg = (f"not a critical point: ‖∇f‖ = {gnorm:.3g} > gtol = {gtol:.3g}; the "
               f"Hessian test describes the local curvature only ({msg})")
    return CriticalPoint(_frozen(x), float(value), kind, index, _frozen(lam), _frozen(vec),
                         _frozen(H), gnorm, is_critical, degenerate, float(eig_tol),
                         float(gtol), msg)


def classify(f: Callable, x, tol: float = 1e-8, gtol: float | None = None) -> CriticalPoint:
    """Classify the point ``x`` of f by the second-derivative test.

    The Hessian ∇²f(x) (forward-over-reverse, one batched pass of n Hessian-vector
    products) is symmetrised and eigendecomposed (``np.linalg.eigh``). With
    s = max(1, max|λᵢ|): an eigenvalue is "zero" when |λᵢ| ≤ tol·s. All positive:
    minimum; all negative: maximum; both signs: saddle of index #{λᵢ < 0} (even if
    some eigenvalue is zero — an indefinite Hessian rules out an extremum); otherwise
    degenerate (the test is inconclusive, e.g. the monkey saddle x³ − 3xy²).

    ``is_critical`` is ‖∇f(x)‖ ≤ gtol; the default gtol = 1e-6 · max(1, ‖∇²f‖₂) ·
    max(1, ‖x‖∞) accepts a critical point given to about six significant digits.
    Cost: one gradient and one Hessian.
    """
    fv, xv = _vector_point(f, x)
    fs = _scalar_fun(fv, xv)
    value = float(fs(xv))
    g = np.asarray(grad(fs)(xv), dtype=float)
    H = np.asarray(hessian(fs)(xv), dtype=float).reshape(xv.size, xv.size)
    if gtol is None:
        hnorm = float(np.linalg.norm(H, 2)) if np.all(np.isfinite(H)) else np.inf
        gtol = 1e-6 * max(1.0, hnorm) * max(1.0, float(np.max(np.abs(xv))))
    return _classified(xv, value, g, H, eig_tol_rel=tol, gtol=gtol)


# ---------------------------------------------------------------------------------
# critical_points


@dataclass(frozen=True)
class MultiStartResult:
    """What a multi-start Newton search found: the points with their diagnostics.

    ``counts`` maps each kind to how many were found; ``hits[i]`` is how many starts
    converged to ``points[i]``; how many starts converged, left the box, stalled, diverged
    or ran out of iterations; the most Newton steps any start took; the residual threshold
    used; whether the iterations ran batched (vmap) or in a loop."""

    points: tuple
    counts: dict[str, int]
    hits: tuple[int, ...]
    n_starts: int
    n_converged: int
    n_left_box: int
    n_stalled: int
    n_diverged: int
    n_unconverged: int
    max_iterations: int
    gtol: float
    vectorised: bool

    @property
    def x(self) -> np.ndarray:
        """The points as an array of shape (n_points, n)."""
        return np.array([p.x for p in self.points]).reshape(len(self.points), -1)

    @property
    def values(self) -> np.ndarray:
        return np.array([p.value for p in self.points])

    def of_kind(self, kind: str) -> tuple:
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}; got {kind!r}.")
        return tuple(p for p in self.points if p.kind == kind)

    @property
    def minima(self) -> tuple:
        return self.of_kind("minimum")

    @property
    def maxima(self) -> tuple:
        return self.of_kind("maximum")

    @property
    def saddles(self) -> tuple:
        return self.of_kind("saddle")


@dataclass(frozen=True)
class CriticalPointsResult(MultiStartResult):
    """All critical points found in a box, sorted by f value (then by x).

    ``counts`` maps each kind to how many were found; ``hits[i]`` is how many starts
    converged to ``points[i]``. Diagnostics: how many starts converged, left the box,
    stalled at a nonzero local minimum of ‖∇f‖, diverged, or ran out of iterations;
    the most Newton steps any start took; the ‖∇f‖ threshold used; whether the
    iterations ran batched (vmap) or in a loop.
    """



def critical_points(f: Callable, bounds, n_starts: int = 256, seed: int | None = 0,
                    tol: float = 1e-8, *, starts=None, gtol: float = 1e-10,
                    dedup_tol: float = 1e-6, max_iter: int = 100) -> CriticalPointsResult:
    """Every critical point (∇f = 0) found in the box ``bounds`` (scipy.optimize's
    form: a sequence of (min, max) pairs), each classified as in ``classify``.

    Method: from ``n_starts`` scrambled-Sobol starts (reproducible from ``seed``; or
    the rows of ``starts``), Newton's method on the gradient map ∇f(x) = 0, damped as
    Levenberg–Marquardt on ½‖∇f‖² (the map's Jacobian is the Hessian, so maxima and
    saddles attract as strongly as minima), each step capped at a quarter of the box
    width per coordinate. A start is discarded when an accepted step leaves the box
    widened by 10% on each side, when ∇f or ∇²f is not finite there, or when it stalls
    at a nonzero local minimum of ‖∇f‖ (a singular Hessian with ∇f off its range).
    Converged: ‖∇f‖ ≤ gtol · median ‖∇f‖ over the starts. Converged points inside
    the box are merged when within ``dedup_tol`` of each other in coordinates scaled
    by the box widths, or within twice the sum of their estimated distances to the
    exact point (below); a continuum of critical points is returned as a sample.

    At a degenerate critical point Newton converges only linearly and the point is
    known less precisely; the eigenvalue tolerance then adds twice the change of the
    Hessian over the estimated distance to the exact point (the last Newton step
    divided by 1 − its observed contraction ratio), so such points are reported
    degenerate rather than as spurious extrema.

    Cost per iteration: one batched gradient and Hessian (``vmap`` of
    forward-over-reverse) at all running starts; a loop over starts when ``f`` does
    not vectorise. At most ``max_iter`` iterations. Floating-point warnings are
    silenced during the search: a non-finite value rejects a step, or ends a start.
    """
    lo, hi = _check_bounds(bounds)
    n = lo.size
    width = hi - lo
    X0 = _starts(lo, hi, n_starts, seed) if starts is None else _check_starts(starts, n)
    with np.errstate(all="ignore"):
        fs = _scalar_fun(f, X0[0])
    g_fun, h_fun = grad(fs), hessian(fs)
    resjac = _Batched(lambda x: (g_fun(x), h_fun(x)))
    sol = _damped_newton(resjac, X0, lo=lo - 0.1 * width, hi=hi + 0.1 * width,
                         cap=0.25 * width, rtol=gtol, max_iter=max_iter)
    conv = sol.status == _CONVERGED
    inside = np.all((sol.Z >= lo - 1e-12 * width) & (sol.Z <= hi + 1e-12 * width), axis=1)
    keep = np.flatnonzero(conv & inside)
    points: list[CriticalPoint] = []
    hits: list[int] = []
    if keep.size:
        X, G, H = sol.Z[keep], sol.R[keep], sol.J[keep]
        delta = _newton_distance(H, G, sol.last_step[keep])
        clusters = _dedup(X, np.linalg.norm(delta, axis=1), width, dedup_tol)
        rep = np.array([c[0] for c in clusters])
        X, G, H, delta = X[rep], G[rep], H[rep], delta[rep]
        # eigenvalue uncertainty: the Hessian's change over that distance (Weyl)
        H2 = resjac(X + delta)[1]
        with np.errstate(invalid="ignore"):
            err = 2.0 * np.linalg.norm(H2 - H, ord=2, axis=(1, 2))
        err = np.where(np.isfinite(err), err, 0.0)
        values = _Batched(lambda x: (fs(x),))(X)[0].reshape(-1)
        for i in range(len(rep)):
            points.append(_classified(X[i], values[i], G[i], H[i], eig_tol_rel=tol,
                                      gtol=sol.atol, eig_err=float(err[i])))
            hits.append(len(clusters[i]))
        order = sorted(range(len(points)),
                       key=lambda i: (points[i].value, tuple(points[i].x)))
        points = [points[i] for i in order]
        hits = [hits[i] for i in order]
    counts = {k: sum(p.kind == k for p in points) for k in KINDS}
    st = sol.status
    return CriticalPointsResult(
        points=tuple(points), counts=counts, hits=tuple(hits), n_starts=len(X0),
        n_converged=int(np.sum(conv & inside)),
        n_left_box=int(np.sum(st == _LEFT_BOX) + np.sum(conv & ~inside)),
        n_stalled=int(np.sum(st == _STALLED)), n_diverged=int(np.sum(st == _DIVERGED)),
        n_unconverged=int(np.sum(st == _MAX_ITER)),
        max_iterations=int(np.max(sol.iterations, initial=0)), gtol=float(sol.atol),
        vectorised=resjac.vectorised)
