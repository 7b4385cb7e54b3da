"""Shape manipulation, gathering and sorting: stacking and splitting, tiling and
repetition, flips and rolls, padding, diagonals and triangles, take / take_along_axis,
sort and argsort, insertion and deletion, meshgrid.

Nearly everything here moves elements around without computing new values, so each
function is a composition of the structural primitives of :mod:`._core` (slices,
gathers with plain index arrays, reshape, broadcast_to, concatenate, where): its values
are NumPy's bit for bit, and derivatives of every order and batching come from those
primitives. The index arrays are computed by NumPy itself on ``arange`` labels (e.g.
``np.pad(np.arange(n), ...)`` gives the source of every padded position), so the
semantics are NumPy's. ``take_along_axis`` (and with it ``sort``) is a primitive of its
own, so that its indices may be computed under ``vmap`` (e.g. by ``argsort``).

With only plain arguments, each function is NumPy's own.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import numpy as np

from ..autodiff.core import Tracer
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
from ._core import (
    astype,
    broadcast_to,
    concatenate,
    expand_dims,
    getitem,
    ravel,
    reshape,
    setitem,
    transpose,
    where,
)

__all__ = [
    "atleast_1d",
    "atleast_2d",
    "atleast_3d",
    "vstack",
    "hstack",
    "dstack",
    "column_stack",
    "split",
    "array_split",
    "hsplit",
    "vsplit",
    "dsplit",
    "tile",
    "repeat",
    "flip",
    "fliplr",
    "flipud",
    "roll",
    "rot90",
    "pad",
    "diag",
    "diagonal",
    "diagflat",
    "tril",
    "triu",
    "take",
    "take_along_axis",
    "sort",
    "argsort",
    "append",
    "insert",
    "delete",
    "meshgrid",
    "broadcast_arrays",
]


def _traced(*args) -> bool:
    """Whether any argument (or an element of a list/tuple argument) is traced."""
    for a in args:
        if isinstance(a, Tracer):
            return True
        if isinstance(a, (list, tuple)) and _traced(*a):
            return True
    return False


def _numpy_when_plain(np_fn: Callable) -> Callable:
    """Register the decorated function for ``np_fn`` and make it ``np_fn`` itself when
    no argument is traced."""

    def deco(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            if not _traced(*args, *kwargs.values()):
                return np_fn(*args, **kwargs)
            return fn(*args, **kwargs)

        implements(np_fn)(wrapper)
        return wrapper

    return deco


def _along(axis: int, index) -> tuple:
    """An index applying ``index`` to axis ``axis``."""
    return (slice(None),) * axis + (index,)


# ---------------------------------------------------------------------------------
# rank promotion and stacking


def _promote(a, ndim: int, new_shape: Callable[[tuple[int, ...]], tuple[int, ...]]):
    shape = shape_of(a)
    return a if len(shape) >= ndim else reshape(a, new_shape(shape))


def _one_or_tuple(results: list):
    return results[0] if len(results) == 1 else tuple(results)


@_numpy_when_plain(np.atleast_1d)
def atleast_1d(*arys):
    """The arguments viewed with at least one axis (0-d → shape (1,))."""
    return _one_or_tuple([_promote(a, 1, lambda s: (1,)) for a in arys])


def _shape_2d(s):
    return (1, 1) if not s else (1,) + s


def _shape_3d(s):
    return {0: (1, 1, 1), 1: (1,) + s + (1,), 2: s + (1,)}[len(s)]


@_numpy_when_plain(np.atleast_2d)
def atleast_2d(*arys):
    """The arguments with at least two axes (shape (N,) → (1, N))."""
    return _one_or_tuple([_promote(a, 2, _shape_2d) for a in arys])


@_numpy_when_plain(np.atleast_3d)
def atleast_3d(*arys):
    """The arguments with at least three axes ((N,) → (1, N, 1), (M, N) → (M, N, 1))."""
    return _one_or_tuple([_promote(a, 3, _shape_3d) for a in arys])


def _as_list(result) -> list:
    return list(result) if isinstance(result, tuple) else [result]


@_numpy_when_plain(np.vstack)
def vstack(tup, *, dtype=None, casting="same_kind"):
    """Stack arrays row-wise: concatenate along axis 0 after :func:`atleast_2d`."""
    return concatenate(_as_list(atleast_2d(*tup)), axis=0, dtype=dtype)


@_numpy_when_plain(np.hstack)
def hstack(tup, *, dtype=None, casting="same_kind"):
    """Stack arrays column-wise: along axis 1 (axis 0 for 1-D arrays)."""
    arrays = _as_list(atleast_1d(*tup))
    return concatenate(arrays, axis=0 if ndim_of(arrays[0]) == 1 else 1, dtype=dtype)


@_numpy_when_plain(np.dstack)
def dstack(tup):
    """Stack arrays depth-wise: along axis 2 after :func:`atleast_3d`."""
    return concatenate(_as_list(atleast_3d(*tup)), axis=2)


@_numpy_when_plain(np.column_stack)
def column_stack(tup):
    """Stack 1-D arrays as the columns of a 2-D array (higher ranks along axis 1)."""
    arrays = [reshape(a, (-1, 1)) if ndim_of(a) < 2 else a for a in tup]
    return concatenate(arrays, axis=1)


if hasattr(np, "row_stack"):
    implements(np.row_stack)(vstack)


# ---------------------------------------------------------------------------------
# splitting


def _split_points(n: int, indices_or_sections) -> list[int]:
    if np.ndim(indices_or_sections) == 0:
        sections = int(indices_or_sections)
        if sections <= 0:
            raise ValueError("number sections must be larger than 0.")
        each, extra = divmod(n, sections)
        sizes = [0] + extra * [each + 1] + (sections - extra) * [each]
        return [int(p) for p in np.cumsum(sizes)]
    return [0] + [int(i) for i in indices_or_sections] + [n]


@_numpy_when_plain(np.array_split)
def array_split(ary, indices_or_sections, axis=0):
    """Split into sub-arrays along ``axis``: at the given indices, or into that many
    sections whose sizes differ by at most one (the first ones larger)."""
    axis = normalize_axis(axis, ndim_of(ary))
    points = _split_points(shape_of(ary)[axis], indices_or_sections)
    bounds = zip(points[:-1], points[1:], strict=True)
    return [getitem(ary, _along(axis, slice(a, b))) for a, b in bounds]


@_numpy_when_plain(np.split)
def split(ary, indices_or_sections, axis=0):
    """Split into equal sections (or at the given indices) along ``axis``."""
    if np.ndim(indices_or_sections) == 0:
        if shape_of(ary)[normalize_axis(axis, ndim_of(ary))] % int(indices_or_sections):
            raise ValueError("array split does not result in an equal division")
    return array_split(ary, indices_or_sections, axis)


def _split_rank(ary, minimum: int, name: str) -> None:
    if ndim_of(ary) < minimum:
        raise ValueError(f"{name} only works on arrays of {minimum} or more dimensions")


@_numpy_when_plain(np.hsplit)
def hsplit(ary, indices_or_sections):
    """Split along axis 1 (axis 0 for 1-D arrays)."""
    _split_rank(ary, 1, "hsplit")
    return split(ary, indices_or_sections, 1 if ndim_of(ary) > 1 else 0)


@_numpy_when_plain(np.vsplit)
def vsplit(ary, indices_or_sections):
    """Split along axis 0 (arrays of rank ≥ 2)."""
    _split_rank(ary, 2, "vsplit")
    return split(ary, indices_or_sections, 0)


@_numpy_when_plain(np.dsplit)
def dsplit(ary, indices_or_sections):
    """Split along axis 2 (arrays of rank ≥ 3)."""
    _split_rank(ary, 3, "dsplit")
    return split(ary, indices_or_sections, 2)


# ---------------------------------------------------------------------------------
# tiling and repetition


@_numpy_when_plain(np.tile)
def tile(A, reps):
    """``A`` repeated ``reps[i]`` times along each axis ``i`` (a broadcast of
    ``A`` along interleaved length-one axes, then a reshape)."""
    reps = (int(reps),) if np.ndim(reps) == 0 else tuple(int(r) for r in reps)
    shape = shape_of(A)
    d = max(len(reps), len(shape))
    shape = (1,) * (d - len(shape)) + shape
    reps = (1,) * (d - len(reps)) + reps
    spread = reshape(A, tuple(v for s in shape for v in (1, s)))
    pairs = list(zip(reps, shape, strict=True))
    tiled = broadcast_to(spread, tuple(v for r, s in pairs for v in (r, s)))
    return reshape(tiled, tuple(r * s for r, s in pairs))


@_numpy_when_plain(np.repeat)
def repeat(a, repeats, axis=None):
    """Repeat each element ``repeats`` times (an int, or one count per element) along
    ``axis`` (the flattened array if ``None``); the derivative sums over the copies."""
    if axis is None:
        a, axis = ravel(a), 0
    axis = normalize_axis(axis, ndim_of(a))
    shape = shape_of(a)
    counts = np.asarray(repeats)
    if counts.size == 1:
        r = int(counts.reshape(()))
        spread = expand_dims(a, axis + 1)
        spread = broadcast_to(spread, shape[: axis + 1] + (r,) + shape[axis + 1 :])
        return reshape(spread, shape[:axis] + (shape[axis] * r,) + shape[axis + 1 :])
    return getitem(a, _along(axis, np.repeat(np.arange(shape[axis]), counts)))


# ---------------------------------------------------------------------------------
# flips, rolls, rotations


@_numpy_when_plain(np.flip)
def flip(m, axis=None):
    """Reverse the order of the elements along the given axes (all by default)."""
    axes = normalize_axes(axis, ndim_of(m))
    return getitem(m, tuple(slice(None, None, -1) if i in axes else slice(None)
                            for i in range(ndim_of(m))))


@_numpy_when_plain(np.fliplr)
def fliplr(m):
    """Reverse the order along axis 1."""
    if ndim_of(m) < 2:
        raise ValueError("Input must be >= 2-d.")
    return flip(m, 1)


@_numpy_when_plain(np.flipud)
def flipud(m):
    """Reverse the order along axis 0."""
    if ndim_of(m) < 1:
        raise ValueError("Input must be >= 1-d.")
    return flip(m, 0)


@_numpy_when_plain(np.roll)
def roll(a, shift, axis=None):
    """Shift elements cyclically by ``shift`` along ``axis`` (ints or tuples, summed per
    axis; the flattened array if ``axis`` is ``None``)."""
    if axis is None:
        return reshape(roll(ravel(a), shift, 0), shape_of(a))
    n = ndim_of(a)
    totals = dict.fromkeys(range(n), 0)
    for s, ax in np.broadcast(shift, axis):
        totals[normalize_axis(int(ax), n)] += int(s)
    for ax, s in totals.items():
        size = shape_of(a)[ax]
        s = s % size if size else 0
        if s:
            a = concatenate([getitem(a, _along(ax, slice(size - s, None))),
                             getitem(a, _along(ax, slice(None, size - s)))], axis=ax)
    return a


@_numpy_when_plain(np.rot90)
def rot90(m, k=1, axes=(0, 1)):
    """Rotate by 90° ``k`` times in the plane of ``axes`` (from the first axis towards
    the second), as flips and a transpose."""
    n = ndim_of(m)
    ax0, ax1 = (normalize_axis(int(ax), n) for ax in axes)
    if len(axes) != 2 or ax0 == ax1:
        raise ValueError("len(axes) must be 2 and the axes must be different.")
    k %= 4
    if k == 0:
        return getitem(m, ())
    if k == 2:
        return flip(flip(m, ax0), ax1)
    order = list(range(n))
    order[ax0], order[ax1] = order[ax1], order[ax0]
    if k == 1:
        return transpose(flip(m, ax1), order)
    return flip(transpose(m, order), ax1)


# ---------------------------------------------------------------------------------
# padding

_GATHER_PAD_MODES = ("edge", "reflect", "symmetric", "wrap")


@_numpy_when_plain(np.pad)
def pad(array, pad_width, mode="constant", **kwargs):
    """Pad an array. ``constant`` (with ``constant_values``): the input is written into
    NumPy's padded constant array. ``edge``, ``reflect``, ``symmetric``, ``wrap``: along
    each axis, every output position gathers the input element NumPy copies there
    (``np.pad`` of an ``arange``); the derivative sums over the copies."""
    shape = shape_of(array)
    widths = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (len(shape), 2))
    if mode == "constant":
        background = np.pad(np.zeros(shape, dtype=dtype_of(array)), widths, mode="constant",
                            constant_values=kwargs.get("constant_values", 0))
        starts = widths[:, 0]
        interior = tuple(slice(int(b), int(b) + s) for b, s in zip(starts, shape, strict=True))
        return setitem(background, interior, array)
    if mode not in _GATHER_PAD_MODES or kwargs.get("reflect_type", "even") != "even":
        raise NotImplementedError(
            f"mlcalc.numpy.pad supports the modes constant, {', '.join(_GATHER_PAD_MODES)} "
            f"(reflect_type='even'); got mode={mode!r} with {kwargs}."
        )
    for ax, (before, after) in enumerate(widths):
        if before or after:
            source = np.pad(np.arange(shape[ax]), (int(before), int(after)), mode=mode)
            array = getitem(array, _along(ax, source))
    return array


# ---------------------------------------------------------------------------------
# diagonals and triangles


@_numpy_when_plain(np.diagonal)
def diagonal(a, offset=0, axis1=0, axis2=1):
    """The diagonal ``a[..., i, i + offset]`` of the planes spanned by ``axis1`` and
    ``axis2``, as a new last axis (a copy, where NumPy returns a read-only view)."""
    n = ndim_of(a)
    ax1, ax2 = normalize_axis(axis1, n), normalize_axis(axis2, n)
    if ax1 == ax2:
        raise ValueError("axis1 and axis2 cannot be the same")
    a = _core.moveaxis(a, (ax1, ax2), (-2, -1))
    rows, cols = shape_of(a)[-2:]
    offset = int(offset)
    count = max(0, min(rows, cols - offset) if offset >= 0 else min(rows + offset, cols))
    j = np.arange(count)
    return getitem(a, (Ellipsis, j + max(-offset, 0), j + max(offset, 0)))


@_numpy_when_plain(np.diag)
def diag(v, k=0):
    """1-D ``v``: the square matrix with ``v`` on its ``k``-th diagonal (zeros elsewhere).
    2-D ``v``: its ``k``-th diagonal."""
    if ndim_of(v) == 2:
        return diagonal(v, k)
    if ndim_of(v) != 1:
        raise ValueError("Input must be 1- or 2-d.")
    k = int(k)
    m = shape_of(v)[0]
    size = m + abs(k)
    j = np.arange(m)
    dt = dtype_of(v)
    return setitem(np.zeros((size, size), dtype=dt), (j + max(-k, 0), j + max(k, 0)), v)


@_numpy_when_plain(np.diagflat)
def diagflat(v, k=0):
    """The 2-D array with the flattened ``v`` on its ``k``-th diagonal."""
    return diag(ravel(v), k)


def _triangle(m, keep_lower: bool, k: int):
    rows, cols = shape_of(m)[-2:] if ndim_of(m) >= 2 else shape_of(m) * 2
    lower = np.tri(rows, cols, k=k if keep_lower else k - 1, dtype=bool)
    zero = np.zeros(1, dtype=dtype_of(m))
    return where(lower, m, zero) if keep_lower else where(lower, zero, m)


@_numpy_when_plain(np.tril)
def tril(m, k=0):
    """Lower triangle: the entries ``m[..., i, j]`` with ``j - i <= k``, zeros above."""
    return _triangle(m, True, int(k))


@_numpy_when_plain(np.triu)
def triu(m, k=0):
    """Upper triangle: the entries ``m[..., i, j]`` with ``j - i >= k``, zeros below."""
    return _triangle(m, False, int(k))


# ---------------------------------------------------------------------------------
# take, take_along_axis


@_numpy_when_plain(np.take)
def take(a, indices, axis=None, out=None, mode="raise"):
    """The elements of ``a`` at ``indices`` along ``axis`` (of the flattened array if
    ``None``); ``mode`` 'wrap' or 'clip' maps out-of-range indices first. The derivative
    scatters back, repeated indices accumulating."""
    if out is not None:
        raise TypeError("mlcalc.numpy.take: out= is not supported on traced values.")
    if axis is None:
        a, axis = ravel(a), 0
    axis = normalize_axis(axis, ndim_of(a))
    indices = np.asarray(indices)
    n = shape_of(a)[axis]
    if mode == "wrap":
        indices = np.mod(indices, n)
    elif mode == "clip":
        indices = np.clip(indices, 0, n - 1)
    return getitem(a, _along(axis, indices))


def _along_axis_index(indices, shape: tuple[int, ...], axis: int) -> tuple:
    """The fancy index that ``take_along_axis`` applies: ``indices`` along ``axis``,
    broadcast aranges along the others."""
    n = len(shape)
    return tuple(
        indices if d == axis else np.arange(shape[d]).reshape((-1,) + (1,) * (n - d - 1))
        for d in range(n)
    )


def _scatter_along_impl(g, indices, axis, shape):
    out = np.zeros(shape, dtype=np.result_type(g))
    np.add.at(out, _along_axis_index(indices, shape, axis), g)
    return out


take_along_axis_p = Primitive(
    "take_along_axis", lambda x, indices, axis: np.take_along_axis(x, indices, axis=axis)
)
scatter_along_axis_p = Primitive("scatter_add_along_axis", _scatter_along_impl)

take_along_axis_p.defjvp(
    lambda t, ans, x, indices, axis: take_along_axis_p.bind(t, indices, axis=axis), None
)
take_along_axis_p.defvjp(
    lambda g, ans, x, indices, axis: scatter_along_axis_p.bind(
        g, indices, axis=axis, shape=shape_of(x)
    ),
    None,
)
scatter_along_axis_p.defjvp(
    lambda t, ans, g, indices, axis, shape: scatter_along_axis_p.bind(
        t, indices, axis=axis, shape=shape
    ),
    None,
)
scatter_along_axis_p.defvjp(
    lambda c, ans, g, indices, axis, shape: take_along_axis_p.bind(c, indices, axis=axis),
    None,
)


def _leading_batch(x, d):
    """``x`` with its batch axis in front, or a length-one axis there (broadcasts)."""
    return expand_dims(x, 0) if d is None else move_bdim_to_front(x, d)


def _take_along_axis_batch(args, dims, axis):
    x, indices = (_leading_batch(a, d) for a, d in zip(args, dims, strict=True))
    return take_along_axis_p.bind(x, indices, axis=axis + 1), 0


def _scatter_along_axis_batch(args, dims, axis, shape):
    g, indices = (_leading_batch(a, d) for a, d in zip(args, dims, strict=True))
    size = next(shape_of(a)[d] for a, d in zip(args, dims, strict=True) if d is not None)
    g = broadcast_to(g, (size,) + shape_of(g)[1:])
    return scatter_along_axis_p.bind(g, indices, axis=axis + 1, shape=(size,) + shape), 0


take_along_axis_p.defbatch(_take_along_axis_batch)
scatter_along_axis_p.defbatch(_scatter_along_axis_batch)


@_numpy_when_plain(np.take_along_axis)
def take_along_axis(arr, indices, axis=-1):
    """``arr`` gathered at ``indices`` along ``axis`` (the flattened array if ``None``),
    the other axes broadcast. ``indices`` may be computed under vmap (e.g. by argsort);
    the derivative in ``arr`` scatters back, repeated indices accumulating."""
    if axis is None:
        arr, axis = ravel(arr), 0
    axis = normalize_axis(axis, ndim_of(arr))
    if ndim_of(indices) != ndim_of(arr):
        raise ValueError("`indices` and `arr` must have the same number of dimensions")
    if not isinstance(indices, Tracer):
        indices = np.asarray(indices)
    return take_along_axis_p.bind(arr, indices, axis=axis)


# ---------------------------------------------------------------------------------
# sorting


argsort_p = Primitive(
    "argsort", lambda x, axis, kind: np.argsort(x, axis=axis, kind=kind), nondiff=True
)


def _argsort_batch(args, dims, axis, kind):
    x = move_bdim_to_front(args[0], dims[0])
    return argsort_p.bind(x, axis=axis + 1, kind=kind), 0


argsort_p.defbatch(_argsort_batch)


@_numpy_when_plain(np.argsort)
def argsort(a, axis=-1, kind=None, order=None, *, stable=None):
    """The indices that sort ``a`` along ``axis`` (no derivative)."""
    if order is not None:
        raise NotImplementedError("argsort with order= is not supported on traced values.")
    if axis is None:
        a, axis = ravel(a), 0
    kind = "stable" if stable else kind
    return argsort_p.bind(a, axis=normalize_axis(axis, ndim_of(a)), kind=kind)


@_numpy_when_plain(np.sort)
def sort(a, axis=-1, kind=None, order=None, *, stable=None):
    """``a`` sorted along ``axis`` (the flattened array if ``None``). Derivative
    convention at ties: output position ``i`` takes the derivative of the input element
    ``argsort(a, kind='stable')[i]``, i.e. equal values keep their original order."""
    if order is not None:
        raise NotImplementedError("sort with order= is not supported on traced values.")
    if axis is None:
        a, axis = ravel(a), 0
    return take_along_axis(a, argsort(a, axis=axis, kind="stable"), axis=axis)


# ---------------------------------------------------------------------------------
# append, insert, delete


@_numpy_when_plain(np.append)
def append(arr, values, axis=None):
    """``values`` appended to ``arr`` along ``axis`` (both flattened if ``None``)."""
    if axis is None:
        return concatenate([ravel(arr), ravel(values)], axis=0)
    return concatenate([arr, values], axis=axis)


def _labels(shape: tuple[int, ...], start: int = 0):
    return np.arange(start, start + math.prod(shape)).reshape(shape)


@_numpy_when_plain(np.delete)
def delete(arr, obj, axis=None):
    """``arr`` without the sub-arrays at ``obj`` along ``axis`` (flattened if ``None``)."""
    kept = np.delete(_labels(shape_of(arr)), obj, axis=axis)
    return getitem(ravel(arr), kept)


@_numpy_when_plain(np.insert)
def insert(arr, obj, values, axis=None):
    """``values`` (cast to ``arr``'s dtype) inserted before the positions ``obj`` along
    ``axis`` (flattened if ``None``). Every output element is gathered from ``arr`` or
    ``values`` where ``np.insert`` of label arrays says it comes from."""
    shape, vshape = shape_of(arr), shape_of(values)
    size = math.prod(shape)
    labels = np.insert(_labels(shape), obj, _labels(vshape, size), axis=axis)
    source = concatenate([ravel(arr), ravel(astype(values, dtype_of(arr)))], axis=0)
    return getitem(source, labels)


# ---------------------------------------------------------------------------------
# grids and broadcasting


@_numpy_when_plain(np.broadcast_arrays)
def broadcast_arrays(*args, subok=False):
    """The arguments broadcast to their common shape."""
    shape = np.broadcast_shapes(*(shape_of(a) for a in args))
    return tuple(broadcast_to(a, shape) for a in args)


@_numpy_when_plain(np.meshgrid)
def meshgrid(*xi, copy=True, sparse=False, indexing="xy"):
    """Coordinate arrays from 1-D coordinate vectors: with ``indexing='ij'`` output
    ``k`` varies along axis ``k``; with ``'xy'`` the first two axes are swapped."""
    if indexing not in ("xy", "ij"):
        raise ValueError("Valid values for `indexing` are 'xy' and 'ij'.")
    n = len(xi)
    shapes = [tuple(-1 if d == i else 1 for d in range(n)) for i in range(n)]
    if indexing == "xy" and n > 1:
        shapes = [(s[1], s[0]) + s[2:] for s in shapes]
    grids = [reshape(x, s) for x, s in zip(xi, shapes, strict=True)]
    return tuple(grids) if sparse else broadcast_arrays(*grids)


register_op("diagonal", diagonal)
register_op("take", take)
register_op("repeat", repeat)
register_op("argsort", argsort)
register_op("sort", sort)
