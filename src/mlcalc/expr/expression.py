"""A parsed expression: its SymPy form and its differentiable NumPy function."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

from ..autodiff.core import Tracer
from ..numpy._base import shape_of

__all__ = ["Expression"]


@dataclasses.dataclass(frozen=True, eq=False)
class Expression:
    """A typed expression, parsed by :func:`mlcalc.expr.parse`.

    ``sympy`` is the exact SymPy expression (variables are real SymPy symbols,
    ``symbols``); ``variables`` the ordered variable names: coordinate i of a point is
    variable i. ``function(x)`` evaluates the expression at a point x of shape (n,)
    with NumPy calls, so mlcalc differentiates it (``mc.grad(expr.function)``,
    ``mc.hessian``, ``mc.vmap``...); ``evaluate(points)`` takes points of shape
    (n_points, n) and returns shape (n_points,). Calling the expression is
    ``function``.
    """

    text: str
    sympy: Any
    variables: tuple[str, ...]
    symbols: tuple[Any, ...] = dataclasses.field(repr=False)
    _numeric: Callable[[tuple], Any] = dataclasses.field(repr=False)
    _constant: np.float64 | None = dataclasses.field(repr=False)

    def function(self, x):
        """f(x) for one point x of shape (n,) (a traced value included): a scalar."""
        x = _as_float(x)
        n = len(self.variables)
        if tuple(shape_of(x)) != (n,):
            raise ValueError(
                f"expected a point of shape ({n},) for variables {self.variables}, "
                f"got shape {tuple(shape_of(x))}"
            )
        return self._numeric(tuple(x[i] for i in range(n)))

    def evaluate(self, points):
        """f at each row of ``points``, shape (n_points, n) → (n_points,)."""
        points = _as_float(points)
        shape, n = tuple(shape_of(points)), len(self.variables)
        if len(shape) != 2 or shape[1] != n:
            raise ValueError(
                f"expected points of shape (n_points, {n}) for variables {self.variables}, "
                f"got shape {shape}"
            )
        if self._constant is not None:
            return np.full(shape[0], self._constant)
        return self._numeric(tuple(points[:, i] for i in range(n)))

    function_batched = evaluate

    def __call__(self, x):
        return self.function(x)

    def __str__(self) -> str:
        return str(self.sympy)


def _as_float(x):
    if isinstance(x, Tracer):
        return x
    x = np.asarray(x)
    return x if x.dtype.kind == "f" else x.astype(np.float64)
