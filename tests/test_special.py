"""Differentiable scipy.special: SciPy's values, derivatives of every order (through
SciPy's own ufuncs and the mlcalc.scipy.special spelling), batching, stability at
extreme inputs, conventions at singular points."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.special as sp

import mlcalc as mc
from mlcalc.scipy import special as ms
from mlcalc.testing import check_grads, check_vmap

SHAPE = (2, 3)


def _sample(domain: str, shape=SHAPE, seed: int = 0) -> np.ndarray:
    """Random points in a function's domain, away from its singular points."""
    rng = np.random.default_rng(seed)
    u = rng.uniform(size=shape)
    if domain == "real":
        return rng.standard_normal(shape) * 1.5
    if domain == "pos":
        return 0.5 + 2.5 * u
    if domain == "unit":
        return 0.05 + 0.9 * u
    if domain == "sym":
        return -0.9 + 1.8 * u
    if domain == "two":
        return 0.1 + 1.8 * u
    if domain == "nonzero":
        return np.where(rng.uniform(size=shape) < 0.5, -1.0, 1.0) * (0.3 + 1.7 * u)
    if domain == "gt_m1":
        return -0.5 + 2.5 * u
    raise ValueError(domain)


UNARY = [
    ("erf", "real"),
    ("erfc", "real"),
    ("erfinv", "sym"),
    ("erfcinv", "two"),
    ("erfcx", "real"),
    ("gamma", "pos"),
    ("gammaln", "pos"),
    ("digamma", "pos"),
    ("psi", "pos"),
    ("expit", "real"),
    ("logit", "unit"),
    ("log_expit", "real"),
    ("ndtr", "real"),
    ("log_ndtr", "real"),
    ("ndtri", "unit"),
    ("entr", "pos"),
    ("i0", "real"),
    ("i0e", "nonzero"),
    ("i1", "nonzero"),
    ("i1e", "nonzero"),
]
BINARY = [
    ("xlogy", "real", "pos"),
    ("xlog1py", "real", "gt_m1"),
    ("rel_entr", "pos", "pos"),
    ("beta", "pos", "pos"),
    ("betaln", "pos", "pos"),
]
UNARY_NAMES = [n for n, _ in UNARY]
BINARY_NAMES = [n for n, *_ in BINARY]
SPELLINGS = {"scipy": sp, "mlcalc": ms}


# ---------------------------------------------------------------------------------
# values


@pytest.mark.parametrize("name,domain", UNARY)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_unary_values_are_scipys(name, domain, dtype):
    x = _sample(domain).astype(dtype)
    ours, theirs = getattr(ms, name)(x), getattr(sp, name)(x)
    np.testing.assert_array_equal(ours, theirs)
    assert ours.dtype == theirs.dtype
    traced_value = mc.jvp(getattr(sp, name), (x,), (np.ones_like(x),))[0]
    np.testing.assert_array_equal(traced_value, theirs)


@pytest.mark.parametrize("name,dx,dy", BINARY)
def test_binary_values_are_scipys(name, dx, dy):
    x, y = _sample(dx, (3, 1), 1), _sample(dy, (4,), 2)
    np.testing.assert_array_equal(getattr(ms, name)(x, y), getattr(sp, name)(x, y))
    traced_value = mc.vjp(getattr(sp, name), x, y)[0]
    np.testing.assert_array_equal(traced_value, getattr(sp, name)(x, y))


@pytest.mark.parametrize("n", [0, 1, 2])
def test_polygamma_values(n):
    x = _sample("pos")
    np.testing.assert_array_equal(ms.polygamma(n, x), sp.polygamma(n, x))
    np.testing.assert_array_equal(mc.jvp(lambda x: ms.polygamma(n, x), (x,), (x,))[0],
                                  sp.polygamma(n, x))


# ---------------------------------------------------------------------------------
# derivatives


@pytest.mark.parametrize("spelling", ["scipy", "mlcalc"])
@pytest.mark.parametrize("name,domain", UNARY)
def test_unary_grads(name, domain, spelling):
    fn = getattr(SPELLINGS[spelling], name)
    check_grads(fn, (_sample(domain),), order=2)


