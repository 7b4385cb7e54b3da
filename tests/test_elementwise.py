"""Elementwise functions: derivatives to second and third order (forward and reverse,
called as plain NumPy and as mlcalc.numpy), values equal to NumPy's bit for bit,
batching rules, dtypes, NaN/inf propagation and the conventions at non-differentiable
points."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import mlcalc as mc
import mlcalc.numpy as mnp
from mlcalc.testing import check_grads, check_vmap


def normal(rng, shape):
    return rng.standard_normal(shape)


def uniform(lo, hi):
    return lambda rng, shape: rng.uniform(lo, hi, shape)


def away(lo, hi):
    """Magnitudes in [lo, hi] with random signs (away from a kink or pole at 0)."""
    return lambda rng, shape: rng.uniform(lo, hi, shape) * rng.choice([-1.0, 1.0], shape)


def integers(lo, hi):
    return lambda rng, shape: rng.integers(lo, hi, shape)


UNARY = {
    "negative": normal,
    "positive": normal,
    "reciprocal": away(0.5, 2.0),
    "square": normal,
    "sqrt": uniform(0.5, 2.0),
    "cbrt": away(0.3, 2.0),
    "absolute": away(0.2, 2.0),
    "abs": away(0.2, 2.0),
    "fabs": away(0.2, 2.0),
    "exp": normal,
    "expm1": normal,
    "exp2": normal,
    "log": uniform(0.5, 2.0),
    "log1p": uniform(-0.5, 2.0),
    "log2": uniform(0.5, 2.0),
    "log10": uniform(0.5, 2.0),
    "sin": normal,
    "cos": normal,
    "tan": uniform(-1.2, 1.2),
    "arcsin": uniform(-0.8, 0.8),
    "arccos": uniform(-0.8, 0.8),
    "arctan": normal,
    "sinh": normal,
    "cosh": normal,
    "tanh": normal,
    "arcsinh": normal,
    "arccosh": uniform(1.2, 3.0),
    "arctanh": uniform(-0.8, 0.8),
    "deg2rad": normal,
    "rad2deg": normal,
    "radians": normal,
    "degrees": normal,
    "sinc": normal,
}

BINARY = {
    "add": (normal, normal),
    "subtract": (normal, normal),
    "multiply": (normal, normal),
    "divide": (normal, away(0.5, 2.0)),
    "true_divide": (normal, away(0.5, 2.0)),
    "power": (uniform(0.5, 2.0), normal),
    "float_power": (uniform(0.5, 2.0), normal),
    "remainder": (uniform(-3.0, 3.0), away(0.5, 2.0)),
    "mod": (uniform(-3.0, 3.0), away(0.5, 2.0)),
    "fmod": (uniform(-3.0, 3.0), away(0.5, 2.0)),
    "logaddexp": (normal, normal),
    "logaddexp2": (normal, normal),
    "arctan2": (normal, normal),
    "hypot": (normal, normal),
    "maximum": (normal, normal),
    "minimum": (normal, normal),
    "fmax": (normal, normal),
    "fmin": (normal, normal),
    "copysign": (away(0.2, 2.0), away(0.2, 2.0)),
}

NONDIFF_UNARY = [
    "floor", "ceil", "trunc", "rint", "fix", "sign", "round", "around", "isnan", "isinf",
    "isfinite", "signbit", "isposinf", "isneginf", "logical_not",
]
NONDIFF_BINARY = [
    "floor_divide", "heaviside", "less", "less_equal", "greater", "greater_equal", "equal",
    "not_equal", "logical_and", "logical_or", "logical_xor",
]

SHAPES = [((3,), (3,)), ((3,), (2, 1)), ((2, 3), ()), ((), (3,))]
SPELLINGS = ["numpy", "mlcalc"]


def fn(name, spelling):
    return getattr(np if spelling == "numpy" else mnp, name)


def points(sampler, shape, seed=0):
    return np.asarray(sampler(np.random.default_rng(seed), shape), dtype=float)


# -- derivatives: every function, second order, both spellings ------------------------


@pytest.mark.parametrize("spelling", SPELLINGS)
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_grads(name, spelling):
    f = fn(name, spelling)
    check_grads(f, (points(UNARY[name], (2, 3)),), order=2)


@pytest.mark.parametrize("shapes", SHAPES, ids=str)
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_grads(name, shapes):
    sx, sy = BINARY[name]
    x, y = points(sx, shapes[0], 1), points(sy, shapes[1], 2)
    check_grads(fn(name, "numpy"), (x, y), order=2)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_grads_mlcalc_spelling_and_python_scalars(name):
    sx, sy = BINARY[name]
    x, y = points(sx, (3,), 3), points(sy, (3,), 4)
    f = fn(name, "mlcalc")
    check_grads(f, (x, y), order=2)
    check_grads(lambda a: f(a, float(y[0])), (x,), order=2)
    check_grads(lambda b: f(float(x[0]), b), (y,), order=2)


OPERATORS = {
    "x + y": lambda x, y: x + y,
    "x - y": lambda x, y: x - y,
    "x * y": lambda x, y: x * y,
    "x / y": lambda x, y: x / (1.5 + np.cos(y)),
    "x ** y": lambda x, y: (1.5 + np.sin(x)) ** y,
    "x % y": lambda x, y: (3.0 * x) % (1.5 + np.cos(y)),
    "2 % y, 2 ** y, 1 / y": lambda x, y: 2.0 % (1.5 + np.cos(y)) + 2.0**y + 1.0 / (2 + y),
    "abs, neg, pos": lambda x, y: abs(x) * -y + (+x),
    "x.clip": lambda x, y: x.clip(-0.5, 0.5) * y,
}


@pytest.mark.parametrize("name", sorted(OPERATORS))
def test_operators_and_methods(name):
    check_grads(OPERATORS[name], (points(away(0.1, 2), (4,), 5), points(normal, (4,), 6)))


@pytest.mark.parametrize(
    "f, sampler",
    [
        (np.tan, uniform(-1.0, 1.0)),
        (np.arcsin, uniform(-0.8, 0.8)),
        (np.arccosh, uniform(1.2, 3.0)),
        (np.cbrt, away(0.3, 2.0)),
        (np.sinc, uniform(-0.3, 0.3)),
        (lambda x: np.logaddexp(x, 0.3 * x), normal),
        (lambda x: np.hypot(x, 1.0 - x), normal),
        (lambda x: np.arctan2(x, 1.5 + x * x), normal),
        (lambda x: np.power(np.abs(x) + 0.5, np.sin(x)), normal),
        (lambda x: x**3 + np.float_power(x, 4), normal),
    ],
    ids=["tan", "arcsin", "arccosh", "cbrt", "sinc", "logaddexp", "hypot", "arctan2",
         "power", "integer powers"],
)
def test_third_order(f, sampler):
    check_grads(f, (points(sampler, (4,), 7),), order=3)


# -- values: NumPy's own, bit for bit -------------------------------------------------


def _tangent_value(f, *args):
    """The primal value of ``f`` computed under a forward trace."""
    return mc.jvp(f, args, tuple(np.ones_like(a) for a in args))[0]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_values_equal_numpy(name, dtype):
    x = points(UNARY[name], (5,), 8).astype(dtype)
    expected = fn(name, "numpy")(x)
    np.testing.assert_array_equal(fn(name, "mlcalc")(x), expected)
    traced = _tangent_value(fn(name, "numpy"), x)
    assert traced.dtype == expected.dtype
    np.testing.assert_array_equal(traced, expected)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_values_equal_numpy(name):
    sx, sy = BINARY[name]
    x, y = points(sx, (3,), 9), points(sy, (2, 1), 10)
    expected = fn(name, "numpy")(x, y)
    np.testing.assert_array_equal(fn(name, "mlcalc")(x, y), expected)
    np.testing.assert_array_equal(_tangent_value(fn(name, "numpy"), x, y), expected)


@pytest.mark.parametrize("name", NONDIFF_UNARY + NONDIFF_BINARY)
def test_nondiff_values_equal_numpy(name):
    x = np.array([-1.5, -0.5, 0.0, 0.5, 2.5, np.inf, -np.inf, np.nan])
    args = (x,) if name in NONDIFF_UNARY else (x, np.roll(x, 3))
    with np.errstate(all="ignore"):
        expected = fn(name, "numpy")(*args)
        np.testing.assert_array_equal(fn(name, "mlcalc")(*args), expected)
        np.testing.assert_array_equal(_tangent_value(fn(name, "numpy"), *args), expected)


ALIASES = [("acos", "arccos"), ("asin", "arcsin"), ("atan", "arctan"), ("acosh", "arccosh"),
           ("asinh", "arcsinh"), ("atanh", "arctanh"), ("atan2", "arctan2"), ("pow", "power"),
           ("mod", "remainder"), ("true_divide", "divide"), ("abs", "absolute")]


def test_every_function_is_covered_and_exported():
    from mlcalc.numpy import _elementwise

    tables = set(UNARY) | set(BINARY) | set(NONDIFF_UNARY) | set(NONDIFF_BINARY)
    others = {"clip", "modf", "divmod", "ldexp"} | {short for short, _ in ALIASES}
    assert set(_elementwise.__all__) == tables | others
    assert set(_elementwise.__all__) <= set(mnp.__all__)


def test_round_decimals_and_aliases():
    x = np.array([1.2345, -2.5, 0.5, 3.14159])
    np.testing.assert_array_equal(mnp.round(x, 2), np.round(x, 2))
    np.testing.assert_array_equal(_tangent_value(lambda a: np.round(a, 3), x), np.round(x, 3))
    for short, long in ALIASES:
        assert getattr(mnp, short) is getattr(mnp, long)


# -- no derivative: zero gradient, the output is a constant --------------------------


@pytest.mark.parametrize("name", ["floor", "ceil", "trunc", "rint", "fix", "sign", "round"])
def test_piecewise_constant_has_zero_derivative(name):
    x = np.array([-1.3, 0.4, 2.7])
    f = fn(name, "numpy")
    np.testing.assert_array_equal(mc.grad(lambda a: np.sum(f(a) * a))(x), f(x))
    np.testing.assert_array_equal(mc.jvp(f, (x,), (np.ones(3),))[1], 0.0)


def test_floor_divide_operator_has_zero_derivative():
    x = np.array([-1.3, 0.4, 2.7])
    np.testing.assert_array_equal(mc.grad(lambda a: np.sum((a // 0.7) * a))(x), x // 0.7)
    np.testing.assert_array_equal(mc.grad(lambda a: np.sum(2.0 // a))(x), 0.0)


# -- batching -------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(UNARY) + NONDIFF_UNARY)
def test_vmap_unary(name):
    f = fn(name, "numpy")
    x = points(UNARY.get(name, normal), (3, 4), 11)
    check_vmap(f, (x,), in_axes=0)
    check_vmap(f, (x,), in_axes=1)


BATCH_AXES = [
    ((5, 4), (5, 4), (0, 0)),
    ((4, 5), (4,), (1, None)),
    ((4,), (5, 4), (None, 0)),
    ((5, 4), (4, 5), (0, 1)),
    ((5, 4), (1,), (0, None)),
]


@pytest.mark.parametrize("axes", BATCH_AXES, ids=lambda a: str(a[2]))
@pytest.mark.parametrize("name", sorted(BINARY) + NONDIFF_BINARY)
def test_vmap_binary(name, axes):
    sx, sy = BINARY.get(name, (normal, away(0.5, 2.0)))
    x, y = points(sx, axes[0], 12), points(sy, axes[1], 13)
    check_vmap(fn(name, "numpy"), (x, y), in_axes=axes[2])


CLIP_BATCHES = [
    ((5, 4), (5, 4), (5, 4), 0),
    ((4, 5), (4, 5), (4, 5), 1),
    ((5, 4), (4,), (), (0, None, None)),
    ((4, 5), (5, 4), (4,), (1, 0, None)),
    ((4,), (5, 4), (4, 5), (None, 0, 1)),
]


@pytest.mark.parametrize("shapes", CLIP_BATCHES, ids=lambda s: str(s[3]))
def test_vmap_clip(shapes):
    rng = np.random.default_rng(14)
    a = 2.0 * rng.standard_normal(shapes[0])
    lo, hi = -rng.uniform(size=shapes[1]), rng.uniform(size=shapes[2])
    check_vmap(np.clip, (a, lo, hi), in_axes=shapes[3])
    if shapes[3] in (0, 1):
        check_vmap(lambda x: np.clip(x, None, 0.5), (a,), in_axes=shapes[3])
        check_vmap(lambda x: np.clip(x, -0.5, None), (a,), in_axes=shapes[3])


@pytest.mark.parametrize("name", ["modf", "divmod", "ldexp"])
def test_vmap_multiple_results_and_integer_arguments(name):
    x = points(normal, (3, 4), 15) * 5
    e = integers(-3, 4)(np.random.default_rng(16), (3, 4))
    if name == "ldexp":
        check_vmap(np.ldexp, (x, e), in_axes=(1, 1))
        check_vmap(np.ldexp, (x, e[0]), in_axes=(0, None))
    elif name == "divmod":
        check_vmap(np.divmod, (x, 1.5 + np.abs(x.T)), in_axes=(0, 1))
    else:
        check_vmap(getattr(np, name), (x,), in_axes=1)


@pytest.mark.parametrize(
    "f",
    [
        lambda x: np.sum(np.sinc(x) * np.maximum(x, 0.1)),
        lambda x: np.sum(np.clip(x, -0.5, 0.5) ** 2 + np.hypot(x, 1.0)),
        lambda x: np.sum(np.logaddexp(x, 2.0 * x) * np.arctan2(x, 2.0)),
        lambda x: np.sum(np.abs(x) ** 3 + np.fmod(x, 0.7)),
    ],
)
def test_vmap_of_grad(f):
    x = points(normal, (4, 3), 17)
    check_vmap(mc.grad(f), (x,))
    check_vmap(mc.grad(f), (x,), in_axes=1, out_axes=1)


# -- closed forms ---------------------------------------------------------------------


def elementwise_derivatives(f, x, order):
    """f', f'', ... of an elementwise f at x, by nested forward mode."""
    g = f
    for _ in range(order):
        g = (lambda h: lambda a: mc.jvp(h, (a,), (np.ones_like(a),))[1])(g)
    return g(x)


