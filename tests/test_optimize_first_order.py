"""First-order methods: gd, heavy ball, Nesterov, the adaptive methods and sgd over
mini-batches, against closed-form rates and independently computed minimisers."""

import numpy as np
import pytest

import mlcalc.optimize.first_order  # noqa: F401  (registers the methods)
from mlcalc.optimize import minimize
from mlcalc.optimize.driver import Run
from mlcalc.optimize.first_order import run_transformation
from mlcalc.optimize.objective import Objective
from mlcalc.optimize.stochastic import StochasticObjective
from mlcalc.optimize.transforms import adam as adam_tx
from mlcalc.optimize.transforms import sgd as sgd_tx


def rotated_quadratic(eigenvalues, seed=0):
    """½ xᵀAx with A = Q diag(eigenvalues) Qᵀ for a random rotation Q."""
    n = len(eigenvalues)
    Q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((n, n)))
    return Q @ np.diag(eigenvalues) @ Q.T


# -- gradient descent -------------------------------------------------------------------
def test_gd_step_2_over_L_plus_mu_contracts_by_kappa_ratio_exactly():
    # Only the extreme eigenvalues: 1 − 2λ/(L+μ) = ±(κ−1)/(κ+1) for λ ∈ {μ, L}, so every
    # step contracts ‖x − x*‖ by exactly (κ−1)/(κ+1).
    mu, L = 1.0, 10.0
    A = rotated_quadratic([mu, L])
    b = np.array([1.0, -2.0])
    x_star = np.linalg.solve(A, b)
    res = minimize(lambda x: 0.5 * x @ A @ x - b @ x, np.array([3.0, 4.0]), method="gd",
                   options={"step": 2.0 / (L + mu)}, tol=0.0, maxiter=40, record=True)
    e = np.linalg.norm(res.trajectory.x - x_star, axis=1)
    kappa = L / mu
    np.testing.assert_allclose(e[1:] / e[:-1], (kappa - 1) / (kappa + 1), rtol=1e-6)
    assert res.rate.order == "linear"


def test_gd_contraction_bounded_by_kappa_ratio_in_many_dimensions():
    mu, L = 1.0, 100.0
    A = rotated_quadratic(np.linspace(mu, L, 10))
    x0 = np.random.default_rng(1).standard_normal(10)
    res = minimize(lambda x: 0.5 * x @ A @ x, x0, method="gd",
                   options={"step": 2.0 / (L + mu)}, tol=0.0, maxiter=600, record=True)
    e = np.linalg.norm(res.trajectory.x, axis=1)
    ratios = e[1:] / e[:-1]
    rho = (L / mu - 1) / (L / mu + 1)
    assert np.all(ratios <= rho * (1 + 1e-12))
    np.testing.assert_allclose(ratios[-50:], rho, rtol=1e-6)  # the slowest modes remain


@pytest.mark.parametrize("step", ["exact", "armijo"])
def test_gd_line_searches_converge_on_a_quadratic(step):
    A = np.array([[3.0, 1.0], [1.0, 2.0]])
    b = np.array([1.0, 1.0])
    res = minimize(lambda x: 0.5 * x @ A @ x - b @ x, np.array([5.0, -3.0]), method="gd",
                   options={"step": step}, tol=1e-10)
    assert res.success
    np.testing.assert_allclose(res.x, np.linalg.solve(A, b), atol=1e-9)


def test_gd_with_a_wrong_gradient_does_not_climb():
    # the negated gradient of f = xᵀx points uphill: Armijo fails where values show the
    # rise; where they cannot, backtracking allows at most a rise of rounding size
    # (ROUNDING_RISE·|f|) per step, so f stays at 0.75 up to rounding
    from mlcalc.optimize.line_search import ROUNDING_RISE

    res = minimize(lambda x: x @ x, np.full(3, 0.5), method="gd", jac=lambda x: -2.0 * x,
                   maxiter=200)
    assert not res.success
    assert res.fun <= 0.75 * (1 + 200 * ROUNDING_RISE)


