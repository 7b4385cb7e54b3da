"""The allowlist: the functions and constants a typed expression may use.

Each function has a NumPy spelling (what ``Expression.function`` calls, and mlcalc
differentiates) and a SymPy spelling (what ``Expression.sympy`` holds). Both spell
the same mathematical function:

- ``sigmoid(x) = 1/(1 + e^(−x))``: SymPy writes exactly that; NumPy side
  ``scipy.special.expit`` (the same function, without overflow for large −x);
- ``softplus(x) = log(1 + e^x)``: NumPy side ``np.logaddexp(0, x)`` (no overflow);
- ``log1p(x) = log(1 + x)``, ``expm1(x) = e^x − 1``: SymPy writes the formulas,
  NumPy the accurate ``np.log1p``/``np.expm1``;
- ``abs``: ``np.abs`` / ``sympy.Abs`` (derivative ``sign(x)``, 0 at 0, on both sides);
- ``asin``, ``acos``, ``atan`` are aliases of ``arcsin``, ``arccos``, ``arctan``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.special as _special

__all__ = ["FUNCTIONS", "CONSTANTS", "Function", "Constant"]


@dataclasses.dataclass(frozen=True)
class Function:
    """An allowlisted function of one argument: ``numeric(a)`` on NumPy values (or
    mlcalc tracers), ``symbolic(sympy, a)`` on SymPy expressions."""

    name: str
    numeric: Callable[[Any], Any]
    symbolic: Callable[[Any, Any], Any]
    arity: int = 1


@dataclasses.dataclass(frozen=True)
class Constant:
    """A named constant: its float64 value and its exact SymPy value."""

    name: str
    value: float
    symbolic: Callable[[Any], Any]


def _softplus(a):
    return np.logaddexp(0.0, a)


_TABLE = [
    Function("sin", np.sin, lambda sp, a: sp.sin(a)),
    Function("cos", np.cos, lambda sp, a: sp.cos(a)),
    Function("tan", np.tan, lambda sp, a: sp.tan(a)),
    Function("exp", np.exp, lambda sp, a: sp.exp(a)),
    Function("log", np.log, lambda sp, a: sp.log(a)),
    Function("sqrt", np.sqrt, lambda sp, a: sp.sqrt(a)),
    Function("abs", np.abs, lambda sp, a: sp.Abs(a)),
    Function("tanh", np.tanh, lambda sp, a: sp.tanh(a)),
    Function("sinh", np.sinh, lambda sp, a: sp.sinh(a)),
    Function("cosh", np.cosh, lambda sp, a: sp.cosh(a)),
    Function("arcsin", np.arcsin, lambda sp, a: sp.asin(a)),
    Function("arccos", np.arccos, lambda sp, a: sp.acos(a)),
    Function("arctan", np.arctan, lambda sp, a: sp.atan(a)),
    Function("log1p", np.log1p, lambda sp, a: sp.log(1 + a)),
    Function("expm1", np.expm1, lambda sp, a: sp.exp(a) - 1),
    Function("sigmoid", _special.expit, lambda sp, a: 1 / (1 + sp.exp(-a))),
    Function("softplus", _softplus, lambda sp, a: sp.log(1 + sp.exp(a))),
    Function("erf", _special.erf, lambda sp, a: sp.erf(a)),
]

_ALIASES = {"asin": "arcsin", "acos": "arccos", "atan": "arctan"}

FUNCTIONS: dict[str, Function] = {f.name: f for f in _TABLE}
FUNCTIONS.update({alias: FUNCTIONS[name] for alias, name in _ALIASES.items()})

CONSTANTS: dict[str, Constant] = {
    "pi": Constant("pi", np.pi, lambda sp: sp.pi),
    "e": Constant("e", np.e, lambda sp: sp.E),
}
