"""Structural primitives the rest of the namespace is built on: sum, reshape,
broadcast_to, transpose, concatenate, indexing (read, functional write, scatter-add),
dtype conversion, where. Each has JVP, VJP and batching rules.
"""

from __future__ import annotations

import builtins
import math

import numpy as np

from ..autodiff.core import Tracer
from ._base import (
    Primitive,
    batch_elementwise,
    broadcast_tangent,
    implements,
    move_bdim_to_front,
    ndim_of,
    normalize_axes,
    normalize_axis,
    register_op,
    shape_of,
    unbroadcast,
    zeros_like_shape,
)

__all__ = [
    "sum",
    "reshape",
    "broadcast_to",
    "transpose",
    "moveaxis",
    "swapaxes",
    "expand_dims",
    "squeeze",
    "ravel",
    "concatenate",
    "stack",
    "getitem",
    "setitem",
    "add_at",
    "astype",
    "copy",
    "where",
]


# ---------------------------------------------------------------------------------
# sum


def _sum_impl(x, axis, keepdims):
    if type(x) is np.ndarray:  # what np.sum calls, without its Python wrapper
        return np.add.reduce(x, axis=axis, keepdims=keepdims)
    return np.sum(x, axis=axis, keepdims=keepdims)


sum_p = Primitive("sum", _sum_impl)


def _sum_vjp(g, ans, x, axis, keepdims):
    shape = shape_of(x)
    if not keepdims and shape_of(g):
        kept = tuple(1 if i in axis else s for i, s in enumerate(shape))
        g = reshape_p.bind(g, shape=kept)
    return broadcast_to(g, shape)


sum_p.defjvp(lambda t, ans, x, axis, keepdims: sum_p.bind(t, axis=axis, keepdims=keepdims))
sum_p.defvjp(_sum_vjp)


def _sum_batch(args, dims, axis, keepdims):
    x = move_bdim_to_front(args[0], dims[0])
    return sum_p.bind(x, axis=tuple(a + 1 for a in axis), keepdims=keepdims), 0


sum_p.defbatch(_sum_batch)


@implements(np.sum)
def sum(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):  # noqa: A001
    """Sum of array elements over the given axes (as ``numpy.sum``)."""
    if out is not None or where is not None:
        raise TypeError("mlcalc.numpy.sum: out= and where= are not supported on traced values.")
    axes = normalize_axes(axis, ndim_of(a))
    result = sum_p.bind(a, axis=axes, keepdims=bool(keepdims))
    if initial is not None:
        result = result + initial
    if dtype is not None:
        result = astype(result, dtype)
    return result


# ---------------------------------------------------------------------------------
# reshape / broadcast_to / transpose


def _resolve_shape(shape, size) -> tuple[int, ...]:
    if isinstance(shape, (int, np.integer)):
        shape = (int(shape),)
    elif type(shape) is not tuple or not builtins.all(type(s) is int for s in shape):
        shape = tuple(int(s) for s in shape)
    if -1 in shape:
        known = math.prod([s for s in shape if s != -1])
        missing = size // known if known else 0
        shape = tuple(missing if s == -1 else s for s in shape)
    if math.prod(shape) != size:
        raise ValueError(f"cannot reshape array of size {size} into shape {shape}")
    return shape


def _reshape_impl(x, shape):
    return x.reshape(shape) if type(x) is np.ndarray else np.reshape(x, shape)


reshape_p = Primitive("reshape", _reshape_impl)
reshape_p.defjvp(lambda t, ans, x, shape: reshape_p.bind(t, shape=shape))
reshape_p.defvjp(lambda g, ans, x, shape: reshape_p.bind(g, shape=shape_of(x)))


def _reshape_batch(args, dims, shape):
    x = move_bdim_to_front(args[0], dims[0])
    return reshape_p.bind(x, shape=(shape_of(x)[0],) + shape), 0


reshape_p.defbatch(_reshape_batch)


