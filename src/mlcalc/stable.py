"""Numerically stable functions whose first *and* second derivatives stay accurate at
extreme arguments (±1e3, ±1e15, large logit gaps) and in float32.

Each is a primitive whose derivative is written with other stable functions of this
module, or a composition of primitives arranged so that the engine's derivatives contain
no cancellation; the derivative of the derivative is then stable as well. ``xlogy`` and
``xlog1py`` are those of :mod:`mlcalc.scipy.special` (their rules already involve only
bounded quantities).

==============  =====================================  ====================================
function        value                                  derivatives
==============  =====================================  ====================================
sigmoid         σ(x) = 1/(1 + e^{−x})                  σ' = s(x) := σ(x)σ(−x);
                                                       s' = −s(x)·tanh(x/2)
softplus        log(1 + eˣ) = logaddexp(0, x)          σ(x), s(x)
log_sigmoid     log σ(x) = −softplus(−x)               σ(−x), −s(x)
logaddexp       log(eˣ + eʸ)                           ∂ₓ = σ(x − y), ∂ₓ² = s(x − y)
log1mexp        log(1 − e^{−a}), a > 0 (Mächler 2012)  r(a) = 1/expm1(a); r' = r(a)r(−a)
logsumexp       c + log1p(Σ_{j≠m} e^{a_j − c}),        softmax p; diag p − p pᵀ with
                c = a_m the first maximum              p_m(1 − p_m) = T/(1 + T)²
log_softmax     (x − c) − log1p(T), (x − c)_m ≡ 0      I − 1 pᵀ, 1 − p_m = T/(1 + T)
softmax         exp(log_softmax(x))                    diag p − p pᵀ entry by entry
==============  =====================================  ====================================

Why the usual formulas fail: σ'(x) = σ(1 − σ) is 0 for x > 37 in float64 (σ rounds to
1) while the true value is e^{−x}; the second derivative of log(1 + eˣ) written as
eˣ/(1 + eˣ)² is inf/inf = NaN at x = 1e3; log(1 − e^{−a}) is −inf for a < 1e−16 and
exactly 0 for a > 37; 1/expm1(a) differentiated naively gives −eᵃ/expm1(a)², NaN at
a = 1e3; a gradient e^{a − out} of logsumexp inherits the rounding error of out (5% off
at a = (1e15, 1e15)); the softmax Jacobian entry s_m(1 − s_m) and the cross-entropy
gradient 1 − s_m are exactly 0 for logit gaps > 37 when 1 − s_m is a difference. The
forms above avoid every subtraction of nearly equal numbers and every inf/inf, so they
keep full relative precision wherever the true value is a normal floating-point number,
in float64 and float32 alike (inputs keep their dtype).
"""

from __future__ import annotations

import math

import numpy as np
import scipy.special as _sp

from . import numpy as mnp
from .numpy._base import (
    Primitive,
    defbinary,
    defunary,
    move_bdim_to_front,
    ndim_of,
    normalize_axes,
)
from .scipy.special import _as_array, shift_p, xlog1py, xlogy

__all__ = [
    "sigmoid",
    "sigmoid_derivative",
    "softplus",
    "log_sigmoid",
    "logaddexp",
    "log1mexp",
    "inv_expm1",
    "logsumexp",
    "softmax",
    "log_softmax",
    "xlogy",
    "xlog1py",
]

_LN2 = math.log(2.0)


# ---------------------------------------------------------------------------------
# implementations (plain NumPy, dtype preserving)


def _sigmoid_derivative_impl(x):
    # σ(x)σ(−x) = e^{−|x|}/(1 + e^{−|x|})²: no overflow, no cancellation.
    e = np.exp(-np.abs(x))
    return e / ((1 + e) * (1 + e))


def _softplus_impl(x):
    return np.logaddexp(0, x)


def _log1mexp_impl(a):
    # Mächler (2012): log(−expm1(−a)) for a ≤ ln 2, log1p(−e^{−a}) above.
    a = np.asarray(a)
    with np.errstate(divide="ignore", invalid="ignore"):
        small = a <= _LN2
        a_small = np.where(small, a, np.ones_like(a))
        a_large = np.where(small, np.ones_like(a), a)
        out = np.where(small, np.log(-np.expm1(-a_small)), np.log1p(-np.exp(-a_large)))
    return out[()] if out.ndim == 0 else out


def _inv_expm1_impl(a):
    with np.errstate(over="ignore", divide="ignore"):
        return 1 / np.expm1(a)


# ---------------------------------------------------------------------------------
# primitives and rules

