"""Differentiable ``scipy.special``.

The special functions that are NumPy ufuncs (``erf``, ``gammaln``, ``expit``,
``xlogy``...) are primitives whose values are SciPy's own, bit for bit; they are
registered with NumPy's ``__array_ufunc__`` protocol, so a user's unmodified
``scipy.special.erf(x)`` is differentiated too. Their derivatives are written with
differentiable functions (often other special functions of this module), so every
order works.

``logsumexp``, ``softmax``, ``log_softmax`` and ``polygamma`` convert their input with
``np.asarray`` in SciPy, which no protocol can intercept: call the versions of this
module (``mlcalc.scipy.special.logsumexp``...). SciPy's own function raises
:class:`mlcalc.NotDifferentiableError` naming the replacement when it meets a traced
value.

Conventions at non-differentiable or singular points: ``xlogy``/``xlog1py`` at
``x == 0``: ∂/∂y = 0 (the function is 0 for every y), and ∂/∂x = 0 where the log is
singular too (``y == 0``, resp. ``y == -1``); ``rel_entr`` likewise at ``x == 0``;
``i0e``/``i1e`` at 0 (a kink from ``e^{-|x|}``): the average of the one-sided
derivatives; ``i1`` at 0: the limit 1/2. Other functions follow their formulas
(infinities and NaN propagate).

Names not defined here are SciPy's own functions.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.special as _sp

from .. import numpy as mnp
from ..autodiff.core import ASARRAY_REPLACEMENTS, Tracer
from ..numpy._base import (
    Primitive,
    broadcast_tangent,
    defbinary,
    defunary,
    dtype_of,
    move_bdim_to_front,
    ndim_of,
    normalize_axes,
    register_ufunc,
    shape_of,
    unbroadcast,
)
from ..numpy._elementwise import expit_p

__all__ = [
    "erf",
    "erfc",
    "erfinv",
    "erfcinv",
    "erfcx",
    "gamma",
    "gammaln",
    "digamma",
    "psi",
    "polygamma",
    "beta",
    "betaln",
    "expit",
    "logit",
    "log_expit",
    "ndtr",
    "log_ndtr",
    "ndtri",
    "entr",
    "rel_entr",
    "xlogy",
    "xlog1py",
    "i0",
    "i0e",
    "i1",
    "i1e",
    "logsumexp",
    "softmax",
    "log_softmax",
]

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_HALF_SQRT_PI = math.sqrt(math.pi) / 2.0
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2PI = math.sqrt(2.0 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2 = 1.0 / math.sqrt(2.0)


def _unary(ufunc, deriv) -> Primitive:
    """Primitive for a one-argument SciPy ufunc; ``deriv(x, y)`` is f'(x)."""
    return defunary(Primitive(ufunc.__name__, ufunc), deriv)


def _binary(ufunc, d0, d1) -> Primitive:
    """Primitive for a two-argument SciPy ufunc from its partial derivatives."""
    return defbinary(Primitive(ufunc.__name__, ufunc), d0, d1)


def _safe(cond, x, fill: float):
    """``x`` with ``fill`` where ``cond`` holds (the inner ``where`` of the double-where
    pattern: the discarded branch stays finite, so its derivatives do too)."""
    return mnp.where(cond, fill, x)


def _zero_where(cond, value):
    """``value`` with 0 where ``cond`` holds."""
    return mnp.where(cond, 0.0, value)


def _gaussian_pdf(x):
    """φ(x) = e^{−x²/2} / √(2π)."""
    return _INV_SQRT_2PI * mnp.exp(-0.5 * (x * x))


# ---------------------------------------------------------------------------------
# error functions and the normal distribution

