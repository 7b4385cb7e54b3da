"""Boundary-value problems of the calculus of variations by discretise-and-optimise.

Minimise J[q] = ∫_a^b L(t, q, q̇) dt over paths with q(a) = q_a, q(b) = q_b (and
optionally integral constraints ∫ G_k(t, q, q̇) dt = c_k) by replacing q with its values
q_0 … q_n on the uniform grid t_i = a + i·h, h = (b − a)/n, q̇ on [t_i, t_{i+1}] with
the difference quotient v_i = (q_{i+1} − q_i)/h, and the integral with

- ``midpoint``: J_h = Σ_i L(t_{i+½}, (q_i + q_{i+1})/2, v_i)·h (the integrand is never
  evaluated at the grid's ends, which suits integrands singular there), or
- ``trapezoid``: J_h = Σ_i ½[L(t_i, q_i, v_i) + L(t_{i+1}, q_{i+1}, v_i)]·h.

Both are second order: for a smooth minimiser the discrete solution and J_h differ from
the continuous ones by O(h²). The interior values are found by a minimiser of
``mlcalc.optimize`` with the engine's gradient (L-BFGS by default; the augmented
Lagrangian with L-BFGS inside when there are constraints). Minimisation finds minima
of J_h; stationary points that are not minima (the action of a long stretch of
oscillator motion, beyond the first conjugate point) are not found this way.

The discrete Euler–Lagrange residual is (∂J_h/∂q_i)/h at the interior nodes, the
discretisation of ∂L/∂q − d/dt ∂L/∂q̇ (for the constrained problem, of the Lagrangian
L − Σ λ_k G_k); it is 0 at an exact discrete stationary point, so it measures how far
the optimiser stopped from one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..autodiff.api import value_and_grad
from ..autodiff.vmap import vmap
from ..numpy import concatenate
from ..optimize import METHODS, minimize

__all__ = ["BVPResult", "solve_bvp_functional"]

RULES = ("midpoint", "trapezoid")


@dataclass(frozen=True)
class BVPResult:
    """The discrete stationary path of a functional.

    ``t``: the grid (n + 1,); ``q``: the path on it, (n + 1,) or (n + 1, d), ends
    included; ``value``: J_h at ``q``; ``residual``: the discrete Euler–Lagrange
    residual (∂J_h/∂q_i)/h at the n − 1 interior nodes (of the Lagrangian function
    J_h − Σλ_k(C_k,h − c_k) when constrained); ``constraint_values``: the discretised
    constraint integrals C_k,h (empty when unconstrained); ``multipliers``: λ_k;
    ``rule``, ``method``; the optimiser's ``success``, ``nit``, ``nfev``, ``message``.
    """

    t: np.ndarray
    q: np.ndarray
    value: float
    residual: np.ndarray
    constraint_values: np.ndarray
    multipliers: np.ndarray
    rule: str
    method: str
    success: bool
    nit: int
    nfev: int
    message: str


def _endpoint(v, name: str) -> np.ndarray:
    v = np.asarray(v, dtype=float)
    if v.ndim > 1:
        raise ValueError(f"solve_bvp_functional: the boundary value {name} must be a scalar "
                         f"or a vector (d,); got shape {v.shape}.")
    return v


def _initial_guess(q0, t: np.ndarray, qa: np.ndarray, qb: np.ndarray) -> np.ndarray:
    """Interior values (n − 1,) + shape: the straight line by default, else from ``q0``
    (a callable of t, or values on the interior nodes or on all nodes)."""
    n = t.size - 1
    if q0 is None:
        s = ((t - t[0]) / (t[-1] - t[0]))[1:-1]
        return qa + np.multiply.outer(s, qb - qa)
    if callable(q0):
        values = np.array([np.asarray(q0(ti), dtype=float) for ti in t[1:-1]])
    else:
        values = np.asarray(q0, dtype=float)
        if values.shape == (n + 1,) + qa.shape:
            values = values[1:-1]
    if values.shape != (n - 1,) + qa.shape:
        raise ValueError(f"solve_bvp_functional: the initial path q0 must give the {n - 1} "
                         f"interior values, shape {(n - 1,) + qa.shape} (or all {n + 1} nodes); "
                         f"got shape {values.shape}.")
    return values


def _discretise(density: Callable, t: np.ndarray, rule: str) -> Callable:
    """The quadrature Q(path) ≈ ∫ density(t, q, q̇) dt of a full path (n + 1,) + shape."""
    h = t[1] - t[0]
    batched = vmap(density)

    def total(path):
        v = (path[1:] - path[:-1]) / h
        if rule == "midpoint":
            mid = 0.5 * (t[1:] + t[:-1])
            return np.sum(batched(mid, 0.5 * (path[1:] + path[:-1]), v)) * h
        return 0.5 * h * (np.sum(batched(t[:-1], path[:-1], v))
                          + np.sum(batched(t[1:], path[1:], v)))

    return total


def _checked_density(density: Callable, name: str) -> Callable:
    def checked(t, q, qd):
        out = density(t, q, qd)
        if np.size(out) != 1:
            raise ValueError(f"solve_bvp_functional: {name}(t, q, q̇) must return a scalar; "
                             f"for q of shape {np.shape(q)} it returned shape {np.shape(out)}.")
        return np.reshape(out, ())
    return checked


def solve_bvp_functional(
    J_density: Callable,
    boundary: tuple,
    n: int,
    t_span: tuple[float, float],
    q0=None,
    constraints: Sequence[tuple[Callable, float]] = (),
    rule: str = "midpoint",
    method: str | None = None,
    tol: float = 1e-9,
    maxiter: int = 20_000,
    options: dict | None = None,
) -> BVPResult:
    """Minimise J[q] = ∫ J_density(t, q, q̇) dt over t ∈ t_span with q(a), q(b) =
    ``boundary``, on ``n`` uniform intervals (see the module docstring for the rules).

    ``J_density(t, q, q̇)`` returns a scalar for a scalar time and q, q̇ scalars or (d,)
    vectors (it is vectorised over the grid by vmap). ``q0``: the initial path (a
    callable of t, or values on the interior or all nodes; default the straight line).
    ``constraints``: pairs (G, c) imposing ∫ G(t, q, q̇) dt = c, discretised by the same
    rule. ``method``: a method of ``mlcalc.optimize.minimize`` (default ``newton_cg``, or
    ``auglag`` with constraints); ``tol`` is its gradient (KKT) tolerance; ``options``
    its own settings. The discrete problem's conditioning worsens like n² (n⁴ where the
    integrand is singular at an end, as the brachistochrone's): first-order and
    limited-memory methods (``lbfgs``) then stall, while ``newton_cg`` (the default:
    engine Hessian–vector products) or ``bfgs`` converge in few steps.
    Cost: each optimiser iteration evaluates J_density and its
    gradient at n points (one reverse pass over the vmapped integrand).
    """
    if rule not in RULES:
        raise ValueError(f"solve_bvp_functional: unknown rule {rule!r}; known rules: "
                         f"{', '.join(RULES)}.")
    if int(n) != n or n < 2:
        raise ValueError(f"solve_bvp_functional: n (the number of intervals) must be an "
                         f"integer ≥ 2; got {n!r}.")
    a, b = (float(v) for v in t_span)
    if not b > a:
        raise ValueError(f"solve_bvp_functional: t_span must be (a, b) with a < b; got {t_span}.")
    if len(boundary) != 2:
        raise ValueError("solve_bvp_functional: boundary must be the pair (q(a), q(b)).")
    qa, qb = _endpoint(boundary[0], "q(a)"), _endpoint(boundary[1], "q(b)")
    if qa.shape != qb.shape:
        raise ValueError(f"solve_bvp_functional: q(a) and q(b) must have the same shape; got "
                         f"{qa.shape} and {qb.shape}.")
    method = method or ("auglag" if constraints else "newton_cg")
    if method not in METHODS:
        raise ValueError(f"solve_bvp_functional: unknown method {method!r}; known methods: "
                         f"{', '.join(sorted(METHODS))}.")
    t = a + (b - a) * np.arange(n + 1) / n
    h = (b - a) / n
    x0 = _initial_guess(q0, t, qa, qb)

    def path(interior):
        return concatenate([qa[None], interior, qb[None]], axis=0)

    objective = _discretise(_checked_density(J_density, "J_density"), t, rule)
    cons = []
    for k, con in enumerate(constraints):
        if len(con) != 2 or not callable(con[0]):
            raise ValueError(f"solve_bvp_functional: constraint {k} must be a pair "
                             "(G(t, q, q̇), value).")
        integral = _discretise(_checked_density(con[0], f"constraint {k}"), t, rule)
        cons.append((integral, float(con[1])))

    def fun(interior):
        return objective(path(interior))

    kwargs = {}
    if cons:
        kwargs["constraints"] = [
            {"type": "eq", "fun": lambda x, g=g, c=c: g(path(x)) - c} for g, c in cons
        ]
    res = minimize(fun, x0, method=method, tol=tol, maxiter=maxiter, options=options, **kwargs)
    interior = np.asarray(res.x, dtype=float)
    q = np.asarray(path(interior), dtype=float)
    multipliers = np.asarray(res.get("multipliers", {}).get("eq", np.zeros(0)), dtype=float)

    def lagrangian(x):
        total = fun(x)
        for (g, c), lam in zip(cons, multipliers):
            total = total - lam * (g(path(x)) - c)
        return total

    value, gradient = value_and_grad(lagrangian)(interior)
    return BVPResult(
        t=t,
        q=q,
        value=float(fun(interior)),
        residual=np.asarray(gradient, dtype=float) / h,
        constraint_values=np.array([float(g(q)) for g, _ in cons]),
        multipliers=multipliers,
        rule=rule,
        method=method,
        success=bool(res.success),
        nit=int(res.nit),
        nfev=int(res.get("nfev", 0)),
        message=str(res.message),
    )