CLOSED_FORMS = [
    (np.tan, 3, lambda x: 2 * (1 + np.tan(x) ** 2) * (1 + 3 * np.tan(x) ** 2)),
    (np.arcsin, 1, lambda x: 1 / np.sqrt(1 - x * x)),
    (np.arccos, 2, lambda x: -x / (1 - x * x) ** 1.5),
    (np.arctanh, 2, lambda x: 2 * x / (1 - x * x) ** 2),
    (np.arccosh, 1, lambda x: 1 / np.sqrt(x * x - 1)),
    (np.cbrt, 2, lambda x: -2.0 / 9.0 * np.abs(x) ** (-5.0 / 3.0) * np.sign(x)),
    (np.log10, 2, lambda x: -1 / (x * x * math.log(10))),
    (np.exp2, 3, lambda x: np.exp2(x) * math.log(2) ** 3),
    (np.expm1, 1, np.exp),
    (np.sinc, 1, lambda x: (np.cos(np.pi * x) - np.sinc(x)) / x),
]


@pytest.mark.parametrize(
    "f, order, expected", CLOSED_FORMS, ids=lambda v: getattr(v, "__name__", "")
)
def test_closed_forms(f, order, expected):
    x = np.array([0.3, 0.55, 0.9]) + (1.0 if f is np.arccosh else 0.0)
    np.testing.assert_allclose(elementwise_derivatives(f, x, order), expected(x), rtol=1e-12)


