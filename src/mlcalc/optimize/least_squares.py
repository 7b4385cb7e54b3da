"""Nonlinear least squares, min_x ½‖r(x)‖²: Gauss–Newton with a backtracking line search
and Levenberg–Marquardt with Nielsen's damping update, residual Jacobians from the
engine."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..autodiff.api import jacobian as _jacobian
from .driver import Run
from .minimize import DEFAULT_GTOL, DEFAULT_MAXITER
from .objective import Objective, ravel_pytree
from .result import OptimizeResult

__all__ = ["least_squares", "ResidualObjective"]

LSQ_METHODS = ("gauss_newton", "lm")


class ResidualObjective(Objective):
    """The objective ½‖r(x)‖² of a residual map ``r(params, *args)`` (any array shape,
    flattened to a vector of m residuals), with counters: :meth:`residuals` counts one
    function evaluation (nfev), :meth:`jacobian` one Jacobian evaluation (njev).

    ``jac(params, *args)``: the user's (m, n) residual Jacobian, else the engine's
    (``mlcalc.jacobian`` in auto mode: forward when n < m, reverse otherwise).
    """

    def __init__(self, residuals: Callable, x0: Any, args: tuple = (), jac=None):
        _, unravel = ravel_pytree(x0)
        a = tuple(args)

        def r_flat(v):
            return residuals(unravel(v), *a).ravel()

        super().__init__(lambda p, *aa: 0.5 * np.sum(residuals(p, *aa) ** 2), x0, args)
        self._r = r_flat
        if jac is None:
            self._jac = _jacobian(r_flat)
        else:
            self._jac = lambda v: jac(unravel(v), *a)

    def residuals(self, x: np.ndarray) -> np.ndarray:
        self.nfev += 1
        return np.asarray(self._r(x), dtype=float).ravel()

    def jacobian(self, x: np.ndarray, m: int) -> np.ndarray:
        self.njev += 1
        J = np.asarray(self._jac(x), dtype=float)
        if J.size != m * x.size:
            raise ValueError(
                f"least_squares: the residual Jacobian has shape {J.shape}; expected "
                f"({m}, {x.size}) for {m} residuals and {x.size} parameters."
            )
        return J.reshape(m, x.size)


def least_squares(
    residuals: Callable,
    x0: Any,
    method: str = "gauss_newton",
    args: tuple = (),
    jac: Callable | None = None,
    tol: float | None = None,
    xtol: float = 1e-15,
    maxiter: int | None = None,
    callback: Callable | None = None,
    record: bool = False,
    tau: float = 1e-3,
) -> OptimizeResult:
    """Minimise F(x) = ½‖r(x)‖² over ``x0`` (an array or a pytree).

    ``method="gauss_newton"``: the step d solves min ‖J d + r‖ (``numpy.linalg.lstsq``,
    so rank-deficient J is handled), followed by backtracking (Armijo, c₁ = 1e-4, halving)
    on F from t = 1. Quadratic convergence on zero-residual problems, linear otherwise.
    ``method="lm"``: Levenberg–Marquardt, (JᵀJ + μI) h = −Jᵀr, with Nielsen's (1999)
    update: μ₀ = τ·max diag(JᵀJ); gain ratio ϱ = (F(x) − F(x+h)) / (½hᵀ(μh − Jᵀr)); if
    ϱ > 0 accept, μ ← μ·max(1/3, 1 − (2ϱ − 1)³), ν ← 2, else μ ← μν, ν ← 2ν. One
    iteration is one accepted step.

    Stops when ‖Jᵀr‖ ≤ ``tol`` (default 1e-6; converged), when a step is below
    ``xtol``·(‖x‖ + ``xtol``) (converged in x), at ``maxiter`` or when no step decreases
    F. Cost per iteration: one residual Jacobian (m×n; n forward or m reverse passes),
    an m×n least-squares solve (GN) or n×n solves (LM), and the line-search/rejected-step
    residual evaluations. The result has ``fun`` = ``cost`` = ½‖r‖², ``jac`` = Jᵀr,
    ``residuals`` and ``jacobian`` at the solution.
    """
    name = str(method).lower()
    if name not in LSQ_METHODS:
        raise ValueError(
            f"least_squares: unknown method {method!r}; known methods: {', '.join(LSQ_METHODS)}."
        )
    obj = ResidualObjective(residuals, x0, args, jac)
    run = Run(
        obj,
        method=name,
        gtol=DEFAULT_GTOL if tol is None else float(tol),
        maxiter=DEFAULT_MAXITER if maxiter is None else int(maxiter),
        callback=callback,
        record=record,
    )
    if name == "gauss_newton":
        return _gauss_newton(obj, obj.x0.copy(), run, xtol=xtol)
    return _levenberg_marquardt(obj, obj.x0.copy(), run, xtol=xtol, tau=tau)


def _finish(run: Run, r: np.ndarray, J: np.ndarray, x_converged: bool = False):
    fields = {"residuals": r, "jacobian": J, "cost": run.f}
    if x_converged:
        fields.update(success=True, status=0, message="converged: the step is below xtol")
    return run.result(**fields)


def _gauss_newton(obj: ResidualObjective, x, run: Run, *, xtol: float):
    r = obj.residuals(x)
    m = r.size
    J = obj.jacobian(x, m)
    f, g = 0.5 * float(r @ r), J.T @ r
    if run.start(x, f, g):
        return _finish(run, r, J)
    while True:
        d = np.linalg.lstsq(J, -r, rcond=None)[0]
        slope = float(g @ d)
        t = 1.0
        for _ in range(60):
            x_new = x + t * d
            r_new = obj.residuals(x_new)
            f_new = 0.5 * float(r_new @ r_new)
            if np.isfinite(f_new) and f_new <= f + 1e-4 * t * slope:
                break
            t *= 0.5
        else:
            if np.linalg.norm(d) <= xtol * (np.linalg.norm(x) + xtol):
                return _finish(run, r, J, x_converged=True)
            run.fail("the Gauss–Newton line search found no decrease")
            return _finish(run, r, J)
        small = np.linalg.norm(t * d) <= xtol * (np.linalg.norm(x) + xtol)
        x, r, f = x_new, r_new, f_new
        J = obj.jacobian(x, m)
        g = J.T @ r
        if run.iterate(x, f, g, t):
            return _finish(run, r, J)
        if small:
            return _finish(run, r, J, x_converged=True)


def _levenberg_marquardt(obj: ResidualObjective, x, run: Run, *, xtol: float, tau: float):
    r = obj.residuals(x)
    m = r.size
    J = obj.jacobian(x, m)
    f = 0.5 * float(r @ r)
    A, g = J.T @ J, J.T @ r
    if run.start(x, f, g):
        return _finish(run, r, J)
    mu, nu = tau * float(np.max(np.diag(A))), 2.0
    mu = mu if mu > 0 else tau
    eye = np.eye(x.size)
    while True:
        while True:
            h = np.linalg.solve(A + mu * eye, -g)
            if np.linalg.norm(h) <= xtol * (np.linalg.norm(x) + xtol):
                return _finish(run, r, J, x_converged=True)
            r_new = obj.residuals(x + h)
            f_new = 0.5 * float(r_new @ r_new)
            predicted = 0.5 * float(h @ (mu * h - g))
            gain = (f - f_new) / predicted if np.isfinite(f_new) else -1.0
            if gain > 0:
                break
            mu, nu = mu * nu, 2.0 * nu
            if not np.isfinite(mu):
                run.fail("Levenberg–Marquardt: the damping overflowed without a decrease")
                return _finish(run, r, J)
        x, r, f = x + h, r_new, f_new
        mu, nu = mu * max(1.0 / 3.0, 1.0 - (2.0 * gain - 1.0) ** 3), 2.0
        J = obj.jacobian(x, m)
        A, g = J.T @ J, J.T @ r
        if run.iterate(x, f, g, float(np.linalg.norm(h))):
            return _finish(run, r, J)
