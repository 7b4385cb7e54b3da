"""Reductions and scans: mean, prod, max/min, var/std, average, cumsum/cumprod, diff,
trace, ptp, nansum/nanmean, and the reductions without a derivative (argmax, argmin,
any, all).

Values are NumPy's own (each primitive's implementation calls the NumPy function, and
the compositions repeat NumPy's arithmetic step for step). Every rule is written with
differentiable functions, so derivatives of every order follow.

Conventions at non-differentiable points:

- ``max``/``min`` (and ``ptp``) at ties: the gradient is split equally among the tied
  entries (an all-equal slice of n entries gives 1/n to each). A NaN in a slice makes the
  result NaN, and the gradient goes to the NaN entries.
- ``std`` where the slice is constant (std = 0): every derivative is 0 (the NaN-free
  choice; the one-sided derivatives do not exist there).
- ``prod`` and ``cumprod`` never divide by the input: zeros (one or several) are exact.
- ``nansum``/``nanmean``: NaN entries get a zero gradient.
"""

from __future__ import annotations

import builtins
import math

import numpy as np

from ..autodiff.core import full_lower
from . import _core
from ._base import (
    Primitive,
    dtype_of,
    implements,
    move_bdim_to_front,
    ndim_of,
    normalize_axes,
    normalize_axis,
    register_op,
    shape_of,
)
from ._core import astype, concatenate, getitem, reshape, transpose, where
from ._elementwise import divide, equal, isnan, logical_not, logical_or, multiply, subtract

__all__ = [
    "mean",
    "prod",
    "max",
    "min",
    "amax",
    "amin",
    "var",
    "std",
    "average",
    "cumsum",
    "cumprod",
    "diff",
    "trace",
    "ptp",
    "nansum",
    "nanmean",
    "argmax",
    "argmin",
    "any",
    "all",
]


# ---------------------------------------------------------------------------------
# helpers


def _reject(name: str, **unsupported) -> None:
    """Raise for NumPy arguments that traced values do not support."""
    given = [k for k, v in unsupported.items() if v is not None and v is not np._NoValue]
    if given:
        raise NotImplementedError(
            f"mlcalc.numpy.{name}: the argument(s) {', '.join(given)} are not supported on "
            "traced values."
        )


def _keepdims(keepdims) -> bool:
    return False if keepdims is np._NoValue else bool(keepdims)


def _count(shape: tuple[int, ...], axis: tuple[int, ...]) -> int:
    """Number of entries reduced into each output entry."""
    return math.prod(shape[a] for a in axis)


def _float_dtype(x):
    dt = dtype_of(x)
    return dt if dt.kind == "f" else np.dtype(np.float64)


def _expand(g, shape: tuple[int, ...], axis: tuple[int, ...], keepdims: bool):
    """A reduced value ``g`` broadcast back over the input's ``shape``."""
    if not keepdims:
        g = reshape(g, tuple(1 if i in axis else s for i, s in enumerate(shape)))
    return _core.broadcast_to(g, shape)


def _keep(y, shape: tuple[int, ...], axis: tuple[int, ...], keepdims: bool):
    """A reduced value with its reduced axes kept (length one)."""
    if keepdims:
        return y
    return reshape(y, tuple(1 if i in axis else s for i, s in enumerate(shape)))


def _along(axis: int, index) -> tuple:
    """An index applying ``index`` to one axis."""
    return (slice(None),) * axis + (index,)


def _flip(x, axis: int):
    return getitem(x, _along(axis, slice(None, None, -1)))


def _shift(x, s: int, axis: int, fill: float):
    """``x`` moved ``s`` places forward along ``axis`` (``s`` < 0: backward), the vacated
    places holding ``fill``."""
    shape = list(shape_of(x))
    n = shape[axis]
    shape[axis] = builtins.min(abs(s), n)
    pad = np.full(shape, fill, dtype=_float_dtype(x))
    if s > 0:
        return concatenate([pad, getitem(x, _along(axis, slice(0, n - s)))], axis=axis)
    return concatenate([getitem(x, _along(axis, slice(-s, n))), pad], axis=axis)


def _batch_reduction(prim: Primitive):
    """Batching rule of a reduction over the axes in its ``axis`` parameter."""

    def rule(args, dims, axis, **params):
        x = move_bdim_to_front(args[0], dims[0])
        return prim.bind(x, axis=tuple(a + 1 for a in axis), **params), 0

    return rule


