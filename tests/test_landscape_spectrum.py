"""Spectral instruments of mlcalc.landscape against dense eigendecompositions, closed
forms and published facts (the spiked Wishart model of Papyan 2020 and the
Marchenko–Pastur law)."""

import numpy as np
import pytest
import scipy.linalg as sl
from scipy.sparse.linalg import LinearOperator

import mlcalc as mc
import mlcalc.landscape as L
from landscape_fixtures import cross_entropy, full_loss, init_mlp, l2, mlp
from mlcalc.models import Problem, logistic
from mlcalc.optimize import minimize


# ----------------------------------------------------------------------------- models
def l2_all(params, lam=1e-4):
    return lam * sum(np.sum(leaf**2) for layer in params for leaf in layer.values())


def two_spirals(n_per_class=40, noise=0.05, seed=0):
    """Two interleaved spirals (1.5 turns each), classes 0 and 1."""
    rng = np.random.default_rng(seed)
    t = 3 * np.pi * np.sqrt(rng.uniform(0.05, 1.0, n_per_class))
    arm = np.stack([t * np.cos(t), t * np.sin(t)], axis=1) / (3 * np.pi)
    X = np.concatenate([arm, -arm]) + noise * rng.normal(size=(2 * n_per_class, 2))
    y = np.repeat([0, 1], n_per_class)
    return X, y


def dense_hessian(problem, w):
    return np.asarray(mc.hessian(full_loss(problem))(w))