erf_p = _unary(_sp.erf, lambda x, y: _TWO_OVER_SQRT_PI * mnp.exp(-(x * x)))
erfc_p = _unary(_sp.erfc, lambda x, y: -_TWO_OVER_SQRT_PI * mnp.exp(-(x * x)))
erfinv_p = _unary(_sp.erfinv, lambda x, y: _HALF_SQRT_PI * mnp.exp(y * y))
erfcinv_p = _unary(_sp.erfcinv, lambda x, y: -_HALF_SQRT_PI * mnp.exp(y * y))
erfcx_p = _unary(_sp.erfcx, lambda x, y: 2.0 * x * y - _TWO_OVER_SQRT_PI)
ndtr_p = _unary(_sp.ndtr, lambda x, y: _gaussian_pdf(x))
ndtri_p = _unary(_sp.ndtri, lambda x, y: _SQRT_2PI * mnp.exp(0.5 * (y * y)))


def _log_ndtr_deriv(x, y):
    # φ(x)/Φ(x): directly for x > 0 (Φ ≥ 1/2), through erfcx for x ≤ 0 where both
    # factors underflow: φ(x)/Φ(x) = √(2/π) / erfcx(−x/√2).
    positive = x > 0
    xp = mnp.where(positive, x, 1.0)
    xn = mnp.where(positive, 0.0, x)
    return mnp.where(
        positive,
        _gaussian_pdf(xp) / ndtr(xp),
        _SQRT_2_OVER_PI / erfcx(-_INV_SQRT_2 * xn),
    )


log_ndtr_p = _unary(_sp.log_ndtr, _log_ndtr_deriv)


def erf(x):
    """Error function erf(x) = 2/√π ∫₀ˣ e^{−t²} dt; erf'(x) = 2/√π e^{−x²}."""
    return erf_p.bind(x)


def erfc(x):
    """Complementary error function 1 − erf(x); erfc'(x) = −2/√π e^{−x²}."""
    return erfc_p.bind(x)


def erfinv(x):
    """Inverse of erf on (−1, 1); erfinv'(x) = √π/2 · e^{erfinv(x)²}."""
    return erfinv_p.bind(x)


def erfcinv(x):
    """Inverse of erfc on (0, 2); erfcinv'(x) = −√π/2 · e^{erfcinv(x)²}."""
    return erfcinv_p.bind(x)


def erfcx(x):
    """Scaled complementary error function e^{x²} erfc(x);
    erfcx'(x) = 2x·erfcx(x) − 2/√π."""
    return erfcx_p.bind(x)


def ndtr(x):
    """Standard normal CDF Φ(x); Φ'(x) = φ(x) = e^{−x²/2}/√(2π)."""
    return ndtr_p.bind(x)


def log_ndtr(x):
    """log Φ(x); derivative φ(x)/Φ(x), computed without underflow for very negative x
    (through erfcx) and without overflow for very positive x."""
    return log_ndtr_p.bind(x)


def ndtri(p):
    """Inverse of Φ on (0, 1); ndtri'(p) = 1/φ(ndtri(p)) = √(2π) e^{ndtri(p)²/2}."""
    return ndtri_p.bind(p)


# ---------------------------------------------------------------------------------
# gamma family

gamma_p = _unary(_sp.gamma, lambda x, y: y * digamma(x))
gammaln_p = _unary(_sp.gammaln, lambda x, y: digamma(x))
# SciPy's polygamma computes in float64: cast back to keep float32 derivatives float32.
digamma_p = _unary(_sp.digamma, lambda x, y: mnp.astype(polygamma(1, x), dtype_of(y)))
polygamma_p = _binary(_sp.polygamma, None, lambda n, x, z: polygamma(n + 1, x))


def _beta_partial(first: bool):
    def d(a, b, z):
        return z * (digamma(a if first else b) - digamma(a + b))

    return d


def _betaln_partial(first: bool):
    def d(a, b, z):
        return digamma(a if first else b) - digamma(a + b)

    return d


beta_p = _binary(_sp.beta, _beta_partial(True), _beta_partial(False))
betaln_p = _binary(_sp.betaln, _betaln_partial(True), _betaln_partial(False))


def gamma(x):
    """Gamma function Γ(x); Γ'(x) = Γ(x) ψ(x)."""
    return gamma_p.bind(x)


