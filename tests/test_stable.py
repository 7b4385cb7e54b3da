"""mlcalc.stable: values, first and second derivatives at extreme arguments against
60-digit references (mpmath), the naive formulas' failures, and float32 mode."""

import mpmath as mp
import numpy as np
import pytest
import scipy.special as ss

import mlcalc as mc
from mlcalc import stable as st
from mlcalc.testing import check_grads, check_vmap

mp.mp.dps = 60
EPS64 = np.finfo(np.float64).eps
EPS32 = np.finfo(np.float32).eps


def _sig(x):
    return 1 / (1 + mp.exp(-x))


# value, first and second derivative as mpmath functions of an mpf
def _dsig(x):
    return _sig(x) * _sig(-x)


REFERENCE = {
    "sigmoid": (_sig, _dsig, lambda x: _dsig(x) * (1 - 2 * _sig(x))),
    "softplus": (lambda x: mp.log1p(mp.exp(x)), _sig, _dsig),
    "log_sigmoid": (lambda x: -mp.log1p(mp.exp(-x)), lambda x: _sig(-x), lambda x: -_dsig(x)),
}
EXTREME = [-1e3, -100.0, -40.0, -20.0, -1.0, -1e-8, 0.0, 1e-8, 1.0, 20.0, 40.0, 100.0, 1e3]


def _close(actual, expected, rtol):
    """|actual − expected| ≤ rtol·|expected|, with expected rounded to float64 first
    (a reference below the smallest normal number is compared absolutely)."""
    expected = float(expected)
    tiny = np.finfo(np.float64).tiny
    assert abs(float(actual) - expected) <= rtol * abs(expected) + tiny, (actual, expected)


def _derivatives(f, x):
    return f(x), mc.grad(f)(x), mc.grad(mc.grad(f))(x)


@pytest.mark.parametrize("name", sorted(REFERENCE))
@pytest.mark.parametrize("x", EXTREME)
def test_unary_value_and_two_derivatives_at_extremes(name, x):
    f = getattr(st, name)
    refs = REFERENCE[name]
    for got, ref in zip(_derivatives(f, x), refs):
        _close(got, ref(mp.mpf(x)), 8 * EPS64)


# the standard names, as user code reaches them on traced values: the same functions
STANDARD = {
    "sigmoid": lambda t: ss.expit(t),
    "softplus": lambda t: np.logaddexp(0.0, t),
    "log_sigmoid": lambda t: ss.log_expit(t),
}


@pytest.mark.parametrize("name", sorted(STANDARD))
@pytest.mark.parametrize("x", EXTREME)
def test_standard_names_have_the_stable_derivatives(name, x):
    for got, ref in zip(_derivatives(STANDARD[name], x), REFERENCE[name]):
        _close(got, ref(mp.mpf(x)), 8 * EPS64)


def test_standard_names_are_the_stable_functions():
    import mlcalc.numpy as mnp
    import mlcalc.scipy.special as sps

    assert st.sigmoid is sps.expit and st.log_sigmoid is sps.log_expit
    assert st.logaddexp is mnp.logaddexp
    assert st.logsumexp is sps.logsumexp and st.softmax is sps.softmax
    # logaddexp2: ∂² = ln 2·σ'((x − y) ln 2) at a gap where σ(1 − σ) would be 0
    d = 60.0
    u = mp.mpf(d) * mp.log(2)
    _close(mc.grad(mc.grad(lambda t: np.logaddexp2(t, 0.0)))(d), mp.log(2) * _dsig(u), 8 * EPS64)
    # SciPy's values bit for bit, also as the primal of a traced evaluation
    a = np.random.default_rng(4).normal(size=(3, 4)) * 30
    for axis in (None, 0, 1, (0, 1)):
        for name in ("softmax", "log_softmax", "logsumexp"):
            ref = getattr(ss, name)(a, axis=axis)
            np.testing.assert_array_equal(getattr(sps, name)(a, axis=axis), ref)
            f = getattr(sps, name)
            primal = mc.jvp(lambda v, f=f, ax=axis: f(v, axis=ax), (a,), (a,))[0]
            np.testing.assert_array_equal(primal, ref)
    # scipy.special.log_softmax: SciPy's value, the stable Hessian
    x = np.array([0.0, 40.0, -3.0])
    np.testing.assert_array_equal(sps.log_softmax(x), ss.log_softmax(x))
    H = mc.hessian(lambda v: sps.log_softmax(v)[0])(x)
    np.testing.assert_array_equal(H, mc.hessian(lambda v: st.log_softmax(v)[0])(x))
    xm = [mp.mpf(v) for v in x]
    z = sum(mp.exp(v - xm[1]) for v in xm)
    s = [mp.exp(v - xm[1]) / z for v in xm]
    _close(H[1, 1], -s[1] * (s[0] + s[2]), 16 * EPS64)


