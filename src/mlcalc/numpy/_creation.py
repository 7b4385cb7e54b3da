"""Array creation. Plain constructors are NumPy's; the ``*_like`` functions of a traced
array return a traced constant, so ``y = np.zeros_like(x); y[i] = ...`` is
differentiated; ``asarray``/``array`` pass traced values through."""

from __future__ import annotations

import numpy as np

from ..autodiff.core import Tracer
from ._base import dtype_of, implements, shape_of

__all__ = ["zeros_like", "ones_like", "full_like", "empty_like", "asarray", "array"]


def _traced_constant(a, value, dtype):
    dt = np.dtype(dtype) if dtype is not None else dtype_of(a)
    return a._trace.constant(np.full(shape_of(a), value, dtype=dt))


@implements(np.zeros_like)
def zeros_like(a, dtype=None, order="K", subok=True, shape=None, *, device=None):
    """Zeros with the shape and dtype of ``a`` (traced constant when ``a`` is traced)."""
    if isinstance(a, Tracer) and shape is None:
        return _traced_constant(a, 0, dtype)
    return np.zeros(shape if shape is not None else shape_of(a), dtype=dtype or dtype_of(a))


@implements(np.ones_like)
def ones_like(a, dtype=None, order="K", subok=True, shape=None, *, device=None):
    """Ones with the shape and dtype of ``a`` (traced constant when ``a`` is traced)."""
    if isinstance(a, Tracer) and shape is None:
        return _traced_constant(a, 1, dtype)
    return np.ones(shape if shape is not None else shape_of(a), dtype=dtype or dtype_of(a))


@implements(np.empty_like)
def empty_like(a, dtype=None, order="K", subok=True, shape=None, *, device=None):
    """Like ``zeros_like`` (an uninitialised traced array would be meaningless)."""
    return zeros_like(a, dtype=dtype, shape=shape)


@implements(np.full_like)
def full_like(a, fill_value, dtype=None, order="K", subok=True, shape=None, *, device=None):
    """``fill_value`` everywhere, with the shape and dtype of ``a``."""
    if isinstance(a, Tracer) and shape is None and not isinstance(fill_value, Tracer):
        return _traced_constant(a, fill_value, dtype)
    from ._core import broadcast_to

    base = np.zeros(shape if shape is not None else shape_of(a), dtype=dtype or dtype_of(a))
    return base + broadcast_to(fill_value, base.shape) if isinstance(fill_value, Tracer) else (
        np.full_like(base, fill_value)
    )


def asarray(a, dtype=None, order=None, **kwargs):
    """``np.asarray`` that passes traced values through (converting the dtype if asked);
    nested lists containing traced values are stacked."""
    from ._core import astype

    if isinstance(a, Tracer):
        return a if dtype is None else astype(a, dtype)
    if isinstance(a, (list, tuple)) and _contains_tracer(a):
        out = _stack_nested(a)
        return out if dtype is None else astype(out, dtype)
    return np.asarray(a, dtype=dtype, order=order, **kwargs)


def array(a, dtype=None, copy=True, **kwargs):
    """``np.array`` that accepts traced values and lists of them."""
    from ._core import copy as _copy

    out = asarray(a, dtype=dtype)
    if isinstance(out, Tracer):
        return _copy(out) if copy else out
    return np.array(a, dtype=dtype, copy=copy, **kwargs)


def _contains_tracer(seq) -> bool:
    for x in seq:
        if isinstance(x, Tracer):
            return True
        if isinstance(x, (list, tuple)) and _contains_tracer(x):
            return True
    return False


def _stack_nested(seq):
    from ._core import stack

    items = [_stack_nested(x) if isinstance(x, (list, tuple)) else x for x in seq]
    items = [x if isinstance(x, Tracer) else np.asarray(x, dtype=float) for x in items]
    return stack(items, axis=0)