def _batch_scan(prim: Primitive):
    """Batching rule of a scan along the single axis in its ``axis`` parameter."""

    def rule(args, dims, axis, **params):
        x = move_bdim_to_front(args[0], dims[0])
        return prim.bind(x, axis=axis + 1, **params), 0

    return rule


def _reduction_axes(a, axis) -> tuple[int, ...]:
    return normalize_axes(axis, ndim_of(a))


# ---------------------------------------------------------------------------------
# mean


mean_p = Primitive("mean", lambda x, axis, keepdims: np.mean(x, axis=axis, keepdims=keepdims))
mean_p.defjvp(lambda t, ans, x, axis, keepdims: mean_p.bind(t, axis=axis, keepdims=keepdims))
mean_p.defvjp(
    lambda g, ans, x, axis, keepdims: divide(
        _expand(g, shape_of(x), axis, keepdims), _count(shape_of(x), axis)
    )
)
mean_p.defbatch(_batch_reduction(mean_p))


@implements(np.mean)
def mean(a, axis=None, dtype=None, out=None, keepdims=np._NoValue, *, where=np._NoValue):
    """Arithmetic mean over ``axis``: sum(x) / n, as ``numpy.mean``. Derivative 1/n."""
    _reject("mean", out=out, where=where)
    if dtype is not None:
        a = astype(a, dtype)
    return mean_p.bind(a, axis=_reduction_axes(a, axis), keepdims=_keepdims(keepdims))


# ---------------------------------------------------------------------------------
# var / std


def _dof_scale(shape, axis, ddof) -> float:
    """2 / max(n - ddof, 0) (inf when no degree of freedom is left, as NumPy's var)."""
    dof = builtins.max(_count(shape, axis) - ddof, 0)
    return 2.0 / dof if dof > 0 else math.inf


def _centered(x, axis):
    return subtract(x, mean_p.bind(x, axis=axis, keepdims=True))


def _var_tangent(t, x, axis, ddof, keepdims):
    """d var = 2/(n - ddof) · Σ (x - mean) t."""
    s = _core.sum(multiply(_centered(x, axis), t), axis=axis, keepdims=keepdims)
    return multiply(s, _dof_scale(shape_of(x), axis, ddof))


def _var_cotangent(g, x, axis, ddof, keepdims):
    """Gradient of var: 2/(n - ddof) · (x - mean) · g."""
    shape = shape_of(x)
    g = multiply(_expand(g, shape, axis, keepdims), _dof_scale(shape, axis, ddof))
    return multiply(g, _centered(x, axis))


var_p = Primitive(
    "var",
    lambda x, axis, ddof, keepdims: np.var(x, axis=axis, ddof=ddof, keepdims=keepdims),
)
var_p.defjvp(lambda t, ans, x, **p: _var_tangent(t, x, **p))
var_p.defvjp(lambda g, ans, x, **p: _var_cotangent(g, x, **p))
var_p.defbatch(_batch_reduction(var_p))


def _half_inverse(s):
    """1 / (2 s), and 0 where s == 0 (the std convention at a constant slice)."""
    zero = equal(s, 0.0)
    return where(zero, 0.0, divide(0.5, where(zero, 1.0, s)))


std_p = Primitive(
    "std",
    lambda x, axis, ddof, keepdims: np.std(x, axis=axis, ddof=ddof, keepdims=keepdims),
)
std_p.defjvp(lambda t, ans, x, **p: multiply(_var_tangent(t, x, **p), _half_inverse(ans)))
std_p.defvjp(lambda g, ans, x, **p: _var_cotangent(multiply(g, _half_inverse(ans)), x, **p))
std_p.defbatch(_batch_reduction(std_p))


def _var_params(name, a, axis, dtype, out, ddof, keepdims, where, mean, correction):
    _reject(name, out=out, where=where, mean=mean)
    if correction is not np._NoValue:
        if ddof != 0:
            raise ValueError("ddof and correction can't be provided simultaneously.")
        ddof = correction
    if dtype is not None:
        a = astype(a, dtype)
    params = {"axis": _reduction_axes(a, axis), "ddof": ddof, "keepdims": _keepdims(keepdims)}
    return a, params


@implements(np.var)
def var(
    a, axis=None, dtype=None, out=None, ddof=0, keepdims=np._NoValue, *,
    where=np._NoValue, mean=np._NoValue, correction=np._NoValue,
):
    """Variance Σ (x - mean)² / (n - ddof) over ``axis``, as ``numpy.var``.
    Gradient 2 (x - mean) / (n - ddof)."""
    a, params = _var_params("var", a, axis, dtype, out, ddof, keepdims, where, mean, correction)
    return var_p.bind(a, **params)


