"""Constrained minimisation: projected gradient with Euclidean projections (box, simplex,
L1/L2 ball, non-negative orthant) and the augmented Lagrangian method for equality and
inequality constraints, reporting KKT residuals."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..autodiff import tree
from ..autodiff.api import vjp as _vjp
from .driver import Run
from .line_search import APPROX_EPSILON, ROUNDING_RISE, sufficient_decrease
from .minimize import minimize
from .objective import Objective
from .registry import METHODS, register_method

__all__ = [
    "project_box",
    "project_simplex",
    "project_l1_ball",
    "project_l2_ball",
    "project_nonnegative",
]


# ---------------------------------------------------------------------------------
# projections: P_C(x) = argmin_{z ∈ C} ‖z − x‖


def project_box(x: np.ndarray, lo, hi) -> np.ndarray:
    """Projection onto the box {lo ≤ z ≤ hi} (bounds broadcast against x): clip. O(n)."""
    return np.clip(np.asarray(x, dtype=float), lo, hi)


def project_nonnegative(x: np.ndarray) -> np.ndarray:
    """Projection onto the non-negative orthant: max(x, 0). O(n)."""
    return np.maximum(np.asarray(x, dtype=float), 0.0)


def project_simplex(x: np.ndarray, s: float = 1.0) -> np.ndarray:
    """Projection of a vector onto the simplex {z ≥ 0, Σz = s} (s > 0), by sorting
    (Duchi, Shalev-Shwartz, Singer and Chandra 2008): with u sorted decreasingly,
    ρ = max{j : u_j − (Σ_{i≤j} u_i − s)/j > 0}, θ = (Σ_{i≤ρ} u_i − s)/ρ, and
    P(x) = max(x − θ, 0). O(n log n)."""
    x = _vector(x, "project_simplex")
    if not s > 0:
        raise ValueError(f"project_simplex: the simplex sum s must be positive; got {s}.")
    u = np.sort(x)[::-1]
    css = np.cumsum(u) - s
    j = np.arange(1, x.size + 1)
    rho = int(np.nonzero(u - css / j > 0)[0][-1])
    theta = css[rho] / (rho + 1)
    return np.maximum(x - theta, 0.0)


def project_l1_ball(x: np.ndarray, r: float = 1.0) -> np.ndarray:
    """Projection onto the L1 ball {‖z‖₁ ≤ r}: x itself when inside, else
    sign(x)·P_simplex(|x|, r) (Duchi et al. 2008). O(n log n)."""
    x = _vector(x, "project_l1_ball")
    if not r > 0:
        raise ValueError(f"project_l1_ball: the radius must be positive; got {r}.")
    if np.sum(np.abs(x)) <= r:
        return x.copy()
    return np.sign(x) * project_simplex(np.abs(x), r)


def project_l2_ball(x: np.ndarray, r: float = 1.0) -> np.ndarray:
    """Projection onto the Euclidean ball {‖z‖₂ ≤ r}: x·min(1, r/‖x‖). O(n)."""
    x = np.asarray(x, dtype=float)
    if not r > 0:
        raise ValueError(f"project_l2_ball: the radius must be positive; got {r}.")
    nrm = float(np.linalg.norm(x))
    return x.copy() if nrm <= r else x * (r / nrm)


def _vector(x, name: str) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    if x.ndim != 1:
        raise ValueError(f"{name}: x must be a vector of shape (n,); got shape {x.shape}.")
    return x


# ---------------------------------------------------------------------------------
# projected gradient


@register_method("projected_gradient")
def projected_gradient(
    obj: Objective,
    x: np.ndarray,
    run: Run,
    *,
    projection: Callable | None = None,
    step: float | None = None,
    c1: float = 1e-4,
    bounds=None,
    constraints=(),
):
    """Projected gradient x_{k+1} = P(x_k − t_k ∇f(x_k)) onto a closed convex set.

    ``projection``: P as a callable of the parameters (same structure as x0, e.g.
    ``project_simplex``); without it, ``bounds`` give the box projection. The start is
    P(x0). ``step``: a fixed t; by default t_k comes from backtracking on the projected
    arc (Bertsekas): the first t = 2t_{k−1}·2^{−j} with
    f(x(t)) ≤ f(x) + c1·∇f(x)ᵀ(x(t) − x), x(t) = P(x − t∇f(x)) (near convergence,
    where values differ by rounding, Hager–Zhang's approximate form of the test).

    Stationarity is measured by the projected gradient x − P(x − ∇f(x)) (zero exactly
    at the KKT points); ``tol`` applies to its norm, the trajectory's gradient norms are
    its norms, and the result's ``projected_gradient`` holds it (``jac`` is ∇f). When
    the line search finds no decrease although the step to P(x − ∇f) predicts one,
    gᵀ(x − P(x − ∇f)), no larger than the rounding error of f near x
    (4 eps(|f| + |∇f|ᵀ|x|): at a constrained minimiser ∇f ≠ 0 and the rounding of the
    projected points alone changes f by that much), x is stationary to rounding: the
    run stops with success and says so in ``message``; otherwise it fails (status 4).
    Cost per iteration: one gradient, one projection per trial step plus one for the
    stationarity measure, and one value and gradient per trial step.
    """
    if constraints:
        raise ValueError(
            "minimize: 'projected_gradient' takes a projection or bounds; for general "
            "constraints use 'augmented_lagrangian'."
        )
    if projection is None and bounds is None:
        raise ValueError("projected_gradient: pass options={'projection': P} or bounds.")
    proj = _flat_projection(obj, projection, bounds)
    x = proj(x)
    f, g = obj.value_and_grad(x)
    pg = x - proj(x - g)
    if run.start(x, f, pg):
        return run.result(jac=obj.unravel(g), projected_gradient=obj.unravel(pg))
    t = 1.0
    while True:
        if step is None:
            t = min(2.0 * t, 1e8)
            for _ in range(60):
                x_new = proj(x - t * g)
                f_new, g_new = obj.value_and_grad(x_new)
                if _sufficient_decrease(f, g, f_new, g_new, x_new - x, c1):
                    break
                t *= 0.5
            else:
                floor = _rounding_floor(x, f, g)
                predicted = float(g @ pg)
                if predicted <= floor:
                    run.converge(
                        f"stationary to rounding: the projected gradient (norm "
                        f"{np.linalg.norm(pg):.3g}) predicts a decrease of {predicted:.3g} "
                        f"for the step to P(x − ∇f), below the rounding error {floor:.3g} "
                        "of f near x, so no line search can certify further progress"
                    )
                else:
                    run.fail("the projected-arc line search found no decrease")
                return run.result(jac=obj.unravel(g), projected_gradient=obj.unravel(pg))
        else:
            t = float(step)
            x_new = proj(x - t * g)
            f_new, g_new = obj.value_and_grad(x_new)
        x, f, g = x_new, f_new, g_new
        pg = x - proj(x - g)
        if run.iterate(x, f, pg, t):
            return run.result(jac=obj.unravel(g), projected_gradient=obj.unravel(pg))


def _sufficient_decrease(f, g, f_new, g_new, d, c1: float) -> bool:
    """Sufficient decrease along the arc step d = x(t) − x: Armijo's f_new ≤ f + c1·gᵀd,
    or, once f_new − f and gᵀd are within ε|f| (ε = 1e-6) where the difference of
    values is mostly rounding, Hager & Zhang's (2005) approximate form
    ½(g + g_new)ᵀd ≤ c1·gᵀd (the trapezoidal estimate of f_new − f; see
    :func:`.line_search.sufficient_decrease`), provided d ≠ 0 and f_new rose by no
    more than rounding (``ROUNDING_RISE``·|f|), as in backtracking. Either suffices: on
    the arc the slopes
    carry the rounding of the projected points too, so neither test is the more
    reliable one near a constrained minimiser."""
    if not np.all(np.isfinite(g_new)):
        return False
    slope = float(g @ d)
    if f_new <= f + c1 * slope:
        return True
    if f_new > f + ROUNDING_RISE * abs(f) or not np.any(d):  # as in backtracking
        return False
    return sufficient_decrease(f, slope, 1.0, f_new, float(g_new @ d), c1,
                               APPROX_EPSILON * abs(f))


def _rounding_floor(x: np.ndarray, f: float, g: np.ndarray) -> float:
    """The rounding error of f between neighbouring points near x: the evaluation
    error 4 eps |f| plus 4 eps |∇f|ᵀ|x|, the change of f that the rounding of x's
    coordinates alone makes (at a constrained minimiser ∇f ≠ 0, so every projected
    point, itself rounded, carries it)."""
    eps = np.finfo(float).eps
    return 4.0 * eps * (abs(f) + float(np.abs(g) @ np.abs(x)))


def _flat_projection(obj: Objective, projection, bounds) -> Callable:
    if projection is None:
        lo, hi = bounds[:, 0], bounds[:, 1]
        return lambda v: np.clip(v, lo, hi)

    def proj(v):
        out = projection(obj.unravel(v))
        leaves = [np.asarray(leaf, dtype=float) for leaf in tree.leaves(out)]
        flat = np.concatenate([leaf.ravel() for leaf in leaves]) if leaves else np.zeros(0)
        if flat.shape != v.shape:
            raise ValueError(
                f"projected_gradient: the projection returned {flat.size} values for "
                f"{v.size} parameters."
            )
        return flat

    return proj


# ---------------------------------------------------------------------------------
# augmented Lagrangian


class _Constraints:
    """scipy-style constraints {"type": "eq"|"ineq", "fun": c, "args": (...)} stacked into
    c_E(x) = 0 and c_I(x) ≥ 0 on the flat vector, with values and vector–Jacobian
    products from the engine."""

    def __init__(self, constraints, obj: Objective, x: np.ndarray):
        if isinstance(constraints, dict):
            constraints = [constraints]
        self.eq, self.ineq = [], []
        for i, con in enumerate(constraints):
            if not isinstance(con, dict) or "fun" not in con or "type" not in con:
                raise ValueError(
                    f"augmented_lagrangian: constraint {i} must be a dict with keys 'type' "
                    "('eq' or 'ineq') and 'fun' (and optionally 'args')."
                )
            kind = str(con["type"]).lower()
            if kind not in ("eq", "ineq"):
                raise ValueError(
                    f"augmented_lagrangian: constraint {i} has type {con['type']!r}; known "
                    "types: eq, ineq."
                )
            entry = (con["fun"], tuple(con.get("args", ())))
            (self.eq if kind == "eq" else self.ineq).append(entry)
        unravel = obj.unravel

        def stack(v):
            parts = [np.ravel(fn(unravel(v), *a)) for fn, a in self.eq + self.ineq]
            return np.concatenate(parts) if parts else np.zeros(0)

        self._fun = stack
        try:
            c0 = np.asarray(stack(x), dtype=float)
        except (ValueError, IndexError, TypeError) as exc:
            raise ValueError(
                f"augmented_lagrangian: evaluating the constraints at x0 (shape "
                f"{np.shape(unravel(x))}) failed: {exc}"
            ) from exc
        sizes = [np.size(fn(unravel(x), *a)) for fn, a in self.eq]
        self.m = int(sum(sizes))
        self.p = c0.size - self.m

    def value(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self._fun(x), dtype=float)

    def value_and_vjp(self, x: np.ndarray):
        c, pullback = _vjp(self._fun, x)
        return np.asarray(c, dtype=float), lambda w: np.asarray(pullback(w)[0], dtype=float)


@register_method("augmented_lagrangian", "auglag")
def augmented_lagrangian(
    obj: Objective,
    x: np.ndarray,
    run: Run,
    *,
    penalty: float = 10.0,
    penalty_growth: float = 10.0,
    max_penalty: float = 1e12,
    inner: str = "lbfgs",
    inner_maxiter: int = 1000,
    bounds=None,
    constraints=(),
):
    """Augmented Lagrangian (method of multipliers) for min f(x) s.t. c_E(x) = 0,
    c_I(x) ≥ 0 (scipy's convention: ``constraints`` is a list of dicts
    {"type": "eq"|"ineq", "fun": c, "args": ()}).

    Lagrangian L = f − λᵀc_E − μᵀc_I with μ ≥ 0 (Nocedal & Wright's sign: ∇f = J_Eᵀλ +
    J_Iᵀμ at a KKT point). Each outer iteration minimises
    L_A(x) = f − λᵀc_E + (ρ/2)‖c_E‖² + (1/2ρ)Σ(max(0, μ − ρc_I)² − μ²)
    (Powell–Hestenes–Rockafellar; Nocedal & Wright Framework 17.3 and §17.4) with the
    unconstrained method ``inner`` (any registered method that needs only gradients) to
    tolerance ω_k = max(tol/10, 0.1^k), then updates
    λ ← λ − ρc_E, μ ← max(0, μ − ρc_I), and multiplies ρ by ``penalty_growth`` when
    the constraint violation fell by less than a factor 4 (Bertsekas 1982).

    Stops when the KKT residual vector (stationarity ∇f − J_Eᵀλ − J_Iᵀμ, violations
    c_E and min(c_I, 0), complementarity μ∘c_I) has norm ≤ ``tol``; the trajectory's
    gradient norms are its norms. The result has ``jac`` = ∇f, ``multipliers``
    (``eq``: λ, ``ineq``: μ), ``constraint_values``, ``penalty`` and ``kkt`` (the
    max-norms ``stationarity``, ``feasibility``, ``complementarity``). Cost per outer
    iteration: one inner solve, each of whose steps costs one gradient of f and one
    vector–Jacobian product of the constraints.
    """
    if bounds is not None:
        raise ValueError(
            "augmented_lagrangian: write bounds as 'ineq' constraints, or use "
            "'projected_gradient' for bound constraints alone."
        )
    if not constraints:
        raise ValueError("augmented_lagrangian: no constraints given; use an unconstrained "
                         "method.")
    if inner not in METHODS:
        raise ValueError(
            f"augmented_lagrangian: unknown inner method {inner!r}; known methods: "
            f"{', '.join(sorted(METHODS))}."
        )
    cons = _Constraints(constraints, obj, x)
    m = cons.m
    lam, mu = np.zeros(m), np.zeros(cons.p)
    rho = float(penalty)

    def kkt(x):
        f, g = obj.value_and_grad(x)
        c, pullback = cons.value_and_vjp(x)
        stat = g - pullback(np.concatenate([lam, mu]))
        ce, ci = c[:m], c[m:]
        vec = np.concatenate([stat, ce, np.minimum(ci, 0.0), mu * ci])
        return f, g, c, vec

    def finish():
        res = run.result(
            jac=obj.unravel(g),
            multipliers={"eq": lam.copy(), "ineq": mu.copy()},
            constraint_values=c,
            penalty=rho,
            kkt={
                "stationarity": _maxabs(stat_vec[: x.size]),
                "feasibility": _maxabs(np.concatenate([c[:m], np.minimum(c[m:], 0.0)])),
                "complementarity": _maxabs(mu * c[m:]),
            },
        )
        return res

    f, g, c, stat_vec = kkt(x)
    if run.start(x, f, g, measure=float(np.linalg.norm(stat_vec))):
        return finish()
    violation = _violation(c, m)
    omega = 1.0

    def lagrangian_value_and_grad(v):
        fv, gv = obj.value_and_grad(v)
        cv, pullback = cons.value_and_vjp(v)
        ce, ci = cv[:m], cv[m:]
        shifted = np.maximum(0.0, mu - rho * ci)
        la = fv - lam @ ce + 0.5 * rho * (ce @ ce) + (shifted @ shifted - mu @ mu) / (2 * rho)
        w = np.concatenate([lam - rho * ce, shifted])
        return float(la), gv - pullback(w)

    while True:
        omega = max(run.gtol / 10.0, 0.1 * omega)
        x_new = _inner_minimize(lagrangian_value_and_grad, x, inner, omega, inner_maxiter)
        c_new = cons.value(x_new)
        lam = lam - rho * c_new[:m]
        mu = np.maximum(0.0, mu - rho * c_new[m:])
        x = x_new
        f, g, c, stat_vec = kkt(x)
        new_violation = _violation(c, m)
        if new_violation > 0.25 * violation:
            rho = min(rho * penalty_growth, max_penalty)
        violation = new_violation
        if run.iterate(x, f, g, rho, measure=float(np.linalg.norm(stat_vec))):
            return finish()


def _violation(c: np.ndarray, m: int) -> float:
    return _maxabs(np.concatenate([c[:m], np.minimum(c[m:], 0.0)]))


def _maxabs(v: np.ndarray) -> float:
    return float(np.max(np.abs(v))) if v.size else 0.0


def _inner_minimize(value_and_grad, x, inner: str, tol: float, maxiter: int) -> np.ndarray:
    """Approximately minimise the augmented Lagrangian from x with the registered
    gradient-based method ``inner`` (through ``minimize``, value and gradient supplied,
    the gradient reused from the value's evaluation at the same point)."""
    cache = {}

    def value(v):
        cache["key"], cache["vg"] = v.tobytes(), value_and_grad(v)
        return cache["vg"][0]

    def gradient(v):
        if cache.get("key") == v.tobytes():
            return cache["vg"][1]
        return value_and_grad(v)[1]

    res = minimize(value, x, method=inner, jac=gradient, tol=tol, maxiter=maxiter)
    return np.asarray(res.x, dtype=float)