def test_sinc_at_and_near_zero():
    x = np.array([0.0, 1e-9, -1e-5, 0.099, 0.101, -0.5])
    d1 = elementwise_derivatives(np.sinc, x, 1)
    assert d1[0] == 0.0
    reference = np.where(x == 0, 0.0, (np.cos(np.pi * x) - np.sinc(x)) / np.where(x == 0, 1, x))
    np.testing.assert_allclose(d1[3:], reference[3:], rtol=1e-12)
    np.testing.assert_allclose(d1[1:3], -np.pi**2 / 3 * x[1:3], rtol=1e-6)
    d2 = elementwise_derivatives(np.sinc, np.array([0.0]), 2)
    np.testing.assert_allclose(d2, -np.pi**2 / 3, rtol=1e-14)
    d3 = elementwise_derivatives(np.sinc, np.array([0.0]), 3)
    np.testing.assert_allclose(d3, 0.0, atol=1e-14)
    np.testing.assert_allclose(
        elementwise_derivatives(np.sinc, np.array([0.0]), 4), np.pi**4 / 5, rtol=1e-12
    )


@pytest.mark.parametrize("f, base", [(np.logaddexp, math.e), (np.logaddexp2, 2.0)])
def test_logaddexp_is_stable_for_large_arguments(f, base):
    gx, gy = mc.grad(f, argnums=(0, 1))(1000.0, 1000.0 + math.log(3, base))
    np.testing.assert_allclose([gx, gy], [0.25, 0.75], rtol=1e-12)
    gx, gy = mc.grad(f, argnums=(0, 1))(-1e4, 0.0)
    assert (gx, gy) == (0.0, 1.0)


