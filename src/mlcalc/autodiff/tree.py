"""Pytrees: nested containers of arrays that every transform accepts.

Containers are tuples, lists, dicts (flattened in sorted key order), namedtuples,
dataclasses and any type registered with :func:`register`. ``None`` is an empty
container. Everything else is a leaf.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

__all__ = [
    "register",
    "flatten",
    "unflatten",
    "leaves",
    "map",
    "structure",
    "ravel",
    "TreeDef",
]

_registry: dict[type, tuple[Callable, Callable]] = {}


def register(cls: type, flatten_fn: Callable, unflatten_fn: Callable) -> type:
    """Register ``cls`` as a pytree node.

    ``flatten_fn(obj) -> (children, aux)`` gives a sequence of children and hashable
    auxiliary data; ``unflatten_fn(aux, children) -> obj`` rebuilds the node.
    """
    _registry[cls] = (flatten_fn, unflatten_fn)
    return cls


class TreeDef(NamedTuple):
    """The structure of a pytree: node type, auxiliary data, children structures."""

    kind: Any
    aux: Any
    children: tuple

    @property
    def num_leaves(self) -> int:
        if self.kind is None:
            return 1
        return sum(c.num_leaves for c in self.children)


_LEAF = TreeDef(None, None, ())


_LEAF_TYPES = (float, int, bool, complex, str)


def _node_info(x):
    t = type(x)
    if t in _LEAF_TYPES or hasattr(x, "__array_priority__") and t not in _registry:
        return None  # arrays, NumPy scalars, traced values: leaves
    if t is tuple or t is list:
        return t, None, list(x)
    if t is dict:
        keys = sorted(x.keys(), key=_sort_key)
        return dict, tuple(keys), [x[k] for k in keys]
    if x is None:
        return type(None), None, []
    if t in _registry:
        fl, _ = _registry[t]
        children, aux = fl(x)
        return t, aux, list(children)
    if isinstance(x, tuple) and hasattr(t, "_fields"):
        return t, None, list(x)
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        names = tuple(f.name for f in dataclasses.fields(x) if f.init)
        return t, names, [getattr(x, n) for n in names]
    return None


def _sort_key(k):
    return (type(k).__name__, k) if not isinstance(k, (int, float, str)) else (
        "0" if not isinstance(k, str) else "1",
        k,
    )


def flatten(tree) -> tuple[list, TreeDef]:
    """Leaves of ``tree`` in a canonical order, and its structure."""
    out: list = []
    return out, _flatten(tree, out)


def _flatten(x, out):
    info = _node_info(x)
    if info is None:
        out.append(x)
        return _LEAF
    kind, aux, children = info
    return TreeDef(kind, aux, tuple(_flatten(c, out) for c in children))


def unflatten(treedef: TreeDef, leaves_) -> Any:
    """Rebuild a pytree of structure ``treedef`` from a sequence of leaves."""
    it = iter(leaves_)
    result = _unflatten(treedef, it)
    return result


def _unflatten(td: TreeDef, it):
    if td.kind is None:
        return next(it)
    children = [_unflatten(c, it) for c in td.children]
    kind = td.kind
    if kind is tuple:
        return tuple(children)
    if kind is list:
        return children
    if kind is dict:
        return dict(zip(td.aux, children))
    if kind is type(None):
        return None
    if kind in _registry:
        return _registry[kind][1](td.aux, children)
    if issubclass(kind, tuple):
        return kind(*children)
    return kind(**dict(zip(td.aux, children)))


def leaves(tree) -> list:
    return flatten(tree)[0]


def structure(tree) -> TreeDef:
    return flatten(tree)[1]


def map(fn: Callable, tree, *rest):  # noqa: A001 - mirrors jax.tree.map
    """Apply ``fn`` leafwise to one or more pytrees of the same structure."""
    lv, td = flatten(tree)
    others = []
    for r in rest:
        lr, tr = flatten(r)
        if tr != td:
            raise ValueError(f"pytree structures differ: {td} and {tr}")
        others.append(lr)
    return unflatten(td, [fn(*xs) for xs in zip(lv, *others)])


def ravel(tree, dtype: Any = float) -> tuple[np.ndarray, Callable[[Any], Any]]:
    """The leaves of ``tree`` (plain arrays or numbers) as one vector, in
    :func:`flatten` order, and ``unravel(v)`` mapping a vector of that length (plain or
    traced) back to a pytree of the same structure and leaf shapes. ``dtype``: of the
    vector, float64 by default; ``None`` keeps the leaves' common dtype
    (``np.result_type``). Cost: one copy."""
    leaves_, td = flatten(tree)
    arrays = [np.asarray(leaf) for leaf in leaves_]
    if dtype is None:
        dtype = np.result_type(*arrays) if arrays else float
    arrays = [a.astype(dtype, copy=False) for a in arrays]
    shapes = [a.shape for a in arrays]
    ends = np.cumsum([a.size for a in arrays]).tolist()
    flat = np.concatenate([a.ravel() for a in arrays]) if arrays else np.zeros(0, dtype)

    def unravel(v):
        n = ends[-1] if ends else 0
        if np.shape(v) != (n,):
            raise ValueError(
                f"unravel: expected a vector of shape ({n},) for a pytree of {len(shapes)} "
                f"leaves, got shape {np.shape(v)}"
            )
        starts = [0] + ends[:-1]
        parts = [v[i:j].reshape(s) for i, j, s in zip(starts, ends, shapes)]
        return unflatten(td, parts)

    return flat, unravel