@pytest.mark.parametrize("a", [1e-300, 1e-20, 1e-8, 0.1, np.log(2.0), 1.0, 40.0, 700.0, 1e3])
def test_log1mexp_value_and_two_derivatives(a):
    refs = (
        lambda t: mp.log1p(-mp.exp(-t)),
        lambda t: 1 / mp.expm1(t),
        lambda t: -mp.exp(t) / mp.expm1(t) ** 2,
    )
    if a == 1e-300:  # the second derivative −1/a² overflows: check the first two only
        refs = refs[:2]
    with np.errstate(over="ignore"):
        got_all = _derivatives(st.log1mexp, a)
    for got, ref in zip(got_all, refs):
        _close(got, ref(mp.mpf(a)), 8 * EPS64)


def test_log1mexp_domain():
    with np.errstate(invalid="ignore"):
        assert st.log1mexp(0.0) == -np.inf
        assert np.isnan(st.log1mexp(-1.0))


def test_naive_formulas_fail_where_stable_ones_do_not():
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        x = 1e3
        assert np.isinf(np.log1p(np.exp(x)))                   # softplus overflows
        assert st.softplus(x) == 1e3
        naive_d2 = np.exp(x) / (1 + np.exp(x)) ** 2            # softplus'' = inf/inf
        assert np.isnan(naive_d2)
        assert mc.grad(mc.grad(st.softplus))(x) == 0.0         # true value e^{-1000} → 0
        s = 1 / (1 + np.exp(-40.0))
        assert s * (1 - s) == 0.0                              # σ(1 − σ) loses every digit
        _close(mc.grad(st.sigmoid)(40.0), mp.exp(-40) / (1 + mp.exp(-40)) ** 2, 8 * EPS64)
        assert np.log(1 - np.exp(-1e-20)) == -np.inf           # log1mexp near 0
        assert np.log(1 - np.exp(-40.0)) == 0.0                # log1mexp far out
        assert np.isnan(-np.exp(x) / np.expm1(x) ** 2)         # (1/expm1)' at 1e3
        assert mc.grad(mc.grad(st.log1mexp))(x) == 0.0
        assert np.log(np.exp(x) + np.exp(x)) == np.inf         # logaddexp
        assert st.logaddexp(x, x) == x + np.log(2.0)


