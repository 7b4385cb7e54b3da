"""Shared machinery of the differentiable NumPy namespace: registration of rules with
NumPy's protocols, rule-writing helpers, and the generic batching rules.

Conventions for rule writers
----------------------------
- A rule is written with the functions of :mod:`mlcalc.numpy` (never raw ``np.*`` on
  arguments that may be traced), so its own derivative is traced: every order works.
- A VJP rule returns a cotangent with exactly the shape of its argument (use
  :func:`unbroadcast`); a JVP rule returns a tangent with exactly the output's shape.
- ``None`` is a symbolic zero.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

import numpy as np

from ..autodiff.core import (
    FUNCTION_TABLE,
    OP_PRIMITIVES,
    OPS,
    UFUNC_PRIMITIVES,
    UFUNC_TABLE,
    NotDifferentiableError,
    Primitive,
    Tracer,
    TracerConversionError,
)

__all__ = [
    "Primitive",
    "Tracer",
    "implements",
    "register_ufunc",
    "shape_of",
    "ndim_of",
    "dtype_of",
    "unbroadcast",
    "fit_to",
    "zeros_like_shape",
    "broadcast_tangent",
    "nondiff_elementwise",
    "register_op",
    "batch_elementwise",
    "move_bdim_to_front",
    "normalize_axis",
    "normalize_axes",
    "defunary",
    "defbinary",
    "NotDifferentiableError",
]


def implements(*numpy_functions):
    """Register a function as the implementation of NumPy functions for traced
    arguments (``__array_function__``)."""

    def deco(fn):
        for f in numpy_functions:
            FUNCTION_TABLE[f] = fn
        return fn

    return deco


def _fastest(fn: Callable) -> Callable:
    """A primitive's bound ``bind`` (calling the bound method skips a type-slot lookup)."""
    return fn.bind if isinstance(fn, Primitive) else fn


def register_ufunc(ufunc, fn: Callable) -> None:
    """Register ``fn`` as the implementation of ``ufunc`` for traced arguments."""
    UFUNC_TABLE[ufunc] = _fastest(fn)
    if isinstance(fn, Primitive):
        UFUNC_PRIMITIVES[ufunc] = fn
    else:
        UFUNC_PRIMITIVES.pop(ufunc, None)


def register_op(name: str, fn: Callable) -> None:
    """Make ``fn`` what tracer operators and methods named ``name`` call."""
    OPS[name] = _fastest(fn)
    if isinstance(fn, Primitive):
        OP_PRIMITIVES[name] = fn
    else:
        OP_PRIMITIVES.pop(name, None)


# ---------------------------------------------------------------------------------
# shapes


def shape_of(x) -> tuple[int, ...]:
    if type(x) is np.ndarray or isinstance(x, Tracer):
        return x.shape
    if isinstance(x, numbers.Number):
        return ()
    return np.shape(x)


def ndim_of(x) -> int:
    return len(shape_of(x))


def dtype_of(x):
    if isinstance(x, (Tracer, np.ndarray, np.generic)):
        return x.dtype
    return np.result_type(x)


def normalize_axis(axis: int, ndim: int) -> int:
    if not -ndim <= axis < max(ndim, 1):
        raise np.exceptions.AxisError(axis, ndim)
    return axis % ndim if ndim else 0