def gammaln(x):
    """log |Γ(x)|; its derivative is the digamma function ψ(x)."""
    return gammaln_p.bind(x)


def digamma(x):
    """Digamma function ψ(x) = Γ'(x)/Γ(x); ψ'(x) = polygamma(1, x)."""
    return digamma_p.bind(x)


psi = digamma


def polygamma(n, x):
    """Polygamma function ψ⁽ⁿ⁾(x), the n-th derivative of ψ; d/dx ψ⁽ⁿ⁾ = ψ⁽ⁿ⁺¹⁾.
    The order ``n`` (integers) is not differentiable."""
    return polygamma_p.bind(n, x)


def beta(a, b):
    """Beta function B(a, b) = Γ(a)Γ(b)/Γ(a+b); ∂B/∂a = B·(ψ(a) − ψ(a+b))."""
    return beta_p.bind(a, b)


def betaln(a, b):
    """log |B(a, b)|; ∂/∂a = ψ(a) − ψ(a+b), ∂/∂b = ψ(b) − ψ(a+b)."""
    return betaln_p.bind(a, b)


# ---------------------------------------------------------------------------------
# logistic functions

# expit is the engine's logistic primitive (the weight in logaddexp's rules), with
# σ' = σ(x)σ(−x) as a primitive of its own whose derivative −σ'(x)·tanh(x/2) is stable.
logit_p = _unary(_sp.logit, lambda x, y: 1.0 / (x * (1.0 - x)))
log_expit_p = _unary(_sp.log_expit, lambda x, y: expit(-x))


def expit(x):
    """Logistic sigmoid σ(x) = 1/(1 + e^{−x}); σ'(x) = σ(x)σ(−x) =
    e^{−|x|}/(1 + e^{−|x|})² (full relative precision where σ(1 − σ) rounds to 0, x > 37
    in float64), σ'' = −σ'(x)·tanh(x/2)."""
    return expit_p.bind(x)


def logit(p):
    """log(p/(1 − p)), the inverse of expit; logit'(p) = 1/(p(1 − p))."""
    return logit_p.bind(p)


def log_expit(x):
    """log σ(x) = −softplus(−x), stable for large |x|; derivatives σ(−x) and
    −σ(x)σ(−x) (no 1 − σ cancellation, so both keep their digits at x < −37)."""
    return log_expit_p.bind(x)


# ---------------------------------------------------------------------------------
# x·log y and entropies


def _xlogy_dx(x, y, z):
    singular = mnp.logical_and(x == 0, y == 0)
    return _zero_where(singular, mnp.log(_safe(singular, y, 1.0)))


def _xlogy_dy(x, y, z):
    at_zero = x == 0
    return _zero_where(at_zero, x / _safe(at_zero, y, 1.0))


def _xlog1py_dx(x, y, z):
    singular = mnp.logical_and(x == 0, y == -1)
    return _zero_where(singular, xlog1py(1.0, _safe(singular, y, 0.0)))


def _xlog1py_dy(x, y, z):
    at_zero = x == 0
    return _zero_where(at_zero, x / (1.0 + _safe(at_zero, y, 0.0)))


def _entr_deriv(x, y):
    return -(mnp.log(x) + 1.0)


def _rel_entr_dx(x, y, z):
    # d/dx x log(x/y) = log(x/y) + 1; at x == 0 the log is singular: 0 by convention.
    at_zero = x == 0
    return _zero_where(at_zero, mnp.log(_safe(at_zero, x, 1.0) / _safe(at_zero, y, 1.0)) + 1.0)


xlogy_p = _binary(_sp.xlogy, _xlogy_dx, _xlogy_dy)
xlog1py_p = _binary(_sp.xlog1py, _xlog1py_dx, _xlog1py_dy)
entr_p = _unary(_sp.entr, _entr_deriv)
rel_entr_p = _binary(_sp.rel_entr, _rel_entr_dx, lambda x, y, z: -_xlogy_dy(x, y, z))