def test_logaddexp_derivatives():
    # ∂ = (σ(x − y), σ(y − x)), ∂² = σ'(x − y) [[1, −1], [−1, 1]]
    for x, y in [(1e3, 1e3), (1e3, 999.0), (-1e3, 1e3), (0.5, -2.0)]:
        p = np.array([x, y])
        def f(v):
            return st.logaddexp(v[0], v[1])
        s = _sig(mp.mpf(x) - mp.mpf(y))
        g = mc.grad(f)(p)
        _close(g[0], s, 4 * EPS64)
        _close(g[1], 1 - s, 4 * EPS64)
        H = mc.hessian(f)(p)
        d = s * (1 - s)
        for i, j, sign in [(0, 0, 1), (0, 1, -1), (1, 0, -1), (1, 1, 1)]:
            _close(H[i, j], sign * d, 8 * EPS64)
    # the same infinity on both sides: ½ each (x − y would be NaN)
    for inf in (np.inf, -np.inf):
        np.testing.assert_equal(mc.grad(st.logaddexp, argnums=(0, 1))(inf, inf), (0.5, 0.5))
    # a weight e^{x − z} from the rounded output z would be off at (1e15, 1e15); the
    # rule of np.logaddexp (this very function) gives ½ exactly
    assert st.logaddexp is mc.numpy.logaddexp
    assert mc.grad(lambda t: np.logaddexp(t, 1e15))(1e15) == 0.5


def test_logsumexp_softmax_hessians_at_extremes():
    x = np.array([1e3, 1e3 - 1.0, -1e3, 0.0])
    xm = [mp.mpf(v) for v in x]
    z = sum(mp.exp(v - xm[0]) for v in xm)
    s = [mp.exp(v - xm[0]) / z for v in xm]
    _close(st.logsumexp(x), xm[0] + mp.log(z), 4 * EPS64)
    g = mc.grad(st.logsumexp)(x)
    H = mc.hessian(st.logsumexp)(x)
    Hs = mc.hessian(lambda v: st.log_softmax(v)[1])(x)   # = −(diag s − s sᵀ)
    J = mc.jacrev(st.softmax)(x)                         # = diag s − s sᵀ
    for i in range(4):
        _close(g[i], s[i], 8 * EPS64)
        for j in range(4):
            ref = (s[i] if i == j else 0) - s[i] * s[j]
            _close(H[i, j], ref, 16 * EPS64)
            _close(-Hs[i, j], ref, 16 * EPS64)
            _close(J[i, j], ref, 16 * EPS64)
    with np.errstate(over="ignore", invalid="ignore"):
        assert not np.all(np.isfinite(np.log(np.sum(np.exp(x)))))


@pytest.mark.parametrize("x", [[0.0, 40.0, -3.0], [1.0, 1.0, 0.0], [-1e3, 1e3, 1e3 - 50.0]])
def test_softmax_family_entrywise_at_large_gaps_and_ties(x):
    # every entry of J(softmax) = diag s − s sᵀ, of J(log_softmax) = I − 1 sᵀ and of
    # ∇²logsumexp to a few ulps of itself, also s_m(1 − s_m) with 1 − s_m ≈ 4e−18
    x = np.array(x)
    xm = [mp.mpf(v) for v in x]
    z = sum(mp.exp(v - max(xm)) for v in xm)
    s = [mp.exp(v - max(xm)) / z for v in xm]
    J_soft = mc.jacrev(st.softmax)(x)
    J_log = mc.jacfwd(st.log_softmax)(x)
    H = mc.hessian(st.logsumexp)(x)
    for i in range(3):
        _close(st.log_softmax(x)[i], mp.log(s[i]), 4 * EPS64)
        for j in range(3):
            ref = (s[i] if i == j else 0) - s[i] * s[j]
            _close(J_soft[i, j], ref, 16 * EPS64)
            _close(H[i, j], ref, 16 * EPS64)
            # 1 − s_j computed as a sum of the others, not a difference
            ref_log = (1 - s[j] if i == j else -s[j])
            if i == j:
                ref_log = sum(s[k] for k in range(3) if k != j)
            _close(J_log[i, j], ref_log, 16 * EPS64)
    # the constant-shift formula e^{x − m}/Σ e^{x − m} differentiated by the engine
    # loses that entry entirely; the standard name is the stable function itself
    import mlcalc.scipy.special as sps

    def naive_softmax(v):
        e = np.exp(v - mc.stop_gradient(np.max(v)))
        return e / np.sum(e)

    assert sps.softmax is st.softmax
    if x[1] - x[0] == 40.0:
        assert mc.jacrev(naive_softmax)(x)[1, 1] == 0.0 and J_soft[1, 1] > 0