# -- momentum -----------------------------------------------------------------------------
def tail_rate(e, k0, k1):
    """Mean contraction per step of the error sequence between iterations k0 and k1."""
    return (e[k1] / e[k0]) ** (1.0 / (k1 - k0))


@pytest.mark.parametrize("method", ["momentum", "sgd"])
def test_heavy_ball_optimal_parameters_give_sqrt_kappa_rate(method):
    # Polyak (1964): η = 4/(√L+√μ)², β = ((√κ−1)/(√κ+1))² give rate (√κ−1)/(√κ+1).
    mu, L = 1.0, 100.0
    A = rotated_quadratic(np.linspace(mu, L, 10))
    kappa = L / mu
    lr = 4.0 / (np.sqrt(L) + np.sqrt(mu)) ** 2
    beta = ((np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1)) ** 2
    opts = {"lr": lr, "beta": beta} if method == "momentum" else {"lr": lr, "momentum": beta}
    x0 = np.random.default_rng(2).standard_normal(10)
    res = minimize(lambda x: 0.5 * x @ A @ x, x0, method=method, options=opts, tol=0.0,
                   maxiter=400, record=True)
    e = np.linalg.norm(res.trajectory.x, axis=1)  # x* = 0: no rounding floor
    expected = (np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1)
    assert tail_rate(e, 100, 400) == pytest.approx(expected, rel=0.02)


def test_nesterov_rate_is_the_spectral_radius_of_its_recurrence():
    # On ½xᵀAx the look-ahead points obey y_{k+1} = (1+β)My_k − βMy_{k−1}, M = I − ηA,
    # so the rate is max over eigenvalues λ of the spectral radius of
    # [[(1+β)m, −βm], [1, 0]], m = 1 − ηλ.
    mu, L = 1.0, 100.0
    lams = np.linspace(mu, L, 10)
    A = rotated_quadratic(lams)
    lr, beta = 1.0 / L, (np.sqrt(L / mu) - 1) / (np.sqrt(L / mu) + 1)
    radius = max(
        np.max(np.abs(np.linalg.eigvals([[(1 + beta) * m, -beta * m], [1.0, 0.0]])))
        for m in 1.0 - lr * lams
    )
    res = minimize(lambda x: 0.5 * x @ A @ x, np.ones(10), method="nesterov",
                   options={"lr": lr, "beta": beta}, tol=0.0, maxiter=500, record=True)
    e = np.linalg.norm(res.trajectory.x, axis=1)
    assert tail_rate(e, 200, 500) == pytest.approx(radius, rel=0.02)
    # λ = μ gives a double root (1+β)(1−1/κ)/2 = 1 − 1/√κ, Nesterov's rate
    assert radius == pytest.approx(1 - 1 / np.sqrt(L / mu), rel=1e-6)


# -- the adaptive methods on a smooth strongly convex problem ---------------------------
def logistic_problem():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((60, 3))
    y = (X @ np.array([1.5, -2.0, 0.5]) + 0.8 * rng.standard_normal(60) > 0).astype(float)
    lam = 0.05

    def f(w):
        z = X @ w
        return np.mean(np.logaddexp(0.0, z) - y * z) + 0.5 * lam * w @ w

    w = np.zeros(3)  # the minimiser by Newton's method, written out
    for _ in range(30):
        p = 1.0 / (1.0 + np.exp(-X @ w))
        g = X.T @ (p - y) / 60 + lam * w
        H = X.T @ (X * (p * (1 - p))[:, None]) / 60 + lam * np.eye(3)
        w = w - np.linalg.solve(H, g)
    return f, w