def xlogy(x, y):
    """x·log(y), with 0 where x == 0 (even for y == 0). ∂/∂x = log y, ∂/∂y = x/y;
    where x == 0: ∂/∂y = 0, and ∂/∂x = 0 if also y == 0."""
    return xlogy_p.bind(x, y)


def xlog1py(x, y):
    """x·log(1 + y), with 0 where x == 0. ∂/∂x = log(1 + y), ∂/∂y = x/(1 + y);
    where x == 0: ∂/∂y = 0, and ∂/∂x = 0 if also y == −1."""
    return xlog1py_p.bind(x, y)


def entr(x):
    """Elementwise entropy −x log x (0 at x = 0, −inf for x < 0);
    derivative −(log x + 1) (+inf at 0)."""
    return entr_p.bind(x)


def rel_entr(x, y):
    """Relative entropy x·log(x/y) (0 at x = 0 ≤ y, inf outside the domain);
    ∂/∂x = log(x/y) + 1, ∂/∂y = −x/y; where x == 0 both are 0 by convention."""
    return rel_entr_p.bind(x, y)


# ---------------------------------------------------------------------------------
# modified Bessel functions


def _sign_times(x, v):
    """sign(x)·v, with sign(0) = 0."""
    return mnp.where(x > 0, v, mnp.where(x < 0, -v, 0.0))


def _over_x(x, v, limit: float):
    """v/x, with ``limit`` (the value of lim v/x) at x == 0."""
    at_zero = x == 0
    return mnp.where(at_zero, limit, v / _safe(at_zero, x, 1.0))


i0_p = _unary(_sp.i0, lambda x, y: i1(x))
i0e_p = _unary(_sp.i0e, lambda x, y: i1e(x) - _sign_times(x, y))
i1_p = _unary(_sp.i1, lambda x, y: i0(x) - _over_x(x, y, 0.5))
i1e_p = _unary(_sp.i1e, lambda x, y: i0e(x) - _over_x(x, y, 0.5) - _sign_times(x, y))


def i0(x):
    """Modified Bessel function of the first kind of order 0; I₀' = I₁."""
    return i0_p.bind(x)


def i0e(x):
    """Exponentially scaled I₀: e^{−|x|} I₀(x); derivative i1e(x) − sign(x)·i0e(x)
    (0 at the kink x = 0, the average of the one-sided derivatives)."""
    return i0e_p.bind(x)


def i1(x):
    """Modified Bessel function of the first kind of order 1; I₁' = I₀ − I₁/x
    (1/2 at x = 0)."""
    return i1_p.bind(x)


def i1e(x):
    """Exponentially scaled I₁: e^{−|x|} I₁(x); derivative i0e − i1e/x − sign(x)·i1e
    (1/2 at x = 0)."""
    return i1e_p.bind(x)


# ---------------------------------------------------------------------------------
# logsumexp, softmax, log_softmax
#
# Values are SciPy's (the same NumPy operations); the derivatives are written so that
# no entry is a difference of nearly equal numbers, at every order. The one delicate
# entry is the dominant one, m (the first maximum over the reduced axes): there the
# softmax Jacobian s_m(1 − s_m) and the log-softmax gradient 1 − s_m would cancel for
# logit gaps above 37 (float64) when 1 − s_m is formed as a difference. The rules below
# form it as Σ_{j≠m} s_j instead, and are written with softmax itself, whose own rule is
# of this form: the derivative of a derivative is stable as well.


def _first_max_impl(x, *, axis):
    """Boolean mask of the first maximum over ``axis`` (one True per reduced slice;
    NaN entries are skipped)."""
    x = np.asarray(x)
    if np.isnan(x).any():
        x = np.where(np.isnan(x), -np.inf, x)
    if len(axis) == 1:  # the common case: no transposes
        idx = np.argmax(x, axis=axis[0], keepdims=True)
        positions = np.arange(x.shape[axis[0]]).reshape(
            [-1 if i == axis[0] else 1 for i in range(x.ndim)])
        return positions == idx
    keep = [i for i in range(x.ndim) if i not in axis]
    moved = np.transpose(x, keep + list(axis))
    lead = moved.shape[: len(keep)]
    flat = moved.reshape(lead + (-1,))
    idx = np.argmax(flat, axis=-1)
    mask = np.zeros(flat.shape, dtype=bool)
    np.put_along_axis(mask, idx[..., None], True, axis=-1)
    mask = mask.reshape(moved.shape)
    return np.transpose(mask, np.argsort(keep + list(axis)))


