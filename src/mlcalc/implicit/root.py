"""``custom_root``: derivatives of a solver's output x*(θ), defined by F(x*, θ) = 0,
from the implicit function theorem instead of from the solver's iterations.

    ∂x*/∂θ = −(∂F/∂x)⁻¹ ∂F/∂θ            (evaluated at (x*, θ))

forward:  ẋ = −A⁻¹ (∂F/∂θ · θ̇)   with A = ∂F/∂x, one matrix-free solve (A v is a JVP of F);
reverse:  w = A⁻ᵀ x̄,  θ̄ = −(∂F/∂θ)ᵀ w, one solve with Aᵀ (Aᵀ w is a VJP of F).

The linear solves are themselves differentiable (:mod:`mlcalc.implicit.linear_solve`),
so grad, jacfwd, hessian and any nesting of them work; the solver runs on plain values
once per primal point and is never recorded, so memory does not depend on its number of
iterations.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable

import numpy as np

from ..autodiff import tree
from ..autodiff.api import jvp, vjp
from ._custom import DiffArgs, check_untraced, implicit_function, ravel, tree_neg, zeros_like
from .krylov import ImplicitSolveWarning, as_linear_solver
from .linear_solve import LinearSystem

__all__ = ["custom_root"]


def _check_structure(x, r, name: str):
    x_def, r_def = tree.structure(x), tree.structure(r)
    x_shapes = [np.shape(v) for v in tree.leaves(x)]
    r_shapes = [np.shape(v) for v in tree.leaves(r)]
    if x_def != r_def or x_shapes != r_shapes:
        raise ValueError(
            f"{name}: the optimality function F(x, *args) must return the structure and "
            f"shapes of x (a square system, one equation per unknown); x has {x_shapes}, "
            f"F(x, *args) has {r_shapes}."
        )


def custom_root(optimality_fun: Callable, solve=None, *, symmetric: bool = False,
                residual_tol: float | None = 1e-6) -> Callable[[Callable], Callable]:
    """Decorator: ``solver(init, *args) -> x`` whose output satisfies
    ``optimality_fun(x, *args) = 0`` gets implicit-function-theorem derivatives with
    respect to ``args`` (none with respect to ``init``, a starting guess)::

        @custom_root(F)
        def solver(init, theta):
            ...          # plain NumPy, any iteration count
            return x

        mc.grad(lambda th: loss(solver(x0, th)))(theta)

    ``x`` and the args may be pytrees; F(x, *args) must return the structure of x.
    ``solve`` chooses the linear solver of the system ∂F/∂x (None: CG if ``symmetric``,
    else GMRES; a name, a :class:`~mlcalc.implicit.LinearSolver` or a callable
    ``solve(matvec, b) -> x``); ``symmetric=True`` says ∂F/∂x is symmetric (e.g. F a
    gradient), so the transposed solve reuses it. ``solver`` runs on plain values and
    is never differentiated. If ‖F(x*, args)‖∞ exceeds ``residual_tol`` (None: no
    check), an :class:`~mlcalc.implicit.ImplicitSolveWarning` says the derivative is
    unreliable. Everything the derivative should see must be in ``args`` (a traced
    value closed over by F is invisible to the rules); integer and boolean leaves of
    ``args`` are held fixed. Under ``vmap`` the solver
    runs example by example. Cost per derivative: one linear solve (JVP: with ∂F/∂x;
    VJP: with its transpose), each iteration one JVP or VJP of F.
    """
    lin_solver = as_linear_solver(solve, symmetric=symmetric)
    symmetric = symmetric or getattr(lin_solver, "symmetric", False)
    F = optimality_fun

    def matvec(v, x, *args):
        return jvp(lambda y: F(y, *args), (x,), (v,))[1]

    def rmatvec(w, x, *args):
        _, pull = vjp(lambda y: F(y, *args), x)
        return pull(w)[0]

    def decorator(solver: Callable) -> Callable:
        name = f"custom_root({getattr(solver, '__name__', 'solver')})"
        system = LinearSystem(matvec, lin_solver, rmatvec=rmatvec, symmetric=symmetric,
                              name=f"{name}.linear_solve")

        def raw(init, *args):
            x = solver(init, *args)
            check_untraced(x, "the solver", name)
            r = F(x, *args)
            check_untraced(r, "the optimality function", name)
            _check_structure(x, r, name)
            if residual_tol is not None:
                r_flat, _ = ravel(r)
                err = float(np.max(np.abs(r_flat))) if r_flat.size else 0.0
                if not err <= residual_tol:
                    warnings.warn(
                        f"{name}: the solver's output leaves ‖F(x, args)‖∞ = {err:.3g} > "
                        f"residual_tol = {residual_tol:.3g}; the implicit derivative "
                        "assumes F(x, args) = 0 and is unreliable. Solve more accurately "
                        "(or set residual_tol).",
                        ImplicitSolveWarning,
                        stacklevel=5,
                    )
            return x

        def tangent(x, primals, tangents):
            _, *args = primals
            _, *args_dot = tangents
            d = DiffArgs(args)
            if not d.diff:
                return tree.map(zeros_like, x)
            _, f_dot = jvp(lambda *a: F(x, *d.rebuild(a)), d.diff, d.select(args_dot))
            return tree_neg(system.solve(f_dot, x, *args))

        def fwd(init, *args):
            x = root(init, *args)
            return x, (x, args)

        def bwd(res, x_bar):
            x, args = res
            d = DiffArgs(args)
            if not d.diff:
                return (None, *d.expand(()))
            w = system.T.solve(x_bar, x, *args)
            _, pull = vjp(lambda *a: F(x, *d.rebuild(a)), *d.diff)
            return (None, *d.expand(tree_neg(tuple(pull(w)))))

        root = implicit_function(raw, tangent, fwd, bwd, name)

        @functools.wraps(solver)
        def wrapped(init, *args):
            return root(init, *args)

        wrapped.optimality_fun = F
        wrapped.linear_system = system
        return wrapped

    return decorator