@implements(np.std)
def std(
    a, axis=None, dtype=None, out=None, ddof=0, keepdims=np._NoValue, *,
    where=np._NoValue, mean=np._NoValue, correction=np._NoValue,
):
    """Standard deviation sqrt(var) over ``axis``, as ``numpy.std``. Gradient
    (x - mean) / ((n - ddof) std); where std = 0 (a constant slice) every derivative
    is 0 instead of NaN/inf."""
    a, params = _var_params("std", a, axis, dtype, out, ddof, keepdims, where, mean, correction)
    return std_p.bind(a, **params)


# ---------------------------------------------------------------------------------
# scans: cumsum, cumprod


cumsum_p = Primitive("cumsum", lambda x, axis: np.cumsum(x, axis=axis))
cumsum_p.defjvp(lambda t, ans, x, axis: cumsum_p.bind(t, axis=axis))
cumsum_p.defvjp(
    lambda g, ans, x, axis: _flip(cumsum_p.bind(_flip(g, axis), axis=axis), axis)
)
cumsum_p.defbatch(_batch_scan(cumsum_p))


def _linear_recurrence(a, b, axis: int):
    """h with h_k = a_k h_{k-1} + b_k along ``axis`` (h_{-1} = 0), by a parallel prefix
    scan over the affine maps h ↦ a h + b: log2(n) steps, no division."""
    n = shape_of(b)[axis]
    s = 1
    while s < n:
        b = multiply(a, _shift(b, s, axis, 0.0)) + b
        if 2 * s < n:
            a = multiply(a, _shift(a, s, axis, 1.0))
        s *= 2
    return b


def _cumprod_tangent(t, ans, x, axis):
    """d y_k = x_k d y_{k-1} + y_{k-1} t_k, with y = cumprod(x)."""
    return _linear_recurrence(x, multiply(_shift(ans, 1, axis, 1.0), t), axis)


def _cumprod_cotangent(g, ans, x, axis):
    """x̄_i = y_{i-1} h_i with h_i = g_i + x_{i+1} h_{i+1} (a reversed recurrence)."""
    a = _flip(_shift(x, -1, axis, 1.0), axis)
    h = _flip(_linear_recurrence(a, _flip(g, axis), axis), axis)
    return multiply(_shift(ans, 1, axis, 1.0), h)


cumprod_p = Primitive("cumprod", lambda x, axis: np.cumprod(x, axis=axis))
cumprod_p.defjvp(_cumprod_tangent)
cumprod_p.defvjp(_cumprod_cotangent)
cumprod_p.defbatch(_batch_scan(cumprod_p))


def _scan_args(a, axis, dtype, out, name):
    _reject(name, out=out)
    if dtype is not None:
        a = astype(a, dtype)
    if axis is None:
        return _core.ravel(a), 0
    return a, normalize_axis(axis, ndim_of(a))


@implements(np.cumsum)
def cumsum(a, axis=None, dtype=None, out=None):
    """Cumulative sum along ``axis`` (flattened when None). Its transpose is the
    reversed cumulative sum."""
    a, axis = _scan_args(a, axis, dtype, out, "cumsum")
    return cumsum_p.bind(a, axis=axis)


@implements(np.cumprod)
def cumprod(a, axis=None, dtype=None, out=None):
    """Cumulative product y_k = x_0 ⋯ x_k along ``axis`` (flattened when None).
    ∂y_k/∂x_i = Π_{j≤k, j≠i} x_j for i ≤ k, computed without dividing by x (exact
    with zeros)."""
    a, axis = _scan_args(a, axis, dtype, out, "cumprod")
    return cumprod_p.bind(a, axis=axis)


# ---------------------------------------------------------------------------------
# prod


def _exclusive_cumprod(z, axis: int):
    """Products of the entries strictly before each one along ``axis``."""
    return _shift(cumprod_p.bind(z, axis=axis), 1, axis, 1.0)


def _others_product(x, axis: tuple[int, ...]):
    """For each entry, the product of the other entries of its slice: the left and
    right exclusive cumulative products multiplied (no division)."""
    shape = shape_of(x)
    kept = tuple(i for i in range(len(shape)) if i not in axis)
    perm = kept + axis
    z = transpose(x, perm)
    tshape = shape_of(z)
    z = reshape(z, tshape[: len(kept)] + (_count(shape, axis),))
    left = _exclusive_cumprod(z, len(kept))
    right = _flip(_exclusive_cumprod(_flip(z, len(kept)), len(kept)), len(kept))
    both = reshape(multiply(left, right), tshape)
    return transpose(both, tuple(int(i) for i in np.argsort(perm)))


