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

from ..autodiff.core import Tracer
from ..stable import log_softmax as _log_softmax
from ..stable import softplus
from ._lookup import lookup

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
    """z − logsumexp(z) along ``axis`` (the last by default): :func:`mlcalc.stable.
    log_softmax`, accurate in value and in every derivative at any logit gap (the
    gradient s − e_y of a confidently right example keeps its digits)."""
    return _log_softmax(z, axis=axis)


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


def _n_examples(y) -> int:
    """The number of examples of targets with the examples along axis 0 (1 for a
    scalar)."""
    shape = _shape(y)
    return shape[0] if shape else 1


def _match_targets(out, y, message: str):
    """``out`` with the shape of the targets ``y``: as is, or without a trailing axis of
    size 1 ((n, 1) outputs against (n,) targets); other shapes raise ValueError with
    ``message`` formatted with the two shapes."""
    os_, ys = _shape(out), _shape(y)
    if os_ == ys:
        return out
    if len(os_) == len(ys) + 1 and os_[-1] == 1 and os_[:-1] == ys:
        return out[..., 0]
    raise ValueError(message.format(os_, ys))


def mse(pred, y):
    """Squared error summed over the outputs and averaged over the batch:
    (1/n) Σᵢ ‖fᵢ − yᵢ‖² (no ½; its Hessian in the outputs is 2I/n).

    ``pred``: (n,) or (n, k); ``y`` of the same shape (a (n,) target also matches
    (n, 1) predictions)."""
    pred = _match_targets(pred, y, "mse: predictions of shape {} and targets of shape {} "
                          "differ; give targets of the predictions' shape")
    d = pred - y
    return np.sum(d * d) / _n_examples(y)


def logistic(logit, y):
    """Binary cross-entropy of logits, the mean over the batch:
    (1/n) Σᵢ [log(1 + e^{zᵢ}) − yᵢ zᵢ] = (1/n) Σᵢ −log σ(±zᵢ), computed as
    softplus(z) − y z (stable for any |z|, to every order).

    ``logit``: (n,) or (n, 1); ``y``: labels in {0, 1} (integer, boolean or float) of
    shape (n,) or matching ``logit``."""
    logit = _match_targets(logit, y, "logistic: logits of shape {} and labels of shape {} "
                           "differ; use one logit per example (n,) or (n, 1) and labels of "
                           "shape (n,)")
    if not isinstance(y, Tracer):
        yv = np.asarray(y)
        if yv.size and not np.all((yv == 0) | (yv == 1)):
            raise ValueError(
                "logistic: labels must be 0 or 1; got values "
                f"{np.unique(yv)[:6]}; for ±1 labels pass (y + 1) // 2"
            )
    y = y.astype(float) if hasattr(y, "astype") and _is_integer(y) else y
    return np.sum(softplus(logit) - y * logit) / _n_examples(y)


LOSSES: dict[str, Callable] = {
    "cross_entropy": cross_entropy,
    "ce": cross_entropy,
    "mse": mse,
    "logistic": logistic,
}


def get_loss(loss: str | Callable) -> Callable:
    """A loss from its name (see ``LOSSES``) or a callable (returned as is)."""
    return lookup(LOSSES, loss, "loss")
