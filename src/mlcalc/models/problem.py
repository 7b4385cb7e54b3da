"""A ``Problem`` bundles a model, a loss, a data set and parameters, so that every
landscape instrument takes one object.

Conventions
-----------
* ``model(params, X) -> outputs`` for a batch ``X`` of shape ``(n, ...)``;
  ``loss(outputs, y) -> scalar``, the **mean** over the batch.
* The full-data loss is L(w) = (1/n) Σᵢ ℓ(model(w, xᵢ), yᵢ) (+ ``regularizer(params)``),
  computed over mini-batches of ``batch_size`` examples in a fixed order and weighted
  by their sizes, so the value does not depend on the batch size.
* Instruments work on the **flat** parameter vector w (float64, the leaves of the
  params pytree raveled and concatenated in pytree order); ``unravel(w)`` gives the
  pytree back. ``layout`` describes each leaf (offset, shape, kind, filter axis) for
  filter normalisation.

Every curvature product is exact and matrix-free:

* ``hvp(w, v)``: ∇²L(w)·v, forward-over-reverse, summed over mini-batches;
* ``ggn_vp(w, v)``: the generalised Gauss–Newton Jᵀ H_ℓ J v, with J = ∂outputs/∂w and
  H_ℓ the Hessian of the loss with respect to the outputs;
* ``fisher_vp(w, v)``: the empirical Fisher (1/n) Σᵢ gᵢ gᵢᵀ v from per-example
  gradients gᵢ (vmap). For cross-entropy and squared error the true Fisher equals the
  Gauss–Newton matrix, ``ggn_vp``.

Framework adapters (``mlcalc.adapters``) provide objects with the same attributes and
methods, so every instrument runs on their models too.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ..autodiff import tree
from ..autodiff.api import grad, hvp, jvp, value_and_grad, vjp
from ..autodiff.vmap import vmap

__all__ = ["Problem", "ParamInfo", "infer_layout"]


@dataclasses.dataclass(frozen=True)
class ParamInfo:
    """One leaf of the parameter pytree inside the flat vector.

    ``kind`` is ``"weight"`` (a matrix or a convolution kernel), ``"bias"`` (1-D) or
    ``"norm"`` (scale/shift of a normalisation layer); ``filter_axis`` is the axis that
    indexes filters (output units) for filter normalisation, ``None`` for non-weights.
    """

    name: str
    offset: int
    shape: tuple[int, ...]
    kind: str
    filter_axis: int | None

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=int))

    @property
    def slice(self) -> slice:
        return slice(self.offset, self.offset + self.size)


_NORM_NAMES = ("norm", "gamma", "beta", "scale", "ln", "bn")


def _leaf_names(params) -> list[str]:
    """Readable paths of the leaves of a pytree, in flatten order."""
    out: list[str] = []

    def walk(x, path):
        if isinstance(x, dict):
            for k in sorted(x, key=str):
                walk(x[k], f"{path}.{k}" if path else str(k))
        elif isinstance(x, (list, tuple)) and not hasattr(x, "_fields"):
            for i, c in enumerate(x):
                walk(c, f"{path}[{i}]")
        elif hasattr(x, "_fields"):
            for k in x._fields:
                walk(getattr(x, k), f"{path}.{k}" if path else k)
        elif dataclasses.is_dataclass(x) and not isinstance(x, type):
            for f in dataclasses.fields(x):
                walk(getattr(x, f.name), f"{path}.{f.name}" if path else f.name)
        else:
            out.append(path or "params")

    walk(params, "")
    return out


def infer_layout(params) -> tuple[ParamInfo, ...]:
    """Describe the leaves of ``params``: matrices ``(in, out)`` are weights whose
    filters are columns (``filter_axis=-1``, the layout of ``X @ W``); kernels of
    rank ≥ 3 ``(out_channels, ...)`` have filters along axis 0; 1-D leaves are biases,
    or normalisation parameters when their name says so (norm, gamma, beta, scale)."""
    leaves = tree.leaves(params)
    names = _leaf_names(params)
    if len(names) != len(leaves):  # registered custom nodes: fall back to indices
        names = [f"leaf{i}" for i in range(len(leaves))]
    infos = []
    offset = 0
    for name, leaf in zip(names, leaves):
        shape = tuple(np.shape(leaf))
        lowered = name.lower()
        if len(shape) >= 3:
            kind, axis = "weight", 0
        elif len(shape) == 2:
            kind, axis = "weight", 1
        elif any(tag in lowered.replace("[", ".").split(".")[-1] for tag in _NORM_NAMES):
            kind, axis = "norm", None
        else:
            kind, axis = "bias", None
        infos.append(ParamInfo(name, offset, shape, kind, axis))
        offset += int(np.prod(shape, dtype=int))
    return tuple(infos)


class Problem:
    """A model, a loss, a data set ``(X, y)`` and parameters, seen as the full-data
    loss L(w) of the flat parameter vector w.

    Parameters
    ----------
    model : ``model(params, X) -> outputs``, written with NumPy (differentiated by the
        engine).
    loss : ``loss(outputs, y) -> scalar``, the mean over the batch.
    data : ``(X, y)`` arrays with the examples along axis 0.
    params : the parameter pytree (the point the instruments look at by default).
    batch_size : examples per mini-batch for sums over the data (``None``: all at once).
    regularizer : optional ``regularizer(params) -> scalar`` added to the loss.
    layout : optional ``ParamInfo`` tuple overriding :func:`infer_layout`.
    """

    def __init__(
        self,
        model: Callable,
        loss: Callable,
        data: tuple[np.ndarray, np.ndarray],
        params: Any,
        batch_size: int | None = None,
        regularizer: Callable | None = None,
        layout: tuple[ParamInfo, ...] | None = None,
        name: str = "problem",
    ) -> None:
        X, y = data
        X = np.asarray(X)
        y = np.asarray(y)
        if X.shape[0] != y.shape[0]:
            raise ValueError(
                f"data: X has {X.shape[0]} examples (shape {X.shape}) but y has "
                f"{y.shape[0]} (shape {y.shape}); both need the examples along axis 0"
            )
        if batch_size is not None and (int(batch_size) != batch_size or batch_size < 1):
            raise ValueError(f"batch_size must be a positive integer or None, got {batch_size!r}")
        self.model = model
        self.loss_fn = loss
        self.X, self.y = X, y
        self.batch_size = None if batch_size is None else int(batch_size)
        self.regularizer = regularizer
        self.name = name
        self.params = params
        self.flat_params, self.unravel = tree.ravel(params)
        self.layout = tuple(layout) if layout is not None else infer_layout(params)
        if sum(p.size for p in self.layout) != self.flat_params.size:
            raise ValueError(
                f"layout covers {sum(p.size for p in self.layout)} parameters but params "
                f"has {self.flat_params.size}"
            )

    # ----------------------------------------------------------------- basics
    @property
    def dim(self) -> int:
        """Number of parameters (length of the flat vector)."""
        return int(self.flat_params.size)

    @property
    def n_examples(self) -> int:
        return int(self.X.shape[0])

    def with_params(self, params: Any) -> Problem:
        """The same problem at other parameters (a pytree or a flat vector)."""
        if isinstance(params, np.ndarray) and params.shape == (self.dim,):
            params = self.unravel(params)
        return Problem(
            self.model, self.loss_fn, (self.X, self.y), params, self.batch_size,
            self.regularizer, self.layout, self.name,
        )

    def batches(self) -> Iterator[tuple[np.ndarray, np.ndarray, float]]:
        """Mini-batches ``(X_b, y_b, weight_b)`` in a fixed order; Σ weight_b = 1."""
        n = self.n_examples
        size = n if self.batch_size is None else min(self.batch_size, n)
        for start in range(0, n, size):
            stop = min(start + size, n)
            yield self.X[start:stop], self.y[start:stop], (stop - start) / n

    def _w(self, w) -> np.ndarray:
        if w is None:
            return self.flat_params
        w = np.asarray(w, dtype=float)
        if w.shape != (self.dim,):
            raise ValueError(
                f"expected a flat parameter vector of shape ({self.dim},), got shape {w.shape}"
            )
        return w

    def batch_loss(self, w, Xb, yb):
        """Mean loss on one batch as a function of the flat vector w (traceable)."""
        return self.loss_fn(self.model(self.unravel(w), Xb), yb)

    def _reg(self, w):
        return 0.0 if self.regularizer is None else self.regularizer(self.unravel(w))

    # ----------------------------------------------------------------- values
    def loss(self, w=None) -> float:
        """L(w), the full-data mean loss (+ regularizer)."""
        w = self._w(w)
        total = sum(wt * float(self.batch_loss(w, Xb, yb)) for Xb, yb, wt in self.batches())
        return float(total + float(self._reg(w)))

    def value_and_grad(self, w=None) -> tuple[float, np.ndarray]:
        """(L(w), ∇L(w)) in one reverse pass per mini-batch."""
        w = self._w(w)
        total, g = 0.0, np.zeros(self.dim)
        vg = value_and_grad(self.batch_loss)
        for Xb, yb, wt in self.batches():
            v, gb = vg(w, Xb, yb)
            total += wt * float(v)
            g += wt * np.asarray(gb, dtype=float)
        if self.regularizer is not None:
            v, gr = value_and_grad(self._reg)(w)
            total += float(v)
            g += np.asarray(gr, dtype=float)
        return float(total), g

    def grad(self, w=None) -> np.ndarray:
        """∇L(w)."""
        return self.value_and_grad(w)[1]

    def accuracy(self, w=None) -> float | None:
        """Fraction of correct argmax predictions when y holds integer class labels
        (``None`` otherwise)."""
        if not np.issubdtype(self.y.dtype, np.integer):
            return None
        params = self.unravel(self._w(w))
        out = np.asarray(self.model(params, self.X))
        pred = out.argmax(axis=-1) if out.ndim > 1 and out.shape[-1] > 1 else (
            out.reshape(-1) > 0).astype(int)
        return float(np.mean(pred == self.y))

    # ----------------------------------------------------------------- curvature
    def hvp(self, w, v) -> np.ndarray:
        """∇²L(w)·v (forward-over-reverse, ≈ 4 loss evaluations per mini-batch)."""
        w = self._w(w)
        v = np.asarray(v, dtype=float)
        out = np.zeros(self.dim)
        for Xb, yb, wt in self.batches():
            def batch(u, Xb=Xb, yb=yb):
                return self.batch_loss(u, Xb, yb)

            out += wt * np.asarray(hvp(batch, (w,), (v,)))
        if self.regularizer is not None:
            out += np.asarray(hvp(self._reg, (w,), (v,)))
        return out

    def ggn_vp(self, w, v) -> np.ndarray:
        """Generalised Gauss–Newton product G v = Jᵀ H_ℓ J v (+ the regularizer's
        Hessian): one JVP of the model, one HVP of the loss in the outputs, one VJP."""
        w = self._w(w)
        v = np.asarray(v, dtype=float)
        out = np.zeros(self.dim)
        for Xb, yb, wt in self.batches():
            def net(u, Xb=Xb):
                return self.model(self.unravel(u), Xb)

            outputs, Jv = jvp(net, (w,), (v,))
            HJv = hvp(lambda o, yb=yb: self.loss_fn(o, yb), (np.asarray(outputs),), (Jv,))
            _, pull = vjp(net, w)
            out += wt * np.asarray(pull(np.asarray(HJv))[0], dtype=float)
        if self.regularizer is not None:
            out += np.asarray(hvp(self._reg, (w,), (v,)))
        return out

    def per_example_grads(self, w, Xb, yb) -> np.ndarray:
        """Gradients of the per-example losses on a batch, shape (len(Xb), dim): one
        batched pass (vmap), or a loop when the loss cannot run under vmap."""
        w = self._w(w)

        def single(u, x, t):
            return self.loss_fn(self.model(self.unravel(u), x[None]), t[None])

        try:
            return np.asarray(vmap(grad(single), in_axes=(None, 0, 0))(w, Xb, yb), dtype=float)
        except TypeError:  # a loss that indexes with its labels: one example at a time
            g = grad(single)
            return np.stack([np.asarray(g(w, x, t), dtype=float) for x, t in zip(Xb, yb)])

    def fisher_vp(self, w, v) -> np.ndarray:
        """Empirical Fisher product F v = (1/n) Σᵢ gᵢ (gᵢ·v), gᵢ per-example gradients."""
        w = self._w(w)
        v = np.asarray(v, dtype=float)
        out = np.zeros(self.dim)
        for Xb, yb, wt in self.batches():
            G = self.per_example_grads(w, Xb, yb)
            out += wt * (G.T @ (G @ v)) / G.shape[0]
        return out

    def __repr__(self) -> str:
        return (
            f"Problem({self.name!r}, {self.dim} parameters, {self.n_examples} examples, "
            f"batch_size={self.batch_size})"
        )
