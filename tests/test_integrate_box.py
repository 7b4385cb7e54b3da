"""integrate over boxes: exactness of the rules, infinite limits, vector integrands,
derivatives through the integral, the method choice and the errors for bad input."""

import math

import numpy as np
import pytest
from scipy.special import erf

import mlcalc as mc
from mlcalc.integrate import IntegrationResult, integrate
from mlcalc.integrate.rules import gauss_kronrod, gauss_kronrod15, genz_malik


def monomial(powers):
    powers = np.asarray(powers)
    return lambda x: np.prod(x**powers, axis=1)


def monomial_integral(powers, lo, hi):
    return np.prod([(b ** (p + 1) - a ** (p + 1)) / (p + 1) for p, a, b in zip(powers, lo, hi)])


@pytest.mark.parametrize("powers", [(0, 0), (5, 3), (7, 7), (3, 0, 6), (1, 2, 3, 1)])
def test_gauss_integrates_polynomials_of_degree_2n_minus_1_exactly(powers):
    d = len(powers)
    lo, hi = -0.5 * np.ones(d), np.linspace(1.0, 2.0, d)
    res = integrate(monomial(powers), lo, hi, method="gauss", order=4)  # degree ≤ 7 per axis
    assert res.value == pytest.approx(monomial_integral(powers, lo, hi), rel=1e-13, abs=1e-14)


def test_gauss_order_too_low_is_not_exact_and_says_so():
    res = integrate(monomial((8,)), 0.0, 1.0, method="gauss", order=4, rtol=1e-12)
    assert abs(res.value - 1 / 9) > 1e-8
    assert not res.success and abs(res.value - 1 / 9) <= res.error


@pytest.mark.parametrize("d", [2, 3, 5])
def test_genz_malik_rules_have_degrees_7_and_5(d):
    rule = genz_malik(d)
    assert rule.npoints == 2**d + 2 * d * d + 2 * d + 1
    rng = np.random.default_rng(d)
    for _ in range(20):
        powers = np.zeros(d, dtype=int)
        for i in rng.integers(0, d, size=rng.integers(0, 8)):
            powers[i] += 1
        exact = np.prod([(1 - (-1) ** (p + 1)) / (p + 1) for p in powers]) / 2**d
        vals = np.prod(rule.U**powers, axis=1)
        assert rule.high @ vals == pytest.approx(exact, abs=1e-14)
        if powers.sum() <= 5:
            assert rule.low @ vals == pytest.approx(exact, abs=1e-14)
    assert abs(rule.high @ rule.U[:, 0] ** 8 - 1 / 9) > 1e-6  # degree 8 is not exact


def test_gauss_kronrod_pair_has_degrees_22_and_13():
    rule = gauss_kronrod15()
    x = rule.U[:, 0]
    for p in range(25):  # odd powers integrate to 0 by symmetry; the even ones decide
        exact = (1 - (-1) ** (p + 1)) / (p + 1) / 2
        err_k = abs(rule.high @ x**p - exact)
        err_g = abs(rule.low @ x**p - exact)
        assert err_k < 1e-14 if p <= 23 else err_k > 1e-10
        assert err_g < 1e-14 if p <= 13 or p % 2 else err_g > 1e-6


def test_gauss_kronrod_21_pair_has_degrees_32_and_19_and_nests_gauss_legendre_10():
    rule = gauss_kronrod(10)
    x = rule.U[:, 0]
    for p in range(36):
        exact = (1 - (-1) ** (p + 1)) / (p + 1) / 2
        err_k = abs(rule.high @ x**p - exact)
        err_g = abs(rule.low @ x**p - exact)
        assert err_k < 1e-14 if p <= 31 or p % 2 else err_k > 1e-12
        assert err_g < 1e-14 if p <= 19 or p % 2 else err_g > 1e-7
    gl_nodes, gl_weights = np.polynomial.legendre.leggauss(10)
    on_gauss = rule.low != 0
    np.testing.assert_allclose(np.sort(x[on_gauss]), gl_nodes, atol=1e-15)
    np.testing.assert_allclose(rule.low[on_gauss][np.argsort(x[on_gauss])] * 2, gl_weights,
                               atol=1e-15)


def test_product_rule_is_exact_for_products_of_one_dimensional_monomials():
    rule = gauss_kronrod(10, 3)
    vals = rule.U[:, 0] ** 30 * rule.U[:, 1] ** 2 * rule.U[:, 2] ** 18
    assert rule.high @ vals == pytest.approx((1 / 31) * (1 / 3) * (1 / 19), rel=1e-13)


@pytest.mark.parametrize("method", ["gauss", "adaptive", "qmc", "mc"])
def test_gaussian_over_the_real_line_is_sqrt_pi(method):
    res = integrate(lambda x: np.exp(-x[:, 0] ** 2), -np.inf, np.inf, method=method,
                    rtol=1e-10, seed=3, max_evals=2**14 if method in ("mc", "qmc") else 200_000)
    tol = 4 * res.error if method in ("mc", "qmc") else max(res.error, 1e-13)
    assert abs(res.value - math.sqrt(math.pi)) <= tol
    if method in ("gauss", "adaptive"):
        assert res.value == pytest.approx(math.sqrt(math.pi), rel=1e-9)


@pytest.mark.parametrize("method", ["gauss", "adaptive", "qmc"])
def test_gaussian_over_the_plane_is_pi(method):
    res = integrate(lambda x: np.exp(-np.sum(x**2, axis=1)), [-np.inf] * 2, [np.inf] * 2,
                    method=method, rtol=1e-9, seed=0, max_evals=2**15 if method == "qmc"
                    else 500_000)
    if method == "qmc":
        assert abs(res.value - math.pi) <= 4 * res.error
    else:  # the default order 32 resolves the mapped Gaussian to about 1e-5
        assert res.value == pytest.approx(math.pi, rel=1e-8 if method == "adaptive" else 1e-5)
        assert abs(res.value - math.pi) <= max(res.error, 1e-13)


