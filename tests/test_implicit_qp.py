"""qp_layer and solve_qp: closed forms (equality-constrained KKT, projections onto the
orthant and the simplex), scipy's SLSQP, finite differences."""

import numpy as np
import pytest
import scipy.optimize

import mlcalc as mc
from mlcalc.implicit import qp_layer, solve_qp
from mlcalc.testing import check_grads

RNG = np.random.default_rng(5)
N = 4
_M = RNG.normal(size=(N, N))
Q = _M @ _M.T + np.eye(N)
Q_VEC = RNG.normal(size=N)
A = RNG.normal(size=(1, N))
B = RNG.normal(size=1)
G = RNG.normal(size=(6, N))
H = RNG.uniform(0.1, 0.5, size=6)


def test_equality_qp_and_its_derivatives_are_the_kkt_closed_form():
    # [Q Aᵀ; A 0] [x; ν] = [−q; b]
    K = np.block([[Q, A.T], [A, np.zeros((1, 1))]])
    Kinv = np.linalg.inv(K)
    x = (Kinv @ np.concatenate([-Q_VEC, B]))[:N]
    np.testing.assert_allclose(qp_layer(Q, Q_VEC, A, B), x, rtol=1e-10)
    np.testing.assert_allclose(mc.jacrev(lambda q: qp_layer(Q, q, A, B))(Q_VEC),
                               -Kinv[:N, :N], rtol=1e-8, atol=1e-11)
    np.testing.assert_allclose(mc.jacfwd(lambda b: qp_layer(Q, Q_VEC, A, b))(B),
                               Kinv[:N, N:], rtol=1e-8, atol=1e-11)


def test_inequality_qp_matches_slsqp():
    r = solve_qp(Q, Q_VEC, A, B, G, H)
    assert r.converged and r.polished and r.active.any() and not r.active.all()
    assert max(r.stationarity, r.feasibility, r.complementarity) < 1e-12
    assert np.all(r.lam >= 0)
    cons = [{"type": "eq", "fun": lambda x: A @ x - B},
            {"type": "ineq", "fun": lambda x: H - G @ x}]
    ref = scipy.optimize.minimize(lambda x: 0.5 * x @ Q @ x + Q_VEC @ x, np.zeros(N),
                                  method="SLSQP", constraints=cons,
                                  options={"ftol": 1e-14, "maxiter": 500})
    np.testing.assert_allclose(r.x, ref.x, atol=1e-7)


def test_projection_onto_the_orthant():
    # argmin ½‖x − y‖² s.t. x ≥ 0 is max(y, 0), with Jacobian diag(y > 0)
    y = np.array([0.7, -0.4, 1.5, -2.0, 0.1])
    n = y.size

    def project(y):
        return qp_layer(np.eye(n), -y, G=-np.eye(n), h=np.zeros(n))

    np.testing.assert_allclose(project(y), np.maximum(y, 0.0), atol=1e-12)
    np.testing.assert_allclose(mc.jacrev(project)(y), np.diag((y > 0).astype(float)),
                               atol=1e-10)
    np.testing.assert_allclose(mc.jacfwd(project)(y), np.diag((y > 0).astype(float)),
                               atol=1e-10)


def test_projection_onto_the_simplex():
    # on the support S of the projection, ∂x/∂y = I − 11ᵀ/|S|; zero elsewhere
    y = np.array([0.9, 0.3, -0.5, 0.6])
    n = y.size

    def project(y):
        return qp_layer(np.eye(n), -y, np.ones((1, n)), np.ones(1), -np.eye(n), np.zeros(n))

    u = np.sort(y)[::-1]  # Held, Wolfe & Crowder / Duchi et al. closed form
    k = np.max(np.nonzero(u - (np.cumsum(u) - 1) / np.arange(1, n + 1) > 0)[0]) + 1
    tau = (np.sum(u[:k]) - 1) / k
    x = np.maximum(y - tau, 0.0)
    np.testing.assert_allclose(project(y), x, atol=1e-12)
    S = x > 0
    J = np.zeros((n, n))
    J[np.ix_(S, S)] = np.eye(S.sum()) - 1.0 / S.sum()
    np.testing.assert_allclose(mc.jacrev(project)(y), J, atol=1e-10)


def test_qp_layer_gradients_match_finite_differences():
    args = (Q, Q_VEC, A, B, G, H)
    check_grads(lambda *a: qp_layer(*a), args, order=1, eps=1e-6, rtol=1e-5, atol=1e-7)
    check_grads(lambda q, h: qp_layer(Q, q, A, B, G, h), (Q_VEC, H), order=2, eps=1e-5,
                rtol=1e-4, atol=1e-6)


def test_inactive_constraints_have_zero_derivative_and_duals_are_returned():
    x, nu, lam = qp_layer(Q, Q_VEC, A, B, G, H, return_duals=True)
    inactive = G @ x - H < -1e-8
    assert inactive.any()
    np.testing.assert_array_equal(lam[inactive], 0.0)
    dh = mc.jacrev(lambda h: qp_layer(Q, Q_VEC, A, B, G, h))(H)
    np.testing.assert_allclose(dh[:, inactive], 0.0, atol=1e-12)
    assert np.abs(dh[:, ~inactive]).max() > 1e-3


def test_qp_layer_under_vmap():
    qs = RNG.normal(size=(3, N))
    xs = mc.vmap(lambda q: qp_layer(Q, q, A, B, G, H))(qs)
    for q, x in zip(qs, xs):
        np.testing.assert_allclose(x, solve_qp(Q, q, A, B, G, H).x, atol=1e-12)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="give both"):
        solve_qp(Q, Q_VEC, A=A)
    with pytest.raises(ValueError, match="shapes"):
        solve_qp(Q, Q_VEC, G, H[:2])
    with pytest.raises(RuntimeError, match="infeasible"):  # x ≤ −1 and x ≥ 1
        solve_qp(np.eye(1), np.zeros(1), G=np.array([[1.0], [-1.0]]),
                 h=np.array([-1.0, -1.0]))