def normalize_axes(axis, ndim: int) -> tuple[int, ...]:
    """``None`` -> all axes; an int or tuple -> a sorted tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (int, np.integer)):
        axis = (int(axis),)
    out = tuple(sorted(normalize_axis(int(a), ndim) for a in axis))
    if len(set(out)) != len(out):
        raise ValueError(f"repeated axis in {axis}")
    return out


def unbroadcast(g, shape: tuple[int, ...]):
    """Sum ``g`` over the axes that broadcasting added or stretched, so that it has
    ``shape`` (the VJP of broadcasting)."""
    gshape = g.shape if type(g) is np.ndarray else shape_of(g)
    if gshape == shape:
        return g
    from . import _core

    lead = len(gshape) - len(shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, s in enumerate(shape) if s == 1 and gshape[i + lead] != 1
    )
    if axes:
        g = _core.sum(g, axis=axes, keepdims=False)
    if shape_of(g) != shape:
        g = _core.reshape(g, shape)
    return g


def fit_to(c, like):
    """``c`` summed to the shape of ``like`` (``unbroadcast``), with the common case of
    equal shapes decided without a further call."""
    cs = c.shape if type(c) is np.ndarray else shape_of(c)
    ls = like.shape if type(like) is np.ndarray else shape_of(like)
    return c if cs == ls else unbroadcast(c, ls)


def zeros_like_shape(shape, like):
    """A plain zero array of ``shape`` with the floating dtype of ``like``."""
    dt = dtype_of(like)
    return np.zeros(shape, dtype=dt if dt.kind == "f" else np.float64)


def broadcast_tangent(t, shape):
    """A tangent of an input, broadcast to the output's shape."""
    if shape_of(t) == shape:
        return t
    from . import _core

    return _core.broadcast_to(t, shape)


# ---------------------------------------------------------------------------------
# batching helpers


def move_bdim_to_front(x, d):
    if d is None or d == 0:
        return x
    from . import _core

    return _core.moveaxis(x, d, 0)


def batch_elementwise(prim: Primitive):
    """Batching rule for an elementwise (broadcasting) primitive: batched arguments get
    their batch axis in front and padded ranks, unbatched ones broadcast."""

    def rule(args, dims, **params):
        from . import _core

        ranks = [ndim_of(a) - (d is not None) for a, d in zip(args, dims)]
        r = max(ranks)
        new = []
        for a, d, rk in zip(args, dims, ranks):
            if d is None:
                new.append(a)
                continue
            a = move_bdim_to_front(a, d)
            if rk < r:
                s = shape_of(a)
                a = _core.reshape(a, (s[0],) + (1,) * (r - rk) + s[1:])
            new.append(a)
        return prim.bind(*new, **params), 0

    return rule


# ---------------------------------------------------------------------------------
# elementwise rule helpers


def defunary(prim: Primitive, deriv: Callable[[Any, Any], Any]) -> Primitive:
    """Rules of an elementwise function y = f(x) from its derivative
    ``deriv(x, y) = f'(x)``: JVP t·f'(x), VJP g·f'(x)."""
    prim.defjvp(lambda t, ans, x, **p: t * deriv(x, ans))
    prim.defvjp(lambda g, ans, x, **p: g * deriv(x, ans))
    prim.defbatch(batch_elementwise(prim))
    return prim


def defbinary(prim: Primitive, d0: Callable | None, d1: Callable | None) -> Primitive:
    """Rules of a broadcasting binary function z = f(x, y) from its partial derivatives
    ``d0(x, y, z) = ∂f/∂x`` and ``d1(x, y, z) = ∂f/∂y`` (``None``: not differentiable
    in that argument)."""

    def jvp_rule(d):
        if d is None:
            return None
        return lambda t, ans, x, y, **p: broadcast_tangent(t * d(x, y, ans), shape_of(ans))

    def vjp_rule(d, which):
        if d is None:
            return None
        if which == 0:
            return lambda g, ans, x, y, **p: fit_to(g * d(x, y, ans), x)
        return lambda g, ans, x, y, **p: fit_to(g * d(x, y, ans), y)

    prim.defjvp(jvp_rule(d0), jvp_rule(d1))
    prim.defvjp(vjp_rule(d0, 0), vjp_rule(d1, 1))
    prim.defbatch(batch_elementwise(prim))
    return prim


def nondiff_elementwise(name: str, fn: Callable) -> Primitive:
    """A primitive whose output carries no derivative (comparisons, floor, isnan...)."""
    prim = Primitive(name, fn, nondiff=True)
    prim.defbatch(batch_elementwise(prim))
    return prim


