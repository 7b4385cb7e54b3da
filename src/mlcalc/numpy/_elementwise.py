"""Elementwise functions (NumPy ufuncs and friends) with their derivatives.

Each differentiable function is a primitive whose implementation is NumPy's own
function (so plain inputs give NumPy's values bit for bit) and whose rules come from
its derivative, written with the functions of this module so that every order works.
Functions whose output is piecewise constant (rounding, ``sign``, ``floor_divide``,
``heaviside``), integer or boolean (predicates, comparisons, logical functions) are
non-differentiable primitives: their output carries no derivative, i.e. a zero one.

Conventions at non-differentiable points
----------------------------------------
- ``absolute``/``fabs`` at 0: derivative 0 (the subgradient of smallest norm);
  ``copysign(x, y)`` at ``x == 0``: 0 as well.
- ``sign``, rounding functions, ``floor_divide``, ``heaviside``: derivative 0.
- ``maximum``/``minimum``/``fmax``/``fmin`` at ties ``x == y``: the gradient is split
  equally, ½ to each argument. NaN: ``maximum``/``minimum`` give the gradient to the NaN
  argument (NumPy returns it), ``fmax``/``fmin`` to the other one (NumPy returns it).
- ``clip(a, a_min, a_max)``: derivative 1 w.r.t. ``a`` on the closed interval
  ``[a_min, a_max]`` (the gradient passes at the bounds, as in PyTorch), 0 outside;
  w.r.t. ``a_min`` where ``a < a_min``, w.r.t. ``a_max`` where ``a > a_max``. With
  ``a_min > a_max`` the result is ``a_max`` (as in NumPy), and so is the derivative.
- ``sqrt`` and ``cbrt`` at 0, ``log`` at 0, ``arcsin`` at ±1...: ±inf; NaN where the
  function has no real value. NaN and inf propagate, nothing raises.
- ``power(x, y)``: ∂/∂x is ``y·x**(y−1)``, computed without a logarithm (finite for
  negative x and integral y), and 0 for an integer exponent ``y == 0``; ∂/∂y is
  ``x**y·log x``, defined as 0 where ``x == 0`` (the limit for y > 0), NaN where x < 0.
- ``hypot`` and ``arctan2`` at the origin: derivative 0.
- ``sinc`` at 0: derivative 0 (its true value; higher derivatives are exact there too).
- ``remainder``: ∂/∂x = 1, ∂/∂y = −floor(x/y); ``fmod``: ∂/∂x = 1, ∂/∂y = −trunc(x/y).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.special as _sp

from ._base import (
    Primitive,
    batch_elementwise,
    broadcast_tangent,
    defbinary,
    defunary,
    dtype_of,
    fit_to,
    implements,
    nondiff_elementwise,
    register_op,
    register_ufunc,
    shape_of,
    unbroadcast,
)
from ._core import where

__all__: list[str] = []

# Python floats: weak scalars in NumPy's promotion, so float32 stays float32.
_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_PI = math.pi


# ---------------------------------------------------------------------------------
# building and registering the functions


def _publish(fn: Callable, name: str, *numpy_fns) -> Callable:
    """Export ``fn`` as ``name``; register it for the NumPy ufuncs
    (``__array_ufunc__``) and functions (``__array_function__``) it implements, and for
    the tracer operators and methods that use ``name``."""
    for f in numpy_fns:
        if isinstance(f, np.ufunc):
            register_ufunc(f, fn)
        else:
            implements(f)(fn)
    register_op(name, fn)
    __all__.append(name)
    return fn


def _alias(name: str, fn: Callable) -> Callable:
    """Export ``fn`` under NumPy's other name for it as well."""
    register_op(name, fn)
    __all__.append(name)
    return fn


def _binder(prim: Primitive, doc: str) -> Callable:
    """The public function of ``prim``: the primitive itself (calling it binds it),
    named and documented like a function, with no wrapper frame on the hot path."""
    prim.__name__ = prim.__qualname__ = prim.name
    prim.__doc__ = doc
    prim.__module__ = "mlcalc.numpy"
    return prim


def _ufunc(prim: Primitive, ufunc: np.ufunc, doc: str) -> Callable:
    """Publish ``prim`` as the differentiable version of ``ufunc``."""
    return _publish(_binder(prim, doc), prim.name, ufunc)


