"""First-order methods: gradient descent (fixed step, backtracking Armijo, exact step on
quadratics), ..."""

from __future__ import annotations

import numpy as np

from .driver import Run
from .line_search import backtracking
from .objective import Objective
from .registry import register_method

__all__: list[str] = []


@register_method("gd")
def gradient_descent(
    obj: Objective,
    x: np.ndarray,
    run: Run,
    *,
    step: float | str = "armijo",
    lr: float | None = None,
    bounds=None,
    constraints=(),
):
    """Gradient descent x_{k+1} = x_k − t_k ∇f(x_k).

    ``step``: a number (fixed step; ``lr`` is an alias), ``"armijo"`` (backtracking from
    the previous step doubled) or ``"exact"`` (the exact minimiser along −∇f of the
    local quadratic model, t = gᵀg / gᵀHg, one Hessian-vector product per iteration:
    exact for quadratics). Cost per iteration: one gradient (+ line-search values or one
    HVP).
    """
    _unconstrained("gd", bounds, constraints)
    if lr is not None:
        step = lr
    f, g = obj.value_and_grad(x)
    if run.start(x, f, g):
        return run.result()
    t = 1.0
    while True:
        if step == "armijo":
            t, x_new, _ = backtracking(obj, x, f, g, -g, step=min(2.0 * t, 1e8))
            if t == 0.0:
                run.fail("the Armijo line search found no decrease")
                return run.result()
        elif step == "exact":
            curv = float(g @ obj.hvp(x, g))
            if not curv > 0:
                run.fail("exact step needs positive curvature along the gradient")
                return run.result()
            t = float(g @ g) / curv
            x_new = x - t * g
        else:
            t = float(step)
            x_new = x - t * g
        x = x_new
        f, g = obj.value_and_grad(x)
        if run.iterate(x, f, g, t):
            return run.result()


def _unconstrained(method: str, bounds, constraints) -> None:
    if bounds is not None or constraints:
        raise ValueError(
            f"minimize: method {method!r} is unconstrained; for bounds or constraints use "
            "'projected_gradient' or 'augmented_lagrangian'."
        )