@pytest.mark.parametrize("spelling", ["scipy", "mlcalc"])
@pytest.mark.parametrize("shapes", [((2, 3), (2, 3)), ((3, 1), (4,)), ((), (3,))])
@pytest.mark.parametrize("name,dx,dy", BINARY)
def test_binary_grads(name, dx, dy, shapes, spelling):
    fn = getattr(SPELLINGS[spelling], name)
    x, y = _sample(dx, shapes[0], 1), _sample(dy, shapes[1], 2)
    check_grads(fn, (x, y), order=2)


@pytest.mark.parametrize("n", [0, 1, 3])
def test_polygamma_grads(n):
    check_grads(lambda x: ms.polygamma(n, x), (_sample("pos"),), order=2, rtol=1e-4)


def test_polygamma_order_array_broadcasts():
    n, x = np.array([[0], [1]]), _sample("pos", (3,))
    g = mc.jacfwd(lambda x: ms.polygamma(n, x))(x)
    np.testing.assert_allclose(np.einsum("ijj->ij", g), sp.polygamma(n + 1, x), rtol=1e-14)
    with pytest.raises(mc.NotDifferentiableError):
        mc.grad(lambda n: np.sum(ms.polygamma(n, x)))(np.array([1.0]))


@pytest.mark.parametrize("name,domain", [("erf", "real"), ("gammaln", "pos"), ("log_ndtr", "real")])
def test_third_order(name, domain):
    check_grads(getattr(sp, name), (_sample(domain, (3,)),), order=3, rtol=1e-4, atol=1e-4)


def _elementwise_grad(f):
    return mc.grad(lambda x: np.sum(f(x)))


@pytest.mark.parametrize(
    "f,closed_form,domain",
    [
        (sp.erf, lambda x: 2 / np.sqrt(np.pi) * np.exp(-x * x), "real"),
        (sp.erfinv, lambda x: np.sqrt(np.pi) / 2 * np.exp(sp.erfinv(x) ** 2), "sym"),
        (sp.gammaln, sp.digamma, "pos"),
        (sp.digamma, lambda x: sp.polygamma(1, x), "pos"),
        (sp.gamma, lambda x: sp.gamma(x) * sp.digamma(x), "pos"),
        (sp.ndtr, lambda x: np.exp(-x * x / 2) / np.sqrt(2 * np.pi), "real"),
        (sp.log_ndtr, lambda x: np.exp(-x * x / 2) / np.sqrt(2 * np.pi) / sp.ndtr(x), "real"),
        (sp.expit, lambda x: sp.expit(x) * (1 - sp.expit(x)), "real"),
        (sp.logit, lambda x: 1 / (x * (1 - x)), "unit"),
        (sp.log_expit, lambda x: sp.expit(-x), "real"),
        (sp.i0, sp.i1, "real"),
    ],
)
def test_closed_forms(f, closed_form, domain):
    x = _sample(domain)
    np.testing.assert_allclose(_elementwise_grad(f)(x), closed_form(x), rtol=1e-13)


def test_betaln_gradient_and_hessian():
    a, b = 1.7, 0.6
    ga, gb = mc.grad(sp.betaln, argnums=(0, 1))(a, b)
    np.testing.assert_allclose([ga, gb], [sp.digamma(a) - sp.digamma(a + b),
                                          sp.digamma(b) - sp.digamma(a + b)], rtol=1e-14)
    h = mc.hessian(lambda v: sp.betaln(v[0], v[1]))(np.array([a, b]))
    t = sp.polygamma(1, a + b)
    expected = np.array([[sp.polygamma(1, a) - t, -t], [-t, sp.polygamma(1, b) - t]])
    np.testing.assert_allclose(h, expected, rtol=1e-13)


@pytest.mark.parametrize("name,domain", [("erf", "real"), ("gammaln", "pos"), ("expit", "real")])
def test_float32_gradients_stay_float32(name, domain):
    x = _sample(domain).astype(np.float32)
    g = _elementwise_grad(getattr(sp, name))(x)
    h = mc.jvp(_elementwise_grad(getattr(sp, name)), (x,), (np.ones_like(x),))[1]
    assert g.dtype == np.float32 and h.dtype == np.float32


# ---------------------------------------------------------------------------------
# batching


@pytest.mark.parametrize("name,domain", UNARY)
def test_unary_vmap(name, domain):
    fn = getattr(sp, name)
    x = _sample(domain, (3, 4))
    check_vmap(fn, (x,))
    check_vmap(fn, (x,), in_axes=1)


