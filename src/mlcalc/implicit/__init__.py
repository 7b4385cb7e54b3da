"""Implicit differentiation: derivatives through roots, fixed points and argmins
without unrolling the solver that finds them.

A solver's output x*(θ) defined by F(x*, θ) = 0 has, by the implicit function theorem,

    ∂x*/∂θ = −(∂F/∂x)⁻¹ ∂F/∂θ,

computed with matrix-free linear solves (conjugate gradients, GMRES, BiCGSTAB) on the
engine's JVPs and VJPs of F. The solver runs once on plain values and is never
recorded, so memory does not grow with its iterations; the derivative rules are
themselves differentiable, so grad, jvp, jacfwd, hessian and their nestings work.

=======================  ==========================================================
``custom_root(F)``       decorator: solver(init, *args) with F(x, *args) = 0
``custom_fixed_point``   decorator: solver(init, *args) with x = T(x, *args)
``argmin(g)``            differentiable minimiser of g(x, *args) (∇ₓg = 0)
``qp_layer``             differentiable convex QP solution (OptNet KKT conditions)
``linear_solve``         differentiable matrix-free linear solve
``cg``/``gmres``/...     the Krylov solvers on plain vectors (``LinearSolveResult``)
=======================  ==========================================================
"""

from __future__ import annotations

from .argmin import argmin
from .fixed_point import custom_fixed_point, fixed_point_iteration
from .krylov import (
    ImplicitSolveError,
    ImplicitSolveWarning,
    LinearSolver,
    LinearSolveResult,
    bicgstab,
    cg,
    dense_solve,
    gmres,
)
from .linear_solve import LinearSystem, linear_solve
from .qp import QPResult, qp_layer, solve_qp
from .root import custom_root

__all__ = [
    "custom_root",
    "custom_fixed_point",
    "fixed_point_iteration",
    "argmin",
    "qp_layer",
    "solve_qp",
    "QPResult",
    "linear_solve",
    "LinearSystem",
    "LinearSolver",
    "LinearSolveResult",
    "cg",
    "gmres",
    "bicgstab",
    "dense_solve",
    "ImplicitSolveError",
    "ImplicitSolveWarning",
]
