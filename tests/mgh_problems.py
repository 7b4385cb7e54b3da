"""Unconstrained test problems of Moré, Garbow and Hillstrom, "Testing Unconstrained
Optimization Software", ACM TOMS 7(1), 17-41, 1981, written as plain NumPy sums of
squares f(x) = Σ fᵢ(x)², with the paper's standard starting points and minimum values.

Numbers in the names are the paper's. ``f_star`` is the paper's minimum value, with the further
digits later tables give for it; ``local`` lists other local minimum values the paper
documents.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Problem:
    number: int
    name: str
    residuals: Callable[[np.ndarray], np.ndarray]
    x0: tuple
    f_star: float
    local: tuple = field(default=())

    def f(self, x):
        r = self.residuals(x)
        return np.sum(r * r)

    @property
    def n(self) -> int:
        return len(self.x0)


def _rosenbrock(x):
    return np.stack([10.0 * (x[1] - x[0] ** 2), 1.0 - x[0]])


def _freudenstein_roth(x):
    return np.stack([
        -13.0 + x[0] + ((5.0 - x[1]) * x[1] - 2.0) * x[1],
        -29.0 + x[0] + ((x[1] + 1.0) * x[1] - 14.0) * x[1],
    ])


def _powell_badly_scaled(x):
    return np.stack([1e4 * x[0] * x[1] - 1.0, np.exp(-x[0]) + np.exp(-x[1]) - 1.0001])


def _brown_badly_scaled(x):
    return np.stack([x[0] - 1e6, x[1] - 2e-6, x[0] * x[1] - 2.0])


def _beale(x):
    y = np.array([1.5, 2.25, 2.625])
    i = np.arange(1, 4)
    return y - x[0] * (1.0 - x[1] ** i)


def _jennrich_sampson(x):
    i = np.arange(1, 11)
    return 2.0 + 2.0 * i - (np.exp(i * x[0]) + np.exp(i * x[1]))


def _helical_valley(x):
    theta = np.arctan(x[1] / x[0]) / (2 * np.pi) + np.where(x[0] < 0, 0.5, 0.0)
    return np.stack([
        10.0 * (x[2] - 10.0 * theta),
        10.0 * (np.sqrt(x[0] ** 2 + x[1] ** 2) - 1.0),
        x[2],
    ])


_BARD_Y = np.array([0.14, 0.18, 0.22, 0.25, 0.29, 0.32, 0.35, 0.39, 0.37, 0.58, 0.73, 0.96,
                    1.34, 2.10, 4.39])


def _bard(x):
    u = np.arange(1.0, 16.0)
    v = 16.0 - u
    w = np.minimum(u, v)
    return _BARD_Y - (x[0] + u / (v * x[1] + w * x[2]))


_GAUSSIAN_Y = np.array([0.0009, 0.0044, 0.0175, 0.0540, 0.1295, 0.2420, 0.3521, 0.3989,
                        0.3521, 0.2420, 0.1295, 0.0540, 0.0175, 0.0044, 0.0009])


def _gaussian(x):
    t = (8.0 - np.arange(1.0, 16.0)) / 2.0
    return x[0] * np.exp(-x[1] * (t - x[2]) ** 2 / 2.0) - _GAUSSIAN_Y


def _box3d(x):
    t = 0.1 * np.arange(1.0, 11.0)
    return (np.exp(-t * x[0]) - np.exp(-t * x[1])) - x[2] * (np.exp(-t) - np.exp(-10.0 * t))


def _powell_singular(x):
    return np.stack([
        x[0] + 10.0 * x[1],
        np.sqrt(5.0) * (x[2] - x[3]),
        (x[1] - 2.0 * x[2]) ** 2,
        np.sqrt(10.0) * (x[0] - x[3]) ** 2,
    ])


def _wood(x):
    return np.stack([
        10.0 * (x[1] - x[0] ** 2),
        1.0 - x[0],
        np.sqrt(90.0) * (x[3] - x[2] ** 2),
        1.0 - x[2],
        np.sqrt(10.0) * (x[1] + x[3] - 2.0),
        (x[1] - x[3]) / np.sqrt(10.0),
    ])


_KO_Y = np.array([0.1957, 0.1947, 0.1735, 0.1600, 0.0844, 0.0627, 0.0456, 0.0342, 0.0323,
                  0.0235, 0.0246])
_KO_U = np.array([4.0, 2.0, 1.0, 0.5, 0.25, 0.167, 0.125, 0.1, 0.0833, 0.0714, 0.0625])


def _kowalik_osborne(x):
    u = _KO_U
    return _KO_Y - x[0] * (u * u + u * x[1]) / (u * u + u * x[2] + x[3])


def _brown_dennis(x):
    t = np.arange(1.0, 21.0) / 5.0
    return (x[0] + t * x[1] - np.exp(t)) ** 2 + (x[2] + x[3] * np.sin(t) - np.cos(t)) ** 2


def _extended_rosenbrock(x):
    odd, even = x[0::2], x[1::2]
    return np.concatenate([10.0 * (even - odd ** 2), 1.0 - odd])


def _extended_powell(x):
    a, b, c, d = x[0::4], x[1::4], x[2::4], x[3::4]
    return np.concatenate([
        a + 10.0 * b,
        np.sqrt(5.0) * (c - d),
        (b - 2.0 * c) ** 2,
        np.sqrt(10.0) * (a - d) ** 2,
    ])


def _penalty_one(x):
    return np.concatenate([np.sqrt(1e-5) * (x - 1.0), np.stack([np.sum(x * x) - 0.25])])


def _variably_dimensioned(x):
    j = np.arange(1.0, x.shape[0] + 1)
    s = np.sum(j * (x - 1.0))
    return np.concatenate([x - 1.0, np.stack([s, s * s])])


def _trigonometric(x):
    n = x.shape[0]
    i = np.arange(1.0, n + 1)
    return n - np.sum(np.cos(x)) + i * (1.0 - np.cos(x)) - np.sin(x)


def _discrete_bvp(x):
    n = x.shape[0]
    h = 1.0 / (n + 1)
    t = h * np.arange(1.0, n + 1)
    xp = np.concatenate([np.zeros(1), x, np.zeros(1)])
    return 2.0 * x - xp[:-2] - xp[2:] + h * h * (x + t + 1.0) ** 3 / 2.0


def _broyden_tridiagonal(x):
    xp = np.concatenate([np.zeros(1), x, np.zeros(1)])
    return (3.0 - 2.0 * x) * x - xp[:-2] - 2.0 * xp[2:] + 1.0


def _broyden_banded(x):
    n = x.shape[0]
    mask = np.zeros((n, n))
    for i in range(n):
        for j in range(max(0, i - 5), min(n, i + 2)):
            if j != i:
                mask[i, j] = 1.0
    return x * (2.0 + 5.0 * x * x) + 1.0 - mask @ (x * (1.0 + x))


def _linear_full_rank(x, m=20):
    n = x.shape[0]
    s = np.sum(x)
    head = x - 2.0 * s / m - 1.0
    tail = -2.0 * s / m - 1.0 + np.zeros(m - n)
    return np.concatenate([head, tail])


def _brown_almost_linear(x):
    n = x.shape[0]
    s = np.sum(x)
    return np.concatenate([x[:-1] + s - (n + 1.0), np.stack([np.prod(x) - 1.0])])


PROBLEMS = [
    Problem(1, "Rosenbrock", _rosenbrock, (-1.2, 1.0), 0.0),
    Problem(2, "Freudenstein-Roth", _freudenstein_roth, (0.5, -2.0), 0.0, (48.9842,)),
    Problem(3, "Powell badly scaled", _powell_badly_scaled, (0.0, 1.0), 0.0),
    Problem(4, "Brown badly scaled", _brown_badly_scaled, (1.0, 1.0), 0.0),
    Problem(5, "Beale", _beale, (1.0, 1.0), 0.0),
    Problem(6, "Jennrich-Sampson (m=10)", _jennrich_sampson, (0.3, 0.4), 124.362182355),
    Problem(7, "Helical valley", _helical_valley, (-1.0, 0.0, 0.0), 0.0),
    Problem(8, "Bard", _bard, (1.0, 1.0, 1.0), 8.21487730657e-3, (17.4286,)),
    Problem(9, "Gaussian", _gaussian, (0.4, 1.0, 0.0), 1.12793276961e-8),
    Problem(12, "Box 3-D (m=10)", _box3d, (0.0, 10.0, 20.0), 0.0),
    Problem(13, "Powell singular", _powell_singular, (3.0, -1.0, 0.0, 1.0), 0.0),
    Problem(14, "Wood", _wood, (-3.0, -1.0, -3.0, -1.0), 0.0),
    Problem(15, "Kowalik-Osborne", _kowalik_osborne, (0.25, 0.39, 0.415, 0.39), 3.07505603849e-4,
            (1.02734e-3,)),
    Problem(16, "Brown-Dennis (m=20)", _brown_dennis, (25.0, 5.0, -5.0, -1.0), 85822.2016263),
    Problem(21, "Extended Rosenbrock (n=10)", _extended_rosenbrock, (-1.2, 1.0) * 5, 0.0),
    Problem(22, "Extended Powell singular (n=12)", _extended_powell, (3.0, -1.0, 0.0, 1.0) * 3,
            0.0),
    Problem(23, "Penalty I (n=4)", _penalty_one, (1.0, 2.0, 3.0, 4.0), 2.24997873e-5),
    Problem(25, "Variably dimensioned (n=10)", _variably_dimensioned,
            tuple(1.0 - j / 10.0 for j in range(1, 11)), 0.0),
    Problem(26, "Trigonometric (n=10)", _trigonometric, (0.1,) * 10, 0.0, (2.79506e-5,)),
    Problem(28, "Discrete boundary value (n=10)", _discrete_bvp,
            tuple((j / 11.0) * (j / 11.0 - 1.0) for j in range(1, 11)), 0.0),
    Problem(30, "Broyden tridiagonal (n=10)", _broyden_tridiagonal, (-1.0,) * 10, 0.0),
    Problem(31, "Broyden banded (n=10)", _broyden_banded, (-1.0,) * 10, 0.0),
    Problem(32, "Linear, full rank (n=10, m=20)", _linear_full_rank, (1.0,) * 10, 10.0),
    Problem(27, "Brown almost-linear (n=10)", _brown_almost_linear, (0.5,) * 10, 0.0, (1.0,)),
]


def reached(problem: Problem, value: float, rtol: float = 1e-6) -> str | None:
    """Which documented minimum ``value`` reaches (``"global"``, ``"local"``) or None:
    within ``rtol`` relative, or absolute where the minimum is 0 (as in the issue)."""

    def close(target):
        return value <= target + rtol * max(abs(target), 1.0 if target == 0 else 0.0)

    if close(problem.f_star):
        return "global"
    if any(abs(value - v) <= rtol * abs(v) * 10 for v in problem.local):
        return "local"
    return None