@pytest.mark.parametrize("method, options", [
    ("sgd", {"lr": 1.0}),
    ("momentum", {"lr": 1.0, "beta": 0.8}),
    ("nesterov", {"lr": 1.0, "beta": 0.8}),
    ("adagrad", {"lr": 0.5}),
    ("rmsprop", {"lr": 0.01, "decay": 0.999}),
    ("adam", {"lr": 0.05}),
    ("adamw", {"lr": 0.05, "weight_decay": 0.0}),
])
def test_methods_reach_the_logistic_regression_minimum(method, options):
    f, w_star = logistic_problem()
    res = minimize(f, np.zeros(3), method=method, options=options, tol=1e-8, maxiter=5000)
    assert res.success, res.message
    np.testing.assert_allclose(res.x, w_star, atol=1e-6)
    assert res.fun == pytest.approx(f(w_star), abs=1e-12)


def test_adamw_with_decay_stops_short_of_the_minimum_by_the_decay():
    # At a fixed point m̂ = g and v̂ = g², so g/(|g| + ε) = −λx: each coordinate of x is
    # ±1/λ-bounded and opposite in sign to its gradient; here f = ½‖x − c‖², λ = 0.5
    # (b2 = 0.9 so that v̂ forgets the early, larger gradients quickly).
    c = np.array([3.0, -4.0])
    res = minimize(lambda x: 0.5 * np.sum((x - c) ** 2), np.zeros(2), method="adamw",
                   options={"lr": 0.01, "b2": 0.9, "weight_decay": 0.5}, tol=0.0,
                   maxiter=3000)
    g = res.x - c
    np.testing.assert_allclose(np.sign(g), -np.sign(c))
    np.testing.assert_allclose(res.x, 2.0 * np.sign(c), rtol=1e-6)  # |λx| = 1


def test_pytree_start_returns_a_pytree():
    c = {"a": np.array([1.0, 2.0]), "b": np.array(3.0)}
    res = minimize(lambda p: np.sum((p["a"] - c["a"]) ** 2) + (p["b"] - c["b"]) ** 2,
                   {"a": np.zeros(2), "b": np.array(0.0)}, method="adam",
                   options={"lr": 0.1}, tol=1e-8, maxiter=5000)
    assert res.success
    np.testing.assert_allclose(res.x["a"], c["a"], atol=1e-7)
    np.testing.assert_allclose(res.x["b"], c["b"], atol=1e-7)


# -- NaN mid-run and bad input -----------------------------------------------------------
def nan_beyond_three(x):
    """Decreasing for x < 3, NaN beyond: the run walks into the NaN region."""
    with np.errstate(invalid="ignore"):
        return -x[0] + 1e-3 * np.log(3.0 - x[0])


@pytest.mark.parametrize("method, options", [("momentum", {"lr": 0.5}), ("adam", {"lr": 0.3})])
def test_nan_mid_run_stops_with_the_last_finite_iterate(method, options):
    res = minimize(nan_beyond_three, np.zeros(1), method=method, options=options,
                   maxiter=1000, record=True)
    assert not res.success and res.status == 2
    assert "iteration" in res.message
    assert np.all(np.isfinite(res.x)) and res.x[0] < 3.0
    assert np.isfinite(res.fun) and res.fun == nan_beyond_three(res.x)
    assert res.nan_at[0] > 3.0
    assert len(res.trajectory) == res.nit  # the NaN iterate is not recorded


def test_bounds_are_refused():
    with pytest.raises(ValueError, match="unconstrained"):
        minimize(lambda x: x @ x, np.ones(2), method="adam", bounds=[(0, 1), (0, 1)])


def test_bad_hyperparameters_are_named():
    with pytest.raises(ValueError, match="b1"):
        minimize(lambda x: x @ x, np.ones(2), method="adam", options={"b1": 1.0})
    with pytest.raises(ValueError, match="learning_rate"):
        minimize(lambda x: x @ x, np.ones(2), method="sgd", options={"lr": -0.1})


# -- sgd over mini-batches -------------------------------------------------------------
def least_squares_data(n=512, d=4, sigma=0.3):
    rng = np.random.default_rng(2)
    X = rng.standard_normal((n, d))
    y = X @ rng.standard_normal(d) + sigma * rng.standard_normal(n)
    return X, y, np.linalg.lstsq(X, y, rcond=None)[0]


def ls_loss(w, batch):
    X, y = batch
    r = X @ w - y
    return 0.5 * np.mean(r * r)


