"""Expectations under Gaussians and samplers, and their gradients, against closed forms."""

import math

import numpy as np
import pytest

import mlcalc as mc
from mlcalc.integrate.expectation import ExpectationResult, Gaussian, Sampler, expectation

MU, VAR = 0.7, 0.3
A3 = np.array([0.3, -0.2, 0.5])
M3 = np.array([0.1, 0.2, -0.3])
S3 = np.array([[1.0, 0.2, 0.0], [0.2, 0.5, 0.1], [0.0, 0.1, 0.8]])
A6 = np.linspace(-0.3, 0.4, 6)
M6 = np.linspace(0.0, 0.2, 6)
S6 = 0.5 * np.eye(6) + 0.1


def exp_moment(a, m, S):
    """E[exp(a·x)] for x ~ N(m, S)."""
    return math.exp(a @ m + 0.5 * a @ S @ a)


def test_second_moment_one_dimension():
    res = expectation(lambda x: x[:, 0] ** 2, Gaussian(MU, VAR))
    assert isinstance(res, ExpectationResult) and res.method == "gauss-hermite"
    assert res.value == pytest.approx(VAR + MU**2, rel=1e-14)
    assert res.error < 1e-12 and res.nfev > 0


def test_vector_integrand_gives_mean_and_second_moments():
    m = np.array([1.0, -2.0])
    S = np.array([[2.0, 0.5], [0.5, 1.0]])
    res = expectation(lambda x: np.stack([x[:, 0], x[:, 1], x[:, 0] * x[:, 1]], 1), Gaussian(m, S))
    np.testing.assert_allclose(res.value, [1.0, -2.0, S[0, 1] + m[0] * m[1]], rtol=1e-13)
    assert res.error.shape == (3,)


def test_exponential_moment_by_gauss_hermite():
    res = expectation(lambda x: np.exp(x @ A3), Gaussian(M3, S3))
    assert res.method == "gauss-hermite"
    assert res.value == pytest.approx(exp_moment(A3, M3, S3), rel=1e-13)


def test_gauss_hermite_error_estimate_covers_the_true_error():
    # E[cos 3x] = cos 3μ · exp(−9σ²/2); low orders are inexact, their estimates cover it.
    exact = math.cos(3 * MU) * math.exp(-9 * VAR / 2)
    for order in (4, 6, 8, 10, 12):
        res = expectation(lambda x: np.cos(3 * x[:, 0]), Gaussian(MU, VAR), order=order)
        true_error = abs(res.value - exact)
        assert 0 < true_error <= res.error
    res = expectation(lambda x: np.cos(3 * x[:, 0]), Gaussian(MU, VAR))
    assert res.value == pytest.approx(exact, rel=1e-13)


def test_exponential_moment_by_qmc_in_six_dimensions():
    exact = exp_moment(A6, M6, S6)
    res = expectation(lambda x: np.exp(x @ A6), Gaussian(M6, S6), seed=0)
    assert res.method == "qmc" and res.nfev == 2**14
    assert abs(res.value - exact) <= 4 * res.error
    assert res.error < 1e-3 * exact
    # QMC beats plain Monte Carlo at equal evaluations
    mc_res = expectation(lambda x: np.exp(x @ A6), Gaussian(M6, S6), method="mc", seed=0)
    assert abs(mc_res.value - exact) <= 4 * mc_res.error
    assert res.error < mc_res.error


def test_qmc_standard_error_is_honest_over_seeds():
    # the true error is within 3 standard errors for nearly every seed
    exact = exp_moment(A3, M3, S3)
    f = lambda x: np.exp(x @ A3)  # noqa: E731
    ratios = [
        abs(r.value - exact) / r.error
        for r in (
            expectation(f, Gaussian(M3, S3), method="qmc", n=2**10, seed=s) for s in range(20)
        )
    ]
    assert sum(r > 3 for r in ratios) <= 1


