"""The bookkeeping every optimizer shares: iteration counting, the trajectory, the
callback convention of scipy.optimize, stopping rules, NaN guards, and the result."""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable

import numpy as np

from .line_search import APPROX_EPSILON
from .objective import Objective
from .result import OptimizeResult, Trajectory, estimate_rate

__all__ = ["Run", "STATUS", "require_unconstrained"]


def require_unconstrained(method: str, bounds, constraints) -> None:
    """Refuse bounds and constraints for an unconstrained method, naming the ones to use."""
    if bounds is not None or constraints:
        raise ValueError(
            f"minimize: method {method!r} is unconstrained; for bounds or constraints use "
            "'projected_gradient' or 'augmented_lagrangian'."
        )

STATUS = {
    0: "converged",
    1: "maximum number of iterations reached",
    2: "the objective or its gradient became NaN or infinite",
    3: "stopped by the callback",
    4: "the step could not make progress",
}


def _callback_kind(callback: Callable | None) -> str | None:
    if callback is None:
        return None
    try:
        params = list(inspect.signature(callback).parameters)
    except (TypeError, ValueError):
        return "x"
    return "result" if params == ["intermediate_result"] else "x"


class Run:
    """One optimizer run. A solver calls :meth:`start` once, :meth:`iterate` after every
    iteration (it returns a stop reason or ``None``), and :meth:`result` at the end.

    Stopping: ``‖∇f‖ ≤ gtol`` (converged), ``nit ≥ maxiter``, a NaN/inf value or
    gradient (the last finite iterate is kept and the message says where it happened),
    or a callback raising ``StopIteration``; a method that cannot go on calls
    :meth:`stop_at_rounding` (success when x is stationary to rounding) or :meth:`fail`,
    and may watch :meth:`stalled`. Callbacks follow scipy.optimize: a callback
    whose only parameter is named ``intermediate_result`` receives the result so far,
    any other receives the current point.
    """

    def __init__(
        self,
        objective: Objective,
        *,
        method: str,
        gtol: float,
        maxiter: int,
        callback: Callable | None = None,
        record: bool = False,
    ):
        self.objective = objective
        self.method = method
        self.gtol = gtol
        self.maxiter = maxiter
        self.callback = callback
        self._callback_kind = _callback_kind(callback)
        self.record = record
        self.nit = 0
        self.xs: list[np.ndarray] = []
        self.fs: list[float] = []
        self.grad_norms: list[float] = []
        self.steps: list[float] = []
        self.x = self.f = self.g = None
        self.stop_reason: str | None = None
        self.extra: dict = {}
        # progress watch (see :meth:`stalled`)
        self._best_f = np.inf
        self._g_mark = np.inf
        self._since_progress = 0

    # -- the loop ----------------------------------------------------------------
    def start(
        self, x: np.ndarray, f: float, g: np.ndarray | None, measure: float | None = None
    ) -> str | None:
        """Register the starting point. ``measure`` replaces ‖g‖ as the stopping measure
        (e.g. a KKT residual norm or a gradient mapping's norm)."""
        if not math.isfinite(f):
            raise ValueError(
                f"{self.method}: the objective is {f} at the starting point; start from a "
                "point where it is finite."
            )
        self._accept(x, f, g, 0.0, measure)
        if self.grad_norms[-1] <= self.gtol:
            return self._stop("converged")
        return None

    def iterate(
        self,
        x: np.ndarray,
        f: float,
        g: np.ndarray | None,
        step: float = 0.0,
        measure: float | None = None,
    ):
        """Register iteration ``nit + 1`` at ``x``; return a stop reason or ``None``.
        ``measure`` replaces ‖g‖ as the stopping measure."""
        self.nit += 1
        # a finite gᵀg implies finite entries (one product instead of an elementwise test)
        if not math.isfinite(f) or (
            g is not None and not math.isfinite(float(g @ g)) and not np.all(np.isfinite(g))
        ):
            what = "objective" if not math.isfinite(f) else "gradient"
            self.extra["nan_at"] = np.array(x, copy=True)
            return self._stop("nan", f"the {what} became {f if what == 'objective' else 'NaN/inf'} "
                              f"at iteration {self.nit}; returning the last finite iterate")
        self._accept(x, f, g, step, measure)
        if self._callback_kind is not None:
            try:
                if self._callback_kind == "result":
                    self.callback(intermediate_result=self.result(partial=True))
                else:
                    self.callback(self.objective.unravel(np.array(x, copy=True)))
            except StopIteration:
                return self._stop("callback")
        if self.grad_norms[-1] <= self.gtol:
            return self._stop("converged")
        if self.nit >= self.maxiter:
            return self._stop("maxiter")
        return None

    def converge(self, message: str) -> str:
        """Stop successfully on the method's own criterion (e.g. a step below xtol)."""
        return self._stop("converged", message)

    def fail(self, message: str) -> str:
        """Stop because the method cannot make progress (e.g. a failed line search)."""
        return self._stop("stalled", message)

    def stalled(self, patience: int = 20) -> bool:
        """True when the last ``patience`` iterations brought neither a value of f below
        every earlier one nor a halving of the stopping measure: the iterates wander in
        the rounding noise of f and ∇f (or the method is stuck)."""
        return self._since_progress >= patience

    def stop_at_rounding(self, predicted: float, failure: str) -> str:
        """Stop where the method cannot go on (a failed line search, :meth:`stalled`):
        with success when the decrease still predicted along the search direction,
        |``predicted``|, is within the rounding band ε|f| of f (ε = APPROX_EPSILON, as
        in the line searches' approximate tests), since no evaluation of f can then show
        progress and x is stationary to the precision of the problem; the message says
        so. Otherwise it fails with ``failure``."""
        slack = APPROX_EPSILON * abs(self.f)
        if abs(predicted) <= slack:
            return self.converge(
                f"stationary to rounding: ‖∇f‖ = {self.grad_norms[-1]:.3g} (tol "
                f"{self.gtol:.3g}), but the decrease predicted along the search direction, "
                f"{abs(predicted):.3g}, is within the rounding band of f ({slack:.3g}) "
                f"({failure})"
            )
        return self.fail(failure)

    def _accept(self, x, f, g, step, measure=None):
        self.x, self.f, self.g = np.array(x, copy=True), float(f), g
        if measure is not None:
            gn = float(measure)
        else:
            gn = math.sqrt(float(g @ g)) if g is not None else float("nan")
        self.grad_norms.append(gn)
        if self.f < self._best_f or gn <= 0.5 * self._g_mark:
            self._best_f = min(self._best_f, self.f)
            self._g_mark = gn
            self._since_progress = 0
        else:
            self._since_progress += 1
        if self.record:
            self.xs.append(self.x)
            self.fs.append(self.f)
            self.steps.append(float(step))

    def _stop(self, reason: str, message: str | None = None) -> str:
        self.stop_reason = reason
        self._message = message
        return reason

    # -- the result --------------------------------------------------------------
    def result(self, partial: bool = False, **fields) -> OptimizeResult:
        """The OptimizeResult so far (``fields`` override or add entries)."""
        obj = self.objective
        reason = self.stop_reason or ("maxiter" if not partial else None)
        status = {"converged": 0, "maxiter": 1, "nan": 2, "callback": 3, "stalled": 4}.get(
            reason, 1
        )
        message = getattr(self, "_message", None) or STATUS[status]
        g = self.g
        res = OptimizeResult(
            x=obj.unravel(self.x),
            fun=self.f,
            jac=None if g is None else obj.unravel(np.asarray(g)),
            nit=self.nit,
            nfev=obj.nfev,
            njev=obj.njev,
            nhev=obj.nhev,
            success=status == 0,
            status=status,
            message=message,
            method=self.method,
            trajectory=self._trajectory(),
            rate=estimate_rate(self.grad_norms),
        )
        res.update(self.extra)
        res.update(fields)
        return res

    def _trajectory(self) -> Trajectory | None:
        if not self.record or not self.xs:
            return None
        return Trajectory(
            x=np.stack(self.xs),
            f=np.array(self.fs),
            grad_norm=np.array(self.grad_norms[: len(self.fs)]),
            step=np.array(self.steps),
        )
