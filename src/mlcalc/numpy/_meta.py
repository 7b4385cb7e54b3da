"""NumPy functions about an array rather than of it (shape, ndim, dtype queries): they
answer for traced values as for the arrays they stand for."""

from __future__ import annotations

import numpy as np

from ..autodiff.core import Tracer, full_lower
from ._base import dtype_of, implements, ndim_of, shape_of

__all__ = ["shape", "ndim", "size", "result_type"]


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
        return int(np.prod(s, dtype=np.int64))
    return s[axis]


@implements(np.result_type)
def result_type(*arrays_and_dtypes):
    """NumPy's type promotion, with traced values standing for their dtype."""
    return np.result_type(
        *[dtype_of(a) if isinstance(a, Tracer) else a for a in arrays_and_dtypes]
    )


def _plain(fn):
    """Register a NumPy predicate that reads values only (no derivative)."""

    def wrapper(*args, **kwargs):
        args = [full_lower(a) if isinstance(a, Tracer) else a for a in args]
        return fn(*args, **kwargs)

    wrapper.__name__ = fn.__name__
    implements(fn)(wrapper)
    return wrapper


for _fn in (np.iscomplexobj, np.isrealobj, np.array_equal, np.array_equiv, np.allclose,
            np.isclose, np.shares_memory, np.may_share_memory, np.count_nonzero, np.nonzero,
            np.flatnonzero, np.argwhere, np.min_scalar_type):
    _plain(_fn)