def test_remainder_and_fmod_derivatives():
    x, y = np.array([5.3, -5.3, 5.3, -5.3]), np.array([2.0, 2.0, -2.0, -2.0])
    gx, gy = mc.grad(lambda a, b: np.sum(np.remainder(a, b)), argnums=(0, 1))(x, y)
    np.testing.assert_array_equal(gx, 1.0)
    np.testing.assert_array_equal(gy, -np.floor(x / y))
    gx, gy = mc.grad(lambda a, b: np.sum(np.fmod(a, b)), argnums=(0, 1))(x, y)
    np.testing.assert_array_equal(gx, 1.0)
    np.testing.assert_array_equal(gy, -np.trunc(x / y))
    q, r = mc.jvp(lambda a: np.divmod(a, 2.0), (x,), (np.ones(4),))[1]
    np.testing.assert_array_equal(q, 0.0)
    np.testing.assert_array_equal(r, 1.0)


def test_copysign_ldexp_modf_derivatives():
    x, y = np.array([1.5, -1.5, 1.5, -1.5, 0.0]), np.array([2.0, 2.0, -2.0, -2.0, 1.0])
    gx, gy = mc.grad(lambda a, b: np.sum(np.copysign(a, b)), argnums=(0, 1))(x, y)
    np.testing.assert_array_equal(gx, [1.0, -1.0, -1.0, 1.0, 0.0])
    np.testing.assert_array_equal(gy, 0.0)
    e = np.array([3, -2, 0, 1, 5])
    np.testing.assert_array_equal(mc.grad(lambda a: np.sum(np.ldexp(a, e)))(x), 2.0**e)
    z = np.array([2.75, -3.5, 0.1])
    np.testing.assert_array_equal(mc.grad(lambda a: np.sum(np.modf(a)[0]))(z), 1.0)
    np.testing.assert_array_equal(mc.grad(lambda a: np.sum(np.modf(a)[1] * a))(z), np.trunc(z))
    check_grads(lambda a: np.modf(a)[0] ** 2 * np.modf(a)[1], (z,), order=2)


