"""argmin against closed forms: ridge regression, an iMAML meta-gradient on a quadratic
inner problem (Rajeswaran et al., 2019), a non-quadratic inner problem."""

import numpy as np
import pytest

import mlcalc as mc
from mlcalc.implicit import argmin
from mlcalc.optimize import minimize

RNG = np.random.default_rng(11)


def test_ridge_derivative_through_argmin():
    A, b = RNG.normal(size=(9, 3)), RNG.normal(size=9)

    def objective(x, lam):  # ‖Ax − b‖² + λ‖x‖²
        return np.sum((A @ x - b) ** 2) + lam * np.sum(x ** 2)

    ridge = argmin(objective)
    lam = 0.4
    K = A.T @ A + lam * np.eye(3)
    x = np.linalg.solve(K, A.T @ b)
    np.testing.assert_allclose(ridge(np.zeros(3), lam), x, rtol=1e-11)
    expected = -np.linalg.solve(K, x)  # dx*/dλ = −(AᵀA + λI)⁻¹ x*
    np.testing.assert_allclose(mc.jacrev(lambda l: ridge(np.zeros(3), l))(lam), expected,
                               rtol=1e-9)
    np.testing.assert_allclose(mc.jacfwd(lambda l: ridge(np.zeros(3), l))(lam), expected,
                               rtol=1e-9)


N = 5
_M = RNG.normal(size=(N, N))
H = _M @ _M.T / N + 0.3 * np.eye(N)  # training-loss curvature
C = RNG.normal(size=N)
P, D = RNG.normal(size=(7, N)), RNG.normal(size=7)
LAM = 2.0  # proximal regularisation strength


def inner(phi, theta):
    # iMAML: L_train(φ) + (λ/2)‖φ − θ‖²,  L_train = ½ φᵀHφ − cᵀφ
    return 0.5 * phi @ H @ phi - C @ phi + 0.5 * LAM * np.sum((phi - theta) ** 2)


def test_output_of_argmin_with_a_bad_method_name():
    with pytest.raises(ValueError, match="scipy method"):
        argmin(inner, "simplex")


@pytest.mark.parametrize("solver", [
    "trust-ncg",
    "BFGS",
    lambda f, x0: minimize(f, x0, method="newton", tol=1e-13).x,
])
def test_imaml_meta_gradient_matches_the_closed_form(solver):
    adapt = argmin(inner, solver)

    def meta_loss(theta):  # L_test(φ*(θ)) = ½‖Pφ* − d‖²
        phi = adapt(np.zeros(N), theta)
        return 0.5 * np.sum((P @ phi - D) ** 2)

    theta = RNG.normal(size=N)
    K = H + LAM * np.eye(N)
    phi = np.linalg.solve(K, C + LAM * theta)
    # dφ*/dθ = λ K⁻¹ (symmetric), so ∇θ = λ K⁻¹ Pᵀ(Pφ* − d) and ∇²θ = λ² K⁻¹PᵀP K⁻¹
    grad_expected = LAM * np.linalg.solve(K, P.T @ (P @ phi - D))
    np.testing.assert_allclose(mc.grad(meta_loss)(theta), grad_expected, rtol=1e-8,
                               atol=1e-11)
    Kinv = np.linalg.inv(K)
    np.testing.assert_allclose(mc.hessian(meta_loss)(theta),
                               LAM ** 2 * Kinv @ P.T @ P @ Kinv, rtol=1e-8, atol=1e-11)


def test_non_quadratic_inner_problem_against_finite_differences():
    def g(x, theta):  # strictly convex: softplus terms plus a quadratic
        return np.sum(np.logaddexp(0.0, theta[:3] * x)) + 0.5 * np.sum((x - theta[3]) ** 2)

    m = argmin(g)
    theta = np.array([0.5, -1.0, 2.0, 0.3])
    f = lambda t: np.sum(np.cos(m(np.zeros(3), t)))  # noqa: E731
    # each finite-difference point runs the inner solver: few steps keep this fast
    assert mc.check_grad(f, theta, num_steps=5, levels=2).ok
    assert mc.check_grad(f, theta, order=2, num_steps=5, levels=2, atol=1e-10).ok
