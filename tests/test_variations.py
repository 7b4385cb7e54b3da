"""mlcalc.variations against closed forms: the harmonic oscillator's equation of motion,
the shortest path (a straight line), the brachistochrone (a cycloid) and the catenary
(a cosh)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import brentq

from mlcalc.variations import euler_lagrange_residual, solve_bvp_functional

W = 2.0


def oscillator(t, q, qd):
    return 0.5 * qd ** 2 - 0.5 * W ** 2 * q ** 2


# ---------------------------------------------------------------------------------
# the Euler–Lagrange residual


def test_oscillator_residual_is_the_equation_of_motion():
    # E = ∂L/∂q − d/dt ∂L/∂q̇ = −(q̈ + ω²q): zero on q = cos ωt, −(2 + ω²t²) on q = t²
    t = np.linspace(0.0, 3.0, 7)
    np.testing.assert_allclose(euler_lagrange_residual(oscillator, lambda s: np.cos(W * s), t),
                               0.0, atol=1e-12)
    np.testing.assert_allclose(euler_lagrange_residual(oscillator, lambda s: s ** 2, t),
                               -(2.0 + W ** 2 * t ** 2), rtol=1e-12)
    assert np.ndim(euler_lagrange_residual(oscillator, lambda s: s ** 2, 0.5)) == 0


def test_time_dependent_and_vector_lagrangians():
    # L = t q̇²/2: E = −d/dt(t q̇) = −(q̇ + t q̈); for q = t³: −9t²
    t = np.linspace(0.1, 2.0, 5)
    np.testing.assert_allclose(
        euler_lagrange_residual(lambda s, q, qd: 0.5 * s * qd ** 2, lambda s: s ** 3, t),
        -9.0 * t ** 2, rtol=1e-12)

    # 2-D isotropic oscillator (ω = 1): circular motion is a solution, q = (t, 0) is not
    def lagrangian(s, q, qd):
        return 0.5 * qd @ qd - 0.5 * q @ q

    circle = euler_lagrange_residual(lagrangian, lambda s: np.stack([np.cos(s), np.sin(s)]), t)
    assert circle.shape == (5, 2)
    np.testing.assert_allclose(circle, 0.0, atol=1e-12)
    line = euler_lagrange_residual(lagrangian, lambda s: np.stack([s, 0.0 * s]), t)
    np.testing.assert_allclose(line, np.stack([-t, 0 * t], axis=1), atol=1e-12)


@pytest.mark.parametrize("grid", ["uniform", "smooth non-uniform"])
def test_residual_from_samples_converges_at_third_order(grid):
    errors = []
    for n in (101, 201, 401):
        s = np.linspace(0.0, 1.0, n)
        t = 3.0 * (s if grid == "uniform" else s + 0.1 * np.sin(2 * np.pi * s))
        wrong = euler_lagrange_residual(oscillator, t ** 2, t)
        np.testing.assert_allclose(wrong, -(2.0 + W ** 2 * t ** 2), rtol=1e-8)  # exact on t²
        errors.append(np.max(np.abs(euler_lagrange_residual(oscillator, np.cos(W * t), t))))
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all(orders > 2.8), orders
    assert errors[-1] < 1e-4


def test_residual_errors():
    with pytest.raises(ValueError, match=r"\(6,\).*\(5,\)"):
        euler_lagrange_residual(oscillator, np.zeros(6), np.linspace(0, 1, 5))
    with pytest.raises(ValueError, match="scalar"):
        euler_lagrange_residual(lambda t, q, qd: np.stack([q, qd]), lambda s: s, np.ones(2))


# ---------------------------------------------------------------------------------
# boundary-value problems


def test_shortest_path_is_the_straight_line():
    res = solve_bvp_functional(lambda t, q, qd: np.sqrt(1.0 + qd ** 2), (0.0, 2.0), 50, (0.0, 1.0),
                               q0=lambda t: 2.0 * t + np.sin(np.pi * t))
    assert res.success
    np.testing.assert_allclose(res.q, 2.0 * res.t, atol=1e-7)
    np.testing.assert_allclose(res.value, np.sqrt(5.0), rtol=1e-12)
    assert np.max(np.abs(res.residual)) < 1e-5
    # in the plane, the energy ½|q̇|² picks the straight line at constant speed
    end = np.array([1.0, 2.0])
    plane = solve_bvp_functional(lambda t, q, qd: 0.5 * qd @ qd, (np.zeros(2), end), 40,
                                 (0.0, 1.0), q0=lambda t: np.array([t ** 2, np.sin(np.pi * t)]))
    assert plane.q.shape == (41, 2)
    np.testing.assert_allclose(plane.q, np.outer(plane.t, end), atol=1e-7)
    np.testing.assert_allclose(plane.value, 0.5 * end @ end, rtol=1e-10)


def test_harmonic_oscillator_stationary_path_is_the_cosine():
    # T = 1 < π/ω: the action is minimal on the true motion q = cos ωt
    errors = []
    for n in (50, 100):
        res = solve_bvp_functional(oscillator, (1.0, np.cos(W)), n, (0.0, 1.0),
                                   method="newton_cg", tol=1e-12)
        assert res.success
        assert np.max(np.abs(res.residual)) < 1e-6
        errors.append(np.max(np.abs(res.q - np.cos(W * res.t))))
    assert errors[-1] < 1e-4
    np.testing.assert_allclose(errors[0] / errors[1], 4.0, rtol=0.05)  # O(h²)
    # exact action ∫ (½q̇² − ½ω²q²) dt on cos ωt over [0, 1] = −(ω/4)·sin 2ω
    np.testing.assert_allclose(res.value, -W / 4 * np.sin(2 * W), atol=1e-4)


def test_brachistochrone_is_the_cycloid():
    # The curve from (0, 0) to (1, 1), y downwards, minimising the travel time
    # T = ∫ ds/√(2gy). Written as x(y) and with y = u² the integrand's 1/√y singularity
    # at the start cancels: T = √(2/g)·∫_0^1 √(1 + (x'(u)/2u)²) du, smooth in u, and
    # the midpoint rule never evaluates it at u = 0. Analytic: the cycloid x = r(θ −
    # sin θ), y = r(1 − cos θ) through (1, 1), travel time θ₁·√(r/g).
    g = 9.81
    theta1 = brentq(lambda th: (th - np.sin(th)) / (1 - np.cos(th)) - 1.0, 0.5, np.pi)
    r = 1.0 / (1.0 - np.cos(theta1))
    t_exact = theta1 * np.sqrt(r / g)
    res = solve_bvp_functional(
        lambda u, x, xu: np.sqrt(2.0 / g) * np.sqrt(1.0 + (xu / (2.0 * u)) ** 2),
        (0.0, 1.0), 100, (0.0, 1.0))  # the default method, newton_cg
    assert res.success and res.method == "newton_cg"
    assert abs(res.value - t_exact) < 1e-3
    assert abs(res.value - t_exact) < 1e-5  # what n = 100 actually reaches (O(h²))
    theta = 2.0 * np.arcsin(res.t / np.sqrt(2.0 * r))  # y = u² = r(1 − cos θ)
    np.testing.assert_allclose(res.q, r * (theta - np.sin(theta)), atol=5e-5)
    # faster than the straight chute: length √2 at acceleration g/√2 takes 2/√g
    assert res.value < 2.0 / np.sqrt(g)


def test_catenary_with_its_length_constraint():
    # A chain of length ℓ = 3 hung from (−1, 0) and (1, 0) minimises its potential
    # ∫ y√(1 + y'²) dx subject to ∫ √(1 + y'²) dx = ℓ: y = c(cosh(x/c) − cosh(1/c)) with
    # 2c·sinh(1/c) = ℓ; the multiplier is λ = −c·cosh(1/c) (y − λ = c cosh(x/c)).
    ell = 3.0
    c = brentq(lambda c: 2.0 * c * np.sinh(1.0 / c) - ell, 0.1, 10.0)
    res = solve_bvp_functional(
        lambda x, y, yd: y * np.sqrt(1.0 + yd ** 2), (0.0, 0.0), 100, (-1.0, 1.0),
        q0=lambda x: -(1.0 - x ** 2),
        constraints=[(lambda x, y, yd: np.sqrt(1.0 + yd ** 2), ell)])
    assert res.success and res.method == "auglag"
    np.testing.assert_allclose(res.constraint_values, [ell], atol=1e-8)
    np.testing.assert_allclose(res.q, c * (np.cosh(res.t / c) - np.cosh(1.0 / c)), atol=1e-4)
    np.testing.assert_allclose(res.multipliers, [-c * np.cosh(1.0 / c)], rtol=1e-3)
    assert np.max(np.abs(res.residual)) < 1e-5


def test_bvp_errors():
    with pytest.raises(ValueError, match="known rules"):
        solve_bvp_functional(oscillator, (0.0, 1.0), 10, (0.0, 1.0), rule="simpson")
    with pytest.raises(ValueError, match=r"\(\)"):
        solve_bvp_functional(oscillator, (0.0, np.ones(2)), 10, (0.0, 1.0))
    with pytest.raises(ValueError, match=r"\(9,\).*\(3,\)"):
        solve_bvp_functional(oscillator, (0.0, 1.0), 10, (0.0, 1.0), q0=np.zeros(3))
    with pytest.raises(ValueError, match="t_span"):
        solve_bvp_functional(oscillator, (0.0, 1.0), 10, (1.0, 0.0))


def test_trapezoid_rule_agrees():
    res = solve_bvp_functional(oscillator, (1.0, np.cos(W)), 100, (0.0, 1.0), rule="trapezoid",
                               method="newton_cg", tol=1e-12)
    assert res.rule == "trapezoid"
    np.testing.assert_allclose(res.q, np.cos(W * res.t), atol=1e-3)