def _mp_log_softmax(a, axis):
    out = np.empty_like(a)
    axes = tuple(range(a.ndim)) if axis is None else np.atleast_1d(axis)
    keep = [i for i in range(a.ndim) if i not in axes]
    for idx in np.ndindex(*[a.shape[i] for i in keep]):
        sel = [slice(None)] * a.ndim
        for k, i in zip(keep, idx):
            sel[k] = i
        block = a[tuple(sel)]
        lse = mp.log(sum(mp.exp(mp.mpf(v)) for v in block.ravel()))
        out[tuple(sel)] = np.vectorize(lambda v, c=lse: float(mp.mpf(v) - c))(block)
    return out


def test_softmax_family_axes_and_vmap():
    a = np.random.default_rng(1).normal(size=(3, 4)) * 30
    for axis in (None, 0, 1, (0, 1)):
        np.testing.assert_allclose(st.softmax(a, axis=axis), ss.softmax(a, axis=axis),
                                   rtol=1e-13)
        # against 60 digits: SciPy's x − logsumexp(x) loses digits where the entry is ≈ 0
        ref = _mp_log_softmax(a, axis)
        err = np.max(np.abs(st.log_softmax(a, axis=axis) - ref) / np.abs(ref))
        # rounding x_j − x_m (|·| ≲ 30 here) is amplified by exp: a few tens of ulps
        assert err < 32 * EPS64, (axis, err)
    g = mc.vmap(mc.grad(st.logsumexp))(a)
    np.testing.assert_allclose(g, ss.softmax(a, axis=1), rtol=1e-13)
    check_grads(lambda v: st.log_softmax(v, axis=1), (a / 30,), order=2)
    check_grads(lambda v: st.softmax(v, axis=0), (a / 30,), order=2)


def test_xlogy_second_derivatives():
    # ∂²/∂y² x log y = −x/y², ∂²/∂x∂y = 1/y; value 0 at x = 0 even for y = 0
    x, y = 3.0, 1e-100
    H = mc.hessian(lambda v: st.xlogy(v[0], v[1]))(np.array([x, y]))
    _close(H[1, 1], -mp.mpf(x) / mp.mpf(y) ** 2, 4 * EPS64)
    _close(H[0, 1], 1 / mp.mpf(y), 4 * EPS64)
    assert H[0, 0] == 0.0
    assert st.xlogy(0.0, 0.0) == 0.0
    assert mc.grad(st.xlogy, argnums=1)(0.0, 0.0) == 0.0


@pytest.mark.parametrize("name", ["sigmoid", "softplus", "log_sigmoid", "sigmoid_derivative"])
def test_rules_against_finite_differences_and_vmap(name):
    f = getattr(st, name)
    x = np.array([-3.0, -0.4, 0.3, 2.5])
    check_grads(f, (x,), order=3)
    check_vmap(mc.grad(lambda t: np.sum(f(t))), (x[:, None] * np.ones((4, 3)),))


def test_binary_and_log1mexp_rules_against_finite_differences():
    check_grads(st.logaddexp, (np.array([0.3, -1.0, 2.0]), np.array([0.1, 0.5, -4.0])), order=2)
    check_grads(st.log1mexp, (np.array([0.2, 0.9, 3.0]),), order=3)


def test_inv_expm1_derivatives_at_extremes():
    # r = 1/expm1(a), r' = −eᵃ/expm1(a)², r'' = eᵃ(eᵃ + 1)/expm1(a)³
    refs = (
        lambda t: 1 / mp.expm1(t),
        lambda t: -mp.exp(t) / mp.expm1(t) ** 2,
        lambda t: mp.exp(t) * (mp.exp(t) + 1) / mp.expm1(t) ** 3,
    )
    for a in (-1e3, -5.0, 1e-4, 2.0, 40.0, 700.0, 1e3):
        for got, ref in zip(_derivatives(st.inv_expm1, a), refs):
            _close(got, ref(mp.mpf(a)), 16 * EPS64)