@implements(np.reshape)
def reshape(a, shape=None, order="C", *, newshape=None, copy=None):
    """Give an array a new shape (C order)."""
    if shape is None:
        shape = newshape
    if order != "C":
        raise NotImplementedError("mlcalc.numpy.reshape supports order='C' only.")
    current = shape_of(a)
    shape = _resolve_shape(shape, math.prod(current))
    if shape == current:
        return a
    return reshape_p.bind(a, shape=shape)


@implements(np.ravel)
def ravel(a, order="C"):
    """The flattened array (C order)."""
    return reshape(a, (-1,), order=order)


_SMALL = 4096  # below this many elements a broadcast copy is cheaper than a view


def _broadcast_impl(x, shape):
    if math.prod(shape) <= _SMALL:
        # np.broadcast_to costs ~2 µs of Python; a broadcasting copy is C.
        out = np.empty(shape, dtype=np.result_type(x))
        np.copyto(out, x)
        return out
    return np.broadcast_to(x, shape)


broadcast_p = Primitive("broadcast_to", _broadcast_impl)
broadcast_p.defjvp(lambda t, ans, x, shape: broadcast_p.bind(t, shape=shape))
broadcast_p.defvjp(lambda g, ans, x, shape: unbroadcast(g, shape_of(x)))


def _broadcast_batch(args, dims, shape):
    x, d = args[0], dims[0]
    x = move_bdim_to_front(x, d)
    s = shape_of(x)
    r = len(s) - 1
    x = reshape_p.bind(x, shape=(s[0],) + (1,) * (len(shape) - r) + s[1:])
    return broadcast_p.bind(x, shape=(s[0],) + tuple(shape)), 0


broadcast_p.defbatch(_broadcast_batch)


@implements(np.broadcast_to)
def broadcast_to(array, shape, subok=False):
    """Broadcast an array to a shape (a read-only view in NumPy; a value here)."""
    shape = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(shape)
    if shape_of(array) == shape:
        return array
    return broadcast_p.bind(array, shape=shape)


transpose_p = Primitive("transpose", lambda x, axes: np.transpose(x, axes))
transpose_p.defjvp(lambda t, ans, x, axes: transpose_p.bind(t, axes=axes))
transpose_p.defvjp(
    lambda g, ans, x, axes: transpose_p.bind(g, axes=tuple(int(i) for i in np.argsort(axes)))
)


def _transpose_batch(args, dims, axes):
    x = move_bdim_to_front(args[0], dims[0])
    return transpose_p.bind(x, axes=(0,) + tuple(a + 1 for a in axes)), 0


transpose_p.defbatch(_transpose_batch)


@implements(np.transpose)
def transpose(a, axes=None):
    """Permute the axes (reverse them by default)."""
    n = ndim_of(a)
    axes = tuple(range(n))[::-1] if axes is None else tuple(normalize_axis(i, n) for i in axes)
    if axes == tuple(range(n)):
        return a
    return transpose_p.bind(a, axes=axes)