@pytest.fixture(scope="module")
def small():
    """A 3-6-3 tanh MLP on 40 examples (45 parameters), its dense Hessian and spectrum."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 3)), rng.integers(0, 3, 40)
    problem = Problem(mlp, cross_entropy, (X, y), init_mlp((3, 6, 3), 0), batch_size=16,
                      regularizer=l2)
    H = dense_hessian(problem, problem.flat_params)
    return problem, H, np.linalg.eigvalsh(H)


@pytest.fixture(scope="module")
def spirals():
    """A 2-10-10-1 tanh MLP (151 parameters) with weight decay on every parameter (no
    flat direction such as a shared shift of softmax biases), trained on two spirals by
    L-BFGS."""
    X, y = two_spirals()
    problem = Problem(mlp, logistic, (X, y), init_mlp((2, 10, 10, 1), 1), regularizer=l2_all)
    res = minimize(lambda w: problem.batch_loss(w, X, y) + problem._reg(w),
                   problem.flat_params, method="lbfgs", tol=1e-7, maxiter=5000)
    return problem.with_params(np.asarray(res.x)), res


def known_spectrum(lams, seed=0):
    """Q diag(λ) Qᵀ with a random orthogonal Q."""
    Q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(len(lams), len(lams))))
    return (Q * np.asarray(lams, dtype=float)) @ Q.T


# ----------------------------------------------------------------------------- Lanczos
@pytest.mark.parametrize("which", ["largest", "smallest", "both"])
def test_lanczos_matches_dense_eigvalsh_of_the_full_hessian(small, which):
    problem, H, lam = small
    op = L.HessianOperator(problem)
    pairs = L.eigenvalues(op, k=6, which=which, tol=1e-10)
    expected = {"largest": lam[::-1][:6], "smallest": lam[:6],
                "both": np.concatenate([lam[:3], lam[-3:]])}[which]
    scale = max(1.0, np.abs(lam).max())
    np.testing.assert_allclose(pairs.values, expected, rtol=0, atol=1e-8 * scale)
    # the reported residuals are ‖Hv − λv‖ of the returned pairs
    V = np.asarray(pairs.vectors)
    direct = np.linalg.norm(H @ V - V * pairs.values, axis=0)
    np.testing.assert_allclose(pairs.residuals, direct, rtol=1e-4, atol=1e-13)
    assert pairs.all_converged and np.all(pairs.residuals <= 1e-9 * scale)
    np.testing.assert_allclose(np.linalg.norm(V, axis=0), 1.0, rtol=1e-12)
    assert pairs.n_products == pairs.history.shape[0] <= problem.dim
    assert pairs.residual_products == 6


def test_lanczos_on_a_matrix_with_repeated_eigenvalues_restarts():
    A = known_spectrum([3.0, 3.0, 3.0, 1.0, 1.0, 0.5, 0.1, 0.0], seed=1)
    pairs = L.eigenvalues(A, k=4, tol=1e-12)
    np.testing.assert_allclose(pairs.values, [3, 3, 3, 1], atol=1e-10)
    assert "restart" in pairs.message


def test_power_iteration_with_deflation(small):
    # eigenvalues of largest magnitude, one by one; converges like |λ₂/λ₁|^t
    lams = [10.0, -8.0, 6.0] + list(0.5 ** np.arange(1, 38))
    A = known_spectrum(lams, seed=2)
    res = L.power_iteration(A, k=3, tol=1e-12, max_iter=2000)
    np.testing.assert_allclose(res.values, [10.0, -8.0, 6.0], rtol=1e-6)
    assert res.all_converged and res.method == "power"
    V = np.asarray(res.vectors)
    np.testing.assert_allclose(np.linalg.norm(A @ V - V * res.values, axis=0),
                               res.residuals, rtol=1e-3, atol=1e-12)
    # Lanczos reaches the top eigenvalue in far fewer products on the same matrix
    lz = L.eigenvalues(A, k=1, tol=1e-8)
    assert lz.n_products < res.history.shape[0] / 3


def test_seed_makes_results_reproducible(small):
    problem, _, _ = small
    op = L.HessianOperator(problem)
    a = L.eigenvalues(op, k=2, max_steps=8, tol=0.0, seed=5)
    b = L.eigenvalues(op, k=2, max_steps=8, tol=0.0, seed=5)
    c = L.eigenvalues(op, k=2, max_steps=8, tol=0.0, seed=6)
    np.testing.assert_array_equal(a.values, b.values)
    assert not np.array_equal(a.values, c.values)
    assert not a.all_converged and "max_steps" in a.message
    t1, t2 = L.trace(op, n_samples=8, seed=3), L.trace(op, n_samples=8, seed=3)
    assert t1.estimate == t2.estimate
    d1 = L.spectral_density(op, n_runs=2, n_steps=5, seed=3)
    d2 = L.spectral_density(op, n_runs=2, n_steps=5, seed=3)
    np.testing.assert_array_equal(d1.density, d2.density)


# ----------------------------------------------------------------------------- traces
def test_hutchinson_and_hutchpp_within_three_standard_errors(small):
    problem, H, _ = small
    exact = np.trace(H)
    op = L.HessianOperator(problem)
    for method in ("hutchinson", "hutch++"):
        est = L.trace(op, method=method, n_samples=60, seed=0)
        assert abs(est.estimate - exact) <= 3 * est.stderr, (method, est, exact)
        assert est.n_products == 60


def test_hutchinson_standard_error_matches_the_rademacher_variance():
    # Var(zᵀAz) = 2(‖A‖_F² − Σ Aᵢᵢ²) for Rademacher z
    A = known_spectrum(np.linspace(-1.0, 4.0, 60), seed=3)
    m = 400
    est = L.trace(A, n_samples=m, seed=1)
    sd = np.sqrt(2 * (np.sum(A * A) - np.sum(np.diag(A) ** 2)) / m)
    assert est.stderr == pytest.approx(sd, rel=0.15)


def test_hutchpp_beats_hutchinson_on_a_decaying_spectrum():
    A = known_spectrum(100.0 * 0.7 ** np.arange(80), seed=4)
    runs = {m: [L.trace(A, method=m, n_samples=30, seed=s) for s in range(10)]
            for m in ("hutchinson", "hutch++")}
    rms = {m: np.sqrt(np.mean([(e.estimate - np.trace(A)) ** 2 for e in r]))
           for m, r in runs.items()}
    se = {m: np.mean([e.stderr for e in r]) for m, r in runs.items()}
    # same number of products; the sketch removes the top of the spectrum
    assert rms["hutch++"] < rms["hutchinson"] / 3
    assert se["hutch++"] < se["hutchinson"] / 3


def test_slq_logdet_and_trace_of_function():
    lams = np.linspace(0.5, 6.0, 80)
    A = known_spectrum(lams, seed=5)
    est = L.logdet(A, n_runs=20, n_steps=30, seed=0)
    assert abs(est.estimate - np.sum(np.log(lams))) <= 3 * est.stderr
    shifted = L.logdet(A - 0.25 * np.eye(80), shift=0.25, n_runs=20, n_steps=30, seed=0)
    assert abs(shifted.estimate - np.sum(np.log(lams))) <= 3 * shifted.stderr
    sq = L.trace_of_function(A, np.square, n_runs=20, n_steps=30, seed=1)
    assert abs(sq.estimate - np.sum(lams**2)) <= 3 * sq.stderr
    with pytest.raises(ValueError, match="not positive definite"):
        L.logdet(A - 2.0 * np.eye(80), n_runs=2, n_steps=20)


# ----------------------------------------------------------------------------- measures
def test_measures_against_a_known_spectrum():
    pos = np.linspace(0.2, 9.0, 70)
    neg = -np.linspace(0.5, 3.0, 30)
    A = known_spectrum(np.concatenate([pos, neg]), seed=6)
    assert L.sharpness(A) == pytest.approx(9.0, rel=1e-10)
    assert L.condition_number(A) == float("inf")
    B = known_spectrum(pos, seed=7)
    assert L.condition_number(B) == pytest.approx(9.0 / 0.2, rel=1e-8)
    frac = L.negative_fraction(A, n_runs=20, n_steps=40, seed=0)
    assert abs(frac.estimate - 0.3) <= 3 * frac.stderr + 1e-3
    assert L.negative_fraction(A, method="dense").estimate == pytest.approx(0.3)


# ----------------------------------------------------------------------------- spiked Wishart
D = 2000
SPIKES = (5.0, 4.0, 3.0)


@pytest.fixture(scope="module")
def wishart():
    """Y = ZZᵀ/d + diag(5, 4, 3, 0, …), seen through block products only; the dense
    top eigenvalues of the formed matrix computed once for checking."""
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((D, D))
    spikes = np.zeros(D)
    spikes[:3] = SPIKES

    def apply(V):
        return Z @ (Z.T @ V) / D + (spikes * V.T).T

    op = LinearOperator((D, D), matvec=apply, matmat=apply, dtype=float)
    Y = Z @ Z.T / D
    Y[np.diag_indices(D)] += spikes
    top = sl.eigvalsh(Y, subset_by_index=[D - 3, D - 1])[::-1]
    exact_trace = np.sum(Z * Z) / D + sum(SPIKES)
    return op, top, exact_trace


def test_wishart_outliers_by_lanczos(wishart):
    op, top, _ = wishart
    pairs = L.eigenvalues(op, k=3, which="largest", tol=1e-8)
    np.testing.assert_allclose(pairs.values, top, rtol=0, atol=1e-8)
    assert pairs.n_products < 100
    # the outliers sit near θ + θ/(θ − 1) (fluctuations O(d^-1/2) ≈ 0.02 here)
    predicted = [t + t / (t - 1) for t in SPIKES]  # 6.25, 5.33, 4.5
    np.testing.assert_allclose(pairs.values, predicted, atol=0.1)


def _mp_broadened(t, sigma):
    """Marchenko–Pastur density (ratio 1) on [0, 4], (1/2π)√((4 − x)x)/x, convolved with
    a Gaussian of width σ. With x = 4 sin²φ the integrand is smooth:
    ∫ρ(x)g(t − x)dx = (4/π)∫₀^{π/2} cos²φ g(t − 4sin²φ) dφ (Gauss–Legendre)."""
    u, w = np.polynomial.legendre.leggauss(400)
    phi, w = (u + 1) * np.pi / 4, w * np.pi / 4
    x = 4 * np.sin(phi) ** 2
    g = np.exp(-0.5 * ((t[:, None] - x) / sigma) ** 2) / (sigma * np.sqrt(2 * np.pi))
    return (4 / np.pi) * (g * np.cos(phi) ** 2) @ w


def test_wishart_density_follows_marchenko_pastur_on_the_bulk(wishart):
    op, _, _ = wishart
    sigma, runs = 0.1, 10
    grid = np.linspace(0.5, 3.5, 61)  # away from the hard edge at 0 and the soft edge at 4
    sd = L.spectral_density(op, n_runs=runs, n_steps=40, sigma=sigma, grid=grid, seed=0)
    assert sd.n_products == runs * 40
    expected = _mp_broadened(grid, sigma)
    # Each run estimates Σᵢ (vᵀuᵢ)² g(t − λᵢ) with Var ≈ (2/n)∫ρ g² and g² =
    # g_{σ/√2}/(2σ√π); the mean of R runs has standard error √(2/(nR)·ρ_{σ/√2}/(2σ√π)).
    se = np.sqrt(2 / (D * runs) * _mp_broadened(grid, sigma / np.sqrt(2))
                 / (2 * sigma * np.sqrt(np.pi)))
    assert np.all(np.abs(sd.density - expected) <= 4 * se)
    # against the unbroadened curve the broadening adds at most max|ρ_σ − ρ| (≈ 0.008)
    x = grid
    mp = np.sqrt((4 - x) * x) / (2 * np.pi * x)
    bias = np.max(np.abs(expected - mp))
    assert bias < 0.01
    assert np.all(np.abs(sd.density - mp) <= 4 * se + bias)
    # the density integrates to one over the whole default grid
    full = L.spectral_density(op, n_runs=2, n_steps=40, seed=1)
    assert np.trapezoid(full.density, full.grid) == pytest.approx(1.0, abs=1e-3)


def test_wishart_trace_within_error_bars(wishart):
    op, _, exact = wishart
    for method in ("hutchinson", "hutch++"):
        est = L.trace(op, method=method, n_samples=90, seed=0)
        assert abs(est.estimate - exact) <= 3 * est.stderr, (method, est.estimate, exact)


# ----------------------------------------------------------------------------- critical points
def test_toy_saddles_as_in_the_calculus_issue():
    cases = [
        (lambda w: 5 * w[0] ** 2 - w[1] ** 2, np.zeros(2), "saddle", 1),
        (lambda w: w[0] ** 3 - 3 * w[0] * w[1] ** 2, np.zeros(2), "degenerate", 0),
        (lambda w: w[0] ** 2 + 3 * w[1] ** 2, np.zeros(2), "minimum", 0),
        (lambda w: -np.sum(w**2), np.zeros(3), "maximum", 3),
    ]
    for f, x, verdict, index in cases:
        report = L.classify_critical_point(f, x)
        assert report.verdict == verdict == mc.classify(f, x).kind
        assert report.index == index and report.is_critical and report.index_exact
    report = L.classify_critical_point(cases[0][0], np.zeros(2))
    np.testing.assert_allclose(report.eigenvalues, [-2.0, 10.0], rtol=1e-12)
    off = L.classify_critical_point(cases[0][0], np.array([1.0, 0.0]))
    assert not off.is_critical and "not a critical point" in off.message


def test_trained_two_spirals_mlp_is_a_minimum(spirals):
    problem, res = spirals
    report = L.classify_critical_point(problem)
    lam = np.linalg.eigvalsh(dense_hessian(problem, problem.flat_params))
    np.testing.assert_allclose(report.eigenvalues, lam, atol=1e-9 * max(1, lam.max()))
    assert report.verdict == "minimum", report.eigenvalues[report.eigenvalues < 0]
    assert report.is_critical and report.index == 0 and report.method == "dense"
    assert res.success and problem.accuracy() >= 0.95
    # the extreme eigenpairs by Lanczos give the same verdict
    lz = L.classify_critical_point(problem, method="lanczos", k=4)
    assert lz.verdict == "minimum" and lz.index_exact
    # each Ritz value lies within its residual of an eigenvalue (plus rounding)
    err = np.abs(lz.eigenvalues[[0, -1]] - lam[[0, -1]])
    assert np.all(err <= lz.residuals[[0, -1]] + 1e-12 * lam.max())


def test_origin_of_a_tanh_mlp_is_a_saddle():
    # with balanced classes every gradient vanishes at w = 0 (tanh(0) = 0 and
    # softmax(0) is uniform), and the first-/second-layer cross terms of the Hessian
    # make it indefinite: a saddle, whose index the dense spectrum counts
    X, y = two_spirals(seed=3)
    zeros = [{"W": np.zeros((2, 4)), "b": np.zeros(4)}, {"W": np.zeros((4, 2)), "b": np.zeros(2)}]
    problem = Problem(mlp, cross_entropy, (X, y), zeros, regularizer=l2)
    report = L.classify_critical_point(problem)
    lam = np.linalg.eigvalsh(dense_hessian(problem, problem.flat_params))
    assert report.grad_norm < 1e-15 and report.is_critical
    assert report.verdict == "saddle"
    assert report.index == np.sum(lam < -report.eig_tol) > 0


def test_progress_bars_go_to_stderr(small, capsys):
    problem, _, _ = small
    op = L.HessianOperator(problem)
    L.eigenvalues(op, k=1, max_steps=5, progress=True)
    L.trace(op, n_samples=4, progress=True)
    L.spectral_density(op, n_runs=2, n_steps=4, progress=True)
    assert capsys.readouterr().out == ""


def test_bad_arguments():
    A = np.eye(4)
    with pytest.raises(ValueError, match="which must be one of"):
        L.eigenvalues(A, which="middle")
    with pytest.raises(ValueError, match="at least 6 for hutch"):
        L.trace(A, method="hutch++", n_samples=3)
    with pytest.raises(ValueError, match="method must be"):
        L.trace(A, method="girard")
    with pytest.raises(ValueError, match="elementwise"):
        L.trace_of_function(A, lambda t: np.sum(t), n_runs=2, n_steps=2)
    with pytest.raises(ValueError, match="needs the point"):
        L.classify_critical_point(lambda w: np.sum(w**2))
