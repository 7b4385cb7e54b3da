"""The objective seen by every optimizer: a function of one flat float vector, with
derivatives from the engine (or the user), evaluation counters, and pytree
flattening of the user's parameters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..autodiff import tree
from ..autodiff.api import grad as _grad
from ..autodiff.api import hessian as _hessian
from ..autodiff.api import hvp as _hvp
from ..autodiff.api import value_and_grad as _value_and_grad

__all__ = ["Objective", "ravel_pytree"]


def ravel_pytree(params) -> tuple[np.ndarray, Callable[[np.ndarray], Any]]:
    """Flatten a pytree of float arrays into one vector; return it and the inverse map
    (``mc.tree.ravel``; a vector is its own flat form, unravelled by the identity)."""
    flat, unravel = tree.ravel(params)
    if tree.structure(params).kind is None and np.ndim(params) == 1:
        return flat, _identity
    return flat, unravel


class Objective:
    """``fun(params, *args)`` seen as a function of a flat vector, with counters.

    ``jac``/``hess``/``hvp``: user derivatives (callables of the params), or ``None`` for
    the engine's (reverse mode for the gradient, forward-over-reverse for Hessians).
    ``nfev``, ``njev``, ``nhev`` count evaluations as scipy does (a value-and-gradient
    call counts once in each of nfev and njev).
    """

    def __init__(self, fun, x0, args=(), jac=None, hess=None, hvp=None):
        self.fun = fun  # the user's function (a StochasticObjective is read by sgd & co.)
        self.x0, self.unravel = ravel_pytree(x0)
        self.args = tuple(args)
        self.nfev = self.njev = self.nhev = 0
        unravel, a = self.unravel, self.args
        self._f = lambda v: fun(unravel(v), *a)
        if jac is None:
            self._vg = _value_and_grad(self._f)
            self._g = _grad(self._f)
        else:
            self._vg = lambda v: (self._f(v), _flat(jac(unravel(v), *a)))
            self._g = lambda v: _flat(jac(unravel(v), *a))
        if hess is not None:
            self._h = lambda v: np.asarray(hess(unravel(v), *a), dtype=float).reshape(
                v.size, v.size
            )
        else:
            self._h = None  # the engine's Hessian, built at the first use
        if hvp is not None:
            self._hvp = lambda v, p: _flat(hvp(unravel(v), unravel(p), *a))
        elif hess is not None:
            self._hvp = lambda v, p: self._h(v) @ p
        else:
            self._hvp = lambda v, p: _hvp(self._f, (v,), (p,))

    def value(self, x: np.ndarray) -> float:
        self.nfev += 1
        return float(self._f(x))

    def grad(self, x: np.ndarray) -> np.ndarray:
        self.njev += 1
        return np.asarray(self._g(x), dtype=float)

    def value_and_grad(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        self.nfev += 1
        self.njev += 1
        f, g = self._vg(x)
        return float(f), np.asarray(g, dtype=float)

    def hess(self, x: np.ndarray) -> np.ndarray:
        self.nhev += 1
        if self._h is None:
            self._h = _hessian(self._f)
        return np.asarray(self._h(x), dtype=float).reshape(x.size, x.size)

    def hvp(self, x: np.ndarray, p: np.ndarray) -> np.ndarray:
        self.nhev += 1
        return np.asarray(self._hvp(x, p), dtype=float)


def _identity(v: np.ndarray) -> np.ndarray:
    return v


def _flat(g) -> np.ndarray:
    if type(g) is np.ndarray:  # the common case, without the pytree walk
        return g.astype(float).ravel()  # a copy: the caller may reuse its buffer
    return np.concatenate([np.ravel(np.asarray(leaf, dtype=float)) for leaf in tree.leaves(g)])
