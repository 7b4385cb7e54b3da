"""Reading the command line's values: numbers, points, boxes, expressions."""

from __future__ import annotations

import re

import numpy as np

from .output import UsageError

__all__ = ["parse_numbers", "parse_point", "parse_bounds", "load_expression", "auto_bounds"]

_SPLIT = re.compile(r"[,\s]+")


def parse_numbers(text: str, what: str) -> np.ndarray:
    """``"1, -2.5, inf"`` → array([1., -2.5, inf]); a UsageError naming ``what`` and the
    piece that is not a number otherwise."""
    pieces = [p for p in _SPLIT.split(str(text).strip()) if p]
    if not pieces:
        raise UsageError(f"{what}: expected numbers separated by commas, got {text!r}")
    values = []
    for p in pieces:
        try:
            values.append(float(p))
        except ValueError:
            raise UsageError(
                f"{what}: {p!r} is not a number (in {text!r}); write numbers separated by "
                "commas, e.g. 1,-2.5"
            ) from None
        if np.isnan(values[-1]):
            raise UsageError(f"{what}: NaN is not allowed (in {text!r})")
    return np.array(values, dtype=float)


def parse_point(text: str, n: int, variables, what: str = "--at") -> np.ndarray:
    """A point with one coordinate per variable, finite."""
    x = parse_numbers(text, what)
    if x.size != n:
        raise UsageError(
            f"{what}: got {x.size} coordinate(s) {x.tolist()} but the expression has {n} "
            f"variable(s) {tuple(variables)}; give one number per variable, in that order"
        )
    if not np.all(np.isfinite(x)):
        raise UsageError(f"{what}: coordinates must be finite, got {x.tolist()}")
    return x


def parse_bounds(text: str, n: int, what: str = "--bounds", finite: bool = True) -> np.ndarray:
    """A box as an (n, 2) array from ``"lo1,hi1,lo2,hi2,..."``; a single pair
    ``"lo,hi"`` applies to every variable."""
    v = parse_numbers(text, what)
    if v.size == 2 and n != 1:
        v = np.tile(v, n)
    if v.size != 2 * n:
        raise UsageError(
            f"{what}: got {v.size} number(s) but {n} variable(s) need {2 * n} "
            "(lo,hi for each variable in order, or one lo,hi pair for all)"
        )
    b = v.reshape(n, 2)
    if finite and not np.all(np.isfinite(b)):
        raise UsageError(f"{what}: the box must be finite, got {b.tolist()}")
    if np.any(b[:, 0] >= b[:, 1]):
        raise UsageError(
            f"{what}: each lower bound must be below its upper bound, got {b.tolist()}"
        )
    return b


def load_expression(text: str, variables: str | None = None, min_vars: int = 1):
    """Parse ``text`` with :func:`mlcalc.expr.parse` (an ExpressionError propagates: the
    caller prints it with its caret, exit status 2)."""
    from .. import expr

    e = expr.parse(text, variables=variables)
    if len(e.variables) < min_vars:
        raise UsageError(
            f"the expression {text!r} has no variables; name them with --vars (e.g. --vars x,y)"
        )
    return e


def auto_bounds(points: np.ndarray, margin: float = 0.25, minimum_width: float = 1.0) -> np.ndarray:
    """A box around ``points`` (m, 2) with a relative margin, at least ``minimum_width``
    wide along each axis."""
    pts = np.asarray(points, dtype=float)
    pts = pts[np.all(np.isfinite(pts), axis=1)]
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    mid, half = 0.5 * (lo + hi), 0.5 * (hi - lo)
    half = np.maximum(half * (1.0 + 2 * margin), 0.5 * minimum_width)
    return np.stack([mid - half, mid + half], axis=1)


def sympy_str(obj) -> str:
    """A SymPy object as text in the input grammar (``**`` for powers)."""
    import sympy

    return sympy.sstr(obj)