def _shift_impl(x, *, axis, finite):
    m = np.max(x, axis=axis, keepdims=True)
    return np.where(np.isfinite(m), m, 0) if finite else m


def _softmax_impl(x, *, axis):
    e = np.exp(x - _shift_impl(x, axis=axis, finite=False))
    return e / np.sum(e, axis=axis, keepdims=True)


def _log_softmax_impl(x, *, axis, accurate):
    if not accurate:  # SciPy's formula: (x − m) − log Σ e^{x − m}
        shifted = x - _shift_impl(x, axis=axis, finite=True)
        return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
    # (x − c) − log1p(Σ_{j≠m} e^{x_j − c}), c = x_m, with (x − c)_m ≡ 0
    mask = _first_max_impl(x, axis=axis)
    c = np.sum(np.where(mask, x, 0), axis=axis, keepdims=True)
    finite = np.isfinite(c)
    with np.errstate(invalid="ignore"):
        d = np.where(mask, 0, x - np.where(finite, c, 0))
        T = np.sum(np.where(mask, 0, np.exp(d)), axis=axis, keepdims=True)
        return np.where(finite, d - np.log1p(T), x - c)  # ±inf maxima: NaN as in SciPy


# The first maximum and the maximum used as a shift: constants (no derivative).
first_max_p = Primitive("first_max", _first_max_impl, nondiff=True)
shift_p = Primitive("softmax_shift", _shift_impl, nondiff=True)
softmax_p = Primitive("softmax", _softmax_impl)
log_softmax_p = Primitive("log_softmax", _log_softmax_impl)


def _axis_batch(prim):
    """Batching rule of a one-argument primitive reducing over ``axis``: the batch axis
    goes in front and the reduced axes move up by one."""

    def rule(args, dims, axis, **params):
        x = move_bdim_to_front(args[0], dims[0])
        return prim.bind(x, axis=tuple(i + 1 for i in axis), **params), 0

    return rule


for _prim in (first_max_p, shift_p, softmax_p, log_softmax_p):
    _prim.defbatch(_axis_batch(_prim))


def _masked_sum(mask, v, axis, at_max: bool):
    """Σ over ``axis`` of v at the first maximum (``at_max``) or at the other entries."""
    return mnp.sum(mnp.where(mask, v, 0.0) if at_max else mnp.where(mask, 0.0, v),
                   axis=axis, keepdims=True)


def _centered(s, mask, t, axis):
    """t − Σ_j s_j t_j (s: the softmax, Σ s = 1), with the entry at the maximum formed
    as Σ_{j≠m} s_j (t_m − t_j): for t = e_m it is 1 − s_m = Σ_{j≠m} s_j, a sum of
    positive terms rather than a difference."""
    at_m = _masked_sum(mask, s * (_masked_sum(mask, t, axis, True) - t), axis, False)
    return mnp.where(mask, at_m, t - mnp.sum(s * t, axis=axis, keepdims=True))


def _softmax_rule(t, ans, x, *, axis):
    # J = diag s − s sᵀ is symmetric: the JVP and the VJP are the same map, s ⊙ (t − s·t).
    return ans * _centered(ans, first_max_p.bind(x, axis=axis), t, axis)


def _log_softmax_jvp(t, ans, x, *, axis, accurate):
    # J = I − 1 sᵀ: J t = t − s·t
    return _centered(softmax(x, axis=axis), first_max_p.bind(x, axis=axis), t, axis)