prod_p = Primitive("prod", lambda x, axis, keepdims: np.prod(x, axis=axis, keepdims=keepdims))
prod_p.defjvp(
    lambda t, ans, x, axis, keepdims: _core.sum(
        multiply(t, _others_product(x, axis)), axis=axis, keepdims=keepdims
    )
)
prod_p.defvjp(
    lambda g, ans, x, axis, keepdims: multiply(
        _expand(g, shape_of(x), axis, keepdims), _others_product(x, axis)
    )
)
prod_p.defbatch(_batch_reduction(prod_p))


@implements(np.prod)
def prod(
    a, axis=None, dtype=None, out=None, keepdims=np._NoValue, initial=np._NoValue,
    where=np._NoValue,
):
    """Product over ``axis``. ∂/∂x_i Π_j x_j = Π_{j≠i} x_j, computed without dividing
    by x (exact when the slice holds one or several zeros)."""
    _reject("prod", out=out, initial=initial, where=where)
    if dtype is not None:
        a = astype(a, dtype)
    return prod_p.bind(a, axis=_reduction_axes(a, axis), keepdims=_keepdims(keepdims))


# ---------------------------------------------------------------------------------
# max / min


def _tie_weights(x, ans, axis, keepdims):
    """1/m on the m entries of each slice that attain the extremum (or are NaN when the
    extremum is NaN), 0 elsewhere."""
    hit = logical_or(equal(x, _keep(ans, shape_of(x), axis, keepdims)), isnan(x))
    hit = astype(hit, _float_dtype(x))
    return divide(hit, _core.sum(hit, axis=axis, keepdims=True))


def _extremum_primitive(name: str, fn) -> Primitive:
    prim = Primitive(name, lambda x, axis, keepdims: fn(x, axis=axis, keepdims=keepdims))
    prim.defjvp(
        lambda t, ans, x, axis, keepdims: _core.sum(
            multiply(t, _tie_weights(x, ans, axis, keepdims)), axis=axis, keepdims=keepdims
        )
    )
    prim.defvjp(
        lambda g, ans, x, axis, keepdims: multiply(
            _expand(g, shape_of(x), axis, keepdims), _tie_weights(x, ans, axis, keepdims)
        )
    )
    prim.defbatch(_batch_reduction(prim))
    return prim


max_p = _extremum_primitive("max", np.max)
min_p = _extremum_primitive("min", np.min)


@implements(np.max, np.amax)
def max(a, axis=None, out=None, keepdims=np._NoValue, initial=np._NoValue, where=np._NoValue):  # noqa: A001
    """Maximum over ``axis``. At ties the gradient is split equally among the entries
    attaining the maximum."""
    _reject("max", out=out, initial=initial, where=where)
    return max_p.bind(a, axis=_reduction_axes(a, axis), keepdims=_keepdims(keepdims))


@implements(np.min, np.amin)
def min(a, axis=None, out=None, keepdims=np._NoValue, initial=np._NoValue, where=np._NoValue):  # noqa: A001
    """Minimum over ``axis``. At ties the gradient is split equally among the entries
    attaining the minimum."""
    _reject("min", out=out, initial=initial, where=where)
    return min_p.bind(a, axis=_reduction_axes(a, axis), keepdims=_keepdims(keepdims))


amax = max
amin = min


@implements(np.ptp)
def ptp(a, axis=None, out=None, keepdims=np._NoValue):
    """Range max - min over ``axis`` (ties split equally, as in max and min)."""
    _reject("ptp", out=out)
    return subtract(max(a, axis, keepdims=keepdims), min(a, axis, keepdims=keepdims))


# ---------------------------------------------------------------------------------
# average, nansum, nanmean


def _broadcast_weights(w, a, axis):
    """NumPy's weight layout: weights along ``axis`` only are reshaped to broadcast."""
    ashape, wshape = shape_of(a), shape_of(w)
    if wshape == ashape:
        return w
    if axis is None:
        raise TypeError("Axis must be specified when shapes of a and weights differ.")
    if wshape != tuple(ashape[ax] for ax in axis):
        raise ValueError(
            "Shape of weights must be consistent with shape of a along specified axis."
        )
    w = transpose(w, tuple(int(i) for i in np.argsort(axis)))
    return reshape(w, tuple(s if i in axis else 1 for i, s in enumerate(ashape)))


