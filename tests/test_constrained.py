"""Lagrange multipliers and KKT residuals, against closed forms."""

import dataclasses

import numpy as np
import pytest

from mlcalc.calculus import kkt_residuals, lagrange

S = 1 / np.sqrt(2)


# ---------------------------------------------------------------------------------
# lagrange (L = f − λᵀg, so ∇f = λ∇g)


def test_x_plus_y_on_the_unit_circle():
    r = lagrange(lambda x: x[0] + x[1], lambda x: x[0] ** 2 + x[1] ** 2 - 1,
                 bounds=[(-2, 2), (-2, 2)], n_starts=64)
    assert r.counts == {"minimum": 1, "maximum": 1, "saddle": 0, "degenerate": 0}
    lo, hi = r.points
    assert lo.kind == "minimum" and hi.kind == "maximum"
    np.testing.assert_allclose(hi.x, [S, S], atol=1e-12)
    np.testing.assert_allclose(lo.x, [-S, -S], atol=1e-12)
    assert hi.value == pytest.approx(np.sqrt(2), abs=1e-12)
    assert lo.value == pytest.approx(-np.sqrt(2), abs=1e-12)
    # ∇f = (1, 1) = λ (2x, 2y): λ = 1/(2x)
    np.testing.assert_allclose(hi.multipliers, [S], atol=1e-12)
    np.testing.assert_allclose(lo.multipliers, [-S], atol=1e-12)
    np.testing.assert_allclose(r.multipliers, [[-S], [S]], atol=1e-12)
    # ∇ₓ²L = −2λ I; projected onto the tangent (1, −1)/√2: −2λ
    np.testing.assert_allclose(hi.projected_eigenvalues, [-np.sqrt(2)], atol=1e-12)
    np.testing.assert_allclose(lo.projected_eigenvalues, [np.sqrt(2)], atol=1e-12)
    # the bordered Hessian [[0, ∇g], [∇gᵀ, ∇²L]]; for n = 2, m = 1, det > 0 ⇔ local max
    a = np.sqrt(2)
    np.testing.assert_allclose(hi.bordered_hessian,
                               [[0, a, a], [a, -a, 0], [a, 0, -a]], atol=1e-12)
    assert np.linalg.det(hi.bordered_hessian) > 0 > np.linalg.det(lo.bordered_hessian)
    for p in r.points:
        assert p.licq and p.stationarity < 1e-10 and p.constraint_residual < 1e-10
        assert abs(p.tangent_basis[:, 0] @ [1.0, 1.0]) < 1e-12
    assert sum(r.hits) == r.n_converged == 64


def test_max_of_xy_on_a_line():
    g = [lambda x: x[0] + x[1] - 10]
    r = lagrange(lambda x: x[0] * x[1], g, starts=[[0.0, 0.0], [1.0, 9.0], [-3.0, 4.0]])
    assert len(r.points) == 1 and r.hits == (3,)
    (p,) = r.points
    assert p.kind == "maximum" and "local maximum" in p.message
    np.testing.assert_allclose(p.x, [5.0, 5.0], atol=1e-12)
    assert p.value == pytest.approx(25.0, abs=1e-12)
    np.testing.assert_allclose(p.multipliers, [5.0], atol=1e-12)  # ∇f = (y, x) = λ(1, 1)
    # the same from starts drawn in a box
    r = lagrange(lambda x: x[0] * x[1], g, bounds=[(-20, 20), (-20, 20)], n_starts=16)
    np.testing.assert_allclose(r.x, [[5.0, 5.0]], atol=1e-12)


def test_two_constraints():
    # x + y + z on the unit circle {|x|² = 1, z = 0}: x = y = ±1/√2, λ = (±1/√2, 1)
    r = lagrange(lambda x: x[0] + x[1] + x[2], [lambda x: x @ x - 1, lambda x: x[2]],
                 bounds=[(-2, 2)] * 3, n_starts=64)
    assert [p.kind for p in r.points] == ["minimum", "maximum"]
    np.testing.assert_allclose(r.x, [[-S, -S, 0], [S, S, 0]], atol=1e-12)
    np.testing.assert_allclose(r.multipliers, [[-S, 1.0], [S, 1.0]], atol=1e-12)
    assert all(p.tangent_basis.shape == (3, 1) for p in r.points)


def test_saddle_on_a_plane():
    # x² + y² − z² on x + y + z = 1: ∇f = λ(1, 1, 1) gives (1, 1, −1), λ = 2, f = 1.
    # ∇ₓ²L = diag(2, 2, −2) on the plane's orthonormal basis (1, −1, 0)/√2,
    # (1, 1, −2)/√6 is diag(2, −2/3): a saddle of index 1
    r = lagrange(lambda x: x[0] ** 2 + x[1] ** 2 - x[2] ** 2,
                 lambda x: x[0] + x[1] + x[2] - 1, bounds=[(-3, 3)] * 3, n_starts=32)
    (p,) = r.points
    assert p.kind == "saddle" and p.index == 1
    np.testing.assert_allclose(p.x, [1.0, 1.0, -1.0], atol=1e-12)
    np.testing.assert_allclose(p.multipliers, [2.0], atol=1e-12)
    assert p.value == pytest.approx(1.0)
    np.testing.assert_allclose(p.projected_eigenvalues, [-2 / 3, 2.0], atol=1e-12)


def test_points_outside_the_box_are_dropped():
    # the extrema of x + y on the circle of radius 3 lie outside [-1, 1]²
    r = lagrange(lambda x: x[0] + x[1], lambda x: x[0] ** 2 + x[1] ** 2 - 9,
                 bounds=[(-1, 1), (-1, 1)], n_starts=16)
    assert r.points == () and r.n_left_box == 16