# -- conventions at non-differentiable points -----------------------------------------


@pytest.mark.parametrize("f", [np.abs, np.fabs, mnp.absolute, abs])
def test_abs_at_zero(f):
    x = np.array([0.0, -0.0, 2.0, -3.0])
    np.testing.assert_array_equal(mc.grad(lambda a: np.sum(f(a)))(x), [0, 0, 1, -1])
    np.testing.assert_array_equal(mc.jvp(f, (x,), (np.ones(4),))[1], [0, 0, 1, -1])


def test_sign_has_zero_derivative():
    x = np.array([0.0, -0.0, 2.0, -3.0])
    np.testing.assert_array_equal(mc.grad(lambda a: np.sum(np.sign(a) * 1.0))(x), 0.0)


@pytest.mark.parametrize("name", ["maximum", "minimum", "fmax", "fmin"])
def test_ties_split_the_gradient(name):
    f = fn(name, "numpy")
    x = np.array([1.0, 2.0, 3.0])
    y = np.array([1.0, 0.0, 5.0])
    gx, gy = mc.grad(lambda a, b: np.sum(f(a, b)), argnums=(0, 1))(x, y)
    larger = name in ("maximum", "fmax")
    np.testing.assert_array_equal(gx, [0.5, 1.0, 0.0] if larger else [0.5, 0.0, 1.0])
    np.testing.assert_array_equal(gy, [0.5, 0.0, 1.0] if larger else [0.5, 1.0, 0.0])
    np.testing.assert_array_equal(mc.jvp(f, (x, y), (np.ones(3), np.zeros(3)))[1], gx)
    # a tie with a scalar: the broadcast argument collects its halves
    np.testing.assert_array_equal(mc.grad(lambda b: np.sum(f(x, b)))(2.0), 1.5)


