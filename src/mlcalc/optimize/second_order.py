"""Second-order methods: Newton's method with Levenberg damping or a trust region,
saddle-free Newton (Dauphin et al. 2014), and the matrix-free Newton-CG (line search)
and trust-region Newton-CG (Steihaug–Toint), which use Hessian-vector products only."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .driver import Run, require_unconstrained
from .line_search import APPROX_EPSILON, strong_wolfe
from .objective import Objective
from .quasi_newton import _line_search
from .registry import register_method

__all__ = ["newton", "saddle_free_newton", "newton_cg", "trust_ncg"]

GLOBALIZATIONS = ("damping", "trust_region", "none")
RELATIVE_MAX_RADIUS = 1000.0


# -- helpers ----------------------------------------------------------------------
def _hessian(obj: Objective, x: np.ndarray, run: Run) -> np.ndarray | None:
    """The Hessian at x, or None (after ``run.fail``) when it is not finite."""
    H = obj.hess(x)
    if not np.all(np.isfinite(H)):
        run.fail(f"the Hessian is not finite at iteration {run.nit}")
        return None
    return 0.5 * (H + H.T)


def levenberg_solve(H: np.ndarray, g: np.ndarray, beta: float = 1e-3) -> tuple[np.ndarray, float]:
    """Solve (H + λI) d = −g with the smallest λ ≥ 0 of the sequence 0, τ₀, 2τ₀, ... for
    which H + λI is positive definite (Cholesky attempts, N&W Algorithm 3.3), where
    τ₀ = β·max(1, max|H_ii|) − min(0, min H_ii). Returns (d, λ). Cost O(n³) per attempt."""
    scale = max(1.0, float(np.max(np.abs(np.diag(H))))) if H.size else 1.0
    lam = 0.0 if np.min(np.diag(H)) > 0 else beta * scale - float(np.min(np.diag(H)))
    eye = np.eye(H.shape[0])
    for _ in range(200):
        try:
            L = np.linalg.cholesky(H + lam * eye)
        except np.linalg.LinAlgError:
            lam = max(2.0 * lam, beta * scale)
            continue
        z = np.linalg.solve(L, -g)
        return np.linalg.solve(L.T, z), lam
    raise np.linalg.LinAlgError("no positive definite shift of the Hessian was found")


def _boundary_taus(z: np.ndarray, d: np.ndarray, radius: float) -> tuple[float, float]:
    """The roots τ₋ ≤ τ₊ of ‖z + τ d‖ = radius (‖z‖ ≤ radius, so τ₋ ≤ 0 ≤ τ₊)."""
    a, b, c = float(d @ d), 2.0 * float(z @ d), float(z @ z) - radius * radius
    sq = np.sqrt(max(b * b - 4.0 * a * c, 0.0))
    # numerically stable pair of roots
    q = -0.5 * (b + np.copysign(sq, b))
    r1, r2 = (q / a, c / q) if q != 0 else (0.0, 0.0)
    return min(r1, r2), max(r1, r2)


def exact_trust_region_step(
    H: np.ndarray, g: np.ndarray, radius: float
) -> tuple[np.ndarray, bool]:
    """Exact solution of min gᵀp + ½ pᵀHp subject to ‖p‖ ≤ radius (Moré–Sorensen, via an
    eigendecomposition H = V Λ Vᵀ): p(λ) = −(H + λI)⁻¹g with λ ≥ max(0, −λ_min) and
    λ(radius − ‖p‖) = 0, found by Newton's method on 1/‖p(λ)‖ − 1/radius (safeguarded
    by bisection); the "hard case" adds a multiple of the eigenvector of λ_min. Returns
    (p, on_boundary). Cost O(n³)."""
    lam_i, V = np.linalg.eigh(H)
    gh = V.T @ g
    lmin = float(lam_i[0])
    if lmin > 0:
        p = -(gh / lam_i)
        if np.linalg.norm(p) <= radius:
            return V @ p, False
    lo = max(0.0, -lmin)
    gnorm = float(np.linalg.norm(g))

    def norm_p(lam):
        with np.errstate(divide="ignore"):
            return float(np.linalg.norm(gh / (lam_i + lam)))

    tiny = 1e-12 * max(1.0, abs(lmin), float(np.max(np.abs(lam_i))))
    if norm_p(lo + tiny) <= radius:  # hard case (or nearly): move along the eigenvector
        small = np.abs(lam_i + lo) > tiny
        p = np.zeros_like(gh)
        p[small] = -gh[small] / (lam_i[small] + lo)
        z = np.zeros_like(gh)
        z[0] = 1.0
        tau = _boundary_taus(p, z, radius)[1]
        return V @ (p + tau * z), True
    hi = lo + gnorm / radius + tiny
    lam = hi
    for _ in range(100):
        den = lam_i + lam
        p = -gh / den
        pn = float(np.linalg.norm(p))
        if abs(pn - radius) <= 1e-10 * radius:
            break
        if pn > radius:
            lo = lam
        else:
            hi = lam
        q2 = float(np.sum(gh * gh / den**3))
        step = (pn / radius - 1.0) * pn * pn / q2 if q2 > 0 else np.inf
        lam_new = lam + step
        lam = lam_new if lo < lam_new < hi else 0.5 * (lo + hi)
        if hi - lo <= 1e-15 * hi:
            break
    return V @ (-gh / (lam_i + lam)), True


def steihaug_cg(
    hvp: Callable[[np.ndarray], np.ndarray],
    g: np.ndarray,
    radius: float,
    tol: float,
    maxiter: int,
) -> tuple[np.ndarray, float, bool]:
    """Steihaug–Toint truncated CG for min m(p) = gᵀp + ½ pᵀBp, ‖p‖ ≤ radius, with B
    known only through ``hvp`` (N&W Algorithm 7.2). Stops at ‖r‖ ≤ tol, at the boundary
    (a step leaving the region, or negative curvature: then the boundary point with the
    lower model value). Returns (p, m(p), on_boundary); m(p) = ½ gᵀp + ½ pᵀr from the
    tracked residual r = Bp + g, so no extra product. Cost: one HVP per CG iteration."""
    z = np.zeros_like(g)
    r = g.copy()
    d = -r
    rr = float(r @ r)
    if np.sqrt(rr) <= tol:
        return z, 0.0, False
    for _ in range(maxiter):
        Bd = hvp(d)
        dBd = float(d @ Bd)
        if not dBd > 0:
            candidates = []
            for tau in _boundary_taus(z, d, radius):
                p, rp = z + tau * d, r + tau * Bd
                candidates.append((0.5 * float(g @ p) + 0.5 * float(p @ rp), p))
            m, p = min(candidates, key=lambda c: c[0])
            return p, m, True
        alpha = rr / dBd
        z_next = z + alpha * d
        if np.linalg.norm(z_next) >= radius:
            tau = _boundary_taus(z, d, radius)[1]
            p, rp = z + tau * d, r + tau * Bd
            return p, 0.5 * float(g @ p) + 0.5 * float(p @ rp), True
        z = z_next
        r = r + alpha * Bd
        rr_next = float(r @ r)
        if np.sqrt(rr_next) <= tol:
            break
        d = -r + (rr_next / rr) * d
        rr = rr_next
    return z, 0.5 * float(g @ z) + 0.5 * float(z @ r), False


def _trust_region(
    obj: Objective,
    x: np.ndarray,
    run: Run,
    model: Callable,
    initial_radius: float,
    max_radius: float | None,
    eta: float,
    shrink_to_step: bool = False,
):
    """The trust-region loop shared by Newton (exact subproblem) and trust_ncg.

    ``model(x, g, radius)`` returns (p, m(p), on_boundary) with m(p) the model change
    (negative). ρ = (f(x+p) − f(x)) / m(p), where both changes are within ε|f(x)|
    (ε = ``APPROX_EPSILON``, mostly rounding) with f(x+p) − f(x) estimated by the
    trapezoid ½(∇f(x) + ∇f(x+p))ᵀp instead (Hager & Zhang's device, as in the line
    searches); accept when ρ > eta; radius ← ¼‖p‖ (``shrink_to_step``) or ¼·radius
    when ρ < ¼, ← min(2·radius, cap) when ρ > ¾ and p is on the boundary, with cap =
    ``max_radius``, or, when it is None, RELATIVE_MAX_RADIUS·max(1, ‖x‖) (a bound that
    follows the scale of the iterates). When the region collapses (or the model
    predicts no decrease), the run stops with success if the model's predicted
    decrease is within the rounding band of f (:meth:`Run.stop_at_rounding`), else
    fails. One value-and-gradient evaluation per trial point; only accepted steps
    count as iterations.
    """
    if not (0 <= eta < 0.25 and 0 < initial_radius) or (
        max_radius is not None and not initial_radius <= max_radius
    ):
        raise ValueError(
            f"{run.method}: need 0 ≤ eta < 0.25 and 0 < initial_radius ≤ max_radius; got "
            f"eta={eta}, initial_radius={initial_radius}, max_radius={max_radius}."
        )
    f, g = obj.value_and_grad(x)
    if run.start(x, f, g):
        return run.result()
    radius = float(initial_radius)
    while True:
        p, m, on_boundary = model(x, g, radius)
        if p is None:
            return run.result()
        if not m < 0:
            run.stop_at_rounding(
                m, f"the trust-region model predicts no decrease at iteration {run.nit}"
            )
            return run.result()
        x_new = x + p
        f_new, g_new = obj.value_and_grad(x_new)
        slack = APPROX_EPSILON * abs(f)
        if not (np.isfinite(f_new) and np.all(np.isfinite(g_new))):
            rho = -np.inf
        elif -m <= slack and abs(f_new - f) <= slack:
            # the change of f is within its rounding: measure it by the trapezoid
            # ½(g + g_new)ᵀp, as the approximate Wolfe test of the line searches does
            rho = 0.5 * float((g + g_new) @ p) / m
        else:
            rho = (f_new - f) / m
        pn = float(np.linalg.norm(p))
        if rho < 0.25:
            radius = 0.25 * (pn if shrink_to_step else radius)
        elif rho > 0.75 and on_boundary:
            cap = max_radius
            if cap is None:  # relative to the scale of the iterate
                cap = RELATIVE_MAX_RADIUS * max(1.0, float(np.sqrt(x_new @ x_new)))
            radius = min(2.0 * radius, cap)
        if rho > eta:
            x, f, g = x_new, f_new, g_new
            if run.iterate(x, f, g, pn):
                return run.result()
        elif radius <= 1e-15 * max(1.0, float(np.linalg.norm(x))):
            run.stop_at_rounding(
                m, f"the trust region collapsed at iteration {run.nit} (radius {radius:.3g})"
            )
            return run.result()


def _check_globalization(method: str, value: str) -> None:
    if value not in GLOBALIZATIONS:
        raise ValueError(
            f"{method}: unknown globalization {value!r}; known: {', '.join(GLOBALIZATIONS)}."
        )


# -- methods ----------------------------------------------------------------------
@register_method("newton")
def newton(
    obj: Objective,
    x: np.ndarray,
    run: Run,
    *,
    globalization: str = "damping",
    c1: float = 1e-4,
    c2: float = 0.9,
    initial_radius: float = 1.0,
    max_radius: float = 1000.0,
    eta: float = 0.15,
    bounds=None,
    constraints=(),
):
    """Newton's method with the exact Hessian from the engine.

    ``globalization``:
    - ``"damping"`` (default): d = −(H + λI)⁻¹g with the smallest λ ≥ 0 (0, τ₀, 2τ₀, ...)
      making H + λI positive definite (Levenberg; Cholesky attempts), then a strong Wolfe
      line search from t = 1. λ is reported per run as ``max_damping``.
    - ``"trust_region"``: exact trust-region subproblem (Moré–Sorensen) with radius
      update of :func:`_trust_region` (``initial_radius``, ``max_radius``, ``eta``).
    - ``"none"``: the pure iteration x ← x − H⁻¹g (least-squares solution when H is
      singular); it converges to any nondegenerate critical point, saddles included.
    Cost per iteration: one Hessian, O(n³) linear algebra, one value-and-gradient
    (plus line-search trials or rejected trust-region trials).
    """
    require_unconstrained("newton", bounds, constraints)
    _check_globalization("newton", globalization)
    if globalization == "trust_region":

        last: dict = {}  # the Hessian at the current x, reused after a rejected step

        def model(x, g, radius):
            if last.get("x") is None or not np.array_equal(last["x"], x):
                last["x"], last["H"] = x.copy(), _hessian(obj, x, run)
            H = last["H"]
            if H is None:
                return None, 0.0, False
            p, on_boundary = exact_trust_region_step(H, g, radius)
            return p, float(g @ p) + 0.5 * float(p @ H @ p), on_boundary

        return _trust_region(obj, x, run, model, initial_radius, max_radius, eta)

    f, g = obj.value_and_grad(x)
    if run.start(x, f, g):
        return run.result()
    max_damping = 0.0
    while True:
        H = _hessian(obj, x, run)
        if H is None:
            return run.result(max_damping=max_damping)
        if globalization == "none":
            d = np.linalg.lstsq(H, -g, rcond=None)[0]
            x = x + d
            f, g = obj.value_and_grad(x)
            if run.iterate(x, f, g, 1.0):
                return run.result(max_damping=max_damping)
            continue
        d, lam = levenberg_solve(H, g)
        max_damping = max(max_damping, lam)
        ls = strong_wolfe(obj, x, f, g, d, step=1.0, c1=c1, c2=c2)
        if ls.step == 0.0:
            run.stop_at_rounding(
                float(g @ d), f"the line search found no decrease at iteration {run.nit}"
            )
            return run.result(max_damping=max_damping)
        x, f, g = ls.x, ls.f, ls.g
        if run.iterate(x, f, g, ls.step):
            return run.result(max_damping=max_damping)


@register_method("saddle_free_newton")
def saddle_free_newton(
    obj: Objective,
    x: np.ndarray,
    run: Run,
    *,
    damping: float = 1e-3,
    c1: float = 1e-4,
    c2: float = 0.9,
    bounds=None,
    constraints=(),
):
    """Saddle-free Newton (Dauphin et al. 2014): d = −|H|⁻¹g with |H| = V|Λ|Vᵀ from an
    eigendecomposition H = VΛVᵀ, each |λ_i| floored at δ = damping·max_i|λ_i| (δ =
    damping when H = 0), then a strong Wolfe line search from t = 1.

    |H| is positive definite, so d is always a descent direction: along a direction of
    negative curvature the step moves downhill (away from a saddle) where Newton's step
    −H⁻¹g moves towards it. Near a minimum (H positive definite, |λ_i| ≥ δ) it is
    Newton's step. Cost per iteration: one Hessian, one O(n³) eigendecomposition, one
    value-and-gradient (plus line-search trials).
    """
    require_unconstrained("saddle_free_newton", bounds, constraints)
    if not damping > 0:
        raise ValueError(f"saddle_free_newton: damping must be > 0; got {damping}.")
    f, g = obj.value_and_grad(x)
    if run.start(x, f, g):
        return run.result()
    while True:
        H = _hessian(obj, x, run)
        if H is None:
            return run.result()
        lam, V = np.linalg.eigh(H)
        abs_lam = np.abs(lam)
        top = float(np.max(abs_lam)) if lam.size else 0.0
        floor = damping * top if top > 0 else damping
        d = -(V @ ((V.T @ g) / np.maximum(abs_lam, floor)))
        ls = strong_wolfe(obj, x, f, g, d, step=1.0, c1=c1, c2=c2)
        if ls.step == 0.0:
            run.stop_at_rounding(
                float(g @ d), f"the line search found no decrease at iteration {run.nit}"
            )
            return run.result()
        x, f, g = ls.x, ls.f, ls.g
        if run.iterate(x, f, g, ls.step):
            return run.result()


FORCING = ("quadratic", "superlinear")


def _forcing(gnorm: float, kind: str = "superlinear") -> float:
    """Relative CG tolerance (forcing term) of inexact Newton: η = min(0.5, ‖g‖) for
    ``"quadratic"`` local convergence, η = min(0.5, √‖g‖) for ``"superlinear"``
    (N&W Theorem 7.2)."""
    if kind == "quadratic":
        return min(0.5, gnorm)
    return min(0.5, np.sqrt(gnorm))


def _check_forcing(method: str, kind: str) -> None:
    if kind not in FORCING:
        raise ValueError(f"{method}: unknown forcing {kind!r}; known: {', '.join(FORCING)}.")


@register_method("newton_cg", "newton-cg")
def newton_cg(
    obj: Objective,
    x: np.ndarray,
    run: Run,
    *,
    c1: float = 1e-4,
    c2: float = 0.9,
    cg_maxiter: int | None = None,
    line_search: str = "more_thuente",
    forcing: str = "quadratic",
    bounds=None,
    constraints=(),
):
    """Line-search Newton-CG (truncated Newton, N&W Algorithm 7.1), matrix-free.

    The direction solves H d = −g approximately by CG on Hessian-vector products,
    stopped when ‖r‖ ≤ η‖g‖ with the forcing term η = min(0.5, ‖g‖) for
    ``forcing="quadratic"`` (default; quadratic local convergence, N&W Theorem 7.2) or
    η = min(0.5, √‖g‖) for ``"superlinear"`` (scipy's choice), or at the first
    direction of non-positive curvature (then the current CG iterate, or −g scaled by
    gᵀg / |dᵀHd| when that happens at once), or after ``cg_maxiter`` (default 20n)
    iterations. Then a strong Wolfe line search from t = 1: Moré–Thuente
    (``line_search="more_thuente"``, default) or ``"strong_wolfe"``. Never forms H:
    ``nhev`` counts HVPs. Cost per iteration: one value-and-gradient (plus line-search
    trials) and one HVP per inner CG iteration.
    """
    require_unconstrained("newton_cg", bounds, constraints)
    search = _line_search("newton_cg", line_search)
    _check_forcing("newton_cg", forcing)
    f, g = obj.value_and_grad(x)
    if run.start(x, f, g):
        return run.result()
    maxcg = 20 * x.size if cg_maxiter is None else int(cg_maxiter)
    while True:
        gnorm = float(np.linalg.norm(g))
        tol = _forcing(gnorm, forcing) * gnorm
        z = np.zeros_like(g)
        r = g.copy()
        p = -r
        rr = float(r @ r)
        for i in range(maxcg):
            Hp = obj.hvp(x, p)
            curv = float(p @ Hp)
            if not curv > 0:
                if i == 0:
                    z = -g * (rr / abs(curv)) if curv < 0 else -g
                break
            alpha = rr / curv
            z = z + alpha * p
            r = r + alpha * Hp
            rr_next = float(r @ r)
            if np.sqrt(rr_next) <= tol:
                break
            p = -r + (rr_next / rr) * p
            rr = rr_next
        if run.stalled():
            run.stop_at_rounding(float(g @ z), "no progress in 20 iterations")
            return run.result()
        ls = search(obj, x, f, g, z, step=1.0, c1=c1, c2=c2)
        if ls.step == 0.0:
            run.stop_at_rounding(
                float(g @ z), f"the line search found no decrease at iteration {run.nit}"
            )
            return run.result()
        x, f, g = ls.x, ls.f, ls.g
        if run.iterate(x, f, g, ls.step):
            return run.result()


@register_method("trust_ncg", "trust-ncg")
def trust_ncg(
    obj: Objective,
    x: np.ndarray,
    run: Run,
    *,
    initial_radius: float = 1.0,
    max_radius: float | None = None,
    eta: float = 0.15,
    cg_maxiter: int | None = None,
    shrink_to_step: bool = False,
    forcing: str = "quadratic",
    bounds=None,
    constraints=(),
):
    """Trust-region Newton-CG: Steihaug–Toint CG on Hessian-vector products inside the
    region ‖p‖ ≤ Δ (:func:`steihaug_cg`, relative tolerance η = min(0.5, ‖g‖) for
    ``forcing="quadratic"`` (default: more HVPs near the solution, fewer evaluations of
    f) or min(0.5, √‖g‖) for ``"superlinear"`` (scipy's), at most ``cg_maxiter`` = 20n
    inner iterations), radius update (:func:`_trust_region`)
    ρ < ¼ → Δ = ¼Δ (¼‖p‖ with ``shrink_to_step=True``), ρ > ¾ on the boundary →
    Δ = min(2Δ, cap), accept when ρ > ``eta``. The cap is ``max_radius`` when given,
    else 1000·max(1, ‖x‖): scale-aware, so that on badly scaled problems whose
    minimiser lies far out (Brown's, x* = (1e6, 2e-6)) the region can grow with the
    iterates. Changes of f below its rounding are measured by the gradients (the
    trapezoid), so that the region does not collapse on rounding noise near a
    minimiser. Never forms H: ``nhev`` counts HVPs. Cost per iteration: one
    value-and-gradient per trial point and one HVP per inner CG iteration.
    """
    require_unconstrained("trust_ncg", bounds, constraints)
    _check_forcing("trust_ncg", forcing)
    maxcg = 20 * x.size if cg_maxiter is None else int(cg_maxiter)

    def model(x, g, radius):
        gnorm = float(np.linalg.norm(g))
        tol = _forcing(gnorm, forcing) * gnorm
        return steihaug_cg(lambda v: obj.hvp(x, v), g, radius, tol, maxcg)

    return _trust_region(obj, x, run, model, initial_radius, max_radius, eta, shrink_to_step)