def _unary(ufunc: np.ufunc, deriv: Callable[[Any, Any], Any], doc: str) -> Callable:
    """A differentiable elementwise function y = f(x) from ``deriv(x, y) = f'(x)``."""
    return _ufunc(defunary(Primitive(ufunc.__name__, ufunc), deriv), ufunc, doc)


def _binary(ufunc: np.ufunc, d0: Callable, d1: Callable, doc: str) -> Callable:
    """A differentiable broadcasting function z = f(x, y) from its partial derivatives
    ``d0(x, y, z) = ∂f/∂x`` and ``d1(x, y, z) = ∂f/∂y``."""
    return _ufunc(defbinary(Primitive(ufunc.__name__, ufunc), d0, d1), ufunc, doc)


def _nondiff(fn: Callable, doc: str) -> Callable:
    """An elementwise function whose output carries no derivative."""
    prim = nondiff_elementwise(fn.__name__, fn)
    return _publish(_binder(prim, doc), prim.name, fn)


def _zero_rule(*args, **params):
    """A rule for an argument with derivative 0 (a symbolic zero)."""
    return None


def _linear(ufunc: np.ufunc, coefficients: tuple[int, ...], doc: str) -> Callable:
    """A function linear in each argument with coefficients ±1 (no product computed)."""
    prim = Primitive(ufunc.__name__, ufunc)

    def jvp(c):
        def rule(t, ans, *args):
            return broadcast_tangent(t if c == 1 else negative(t), shape_of(ans))

        return rule

    def vjp(c, i):
        def rule(g, ans, *args):
            return fit_to(g if c == 1 else negative(g), args[i])

        return rule

    prim.defjvp(*[jvp(c) for c in coefficients])
    prim.defvjp(*[vjp(c, i) for i, c in enumerate(coefficients)])
    prim.defbatch(batch_elementwise(prim))
    return _ufunc(prim, ufunc, doc)


def _masked(t, full, half=None):
    """``t`` where ``full``, ``t/2`` where ``half``, 0 elsewhere (a select, so NaN or
    inf in the masked-out entries of ``t`` does not leak)."""
    out = where(full, t, 0.0)
    if half is not None:
        out = where(half, 0.5 * t, out)
    return out


def _defmasked(prim: Primitive, nargs: int, masks: Callable) -> Primitive:
    """Rules of a function whose derivative in argument ``i`` is 1 on a mask, ½ on a
    second mask and 0 elsewhere: ``masks(i, ans, *args) -> (full, half or None)``."""

    def jvp(i):
        def rule(t, ans, *args):
            return broadcast_tangent(_masked(t, *masks(i, ans, *args)), shape_of(ans))

        return rule

    def vjp(i):
        def rule(g, ans, *args):
            return unbroadcast(_masked(g, *masks(i, ans, *args)), shape_of(args[i]))

        return rule

    prim.defjvp(*[jvp(i) for i in range(nargs)])
    prim.defvjp(*[vjp(i) for i in range(nargs)])
    prim.defbatch(batch_elementwise(prim))
    return prim


# ---------------------------------------------------------------------------------
# predicates, comparisons, logical functions, rounding (no derivative)

isnan = _nondiff(np.isnan, "True where x is NaN (no derivative).")
isinf = _nondiff(np.isinf, "True where x is ±inf (no derivative).")
isfinite = _nondiff(np.isfinite, "True where x is finite (no derivative).")
signbit = _nondiff(np.signbit, "True where the sign bit of x is set (no derivative).")
isposinf = _nondiff(np.isposinf, "True where x is +inf (no derivative).")
isneginf = _nondiff(np.isneginf, "True where x is −inf (no derivative).")
less = _nondiff(np.less, "x < y elementwise (no derivative).")
less_equal = _nondiff(np.less_equal, "x <= y elementwise (no derivative).")
greater = _nondiff(np.greater, "x > y elementwise (no derivative).")
greater_equal = _nondiff(np.greater_equal, "x >= y elementwise (no derivative).")
equal = _nondiff(np.equal, "x == y elementwise (no derivative).")
not_equal = _nondiff(np.not_equal, "x != y elementwise (no derivative).")
logical_and = _nondiff(np.logical_and, "x AND y elementwise (no derivative).")
logical_or = _nondiff(np.logical_or, "x OR y elementwise (no derivative).")
logical_xor = _nondiff(np.logical_xor, "x XOR y elementwise (no derivative).")
logical_not = _nondiff(np.logical_not, "NOT x elementwise (no derivative).")