sigmoid_p = Primitive("stable_sigmoid", _sp.expit)
sigmoid_derivative_p = Primitive("stable_sigmoid_derivative", _sigmoid_derivative_impl)
softplus_p = Primitive("stable_softplus", _softplus_impl)
log_sigmoid_p = Primitive("stable_log_sigmoid", _sp.log_expit)
logaddexp_p = Primitive("stable_logaddexp", np.logaddexp)
log1mexp_p = Primitive("stable_log1mexp", _log1mexp_impl)
inv_expm1_p = Primitive("stable_inv_expm1", _inv_expm1_impl)


def sigmoid(x):
    """Logistic sigmoid σ(x) = 1/(1 + e^{−x}) (SciPy's ``expit`` values).

    Derivative σ'(x) = σ(x)σ(−x) (:func:`sigmoid_derivative`), accurate where
    σ(1 − σ) rounds to 0 (x > 37 in float64, x > 17 in float32)."""
    return sigmoid_p.bind(x)


def sigmoid_derivative(x):
    """s(x) = σ'(x) = σ(x)σ(−x) = e^{−|x|}/(1 + e^{−|x|})², the logistic density.

    Derivative s'(x) = −s(x)·tanh(x/2): both factors bounded, so every order of
    derivative of σ is stable."""
    return sigmoid_derivative_p.bind(x)


def softplus(x):
    """softplus(x) = log(1 + eˣ) = logaddexp(0, x); 1e3 at x = 1e3 (the naive formula
    overflows), eˣ for x ≪ 0. Derivatives σ(x) and σ(x)σ(−x)."""
    return softplus_p.bind(x)


def log_sigmoid(x):
    """log σ(x) = −softplus(−x) (SciPy's ``log_expit`` values).

    Derivatives σ(−x) and −σ(x)σ(−x): accurate where the rule σ(1 − σ) of the naive
    second derivative loses every digit (x < −37 in float64)."""
    return log_sigmoid_p.bind(x)


def logaddexp(x, y):
    """log(eˣ + eʸ) (NumPy's values), broadcasting.

    Partial derivatives σ(x − y) and σ(y − x), the two softmax weights (exactly ½ each
    at x == y, including ±inf, where x − y is NaN); second derivatives ±σ'(x − y)."""
    return logaddexp_p.bind(x, y)


def log1mexp(a):
    """log(1 − e^{−a}) for a > 0 (Mächler 2012's convention): −inf at 0, NaN for a < 0.

    Value: log(−expm1(−a)) for a ≤ ln 2, log1p(−e^{−a}) above, so log1mexp(1e−20) =
    −46.05 (naive: −inf) and log1mexp(40) = −4.25e−18 (naive: 0). Derivative
    :func:`inv_expm1` (a), whose own derivative −r(1 + r) never meets inf/inf (the naive
    −eᵃ/expm1(a)² is NaN at a = 1e3)."""
    return log1mexp_p.bind(a)


def inv_expm1(a):
    """r(a) = 1/(eᵃ − 1) (the derivative of log1mexp, and the Bose–Einstein factor).

    r'(a) = −r(a)(1 + r(a)) = r(a)·r(−a): a product of two stable factors with no
    cancellation on either side of 0, and 0 at a = 1e3 rather than inf/inf; every higher
    derivative is again built of r."""
    return inv_expm1_p.bind(a)


def _first_max_impl(x, *, axis):
    """Boolean mask of the first maximum over ``axis`` (one True per reduced slice)."""
    x = np.asarray(x)
    keep = [i for i in range(x.ndim) if i not in axis]
    moved = np.transpose(x, keep + list(axis))
    lead = moved.shape[: len(keep)]
    flat = moved.reshape(lead + (-1,))
    with np.errstate(invalid="ignore"):
        idx = np.argmax(np.where(np.isnan(flat), -np.inf, flat), axis=-1)
    mask = np.zeros(flat.shape, dtype=bool)
    np.put_along_axis(mask, idx[..., None], True, axis=-1)
    mask = mask.reshape(moved.shape)
    return np.transpose(mask, np.argsort(keep + list(axis)))


# The position of the reference element (a constant: it is chosen, not differentiated).
first_max_p = Primitive("stable_first_max", _first_max_impl, nondiff=True)


def _first_max_batch(args, dims, axis):
    x = move_bdim_to_front(args[0], dims[0])
    return first_max_p.bind(x, axis=tuple(i + 1 for i in axis)), 0


first_max_p.defbatch(_first_max_batch)


