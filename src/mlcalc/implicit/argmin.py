"""``argmin``: derivatives of the minimiser of an unconstrained inner problem,

    x*(θ) = argminₓ g(x, θ),

through its optimality condition ∇ₓg(x*, θ) = 0 (:func:`~mlcalc.implicit.custom_root`
with F = ∇ₓg). At a strict local minimum ∇²ₓₓg is symmetric positive definite, so the
implicit system is solved by conjugate gradients with Hessian-vector products:

    ∂x*/∂θ = −(∇²ₓₓg)⁻¹ ∇²ₓθ g.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.optimize

from ..autodiff.api import grad, hvp, value_and_grad
from ._custom import ravel
from .krylov import cg
from .root import custom_root

__all__ = ["argmin"]

_GRADIENT_METHODS = ("BFGS", "L-BFGS-B", "CG")
_HESSIAN_METHODS = ("trust-ncg", "trust-krylov", "Newton-CG")


def _scipy_solver(method: str, options: dict | None, gtol: float) -> Callable:
    """Minimise with scipy.optimize.minimize; gradients (and Hessian-vector products
    for the second-order methods) from mlcalc on plain values."""
    if method not in _GRADIENT_METHODS + _HESSIAN_METHODS:
        raise ValueError(
            f"argmin: solver {method!r} is not a scipy method argmin knows; use one of "
            f"{list(_GRADIENT_METHODS + _HESSIAN_METHODS)} or pass a callable "
            "solver(objective, x0) -> x."
        )

    def solve(objective, x0):
        v0, unravel = ravel(x0)
        vg = value_and_grad(lambda v: objective(unravel(v)))

        def fun(v):
            val, g = vg(v)
            return float(val), np.asarray(g, dtype=float)

        opts = {"gtol": gtol} if method != "Newton-CG" else {"xtol": gtol}
        if method == "L-BFGS-B":
            opts = {"gtol": gtol, "ftol": 0.0}
        opts.update(options or {})
        kwargs = {}
        if method in _HESSIAN_METHODS:
            kwargs["hessp"] = lambda v, p: np.asarray(
                hvp(lambda w: objective(unravel(w)), (v,), (p,)), dtype=float)
        res = scipy.optimize.minimize(fun, v0, jac=True, method=method, options=opts,
                                      **kwargs)
        return unravel(_newton_polish(lambda v: objective(unravel(v)), res.x, gtol))

    return solve


def _newton_polish(f: Callable, v: np.ndarray, gtol: float, steps: int = 5) -> np.ndarray:
    """A few Newton steps (CG on exact Hessian-vector products) while ‖∇f‖∞ > gtol.

    Near a strict minimum they converge quadratically using gradients only, so they
    reach the gradient accuracy that scipy's line searches and trust-region ratio tests
    (which compare function values, limited by rounding) stop short of. A step is kept
    only if it lowers the gradient norm."""
    g_fun = grad(f)
    g = np.asarray(g_fun(v), dtype=float)
    for _ in range(steps):
        g_norm = float(np.max(np.abs(g))) if g.size else 0.0
        if not g_norm > gtol:
            break
        res = cg(lambda p, v=v: np.asarray(hvp(f, (v,), (p,)), dtype=float), -g,
                 tol=1e-3 * min(1.0, gtol / g_norm) if g_norm else 1e-12)
        if not res.converged:
            break
        v_new = v + res.x
        g_new = np.asarray(g_fun(v_new), dtype=float)
        if not float(np.max(np.abs(g_new))) < g_norm:
            break
        v, g = v_new, g_new
    return v


def argmin(inner_objective: Callable, solver: str | Callable = "trust-ncg", *,
           solve=None, options: dict | None = None, gtol: float = 1e-10,
           residual_tol: float | None = 1e-6) -> Callable:
    """The minimiser of ``inner_objective(x, *args)`` (a scalar) as a differentiable
    function ``minimiser(init, *args) -> x*`` of the args (``init``: the starting point;
    x may be a pytree).

    ``solver``: a scipy.optimize.minimize method ("trust-ncg", the default, with exact
    Hessian-vector products; "trust-krylov", "Newton-CG", "BFGS", "L-BFGS-B", "CG"; to
    gradient norm ``gtol``, extra ``options`` passed on), or a callable
    ``solver(objective, x0) -> x`` on plain values, e.g.
    ``lambda f, x0: mlcalc.optimize.minimize(f, x0, method="newton").x``. The solver is
    never differentiated. ``solve``: the linear solver of the Hessian system (default
    CG). The derivative assumes a strict local minimum (positive definite Hessian) and
    warns when ‖∇ₓg(x*)‖∞ > ``residual_tol``. Cost per derivative: one CG solve, each
    iteration one Hessian-vector product (forward-over-reverse).
    """
    grad_x = grad(inner_objective)

    def stationarity(x, *args):
        return grad_x(x, *args)

    stationarity.__name__ = f"grad({getattr(inner_objective, '__name__', 'g')})"
    run = _scipy_solver(solver, options, gtol) if isinstance(solver, str) else solver
    if not callable(run):
        raise TypeError(
            "argmin: solver must be a scipy method name or a callable "
            f"solver(objective, x0) -> x; got {type(solver).__name__}."
        )

    @custom_root(stationarity, solve=solve, symmetric=True, residual_tol=residual_tol)
    def minimiser(init, *args):
        return run(lambda x: inner_objective(x, *args), init)

    minimiser.__name__ = f"argmin({getattr(inner_objective, '__name__', 'g')})"
    return minimiser