floor = _nondiff(np.floor, "⌊x⌋; piecewise constant: derivative 0.")
ceil = _nondiff(np.ceil, "⌈x⌉; piecewise constant: derivative 0.")
trunc = _nondiff(np.trunc, "x rounded towards 0; piecewise constant: derivative 0.")
rint = _nondiff(np.rint, "x rounded to the nearest integer; derivative 0.")
fix = _nondiff(np.fix, "x rounded towards 0 (numpy.fix); derivative 0.")
sign = _nondiff(np.sign, "The sign of x (−1, 0 or 1; NaN for NaN); derivative 0.")
floor_divide = _nondiff(np.floor_divide, "⌊x / y⌋; piecewise constant: derivative 0.")
heaviside = _nondiff(np.heaviside, "Heaviside step of x (value y at 0); derivative 0.")

_round_p = nondiff_elementwise("round", lambda x, decimals: np.round(x, decimals))


def round(a, decimals: int = 0, out=None):  # noqa: A001
    """``a`` rounded to ``decimals`` decimals, halves to even (as ``numpy.round``);
    piecewise constant: derivative 0."""
    if out is not None:
        raise TypeError("mlcalc.numpy.round: out= is not supported on traced values.")
    return _round_p.bind(a, decimals=int(decimals))


_publish(round, "round", *[getattr(np, n) for n in ("round", "around") if hasattr(np, n)])
around = _alias("around", round)


# ---------------------------------------------------------------------------------
# arithmetic

add = _linear(np.add, (1, 1), "x + y; ∂ = (1, 1).")
subtract = _linear(np.subtract, (1, -1), "x − y; ∂ = (1, −1).")
negative = _linear(np.negative, (-1,), "−x; derivative −1.")
positive = _linear(np.positive, (1,), "+x (a copy); derivative 1.")
multiply = _binary(np.multiply, lambda x, y, z: y, lambda x, y, z: x, "x·y; ∂ = (y, x).")
divide = _binary(
    np.divide, lambda x, y, z: 1.0 / y, lambda x, y, z: -z / y, "x / y; ∂ = (1/y, −x/y²)."
)
true_divide = _alias("true_divide", divide)


def _power_dx(pow_fn: Callable) -> Callable:
    """∂/∂x x**y = y·x**(y−1) for ``power`` or ``float_power``, without a logarithm
    (finite for x < 0 and integral y); for an integer exponent, 0 where y == 0 (also at
    x == 0, where y·x**(y−1) would be 0·inf)."""

    def d(x, y, z):
        if isinstance(y, int):  # a Python int stays a weak scalar: float32 stays float32
            return 0.0 if y == 0 else y * pow_fn(x, y - 1)
        if dtype_of(y).kind in "iub":
            return y * pow_fn(x, where(equal(y, 0), 1, y - 1))
        return y * pow_fn(x, y - 1.0)

    return d


def _power_dy(x, y, z):
    """∂/∂y x**y = x**y·log x; 0 where x == 0 (the limit for y > 0), NaN where x < 0."""
    if isinstance(x, (int, float)):  # a Python scalar stays a weak scalar
        return z * (math.log(x) if x > 0 else 0.0 if x == 0 else math.nan)
    zero = equal(x, 0)
    return where(zero, 0.0, z * log(where(zero, 1.0, x)))