def _log_softmax_vjp(g, ans, x, *, axis, accurate):
    # Jᵀ g = g − s Σ g; at the maximum g_m Σ_{j≠m} s_j − s_m Σ_{j≠m} g_j (no 1 − s_m).
    s = softmax(x, axis=axis)
    mask = first_max_p.bind(x, axis=axis)
    at_m = (_masked_sum(mask, g, axis, True) * _masked_sum(mask, s, axis, False)
            - s * _masked_sum(mask, g, axis, False))
    return mnp.where(mask, at_m, g - s * mnp.sum(g, axis=axis, keepdims=True))


softmax_p.defjvp(_softmax_rule)
softmax_p.defvjp(_softmax_rule)
log_softmax_p.defjvp(_log_softmax_jvp)
log_softmax_p.defvjp(_log_softmax_vjp)


def _as_array(x):
    return x if isinstance(x, Tracer) else np.asarray(x)


def softmax(x, axis=None):
    """e^x / Σ e^x over ``axis`` (all axes by default; SciPy's values, computed as
    e^{x − m}/Σ e^{x − m}, m = max x).

    Jacobian diag(s) − s sᵀ with every entry to a few ulps of itself, also
    s_m(1 − s_m) at the maximum when s_m → 1 (1 − s_m comes as the sum of the other
    entries, not a difference: 4.2e−18 at a logit gap of 40, where s(1 − s) gives 0);
    the rule is written with softmax itself, so every order is stable. Cost: one pass."""
    x = _as_array(x)
    return softmax_p.bind(x, axis=normalize_axes(axis, ndim_of(x)))


def log_softmax(x, axis=None):
    """x − log Σ e^x over ``axis`` (all axes by default; SciPy's values, computed as
    (x − m) − log Σ e^{x − m} with m = max x, 0 where it is not finite).

    Jacobian I − 1 sᵀ (s = softmax) with the dominant entry 1 − s_m formed as
    Σ_{j≠m} s_j: the cross-entropy gradient s − e_y of a confidently right example keeps
    its digits (−4.25e−18 at a logit gap of 40, not 0), and so do second derivatives.
    :func:`mlcalc.stable.log_softmax` has the same rules and a value accurate at the
    dominant entry too (−log1p(T) where SciPy's rounds to 0)."""
    x = _as_array(x)
    return log_softmax_p.bind(x, axis=normalize_axes(axis, ndim_of(x)), accurate=False)


def _lse_value(*ab, axis, keepdims, signed):
    b = ab[1] if len(ab) > 1 else None
    out = _sp.logsumexp(ab[0], axis=axis, b=b, keepdims=keepdims, return_sign=signed)
    return out[0] if signed else out


def _lse_sign(*ab, axis, keepdims):
    b = ab[1] if len(ab) > 1 else None
    return _sp.logsumexp(ab[0], axis=axis, b=b, keepdims=keepdims, return_sign=True)[1]


logsumexp_p = Primitive("logsumexp", _lse_value)
logsumexp_sign_p = Primitive("logsumexp_sign", _lse_sign, nondiff=True)


def _full_shape(ab) -> tuple[int, ...]:
    return np.broadcast_shapes(*(shape_of(x) for x in ab))


def _keep(v, shape, axis, keepdims):
    """A reduced value ``v`` with the reduced axes kept (size 1), to broadcast over
    the input."""
    if keepdims:
        return v
    return mnp.reshape(v, tuple(1 if i in axis else s for i, s in enumerate(shape)))


def _lse_exp(ab, axis):
    """s·e^{a − out}: ∂out/∂b, and ∂out/∂a divided by b (s: the sign of the sum when
    ``return_sign`` is set, 1 otherwise). Without weights: :func:`softmax` (whose own
    derivative is stable). With weights: e^{a − m}/Σ b e^{a − m} with m the maximum of
    a held constant. Either way a quotient of exponentials of differences of the inputs,
    where e^{a − out} would inherit out's rounding (0.47 instead of 0.5 at
    a = (1e15, 1e15))."""
    if len(ab) == 1:
        return softmax_p.bind(ab[0], axis=axis)
    a = mnp.broadcast_to(ab[0], _full_shape(ab))
    e = mnp.exp(a - shift_p.bind(a, axis=axis, finite=True))
    return e / mnp.sum(e * ab[1], axis=axis, keepdims=True)