@implements(np.average)
def average(a, axis=None, weights=None, returned=False, *, keepdims=np._NoValue):
    """Weighted mean Σ w x / Σ w over ``axis`` (the plain mean without weights), as
    ``numpy.average``; differentiable in ``a`` and in ``weights``. With
    ``returned=True`` also returns Σ w (or the count), broadcast to the result."""
    if axis is not None:
        n = ndim_of(a)
        axis = tuple(normalize_axis(ax, n) for ax in np.atleast_1d(axis))
    keepdims = _keepdims(keepdims)
    if weights is None:
        avg = mean(a, axis, keepdims=keepdims)
        scl = dtype_of(avg).type(math.prod(shape_of(a)) / math.prod(shape_of(avg)))
    else:
        w = _broadcast_weights(weights, a, axis)
        rtype = np.result_type(dtype_of(a), dtype_of(w))
        if rtype.kind != "f":
            rtype = np.result_type(rtype, np.float64)
        a, w = astype(a, rtype), astype(w, rtype)
        scl = _core.sum(w, axis=axis, keepdims=keepdims)
        if np.any(full_lower(scl) == 0.0):
            raise ZeroDivisionError("Weights sum to zero, can't be normalized")
        avg = divide(_core.sum(multiply(a, w), axis=axis, keepdims=keepdims), scl)
    if not returned:
        return avg
    if shape_of(scl) != shape_of(avg):
        scl = _core.broadcast_to(scl, shape_of(avg))
    return avg, scl


def _nan_to_zero(a):
    return where(isnan(a), 0.0, a) if dtype_of(a).kind == "f" else a


@implements(np.nansum)
def nansum(a, axis=None, dtype=None, out=None, keepdims=np._NoValue, initial=np._NoValue,
           where=np._NoValue):
    """Sum treating NaN as zero; NaN entries get a zero gradient."""
    _reject("nansum", out=out, initial=initial, where=where)
    return _core.sum(_nan_to_zero(a), axis=axis, dtype=dtype, keepdims=_keepdims(keepdims))


@implements(np.nanmean)
def nanmean(a, axis=None, dtype=None, out=None, keepdims=np._NoValue, *, where=np._NoValue):
    """Mean of the non-NaN entries, Σ x / count; NaN entries get a zero gradient."""
    _reject("nanmean", out=out, where=where)
    if dtype_of(a).kind != "f":
        return mean(a, axis, dtype=dtype, keepdims=keepdims)
    keepdims = _keepdims(keepdims)
    total = _core.sum(_nan_to_zero(a), axis=axis, dtype=dtype, keepdims=keepdims)
    count = _core.sum(logical_not(isnan(a)), axis=axis, keepdims=keepdims)
    return astype(divide(total, count), dtype_of(total))


# ---------------------------------------------------------------------------------
# diff, trace


@implements(np.diff)
def diff(a, n=1, axis=-1, prepend=np._NoValue, append=np._NoValue):
    """n-th forward difference a[1:] - a[:-1] along ``axis`` (after concatenating
    ``prepend``/``append``), as ``numpy.diff``."""
    if n < 0:
        raise ValueError(f"order must be non-negative but got {n!r}")
    if n == 0:
        return a
    nd = ndim_of(a)
    if nd == 0:
        raise ValueError("diff requires input that is at least one dimensional")
    axis = normalize_axis(axis, nd)
    parts = []
    for extra in (prepend, a, append):
        if extra is np._NoValue:
            continue
        if ndim_of(extra) == 0:
            shape = list(shape_of(a))
            shape[axis] = 1
            extra = _core.broadcast_to(extra, tuple(shape))
        parts.append(extra)
    if len(parts) > 1:
        a = concatenate(parts, axis=axis)
    for _ in range(n):
        a = subtract(getitem(a, _along(axis, slice(1, None))),
                     getitem(a, _along(axis, slice(None, -1))))
    return a


def _diagonal_mask(shape, offset, axis1, axis2, dtype):
    """Ones on the ``offset`` diagonal of axes (axis1, axis2), broadcastable to
    ``shape``."""
    eye = np.eye(shape[axis1], shape[axis2], k=offset, dtype=dtype)
    if axis1 > axis2:
        eye = eye.T
    mshape = tuple(s if i in (axis1, axis2) else 1 for i, s in enumerate(shape))
    return eye.reshape(mshape)