power = _binary(
    np.power,
    _power_dx(lambda x, y: power(x, y)),
    _power_dy,
    "x**y; ∂/∂x = y·x**(y−1), ∂/∂y = x**y·log x (0 where x == 0, NaN where x < 0).",
)
pow = _alias("pow", power)  # noqa: A001
float_power = _binary(
    np.float_power,
    _power_dx(lambda x, y: float_power(x, y)),
    _power_dy,
    "x**y computed in float64 (numpy.float_power); derivatives as for power.",
)
remainder = _binary(
    np.remainder,
    lambda x, y, z: 1.0,
    lambda x, y, z: negative(floor_divide(x, y)),
    "x mod y with the sign of y, x − floor(x/y)·y; ∂ = (1, −floor(x/y)).",
)
mod = _alias("mod", remainder)
fmod = _binary(
    np.fmod,
    lambda x, y, z: 1.0,
    # trunc(x/y) recovered exactly from the result: (x − fmod(x, y))/y is integral.
    lambda x, y, z: negative(rint((x - z) / y)),
    "x mod y with the sign of x, x − trunc(x/y)·y; ∂ = (1, −trunc(x/y)).",
)


def divmod(x, y):  # noqa: A001
    """``(floor_divide(x, y), remainder(x, y))``, as ``numpy.divmod``; the quotient
    has derivative 0, the remainder ∂ = (1, −floor(x/y))."""
    return floor_divide(x, y), remainder(x, y)


_publish(divmod, "divmod", np.divmod)

reciprocal = _unary(np.reciprocal, lambda x, y: negative(y * y), "1/x; derivative −1/x².")
square = _unary(np.square, lambda x, y: 2.0 * x, "x²; derivative 2x.")
sqrt = _unary(np.sqrt, lambda x, y: 0.5 / y, "√x; derivative 1/(2√x) (+inf at 0).")
cbrt = _unary(
    np.cbrt, lambda x, y: 1.0 / (3.0 * (y * y)), "∛x; derivative 1/(3∛x²) (+inf at 0)."
)
absolute = _unary(np.absolute, lambda x, y: sign(x), "|x|; derivative sign(x) (0 at 0).")
abs = _alias("abs", absolute)  # noqa: A001
fabs = _unary(np.fabs, lambda x, y: sign(x), "|x| for reals; derivative sign(x) (0 at 0).")


def _copysign_dx(x, y):
    """∂/∂x copysign(x, y) = sign(x)·copysign(1, y) (0 at x == 0, as for abs)."""
    if isinstance(y, (int, float)):  # a Python scalar stays a weak scalar
        return sign(x) * math.copysign(1.0, y)
    return sign(x) * copysign(1.0, y)


_copysign_p = Primitive("copysign", np.copysign)
_copysign_p.defjvp(
    lambda t, ans, x, y: broadcast_tangent(t * _copysign_dx(x, y), shape_of(ans)), _zero_rule
)
_copysign_p.defvjp(
    lambda g, ans, x, y: unbroadcast(g * _copysign_dx(x, y), shape_of(x)), _zero_rule
)
_copysign_p.defbatch(batch_elementwise(_copysign_p))
copysign = _ufunc(
    _copysign_p,
    np.copysign,
    "|x| with the sign of y; ∂/∂x = sign(x)·copysign(1, y) (0 at x == 0), ∂/∂y = 0.",
)

_ldexp_p = Primitive("ldexp", np.ldexp)
_ldexp_p.defjvp(lambda t, ans, x, e: broadcast_tangent(ldexp(t, e), shape_of(ans)), None)
_ldexp_p.defvjp(lambda g, ans, x, e: unbroadcast(ldexp(g, e), shape_of(x)), None)
_ldexp_p.defbatch(batch_elementwise(_ldexp_p))
ldexp = _ufunc(_ldexp_p, np.ldexp, "x·2**e for an integer e; ∂/∂x = 2**e (applied exactly).")


def _batch_two_outputs(prim: Primitive):
    """Batching rule of an elementwise primitive with two outputs."""

    def rule(args, dims):
        out = prim.bind(args[0])
        return out, (dims[0], dims[0])

    return rule


_modf_p = Primitive("modf", np.modf, multiple_results=True)
_modf_p.defjvp_all(lambda tangents, ans, x: (tangents[0], None))
_modf_p.defvjp_all(lambda g, ans, needs, x: [g[0]])
_modf_p.defbatch(_batch_two_outputs(_modf_p))
modf = _ufunc(
    _modf_p, np.modf, "(fractional part, integral part) of x; derivatives (1, 0)."
)


# ---------------------------------------------------------------------------------
# exponentials and logarithms