@implements(np.moveaxis)
def moveaxis(a, source, destination):
    """Move axes to new positions, the others keeping their order."""
    n = ndim_of(a)
    src = [normalize_axis(s, n) for s in np.atleast_1d(source)]
    dst = [normalize_axis(d, n) for d in np.atleast_1d(destination)]
    order = [i for i in range(n) if i not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return transpose(a, order)


@implements(np.swapaxes)
def swapaxes(a, axis1, axis2):
    """Interchange two axes."""
    n = ndim_of(a)
    order = list(range(n))
    i, j = normalize_axis(axis1, n), normalize_axis(axis2, n)
    order[i], order[j] = order[j], order[i]
    return transpose(a, order)


@implements(np.expand_dims)
def expand_dims(a, axis):
    """Insert axes of length one."""
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    n = ndim_of(a) + len(axes)
    axes = normalize_axes(axes, n)
    shape = list(shape_of(a))
    for ax in axes:
        shape.insert(ax, 1)
    return reshape(a, tuple(shape))


@implements(np.squeeze)
def squeeze(a, axis=None):
    """Remove axes of length one."""
    shape = shape_of(a)
    if axis is None:
        axes = tuple(i for i, s in enumerate(shape) if s == 1)
    else:
        axes = normalize_axes(axis, len(shape))
        for ax in axes:
            if shape[ax] != 1:
                raise ValueError(
                    f"cannot squeeze axis {ax}: its size is {shape[ax]}, not 1 (shape {shape})"
                )
    return reshape(a, tuple(s for i, s in enumerate(shape) if i not in axes))


# ---------------------------------------------------------------------------------
# concatenate / stack


def _concat_impl(*arrays, axis):
    return np.concatenate(arrays, axis=axis)


concatenate_p = Primitive("concatenate", _concat_impl)


def _concat_vjp(g, ans, needs, *arrays, axis):
    out = []
    start = 0
    for a, need in zip(arrays, needs):
        n = shape_of(a)[axis]
        if need:
            idx = (slice(None),) * axis + (slice(start, start + n),)
            out.append(getitem(g, idx))
        else:
            out.append(None)
        start += n
    return out


def _concat_jvp(tangents, ans, *arrays, axis):
    ts = [
        zeros_like_shape(shape_of(a), ans) if t is None else t for t, a in zip(tangents, arrays)
    ]
    return concatenate_p.bind(*ts, axis=axis)


concatenate_p.defvjp_all(_concat_vjp)
concatenate_p.defjvp_all(_concat_jvp)


def _concat_batch(args, dims, axis):
    size = next(shape_of(a)[d] for a, d in zip(args, dims) if d is not None)
    new = []
    for a, d in zip(args, dims):
        if d is None:
            new.append(broadcast_to(expand_dims(a, 0), (size,) + shape_of(a)))
        else:
            new.append(move_bdim_to_front(a, d))
    return concatenate_p.bind(*new, axis=axis + 1), 0


concatenate_p.defbatch(_concat_batch)


@implements(np.concatenate)
def concatenate(arrays, axis=0, out=None, dtype=None, casting=None):
    """Join arrays along an existing axis."""
    arrays = list(arrays)
    if axis is None:
        arrays = [ravel(a) for a in arrays]
        axis = 0
    n = ndim_of(arrays[0])
    axis = normalize_axis(axis, n)
    if len(arrays) == 1:
        result = arrays[0]
    else:
        result = concatenate_p.bind(*arrays, axis=axis)
    if dtype is not None:
        result = astype(result, dtype)
    return result


@implements(np.stack)
def stack(arrays, axis=0, out=None, dtype=None, casting=None):
    """Join arrays along a new axis."""
    arrays = list(arrays)
    if not arrays:
        raise ValueError("need at least one array to stack")
    shapes = {shape_of(a) for a in arrays}
    if len(shapes) != 1:
        raise ValueError(f"all input arrays must have the same shape, got {sorted(shapes)}")
    axis = normalize_axis(axis, ndim_of(arrays[0]) + 1)
    return concatenate([expand_dims(a, axis) for a in arrays], axis=axis, dtype=dtype)


# ---------------------------------------------------------------------------------
# indexing


def _has_tracer(idx) -> bool:
    items = idx if isinstance(idx, tuple) else (idx,)
    return builtins.any(isinstance(i, Tracer) for i in items)


def _normalize_index(idx):
    """Lists inside an index become arrays (as NumPy treats them)."""
    if isinstance(idx, list):
        return np.asarray(idx)
    if isinstance(idx, tuple):
        return tuple(np.asarray(i) if isinstance(i, list) else i for i in idx)
    return idx


def _is_basic(idx) -> bool:
    items = idx if isinstance(idx, tuple) else (idx,)
    return builtins.all(
        isinstance(i, (int, np.integer, slice)) or i is None or i is Ellipsis for i in items
    )


def _indexed_shape(shape: tuple[int, ...], idx) -> tuple[int, ...]:
    """The shape of ``x[idx]`` for an array ``x`` of ``shape`` (without allocating ``x``)."""
    return np.broadcast_to(np.zeros((), dtype=np.int8), shape)[idx].shape


def _getitem_impl(x, idx):
    return x[idx]


getitem_p = Primitive("getitem", _getitem_impl)


def _index_add_impl(g, idx, shape):
    out = np.zeros(shape, dtype=np.result_type(g))
    if _is_basic(idx):
        out[idx] = g
    else:
        np.add.at(out, idx, g)
    return out


index_add_p = Primitive("index_add", _index_add_impl)
getitem_p.defjvp(lambda t, ans, x, idx: getitem_p.bind(t, idx=idx))
getitem_p.defvjp(lambda g, ans, x, idx: index_add_p.bind(g, idx=idx, shape=shape_of(x)))
index_add_p.defjvp(lambda t, ans, g, idx, shape: index_add_p.bind(t, idx=idx, shape=shape))
index_add_p.defvjp(lambda c, ans, g, idx, shape: getitem_p.bind(c, idx=idx))


# -- batching of indexing ----------------------------------------------------------
# The batched index is the per-example index with the batch axis in front: a full slice
# for a basic index; for an advanced one an arange over the batch, which joins the
# advanced entries. NumPy puts the advanced axes first when they are not adjacent in the
# index, so a transpose restores the per-example layout behind the batch axis.


def _is_advanced_entry(i) -> bool:
    return not (isinstance(i, slice) or i is None or i is Ellipsis)


def _explicit_index(idx, ndim: int) -> tuple:
    """``idx`` (for an array of rank ``ndim``) as a tuple with one entry per axis and no
    Ellipsis, boolean arrays replaced by the integer arrays of their ``nonzero()``
    (NumPy selects the same elements in the same order)."""
    items = []
    for i in idx if isinstance(idx, tuple) else (idx,):
        if isinstance(i, np.ndarray) and i.dtype == bool and i.ndim > 0:
            items.extend(np.nonzero(i))
        else:
            items.append(i)
    used = builtins.sum(1 for i in items if i is not None and i is not Ellipsis)
    if not builtins.any(i is Ellipsis for i in items):
        items.append(Ellipsis)
    out = []
    for i in items:
        out.extend([slice(None)] * (ndim - used) if i is Ellipsis else [i])
    return tuple(out)


def _batched_index(idx, ndim: int, size: int) -> tuple[tuple, tuple[int, ...] | None]:
    """The index of an array with a leading batch axis of ``size`` that does per example
    what ``idx`` does to an array of rank ``ndim``, and the permutation (``None``: the
    identity) that brings ``xb[index]`` to the per-example layout behind the batch axis."""
    items = _explicit_index(idx, ndim)
    if _is_basic(items):
        return (slice(None),) + items, None
    adv = [j for j, i in enumerate(items) if _is_advanced_entry(i)]
    k = len(np.broadcast_shapes(*(np.shape(items[j]) for j in adv)))
    index = (np.arange(size).reshape((size,) + (1,) * k),) + items
    pre = adv[0]
    if pre == 0 or adv != list(range(pre, adv[-1] + 1)):
        return index, None
    # Per example the advanced axes sit after `pre` sliced axes; batched, they come first.
    rest = len(items) - len(adv) - pre
    perm = (
        (0,)
        + tuple(1 + k + j for j in range(pre))
        + tuple(1 + j for j in range(k))
        + tuple(1 + k + pre + j for j in range(rest))
    )
    return index, perm


def _inverse(perm: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(int(i) for i in np.argsort(perm))


def _getitem_batch(args, dims, idx):
    x = move_bdim_to_front(args[0], dims[0])
    index, perm = _batched_index(idx, ndim_of(x) - 1, shape_of(x)[0])
    out = getitem_p.bind(x, idx=index)
    return (out if perm is None else transpose(out, perm)), 0


def _index_add_batch(args, dims, idx, shape):
    g = move_bdim_to_front(args[0], dims[0])
    size = shape_of(g)[0]
    index, perm = _batched_index(idx, len(shape), size)
    if perm is not None:
        g = transpose(g, _inverse(perm))
    return index_add_p.bind(g, idx=index, shape=(size,) + tuple(shape)), 0


getitem_p.defbatch(_getitem_batch)
index_add_p.defbatch(_index_add_batch)


def getitem(x, idx):
    """``x[idx]`` for every kind of NumPy index; differentiable in ``x``. The VJP
    scatters the cotangent back, repeated indices accumulating."""
    if _has_tracer(idx):
        raise TypeError(
            "Indexing with a traced array is not supported: an index is an integer or "
            "boolean array, which carries no derivative. Compute it from plain values "
            "(e.g. with mlcalc.stop_gradient) first, or use np.take_along_axis, which "
            "accepts indices computed under vmap."
        )
    idx = _normalize_index(idx)
    return getitem_p.bind(x, idx=idx)


def _setitem_impl(x, v, idx):
    out = np.array(x, copy=True)
    out[idx] = v
    return out


setitem_p = Primitive("setitem", _setitem_impl)


def _setitem_jvp(tangents, ans, x, v, idx):
    tx, tv = tangents
    if tx is None:
        tx = zeros_like_shape(shape_of(x), ans)
    if tv is None:
        tv = 0.0
    return setitem_p.bind(tx, tv, idx=idx)


def _written_mask(idx, shape: tuple[int, ...]):
    """For an advanced index: a boolean array over the assigned block ``x[idx]``, True
    where that entry is the one left in ``x`` (NumPy keeps the last write to a repeated
    position); ``None`` when every entry is."""
    block = _indexed_shape(shape, idx)
    labels = np.arange(math.prod(block)).reshape(block)
    board = np.full(shape, -1, dtype=np.int64)
    board[idx] = labels
    kept = board[idx] == labels
    return None if kept.all() else kept


def _setitem_vjp(g, ans, needs, x, v, idx):
    gx = setitem_p.bind(g, 0.0, idx=idx) if needs[0] else None
    gv = None
    if needs[1]:
        gv = getitem_p.bind(g, idx=idx)
        kept = None if _is_basic(idx) else _written_mask(idx, shape_of(x))
        if kept is not None:
            gv = where(kept, gv, 0.0)
        gv = unbroadcast(gv, shape_of(v))
    return [gx, gv]


setitem_p.defjvp_all(_setitem_jvp)
setitem_p.defvjp_all(_setitem_vjp)


def _setitem_batch(args, dims, idx):
    x, v = args
    dx, dv = dims
    size = shape_of(x)[dx] if dx is not None else shape_of(v)[dv]
    if dx is None:
        x = broadcast_to(expand_dims(x, 0), (size,) + shape_of(x))
    else:
        x = move_bdim_to_front(x, dx)
    block = _indexed_shape(shape_of(x)[1:], idx)
    index, perm = _batched_index(idx, ndim_of(x) - 1, size)
    if dv is None and perm is None:
        return setitem_p.bind(x, v, idx=index), 0
    if dv is None:
        v = expand_dims(broadcast_to(v, block), 0)
    else:
        v = move_bdim_to_front(v, dv)
        vs = shape_of(v)
        v = reshape(v, (vs[0],) + (1,) * (len(block) - len(vs) + 1) + vs[1:])
        v = broadcast_to(v, (vs[0],) + block)
    if perm is not None:
        v = transpose(v, _inverse(perm))
    return setitem_p.bind(x, v, idx=index), 0


setitem_p.defbatch(_setitem_batch)


def setitem(x, idx, v):
    """The array ``x`` with ``x[idx] = v`` applied (a functional update), differentiable
    in ``x`` (zero cotangent at the overwritten entries) and ``v``. At a position
    written several times (repeated advanced indices) the last write wins, as in NumPy,
    and only that entry of ``v`` receives the derivative. A traced boolean mask (e.g.
    ``y[x < 0] = 0`` under vmap) is supported when it has the shape of ``x`` and ``v`` is
    a scalar: it is ``where(mask, v, x)``."""
    if isinstance(idx, Tracer) and idx.dtype == bool and shape_of(idx) == shape_of(x):
        if ndim_of(v) == 0:
            return where(idx, astype(v, x.dtype), x)
    if _has_tracer(idx):
        raise TypeError(
            "Item assignment with a traced index is not supported (except a boolean mask "
            "of the array's shape with a scalar value: y[mask] = c)."
        )
    idx = _normalize_index(idx)
    return setitem_p.bind(x, v, idx=idx)


def add_at(x, idx, v):
    """The array ``x`` with ``v`` added at ``idx``, repeated indices accumulating (the
    functional form of ``np.add.at``)."""
    idx = _normalize_index(idx)
    return x + index_add_p.bind(
        broadcast_to(v, _indexed_shape(shape_of(x), idx)),
        idx=idx,
        shape=shape_of(x),
    )


register_op("_getitem", getitem)
register_op("_setitem", lambda x, idx, v: setitem(x, idx, v))


# ---------------------------------------------------------------------------------
# dtype conversion, copy, where

convert_p = Primitive("astype", lambda x, dtype: np.asarray(x).astype(dtype))
convert_p.defjvp(lambda t, ans, x, dtype: convert_p.bind(t, dtype=dtype))
convert_p.defvjp(lambda g, ans, x, dtype: convert_p.bind(g, dtype=np.result_type(x)))
convert_p.defbatch(batch_elementwise(convert_p))


def astype(x, dtype, copy=True):
    """``x`` converted to ``dtype``; to a non-float dtype the result carries no
    derivative."""
    dtype = np.dtype(dtype)
    if np.result_type(x.dtype if hasattr(x, "dtype") else x) == dtype:
        return x
    if dtype.kind == "c":
        raise NotImplementedError("complex values are not supported by mlcalc yet.")
    return convert_p.bind(x, dtype=dtype)


@implements(np.copy)
def copy(a, order="K", subok=False):
    """A copy of ``a``. Traced values are never mutated in place by mlcalc (item
    assignment replaces the tracer's value), so the copy shares its value."""
    if isinstance(a, Tracer):
        new = object.__new__(type(a))
        for slot in type(a)._state_slots:
            setattr(new, slot, getattr(a, slot))
        return new
    return np.copy(a, order=order)


def _select_impl(cond, x, y):
    return np.where(cond, x, y)


select_p = Primitive("where", _select_impl)


def _zero_rule(*args, **kwargs):
    return None


def _select_vjp(which):
    def rule(g, ans, cond, x, y):
        if which == 1:
            return unbroadcast(select_p.bind(cond, g, 0.0), shape_of(x))
        return unbroadcast(select_p.bind(cond, 0.0, g), shape_of(y))

    return rule


select_p.defvjp(_zero_rule, _select_vjp(1), _select_vjp(2))
select_p.defjvp(
    _zero_rule,
    lambda t, ans, cond, x, y: broadcast_tangent(select_p.bind(cond, t, 0.0), shape_of(ans)),
    lambda t, ans, cond, x, y: broadcast_tangent(select_p.bind(cond, 0.0, t), shape_of(ans)),
)
select_p.defbatch(batch_elementwise(select_p))


@implements(np.where)
def where(condition, x=None, y=None):
    """``x`` where ``condition`` holds, ``y`` elsewhere (with one argument: the indices
    of the nonzero entries, which carry no derivative)."""
    if x is None and y is None:
        from ..autodiff.core import full_lower

        return np.where(full_lower(condition))
    return select_p.bind(condition, x, y)


register_op("reshape", reshape)
register_op("ravel", ravel)
register_op("transpose", transpose)
register_op("swapaxes", swapaxes)
register_op("squeeze", squeeze)
register_op("moveaxis", moveaxis)
register_op("expand_dims", expand_dims)
register_op("broadcast_to", broadcast_to)
register_op("stack", stack)
register_op("sum", sum)
register_op("astype", astype)
register_op("copy", copy)
register_op("concatenate", concatenate)
