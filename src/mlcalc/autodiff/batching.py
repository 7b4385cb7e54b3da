"""Batching: a trace whose tracers carry a batch axis (the vmap transform).

A primitive with a batching rule runs once on the whole batch. A primitive without one
falls back to a loop over the batch (slice, apply, stack) with a one-time warning: slower,
never wrong.
"""

from __future__ import annotations

import warnings

import numpy as np

from .core import OPS, Primitive, Trace, Tracer, TracerConversionError

__all__ = ["BatchTrace", "BatchTracer", "moveaxis_to_front", "BatchingFallbackWarning"]


class BatchingFallbackWarning(UserWarning):
    """A primitive without a batching rule was vmapped by looping over the batch."""


_warned: set[str] = set()


class BatchTracer(Tracer):
    """A batched value: ``value`` holds every example, stacked along ``bdim``."""

    __slots__ = ("value", "bdim")
    _state_slots = ("_trace", "value", "bdim")

    def __init__(self, trace, value, bdim):
        self._trace = trace
        self.value = value
        self.bdim = bdim

    def _primal(self):
        return self.value

    @property
    def shape(self):
        s = np.shape(self.value) if not isinstance(self.value, Tracer) else self.value.shape
        return s[: self.bdim] + s[self.bdim + 1 :]

    def __bool__(self):
        raise TracerConversionError(
            "A Python condition (if/while/and/or) on a value that differs across a vmap "
            "batch cannot be evaluated once for the whole batch; use np.where, or loop "
            "over the examples instead of vmap."
        )

    def __repr__(self):
        return f"BatchTracer(bdim={self.bdim}, value={self.value!r})"


class BatchTrace(Trace):
    """Carries a batch axis through every primitive."""

    __slots__ = ("axis_size",)

    def __init__(self, axis_size: int):
        super().__init__()
        self.axis_size = axis_size

    def new_input(self, value, bdim) -> BatchTracer:
        return BatchTracer(self, value, bdim)

    def constant(self, value):
        """A value that is the same for every example, broadcast along a new axis 0."""
        shape = value.shape if isinstance(value, Tracer) else np.shape(value)
        v = OPS["broadcast_to"](OPS["expand_dims"](value, 0), (self.axis_size, *shape))
        return BatchTracer(self, v, 0)

    def lower_args(self, args):
        vals = []
        dims = []
        for a in args:
            if isinstance(a, BatchTracer) and a._trace is self:
                vals.append(a.value)
                dims.append(a.bdim)
            else:
                vals.append(a)
                dims.append(None)
        return vals, dims

    def lower(self, x):
        if isinstance(x, BatchTracer) and x._trace is self:
            return moveaxis_to_front(x.value, x.bdim)
        return x

    def process(self, prim: Primitive, args, params):
        if prim.custom is not None:
            return prim.custom.process_batch(self, args, params)
        vals = []
        dims = []
        any_b = False
        for a in args:
            if isinstance(a, BatchTracer) and a._trace is self:
                vals.append(a.value)
                dims.append(a.bdim)
                any_b = True
            else:
                vals.append(a)
                dims.append(None)
        if not any_b:
            return prim.bind(*vals, **params)
        if prim.batch is not None:
            out, out_dim = prim.batch(vals, dims, **params)
        else:
            out, out_dim = self._loop(prim, vals, dims, params)
        if prim.multiple_results:
            return tuple(
                o if d is None else BatchTracer(self, o, d) for o, d in zip(out, out_dim)
            )
        if out_dim is None:
            return out
        return BatchTracer(self, out, out_dim)

    def _loop(self, prim, vals, dims, params):
        if prim.name not in _warned:
            _warned.add(prim.name)
            warnings.warn(
                f"mlcalc.vmap: {prim.name} has no batching rule; looping over the batch "
                "(correct, but slower).",
                BatchingFallbackWarning,
                stacklevel=4,
            )
        return loop_batch(prim, vals, dims, params, self.axis_size)


def loop_batch(prim, vals, dims, params, size):
    """Apply ``prim`` example by example and stack the results along axis 0."""
    outs = []
    for b in range(size):
        args_b = [
            v if d is None else OPS["_getitem"](v, (slice(None),) * d + (b,))
            for v, d in zip(vals, dims)
        ]
        outs.append(prim.bind(*args_b, **params))
    if prim.multiple_results:
        n = len(outs[0])
        return (
            tuple(OPS["stack"]([o[k] for o in outs], axis=0) for k in range(n)),
            (0,) * n,
        )
    return OPS["stack"](outs, axis=0), 0


def moveaxis_to_front(x, bdim):
    if bdim == 0 or bdim is None:
        return x
    return OPS["moveaxis"](x, bdim, 0)