def _lse_jvp(tangents, ans, *ab, axis, keepdims, signed):
    e = _lse_exp(ab, axis)
    weights = (e,) if len(ab) == 1 else (e * ab[1], e)
    total = None
    for t, w in zip(tangents, weights, strict=True):
        if t is not None:
            total = t * w if total is None else total + t * w
    total = broadcast_tangent(total, _full_shape(ab))
    return mnp.sum(total, axis=axis, keepdims=keepdims)


def _lse_vjp(g, ans, needs, *ab, axis, keepdims, signed):
    e = _lse_exp(ab, axis)
    ge = _keep(g, _full_shape(ab), axis, keepdims) * e
    grads = [None] * len(ab)
    if needs[0]:
        grads[0] = unbroadcast(ge if len(ab) == 1 else ge * ab[1], shape_of(ab[0]))
    if len(ab) > 1 and needs[1]:
        grads[1] = unbroadcast(ge, shape_of(ab[1]))
    return grads


def _lse_batch(prim):
    def rule(args, dims, axis, **params):
        rank = max(ndim_of(x) - (d is not None) for x, d in zip(args, dims, strict=True))
        moved = []
        for x, d in zip(args, dims, strict=True):
            if d is not None:
                x = move_bdim_to_front(x, d)
                s = shape_of(x)
                x = mnp.reshape(x, (s[0],) + (1,) * (rank + 1 - len(s)) + s[1:])
            moved.append(x)
        return prim.bind(*moved, axis=tuple(i + 1 for i in axis), **params), 0

    return rule


logsumexp_p.defjvp_all(_lse_jvp)
logsumexp_p.defvjp_all(_lse_vjp)
logsumexp_p.defbatch(_lse_batch(logsumexp_p))
logsumexp_sign_p.defbatch(_lse_batch(logsumexp_sign_p))


def logsumexp(a, axis=None, b=None, keepdims=False, return_sign=False):
    """log Σ b·e^a over ``axis`` (as ``scipy.special.logsumexp``, same values).

    Derivatives: ∂/∂a = b·e^{a − out}, ∂/∂b = e^{a − out} (the softmax weights, times
    the sign of the sum with ``return_sign=True``; the sign carries no derivative),
    computed from differences of the inputs, never from out: [0.5, 0.5] at
    a = (1e15, 1e15). Without weights the gradient is :func:`softmax`, so the Hessian
    diag(p) − p pᵀ has every entry to a few ulps of itself, p_m(1 − p_m) included, at
    any |a| and gap, and so has every higher derivative. Cost: one pass over a.
    """
    operands = (a,) if b is None else (a, b)
    ndim = max(ndim_of(x) for x in operands)
    if ndim == 0:  # SciPy treats 0-d input as 1-d
        operands = tuple(mnp.reshape(x, (1,)) for x in operands)
        ndim = 1
    params = {"axis": normalize_axes(axis, ndim), "keepdims": bool(keepdims)}
    out = logsumexp_p.bind(*operands, signed=bool(return_sign), **params)
    if not return_sign:
        return out
    return out, logsumexp_sign_p.bind(*operands, **params)


# ---------------------------------------------------------------------------------
# registration

for _name in __all__:
    _ufunc = getattr(_sp, _name)
    if isinstance(_ufunc, np.ufunc):
        register_ufunc(_ufunc, globals()[_name])

ASARRAY_REPLACEMENTS.update(
    {name: f"mlcalc.scipy.special.{name}"
     for name in ("logsumexp", "softmax", "log_softmax", "polygamma")}
)


def __getattr__(name):
    try:
        return getattr(_sp, name)
    except AttributeError:
        raise AttributeError(f"module 'mlcalc.scipy.special' has no attribute {name!r}") from None
