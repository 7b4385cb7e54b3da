"""What the framework adapters share: the data passes (fixed arrays or a re-iterable of
batches, weighted by batch size), the NumPy float64 boundary, and the loops that sum
per-batch gradients and curvature products into full-data quantities.

A subclass supplies the per-batch computations in its framework (``_batch_*`` hooks);
this base class turns them into the attributes and methods of the problem protocol
(see :class:`mlcalc.models.Problem`).
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ..models.problem import ParamInfo

__all__ = ["FrameworkProblem"]


def _is_array_pair(data: Any) -> bool:
    """True for ``(X, y)``: two array-likes with a leading (example) axis."""
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        return False
    return all(hasattr(d, "shape") and len(d.shape) >= 1 for d in data)


class FrameworkProblem:
    """Base of the framework adapters: the problem protocol on top of per-batch hooks.

    Everything that crosses the boundary is a NumPy float64 vector of length ``dim``;
    inside, each batch is computed by the framework in the model's dtype.
    """

    framework = "framework"

    # set by subclasses -------------------------------------------------------
    flat_params: np.ndarray
    layout: tuple[ParamInfo, ...]
    params: Any
    name: str

    # ------------------------------------------------------------------ data
    def _init_layout_and_data(self, layout, data: Any, batch_size: int | None,
                              where: str) -> None:
        """The layout (given, or inferred from the framework's parameters) must cover
        the ``dim`` parameters (``where``: where they are, for the message); then the
        data."""
        self.layout = tuple(layout) if layout is not None else self._infer_layout()
        covered = sum(p.size for p in self.layout)
        if covered != self.dim:
            raise ValueError(
                f"layout covers {covered} parameters but there are {self.dim} {where}; give "
                "one ParamInfo per parameter array, or layout=None to infer it"
            )
        self._init_data(data, batch_size)

    def _init_data(self, data: Any, batch_size: int | None) -> None:
        if batch_size is not None and (
            isinstance(batch_size, bool) or int(batch_size) != batch_size or batch_size < 1
        ):
            raise ValueError(f"batch_size must be a positive integer or None, got {batch_size!r}")
        self.batch_size = None if batch_size is None else int(batch_size)
        if _is_array_pair(data):
            X, y = data
            if X.shape[0] != y.shape[0]:
                raise ValueError(
                    f"data: X has {X.shape[0]} examples (shape {tuple(X.shape)}) but y has "
                    f"{y.shape[0]} (shape {tuple(y.shape)}); both need the examples along "
                    "axis 0"
                )
            self._loader = None
            self.X, self.y = self._convert_batch(X, y)
            self._n = int(X.shape[0])
            if self._n == 0:
                raise ValueError("data: X and y hold no examples")
            return
        if isinstance(data, (tuple, list)) and len(data) == 2 and not all(
            isinstance(d, (tuple, list)) for d in data
        ):
            raise TypeError(
                "data: expected (X, y) arrays with the examples along axis 0, or a "
                "re-iterable of (X_batch, y_batch) pairs such as a DataLoader; got a pair of "
                f"{type(data[0]).__name__} and {type(data[1]).__name__}"
            )
        if not hasattr(data, "__iter__"):
            raise TypeError(
                "data: expected (X, y) arrays or a re-iterable of (X_batch, y_batch) pairs "
                f"(a DataLoader, a list of batches); got {type(data).__name__}"
            )
        if iter(data) is data:
            raise TypeError(
                "data: a one-shot iterator (e.g. a generator) cannot be passed over more than "
                "once; pass a DataLoader, a list of (X_batch, y_batch) pairs, or (X, y)"
            )
        if self.batch_size is not None:
            raise ValueError(
                "batch_size applies to (X, y) arrays; data given as batches (a DataLoader or "
                "a list of batches) is used with its own batches: leave batch_size=None"
            )
        self._loader = data
        self.X = self.y = None
        self._n = self._count_examples(data)
        if self._n == 0:
            raise ValueError("data: the batches hold no examples")

    @staticmethod
    def _count_examples(loader: Any) -> int:
        """Examples in one pass: from a DataLoader's sampler when it says, otherwise by
        iterating once over the batches (no model evaluation)."""
        batch = getattr(loader, "batch_size", None)
        sampler = getattr(loader, "sampler", None)
        if batch is not None and sampler is not None:
            try:
                n = len(sampler)
            except TypeError:
                pass
            else:
                if getattr(loader, "drop_last", False) and n % batch:
                    warnings.warn(
                        f"the DataLoader has drop_last=True: {n % batch} of its {n} examples "
                        "are left out of every pass (a different set in each pass when it "
                        "shuffles, which makes the loss change from call to call)",
                        UserWarning,
                        stacklevel=4,
                    )
                    return (n // batch) * batch
                return n
        return sum(len(FrameworkProblem._split_pair(b)[0]) for b in loader)

    @staticmethod
    def _split_pair(batch: Any) -> tuple[Any, Any]:
        if not isinstance(batch, (tuple, list)) or len(batch) != 2:
            raise TypeError(
                "each batch must be a pair (X_batch, y_batch); got "
                f"{type(batch).__name__}"
                + (f" of length {len(batch)}" if isinstance(batch, (tuple, list)) else "")
            )
        return batch[0], batch[1]

    @property
    def n_examples(self) -> int:
        """Number of examples in one pass over the data."""
        return self._n

    def batches(self) -> Iterator[tuple[Any, Any, float]]:
        """Mini-batches ``(X_b, y_b, weight_b)`` as framework arrays on the problem's
        device, ``weight_b = len(X_b) / n`` so that Σ weight_b = 1 and weighted sums of
        batch means are full-data means."""
        n = self._n
        if self._loader is None:
            size = n if self.batch_size is None else min(self.batch_size, n)
            for start in range(0, n, size):
                stop = min(start + size, n)
                yield self.X[start:stop], self.y[start:stop], (stop - start) / n
            return
        seen = 0
        for batch in self._loader:
            Xb, yb = self._split_pair(batch)
            if len(Xb) != len(yb):
                raise ValueError(
                    f"a batch has {len(Xb)} inputs (shape {tuple(Xb.shape)}) but {len(yb)} "
                    f"targets (shape {tuple(yb.shape)})"
                )
            seen += len(Xb)
            Xb, yb = self._convert_batch(Xb, yb)
            yield Xb, yb, len(Xb) / n
        if seen != n:
            raise RuntimeError(
                f"the batches held {seen} examples in this pass but {n} when the problem was "
                "built; the data must be the same examples in every pass (shuffling is "
                "fine, a changing data set or a sampler that draws with replacement is not)"
            )

    # -------------------------------------------------------------- parameters
    @property
    def dim(self) -> int:
        """Number of trainable parameters (length of the flat vector)."""
        return int(self.flat_params.size)

    def _w(self, w: Any) -> np.ndarray:
        if w is None:
            return self.flat_params
        w = self._to_numpy(w)
        if w.shape != (self.dim,):
            raise ValueError(
                f"expected a flat parameter vector of shape ({self.dim},), got shape {w.shape}"
            )
        return w

    def _v(self, v: Any) -> np.ndarray:
        v = self._to_numpy(v)
        if v.shape != (self.dim,):
            raise ValueError(
                f"expected a direction vector of shape ({self.dim},), got shape {v.shape}"
            )
        return v

    def with_params(self, params: Any) -> FrameworkProblem:
        """The same problem (same model, loss and data) at other parameters: a flat
        vector of length ``dim`` or the framework's parameter structure."""
        flat = self._flatten_params(params)
        if flat.shape != (self.dim,):
            raise ValueError(
                f"with_params: expected {self.dim} parameters, got {flat.size}"
            )
        new = copy.copy(self)
        new.flat_params = flat
        new.params = new.unravel(flat)
        return new

    # ------------------------------------------------------------------ values
    def loss(self, w: Any = None) -> float:
        """L(w) = Σ_b (|b|/n) · mean loss on batch b, the full-data mean loss."""
        wf = self._to_framework(self._w(w))
        return float(sum(wt * self._batch_loss(wf, Xb, yb) for Xb, yb, wt in self.batches()))

    def value_and_grad(self, w: Any = None) -> tuple[float, np.ndarray]:
        """(L(w), ∇L(w)) in one reverse pass per mini-batch."""
        wf = self._to_framework(self._w(w))
        total, g = 0.0, np.zeros(self.dim)
        for Xb, yb, wt in self.batches():
            val, gb = self._batch_value_and_grad(wf, Xb, yb)
            total += wt * val
            g += wt * self._to_numpy(gb)
        return float(total), g

    def grad(self, w: Any = None) -> np.ndarray:
        """∇L(w)."""
        return self.value_and_grad(w)[1]

    def accuracy(self, w: Any = None) -> float | None:
        """Fraction of correct argmax predictions (or of positive logits for one output)
        when the targets are integer class labels; ``None`` otherwise."""
        wf = self._to_framework(self._w(w))
        correct = 0
        for Xb, yb, _ in self.batches():
            labels = self._to_numpy_raw(yb)
            if not np.issubdtype(labels.dtype, np.integer):
                return None
            out = self._to_numpy(self._batch_outputs(wf, Xb))
            if out.ndim > 1 and out.shape[-1] > 1:
                pred = out.argmax(axis=-1)
            else:
                pred = (out.reshape(-1) > 0).astype(int)
            correct += int(np.sum(pred == labels.reshape(pred.shape)))
        return correct / self._n

    # --------------------------------------------------------------- curvature
    def _batch_weighted_sum(self, batch_product: Callable, w: Any, v: Any) -> np.ndarray:
        """Σ_b (|b|/n) · batch_product(w, v, X_b, y_b): a full-data product from the
        framework's per-batch one, in float64."""
        wf = self._to_framework(self._w(w))
        vf = self._to_framework(self._v(v))
        out = np.zeros(self.dim)
        for Xb, yb, wt in self.batches():
            out += wt * self._to_numpy(batch_product(wf, vf, Xb, yb))
        return out

    def hvp(self, w: Any, v: Any) -> np.ndarray:
        """∇²L(w)·v, exact, summed over mini-batches with weights |b|/n."""
        return self._batch_weighted_sum(self._batch_hvp, w, v)

    def ggn_vp(self, w: Any, v: Any) -> np.ndarray:
        """Generalised Gauss–Newton product G v = Jᵀ H_ℓ J v, J = ∂outputs/∂w and H_ℓ
        the Hessian of the loss in the outputs (one JVP, one loss HVP, one VJP per
        mini-batch)."""
        return self._batch_weighted_sum(self._batch_ggn_vp, w, v)

    def per_example_grads(self, w: Any, Xb: Any, yb: Any) -> np.ndarray:
        """Gradients of the per-example losses on one batch, shape (len(Xb), dim)
        (vmap of grad; memory len(Xb) × dim)."""
        wf = self._to_framework(self._w(w))
        if not self._is_native(Xb) or not self._is_native(yb):
            Xb, yb = self._convert_batch(Xb, yb)
        return self._to_numpy(self._batch_per_example_grads(wf, Xb, yb))

    def fisher_vp(self, w: Any, v: Any) -> np.ndarray:
        """Empirical Fisher product F v = (1/n) Σᵢ gᵢ (gᵢ·v), gᵢ the per-example
        gradients (one vmapped gradient per mini-batch; memory |b| × dim)."""
        return self._batch_weighted_sum(self._batch_fisher_vp, w, v)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.name!r}, {self.dim} parameters, "
            f"{self.n_examples} examples, batch_size={self.batch_size})"
        )

    # ------------------------------------------------------- framework hooks
    def unravel(self, w: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def _flatten_params(self, params: Any) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def _convert_batch(self, X: Any, y: Any) -> tuple[Any, Any]:  # pragma: no cover
        raise NotImplementedError

    def _is_native(self, a: Any) -> bool:  # pragma: no cover
        raise NotImplementedError

    def _to_framework(self, w: np.ndarray) -> Any:  # pragma: no cover
        raise NotImplementedError

    def _to_numpy_raw(self, a: Any) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def _to_numpy(self, a: Any) -> np.ndarray:
        """A framework array (or anything array-like) as a float64 NumPy array."""
        return np.asarray(self._to_numpy_raw(a), dtype=np.float64)