def _reference_split(x, axes):
    """(c, d, T, finite): c = x at the first maximum m over ``axes`` (a traced value,
    kept dims), d = x − c with d_m = 0 exactly, T = Σ_{j≠m} e^{d_j} ≥ 0, so that
    log Σ eˣ = c + log1p(T) and log softmax(x) = d − log1p(T).

    The identity holds for any c, so every derivative is exact; taking c = x_m (rather
    than a constant shift) and d_m ≡ 0 makes the derivatives of the dominant entry come
    out as T/(1 + T) = 1 − s_m, never as the cancelling difference 1 − s_m (nor as
    1 − 1 + T/(1 + T) accumulated in the backward pass)."""
    mask = first_max_p.bind(x, axis=axes)
    c = mnp.sum(mnp.where(mask, x, 0.0), axis=axes, keepdims=True)
    finite = mnp.isfinite(c)
    d = mnp.where(mask, 0.0, x - mnp.where(finite, c, 0.0))
    T = mnp.sum(mnp.where(mask, 0.0, mnp.exp(d)), axis=axes, keepdims=True)
    return c, d, T, finite


def logsumexp(a, axis=None, b=None, keepdims=False):
    """log Σ b·eᵃ over ``axis`` (all axes by default), b ≥ 0 (default 1).

    Without weights: c + log1p(Σ_{j≠m} e^{a_j − c}) with c = a_m the first maximum (a
    traced value, not a constant shift): the gradient is the softmax p, and the Hessian
    diag(p) − p pᵀ has its dominant diagonal entry computed as T/(1 + T)² = p_m(1 − p_m)
    without cancellation, accurate to a few ulps relative at any |a| (1e3, 1e15) and gap
    (the rule e^{a − out} of :func:`mlcalc.scipy.special.logsumexp` is off by 5% at
    a = (1e15, 1e15), and 1 − p_m rounds to 0 for gaps > 37). With weights b: m + log Σ
    b·e^{a − m}, m = max a held constant (gradient b·e^{a − m}/Σ b·e^{a − m}). For signed
    weights use :func:`mlcalc.scipy.special.logsumexp` with ``return_sign=True``.
    Cost: one pass over a.
    """
    a = _as_array(a)
    if b is None:
        axes = normalize_axes(axis, ndim_of(a))
        c, _, T, _ = _reference_split(a, axes)
        out = c + mnp.log1p(T)
    else:
        ndim = max(ndim_of(a), ndim_of(b))
        a = a + mnp.zeros_like(b)  # broadcast a against the weights
        axes = normalize_axes(axis, ndim)
        m = shift_p.bind(a, axis=axes, finite=True)
        out = m + mnp.log(mnp.sum(mnp.exp(a - m) * b, axis=axes, keepdims=True))
    return out if keepdims else mnp.squeeze(out, axis=axes)


def log_softmax(x, axis=None):
    """x − log Σ eˣ over ``axis`` (all axes by default; as ``scipy.special.log_softmax``).

    Computed as (x − c) − log1p(Σ_{j≠m} e^{x_j − c}) with c = x_m the first maximum (a
    traced value): the value at the dominant entry is −log1p(T) (not 0 when the gap
    exceeds 37), and the derivatives come out without the cancellation 1 − s_m, so the
    cross-entropy gradient s − e_y of a confidently right example keeps its digits
    (e.g. −4.25e−18 at a logit gap of 40, where x − logsumexp(x) gives exactly 0)."""
    x = _as_array(x)
    axes = normalize_axes(axis, ndim_of(x))
    c, d, T, finite = _reference_split(x, axes)
    return mnp.where(finite, d - mnp.log1p(T), x - c)  # ±inf maxima: NaN as in SciPy


def softmax(x, axis=None):
    """e^x / Σ e^x over ``axis`` (all axes by default), as exp(log_softmax(x)): the
    Jacobian diag(s) − s sᵀ keeps its relative accuracy entry by entry, also for
    s_m(1 − s_m) with s_m → 1 (1 − s_m comes from the other entries, not a difference)."""
    return mnp.exp(log_softmax(x, axis=axis))


def _sigmoid_rule(x, y):
    return sigmoid_derivative(x)


def _sigmoid_derivative_rule(x, y):
    return -y * mnp.tanh(0.5 * x)


def _equal_safe_difference(x, y):
    """x − y, with 0 where x and y are the same infinity (where x − y is NaN); the
    derivative of x − y passes everywhere else, including at finite ties."""
    same_infinity = mnp.logical_and(x == y, mnp.isinf(x))
    return mnp.where(same_infinity, 0.0, x - y)


defunary(sigmoid_p, _sigmoid_rule)
defunary(sigmoid_derivative_p, _sigmoid_derivative_rule)
defunary(softplus_p, lambda x, y: sigmoid(x))
defunary(log_sigmoid_p, lambda x, y: sigmoid(-x))
defunary(log1mexp_p, lambda a, f: inv_expm1(a))
defunary(inv_expm1_p, lambda a, r: r * inv_expm1(-a))
defbinary(
    logaddexp_p,
    lambda x, y, z: sigmoid(_equal_safe_difference(x, y)),
    lambda x, y, z: sigmoid(_equal_safe_difference(y, x)),
)
