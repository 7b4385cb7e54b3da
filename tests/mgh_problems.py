"""The unconstrained test problems of Moré, Garbow and Hillstrom, "Testing Unconstrained
Optimization Software", ACM TOMS 7(1), 17-41, 1981 (problems 1-35, numbered as in the
paper), as plain NumPy sums of squares f(x) = Σᵢ fᵢ(x)², each with the paper's standard
starting point x0, its dimensions (n, m) and its minimum value.

Minimum values. The paper prints f* to six digits ("f = 8.21487...10⁻³"); relative
agreement to 1e-6 needs a seventh, so ``f_star`` holds the value refined by a
Levenberg–Marquardt run to machine precision (scipy.optimize.least_squares, ftol = xtol
= gtol = 1e-15, from the paper's minimiser or standard start), and ``f_paper`` the
printed digits it must round to (checked in tests/test_optimize_mgh.py). Where f* = 0 or
has a closed form (problems 32-34), ``f_star`` is exact. ``local`` lists the other local
minimum values the paper documents (refined the same way), ``x_star`` a minimiser the
paper gives, where it gives one exactly.

The module is importable by the tests and by benchmarks/bench_optimize.py (which puts
tests/ on sys.path).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Problem", "PROBLEMS", "BY_NUMBER", "reached"]


@dataclass(frozen=True)
class Problem:
    """One test problem: f(x) = Σᵢ rᵢ(x)² with r = ``residuals(x)`` (m components)."""

    number: int
    name: str
    residuals: Callable[[np.ndarray], np.ndarray]
    x0: tuple
    m: int
    f_star: float
    f_paper: str = "0"
    local: tuple = field(default=())
    x_star: tuple | None = None

    def f(self, x):
        """f(x) = Σ rᵢ(x)² (plain NumPy: the engine differentiates it)."""
        r = self.residuals(x)
        return np.sum(r * r)

    @property
    def n(self) -> int:
        return len(self.x0)


# -- 1-19: fixed dimensions --------------------------------------------------------------
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
    i = np.arange(1.0, 4.0)
    return np.array([1.5, 2.25, 2.625]) - x[0] * (1.0 - x[1] ** i)


def _jennrich_sampson(x):
    i = np.arange(1.0, 11.0)
    return 2.0 + 2.0 * i - (np.exp(i * x[0]) + np.exp(i * x[1]))


def _helical_valley(x):
    # θ = arctan(x2/x1)/2π, plus ½ where x1 < 0
    theta = np.arctan(x[1] / x[0]) / (2.0 * np.pi) + np.where(x[0] < 0, 0.5, 0.0)
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


_MEYER_Y = np.array([34780.0, 28610.0, 23650.0, 19630.0, 16370.0, 13720.0, 11540.0, 9744.0,
                     8261.0, 7030.0, 6005.0, 5147.0, 4427.0, 3820.0, 3307.0, 2872.0])


def _meyer(x):
    t = 45.0 + 5.0 * np.arange(1.0, 17.0)
    return x[0] * np.exp(x[1] / (t + x[2])) - _MEYER_Y


_GULF_M = 99  # the paper allows n ≤ m ≤ 100; m = 100 puts a residual on |y − x2|'s kink
_GULF_T = np.arange(1.0, _GULF_M + 1) / 100.0
_GULF_Y = 25.0 + (-50.0 * np.log(_GULF_T)) ** (2.0 / 3.0)


def _gulf(x):
    return np.exp(-(np.abs(_GULF_Y - x[1]) ** x[2]) / x[0]) - _GULF_T


def _box3d(x):
    t = 0.1 * np.arange(1.0, 11.0)
    return np.exp(-t * x[0]) - np.exp(-t * x[1]) - x[2] * (np.exp(-t) - np.exp(-10.0 * t))


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


_OSBORNE1_Y = np.array([
    0.844, 0.908, 0.932, 0.936, 0.925, 0.908, 0.881, 0.850, 0.818, 0.784, 0.751, 0.718,
    0.685, 0.658, 0.628, 0.603, 0.580, 0.558, 0.538, 0.522, 0.506, 0.490, 0.478, 0.467,
    0.457, 0.448, 0.438, 0.431, 0.424, 0.420, 0.414, 0.411, 0.406])


def _osborne1(x):
    t = 10.0 * np.arange(33.0)
    return _OSBORNE1_Y - (x[0] + x[1] * np.exp(-t * x[3]) + x[2] * np.exp(-t * x[4]))


def _biggs_exp6(x):
    t = 0.1 * np.arange(1.0, 14.0)
    y = np.exp(-t) - 5.0 * np.exp(-10.0 * t) + 3.0 * np.exp(-4.0 * t)
    return x[2] * np.exp(-t * x[0]) - x[3] * np.exp(-t * x[1]) + x[5] * np.exp(-t * x[4]) - y


_OSBORNE2_Y = np.array([
    1.366, 1.191, 1.112, 1.013, 0.991, 0.885, 0.831, 0.847, 0.786, 0.725, 0.746, 0.679,
    0.608, 0.655, 0.616, 0.606, 0.602, 0.626, 0.651, 0.724, 0.649, 0.649, 0.694, 0.644,
    0.624, 0.661, 0.612, 0.558, 0.533, 0.495, 0.500, 0.423, 0.395, 0.375, 0.372, 0.391,
    0.396, 0.405, 0.428, 0.429, 0.523, 0.562, 0.607, 0.653, 0.672, 0.708, 0.633, 0.668,
    0.645, 0.632, 0.591, 0.559, 0.597, 0.625, 0.739, 0.710, 0.729, 0.720, 0.636, 0.581,
    0.428, 0.292, 0.162, 0.098, 0.054])


def _osborne2(x):
    t = np.arange(65.0) / 10.0
    return _OSBORNE2_Y - (
        x[0] * np.exp(-t * x[4])
        + x[1] * np.exp(-((t - x[8]) ** 2) * x[5])
        + x[2] * np.exp(-((t - x[9]) ** 2) * x[6])
        + x[3] * np.exp(-((t - x[10]) ** 2) * x[7])
    )


# -- 20-35: variable dimensions ----------------------------------------------------------
def _watson(x):
    n = x.shape[0]
    t = np.arange(1.0, 30.0) / 29.0
    powers = t[:, None] ** np.arange(n)[None, :]  # t^(j-1), j = 1..n
    dpowers = np.concatenate([np.zeros((29, 1)), powers[:, :-1] * np.arange(1.0, n)], axis=1)
    r = dpowers @ x - (powers @ x) ** 2 - 1.0  # Σ (j-1) x_j t^(j-2) − (Σ x_j t^(j-1))² − 1
    return np.concatenate([r, np.stack([x[0], x[1] - x[0] ** 2 - 1.0])])


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


def _penalty1(x):
    return np.concatenate([np.sqrt(1e-5) * (x - 1.0), np.stack([np.sum(x * x) - 0.25])])


def _penalty2(x):
    n = x.shape[0]
    i = np.arange(2.0, n + 1)
    y = np.exp(i / 10.0) + np.exp((i - 1.0) / 10.0)
    e = np.exp(x / 10.0)
    a = np.sqrt(1e-5)
    weights = np.arange(n, 0, -1.0)  # n − j + 1
    return np.concatenate([
        np.stack([x[0] - 0.2]),
        a * (e[1:] + e[:-1] - y),
        a * (e[1:] - np.exp(-0.1)),
        np.stack([np.sum(weights * x * x) - 1.0]),
    ])


def _variably_dimensioned(x):
    j = np.arange(1.0, x.shape[0] + 1)
    s = np.sum(j * (x - 1.0))
    return np.concatenate([x - 1.0, np.stack([s, s * s])])


def _trigonometric(x):
    n = x.shape[0]
    i = np.arange(1.0, n + 1)
    return n - np.sum(np.cos(x)) + i * (1.0 - np.cos(x)) - np.sin(x)


def _brown_almost_linear(x):
    n = x.shape[0]
    s = np.sum(x)
    return np.concatenate([x[:-1] + s - (n + 1.0), np.stack([np.prod(x) - 1.0])])


def _discrete_bvp(x):
    n = x.shape[0]
    h = 1.0 / (n + 1)
    t = h * np.arange(1.0, n + 1)
    xp = np.concatenate([np.zeros(1), x, np.zeros(1)])  # x_0 = x_{n+1} = 0
    return 2.0 * x - xp[:-2] - xp[2:] + h * h * (x + t + 1.0) ** 3 / 2.0


def _discrete_integral_equation(x):
    n = x.shape[0]
    h = 1.0 / (n + 1)
    t = h * np.arange(1.0, n + 1)
    # K_ij = (1 − t_i) t_j for j ≤ i, t_i (1 − t_j) for j > i
    lower = np.tril(np.ones((n, n)))
    K = lower * np.outer(1.0 - t, t) + (1.0 - lower) * np.outer(t, 1.0 - t)
    return x + h * (K @ (x + t + 1.0) ** 3) / 2.0


def _broyden_tridiagonal(x):
    xp = np.concatenate([np.zeros(1), x, np.zeros(1)])  # x_0 = x_{n+1} = 0
    return (3.0 - 2.0 * x) * x - xp[:-2] - 2.0 * xp[2:] + 1.0


def _broyden_banded_mask(n: int, ml: int = 5, mu: int = 1) -> np.ndarray:
    """J_i = {j ≠ i : max(1, i − ml) ≤ j ≤ min(n, i + mu)} as a 0/1 matrix."""
    i, j = np.indices((n, n))
    return ((j != i) & (j >= i - ml) & (j <= i + mu)).astype(float)


def _broyden_banded(x):
    mask = _broyden_banded_mask(x.shape[0])
    return x * (2.0 + 5.0 * x * x) + 1.0 - mask @ (x * (1.0 + x))


_LINEAR_M = 20  # m ≥ n for problems 32-34


def _linear_full_rank(x):
    n, m = x.shape[0], _LINEAR_M
    s = np.sum(x)
    return np.concatenate([x - 2.0 * s / m - 1.0, np.zeros(m - n) - 2.0 * s / m - 1.0])


def _linear_rank1(x):
    j = np.arange(1.0, x.shape[0] + 1)
    return np.arange(1.0, _LINEAR_M + 1) * np.sum(j * x) - 1.0


def _linear_rank1_zero(x):
    n, m = x.shape[0], _LINEAR_M
    j = np.arange(1.0, n + 1)
    s = np.sum((j * x)[1:-1])  # Σ_{j=2}^{n-1} j x_j
    i = np.arange(2.0, m)
    return np.concatenate([-np.ones(1), (i - 1.0) * s - 1.0, -np.ones(1)])


def _chebyquad(x):
    n = x.shape[0]  # m = n
    y = 2.0 * x - 1.0  # the shifted Chebyshev polynomials T_i(2x − 1) on [0, 1]
    t_prev, t = np.ones_like(y), y
    rows = [np.mean(t)]
    for _ in range(2, n + 1):
        t_prev, t = t, 2.0 * y * t - t_prev
        rows.append(np.mean(t))
    # ∫₀¹ T_i(2x − 1) dx = −1/(i² − 1) for even i, 0 for odd i
    integral = np.array([-1.0 / (i * i - 1.0) if i % 2 == 0 else 0.0 for i in range(1, n + 1)])
    return np.stack(rows) - integral


def _n_seq(n: int, fn) -> tuple:
    return tuple(float(fn(j)) for j in range(1, n + 1))


def _boundary_start(n: int) -> tuple:
    h = 1.0 / (n + 1)
    return _n_seq(n, lambda j: j * h * (j * h - 1.0))


def _almost_linear_root(n: int) -> float:
    """α with n αⁿ − (n+1) αⁿ⁻¹ + 1 = 0, α ≠ 1 (the paper's minimiser (α, ..., α, α^(1−n)))."""
    roots = np.roots([n, -(n + 1)] + [0] * (n - 2) + [1])
    real = roots[np.abs(roots.imag) < 1e-12].real
    return float(real[(real > 0) & (np.abs(real - 1.0) > 1e-6)][0])


_ALPHA = _almost_linear_root(10)
_M = _LINEAR_M

PROBLEMS: list[Problem] = [
    Problem(1, "Rosenbrock", _rosenbrock, (-1.2, 1.0), 2, 0.0, x_star=(1.0, 1.0)),
    # local minimum 48.9842... at (11.41..., -0.8968...)
    Problem(2, "Freudenstein-Roth", _freudenstein_roth, (0.5, -2.0), 2, 0.0,
            local=((48.98425367924, "48.9842"),), x_star=(5.0, 4.0)),
    Problem(3, "Powell badly scaled", _powell_badly_scaled, (0.0, 1.0), 2, 0.0),
    Problem(4, "Brown badly scaled", _brown_badly_scaled, (1.0, 1.0), 3, 0.0,
            x_star=(1e6, 2e-6)),
    Problem(5, "Beale", _beale, (1.0, 1.0), 3, 0.0, x_star=(3.0, 0.5)),
    Problem(6, "Jennrich-Sampson (m=10)", _jennrich_sampson, (0.3, 0.4), 10,
            124.3621823556, "124.362"),
    Problem(7, "Helical valley", _helical_valley, (-1.0, 0.0, 0.0), 3, 0.0,
            x_star=(1.0, 0.0, 0.0)),
    # local minimum 17.4286... at (0.8406..., -inf, -inf): the limit Σ (yᵢ − ȳ)², exactly
    Problem(8, "Bard", _bard, (1.0, 1.0, 1.0), 15, 8.214877306579e-3, "8.21487e-3",
            local=((17.42869333333, "17.4286"),)),
    Problem(9, "Gaussian", _gaussian, (0.4, 1.0, 0.0), 15, 1.127932769619e-8, "1.12793e-8"),
    Problem(10, "Meyer", _meyer, (0.02, 4000.0, 250.0), 16, 87.94585517071, "87.9458"),
    Problem(11, f"Gulf research (m={_GULF_M})", _gulf, (5.0, 2.5, 0.15), _GULF_M, 0.0,
            x_star=(50.0, 25.0, 1.5)),
    # f = 0 also at (10, 1, -1) and wherever x1 = x2, x3 = 0
    Problem(12, "Box 3-D (m=10)", _box3d, (0.0, 10.0, 20.0), 10, 0.0,
            x_star=(1.0, 10.0, 1.0)),
    Problem(13, "Powell singular", _powell_singular, (3.0, -1.0, 0.0, 1.0), 4, 0.0,
            x_star=(0.0, 0.0, 0.0, 0.0)),
    Problem(14, "Wood", _wood, (-3.0, -1.0, -3.0, -1.0), 6, 0.0, x_star=(1.0,) * 4),
    # local minimum 1.02734...e-3 at (+inf, -14.07..., -inf, -inf): refined as the minimum
    # of the limit model (u² + u x2) / (a u + b), a = x3/x1, b = x4/x1
    Problem(15, "Kowalik-Osborne", _kowalik_osborne, (0.25, 0.39, 0.415, 0.39), 11,
            3.075056038492e-4, "3.07505e-4", local=((1.027343048695e-3, "1.02734e-3"),)),
    Problem(16, "Brown-Dennis (m=20)", _brown_dennis, (25.0, 5.0, -5.0, -1.0), 20,
            85822.20162636, "85822.2"),
    Problem(17, "Osborne 1", _osborne1, (0.5, 1.5, -1.0, 0.01, 0.02), 33,
            5.464894697482e-5, "5.46489e-5"),
    # the paper: f = 5.65565...e-3 (a local minimum) if m = 13, f = 0 at (1, 10, 1, 5, 4, 3);
    # the local value refined on the manifold x1 = x5 it lies on (a 4-parameter model)
    Problem(18, "Biggs EXP6 (m=13)", _biggs_exp6, (1.0, 2.0, 1.0, 1.0, 1.0, 1.0), 13, 0.0,
            local=((5.6556499255e-3, "5.65565e-3"),), x_star=(1.0, 10.0, 1.0, 5.0, 4.0, 3.0)),
    Problem(19, "Osborne 2", _osborne2,
            (1.3, 0.65, 0.65, 0.7, 0.6, 3.0, 5.0, 7.0, 2.0, 4.5, 5.5), 65,
            4.013773629355e-2, "4.01377e-2"),
    Problem(20, "Watson (n=6)", _watson, (0.0,) * 6, 31, 2.287670053552e-3, "2.28767e-3"),
    Problem(21, "Extended Rosenbrock (n=10)", _extended_rosenbrock, (-1.2, 1.0) * 5, 10, 0.0,
            x_star=(1.0,) * 10),
    Problem(22, "Extended Powell singular (n=12)", _extended_powell,
            (3.0, -1.0, 0.0, 1.0) * 3, 12, 0.0, x_star=(0.0,) * 12),
    Problem(23, "Penalty I (n=10)", _penalty1, _n_seq(10, float), 11, 7.08765146709e-5,
            "7.08765e-5"),
    Problem(24, "Penalty II (n=10)", _penalty2, (0.5,) * 10, 20, 2.936605374567e-4,
            "2.93660e-4"),
    Problem(25, "Variably dimensioned (n=10)", _variably_dimensioned,
            _n_seq(10, lambda j: 1.0 - j / 10.0), 12, 0.0, x_star=(1.0,) * 10),
    Problem(26, "Trigonometric (n=10)", _trigonometric, (0.1,) * 10, 10, 0.0),
    # the paper: f = 0 at (α, ..., α, α^(1−n)), f = 1 (local) at (0, ..., 0, n + 1)
    Problem(27, "Brown almost-linear (n=10)", _brown_almost_linear, (0.5,) * 10, 10, 0.0,
            local=((1.0, "1"),), x_star=(_ALPHA,) * 9 + (_ALPHA ** -9,)),
    Problem(28, "Discrete boundary value (n=10)", _discrete_bvp, _boundary_start(10), 10, 0.0),
    Problem(29, "Discrete integral equation (n=10)", _discrete_integral_equation,
            _boundary_start(10), 10, 0.0),
    Problem(30, "Broyden tridiagonal (n=10)", _broyden_tridiagonal, (-1.0,) * 10, 10, 0.0),
    Problem(31, "Broyden banded (n=10)", _broyden_banded, (-1.0,) * 10, 10, 0.0),
    # closed forms: f* = m − n at x = (−1, ..., −1)
    Problem(32, f"Linear full rank (n=10, m={_M})", _linear_full_rank, (1.0,) * 10, _M,
            float(_M - 10), str(_M - 10), x_star=(-1.0,) * 10),
    # f* = m(m − 1) / (2(2m + 1)) wherever Σ j x_j = 3 / (2m + 1)
    Problem(33, f"Linear rank 1 (n=10, m={_M})", _linear_rank1, (1.0,) * 10, _M,
            _M * (_M - 1) / (2.0 * (2 * _M + 1)), f"{_M * (_M - 1)}/{2 * (2 * _M + 1)}",
            x_star=(3.0 / (2 * _M + 1) / 55.0,) * 10),
    # f* = (m² + 3m − 6) / (2(2m − 3)) wherever Σ_{j=2}^{n−1} j x_j = 3 / (2m − 3)
    Problem(34, f"Linear rank 1, zero rows/cols (n=10, m={_M})", _linear_rank1_zero,
            (1.0,) * 10, _M, (_M * _M + 3 * _M - 6) / (2.0 * (2 * _M - 3)),
            f"{_M * _M + 3 * _M - 6}/{2 * (2 * _M - 3)}",
            x_star=(0.0,) + (3.0 / (2 * _M - 3) / 44.0,) * 8 + (0.0,)),
    Problem(35, "Chebyquad (n=m=8)", _chebyquad, _n_seq(8, lambda j: j / 9.0), 8,
            3.516873725678e-3, "3.51687e-3"),
]

BY_NUMBER = {p.number: p for p in PROBLEMS}


def reached(problem: Problem, value: float, rtol: float = 1e-6) -> str | None:
    """Which documented minimum ``value`` reaches: ``"global"`` when it is within
    ``rtol`` of f* (relative, or absolute where f* = 0; below f* counts too), ``"local"``
    when within ``rtol`` (relative) of one of the paper's other local minimum values,
    else ``None``."""
    if value <= problem.f_star + rtol * (abs(problem.f_star) if problem.f_star else 1.0):
        return "global"
    if any(abs(value - v) <= rtol * abs(v) for v, _ in problem.local):
        return "local"
    return None