exp = _unary(np.exp, lambda x, y: y, "eˣ; derivative eˣ.")
expm1 = _unary(np.expm1, lambda x, y: y + 1.0, "eˣ − 1 (accurate near 0); derivative eˣ.")
exp2 = _unary(np.exp2, lambda x, y: y * _LN2, "2ˣ; derivative 2ˣ·ln 2.")
log = _unary(np.log, lambda x, y: 1.0 / x, "ln x; derivative 1/x.")
log1p = _unary(np.log1p, lambda x, y: 1.0 / (1.0 + x), "ln(1 + x); derivative 1/(1 + x).")
log2 = _unary(np.log2, lambda x, y: 1.0 / (x * _LN2), "log₂ x; derivative 1/(x ln 2).")
log10 = _unary(np.log10, lambda x, y: 1.0 / (x * _LN10), "log₁₀ x; derivative 1/(x ln 10).")


def _sigmoid_derivative_impl(x):
    # σ(x)σ(−x) = e^{−|x|}/(1 + e^{−|x|})²: no overflow, no cancellation.
    e = np.exp(-np.abs(x))
    return e / ((1 + e) * (1 + e))


# The logistic function and its derivative, the weights in the rules of logaddexp and
# logaddexp2 (and the rules of scipy.special.expit, which is this primitive). Neither
# is a NumPy function, so neither is published in this namespace.
expit_p = Primitive("expit", _sp.expit)
sigmoid_derivative_p = Primitive("sigmoid_derivative", _sigmoid_derivative_impl)


def expit(x):
    """σ(x) = 1/(1 + e^{−x}) (SciPy's ``expit`` values); σ'(x) = σ(x)σ(−x), computed as
    :func:`sigmoid_derivative` (accurate where σ(1 − σ) rounds to 0, x > 37 in
    float64)."""
    return expit_p.bind(x)


def sigmoid_derivative(x):
    """s(x) = σ'(x) = σ(x)σ(−x) = e^{−|x|}/(1 + e^{−|x|})², the logistic density.

    Derivative s'(x) = −s(x)·tanh(x/2): both factors bounded and free of cancellation
    (also near 0), so every order of derivative of σ is stable."""
    return sigmoid_derivative_p.bind(x)


defunary(expit_p, lambda x, y: sigmoid_derivative(x))
defunary(sigmoid_derivative_p, lambda x, y: negative(y * tanh(0.5 * x)))


def _equal_safe_difference(x, y):
    """x − y, with 0 where x and y are the same infinity (where x − y is NaN); the
    derivative of x − y passes everywhere else, including at finite ties."""
    same_infinity = logical_and(equal(x, y), isinf(x))
    return where(same_infinity, 0.0, x - y)


# ∂ = σ(x − y): the weight computed from a difference of the inputs. (A weight
# e^{x − z} with z = logaddexp(x, y) would inherit z's rounding: 0.47 instead of 0.5 at
# x = y = 1e15.) Its derivative is ±σ'(x − y), again free of cancellation.
logaddexp = _binary(
    np.logaddexp,
    lambda x, y, z: expit(_equal_safe_difference(x, y)),
    lambda x, y, z: expit(_equal_safe_difference(y, x)),
    "ln(eˣ + eʸ); ∂ = (σ(x − y), σ(y − x)), the softmax weights (½ each at equal "
    "infinities); ∂² = ±σ'(x − y). Stable at any |x|, |y|, to every order.",
)
logaddexp2 = _binary(
    np.logaddexp2,
    lambda x, y, z: expit(_equal_safe_difference(x, y) * _LN2),
    lambda x, y, z: expit(_equal_safe_difference(y, x) * _LN2),
    "log₂(2ˣ + 2ʸ); ∂ = (σ((x − y) ln 2), σ((y − x) ln 2)); ∂² = ±ln 2·σ'((x − y) ln 2). "
    "Stable at any |x|, |y|, to every order.",
)


# ---------------------------------------------------------------------------------
# trigonometric and hyperbolic functions

