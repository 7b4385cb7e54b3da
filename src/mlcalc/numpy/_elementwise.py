"""Elementwise functions (NumPy ufuncs and friends) with their derivatives.

Each differentiable function is a primitive whose rules come from its derivative
(:func:`defunary`, :func:`defbinary`); functions whose output carries no derivative
(comparisons, rounding, predicates) are non-differentiable primitives.

Conventions at non-differentiable points (documented in docs/conventions.md):
``abs``/``fabs`` at 0 and ``sign``: derivative 0; ``maximum``/``minimum``/``fmax``/
``fmin`` at ties: the gradient is split equally (½ each); ``sqrt`` at 0: +inf.
"""

from __future__ import annotations

import numpy as np

from ._base import (
    Primitive,
    defbinary,
    defunary,
    nondiff_elementwise,
    register_op,
    register_ufunc,
)

__all__ = [
    "add",
    "subtract",
    "multiply",
    "divide",
    "true_divide",
    "negative",
    "power",
    "exp",
    "log",
    "sin",
    "cos",
    "tanh",
]


def _ufunc_primitive(ufunc, name=None):
    return Primitive(name or ufunc.__name__, ufunc)


def _export(ufunc, prim, name=None):
    """Register ``prim`` for ``ufunc`` and return the public function."""
    fn = prim.bind
    register_ufunc(ufunc, fn)
    register_op(name or ufunc.__name__, fn)
    return fn


# -- arithmetic --------------------------------------------------------------------
add_p = defbinary(_ufunc_primitive(np.add), lambda x, y, z: 1.0, lambda x, y, z: 1.0)
subtract_p = defbinary(
    _ufunc_primitive(np.subtract), lambda x, y, z: 1.0, lambda x, y, z: -1.0
)
multiply_p = defbinary(
    _ufunc_primitive(np.multiply), lambda x, y, z: y, lambda x, y, z: x
)
divide_p = defbinary(
    _ufunc_primitive(np.divide, "divide"),
    lambda x, y, z: 1.0 / y,
    lambda x, y, z: -z / y,
)
negative_p = defunary(_ufunc_primitive(np.negative), lambda x, y: -1.0)

# Sharper rules where the generic product form would do needless work.
add_p.defjvp(*[
    (lambda t, ans, x, y: _bt(t, ans)),
    (lambda t, ans, x, y: _bt(t, ans)),
])
subtract_p.defjvp(
    lambda t, ans, x, y: _bt(t, ans),
    lambda t, ans, x, y: _bt(negative(t), ans),
)
negative_p.defjvp(lambda t, ans, x: negative(t))
negative_p.defvjp(lambda g, ans, x: negative(g))


def _bt(t, ans):
    from ._base import broadcast_tangent, shape_of

    return broadcast_tangent(t, shape_of(ans))


def _add_vjp(g, ans, x, y):
    from ._base import shape_of, unbroadcast

    return unbroadcast(g, shape_of(x))


def _add_vjp1(g, ans, x, y):
    from ._base import shape_of, unbroadcast

    return unbroadcast(g, shape_of(y))


def _sub_vjp1(g, ans, x, y):
    from ._base import shape_of, unbroadcast

    return unbroadcast(negative(g), shape_of(y))


add_p.defvjp(_add_vjp, _add_vjp1)
subtract_p.defvjp(_add_vjp, _sub_vjp1)


def _power_d0(x, y, z):
    return y * power(x, y - 1.0)


def _power_d1(x, y, z):
    # d/dy x**y = x**y log x; defined as 0 where x == 0 (the limit for y > 0).
    from ._core import where

    safe_x = where(x == 0, 1.0, x)
    return where(x == 0, 0.0, z * log(safe_x))


power_p = defbinary(_ufunc_primitive(np.power), _power_d0, _power_d1)

# -- exponentials and trigonometry -------------------------------------------------
exp_p = defunary(_ufunc_primitive(np.exp), lambda x, y: y)
log_p = defunary(_ufunc_primitive(np.log), lambda x, y: 1.0 / x)
sin_p = defunary(_ufunc_primitive(np.sin), lambda x, y: cos(x))
cos_p = defunary(_ufunc_primitive(np.cos), lambda x, y: negative(sin(x)))
tanh_p = defunary(_ufunc_primitive(np.tanh), lambda x, y: 1.0 - y * y)

add = _export(np.add, add_p)
subtract = _export(np.subtract, subtract_p)
multiply = _export(np.multiply, multiply_p)
divide = _export(np.divide, divide_p)
true_divide = divide
negative = _export(np.negative, negative_p)
power = _export(np.power, power_p)
exp = _export(np.exp, exp_p)
log = _export(np.log, log_p)
sin = _export(np.sin, sin_p)
cos = _export(np.cos, cos_p)
tanh = _export(np.tanh, tanh_p)

# -- comparisons (no derivative) ---------------------------------------------------
for _uf in (
    np.less,
    np.less_equal,
    np.greater,
    np.greater_equal,
    np.equal,
    np.not_equal,
    np.logical_and,
    np.logical_or,
    np.logical_xor,
    np.logical_not,
    np.isnan,
    np.isinf,
    np.isfinite,
    np.signbit,
):
    globals()[_uf.__name__] = _export(_uf, nondiff_elementwise(_uf.__name__, _uf))
    __all__.append(_uf.__name__)