@pytest.mark.parametrize("name,dx,dy", BINARY)
def test_binary_vmap(name, dx, dy):
    fn = getattr(sp, name)
    x, y = _sample(dx, (3, 4), 1), _sample(dy, (3, 4), 2)
    check_vmap(fn, (x, y))
    check_vmap(fn, (x, y.T), in_axes=(1, 0))
    check_vmap(fn, (x, y[0]), in_axes=(0, None))
    check_vmap(fn, (x[:, 0], y), in_axes=(None, 1))


def test_polygamma_vmap():
    x = _sample("pos", (3, 4))
    check_vmap(lambda x: ms.polygamma(2, x), (x,), in_axes=1)
    check_vmap(ms.polygamma, (np.array([0, 1, 2]), x), in_axes=(0, None))


@pytest.mark.parametrize("f,domain", [(sp.gammaln, "pos"), (sp.log_ndtr, "real"),
                                      (sp.xlogy, None)])
def test_vmap_of_grad(f, domain):
    if domain is None:
        x, y = _sample("real", (3, 2)), _sample("pos", (3, 2))
        check_vmap(mc.grad(lambda a, b: np.sum(f(a, b)), argnums=(0, 1)), (x, y))
    else:
        check_vmap(mc.grad(lambda a: np.sum(f(a))), (_sample(domain, (3, 2)),))


# ---------------------------------------------------------------------------------
# conventions at singular points


def test_xlogy_conventions():
    dx, dy = mc.grad(sp.xlogy, argnums=(0, 1))(0.0, 0.0)
    assert (dx, dy) == (0.0, 0.0)
    dx, dy = mc.grad(sp.xlogy, argnums=(0, 1))(0.0, 2.0)
    assert dx == math.log(2.0) and dy == 0.0
    h = mc.hessian(lambda v: sp.xlogy(v[0], v[1]))(np.array([0.0, 0.0]))
    assert np.all(np.isfinite(h))


def test_xlog1py_and_rel_entr_conventions():
    assert mc.grad(sp.xlog1py, argnums=(0, 1))(0.0, -1.0) == (0.0, 0.0)
    assert mc.grad(sp.xlog1py, argnums=(0, 1))(0.0, 1.0) == (math.log(2.0), 0.0)
    assert mc.grad(sp.rel_entr, argnums=(0, 1))(0.0, 2.0) == (0.0, 0.0)


def test_bessel_conventions_at_zero():
    assert mc.grad(sp.i0e)(0.0) == 0.0
    assert mc.grad(sp.i1)(0.0) == 0.5
    assert mc.grad(sp.i1e)(0.0) == 0.5
    assert mc.grad(sp.i0)(0.0) == 0.0
    with np.errstate(divide="ignore"):
        assert mc.grad(sp.entr)(0.0) == np.inf


# ---------------------------------------------------------------------------------
# logsumexp, softmax, log_softmax

LSE_VARIANTS = [
    ((3, 4), None, False),
    ((3, 4), 0, False),
    ((3, 4), -1, True),
    ((2, 3, 4), (0, 2), False),
    ((2, 3, 4), (0, 2), True),
    ((4,), 0, True),
    ((), None, False),
]


@pytest.mark.parametrize("shape,axis,keepdims", LSE_VARIANTS)
def test_logsumexp(shape, axis, keepdims):
    a = _sample("real", shape, 3)
    f = lambda a: ms.logsumexp(a, axis=axis, keepdims=keepdims)  # noqa: E731
    expected = sp.logsumexp(a, axis=axis, keepdims=keepdims)
    np.testing.assert_allclose(f(a), expected, rtol=1e-15)
    np.testing.assert_allclose(mc.jvp(f, (a,), (a,))[0], expected, rtol=1e-15)
    check_grads(f, (a,), order=2)
    if shape:
        check_vmap(f, (_sample("real", (2,) + shape, 4),), in_axes=len(shape))


@pytest.mark.parametrize("b_shape", [(3, 4), (3, 1), (4,)])
def test_logsumexp_with_weights(b_shape):
    a, b = _sample("real", (3, 4), 5), _sample("pos", b_shape, 6)
    f = lambda a, b: ms.logsumexp(a, axis=1, b=b)  # noqa: E731
    np.testing.assert_allclose(f(a, b), sp.logsumexp(a, axis=1, b=b), rtol=1e-15)
    check_grads(f, (a, b), order=2)
    g = lambda a, b: ms.logsumexp(a, axis=-1, b=b)  # noqa: E731
    check_vmap(g, (a, b), in_axes=(0, None))
    check_vmap(g, (a[0], b), in_axes=(None, 0))


