"""PyTorch adapter: a ``torch.nn.Module``, a loss and data as a problem (the protocol of
:class:`mlcalc.models.Problem`), with every derivative computed by PyTorch.

The module is evaluated functionally (``torch.func.functional_call``) at parameters
that the adapter owns, so its own parameters are never modified. Computation runs in
the model's dtype (or ``dtype=``) on its device (or ``device=``, e.g. ``"cuda"``);
everything that comes back is a NumPy float64 vector, so a float32 model gives float32
accuracy in float64 containers.

PyTorch is optional: it is imported when a :class:`TorchProblem` is built.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from ..models.problem import ParamInfo
from ._common import FrameworkProblem

__all__ = ["TorchProblem"]

_INSTALL = (
    "mlcalc.adapters.torch needs PyTorch, which is not installed. Install it with "
    "`pip install torch==2.13.0` (mlcalc itself does not depend on it)."
)


def _import_torch():
    try:
        import torch
        import torch.func  # noqa: F401
    except ImportError as exc:  # pragma: no cover - exercised with torch hidden
        raise ImportError(_INSTALL) from exc
    return torch


def _grad(torch, out, inputs, grad_outputs=None, create_graph=False):
    """``torch.autograd.grad`` for one input that returns zeros (instead of failing)
    when ``out`` does not depend on it, e.g. the second derivative of a linear loss."""
    if not out.requires_grad:
        return torch.zeros_like(inputs)
    (g,) = torch.autograd.grad(
        out, inputs, grad_outputs=grad_outputs, create_graph=create_graph, allow_unused=True
    )
    return torch.zeros_like(inputs) if g is None else g


def _norm_types(nn) -> tuple[type, ...]:
    names = ("LayerNorm", "GroupNorm", "RMSNorm", "LocalResponseNorm")
    types = [getattr(nn, n) for n in names if hasattr(nn, n)]
    types.append(nn.modules.batchnorm._NormBase)  # BatchNorm*, SyncBatchNorm, InstanceNorm*
    return tuple(types)


class TorchProblem(FrameworkProblem):
    """A PyTorch model as a problem: L(w) = (1/n) Σᵢ loss_fn(module(xᵢ; w), yᵢ).

    Parameters
    ----------
    module : a ``torch.nn.Module``; its trainable parameters (``requires_grad``, in
        ``named_parameters()`` order) are the flat vector w. It is put in eval mode
        (BatchNorm uses its running statistics, dropout is off), with a warning naming
        the BatchNorm/Dropout layers that were in training mode.
    loss_fn : ``loss_fn(outputs, y) -> scalar tensor``, the mean over the batch (e.g.
        ``torch.nn.CrossEntropyLoss()`` or ``torch.nn.functional.mse_loss``).
    data : ``(X, y)`` tensors or arrays with the examples along axis 0, or a
        re-iterable of ``(X_batch, y_batch)`` pairs such as a ``DataLoader``: batches
        are weighted by their sizes, so any batching gives the same full-data loss.
    batch_size : examples per mini-batch for ``(X, y)`` data (``None``: all at once).
    device : where to compute (``"cpu"``, ``"cuda"``, ...); default: the module's.
    dtype : floating dtype to compute in (e.g. ``torch.float64``); default: the
        module's. The module is not converted: the adapter computes with copies.
    layout : optional ``ParamInfo`` tuple overriding the one read from the module.

    Attributes follow the problem protocol: ``dim``, ``flat_params`` (float64 NumPy),
    ``params`` (a dict name → tensor, what ``unravel`` returns), ``layout``,
    ``n_examples``; methods ``batches``, ``loss``, ``value_and_grad``, ``grad``,
    ``hvp``, ``ggn_vp``, ``fisher_vp``, ``per_example_grads``, ``with_params``,
    ``accuracy``.
    """

    framework = "torch"

    def __init__(
        self,
        module: Any,
        loss_fn: Callable,
        data: Any,
        batch_size: int | None = None,
        device: Any = None,
        dtype: Any = None,
        layout: tuple[ParamInfo, ...] | None = None,
        name: str | None = None,
    ) -> None:
        torch = _import_torch()
        self._torch = torch
        if not isinstance(module, torch.nn.Module):
            raise TypeError(f"module must be a torch.nn.Module, got {type(module).__name__}")
        if not callable(loss_fn):
            raise TypeError(f"loss_fn must be callable (outputs, y) -> scalar, got {loss_fn!r}")
        named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        if not named:
            raise ValueError(
                f"the module {type(module).__name__} has no trainable parameters "
                "(none with requires_grad=True)"
            )
        self.module = module
        self.loss_fn = loss_fn
        self.name = name or type(module).__name__

        first = named[0][1]
        self.device = torch.device(device) if device is not None else first.device
        if dtype is None:
            dtype = first.dtype
        elif isinstance(dtype, str):
            dtype = getattr(torch, dtype.replace("torch.", ""), None)
        if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
            raise ValueError(f"dtype must be a floating torch dtype, got {dtype!r}")
        self.dtype = dtype
        self._eval_mode(module)

        self._names = [n for n, _ in named]
        self._shapes = [tuple(p.shape) for _, p in named]
        self._sizes = [int(p.numel()) for _, p in named]
        # constants: buffers (running statistics) and frozen parameters, as copies on
        # the adapter's device in its dtype; the module's own tensors are never used.
        trainable = set(self._names)
        consts = {}
        for n, t in list(module.named_buffers()) + list(module.named_parameters()):
            if n in trainable:
                continue
            t = t.detach()
            consts[n] = t.to(self.device, dtype) if t.is_floating_point() else t.to(self.device)
        self._consts = consts

        self.flat_params = np.concatenate(
            [p.detach().cpu().to(torch.float64).reshape(-1).numpy() for _, p in named]
        )
        self.params = self.unravel(self.flat_params)
        self._init_layout_and_data(layout, data, batch_size, "trainable ones in the module")

    # ----------------------------------------------------------- module setup
    def _eval_mode(self, module) -> None:
        nn = self._torch.nn
        kinds = (nn.modules.batchnorm._BatchNorm, nn.modules.dropout._DropoutNd)
        found = [
            f"{n or '<root>'} ({type(m).__name__})"
            for n, m in module.named_modules()
            if isinstance(m, kinds) and m.training
        ]
        module.eval()
        if found:
            warnings.warn(
                "TorchProblem put the module in eval mode (module.eval()): in training mode "
                "BatchNorm normalises with batch statistics and Dropout draws random masks, "
                "so the loss would depend on the batching and on chance. BatchNorm now uses "
                "its running statistics and Dropout is off. Layers affected: "
                + ", ".join(found),
                UserWarning,
                stacklevel=3,
            )

    def _infer_layout(self) -> tuple[ParamInfo, ...]:
        """Kinds from the owning modules: normalisation layers' scale and shift are
        ``"norm"``; tensors of rank ≥ 2 are weights with filters (output units) along
        axis 0, as in ``Linear`` (out, in) and ``Conv`` (out, in, k...), or along axis 1
        for ``ConvTranspose`` (in, out, k...); other 1-D tensors are biases."""
        nn = self._torch.nn
        norms = _norm_types(nn)
        transposed = nn.modules.conv._ConvTransposeNd
        infos, offset = [], 0
        for name, shape, size in zip(self._names, self._shapes, self._sizes):
            owner = self.module.get_submodule(name.rpartition(".")[0])
            if isinstance(owner, norms):
                kind, axis = "norm", None
            elif len(shape) >= 2:
                kind, axis = "weight", 1 if isinstance(owner, transposed) else 0
            else:
                kind, axis = "bias", None
            infos.append(ParamInfo(name, offset, shape, kind, axis))
            offset += size
        return tuple(infos)

    # ------------------------------------------------------------ conversions
    def unravel(self, w: Any) -> dict[str, Any]:
        """The flat vector as a dict ``name -> tensor`` (the module's parameter names,
        on the adapter's device, in its dtype), ready for ``functional_call``."""
        torch = self._torch
        if isinstance(w, torch.Tensor):
            flat = w.to(self.device, self.dtype)
        else:
            flat = torch.as_tensor(np.asarray(w, dtype=np.float64)).to(self.device, self.dtype)
        if flat.shape != (self.dim,):
            raise ValueError(
                f"expected a flat parameter vector of shape ({self.dim},), got shape "
                f"{tuple(flat.shape)}"
            )
        return self._split(flat)

    def _split(self, flat) -> dict[str, Any]:
        out, offset = {}, 0
        for name, shape, size in zip(self._names, self._shapes, self._sizes):
            out[name] = flat[offset : offset + size].view(shape)
            offset += size
        return out

    def _flatten_params(self, params: Any) -> np.ndarray:
        torch = self._torch
        if isinstance(params, torch.nn.Module):
            params = dict(params.named_parameters())
        if isinstance(params, dict):
            missing = [n for n in self._names if n not in params]
            if missing:
                raise ValueError(f"with_params: the dict lacks parameters {missing}")
            parts = []
            for n, shape in zip(self._names, self._shapes):
                a = self._to_numpy(params[n])
                if a.shape != shape:
                    raise ValueError(
                        f"with_params: parameter {n!r} has shape {a.shape}, expected {shape}"
                    )
                parts.append(a.reshape(-1))
            return np.concatenate(parts)
        return self._to_numpy(params)

    def _to_framework(self, w: np.ndarray):
        return self._torch.as_tensor(w).to(self.device, self.dtype)

    def _to_numpy_raw(self, a: Any) -> np.ndarray:
        if isinstance(a, self._torch.Tensor):
            a = a.detach().cpu()
            return a.to(self._torch.float64).numpy() if a.is_floating_point() else a.numpy()
        return np.asarray(a)

    def _is_native(self, a: Any) -> bool:
        return isinstance(a, self._torch.Tensor) and a.device == self.device

    def _convert_batch(self, X: Any, y: Any):
        torch = self._torch

        def conv(a, labels):
            t = a if isinstance(a, torch.Tensor) else torch.as_tensor(np.asarray(a))
            if t.is_floating_point():
                t = t.to(self.device, self.dtype)
            elif labels and t.dtype not in (torch.bool, torch.uint8):
                t = t.to(self.device, torch.long)  # class indices, as the losses want
            else:
                t = t.to(self.device)
            return t

        return conv(X, False), conv(y, True)

    # ------------------------------------------------------ per-batch hooks
    def _forward(self, flat, Xb):
        params = self._split(flat)
        return self._torch.func.functional_call(self.module, {**self._consts, **params}, (Xb,))

    def _batch_loss(self, wf, Xb, yb) -> float:
        with self._torch.no_grad():
            return float(self.loss_fn(self._forward(wf, Xb), yb))

    def _batch_outputs(self, wf, Xb):
        with self._torch.no_grad():
            return self._forward(wf, Xb)

    def _leaf(self, wf):
        return wf.detach().clone().requires_grad_(True)

    def _batch_value_and_grad(self, wf, Xb, yb):
        w = self._leaf(wf)
        val = self.loss_fn(self._forward(w, Xb), yb)
        return float(val.detach()), _grad(self._torch, val, w)

    def _batch_hvp(self, wf, vf, Xb, yb):
        """Reverse-over-reverse (double backward): ∇(∇ℓ·v)."""
        torch = self._torch
        w = self._leaf(wf)
        g = _grad(torch, self.loss_fn(self._forward(w, Xb), yb), w, create_graph=True)
        return _grad(torch, g, w, grad_outputs=vf)

    def _batch_ggn_vp(self, wf, vf, Xb, yb):
        """Jv by the double-VJP trick (Jv = ∂/∂u (Jᵀu)·v, reverse mode only), then the
        loss HVP in the outputs, then Jᵀ by one more backward pass."""
        torch = self._torch
        w = self._leaf(wf)
        out = self._forward(w, Xb)
        u = torch.zeros_like(out, requires_grad=True)
        jtu = _grad(torch, out, w, grad_outputs=u, create_graph=True)
        jv = _grad(torch, jtu, u, grad_outputs=vf)
        o = out.detach().requires_grad_(True)
        go = _grad(torch, self.loss_fn(o, yb), o, create_graph=True)
        hjv = _grad(torch, go, o, grad_outputs=jv)
        if not out.requires_grad:
            return torch.zeros_like(wf)
        (res,) = torch.autograd.grad(out, w, grad_outputs=hjv, allow_unused=True)
        return torch.zeros_like(wf) if res is None else res

    def _batch_per_example_grads(self, wf, Xb, yb):
        torch = self._torch

        def single(w, x, t):
            return self.loss_fn(self._forward(w, x.unsqueeze(0)), t.unsqueeze(0))

        try:
            return torch.func.vmap(torch.func.grad(single), in_dims=(None, 0, 0))(wf, Xb, yb)
        except (RuntimeError, NotImplementedError, ValueError):
            # a layer or loss that does not run under vmap: one example at a time
            rows = []
            for x, t in zip(Xb, yb):
                w = self._leaf(wf)
                rows.append(_grad(torch, single(w, x, t), w))
            return torch.stack(rows)

    def _batch_fisher_vp(self, wf, vf, Xb, yb):
        G = self._batch_per_example_grads(wf, Xb, yb)
        return G.T @ (G @ vf) / G.shape[0]