def test_sampler_monte_carlo_with_standard_error():
    # x ~ U[0, 1]²: E[x₁x₂] = 1/4, Var(x₁x₂) = 1/9 − 1/16 = 7/144.
    n = 40_000
    uniform = Sampler(lambda n, rng: rng.random((n, 2)))
    res = expectation(lambda x: x[:, 0] * x[:, 1], uniform, n=n, seed=1)
    assert res.method == "mc" and res.nfev == n
    assert abs(res.value - 0.25) <= 4 * res.error
    assert res.error == pytest.approx(math.sqrt(7 / 144 / n), rel=0.05)


def test_sampler_of_a_gaussian_matches_the_closed_form():
    s = math.sqrt(VAR)
    normal = Sampler(lambda n, rng: rng.normal(MU, s, (n, 1)))
    res = expectation(lambda x: x[:, 0] ** 2, normal, n=50_000, seed=2)
    assert abs(res.value - (VAR + MU**2)) <= 4 * res.error


def test_gradient_with_respect_to_the_mean():
    # d/dμ E[x² + sin x] = 2μ + cos μ · exp(−σ²/2)
    def e(m):
        return expectation(lambda x: x[:, 0] ** 2 + np.sin(x[:, 0]), Gaussian(m, VAR)).value

    exact = 2 * MU + math.cos(MU) * math.exp(-VAR / 2)
    assert mc.grad(e)(MU) == pytest.approx(exact, rel=1e-13)
    np.testing.assert_allclose(mc.grad(e)(np.array([MU])), [exact], rtol=1e-13)

    def e_and_error(m):
        res = expectation(lambda x: np.sin(x[:, 0]), Gaussian(m, VAR), order=4)
        return res.value, res.error

    g, error = mc.grad(e_and_error, has_aux=True)(MU)
    assert type(error) is float and error > 0  # errors stay plain numbers
    assert g == pytest.approx(math.cos(MU) * math.exp(-VAR / 2), abs=10 * error)


def test_gradient_with_respect_to_the_covariance():
    # ∂/∂Σ E[exp(a·x)] = ½ a aᵀ E[exp(a·x)] (a symmetric gradient)
    G = mc.grad(lambda S: expectation(lambda x: np.exp(x @ A3), Gaussian(M3, S)).value)(S3)
    np.testing.assert_allclose(G, 0.5 * np.outer(A3, A3) * exp_moment(A3, M3, S3), atol=1e-12)


def test_gradient_through_qmc():
    # ∇_m E[exp(a·x)] = a E[exp(a·x)]: the same fixed points, moved by the mean
    def e(m):
        return expectation(lambda x: np.exp(x @ A6), Gaussian(m, S6), seed=3).value

    np.testing.assert_allclose(mc.grad(e)(M6), A6 * exp_moment(A6, M6, S6), rtol=2e-3)


def test_bad_input_errors():
    with pytest.raises(ValueError, match=r"\(2, 2\).*got \(3, 3\)"):
        Gaussian(np.zeros(2), np.eye(3))
    with pytest.raises(ValueError, match="positive definite"):
        Gaussian(np.zeros(2), np.array([[1.0, 2.0], [2.0, 1.0]]))
    with pytest.raises(ValueError, match="symmetric"):
        Gaussian(np.zeros(2), np.array([[1.0, 0.5], [0.0, 1.0]]))
    uniform = Sampler(lambda n, rng: rng.random((n, 2)))
    with pytest.raises(ValueError, match="Sampler supports 'mc' only"):
        expectation(lambda x: x[:, 0], uniform, method="qmc")
    with pytest.raises(ValueError, match="method must be"):
        expectation(lambda x: x[:, 0], Gaussian(0.0, 1.0), method="simpson")
    with pytest.raises(TypeError, match="Gaussian"):
        expectation(lambda x: x[:, 0], np.random.default_rng())
    with pytest.raises(ValueError, match=r"got shape \(5, 2\)"):
        expectation(lambda x: x[:, 0], Sampler(lambda n, rng: rng.random((5, 2))), n=10)
    with pytest.raises(ValueError, match=r"returned shape \(\d+, 2, 2\)"):
        expectation(lambda x: np.ones((x.shape[0], 2, 2)), Gaussian(0.0, 1.0))
    with pytest.raises(ValueError, match="nodes"):
        expectation(lambda x: x[:, 0], Gaussian(np.zeros(8), np.eye(8)), "gauss-hermite", order=10)
