"""NumPy functions about an array rather than of it (shape, ndim, dtype queries): they
answer for traced values as for the arrays they stand for."""

from __future__ import annotations

import math

import numpy as np

from ..autodiff.batching import BatchTracer
from ..autodiff.core import Tracer, full_lower
from ._base import dtype_of, implements, ndim_of, shape_of

__all__ = ["shape", "ndim", "size", "result_type", "count_nonzero"]


@implements(np.shape)
def shape(a):
    """The shape of ``a``."""
    return shape_of(a)


@implements(np.ndim)
def ndim(a):
    """The number of dimensions of ``a``."""
    return ndim_of(a)


@implements(np.size)
def size(a, axis=None):
    """The number of elements of ``a`` (along ``axis``)."""
    s = shape_of(a)
    if axis is None:
        return math.prod(s)
    return s[axis]


@implements(np.result_type)
def result_type(*arrays_and_dtypes):
    """NumPy's type promotion, with traced values standing for their dtype."""
    return np.result_type(
        *[dtype_of(a) if isinstance(a, Tracer) else a for a in arrays_and_dtypes]
    )


def _is_batched(x) -> bool:
    while isinstance(x, Tracer):
        if isinstance(x, BatchTracer):
            return True
        x = x._primal()
    return False


def _plain(fn):
    """Register a NumPy function that reads values only (no derivative). Its result
    depends on the values as a whole, so under vmap it is refused rather than computed
    over the stacked batch."""

    def wrapper(*args, **kwargs):
        if any(_is_batched(a) for a in args):
            raise NotImplementedError(
                f"numpy.{fn.__name__} under mlcalc.vmap: its result depends on the data "
                "(a Python value or a data-dependent shape) and cannot be batched; loop over "
                "the examples instead, or use np.sum(x != 0)-style expressions."
            )
        args = [full_lower(a) if isinstance(a, Tracer) else a for a in args]
        return fn(*args, **kwargs)

    wrapper.__name__ = fn.__name__
    implements(fn)(wrapper)
    return wrapper


for _fn in (np.iscomplexobj, np.isrealobj, np.array_equal, np.array_equiv, np.allclose,
            np.isclose, np.shares_memory, np.may_share_memory, np.nonzero, np.flatnonzero,
            np.argwhere, np.min_scalar_type):
    _plain(_fn)


@implements(np.count_nonzero)
def count_nonzero(a, axis=None, *, keepdims=False):
    """The number of nonzero entries (an integer count; no derivative)."""
    from ._core import astype, sum

    return sum(astype(a != 0, np.int64), axis=axis, keepdims=keepdims)
