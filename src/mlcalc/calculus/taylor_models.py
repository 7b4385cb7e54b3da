"""Taylor models of any order: the polynomial

    T_k(x) = Σ_{j=0..k} D^j f(x0)[h, …, h] / j!,   h = x − x0,

built from the exact derivative tensors D^j f(x0) (nested forward mode), for f of an
array x (any shape, a scalar included) with a scalar or array value.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Callable

import numpy as np

from ..autodiff.api import jacfwd

__all__ = ["taylor", "TaylorModel"]


def _shape(x) -> tuple[int, ...]:
    return tuple(x.shape) if hasattr(x, "shape") else np.shape(x)


@dataclasses.dataclass(frozen=True, eq=False)
class TaylorModel:
    """The order-k Taylor polynomial of f at ``point``.

    ``coefficients[j]`` is the j-th derivative tensor D^j f(point), symmetric in its
    last j axes, of shape ``value.shape + point.shape * j`` (``coefficients[0]`` is
    f(point), ``coefficients[1]`` the Jacobian/gradient, ``coefficients[2]`` the
    Hessian...). Calling the model on a point of ``point``'s shape gives
    Σ_j D^j f[h, …, h]/j! with h = x − point, shaped like f's value; on a batch of
    shape ``(n,) + point.shape`` it gives ``(n,) + value.shape``. Differentiable in x.
    For k+1 times differentiable f, f(x) − model(x) = O(‖h‖^(k+1)); a polynomial of
    degree ≤ k is reproduced exactly (to rounding).
    """

    point: np.ndarray
    order: int
    coefficients: tuple[np.ndarray, ...]

    @property
    def value(self) -> np.ndarray:
        """f(point)."""
        return self.coefficients[0]

    def _flat(self, j: int) -> np.ndarray:
        d = math.prod(self.point.shape)
        m = math.prod(_shape(self.value))
        return np.reshape(self.coefficients[j], (m,) + (d,) * j)

    def __call__(self, x):
        p_shape = tuple(self.point.shape)
        x_shape = _shape(x)
        d = math.prod(p_shape)
        out_shape = _shape(self.value)
        if x_shape == p_shape:
            batch = None
        elif len(x_shape) == len(p_shape) + 1 and x_shape[1:] == p_shape:
            batch = x_shape[0]
        else:
            raise ValueError(
                f"TaylorModel: x has shape {x_shape}, but the model was built at a point "
                f"of shape {p_shape}; pass one point of that shape or a batch "
                f"(n,) + {p_shape}."
            )
        n = 1 if batch is None else batch
        ht = np.reshape(x - self.point, (n, d)).T  # (d, n)
        total = np.reshape(self.value, (-1, 1)) * np.ones((1, n))  # (m, n)
        for j in range(1, self.order + 1):
            # contract the last axis of D^j with h, j times, keeping the batch axis last
            r = np.reshape(self._flat(j), (-1, d)) @ ht  # (m·d^(j-1), n)
            for _ in range(j - 1):
                r = np.sum(np.reshape(r, (-1, d, n)) * ht, axis=1)
            total = total + r / math.factorial(j)
        if batch is None:
            return np.reshape(total, out_shape)
        return np.reshape(total.T, (batch,) + out_shape)

    def polynomial(self) -> dict[tuple[int, ...], np.ndarray]:
        """The model as a polynomial in h = x − point (x flattened to d components):
        ``{α: c_α}`` with T(x) = Σ_α c_α h^α, c_α = ∂^α f(point)/α!, for every
        multi-index α (a tuple of d exponents) with |α| ≤ order, by degree. Each c_α
        has the shape of f's value."""
        d = math.prod(self.point.shape)
        out_shape = _shape(self.value)
        poly = {}
        for j in range(self.order + 1):
            T = self._flat(j)
            for idx in itertools.combinations_with_replacement(range(d), j):
                alpha = tuple(idx.count(i) for i in range(d))
                denom = math.prod(math.factorial(a) for a in alpha)
                poly[alpha] = np.reshape(T[(slice(None),) + idx], out_shape) / denom
        return poly


def taylor(f: Callable, x0, order: int = 2) -> TaylorModel:
    """The Taylor model of ``f`` at ``x0`` of the given ``order`` (any k ≥ 0):
    T_k(x) = Σ_{j≤k} D^j f(x0)[h, …, h]/j!, h = x − x0, exact to that order.

    D^j f(x0) is computed by j nested ``jacfwd`` (forward mode over forward mode: each
    entry is an exact mixed partial derivative, no finite differences). Cost: the j-th
    tensor takes d^j forward passes of nested order j (batched by vmap), with
    d = x0.size, so about Σ_j d^j · 2^j evaluations of f: cheap for the low dimensions
    Taylor models are used in. Returns a callable :class:`TaylorModel`.
    """
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)):
        raise TypeError(f"taylor: order must be an int, not {order!r}.")
    if order < 0:
        raise ValueError(f"taylor: order must be ≥ 0, not {order}.")
    x0 = np.asarray(x0)
    if x0.dtype.kind != "f":
        x0 = x0.astype(np.float64)
    shape = x0.shape
    d = math.prod(shape)

    def f_flat(z):
        return f(np.reshape(z, shape))

    z0 = x0.reshape(d)
    value = np.asarray(f_flat(z0))
    coefficients = [value]
    g = f_flat
    for j in range(1, int(order) + 1):
        g = jacfwd(g)
        D = np.asarray(g(z0))
        coefficients.append(D.reshape(value.shape + shape * j))
    return TaylorModel(point=x0, order=int(order), coefficients=tuple(coefficients))