def test_lagrange_result_is_frozen():
    r = lagrange(lambda x: x[0] * x[1], lambda x: x[0] + x[1] - 10, starts=[[1.0, 2.0]])
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.points[0].kind = "minimum"
    with pytest.raises(ValueError):
        r.points[0].multipliers[0] = 0.0


def test_lagrange_bad_input():
    f = lambda x: x[0] + x[1]  # noqa: E731
    g = lambda x: x[0] ** 2 + x[1] ** 2 - 1  # noqa: E731
    with pytest.raises(ValueError, match="bounds .* or starts"):
        lagrange(f, g)
    with pytest.raises(ValueError, match="at least one"):
        lagrange(f, [], starts=[[1.0, 0.0]])
    with pytest.raises(ValueError, match="3 equality constraints in 2"):
        lagrange(f, [g, g, g], starts=[[1.0, 0.0]])
    with pytest.raises(ValueError, match=r"shape \(2, 2\)"):
        lagrange(f, lambda x: np.outer(x, x), starts=[[1.0, 0.0]])
    with pytest.raises(TypeError, match="callable"):
        lagrange(f, [g, 3.0], starts=[[1.0, 0.0]])


# ---------------------------------------------------------------------------------
# KKT: min f s.t. g = 0, h ≤ 0, L = f + λᵀg + μᵀh


def qp(x):
    return (x[0] - 2) ** 2 + (x[1] - 1) ** 2


QP_H = [lambda x: x[0] + x[1] - 2, lambda x: -x[0]]  # active at the solution, inactive


def test_kkt_at_the_qp_solution():
    # projecting (2, 1) onto x + y ≤ 2 gives (1.5, 0.5); ∇f = (−1, −1) = −μ₁(1, 1)
    k = kkt_residuals(qp, np.array([1.5, 0.5]), inequality=QP_H)
    assert k.estimated and k.satisfied(1e-12)
    np.testing.assert_allclose(k.ineq_multipliers, [1.0, 0.0], atol=1e-12)
    np.testing.assert_array_equal(k.active, [True, False])
    assert k.eq_multipliers.shape == (0,)


def test_kkt_at_non_optimal_points():
    k = kkt_residuals(qp, np.array([1.0, 0.5]), inequality=QP_H)  # feasible, interior
    assert k.stationarity == pytest.approx(np.hypot(2.0, 1.0))
    assert k.primal_inequality == 0.0 and not k.satisfied()
    k = kkt_residuals(qp, np.array([2.0, 1.0]), inequality=QP_H)  # infeasible minimiser of f
    assert k.stationarity == pytest.approx(0.0, abs=1e-14)
    assert k.primal_inequality == pytest.approx(1.0) and k.max_residual == pytest.approx(1.0)


def test_kkt_given_multipliers():
    x = np.array([1.5, 0.5])
    assert kkt_residuals(qp, x, inequality=QP_H, multipliers=([], [1.0, 0.0])).satisfied(1e-14)
    k = kkt_residuals(qp, x, inequality=QP_H, multipliers=([], [-1.0, 0.0]))
    assert k.dual_feasibility == pytest.approx(1.0)
    assert k.stationarity == pytest.approx(2 * np.sqrt(2))
    k = kkt_residuals(qp, x, inequality=QP_H, multipliers=([], [1.0, 0.5]))
    assert k.complementary_slackness == pytest.approx(0.75)  # μ₂·|h₂| = 0.5·1.5
    assert not k.estimated


def test_kkt_with_equality_and_inequality():
    # min |x|² s.t. x + y + z = 1, z ≥ 1/2: x = (1/4, 1/4, 1/2); ∇f = (1/2, 1/2, 1)
    # ∇f + λ(1, 1, 1) + μ(0, 0, −1) = 0: λ = −1/2, μ = 1/2
    k = kkt_residuals(lambda x: x @ x, np.array([0.25, 0.25, 0.5]),
                      equality=lambda x: np.sum(x) - 1, inequality=[lambda x: 0.5 - x[2]])
    assert k.satisfied(1e-12)
    np.testing.assert_allclose(k.eq_multipliers, [-0.5], atol=1e-12)
    np.testing.assert_allclose(k.ineq_multipliers, [0.5], atol=1e-12)
    # the unconstrained-by-z point (1/3, 1/3, 1/3) violates z ≥ 1/2
    k = kkt_residuals(lambda x: x @ x, np.full(3, 1 / 3),
                      equality=lambda x: np.sum(x) - 1, inequality=[lambda x: 0.5 - x[2]])
    assert k.primal_inequality == pytest.approx(1 / 6)


def test_kkt_equality_only_sign_convention():
    # min x² + y² s.t. x + y = 1: ∇f = (1, 1) = −λ(1, 1), λ = −1 (and lagrange's λ = +1)
    k = kkt_residuals(lambda x: x @ x, np.array([0.5, 0.5]), equality=lambda x: x[0] + x[1] - 1)
    np.testing.assert_allclose(k.eq_multipliers, [-1.0], atol=1e-12)
    r = lagrange(lambda x: x @ x, lambda x: x[0] + x[1] - 1, starts=[[0.0, 3.0]])
    np.testing.assert_allclose(r.multipliers, [[1.0]], atol=1e-12)
    assert r.points[0].kind == "minimum"


def test_kkt_bad_input():
    x = np.array([1.5, 0.5])
    with pytest.raises(ValueError, match="pair"):
        kkt_residuals(qp, x, inequality=QP_H, multipliers=[1.0, 0.0, 2.0])
    with pytest.raises(ValueError, match=r"μ .* shape \(2,\)"):
        kkt_residuals(qp, x, inequality=QP_H, multipliers=([], [1.0]))
    with pytest.raises(ValueError, match=r"\(2, 1\)"):
        kkt_residuals(qp, x.reshape(2, 1))
