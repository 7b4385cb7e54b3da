"""Gauss–Legendre rules on intervals and rectangles, with an error estimate from two
orders (the difference between an n-point and a 2n-point rule)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["QuadratureResult", "gauss_legendre"]


@dataclass(frozen=True)
class QuadratureResult:
    """An integral's value, its error estimate |Q_2n − Q_n|, and the nodes used."""

    value: np.ndarray | float
    error: float
    nfev: int


def _nodes(a: float, b: float, n: int):
    t, w = np.polynomial.legendre.leggauss(n)
    return 0.5 * (b - a) * t + 0.5 * (b + a), 0.5 * (b - a) * w


def gauss_legendre(integrand: Callable, bounds, order: int = 32) -> QuadratureResult:
    """∫ integrand over a box given by ``bounds`` [(a, b), ...] (any dimension), by a
    tensor Gauss–Legendre rule of ``order`` points per axis and again with 2·order: the
    finer value is returned, the difference is the error estimate. ``integrand`` takes
    the nodes as an (n, k) array and returns (n,) or (n, m) values."""
    values = []
    nfev = 0
    for n in (order, 2 * order):
        axes = [_nodes(float(a), float(b), n) for a, b in bounds]
        grids = np.meshgrid(*[p for p, _ in axes], indexing="ij")
        weights = np.prod(np.meshgrid(*[w for _, w in axes], indexing="ij"), axis=0).ravel()
        points = np.stack([g.ravel() for g in grids], axis=-1)
        vals = np.asarray(integrand(points), dtype=float)
        nfev += len(points)
        values.append(np.tensordot(weights, vals, axes=(0, 0)))
    error = float(np.max(np.abs(values[1] - values[0])))
    return QuadratureResult(values[1], error, nfev)