@pytest.mark.parametrize("name", ["maximum", "minimum", "fmax", "fmin"])
def test_extremum_nan_handling(name):
    f = fn(name, "numpy")
    x, y = np.array([np.nan, 1.0, np.nan]), np.array([2.0, np.nan, np.nan])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gx, gy = mc.grad(lambda a, b: np.sum(f(a, b)), argnums=(0, 1))(x, y)
    if name in ("maximum", "minimum"):  # the NaN argument is the result
        np.testing.assert_array_equal(gx, [1.0, 0.0, 1.0])
        np.testing.assert_array_equal(gy, [0.0, 1.0, 1.0])
    else:  # the non-NaN argument is the result
        np.testing.assert_array_equal(gx, [0.0, 1.0, 1.0])
        np.testing.assert_array_equal(gy, [1.0, 0.0, 1.0])


@pytest.mark.parametrize(
    "f",
    [
        lambda a: np.clip(a, -1.0, 1.0),
        lambda a: a.clip(-1.0, 1.0),
        lambda a: np.clip(a, min=-1.0, max=1.0),
        lambda a: mnp.clip(a, -1.0, 1.0),
    ],
    ids=["np.clip", "method", "min/max keywords", "mnp.clip"],
)
def test_clip_derivative_convention(f):
    x = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])
    g = mc.grad(lambda a: np.sum(f(a)))(x)
    np.testing.assert_array_equal(g, [0, 1, 1, 1, 0])  # the gradient passes at the bounds


def test_clip_one_sided():
    x = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])
    np.testing.assert_array_equal(mc.grad(lambda a: np.sum(np.clip(a, None, 0.0)))(x),
                                  [1, 1, 1, 0, 0])
    np.testing.assert_array_equal(mc.grad(lambda a: np.sum(np.clip(a, 0.0, None)))(x),
                                  [0, 0, 1, 1, 1])


def test_clip_traced_bounds():
    x = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])
    lo, hi = np.full(5, -1.0), np.full(5, 1.0)
    ga, glo, ghi = mc.grad(lambda a, b, c: np.sum(np.clip(a, b, c)), argnums=(0, 1, 2))(x, lo, hi)
    np.testing.assert_array_equal(ga, [0, 1, 1, 1, 0])
    np.testing.assert_array_equal(glo, [1, 0, 0, 0, 0])
    np.testing.assert_array_equal(ghi, [0, 0, 0, 0, 1])
    # scalar bounds collect the gradient of every clipped entry
    glo, ghi = mc.grad(lambda b, c: np.sum(np.clip(x, b, c)), argnums=(0, 1))(-0.5, 0.5)
    assert (glo, ghi) == (2.0, 2.0)
    # a plain array with traced bounds: ndarray.clip dispatches through the clip ufunc
    glo, ghi = mc.grad(lambda b, c: np.sum(x.clip(b, c)), argnums=(0, 1))(-0.5, 0.5)
    assert (glo, ghi) == (2.0, 2.0)
    # a_min > a_max: NumPy returns a_max everywhere
    ga, glo, ghi = mc.grad(lambda a, b, c: np.sum(np.clip(a, b, c)), argnums=(0, 1, 2))(
        x, 1.0, -1.0
    )
    np.testing.assert_array_equal(ga, 0.0)
    assert (glo, ghi) == (0.0, 5.0)
    rng = np.random.default_rng(18)
    check_grads(np.clip, (rng.standard_normal((2, 3)) * 2, -rng.uniform(size=3),
                          rng.uniform(size=(2, 1))), order=2)
    np.testing.assert_array_equal(mnp.clip(x, lo * 0.5, 0.5), np.clip(x, lo * 0.5, 0.5))