sin = _unary(np.sin, lambda x, y: cos(x), "sin x; derivative cos x.")
cos = _unary(np.cos, lambda x, y: negative(sin(x)), "cos x; derivative −sin x.")
tan = _unary(np.tan, lambda x, y: 1.0 + y * y, "tan x; derivative 1 + tan²x.")
arcsin = _unary(
    np.arcsin,
    lambda x, y: 1.0 / sqrt((1.0 - x) * (1.0 + x)),
    "arcsin x; derivative 1/√(1 − x²) (+inf at ±1).",
)
arccos = _unary(
    np.arccos,
    lambda x, y: -1.0 / sqrt((1.0 - x) * (1.0 + x)),
    "arccos x; derivative −1/√(1 − x²) (−inf at ±1).",
)
arctan = _unary(np.arctan, lambda x, y: 1.0 / (1.0 + x * x), "arctan x; derivative 1/(1 + x²).")
sinh = _unary(np.sinh, lambda x, y: cosh(x), "sinh x; derivative cosh x.")
cosh = _unary(np.cosh, lambda x, y: sinh(x), "cosh x; derivative sinh x.")
tanh = _unary(np.tanh, lambda x, y: 1.0 - y * y, "tanh x; derivative 1 − tanh²x.")
arcsinh = _unary(
    np.arcsinh, lambda x, y: 1.0 / sqrt(x * x + 1.0), "arsinh x; derivative 1/√(x² + 1)."
)
arccosh = _unary(
    np.arccosh,
    lambda x, y: 1.0 / (sqrt(x - 1.0) * sqrt(x + 1.0)),
    "arcosh x; derivative 1/√(x² − 1) (+inf at 1).",
)
arctanh = _unary(
    np.arctanh,
    lambda x, y: 1.0 / ((1.0 - x) * (1.0 + x)),
    "artanh x; derivative 1/(1 − x²).",
)
deg2rad = _unary(np.deg2rad, lambda x, y: _PI / 180.0, "x·π/180; derivative π/180.")
radians = _unary(np.radians, lambda x, y: _PI / 180.0, "x·π/180; derivative π/180.")
rad2deg = _unary(np.rad2deg, lambda x, y: 180.0 / _PI, "x·180/π; derivative 180/π.")
degrees = _unary(np.degrees, lambda x, y: 180.0 / _PI, "x·180/π; derivative 180/π.")


def _safe_origin(r):
    """``r`` with its zeros replaced by 1 (for derivatives defined as 0 at the origin)."""
    return where(equal(r, 0), 1.0, r)


hypot = _binary(
    np.hypot,
    lambda x, y, z: x / _safe_origin(z),
    lambda x, y, z: y / _safe_origin(z),
    "√(x² + y²); ∂ = (x, y)/√(x² + y²), 0 at the origin.",
)
arctan2 = _binary(
    np.arctan2,
    lambda x, y, z: y / _safe_origin(x * x + y * y),
    lambda x, y, z: negative(x / _safe_origin(x * x + y * y)),
    "The angle of the point (x2, x1) = arctan(x1/x2) in (−π, π]; "
    "∂ = (x2, −x1)/(x1² + x2²), 0 at the origin.",
)

# sinc'(x) = (cos πx − sinc x)/x cancels near 0; there, its Taylor series in u = (πx)²:
# sinc'(x) = π²x·Σ_{k≥1} (−1)^k·2k·u^(k−1)/(2k+1)!, exact to rounding for |x| < 0.1.
_SINC_SMALL = 0.1
_SINC_SERIES = [(-1) ** k * 2 * k / math.factorial(2 * k + 1) for k in range(1, 8)]


def _sinc_deriv(x, y):
    """sinc'(x): (cos πx − sinc x)/x, by its Taylor series near 0 (0 at 0)."""
    small = logical_and(less(x, _SINC_SMALL), greater(x, -_SINC_SMALL))
    safe = where(small, 1.0, x)
    direct = (cos(_PI * safe) - where(small, 1.0, y)) / safe
    u = (_PI * x) * (_PI * x)
    series = _SINC_SERIES[-1]
    for c in reversed(_SINC_SERIES[:-1]):
        series = series * u + c
    return where(small, (_PI * _PI) * x * series, direct)


_sinc_p = defunary(Primitive("sinc", np.sinc), _sinc_deriv)
sinc = _publish(
    _binder(_sinc_p, "sin(πx)/(πx), 1 at 0 (normalized sinc); derivative 0 at 0."),
    "sinc",
    np.sinc,
)


