"""``minimize``: scipy.optimize's interface over mlcalc's methods, with derivatives
from the engine."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from .driver import Run
from .objective import Objective
from .registry import METHODS
from .result import OptimizeResult

__all__ = ["minimize"]

DEFAULT_GTOL = 1e-6
DEFAULT_MAXITER = 1000


def minimize(
    fun: Callable,
    x0: Any,
    method: str = "lbfgs",
    args: tuple = (),
    jac: Callable | None = None,
    hess: Callable | None = None,
    hvp: Callable | None = None,
    bounds=None,
    constraints=(),
    tol: float | None = None,
    maxiter: int | None = None,
    callback: Callable | None = None,
    options: dict | None = None,
    record: bool = False,
) -> OptimizeResult:
    """Minimise ``fun(x, *args)`` from ``x0`` (an array or a pytree of arrays).

    Derivatives come from the engine unless ``jac`` / ``hess`` / ``hvp`` are given
    (callables of ``(x, *args)``; ``hvp(x, p, *args)``). ``tol`` is the gradient-norm
    tolerance (default 1e-6); ``options`` are the method's own settings. With
    ``record=True`` the result carries the trajectory (x_k, f_k, ‖∇f_k‖, step sizes).
    See ``mlcalc.optimize.METHODS`` for the methods.
    """
    name = str(method).lower()
    solver = METHODS.get(name)
    if solver is None:
        known = ", ".join(sorted(METHODS))
        raise ValueError(f"minimize: unknown method {method!r}; known methods: {known}.")
    objective = Objective(fun, x0, args, jac, hess, hvp)
    x = objective.x0.copy()
    if bounds is not None:
        bounds = _check_bounds(bounds, x.size)
    run = Run(
        objective,
        method=name,
        gtol=DEFAULT_GTOL if tol is None else float(tol),
        maxiter=DEFAULT_MAXITER if maxiter is None else int(maxiter),
        callback=callback,
        record=record,
    )
    options = dict(options or {})
    _check_options(name, solver, options)
    return solver(objective, x, run, bounds=bounds, constraints=constraints, **options)


@functools.cache
def _known_options(solver: Callable) -> tuple[str, ...] | None:
    """The keyword-only options of a method (None when it takes ``**kwargs``); cached,
    since reading a signature costs more than a small problem's iteration."""
    params = inspect.signature(solver).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return None
    return tuple(
        n for n, p in params.items()
        if p.kind is inspect.Parameter.KEYWORD_ONLY and n not in ("bounds", "constraints")
    )


def _check_options(name: str, solver: Callable, options: dict) -> None:
    """An unknown option is a ValueError that lists the method's options."""
    if not options:
        return
    known = _known_options(solver)
    if known is None:
        return
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise ValueError(
            f"minimize: unknown option(s) {', '.join(map(repr, unknown))} for method "
            f"{name!r}; its options are: {', '.join(known) or '(none)'}."
        )


def _check_bounds(bounds, n: int) -> np.ndarray:
    """Bounds as an (n, 2) array of [lower, upper] (None → ∓inf)."""
    b = np.array(
        [[-np.inf if lo is None else lo, np.inf if hi is None else hi] for lo, hi in bounds],
        dtype=float,
    )
    if b.shape != (n, 2):
        raise ValueError(
            f"minimize: bounds must give (lower, upper) for each of the {n} variables; got "
            f"shape {b.shape}."
        )
    if np.any(b[:, 0] > b[:, 1]):
        raise ValueError("minimize: a lower bound exceeds its upper bound.")
    return b
