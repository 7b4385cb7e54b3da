"""vmap: vectorise a function over a batch axis.

``vmap(f, in_axes, out_axes)(*args)`` equals stacking ``f`` applied to each example,
computed in one pass: every primitive runs once on the whole batch through its
batching rule (or, lacking one, loops over the batch with a one-time warning).
Composes with every other transform in any order and depth.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from . import tree
from .batching import BatchTrace, BatchTracer
from .core import OPS, Tracer

__all__ = ["vmap"]


def _shape(x):
    return x.shape if isinstance(x, Tracer) else np.shape(x)


def _prefix_leaves(prefix, subtree, what: str) -> list:
    """Broadcast a pytree prefix of axes (ints/None) to the leaves of ``subtree``."""
    if prefix is None or isinstance(prefix, (int, np.integer)):
        return [prefix] * len(tree.leaves(subtree))
    p_kind = type(prefix)
    leaves_, td = tree.flatten(subtree)
    if td.kind is None:
        raise ValueError(f"vmap: {what} {prefix!r} has more structure than the value it describes.")
    if isinstance(prefix, dict):
        if not isinstance(subtree, dict) or set(prefix) != set(subtree):
            raise ValueError(f"vmap: {what} {prefix!r} does not match the value's structure.")
        keys = sorted(subtree, key=lambda k: (str(type(k)), k))
        children_p = [prefix[k] for k in keys]
        children_t = [subtree[k] for k in keys]
    else:
        children_t = list(subtree) if isinstance(subtree, (tuple, list)) else None
        if children_t is None or not isinstance(prefix, (tuple, list)) or len(prefix) != len(
            children_t
        ):
            raise ValueError(
                f"vmap: {what} {prefix!r} ({p_kind.__name__}) does not match the value's "
                f"structure ({type(subtree).__name__} of {len(tree.leaves(subtree))} leaves)."
            )
        children_p = list(prefix)
    out = []
    for p, t in zip(children_p, children_t):
        out.extend(_prefix_leaves(p, t, what))
    return out


def vmap(fun: Callable, in_axes: Any = 0, out_axes: Any = 0, axis_size: int | None = None):
    """Vectorise ``fun`` over an axis of its arguments.

    ``in_axes``: an int, ``None`` (not batched) or a pytree prefix of the arguments
    (a tuple with one entry per positional argument) saying which axis of each leaf is
    the batch axis. ``out_axes`` likewise for the outputs. The batch size must agree
    across batched leaves; ``axis_size`` is needed only when no argument is batched.
    """
    if isinstance(in_axes, list):
        in_axes = tuple(in_axes)

    @functools.wraps(fun)
    def vmapped(*args):
        if isinstance(in_axes, tuple) and len(in_axes) != len(args):
            raise ValueError(
                f"vmap: in_axes has {len(in_axes)} entries but {getattr(fun, '__name__', 'fun')} "
                f"was called with {len(args)} positional arguments."
            )
        leaves_, td = tree.flatten(args)
        axes = _prefix_leaves(in_axes if isinstance(in_axes, tuple) else in_axes, args, "in_axes")
        sizes = {}
        norm_axes = []
        for leaf, ax in zip(leaves_, axes):
            if ax is None:
                norm_axes.append(None)
                continue
            shape = _shape(leaf)
            if not -len(shape) <= ax < len(shape):
                raise ValueError(
                    f"vmap: in_axes {ax} is out of range for an argument of shape {shape}."
                )
            ax = ax % len(shape)
            norm_axes.append(ax)
            sizes.setdefault(shape[ax], []).append(shape)
        if len(sizes) > 1:
            detail = "; ".join(f"size {n} from shapes {s}" for n, s in sizes.items())
            raise ValueError(f"vmap: batched arguments disagree on the batch size: {detail}.")
        if sizes:
            size = next(iter(sizes))
        elif axis_size is not None:
            size = axis_size
        else:
            raise ValueError("vmap: no argument is batched (all in_axes are None); pass axis_size.")
        trace = BatchTrace(size)
        ins = [
            leaf if ax is None else BatchTracer(trace, leaf, ax)
            for leaf, ax in zip(leaves_, norm_axes)
        ]
        with trace:
            out = fun(*tree.unflatten(td, ins))
        o_leaves, o_def = tree.flatten(out)
        o_axes = _prefix_leaves(out_axes, out, "out_axes")
        results = []
        for o, ax in zip(o_leaves, o_axes):
            batched = isinstance(o, BatchTracer) and o._trace is trace
            if ax is None:
                if batched:
                    raise ValueError(
                        "vmap: out_axes is None for an output that varies over the batch."
                    )
                results.append(o)
                continue
            if batched:
                v, d = o.value, o.bdim
            else:
                v = OPS["broadcast_to"](OPS["expand_dims"](o, 0), (size, *_shape(o)))
                d = 0
            nd = len(_shape(v))
            ax = ax % nd
            results.append(v if d == ax else OPS["moveaxis"](v, d, ax))
        return tree.unflatten(o_def, results)

    return vmapped
