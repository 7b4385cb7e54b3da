"""``custom_fixed_point``: derivatives of a fixed point x* = T(x*, θ) (a deep-equilibrium
layer, a converged iteration) without unrolling the iteration.

It is :func:`~mlcalc.implicit.custom_root` with F(x, θ) = T(x, θ) − x, so

    ∂x*/∂θ = (I − ∂T/∂x)⁻¹ ∂T/∂θ,

which exists when 1 is not an eigenvalue of ∂T/∂x (e.g. T a contraction).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ._custom import ravel, tree_sub
from .root import custom_root

__all__ = ["custom_fixed_point", "fixed_point_iteration"]


def custom_fixed_point(T: Callable, solve=None, *, residual_tol: float | None = 1e-6
                       ) -> Callable[[Callable], Callable]:
    """Decorator: ``solver(init, *args) -> x`` with x = T(x, *args) gets implicit
    derivatives with respect to ``args``; see :func:`~mlcalc.implicit.custom_root`
    (``solve`` defaults to GMRES, since I − ∂T/∂x is not symmetric in general)."""

    def optimality(x, *args):
        return tree_sub(T(x, *args), x)

    optimality.__name__ = f"{getattr(T, '__name__', 'T')}(x) - x"
    return custom_root(optimality, solve=solve, residual_tol=residual_tol)


def fixed_point_iteration(T: Callable, init, *args, tol: float = 1e-12,
                          maxiter: int = 10_000):
    """Plain iteration x ← T(x, *args) from ``init`` until ‖T(x) − x‖∞ ≤ tol (on plain
    values; linear convergence at the contraction rate of T). Raises RuntimeError with
    the last step size if ``maxiter`` iterations are not enough."""
    x = init
    step = np.inf
    for _ in range(maxiter):
        x_new = T(x, *args)
        step_flat, _ = ravel(tree_sub(x_new, x))
        x = x_new
        step = float(np.max(np.abs(step_flat))) if step_flat.size else 0.0
        if step <= tol:
            return x
    raise RuntimeError(
        f"fixed_point_iteration: no convergence in {maxiter} iterations (last step "
        f"‖T(x) − x‖∞ = {step:.3g} > tol = {tol:.3g}); T may not be a contraction, or "
        "raise maxiter."
    )

