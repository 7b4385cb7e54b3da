"""Min-max (saddle-point) problems min_x max_y f(x, y) by simultaneous first-order
updates: gradient descent–ascent, extragradient and optimistic gradient."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .driver import Run
from .minimize import DEFAULT_GTOL, DEFAULT_MAXITER
from .objective import Objective, ravel_pytree
from .result import OptimizeResult

__all__ = ["minimax", "MinimaxTrajectory"]

MINIMAX_METHODS = ("gda", "extragradient", "optimistic")


@dataclass(frozen=True)
class MinimaxTrajectory:
    """The iterates of a min-max run, row k for iteration k (row 0 is the start):
    ``x`` (k+1, n) and ``y`` (k+1, m) flattened, ``f`` the values f(x_k, y_k),
    ``grad_norm`` ‖(∇ₓf, ∇ᵧf)‖ and ``step`` the learning rate used."""

    x: np.ndarray
    y: np.ndarray
    f: np.ndarray
    grad_norm: np.ndarray
    step: np.ndarray

    def __len__(self) -> int:
        return len(self.f)


def minimax(
    f: Callable,
    x0: Any,
    y0: Any,
    method: str = "extragradient",
    lr: float = 0.1,
    args: tuple = (),
    maxiter: int | None = None,
    tol: float | None = None,
    callback: Callable | None = None,
    record: bool = False,
) -> OptimizeResult:
    """Seek a saddle point of min_x max_y f(x, y, *args) (x0, y0 arrays or pytrees) with
    the simultaneous field F(z) = (∇ₓf, −∇ᵧf), z = (x, y), and step η = ``lr``:

    - ``"gda"``: z_{k+1} = z_k − ηF(z_k) (diverges on bilinear games: on f = xy the
      norm grows by √(1 + η²) per step);
    - ``"extragradient"`` (Korpelevich 1976): z_{k+½} = z_k − ηF(z_k),
      z_{k+1} = z_k − ηF(z_{k+½}); two gradients per iteration;
    - ``"optimistic"`` (optimistic GDA, Popov 1980 / Daskalakis et al. 2018):
      z_{k+1} = z_k − 2ηF(z_k) + ηF(z_{k−1}); one gradient per iteration.

    Stops when ‖(∇ₓf, ∇ᵧf)‖ ≤ ``tol`` (default 1e-6), at ``maxiter`` (default 1000) or on
    NaN/inf. The result has ``x``, ``y``, ``fun`` = f(x, y), ``jac`` = (∇ₓf, ∇ᵧf),
    ``grad_norm`` and, with ``record=True``, ``trajectory`` (a
    :class:`MinimaxTrajectory`). The callback receives ``(x, y)``, or the result so far
    when its only parameter is ``intermediate_result``. Cost per iteration: one joint
    gradient (two for extragradient).
    """
    name = str(method).lower()
    if name not in MINIMAX_METHODS:
        raise ValueError(
            f"minimax: unknown method {method!r}; known methods: {', '.join(MINIMAX_METHODS)}."
        )
    n = ravel_pytree(x0)[0].size
    obj = Objective(lambda z, *a: f(z[0], z[1], *a), (x0, y0), args)
    run = Run(
        obj,
        method=name,
        gtol=DEFAULT_GTOL if tol is None else float(tol),
        maxiter=DEFAULT_MAXITER if maxiter is None else int(maxiter),
        callback=callback,
        record=record,
    )
    sign = np.concatenate([np.ones(n), -np.ones(obj.x0.size - n)])
    z = obj.x0.copy()
    eta = float(lr)

    def field(z):
        val, g = obj.value_and_grad(z)
        return val, g, sign * g

    val, g, F = field(z)
    if run.start(z, val, g):
        return _finish(run, obj, n)
    F_prev = F
    while True:
        if name == "gda":
            z = z - eta * F
        elif name == "extragradient":
            _, _, F_half = field(z - eta * F)
            z = z - eta * F_half
        else:
            z, F_prev = z - 2.0 * eta * F + eta * F_prev, F
        val, g, F = field(z)
        if run.iterate(z, val, g, eta):
            return _finish(run, obj, n)


def _finish(run: Run, obj: Objective, n: int) -> OptimizeResult:
    x, y = obj.unravel(run.x)
    trajectory = None
    if run.record:
        zs = np.stack(run.xs)
        trajectory = MinimaxTrajectory(
            x=zs[:, :n], y=zs[:, n:], f=np.array(run.fs),
            grad_norm=np.array(run.grad_norms[: len(run.fs)]), step=np.array(run.steps),
        )
    return run.result(x=x, y=y, grad_norm=run.grad_norms[-1], trajectory=trajectory)