def test_logsumexp_return_sign():
    a, b = np.array([1.0, 2.0, 0.5]), np.array([1.0, -1.0, 0.3])
    out, sign = ms.logsumexp(a, b=b, return_sign=True)
    np.testing.assert_allclose((out, sign), sp.logsumexp(a, b=b, return_sign=True), rtol=1e-15)
    assert sign == -1.0
    f = lambda a, b: ms.logsumexp(a, b=b, return_sign=True)[0]  # noqa: E731
    s = b * np.exp(a)
    np.testing.assert_allclose(mc.grad(f)(a, b), s / s.sum(), rtol=1e-13)
    check_grads(f, (a, b), order=2)


def test_logsumexp_return_sign_vmap():
    rng = np.random.default_rng(10)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    f = lambda a, b: ms.logsumexp(a, axis=-1, b=b, return_sign=True)  # noqa: E731
    check_vmap(f, (a, b), in_axes=(1, 1))
    check_vmap(f, (a[0], b), in_axes=(None, 0))
    check_vmap(mc.grad(lambda a, b: f(a, b)[0], argnums=(0, 1)), (a, b))


def test_logsumexp_third_order():
    check_grads(lambda a: ms.logsumexp(a, axis=0), (_sample("real", (3, 2)),), order=3)


SOFTMAX_VARIANTS = [((3, 4), None), ((3, 4), 0), ((3, 4), -1), ((2, 3, 4), (0, 2)), ((), None)]


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("shape,axis", SOFTMAX_VARIANTS)
def test_softmax_family(name, shape, axis):
    x = _sample("real", shape, 7)
    f = lambda x: getattr(ms, name)(x, axis=axis)  # noqa: E731
    expected = getattr(sp, name)(x, axis=axis)
    np.testing.assert_allclose(f(x), expected, rtol=1e-15)
    np.testing.assert_allclose(mc.jvp(f, (x,), (x,))[0], expected, rtol=1e-15)
    check_grads(f, (x,), order=2)
    if shape:
        check_vmap(f, (_sample("real", shape + (2,), 8),), in_axes=len(shape))


def test_softmax_jacobian_closed_form():
    x = _sample("real", (5,))
    s = sp.softmax(x)
    np.testing.assert_allclose(mc.jacrev(ms.softmax)(x), np.diag(s) - np.outer(s, s),
                               rtol=1e-13, atol=1e-16)
    np.testing.assert_allclose(mc.jacfwd(ms.log_softmax)(x), np.eye(5) - s, rtol=1e-13)
    np.testing.assert_allclose(mc.grad(ms.logsumexp)(x), s, rtol=1e-13)


def test_vmap_of_grad_logsumexp():
    a = _sample("real", (4, 3), 9)
    check_vmap(mc.grad(ms.logsumexp), (a,))
    check_vmap(mc.hessian(ms.logsumexp), (a,), in_axes=1)


@pytest.mark.parametrize("name", ["logsumexp", "softmax", "log_softmax"])
def test_scipy_spelling_names_the_replacement(name):
    fn = getattr(sp, name)
    with pytest.raises(mc.NotDifferentiableError, match=rf"mlcalc\.scipy\.special\.{name}\b"):
        mc.grad(lambda x: np.sum(fn(x)))(np.ones(3))
    with pytest.raises(mc.NotDifferentiableError, match=rf"scipy\.special\.{name} converts"):
        mc.jvp(fn, (np.ones(3),), (np.ones(3),))


def test_scipy_polygamma_names_the_replacement():
    with pytest.raises(mc.NotDifferentiableError, match=r"mlcalc\.scipy\.special\.polygamma"):
        mc.grad(lambda x: sp.polygamma(1, x))(1.5)


def test_unimplemented_names_fall_back_to_scipy():
    assert ms.zeta is sp.zeta
    with pytest.raises(AttributeError):
        ms.no_such_function  # noqa: B018


# ---------------------------------------------------------------------------------
# stability at extreme inputs

