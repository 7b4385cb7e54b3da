"""Losses ``loss(outputs, targets) -> scalar``: the **mean** over the batch (axis 0) of
a per-example loss, so that a data set's loss does not depend on how it is batched.

All three are vmap-friendly (labels pick their logits with ``take_along_axis``, never
with traced fancy indexing), so per-example gradients come from
``mc.vmap(mc.grad(...))``, and every order of derivative works.

=================  =====================================================================
``cross_entropy``  (1/n) Σᵢ [logsumexp(zᵢ) − zᵢ,yᵢ]; integer labels yᵢ ∈ {0..C−1}, or
                   target distributions (n, C)
``mse``            (1/n) Σᵢ ‖fᵢ − yᵢ‖²: summed over outputs, averaged over examples
                   (no ½)
``logistic``       (1/n) Σᵢ [log(1 + e^{zᵢ}) − yᵢ zᵢ], labels yᵢ ∈ {0, 1}: binary
                   cross-entropy of the logit zᵢ
=================  =====================================================================
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..autodiff.api import stop_gradient
from ..autodiff.core import Tracer

__all__ = ["cross_entropy", "mse", "logistic", "log_softmax", "LOSSES", "get_loss"]


def _shape(x) -> tuple[int, ...]:
    return tuple(np.shape(x))


def _dtype(y) -> np.dtype:
    dt = getattr(y, "dtype", None)
    return np.dtype(dt) if dt is not None else np.asarray(y).dtype


def _is_integer(y) -> bool:
    dt = _dtype(y)
    return np.issubdtype(dt, np.integer) or dt == np.bool_


def log_softmax(z, axis: int = -1):
    """z − logsumexp(z) along ``axis``, stable: the maximum is subtracted first (as a
    constant: it cancels, so it carries no derivative)."""
    m = stop_gradient(np.max(z, axis=axis, keepdims=True))
    shifted = z - m
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def cross_entropy(logits, y):
    """Softmax cross-entropy, the mean over the batch: (1/n) Σᵢ [logsumexp(zᵢ) − zᵢ,yᵢ].

    ``logits``: (n, C); ``y``: integer labels (n,) in {0, …, C−1}, or target
    probabilities (n, C) (then −(1/n) Σᵢ Σ_c y_ic log softmax(zᵢ)_c). Cost O(nC).
    Uniform logits give log C."""
    zs, ys = _shape(logits), _shape(y)
    if len(zs) < 1:
        raise ValueError(f"cross_entropy: logits need a class axis, got shape {zs}")
    logp = log_softmax(logits, axis=-1)
    if ys == zs and not _is_integer(y):
        return -np.sum(y * logp) / _batch_size(zs)
    if ys != zs[:-1]:
        raise ValueError(
            f"cross_entropy: labels of shape {ys} do not match logits of shape {zs}; pass "
            f"integer labels of shape {zs[:-1]} or target probabilities of shape {zs}"
        )
    if not _is_integer(y):
        raise TypeError(
            f"cross_entropy: integer class labels expected, got dtype {_dtype(y)}; "
            "convert with y.astype(int), or pass one-hot targets of the logits' shape"
        )
    if not isinstance(y, Tracer):
        yv = np.asarray(y)
        if yv.size and (yv.min() < 0 or yv.max() >= zs[-1]):
            raise ValueError(
                f"cross_entropy: labels must lie in 0..{zs[-1] - 1} for {zs[-1]} classes; "
                f"got labels from {yv.min()} to {yv.max()}"
            )
    picked = np.take_along_axis(logp, np.expand_dims(y, -1), axis=-1)
    return -np.sum(picked) / _batch_size(zs)


def _batch_size(shape: tuple[int, ...]) -> int:
    """Number of examples: the product of all axes but the last (1 for a single row)."""
    return int(np.prod(shape[:-1], dtype=int)) if len(shape) > 1 else 1


def mse(pred, y):
    """Squared error summed over the outputs and averaged over the batch:
    (1/n) Σᵢ ‖fᵢ − yᵢ‖² (no ½; its Hessian in the outputs is 2I/n).

    ``pred``: (n,) or (n, k); ``y`` of the same shape (a (n,) target also matches
    (n, 1) predictions)."""
    ps, ys = _shape(pred), _shape(y)
    if ps != ys:
        if len(ps) == len(ys) + 1 and ps[-1] == 1 and ps[:-1] == ys:
            pred = pred[..., 0]
            ps = ys
        else:
            raise ValueError(
                f"mse: predictions of shape {ps} and targets of shape {ys} differ; "
                "give targets of the predictions' shape"
            )
    n = ps[0] if ps else 1
    d = pred - y
    return np.sum(d * d) / n


def logistic(logit, y):
    """Binary cross-entropy of logits, the mean over the batch:
    (1/n) Σᵢ [log(1 + e^{zᵢ}) − yᵢ zᵢ] = (1/n) Σᵢ −log σ(±zᵢ), computed as
    logaddexp(0, z) − y z (stable for any |z|).

    ``logit``: (n,) or (n, 1); ``y``: labels in {0, 1} (integer, boolean or float) of
    shape (n,) or matching ``logit``."""
    zs, ys = _shape(logit), _shape(y)
    if zs != ys:
        if len(zs) == len(ys) + 1 and zs[-1] == 1 and zs[:-1] == ys:
            logit = logit[..., 0]
            zs = ys
        else:
            raise ValueError(
                f"logistic: logits of shape {zs} and labels of shape {ys} differ; use one "
                "logit per example (n,) or (n, 1) and labels of shape (n,)"
            )
    if not isinstance(y, Tracer):
        yv = np.asarray(y)
        if yv.size and not np.all((yv == 0) | (yv == 1)):
            raise ValueError(
                "logistic: labels must be 0 or 1; got values "
                f"{np.unique(yv)[:6]}; for ±1 labels pass (y + 1) // 2"
            )
    y = y.astype(float) if hasattr(y, "astype") and _is_integer(y) else y
    n = zs[0] if zs else 1
    return np.sum(np.logaddexp(0.0, logit) - y * logit) / n


LOSSES: dict[str, Callable] = {
    "cross_entropy": cross_entropy,
    "ce": cross_entropy,
    "mse": mse,
    "logistic": logistic,
}


def get_loss(loss: str | Callable) -> Callable:
    """A loss from its name (see ``LOSSES``) or a callable (returned as is)."""
    if callable(loss):
        return loss
    key = str(loss).lower()
    if key not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; known: {', '.join(sorted(LOSSES))}")
    return LOSSES[key]
