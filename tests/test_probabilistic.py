"""mlcalc.probabilistic against closed forms: the evidence of Bayesian linear regression,
Stirling's series, numerical integration in 2-3 dimensions, the exact gradients of
Gaussian expectations of quadratics, and the Ornstein–Uhlenbeck marginals."""

import math

import numpy as np
import pytest
import scipy.special as ss
from scipy.stats import multivariate_normal, norm

import mlcalc.integrate as mi
from mlcalc.ode import odeint
from mlcalc.probabilistic import (
    DiagonalGaussian,
    Gaussian,
    OrnsteinUhlenbeck,
    euler_maruyama,
    hessian_logdet,
    laplace_evidence,
    probability_flow,
    reparameterization_gradient,
    score_function_gradient,
)
from mlcalc.stable import log_sigmoid

# ---------------------------------------------------------------------------------
# Laplace evidence


def _blr(n=30, d=4, s2=0.25, alpha=2.0, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = X @ rng.normal(size=d) + math.sqrt(s2) * rng.normal(size=n)

    def log_joint(w):
        r = y - X @ w
        return (-0.5 * np.sum(r * r) / s2 - 0.5 * n * math.log(2 * math.pi * s2)
                - 0.5 * alpha * np.sum(w * w) + 0.5 * d * math.log(alpha / (2 * math.pi)))

    exact = multivariate_normal(np.zeros(n), s2 * np.eye(n) + X @ X.T / alpha).logpdf(y)
    return log_joint, exact, X, s2, alpha


def test_laplace_is_exact_for_bayesian_linear_regression():
    log_joint, exact, X, s2, alpha = _blr()
    res = laplace_evidence(log_joint, np.zeros(4))
    assert res.logdet_method == "exact" and res.success
    assert abs(res.log_evidence - exact) < 1e-8
    # θ* is the posterior mean, −∇² the posterior precision XᵀX/σ² + αI
    A = X.T @ X / s2 + alpha * np.eye(4)
    np.testing.assert_allclose(res.hessian, A, rtol=1e-10)
    assert abs(res.logdet - np.linalg.slogdet(A)[1]) < 1e-9
    assert res.grad_norm < 1e-6


def test_laplace_accepts_pytrees():
    log_joint, exact, _, _, _ = _blr()
    res = laplace_evidence(lambda p: log_joint(np.concatenate([p["a"], p["b"]])),
                           {"a": np.zeros(1), "b": np.zeros(3)})
    assert abs(res.log_evidence - exact) < 1e-8
    assert set(res.theta) == {"a", "b"} and res.theta["b"].shape == (3,)


def test_laplace_large_d_path_uses_slq():
    log_joint, exact, X, s2, alpha = _blr(n=80, d=40, seed=3)
    res = laplace_evidence(log_joint, np.zeros(40), logdet="slq", n_runs=40, n_steps=40)
    assert res.logdet_method in ("slq", "hvp-cholesky") and res.hessian is None
    # the estimate is within its own standard error (4σ) of the exact log-determinant
    A = X.T @ X / s2 + alpha * np.eye(40)
    true_ld = np.linalg.slogdet(A)[1]
    assert abs(res.logdet - true_ld) <= 4 * res.logdet_stderr + 1e-8
    assert abs(res.log_evidence - exact) <= 2 * res.logdet_stderr + 1e-8
    dense = hessian_logdet(lambda v: A @ v, 40, method="dense")
    assert dense[2] == "hvp-cholesky" and abs(dense[0] - true_ld) < 1e-9


@pytest.mark.parametrize("alpha0,beta0,counts", [(2.0, 1.0, [3, 5, 4, 6]),
                                                 (1.5, 0.5, [30, 41, 28, 35, 33, 37])])
def test_laplace_error_is_stirlings_series(alpha0, beta0, counts):
    # Poisson counts, Gamma(α₀, β₀) prior on the rate λ = e^θ. In θ the log joint is
    # αθ − βe^θ + const with α = α₀ + Σy, β = β₀ + n, and ∫ e^{αθ − βe^θ} dθ = Γ(α)/β^α:
    # the Laplace error is Stirling's: log Γ(α) − Stirling = 1/(12α) − 1/(360α³) + ...
    y = np.array(counts, float)
    n, a = y.size, alpha0 + y.sum()
    b = beta0 + n
    const = alpha0 * math.log(beta0) - ss.gammaln(alpha0) - np.sum(ss.gammaln(y + 1))

    def log_joint(theta):
        t = theta[0]
        return a * t - b * np.exp(t) + const

    exact = const + ss.gammaln(a) - a * math.log(b)
    res = laplace_evidence(log_joint, np.zeros(1))
    err = exact - res.log_evidence
    assert abs(err - (1 / (12 * a) - 1 / (360 * a**3))) < 1.1 / (1260 * a**5) + 1e-10


def _logistic(n, d, seed=0, prior_var=4.0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-X @ np.array([1.0, -0.5, 0.8][:d])))) * 1.0

    def batch(T):  # log p(D, θ) for points θ (m, d)
        z = T @ X.T
        return (np.sum(y * log_sigmoid(z) + (1 - y) * log_sigmoid(-z), axis=-1)
                - 0.5 * np.sum(T * T, axis=-1) / prior_var
                - 0.5 * d * math.log(2 * math.pi * prior_var))

    return batch


