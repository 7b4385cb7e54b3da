"""JAX adapter: a function ``apply_fn(params, X)``, its parameter pytree, a loss and data
as a problem (the protocol of :class:`mlcalc.models.Problem`), with every derivative
computed by JAX and compiled with ``jax.jit``.

Computation runs in the parameters' dtype on JAX's default device (a GPU when JAX has
one). JAX computes in float32 unless ``jax.config.update("jax_enable_x64", True)`` was
called before the arrays were made; everything that comes back is a NumPy float64
vector either way, so a float32 model gives float32 accuracy in float64 containers.

JAX is optional: it is imported when a :class:`JaxProblem` is built.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..models.problem import ParamInfo
from ._common import FrameworkProblem

__all__ = ["JaxProblem"]

_INSTALL = (
    "mlcalc.adapters.jax needs JAX, which is not installed. Install it with "
    "`pip install jax jaxlib` (mlcalc itself does not depend on it)."
)

_NORM_TAGS = ("norm", "scale", "gamma", "beta")
_NORM_EXACT = ("ln", "bn")


def _import_jax():
    try:
        import jax
        import jax.numpy as jnp
    except ImportError as exc:  # pragma: no cover - exercised with jax hidden
        raise ImportError(_INSTALL) from exc
    return jax, jnp


def _key_name(entry: Any) -> str:
    """One step of a JAX key path (DictKey, SequenceKey, GetAttrKey, ...) as text."""
    for attr in ("key", "idx", "name"):
        if hasattr(entry, attr):
            return str(getattr(entry, attr))
    return str(entry)


class _Spec:
    """The static part of a JAX problem (model, loss, parameter structure), hashed by
    the identity of the functions, so that compiled code is shared between problems
    built from the same functions (``with_params`` copies, several data sets)."""

    __slots__ = ("apply_fn", "loss_fn", "treedef", "shapes", "sizes", "dtypes", "_key")

    def __init__(self, apply_fn, loss_fn, treedef, shapes, sizes, dtypes):
        self.apply_fn, self.loss_fn = apply_fn, loss_fn
        self.treedef, self.shapes, self.sizes, self.dtypes = treedef, shapes, sizes, dtypes
        self._key = (id(apply_fn), id(loss_fn), treedef, shapes, tuple(map(str, dtypes)))

    def __hash__(self) -> int:
        return hash(self._key)

    def __eq__(self, other) -> bool:
        return isinstance(other, _Spec) and self._key == other._key


def _unravel(spec: _Spec, flat):
    import jax

    parts, offset = [], 0
    for shape, size, dt in zip(spec.shapes, spec.sizes, spec.dtypes):
        parts.append(flat[offset : offset + size].reshape(shape).astype(dt))
        offset += size
    return jax.tree_util.tree_unflatten(spec.treedef, parts)


def _functions(jax) -> dict[str, Callable]:
    """The per-batch computations as pure functions of ``(spec, w, ..., X, y)``."""

    def net(spec, wf, X):
        return spec.apply_fn(_unravel(spec, wf), X)

    def batch_loss(spec, wf, X, y):
        return spec.loss_fn(net(spec, wf, X), y)

    def hvp(spec, wf, v, X, y):  # forward-over-reverse: jvp of grad
        return jax.jvp(lambda u: jax.grad(batch_loss, 1)(spec, u, X, y), (wf,), (v,))[1]

    def ggn_vp(spec, wf, v, X, y):  # J v, then H_l (J v) in the outputs, then J^T
        out, jv = jax.jvp(lambda u: net(spec, u, X), (wf,), (v,))
        hjv = jax.jvp(lambda o: jax.grad(spec.loss_fn)(o, y), (out,), (jv,))[1]
        _, pull = jax.vjp(lambda u: net(spec, u, X), wf)
        return pull(hjv)[0]

    def per_example_grads(spec, wf, X, y):
        def single(u, x, t):
            return batch_loss(spec, u, x[None], t[None])

        return jax.vmap(jax.grad(single), in_axes=(None, 0, 0))(wf, X, y)

    def fisher_vp(spec, wf, v, X, y):
        G = per_example_grads(spec, wf, X, y)
        return G.T @ (G @ v) / G.shape[0]

    return {
        "net": net,
        "loss": batch_loss,
        "value_and_grad": jax.value_and_grad(batch_loss, 1),
        "hvp": hvp,
        "ggn_vp": ggn_vp,
        "per_example_grads": per_example_grads,
        "fisher_vp": fisher_vp,
    }


_COMPILED: dict[str, Callable] = {}


def _compiled(jax) -> dict[str, Callable]:
    """:func:`_functions` under ``jax.jit`` (the spec static), built once per process."""
    if not _COMPILED:
        for name, fn in _functions(jax).items():
            _COMPILED[name] = jax.jit(fn, static_argnums=0)
    return _COMPILED


class JaxProblem(FrameworkProblem):
    """A JAX model as a problem: L(w) = (1/n) Σᵢ loss_fn(apply_fn(params(w), xᵢ), yᵢ).

    Parameters
    ----------
    apply_fn : ``apply_fn(params, X) -> outputs`` (e.g. a Flax ``model.apply``, a Haiku
        ``transformed.apply`` with ``rng=None`` bound, or a plain function).
    params : the parameter pytree; its floating leaves, in ``jax.tree_util`` order,
        raveled and concatenated, are the flat vector w.
    loss_fn : ``loss_fn(outputs, y) -> scalar``, the mean over the batch.
    data : ``(X, y)`` arrays with the examples along axis 0, or a re-iterable of
        ``(X_batch, y_batch)`` pairs (a list, a DataLoader): batches are weighted by
        their sizes.
    batch_size : examples per mini-batch for ``(X, y)`` data (``None``: all at once).
    layout : optional ``ParamInfo`` tuple overriding the one inferred from the pytree.
    jit : compile the per-batch computations with ``jax.jit`` (default ``True``; set
        ``False`` for functions that cannot be traced).

    The inferred layout follows JAX's conventions (Flax, Haiku): kernels ``(in, out)``
    and ``(kh, kw, in, out)`` have their filters along the last axis; 1-D leaves are
    ``"norm"`` when a path component names a normalisation (``LayerNorm_0``, ``bn``,
    ``scale``, ``gamma``, ``beta``), otherwise ``"bias"``.
    """

    framework = "jax"

    def __init__(
        self,
        apply_fn: Callable,
        params: Any,
        loss_fn: Callable,
        data: Any,
        batch_size: int | None = None,
        layout: tuple[ParamInfo, ...] | None = None,
        name: str | None = None,
        jit: bool = True,
    ) -> None:
        jax, jnp = _import_jax()
        self._jax, self._jnp = jax, jnp
        if not callable(apply_fn):
            raise TypeError(f"apply_fn must be callable (params, X) -> outputs, got {apply_fn!r}")
        if not callable(loss_fn):
            raise TypeError(f"loss_fn must be callable (outputs, y) -> scalar, got {loss_fn!r}")
        self.apply_fn = apply_fn
        self.loss_fn = loss_fn
        self.name = name or getattr(apply_fn, "__name__", "jax_model")

        with_path, self._treedef = jax.tree_util.tree_flatten_with_path(params)
        if not with_path:
            raise ValueError("params has no leaves")
        leaves = [jnp.asarray(leaf) for _, leaf in with_path]
        bad = [
            (".".join(_key_name(k) for k in path) or "params", str(leaf.dtype))
            for (path, _), leaf in zip(with_path, leaves)
            if not jnp.issubdtype(leaf.dtype, jnp.floating)
        ]
        if bad:
            raise ValueError(
                f"every parameter leaf must be a floating array; these are not: {bad}. "
                "Keep integer state outside params (close over it in apply_fn)."
            )
        self._names = [".".join(_key_name(k) for k in path) or "params" for path, _ in with_path]
        self._shapes = [tuple(leaf.shape) for leaf in leaves]
        self._sizes = [int(leaf.size) for leaf in leaves]
        self._dtypes = [leaf.dtype for leaf in leaves]
        self.dtype = jnp.result_type(*self._dtypes)
        self.flat_params = np.concatenate(
            [np.asarray(leaf, dtype=np.float64).reshape(-1) for leaf in leaves]
        )
        self._build(jit)
        self.params = self.unravel(self.flat_params)
        self._init_layout_and_data(layout, data, batch_size, "in params")

    def _infer_layout(self) -> tuple[ParamInfo, ...]:
        infos, offset = [], 0
        for name, shape, size in zip(self._names, self._shapes, self._sizes):
            parts = [p.lower() for p in name.split(".")]
            is_norm = any(any(tag in p for tag in _NORM_TAGS) for p in parts) or any(
                p in _NORM_EXACT for p in parts
            )
            if len(shape) >= 2:
                kind, axis = "weight", len(shape) - 1
            elif is_norm:
                kind, axis = "norm", None
            else:
                kind, axis = "bias", None
            infos.append(ParamInfo(name, offset, shape, kind, axis))
            offset += size
        return tuple(infos)

    # ------------------------------------------------------------ functions
    def _unravel_j(self, flat):
        return _unravel(self._spec, flat)

    def _build(self, use_jit: bool) -> None:
        self._spec = _Spec(
            self.apply_fn, self.loss_fn, self._treedef, tuple(self._shapes),
            tuple(self._sizes), tuple(self._dtypes),
        )
        self._fns = _compiled(self._jax) if use_jit else _functions(self._jax)

    # ------------------------------------------------------------ conversions
    def unravel(self, w: Any) -> Any:
        """The flat vector as the parameter pytree (JAX arrays in the leaves' dtypes)."""
        flat = self._jnp.asarray(np.asarray(w, dtype=np.float64), dtype=self.dtype)
        if flat.shape != (self.dim,):
            raise ValueError(
                f"expected a flat parameter vector of shape ({self.dim},), got shape "
                f"{tuple(flat.shape)}"
            )
        return self._unravel_j(flat)

    def _flatten_params(self, params: Any) -> np.ndarray:
        if hasattr(params, "shape") and np.ndim(params) == 1 and np.size(params) == self.dim:
            return np.asarray(params, dtype=np.float64)
        leaves, treedef = self._jax.tree_util.tree_flatten(params)
        if treedef != self._treedef:
            raise ValueError(
                "with_params: expected a flat vector of length "
                f"{self.dim} or a pytree shaped like params ({self._treedef}), got {treedef}"
            )
        parts = []
        for name, shape, leaf in zip(self._names, self._shapes, leaves):
            a = np.asarray(leaf, dtype=np.float64)
            if a.shape != shape:
                raise ValueError(
                    f"with_params: leaf {name!r} has shape {a.shape}, expected {shape}"
                )
            parts.append(a.reshape(-1))
        return np.concatenate(parts)

    def _to_framework(self, w: np.ndarray):
        return self._jnp.asarray(w, dtype=self.dtype)

    def _to_numpy_raw(self, a: Any) -> np.ndarray:
        return np.asarray(a)

    def _is_native(self, a: Any) -> bool:
        return isinstance(a, self._jax.Array)

    def _convert_batch(self, X: Any, y: Any):
        jnp = self._jnp

        def conv(a):
            a = a if isinstance(a, self._jax.Array) else np.asarray(a)
            if jnp.issubdtype(a.dtype, jnp.floating):
                return jnp.asarray(a, dtype=self.dtype)
            return jnp.asarray(a)

        return conv(X), conv(y)

    # ------------------------------------------------------ per-batch hooks
    def _batch_loss(self, wf, Xb, yb) -> float:
        return float(self._fns['loss'](self._spec, wf, Xb, yb))

    def _batch_outputs(self, wf, Xb):
        return self._fns['net'](self._spec, wf, Xb)

    def _batch_value_and_grad(self, wf, Xb, yb):
        val, g = self._fns['value_and_grad'](self._spec, wf, Xb, yb)
        return float(val), g

    def _batch_hvp(self, wf, vf, Xb, yb):
        return self._fns['hvp'](self._spec, wf, vf, Xb, yb)

    def _batch_ggn_vp(self, wf, vf, Xb, yb):
        return self._fns['ggn_vp'](self._spec, wf, vf, Xb, yb)

    def _batch_per_example_grads(self, wf, Xb, yb):
        return self._fns['per_example_grads'](self._spec, wf, Xb, yb)

    def _batch_fisher_vp(self, wf, vf, Xb, yb):
        return self._fns['fisher_vp'](self._spec, wf, vf, Xb, yb)