# ---------------------------------------------------------------------------------
# NumPy protocol dispatch


_REDUCE_NAMES = {
    np.add: "sum",
    np.multiply: "prod",
    np.maximum: "max",
    np.minimum: "min",
    np.fmax: "max",
    np.fmin: "min",
    np.logical_and: "all",
    np.logical_or: "any",
}
_ACCUMULATE_NAMES = {np.add: "cumsum", np.multiply: "cumprod"}


def array_ufunc(ufunc, method, inputs, kwargs):
    """``__array_ufunc__`` of traced arrays."""
    out = kwargs.pop("out", None)
    if out is not None:
        raise TracerConversionError(
            f"numpy.{ufunc.__name__} with out=... (or an in-place operator on a plain "
            "ndarray, such as `a += x`) would write a traced value into a plain array and "
            "lose its derivative. Write `a = a + x` instead, or make `a` traced "
            "(e.g. a = np.zeros_like(x) of a traced x)."
        )
    if kwargs.pop("where", True) is not True:
        raise NotDifferentiableError(
            f"numpy.{ufunc.__name__} with where=... is not supported on traced values; "
            "use np.where(cond, f(x), other) instead."
        )
    dtype = kwargs.pop("dtype", None)
    kwargs.pop("casting", None)
    kwargs.pop("order", None)
    kwargs.pop("subok", None)
    if method == "__call__":
        impl = UFUNC_TABLE.get(ufunc)
        if impl is None:
            raise NotDifferentiableError(
                f"numpy.{ufunc.__name__} has no differentiation rule in mlcalc (it was "
                "called on a traced value)."
            )
        result = impl(*inputs, **kwargs)
    elif method == "reduce" and ufunc in _REDUCE_NAMES:
        axis = kwargs.pop("axis", 0)
        result = OPS[_REDUCE_NAMES[ufunc]](inputs[0], axis=axis, **kwargs)
    elif method == "accumulate" and ufunc in _ACCUMULATE_NAMES:
        axis = kwargs.pop("axis", 0)
        result = OPS[_ACCUMULATE_NAMES[ufunc]](inputs[0], axis=axis)
    elif method == "outer":
        a, b = inputs
        from . import _core

        a = _core.reshape(a, shape_of(a) + (1,) * ndim_of(b))
        impl = UFUNC_TABLE.get(ufunc)
        if impl is None:
            raise NotDifferentiableError(f"numpy.{ufunc.__name__}.outer has no rule in mlcalc.")
        result = impl(a, b)
    elif method == "at":
        raise TracerConversionError(
            f"numpy.{ufunc.__name__}.at updates an array in place; on traced values "
            "write it functionally, e.g. y = x.copy(); y[idx] += v (mlcalc differentiates "
            "item assignment, and repeated indices accumulate with mlcalc.numpy.add_at)."
        )
    else:
        raise NotDifferentiableError(
            f"numpy.{ufunc.__name__}.{method} has no differentiation rule in mlcalc."
        )
    if dtype is not None:
        result = OPS["astype"](result, dtype)
    return result


def array_function_fallback(func, args, kwargs):
    """``__array_function__`` for NumPy functions with no registered rule."""
    module = getattr(func, "__module__", "numpy") or "numpy"
    name = f"{module}.{getattr(func, '__name__', repr(func))}"
    raise NotDifferentiableError(
        f"{name} has no differentiation rule in mlcalc (it was called on a traced value). "
        "Write the computation with supported NumPy functions, wrap it with "
        "mlcalc.custom_jvp / mlcalc.custom_vjp to give it a rule, or apply "
        "mlcalc.stop_gradient to its input if no derivative is needed."
    )


OPS["__array_ufunc__"] = array_ufunc
OPS["__array_function__"] = array_function_fallback