def _evidence_by_integration(batch, res, method, **kw):
    """log ∫ p(D, θ) dθ by cubature in whitened coordinates θ = θ* + L z."""
    d = res.dim
    L = np.linalg.cholesky(np.linalg.inv(res.hessian))
    f = lambda Z: np.exp(batch(res.theta + Z @ L.T) - res.log_joint)  # noqa: E731
    out = mi.integrate(f, [-np.inf] * d, [np.inf] * d, method=method, **kw)
    return res.log_joint + math.log(out.value) + np.sum(np.log(np.diag(L))), out


def test_laplace_against_cubature_2d_and_its_error_shrinks_with_n():
    errors = []
    for n in (20, 100):
        batch = _logistic(n, 2)
        res = laplace_evidence(lambda t, b=batch: b(t[None])[0], np.zeros(2))
        ref, out = _evidence_by_integration(batch, res, "adaptive", rtol=1e-7)
        assert out.success and out.error < 1e-6 * out.value
        errors.append(abs(res.log_evidence - ref))
    assert errors[0] < 0.15
    assert errors[1] < errors[0] / 2  # O(1/n): the posterior becomes Gaussian


def test_laplace_against_qmc_3d():
    batch = _logistic(20, 3)
    res = laplace_evidence(lambda t: batch(t[None])[0], np.zeros(3))
    ref, out = _evidence_by_integration(batch, res, "qmc", rtol=1e-5, max_evals=2**16, seed=0)
    assert out.error < 2e-3 * out.value
    assert 0.01 < abs(res.log_evidence - ref) < 0.2  # an approximation, a close one


def test_laplace_rejects_a_minimum():
    with pytest.raises(ValueError, match="not positive definite"):
        laplace_evidence(lambda t: np.sum(t * t), np.zeros(2))


# ---------------------------------------------------------------------------------
# Monte Carlo gradients

A = np.array([[2.0, 0.5, 0.0], [0.5, 1.0, 0.3], [0.0, 0.3, 0.5]])
B = np.array([1.0, -1.0, 0.5])


def _quadratic(x):
    return np.einsum("ni,ij,nj->n", x, A, x) + x @ B


def _within(est, exact, stderr, k=4.5):
    est, exact, stderr = (np.asarray(v) for v in (est, exact, stderr))
    assert np.all(np.abs(est - exact) <= k * stderr), (est, exact, stderr)


def test_gradient_estimators_diagonal_gaussian_quadratic():
    fam = DiagonalGaussian(3)
    phi = fam.params([0.5, -1.0, 2.0], [-0.5, 0.0, 0.3])
    m, s = phi["mean"], np.exp(phi["log_std"])
    value = m @ A @ m + np.sum(np.diag(A) * s**2) + B @ m
    g_mean = 2 * A @ m + B                       # ∂/∂m E[xᵀAx + bᵀx]
    g_logstd = 2 * np.diag(A) * s**2             # ∂/∂log s Σ Aᵢᵢ sᵢ²
    rep = reparameterization_gradient(_quadratic, fam, phi, n_samples=4000, seed=1)
    loo = score_function_gradient(_quadratic, fam, phi, n_samples=4000, seed=2)
    raw = score_function_gradient(_quadratic, fam, phi, n_samples=4000, seed=3, baseline=None)
    for est in (rep, loo, raw):
        _within(est.value, value, est.value_stderr)
        _within(est.grad["mean"], g_mean, est.grad_stderr["mean"])
        _within(est.grad["log_std"], g_logstd, est.grad_stderr["log_std"])
    # published ordering for smooth f: pathwise < score function with baseline < without
    assert rep.total_variance < loo.total_variance / 3 < raw.total_variance / 3


