"""Exact derivatives and Taylor polynomials of a parsed expression, with SymPy.

These are for display beside mlcalc's numbers (automatic differentiation computes
the same values to rounding). A point ``at`` may hold ints, floats or SymPy numbers:
integral values become exact SymPy integers (so ``at=(0.0, 1.0)`` gives exact
coefficients), other floats SymPy Floats, SymPy numbers are kept as they are.
Numeric values substitute the point exactly, then evaluate with SymPy's ``evalf``, as
float64 (NaN where the value is not a real number).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .errors import require_sympy
from .expression import Expression

__all__ = ["SymbolicDerivatives", "symbolic_derivatives", "taylor_polynomial"]

MAX_TAYLOR_TERMS = 5000  # monomials of a Taylor polynomial: C(n + order, order)


@dataclasses.dataclass(frozen=True, eq=False)
class SymbolicDerivatives:
    """The exact gradient ∇f (a list of SymPy expressions, ∂f/∂x_i in the order of
    ``expression.variables``) and, for order 2, the Hessian ∂²f/∂x_i∂x_j (a SymPy
    Matrix). With a point: ``point`` (SymPy numbers), the float64 ``value``,
    ``gradient_value`` (n,) and ``hessian_value`` (n, n), and ``taylor``, the
    Taylor polynomial of that order about the point (a SymPy expression)."""

    expression: Expression
    order: int
    gradient: list
    hessian: Any = None
    point: tuple | None = None
    value: float | None = None
    gradient_value: np.ndarray | None = None
    hessian_value: np.ndarray | None = None
    taylor: Any = None


def symbolic_derivatives(
    expr: Expression | str, order: int = 2, at: Sequence | None = None
) -> SymbolicDerivatives:
    """The exact gradient (order ≥ 1) and Hessian (order 2) of ``expr`` (an Expression
    or a text to parse), with their values and the order-``order`` Taylor polynomial
    at the point ``at`` when given."""
    expr = _expression(expr)
    if order not in (1, 2):
        raise ValueError(f"order must be 1 or 2, got {order!r}")
    sp = require_sympy()
    symbols = expr.symbols
    gradient = [sp.diff(expr.sympy, s) for s in symbols]
    hessian = None
    if order == 2:
        n = len(symbols)
        hessian = sp.Matrix(n, n, lambda i, j: sp.diff(gradient[i], symbols[j]))
    if at is None:
        return SymbolicDerivatives(expr, order, gradient, hessian)
    point = _point(sp, expr, at)
    subs = dict(zip(symbols, point))
    return SymbolicDerivatives(
        expr,
        order,
        gradient,
        hessian,
        point=point,
        value=_float(expr.sympy, subs),
        gradient_value=np.array([_float(g, subs) for g in gradient], dtype=float),
        hessian_value=(
            None
            if hessian is None
            else np.array(
                [[_float(h, subs) for h in row] for row in hessian.tolist()], float
            ).reshape(len(symbols), len(symbols))
        ),
        taylor=taylor_polynomial(expr, point, order=order),
    )


def taylor_polynomial(expr: Expression | str, at: Sequence, order: int = 2):
    """The Taylor polynomial of ``expr`` of order k about the point a::

        T_k(x) = Σ_{|α| ≤ k} ∂^α f(a) · (x − a)^α / α!

    over multi-indices α (α! = Π α_i!), as a SymPy expression in the expression's
    symbols. Derivatives are exact; coefficients are exact for exact points."""
    expr = _expression(expr)
    if not isinstance(order, int) or order < 0:
        raise ValueError(f"order must be a non-negative int, got {order!r}")
    sp = require_sympy()
    symbols, n = expr.symbols, len(expr.symbols)
    if math.comb(n + order, order) > MAX_TAYLOR_TERMS:
        raise ValueError(
            f"a Taylor polynomial of order {order} in {n} variables has more than "
            f"{MAX_TAYLOR_TERMS} terms"
        )
    point = _point(sp, expr, at)
    subs = dict(zip(symbols, point))
    shifts = [s - a for s, a in zip(symbols, point)]
    derivatives = {(0,) * n: expr.sympy}
    terms = []
    for degree in range(order + 1):
        for combination in itertools.combinations_with_replacement(range(n), degree):
            alpha = tuple(combination.count(i) for i in range(n))
            if degree:
                last = combination[-1]
                parent = alpha[:last] + (alpha[last] - 1,) + alpha[last + 1 :]
                derivatives[alpha] = sp.diff(derivatives[parent], symbols[last])
            coefficient = derivatives[alpha].subs(subs)
            if coefficient == 0:
                continue
            denominator = math.prod(math.factorial(k) for k in alpha)
            monomial = sp.Mul(*(h**k for h, k in zip(shifts, alpha)))
            terms.append(coefficient / denominator * monomial)
    return sp.Add(*terms)


def _expression(expr: Expression | str) -> Expression:
    if isinstance(expr, Expression):
        return expr
    if isinstance(expr, str):
        from .parser import parse

        return parse(expr)
    raise TypeError(f"expected an Expression or a str, not {type(expr).__name__}")


def _point(sp, expr: Expression, at: Sequence) -> tuple:
    """``at`` as a tuple of real SymPy numbers, one per variable."""
    values = list(at) if not isinstance(at, np.ndarray) else list(at.reshape(-1))
    if len(values) != len(expr.variables):
        raise ValueError(
            f"expected a point with {len(expr.variables)} coordinates for variables "
            f"{expr.variables}, got {len(values)}"
        )
    return tuple(_number(sp, v) for v in values)


def _number(sp, v):
    if isinstance(v, sp.Basic):
        if not (v.is_number and v.is_real):
            raise ValueError(f"point coordinates must be real numbers, got {v}")
        return v
    v = float(v)
    if not math.isfinite(v):
        raise ValueError(f"point coordinates must be finite, got {v}")
    return sp.Integer(int(v)) if v.is_integer() else sp.Float(v)


def _float(sym, subs: dict) -> float:
    try:
        value = complex(sym.subs(subs).evalf())
    except (TypeError, ValueError):
        return math.nan
    return value.real if value.imag == 0 else math.nan