def test_power_conventions():
    x = np.array([-2.0, -0.5, 0.0, 1.5])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(mc.grad(lambda a: np.sum(a**3))(x), 3 * x**2)
        np.testing.assert_array_equal(mc.grad(lambda a: np.sum(a**4))(x), 4 * x**3)
        np.testing.assert_array_equal(mc.grad(lambda a: np.sum(a**2.0))(x), 2 * x)
        np.testing.assert_array_equal(mc.grad(lambda a: np.sum(a**0))(x), 0.0)
        ints = np.array([0, 1, 2, 3])
        np.testing.assert_array_equal(
            mc.grad(lambda a: np.sum(np.power(a, ints)))(x), [0.0, 1.0, 0.0, 3 * 1.5**2]
        )
        check_grads(lambda a: a**3 + a**2 + np.power(a, ints[1:]), (x[[0, 1, 3]],), order=3)
    gy = mc.grad(lambda y: np.sum(np.power(np.array([0.0, 2.0]), y)))(np.array([1.5, 1.5]))
    np.testing.assert_allclose(gy, [0.0, 2.0**1.5 * math.log(2.0)], rtol=1e-15)


@pytest.mark.parametrize("f", [np.hypot, np.arctan2])
def test_hypot_arctan2_at_origin(f):
    assert mc.grad(f, argnums=(0, 1))(0.0, 0.0) == (0.0, 0.0)
    assert mc.jvp(f, (0.0, 0.0), (1.0, 1.0))[1] == 0.0


def test_infinite_derivatives_and_nan_propagate():
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(mc.grad(np.sqrt)(0.0), np.inf)
        np.testing.assert_array_equal(mc.grad(np.cbrt)(0.0), np.inf)
        np.testing.assert_array_equal(mc.grad(np.arcsin)(1.0), np.inf)
        assert np.isnan(mc.grad(np.sqrt)(-1.0))


@pytest.mark.parametrize("name", sorted(UNARY))
def test_nan_input_gives_nan_derivative(name):
    f = fn(name, "numpy")
    x = np.array([np.nan, 0.7])
    with np.errstate(all="ignore"):
        g = mc.grad(lambda a: np.sum(f(a)))(x)
        t = mc.jvp(f, (x,), (np.ones(2),))[1]
    constant_derivative = name in ("negative", "positive", "deg2rad", "rad2deg", "radians",
                                   "degrees")
    assert np.isnan(g[0]) != constant_derivative
    assert np.isnan(t[0]) != constant_derivative
    assert np.isnan(t[1]) == (name == "arccosh")


# -- dtypes ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(UNARY))
def test_float32_unary(name):
    x = points(UNARY[name], (4,), 19).astype(np.float32)
    f = fn(name, "numpy")
    out, t = mc.jvp(f, (x,), (np.ones_like(x),))
    assert out.dtype == t.dtype == np.float32
    _, pull = mc.vjp(f, x)
    assert pull(np.ones_like(x))[0].dtype == np.float32
    assert mc.grad(lambda a: np.sum(f(a)))(x).dtype == np.float32


@pytest.mark.parametrize("name", sorted(set(BINARY) - {"float_power"}))
def test_float32_binary(name):
    sx, sy = BINARY[name]
    x, y = points(sx, (4,), 20).astype(np.float32), points(sy, (4,), 21).astype(np.float32)
    f = fn(name, "numpy")
    for g, args in [(f, (x, y)), (lambda a: f(a, 0.75), (x,)), (lambda b: f(0.75, b), (y,))]:
        out, t = mc.jvp(g, args, tuple(np.ones_like(a) for a in args))
        assert out.dtype == t.dtype == np.float32
        _, pull = mc.vjp(g, *args)
        assert all(c.dtype == np.float32 for c in pull(np.ones_like(out)))


def test_float32_clip_and_power():
    x = np.array([-2.0, 0.5, 3.0], dtype=np.float32)
    for f in (lambda a: np.clip(a, -1.0, 1.0), lambda a: a**3, lambda a: np.maximum(a, 0.0)):
        out, t = mc.jvp(f, (x,), (np.ones_like(x),))
        assert out.dtype == t.dtype == np.float32