def test_gradient_estimators_full_gaussian():
    fam = Gaussian(3)
    Lc = np.array([[0.8, 0.0, 0.0], [0.3, 0.6, 0.0], [-0.2, 0.1, 0.5]])
    phi = fam.params([0.2, 0.1, -0.4], Lc)
    g_L = np.tril(2 * A @ Lc)                    # ∇_L tr(A L Lᵀ), lower triangle
    for est in (reparameterization_gradient(_quadratic, fam, phi, n_samples=3000, seed=4),
                score_function_gradient(_quadratic, fam, phi, n_samples=6000, seed=5)):
        _within(est.grad["mean"], 2 * A @ phi["mean"] + B, est.grad_stderr["mean"])
        tril = np.tril_indices(3)
        _within(est.grad["scale_tril"][tril], g_L[tril], est.grad_stderr["scale_tril"][tril])
        assert np.all(est.grad["scale_tril"][np.triu_indices(3, 1)] == 0)


def test_score_function_handles_a_step_function():
    # E[1{x > 0}] = Φ(m/s); ∂/∂m = φ(m/s)/s: f has no useful pathwise derivative
    fam = DiagonalGaussian(1)
    phi = fam.params(0.3, math.log(0.7))
    est = score_function_gradient(lambda x: (x[:, 0] > 0) * 1.0, fam, phi, n_samples=20000)
    _within(est.value, norm.cdf(0.3 / 0.7), est.value_stderr)
    _within(est.grad["mean"], [norm.pdf(0.3 / 0.7) / 0.7], est.grad_stderr["mean"])
    rep = reparameterization_gradient(lambda x: (x[:, 0] > 0) * 1.0, fam, phi, n_samples=100)
    assert np.all(rep.grad["mean"] == 0)  # the pathwise estimator is blind to the jump


def test_gradient_estimators_check_shapes():
    fam = DiagonalGaussian(2)
    with pytest.raises(ValueError, match=r"values \(n,\)"):
        reparameterization_gradient(lambda x: x, fam, fam.params(0.0, 0.0), n_samples=10)
    with pytest.raises(ValueError, match="baseline"):
        score_function_gradient(lambda x: x[:, 0], fam, fam.params(0.0, 0.0), baseline="avg")


# ---------------------------------------------------------------------------------
# SDEs


def test_ou_transition_closed_form_and_lyapunov():
    th, mu, sig = 1.5, 0.5, 0.8
    Phi, Q = OrnsteinUhlenbeck.make(th, mu, sig).transition(0.7)
    assert abs(Phi[0, 0] - math.exp(-th * 0.7)) < 1e-14
    assert abs(Q[0, 0] - sig**2 / (2 * th) * (1 - math.exp(-2 * th * 0.7))) < 1e-14
    # 2-D, non-normal drift: C_t solves dC/dt = −AC − CAᵀ + GGᵀ
    ou = OrnsteinUhlenbeck.make([[1.0, 0.5], [-0.3, 2.0]], [0.5, -1.0], [[0.7, 0.2], [0.0, 1.2]])
    C0 = np.array([[0.3, 0.1], [0.1, 0.2]])
    GG = ou.G @ ou.G.T
    rhs = lambda C, t: -ou.A @ C - C @ ou.A.T + GG  # noqa: E731
    C1 = odeint(rhs, C0, [0.0, 1.0], method="rk45", rtol=1e-11, atol=1e-12)[-1]
    np.testing.assert_allclose(ou.marginal(1.0, [2.0, 0.0], C0)[1], C1, atol=1e-9)


def test_euler_maruyama_ou_1d_moments():
    th, mu, sig, x0, T, k = 1.5, 0.5, 0.8, 2.0, 1.0, 20
    ou = OrnsteinUhlenbeck.make(th, mu, sig)
    n = 20000
    paths = euler_maruyama(ou.drift, ou.diffusion, np.array([x0]), [0.0, T], n_paths=n,
                           steps_per_interval=k, seed=0)
    xs = paths.x[-1, :, 0]
    # the scheme's own moments: X_{j+1} = (1 − θh)X_j + θhμ + σ√h Z
    h, r = T / k, 1 - th * T / k
    m_em = mu + r**k * (x0 - mu)
    v_em = sig**2 * h * sum(r ** (2 * j) for j in range(k))
    assert abs(xs.mean() - m_em) < 4 * math.sqrt(v_em / n)
    assert abs(xs.var() - v_em) < 4 * v_em * math.sqrt(2 / n)
    # and the scheme's weak error against the SDE's closed form is O(h)
    m, C = ou.marginal(T, x0, 0.0)
    assert abs(m_em - m[0]) < th * h and abs(v_em - C[0, 0]) < th * h * C[0, 0] * 2


