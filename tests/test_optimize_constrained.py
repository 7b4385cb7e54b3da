"""Projections, projected gradient and the augmented Lagrangian, against closed forms,
the variational characterisation of projections and the KKT conditions."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize as scipy_minimize

import mlcalc.optimize.constrained  # noqa: F401  (registers the methods)
from mlcalc.optimize import minimize
from mlcalc.optimize.constrained import (
    project_box,
    project_l1_ball,
    project_l2_ball,
    project_nonnegative,
    project_simplex,
)

RNG = np.random.default_rng(7)
S = 1 / np.sqrt(2)


def _is_projection(x, p, vertices, tol=1e-12):
    """p = P_C(x) for a polytope C = conv(vertices) iff p ∈ C and (x − p)ᵀ(z − p) ≤ 0 for
    all z ∈ C; the left side is linear in z, so checking the vertices suffices."""
    return np.max((vertices - p) @ (x - p)) <= tol


# ---------------------------------------------------------------------------------
# projections


@pytest.mark.parametrize("s", [1.0, 2.5])
def test_simplex_projection(s):
    for _ in range(20):
        x = 2 * RNG.standard_normal(7)
        p = project_simplex(x, s)
        assert np.all(p >= 0) and p.sum() == pytest.approx(s, rel=1e-14)
        assert _is_projection(x, p, s * np.eye(7))
    # against the QP min ‖z − x‖² s.t. Σz = s, z ≥ 0, solved by scipy
    x = RNG.standard_normal(6)
    qp = scipy_minimize(lambda z: np.sum((z - x) ** 2), np.full(6, s / 6),
                        jac=lambda z: 2 * (z - x), method="SLSQP", bounds=[(0, None)] * 6,
                        tol=1e-14,
                        constraints=[{"type": "eq", "fun": lambda z: z.sum() - s}])
    np.testing.assert_allclose(project_simplex(x, s), qp.x, atol=1e-7)
    # a point already on the simplex is its own projection
    z = RNG.dirichlet(np.ones(5)) * s
    np.testing.assert_allclose(project_simplex(z, s), z, atol=1e-14)


def test_l1_ball_projection():
    r = 1.5
    vertices = r * np.concatenate([np.eye(6), -np.eye(6)])
    for _ in range(20):
        x = 2 * RNG.standard_normal(6)
        p = project_l1_ball(x, r)
        assert np.abs(p).sum() <= r * (1 + 1e-14)
        assert _is_projection(x, p, vertices)
    inside = np.array([0.2, -0.3, 0.1])
    np.testing.assert_array_equal(project_l1_ball(inside, 1.0), inside)


def test_l2_ball_box_nonnegative():
    x = np.array([3.0, 4.0])
    np.testing.assert_allclose(project_l2_ball(x, 2.0), [1.2, 1.6], rtol=1e-15)
    np.testing.assert_array_equal(project_l2_ball(x, 10.0), x)
    np.testing.assert_array_equal(project_box([-2.0, 0.5, 3.0], -1.0, [1.0, 1.0, 2.0]),
                                  [-1.0, 0.5, 2.0])
    np.testing.assert_array_equal(project_nonnegative([-1.0, 0.0, 2.0]), [0.0, 0.0, 2.0])


def test_projection_errors():
    with pytest.raises(ValueError, match=r"shape \(n,\); got shape \(2, 2\)"):
        project_simplex(np.ones((2, 2)))
    with pytest.raises(ValueError, match="must be positive"):
        project_simplex(np.ones(3), 0.0)
    with pytest.raises(ValueError, match="radius must be positive"):
        project_l1_ball(np.ones(3), -1.0)


# ---------------------------------------------------------------------------------
# projected gradient


def _quadratic(n, kappa, seed):
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    A = Q @ np.diag(np.geomspace(1, kappa, n)) @ Q.T
    b = rng.standard_normal(n)
    return A, b


def test_projected_gradient_on_the_simplex_meets_kkt():
    A, b = _quadratic(8, 50.0, 1)
    res = minimize(lambda x: 0.5 * x @ A @ x - b @ x, np.full(8, 1 / 8),
                   method="projected_gradient", options={"projection": project_simplex},
                   tol=1e-10, maxiter=5000)
    assert res.success, res.message
    # either ‖x − P(x − ∇f)‖ ≤ tol, or the run says it stopped at the rounding floor (the
    # decrease a step could still make is below the rounding of f near x on the simplex)
    pg_norm = np.linalg.norm(res.projected_gradient)
    assert pg_norm <= 1e-10 or ("stationary to rounding" in res.message and pg_norm < 1e-8)
    x, g = res.x, A @ res.x - b
    np.testing.assert_allclose(res.jac, g, atol=1e-12)
    # KKT of min f s.t. Σx = 1, x ≥ 0: ∇f = −ν·1 + μ, μ ≥ 0, μᵢxᵢ = 0
    assert np.all(x >= 0) and x.sum() == pytest.approx(1.0, abs=1e-13)
    support = x > 1e-9
    nu = -np.mean(g[support])
    np.testing.assert_allclose(g[support], -nu, atol=1e-8)
    assert np.all(g[~support] + nu >= -1e-8)
    assert 0 < support.sum() < 8  # some bounds are active: a genuine constrained test
    # the same point as scipy's SLSQP on the same problem
    qp = scipy_minimize(lambda z: 0.5 * z @ A @ z - b @ z, np.full(8, 1 / 8),
                        jac=lambda z: A @ z - b, method="SLSQP", bounds=[(0, None)] * 8,
                        constraints=[{"type": "eq", "fun": lambda z: z.sum() - 1}], tol=1e-14)
    np.testing.assert_allclose(x, qp.x, atol=1e-6)


def test_projected_gradient_with_bounds_and_a_fixed_step():
    c = np.array([2.0, -3.0, 0.5])
    bounds = [(-1, 1), (-1, 1), (None, None)]
    for options in ({}, {"step": 0.5}):
        res = minimize(lambda x: np.sum((x - c) ** 2), np.zeros(3), method="projected_gradient",
                       bounds=bounds, options=options, tol=1e-12, record=True)
        assert res.success
        np.testing.assert_allclose(res.x, [1.0, -1.0, 0.5], atol=1e-12)
        np.testing.assert_allclose(res.projected_gradient, 0.0, atol=1e-12)
        assert res.trajectory.grad_norm[-1] <= 1e-12


def test_projected_gradient_errors():
    with pytest.raises(ValueError, match="projection"):
        minimize(lambda x: x @ x, np.ones(2), method="projected_gradient")
    with pytest.raises(ValueError, match="returned 3 values for 2 parameters"):
        minimize(lambda x: x @ x, np.ones(2), method="projected_gradient",
                 options={"projection": lambda x: np.ones(3)})
    with pytest.raises(ValueError, match="augmented_lagrangian"):
        minimize(lambda x: x @ x, np.ones(2), method="projected_gradient", bounds=[(0, 1)] * 2,
                 constraints=[{"type": "eq", "fun": lambda x: x[0]}])


# ---------------------------------------------------------------------------------
# augmented Lagrangian


def test_augmented_lagrangian_on_the_circle():
    res = minimize(lambda x: x[0] + x[1], np.array([0.5, 0.0]), method="augmented_lagrangian",
                   constraints=[{"type": "eq", "fun": lambda x: x[0] ** 2 + x[1] ** 2 - 1}],
                   tol=1e-9)
    assert res.success, res.message
    np.testing.assert_allclose(res.x, [-S, -S], atol=1e-8)
    # ∇f = λ∇c: (1, 1) = λ(2x, 2y), λ = −1/√2
    np.testing.assert_allclose(res.multipliers["eq"], [-S], atol=1e-8)
    assert res.multipliers["ineq"].size == 0
    assert max(res.kkt.values()) <= 1e-9
    np.testing.assert_allclose(res.jac, [1.0, 1.0])


def test_augmented_lagrangian_inequality_qp():
    # Nocedal & Wright, Example 16.4: x* = (1.4, 1.7), only the first constraint active,
    # with multiplier 0.8
    cons = [
        {"type": "ineq", "fun": lambda x: x[0] - 2 * x[1] + 2},
        {"type": "ineq", "fun": lambda x: -x[0] - 2 * x[1] + 6},
        {"type": "ineq", "fun": lambda x: -x[0] + 2 * x[1] + 2},
        {"type": "ineq", "fun": lambda x: x},
    ]
    res = minimize(lambda x: (x[0] - 1) ** 2 + (x[1] - 2.5) ** 2, np.array([2.0, 0.0]),
                   method="augmented_lagrangian", constraints=cons, tol=1e-9)
    assert res.success, res.message
    np.testing.assert_allclose(res.x, [1.4, 1.7], atol=1e-9)
    np.testing.assert_allclose(res.multipliers["ineq"], [0.8, 0, 0, 0, 0], atol=1e-8)
    np.testing.assert_allclose(res.constraint_values, [0.0, 1.2, 4.0, 1.4, 1.7], atol=1e-9)
    assert res.kkt["complementarity"] <= 1e-9 and res.kkt["feasibility"] <= 1e-9


def test_augmented_lagrangian_mixed_constraints():
    # min x² + y² s.t. x + y = 1, x ≥ 0.7: x* = (0.7, 0.3); (1.4, 0.6) = λ(1, 1) + μ(1, 0)
    cons = [{"type": "eq", "fun": lambda x: x[0] + x[1] - 1},
            {"type": "ineq", "fun": lambda x, lo: x[0] - lo, "args": (0.7,)}]
    res = minimize(lambda x: x @ x, np.zeros(2), method="augmented_lagrangian",
                   constraints=cons, tol=1e-9)
    assert res.success
    np.testing.assert_allclose(res.x, [0.7, 0.3], atol=1e-9)
    np.testing.assert_allclose(res.multipliers["eq"], [0.6], atol=1e-8)
    np.testing.assert_allclose(res.multipliers["ineq"], [0.8], atol=1e-8)


def test_augmented_lagrangian_errors():
    f = lambda x: x @ x  # noqa: E731
    with pytest.raises(ValueError, match="known types: eq, ineq"):
        minimize(f, np.ones(2), method="augmented_lagrangian",
                 constraints=[{"type": "le", "fun": lambda x: x[0]}])
    with pytest.raises(ValueError, match="no constraints"):
        minimize(f, np.ones(2), method="augmented_lagrangian")
    with pytest.raises(ValueError, match="unknown inner method 'nope'; known methods:"):
        minimize(f, np.ones(2), method="augmented_lagrangian", options={"inner": "nope"},
                 constraints=[{"type": "eq", "fun": lambda x: x[0] - 1}])
    with pytest.raises(ValueError, match=r"constraints at x0 \(shape \(2,\)\) failed"):
        minimize(f, np.ones(2), method="augmented_lagrangian",
                 constraints=[{"type": "eq", "fun": lambda x: x[5]}])