# ---------------------------------------------------------------------------------
# maximum, minimum, fmax, fmin, clip


def _extremum(ufunc: np.ufunc, beats: Callable, nan_to_self: bool, doc: str) -> Callable:
    """``maximum``-like functions: the selected argument gets the derivative, ½ each at
    ties; a NaN argument (``nan_to_self``) or the other argument of a NaN gets it."""

    def masks(i, ans, x, y):
        a, b = (x, y) if i == 0 else (y, x)
        nan = isnan(a) if nan_to_self else isnan(b)
        return logical_or(beats(a, b), nan), equal(a, b)

    prim = _defmasked(Primitive(ufunc.__name__, ufunc), 2, masks)
    return _ufunc(prim, ufunc, doc)


maximum = _extremum(
    np.maximum,
    greater,
    True,
    "Elementwise maximum (NaN propagates); derivative 1 for the larger argument, ½ each "
    "at ties, to the NaN argument where one is NaN.",
)
minimum = _extremum(
    np.minimum,
    less,
    True,
    "Elementwise minimum (NaN propagates); derivative 1 for the smaller argument, ½ each "
    "at ties, to the NaN argument where one is NaN.",
)
fmax = _extremum(
    np.fmax,
    greater,
    False,
    "Elementwise maximum ignoring NaN; derivative 1 for the larger argument, ½ each at "
    "ties, to the non-NaN argument where one is NaN.",
)
fmin = _extremum(
    np.fmin,
    less,
    False,
    "Elementwise minimum ignoring NaN; derivative 1 for the smaller argument, ½ each at "
    "ties, to the non-NaN argument where one is NaN.",
)


def _clip_masks(i, ans, a, lo, hi):
    """Where ``clip(a, lo, hi)`` = min(max(a, lo), hi) follows argument ``i``: ``a`` on
    the closed interval [lo, hi], ``lo`` below it, ``hi`` above it (and everywhere if
    lo > hi, where NumPy returns hi)."""
    below = False if lo is None else less(a, lo)
    above = False if hi is None else greater(a, hi)
    inverted = False if lo is None or hi is None else greater(lo, hi)
    if i == 0:
        return logical_not(logical_or(logical_or(below, above), inverted)), None
    if i == 1:
        return logical_and(below, logical_not(inverted)), None
    return logical_or(above, inverted), None


_clip_p = _defmasked(Primitive("clip", lambda a, lo, hi: np.clip(a, lo, hi)), 3, _clip_masks)
_NO_VALUE = object()


def clip(a, a_min=_NO_VALUE, a_max=_NO_VALUE, out=None, *, min=_NO_VALUE, max=_NO_VALUE):  # noqa: A002
    """``a`` limited to [a_min, a_max] (either may be None; ``min``/``max`` are NumPy 2's
    keyword names). Derivative w.r.t. ``a``: 1 on the closed interval (the gradient
    passes at the bounds), 0 outside; w.r.t. a bound: 1 where it is the result."""
    if out is not None:
        raise TypeError("mlcalc.numpy.clip: out= is not supported on traced values.")
    lo = None if a_min is _NO_VALUE else a_min
    hi = None if a_max is _NO_VALUE else a_max
    if min is not _NO_VALUE:
        lo = min
    if max is not _NO_VALUE:
        hi = max
    return _clip_p.bind(a, lo, hi)


def _clip_ufunc(a, lo, hi):
    """NumPy 2's ``clip`` ufunc (used by ``ndarray.clip``) for traced bounds."""
    return _clip_p.bind(a, lo, hi)


_publish(clip, "clip", np.clip)
_numpy_umath = getattr(getattr(np, "_core", None), "umath", None)
if isinstance(getattr(_numpy_umath, "clip", None), np.ufunc):
    register_ufunc(_numpy_umath.clip, _clip_ufunc)


# ---------------------------------------------------------------------------------
# NumPy 2's short names

acos = _alias("acos", arccos)
asin = _alias("asin", arcsin)
atan = _alias("atan", arctan)
atan2 = _alias("atan2", arctan2)
acosh = _alias("acosh", arccosh)
asinh = _alias("asinh", arcsinh)
atanh = _alias("atanh", arctanh)
