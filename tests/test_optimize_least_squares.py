"""Nonlinear least squares (Gauss–Newton, Levenberg–Marquardt) against closed forms
and published convergence facts."""

from __future__ import annotations

import numpy as np
import pytest

from mlcalc.optimize.least_squares import least_squares
from mlcalc.optimize.natural_gradient import fisher_information, natural_gradient

T = np.linspace(0.0, 4.0, 40)
TRUE = np.array([2.5, 1.3, 0.4])  # a exp(−b t) + c


def model(p, t):
    return p[0] * np.exp(-p[1] * t) + p[2]


@pytest.mark.parametrize("method", ["gauss_newton", "lm"])
def test_exponential_decay_fit_recovers_the_parameters(method):
    rng = np.random.default_rng(0)
    y = model(TRUE, T) + 0.01 * rng.standard_normal(T.size)
    res = least_squares(lambda p: model(p, T) - y, np.array([1.0, 0.5, 0.0]), method=method,
                        tol=1e-10)
    assert res.success, res.message
    # the estimate is within a few noise standard errors of the truth ...
    np.testing.assert_allclose(res.x, TRUE, atol=0.03)
    # ... and is the least-squares solution: the normal equations Jᵀr = 0 hold, with the
    # Jacobian of the model in closed form
    a, b, _ = res.x
    J = np.stack([np.exp(-b * T), -a * T * np.exp(-b * T), np.ones_like(T)], axis=1)
    r = model(res.x, T) - y
    np.testing.assert_allclose(J.T @ r, 0.0, atol=1e-9)
    np.testing.assert_allclose(res.jacobian, J, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(res.residuals, r, atol=1e-14)
    assert res.fun == res.cost == pytest.approx(0.5 * r @ r, rel=1e-12)
    np.testing.assert_allclose(res.jac, J.T @ r, atol=1e-12)


def test_rosenbrock_as_residuals_by_lm():
    res = least_squares(lambda x: np.stack([10 * (x[1] - x[0] ** 2), 1 - x[0]]),
                        np.array([-1.2, 1.0]), method="lm", tol=1e-10, record=True)
    assert res.success and res.status == 0
    np.testing.assert_allclose(res.x, [1.0, 1.0], atol=1e-10)
    assert res.cost < 1e-20
    # every accepted LM step decreases the cost
    assert np.all(np.diff(res.trajectory.f) < 0)
    assert res.nit == len(res.trajectory) - 1 and res.njev == res.nit + 1


def test_gauss_newton_is_quadratic_on_a_zero_residual_problem():
    y = model(TRUE, T)  # exact data: r(x*) = 0
    res = least_squares(lambda p: model(p, T) - y, np.array([2.0, 1.0, 0.3]),
                        method="gauss_newton", tol=1e-13, record=True)
    assert res.success
    e = np.linalg.norm(res.trajectory.x - TRUE, axis=1)
    e = e[e > 1e-13]
    # e_{k+1} ≤ C e_k² near the solution, with unit steps taken
    assert len(e) >= 3
    ratios = e[1:] / e[:-1] ** 2
    assert np.all(ratios[-3:] < 10.0)
    assert e[-1] / e[-2] < 1e-3
    assert np.all(res.trajectory.step[-3:] == 1.0)
    assert res.rate.order in ("quadratic", "superlinear")


def test_user_jacobian_and_pytree_parameters():
    y = model(TRUE, T)

    def residuals(p):
        return p["a"] * np.exp(-p["b"] * T) + p["c"] - y

    def jac(p):
        e = np.exp(-p["b"] * T)
        return np.stack([e, -p["a"] * T * e, np.ones_like(T)], axis=1)

    x0 = {"a": np.array(2.0), "b": np.array(1.0), "c": np.array(0.3)}
    res = least_squares(residuals, x0, method="lm", jac=jac, tol=1e-12)
    assert res.success
    np.testing.assert_allclose([res.x["a"], res.x["b"], res.x["c"]], TRUE, atol=1e-10)


def test_errors():
    with pytest.raises(ValueError, match="known methods: gauss_newton, lm"):
        least_squares(lambda x: x, np.ones(2), method="dogleg")
    with pytest.raises(ValueError, match=r"shape \(3, 3\).*expected \(2, 2\)"):
        least_squares(lambda x: x, np.ones(2), jac=lambda x: np.eye(3))
    with pytest.raises(ValueError, match="objective is nan"):
        least_squares(lambda x: x * np.nan, np.ones(2))


# ---------------------------------------------------------------------------------
# natural gradient (Fisher metric); Gauss–Newton's statistical sibling

RNG = np.random.default_rng(5)
XL = RNG.standard_normal((60, 3))
YL = (RNG.random(60) < 1 / (1 + np.exp(-XL @ np.array([1.0, -2.0, 0.5])))).astype(float)


def logistic_nll(w, x, y):
    z = x @ w
    return np.logaddexp(0.0, z) - y * z


def total_nll(w):
    return np.sum(logistic_nll(w, XL, YL))


def test_exact_fisher_of_logistic_regression_is_the_hessian():
    w = np.array([0.3, -0.2, 0.1])
    p = 1 / (1 + np.exp(-XL @ w))
    H = XL.T @ (XL * (p * (1 - p))[:, None])
    F = fisher_information(logistic_nll, w, (XL, YL), outcomes=[0.0, 1.0])
    np.testing.assert_allclose(F, H, rtol=1e-12, atol=1e-12)
    G = (p - YL)[:, None] * XL  # per-example gradients in closed form
    np.testing.assert_allclose(fisher_information(logistic_nll, w, (XL, YL), empirical=True),
                               G.T @ G, rtol=1e-12, atol=1e-12)


def test_natural_gradient_step_is_the_newton_irls_step():
    w = np.array([0.3, -0.2, 0.1])
    p = 1 / (1 + np.exp(-XL @ w))
    H = XL.T @ (XL * (p * (1 - p))[:, None])
    newton = w - np.linalg.solve(H, XL.T @ (p - YL))
    res = natural_gradient(total_nll, w, per_example_nll=logistic_nll, data=(XL, YL),
                           outcomes=[0.0, 1.0], damping=0.0, lr=1.0, maxiter=1)
    np.testing.assert_allclose(res.x, newton, rtol=1e-12)
    # iterated, it is Newton's method: quadratic convergence to the MLE
    res = natural_gradient(total_nll, w, per_example_nll=logistic_nll, data=(XL, YL),
                           outcomes=[0.0, 1.0], damping=0.0, tol=1e-11, record=True)
    assert res.success and res.nit <= 8
    assert res.rate.order in ("quadratic", "superlinear")


def test_empirical_fisher_mean_reduction_and_user_fisher():
    w = np.zeros(3)
    mle = natural_gradient(total_nll, w, per_example_nll=logistic_nll, data=(XL, YL),
                           outcomes=[0.0, 1.0], damping=0.0, tol=1e-12).x
    res = natural_gradient(lambda v: total_nll(v) / 60, w, per_example_nll=logistic_nll,
                           data=(XL, YL), empirical=True, reduction="mean", line_search=True,
                           tol=1e-10, maxiter=500)
    assert res.success, res.message
    np.testing.assert_allclose(res.x, mle, atol=1e-7)

    def fisher(v):
        p = 1 / (1 + np.exp(-XL @ v))
        return XL.T @ (XL * (p * (1 - p))[:, None])

    res = natural_gradient(total_nll, w, fisher=fisher, damping=0.0, tol=1e-10)
    np.testing.assert_allclose(res.x, mle, atol=1e-9)


def test_natural_gradient_errors():
    with pytest.raises(ValueError, match="set reduction='sum' or 'mean'"):
        natural_gradient(total_nll, np.zeros(3), per_example_nll=logistic_nll, data=(XL, YL),
                         outcomes=[0.0, 1.0], reduction="mean")
    with pytest.raises(ValueError, match="do not sum to 1"):
        natural_gradient(total_nll, np.zeros(3), per_example_nll=logistic_nll, data=(XL, YL),
                         outcomes=[1.0])
    with pytest.raises(ValueError, match="needs the outcomes"):
        fisher_information(logistic_nll, np.zeros(3), (XL, YL))
    with pytest.raises(ValueError, match="pass options fisher"):
        natural_gradient(total_nll, np.zeros(3))