def test_logsumexp_gradient_at_huge_arguments():
    # the gradient is the softmax, ½ each at a tie, at any magnitude
    for big in (1e3, 1e10, 1e15, 1e300):
        x = np.array([big, big])
        assert st.logsumexp(x) == big + np.log(2.0) or big > 1e15
        np.testing.assert_array_equal(mc.grad(st.logsumexp)(x), [0.5, 0.5])
        np.testing.assert_allclose(mc.hessian(st.logsumexp)(x),
                                   [[0.25, -0.25], [-0.25, 0.25]], rtol=4 * EPS64)


def test_logsumexp_axis_keepdims_and_weights():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(3, 4)) * 50
    b = rng.uniform(0.5, 2.0, size=(4,))
    for axis in (None, 0, 1, (0, 1)):
        for keepdims in (False, True):
            np.testing.assert_allclose(st.logsumexp(a, axis=axis, b=b, keepdims=keepdims),
                                       ss.logsumexp(a, axis=axis, b=b, keepdims=keepdims),
                                       rtol=4 * EPS64)
    g = mc.grad(lambda v: np.sum(st.logsumexp(v, axis=1, b=b)))(a)
    p = b * np.exp(a - a.max(axis=1, keepdims=True))
    np.testing.assert_allclose(g, p / p.sum(axis=1, keepdims=True), rtol=8 * EPS64)
    check_grads(lambda v, w: st.logsumexp(v, axis=0, b=w), (a / 50, b), order=2)


# ---------------------------------------------------------------------------------
# float32 mode

# every derivative entry to float32 precision relative to itself (the softmax family
# included: its Jacobian entries s_m(1 − s_m) come without cancellation)
FLOAT32_CASES = {
    "sigmoid": lambda v: st.sigmoid(v),
    "softplus": lambda v: st.softplus(v),
    "log_sigmoid": lambda v: st.log_sigmoid(v),
    "log1mexp": lambda v: st.log1mexp(np.abs(v) + 0.25),
    "logaddexp": lambda v: st.logaddexp(v, 0.5 * v[::-1]),
    "logsumexp": lambda v: st.logsumexp(v),
    "log_softmax": lambda v: st.log_softmax(v)[0],
    "softmax": lambda v: st.softmax(v)[-1],
    "xlogy": lambda v: st.xlogy(v, np.abs(v) + 1.0),
}


@pytest.mark.parametrize("name", sorted(FLOAT32_CASES))
@pytest.mark.parametrize("scale", [1.0, 30.0, 1e3])
def test_float32_grad_matches_float64(name, scale):
    f = FLOAT32_CASES[name]
    x64 = np.array([-1.0, -0.375, 0.25, 0.75, 1.0]) * scale
    x32 = x64.astype(np.float32)
    assert np.array_equal(x32.astype(np.float64), x64)  # the same point in both modes
    def total(v):
        return np.sum(f(v))
    v = np.array([1.0, -2.0, 0.5, 3.0, -1.0])
    def hvp(x):
        return mc.hvp(total, (x,), (v.astype(x.dtype),))
    for fn, rtol in ((total, 8 * EPS32), (mc.grad(total), 8 * EPS32), (hvp, 32 * EPS32)):
        out32, out64 = np.asarray(fn(x32)), np.asarray(fn(x64))
        assert out32.dtype == np.float32, name
        scale_ref = np.maximum(np.abs(out64), np.finfo(np.float32).tiny)
        err = np.max(np.abs(out32.astype(np.float64) - out64) / scale_ref)
        assert err <= rtol, (name, err)
