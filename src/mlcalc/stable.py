"""Numerically stable functions whose first *and* second derivatives stay accurate at
extreme arguments (±1e3, ±1e15, large logit gaps) and in float32.

The functions with a standard name are the standard namespaces' own, re-exported:
``sigmoid`` is :func:`mlcalc.scipy.special.expit`, ``log_sigmoid`` is ``log_expit``,
``logaddexp`` is :func:`mlcalc.numpy.logaddexp` (what ``np.logaddexp`` runs on traced
values), ``logsumexp``, ``softmax``, ``xlogy`` and ``xlog1py`` are those of
:mod:`mlcalc.scipy.special`: their values are NumPy's and SciPy's, bit for bit, and
their rules are the stable forms below. This module adds what has no standard
counterpart: ``sigmoid_derivative``, ``softplus``, ``log1mexp``, ``inv_expm1``, and a
``log_softmax`` whose *value* is accurate at the dominant entry too (same primitive and
rules as SciPy's name, another value formula).

Each function is a primitive whose derivative is written with other stable functions,
or a composition of such primitives; the derivative of the derivative is then stable as
well.

==============  =====================================  ====================================
function        value                                  derivatives
==============  =====================================  ====================================
sigmoid         σ(x) = 1/(1 + e^{−x})                  σ' = s(x) := σ(x)σ(−x);
                                                       s' = −s(x)·tanh(x/2)
softplus        log(1 + eˣ) = logaddexp(0, x)          σ(x), s(x)
log_sigmoid     log σ(x) = −softplus(−x)               σ(−x), −s(x)
logaddexp       log(eˣ + eʸ)                           ∂ₓ = σ(x − y), ∂ₓ² = s(x − y)
log1mexp        log(1 − e^{−a}), a > 0 (Mächler 2012)  r(a) = 1/expm1(a); r' = r(a)r(−a)
logsumexp       m + log Σ e^{a − m} (SciPy's)          softmax p; diag p − p pᵀ
softmax         e^{x − m}/Σ e^{x − m} (SciPy's)        s ⊙ (t − s·t), the entry at the
                                                       first maximum m as
                                                       s_m Σ_{j≠m} s_j (t_m − t_j)
log_softmax     (x − c) − log1p(T), c = x_m the first  I − 1 sᵀ, the dominant 1 − s_m
                maximum, T = Σ_{j≠m} e^{x_j − c}       formed as Σ_{j≠m} s_j
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

from .numpy import logaddexp
from .numpy._base import Primitive, defunary, ndim_of, normalize_axes
from .numpy._elementwise import sigmoid_derivative
from .scipy.special import _as_array, log_softmax_p, logsumexp, softmax, xlog1py, xlogy
from .scipy.special import expit as sigmoid
from .scipy.special import log_expit as log_sigmoid

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


def softplus(x):
    """softplus(x) = log(1 + eˣ) = logaddexp(0, x) (NumPy's values): 1e3 at x = 1e3
    (the naive formula overflows), eˣ for x ≪ 0. Derivatives σ(x) and σ(x)σ(−x), from
    the rules of ``logaddexp``."""
    return logaddexp(0, x)


def log_softmax(x, axis=None):
    """x − log Σ eˣ over ``axis`` (all axes by default), with the value accurate at the
    dominant entry as well: (x − c) − log1p(Σ_{j≠m} e^{x_j − c}) with c = x_m the first
    maximum, so the value there is −log1p(T) (−4.25e−18 at a logit gap of 40, where
    SciPy's x − logsumexp(x) gives exactly 0). Derivatives: the rules of
    :func:`mlcalc.scipy.special.log_softmax` (the same primitive), I − 1 sᵀ with
    1 − s_m formed as Σ_{j≠m} s_j. Cost: one pass, plus locating the maximum."""
    x = _as_array(x)
    return log_softmax_p.bind(x, axis=normalize_axes(axis, ndim_of(x)), accurate=True)


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


log1mexp_p = Primitive("log1mexp", _log1mexp_impl)
inv_expm1_p = Primitive("inv_expm1", _inv_expm1_impl)


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


defunary(log1mexp_p, lambda a, f: inv_expm1(a))
defunary(inv_expm1_p, lambda a, r: r * inv_expm1(-a))