def test_half_infinite_limits_both_orientations():
    f = lambda x: np.exp(-x[:, 0])  # noqa: E731
    assert integrate(f, 1.0, np.inf).value == pytest.approx(math.exp(-1), rel=1e-10)
    g = lambda x: np.exp(x[:, 0])  # noqa: E731
    assert integrate(g, -np.inf, 2.0).value == pytest.approx(math.exp(2), rel=1e-10)
    mixed = integrate(lambda x: np.exp(-x[:, 0] - x[:, 1] ** 2), [0.0, -np.inf], [np.inf, 0.0])
    assert mixed.value == pytest.approx(math.sqrt(math.pi) / 2, rel=1e-9)


def test_reversed_limits_change_the_sign():
    f = lambda x: x[:, 0] ** 2 + x[:, 1]  # noqa: E731
    fwd = integrate(f, [0, 0], [1, 2], method="gauss", order=3).value
    rev = integrate(f, [1, 0], [0, 2], method="adaptive").value
    assert fwd == pytest.approx(2 / 3 + 2, rel=1e-13)
    assert rev == pytest.approx(-fwd, rel=1e-12)


@pytest.mark.parametrize("method", ["gauss", "adaptive", "qmc"])
def test_vector_integrand_integrates_componentwise(method):
    f = lambda x: np.stack([np.ones(len(x)), x[:, 0] * x[:, 1], np.sin(x[:, 0])], axis=1)  # noqa
    res = integrate(f, [0, 0], [1, 2], method=method, rtol=1e-9, seed=1, max_evals=2**14
                    if method == "qmc" else 100_000)
    exact = np.array([2.0, 1.0, 2 * (1 - math.cos(1))])
    assert res.value.shape == (3,) and res.error.shape == (3,)
    k = 4 if method == "qmc" else 1
    assert np.all(np.abs(res.value - exact) <= k * res.error + 1e-14)


def gaussian_mass(s, method, **kw):
    # ∫₀¹ exp(−x²/(2s²)) dx = s·√(π/2)·erf(1/(s√2))
    return integrate(lambda x: np.exp(-x[:, 0] ** 2 / (2 * s**2)), 0.0, 1.0, method=method,
                     **kw).value


@pytest.mark.parametrize("method", ["gauss", "qmc", "adaptive"])
def test_derivative_with_respect_to_a_parameter_of_the_integrand(method):
    s = 0.7
    exact = lambda s: s * math.sqrt(math.pi / 2) * erf(1 / (s * math.sqrt(2)))  # noqa: E731
    h = 1e-6
    d_exact = (exact(s + h) - exact(s - h)) / (2 * h)
    kw = {"seed": 5, "max_evals": 2**14} if method == "qmc" else {}
    g = mc.grad(lambda s: gaussian_mass(s, method, **kw))(s)
    # the same rule, differentiated: matches the derivative of the exact integral
    assert g == pytest.approx(d_exact, rel=1e-6 if method == "qmc" else 1e-9)


def test_gradient_of_a_two_dimensional_qmc_integral_matches_its_fixed_point_difference():
    def integral(c):
        return integrate(lambda x: np.cos(c[0] * x[:, 0] + c[1] * x[:, 1]), [0, 0], [1, 1],
                         method="qmc", seed=2, max_evals=2**12, rtol=0.0).value
    c = np.array([1.3, 0.4])
    g = mc.grad(integral)(c)
    e = np.eye(2) * 1e-6
    fd = [(integral(c + e[i]) - integral(c - e[i])) / 2e-6 for i in range(2)]
    assert g == pytest.approx(fd, rel=1e-6)


def test_auto_picks_by_dimension_and_tolerance_and_says_so():
    f = lambda x: np.exp(-np.sum(x**2, axis=1))  # noqa: E731
    low = integrate(f, np.zeros(2), np.ones(2))
    assert low.method == "adaptive" and "auto" in low.message
    high = integrate(f, np.zeros(8), np.ones(8), max_evals=2**12)
    assert high.method == "qmc" and "auto" in high.message
    loose = integrate(f, np.zeros(6), np.ones(6), rtol=1e-2, max_evals=2**12)
    assert loose.method == "qmc"


def test_budget_exhaustion_is_reported():
    p = lambda x: 1 / (1e-4 + np.sum((x - 0.3) ** 2, axis=1))  # noqa: E731
    res = integrate(p, [0, 0], [1, 1], method="adaptive", rtol=1e-12, max_evals=5000)
    assert not res.success and "max_evals" in res.message and res.nfev <= 5000


def test_result_is_frozen():
    res = integrate(lambda x: x[:, 0], 0, 1)
    assert isinstance(res, IntegrationResult)
    with pytest.raises(AttributeError):
        res.value = 0.0


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match=r"\(3,\).*\(2,\)"):
        integrate(lambda x: x[:, 0], [0, 0, 0], [1, 1])
    with pytest.raises(ValueError, match=r"returned shape \(7, 2, 2\)"):
        integrate(lambda x: np.ones((len(x), 2, 2)), [0], [1], method="gauss", order=7)
    with pytest.raises(ValueError, match="unknown method"):
        integrate(lambda x: x[:, 0], 0, 1, method="simpson")
    with pytest.raises(ValueError, match="max_evals"):
        integrate(lambda x: x[:, 0], [0] * 3, [1] * 3, method="gauss", order=50,
                  max_evals=1000)