def test_euler_maruyama_2d_general_noise_matches_van_loan():
    G = np.array([[0.7, 0.2, 0.0], [0.0, 1.0, 0.5]])      # a 3-dimensional Wiener process
    ou = OrnsteinUhlenbeck.make([[1.0, 0.5], [-0.3, 2.0]], [0.5, -1.0], G)
    m0, C0 = np.array([2.0, 0.0]), np.array([[0.3, 0.1], [0.1, 0.2]])
    rng = np.random.default_rng(0)
    n = 20000
    x0 = rng.multivariate_normal(m0, C0, size=n)
    paths = euler_maruyama(ou.drift, ou.diffusion, x0, [0.0, 0.5, 1.0], steps_per_interval=100,
                           seed=1)
    assert paths.x.shape == (3, n, 2) and paths.n_steps == 200
    mean, cov = paths.moments()
    m, C = ou.marginal(1.0, m0, C0)
    se = np.sqrt(np.diag(C) / n)
    assert np.all(np.abs(mean - m) < 4 * se + 0.01)
    assert np.max(np.abs(cov - C)) < 4 * np.max(np.diag(C)) * math.sqrt(2 / n) + 0.01


def test_euler_maruyama_is_differentiable_pathwise():
    import mlcalc as mc

    def mean_at_T(theta, x0):
        paths = euler_maruyama(lambda x, t, th: -th * (x - 0.5), lambda x, t, th: 0.8 + 0 * x,
                               x0, [0.0, 1.0], args=(theta,), steps_per_interval=20, seed=3)
        return np.mean(paths.x[-1])

    x0 = np.full((50, 1), 2.0)
    # ∂/∂x₀ of every path is (1 − θh)^k exactly (the noise does not depend on x₀)
    g_x0 = mc.grad(mean_at_T, argnums=1)(1.5, x0)
    np.testing.assert_allclose(g_x0, (1 - 1.5 * 0.05) ** 20 / 50, rtol=1e-12)
    # ∂/∂θ with the noise held fixed: central differences with the same seed
    g = mc.grad(mean_at_T)(1.5, x0)
    fd = (mean_at_T(1.5 + 1e-6, x0) - mean_at_T(1.5 - 1e-6, x0)) / 2e-6
    assert abs(g - fd) < 1e-8


def test_probability_flow_1d_map_and_solver_orders():
    # the flow of a Gaussian under OU is affine: x_t = m_t + √(v_t/v₀)(x₀ − m₀)
    ou = OrnsteinUhlenbeck.make(1.5, 0.5, 0.8)
    m0, v0 = 2.0, 0.3
    x0 = np.array([[1.0], [2.5], [3.0]])
    m, C = ou.marginal(1.0, m0, v0)
    exact = m + np.sqrt(C[0, 0] / v0) * (x0 - m0)

    def error(method, k):
        out = probability_flow(ou.drift, ou.diffusion, lambda x, t: ou.score(x, t, m0, v0),
                               x0, [0.0, 1.0], method=method, steps_per_interval=k)
        return np.max(np.abs(out.x[-1] - exact))

    e_euler = [error("euler", k) for k in (10, 20)]
    e_heun = [error("heun", k) for k in (10, 20)]
    assert 1.8 < e_euler[0] / e_euler[1] < 2.2                # order 1
    assert 3.6 < e_heun[0] / e_heun[1] < 4.4                  # order 2
    assert e_heun[1] < 1e-3


def test_probability_flow_2d_marginal_moments():
    ou = OrnsteinUhlenbeck.make([[1.0, 0.5], [-0.3, 2.0]], [0.5, -1.0], [0.7, 1.2])
    m0, C0 = np.array([2.0, 0.0]), np.array([[0.3, 0.1], [0.1, 0.2]])
    n = 10000
    x0 = np.random.default_rng(2).multivariate_normal(m0, C0, size=n)
    out = probability_flow(ou.drift, ou.diffusion, lambda x, t: ou.score(x, t, m0, C0), x0,
                           [0.0, 0.5, 1.0], method="heun", steps_per_interval=20)
    for k, t in ((1, 0.5), (2, 1.0)):
        mean, cov = out.moments(k)
        m, C = ou.marginal(t, m0, C0)
        assert np.all(np.abs(mean - m) < 4 * np.sqrt(np.diag(C) / n))
        assert np.max(np.abs(cov - C)) < 4 * np.max(np.diag(C)) * math.sqrt(2 / n)


def test_sde_shape_errors():
    ou = OrnsteinUhlenbeck.make(1.0, 0.0, 1.0)
    with pytest.raises(ValueError, match="n_paths"):
        euler_maruyama(ou.drift, ou.diffusion, np.zeros(1), [0.0, 1.0])
    with pytest.raises(ValueError, match="diffusion"):
        euler_maruyama(ou.drift, lambda x, t: np.ones(3), np.zeros((4, 1)), [0.0, 1.0])
    with pytest.raises(ValueError, match="increasing"):
        euler_maruyama(ou.drift, ou.diffusion, np.zeros((4, 1)), [1.0, 0.0])