def _trace_cotangent(g, ans, x, offset, axis1, axis2):
    shape = shape_of(x)
    g = reshape(g, tuple(1 if i in (axis1, axis2) else s for i, s in enumerate(shape)))
    return _core.broadcast_to(
        multiply(g, _diagonal_mask(shape, offset, axis1, axis2, _float_dtype(g))), shape
    )


def _trace_batch(args, dims, offset, axis1, axis2):
    x = move_bdim_to_front(args[0], dims[0])
    return trace_p.bind(x, offset=offset, axis1=axis1 + 1, axis2=axis2 + 1), 0


trace_p = Primitive(
    "trace",
    lambda x, offset, axis1, axis2: np.trace(x, offset=offset, axis1=axis1, axis2=axis2),
)
trace_p.defjvp(lambda t, ans, x, **p: trace_p.bind(t, **p))
trace_p.defvjp(_trace_cotangent)
trace_p.defbatch(_trace_batch)


@implements(np.trace)
def trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    """Sum of the ``offset`` diagonal of axes (axis1, axis2), as ``numpy.trace``."""
    _reject("trace", out=out)
    if dtype is not None:
        a = astype(a, dtype)
    nd = ndim_of(a)
    axis1, axis2 = normalize_axis(axis1, nd), normalize_axis(axis2, nd)
    if axis1 == axis2:
        raise ValueError("axis1 and axis2 cannot be the same")
    return trace_p.bind(a, offset=int(offset), axis1=axis1, axis2=axis2)


# ---------------------------------------------------------------------------------
# reductions without a derivative


def _arg_primitive(name: str, fn) -> Primitive:
    prim = Primitive(name, lambda x, axis, keepdims: fn(x, axis=axis, keepdims=keepdims),
                     nondiff=True)

    def rule(args, dims, axis, keepdims):
        x = move_bdim_to_front(args[0], dims[0])
        if axis is not None:
            return prim.bind(x, axis=axis + 1, keepdims=keepdims), 0
        shape = shape_of(x)
        out = prim.bind(reshape(x, (shape[0], -1)), axis=1, keepdims=False)
        if keepdims:
            out = reshape(out, (shape[0],) + (1,) * (len(shape) - 1))
        return out, 0

    prim.defbatch(rule)
    return prim


argmax_p = _arg_primitive("argmax", np.argmax)
argmin_p = _arg_primitive("argmin", np.argmin)


def _arg_params(a, axis, out, keepdims, name):
    _reject(name, out=out)
    axis = None if axis is None else normalize_axis(axis, ndim_of(a))
    return {"axis": axis, "keepdims": _keepdims(keepdims)}


@implements(np.argmax)
def argmax(a, axis=None, out=None, *, keepdims=np._NoValue):
    """Index of the (first) maximum along ``axis``; an integer, no derivative."""
    return argmax_p.bind(a, **_arg_params(a, axis, out, keepdims, "argmax"))


@implements(np.argmin)
def argmin(a, axis=None, out=None, *, keepdims=np._NoValue):
    """Index of the (first) minimum along ``axis``; an integer, no derivative."""
    return argmin_p.bind(a, **_arg_params(a, axis, out, keepdims, "argmin"))


def _logical_primitive(name: str, fn) -> Primitive:
    prim = Primitive(name, lambda x, axis, keepdims: fn(x, axis=axis, keepdims=keepdims),
                     nondiff=True)
    prim.defbatch(_batch_reduction(prim))
    return prim


any_p = _logical_primitive("any", np.any)
all_p = _logical_primitive("all", np.all)


@implements(np.any)
def any(a, axis=None, out=None, keepdims=np._NoValue, *, where=np._NoValue):  # noqa: A001
    """Whether any entry along ``axis`` is true; a boolean, no derivative."""
    _reject("any", out=out, where=where)
    return any_p.bind(a, axis=_reduction_axes(a, axis), keepdims=_keepdims(keepdims))


@implements(np.all)
def all(a, axis=None, out=None, keepdims=np._NoValue, *, where=np._NoValue):  # noqa: A001
    """Whether every entry along ``axis`` is true; a boolean, no derivative."""
    _reject("all", out=out, where=where)
    return all_p.bind(a, axis=_reduction_axes(a, axis), keepdims=_keepdims(keepdims))


for _name, _fn in [
    ("mean", mean), ("prod", prod), ("max", max), ("min", min), ("var", var),
    ("std", std), ("cumsum", cumsum), ("cumprod", cumprod), ("argmax", argmax),
    ("argmin", argmin), ("any", any), ("all", all), ("trace", trace), ("ptp", ptp),
]:
    register_op(_name, _fn)