EXTREME = np.array([-1e3, -20.0, 0.5, 20.0, 1e3])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_logsumexp_family_extreme_inputs(dtype):
    x = np.array([1e3, 999.0, -1e3, 0.0], dtype=dtype)
    s = sp.softmax(x.astype(np.float64))
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        g = mc.grad(ms.logsumexp)(x)
        jac_s = mc.jacrev(ms.softmax)(x)
        jac_l = mc.jacfwd(ms.log_softmax)(x)
        h = mc.hessian(ms.logsumexp)(x)
    for out in (g, jac_s, jac_l, h):
        assert out.dtype == dtype and np.all(np.isfinite(out))
    # float32: e^{a − out} inherits the rounding of a and out near 1e3 (ulp 6e-5).
    tol = {"rtol": 1e-4, "atol": 1e-7} if dtype == np.float32 else {"rtol": 1e-13, "atol": 1e-300}
    np.testing.assert_allclose(g, s, **tol)
    np.testing.assert_allclose(jac_s, np.diag(s) - np.outer(s, s), **tol)
    np.testing.assert_allclose(h, np.diag(s) - np.outer(s, s), **tol)
    np.testing.assert_allclose(jac_l, np.eye(4) - s, **tol)


def test_logsumexp_value_at_extremes_float32():
    x = np.array([100.0, 99.0], dtype=np.float32)  # exp(100) overflows float32
    out = ms.logsumexp(x)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, 100.0 + np.log1p(np.exp(-1.0)), rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_log_expit_and_expit_extreme(dtype):
    x = EXTREME.astype(dtype)
    g = _elementwise_grad(sp.log_expit)(x)
    np.testing.assert_allclose(g, sp.expit(-x.astype(np.float64)), rtol=1e-6, atol=1e-30)
    ge = _elementwise_grad(sp.expit)(x)
    he = mc.jvp(_elementwise_grad(sp.expit), (x,), (np.ones_like(x),))[1]
    for out in (g, ge, he):
        assert out.dtype == dtype and np.all(np.isfinite(out))
    assert g[0] == 1.0 and g[-1] == 0.0 and ge[0] == 0.0 and ge[-1] == 0.0


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_log_ndtr_extreme(dtype):
    x = EXTREME.astype(dtype)
    g = _elementwise_grad(sp.log_ndtr)(x)
    h = mc.jvp(_elementwise_grad(sp.log_ndtr), (x,), (np.ones_like(x),))[1]
    assert g.dtype == dtype and np.all(np.isfinite(g)) and np.all(np.isfinite(h))
    # r = φ(x)/Φ(x) ~ −x − 1/x + 2/x³ as x → −∞ (r' = −r(x + r) → −1), ~ φ(x) → 0 as
    # x → +∞.
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(g[0], 1e3 + 1e-3 - 2e-9, rtol=rtol)
    assert g[-1] == 0.0 and h[-1] == 0.0
    if dtype == np.float64:
        np.testing.assert_allclose(h[0], -0.999999, rtol=1e-6)


def test_logistic_weights_keep_full_precision_at_extreme_arguments():
    # closed forms: σ'(x) = e^{-x}/(1 + e^{-x})², softmax weights of equal entries ½
    x = 40.0
    true = math.exp(-x) / (1 + math.exp(-x)) ** 2
    assert mc.grad(sp.expit)(x) == pytest.approx(true, rel=1e-14)
    assert mc.grad(mc.grad(lambda t: np.logaddexp(0.0, t)))(x) == pytest.approx(true, rel=1e-14)
    np.testing.assert_array_equal(
        mc.grad(lambda a: ms.logsumexp(a))(np.array([1e15, 1e15])), [0.5, 0.5])
    assert mc.grad(lambda t: np.logaddexp(t, 1e15))(1e15) == 0.5
    assert mc.grad(lambda t: np.logaddexp2(t, 1e15))(1e15) == 0.5
    s = math.exp(0.3) - 0.5 * math.exp(0.1)  # signed sums: ∂ log|Σ b e^a| = b e^a / Σ b e^a
    g = mc.grad(lambda a: ms.logsumexp(a, b=np.array([1.0, -0.5]),
                                  return_sign=True)[0])(np.array([0.3, 0.1]))
    np.testing.assert_allclose(g, [math.exp(0.3) / s, -0.5 * math.exp(0.1) / s], rtol=1e-14)