def run_stochastic(stochastic, x0, transform, maxiter):
    """The Objective/Run that minimize builds, with the objective's function exposed as
    ``obj.fun`` (the framework change this module relies on)."""
    obj = Objective(stochastic, x0)
    obj.fun = stochastic
    run = Run(obj, method="stochastic", gtol=0.0, maxiter=maxiter)
    return run_transformation(obj, obj.x0.copy(), run, transform)


@pytest.mark.parametrize("transform", [
    sgd_tx(lambda k: 0.1 / (1 + k / 100)),
    sgd_tx(lambda k: 0.05 / (1 + k / 100), momentum=0.5),
    adam_tx(lambda k: 0.05 / (1 + k / 100)),
])
def test_sgd_converges_to_the_least_squares_solution(transform):
    X, y, w_ls = least_squares_data()
    n, d = X.shape
    so = StochasticObjective(ls_loss, (X, y), batch_size=16, seed=0)
    res = run_stochastic(so, np.zeros(d), transform, 3000)
    # well inside the estimator's own noise σ√(d/n) ≈ 0.053
    assert np.linalg.norm(res.x - w_ls) < 0.2 * 0.3 * np.sqrt(d / n)
    assert res.fun == pytest.approx(ls_loss(res.x, (X, y)), rel=1e-12)  # full data
    np.testing.assert_allclose(res.jac, X.T @ (X @ res.x - y) / n, atol=1e-12)
    assert res.epochs == pytest.approx((res.nit + 1) * 16 / n)
    assert res.nfev == res.nit + 2  # one batch per iterate, plus the full-data value


def test_sgd_is_reproducible_for_a_fixed_seed():
    X, y, _ = least_squares_data()

    def solve(seed):
        so = StochasticObjective(ls_loss, (X, y), batch_size=16, seed=seed)
        return run_stochastic(so, np.zeros(4), sgd_tx(0.05), 200).x

    np.testing.assert_array_equal(solve(7), solve(7))
    assert not np.array_equal(solve(7), solve(8))


def test_batches_are_epochwise_permutations():
    data = {"i": np.arange(10), "x": np.arange(20.0).reshape(10, 2)}
    stream = StochasticObjective(lambda p, b: 0.0, data, batch_size=4, seed=3).batches()
    epochs = [[next(stream) for _ in range(3)] for _ in range(2)]
    for batches in epochs:
        assert [len(b["i"]) for b in batches] == [4, 4, 2]
        idx = np.concatenate([b["i"] for b in batches])
        assert sorted(idx) == list(range(10))  # every sample once per epoch
        for b in batches:
            np.testing.assert_array_equal(b["x"], data["x"][b["i"]])  # rows stay together
    assert not np.array_equal(epochs[0][0]["i"], epochs[1][0]["i"])  # reshuffled


def test_stochastic_objective_errors_show_shapes():
    with pytest.raises(ValueError, match=r"\(10, 2\).*\(9,\)"):
        StochasticObjective(ls_loss, (np.zeros((10, 2)), np.zeros(9)), batch_size=2)
    with pytest.raises(ValueError, match=r"\[1, 10\]"):
        StochasticObjective(ls_loss, np.zeros((10, 2)), batch_size=11)


def test_minimize_accepts_a_stochastic_objective():
    X, y, w_ls = least_squares_data()
    so = StochasticObjective(ls_loss, (X, y), batch_size=16, seed=0)
    opts = {"lr": lambda k: 0.05 / (1 + k / 100), "momentum": 0.5}
    res = minimize(so, np.zeros(4), method="sgd", options=opts, maxiter=3000)
    assert np.linalg.norm(res.x - w_ls) < 0.2 * 0.3 * np.sqrt(4 / 512)
    assert res.epochs > 90
    # a deterministic method sees the full-data loss
    full = minimize(so, np.zeros(4), method="gd", options={"step": "exact"}, tol=1e-10)
    np.testing.assert_allclose(full.x, w_ls, atol=1e-9)
