"""odeint: the orders of the methods on y' = −y, accuracy of the adaptive solver, and
derivatives through the solver."""

from __future__ import annotations

import numpy as np
import pytest

import mlcalc as mc
from mlcalc.ode import odeint
from mlcalc.ode.solvers import _dp_step
from mlcalc.testing import check_grads


def decay(y, t):
    return -y


def slope(hs, errors) -> float:
    return float(np.polyfit(np.log(hs), np.log(errors), 1)[0])


@pytest.mark.parametrize("method,order", [("euler", 1), ("heun", 2), ("rk4", 4)])
def test_fixed_step_orders(method, order):
    ns = [8, 16, 32, 64]
    errors = [abs(odeint(decay, np.array([1.0]), np.array([0.0, 1.0]), method=method,
                         steps_per_interval=n)[-1, 0] - np.exp(-1)) for n in ns]
    assert abs(slope([1 / n for n in ns], errors) - order) < 0.1


def test_dormand_prince_step_is_fifth_order():
    # global error of fixed Dormand–Prince steps (without step-size control)
    errors = []
    ns = [4, 8, 16, 32]
    for n in ns:
        y, h = np.array([1.0]), 1.0 / n
        for k in range(n):
            y, _ = _dp_step(decay, y, k * h, h, ())
        errors.append(abs(y[0] - np.exp(-1)))
    assert abs(slope([1 / n for n in ns], errors) - 5) < 0.25


@pytest.mark.parametrize("rtol", [1e-4, 1e-7, 1e-10])
def test_adaptive_solver_meets_its_tolerance(rtol):
    t = np.linspace(0.0, 2.0, 9)
    y = odeint(decay, np.array([1.0, -2.0]), t, rtol=rtol, atol=rtol * 1e-3)
    exact = np.exp(-t)[:, None] * np.array([1.0, -2.0])
    assert y.shape == (9, 2)
    np.testing.assert_allclose(y, exact, rtol=50 * rtol, atol=1e-14)


def test_harmonic_oscillator_energy_and_solution():
    def oscillator(y, t, w):
        return np.stack([y[1], -w * w * y[0]])

    t = np.linspace(0.0, 10.0, 11)
    y = odeint(oscillator, np.array([1.0, 0.0]), t, args=(2.0,), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(y[:, 0], np.cos(2.0 * t), atol=1e-7)


def test_gradients_through_the_solver():
    t = np.array([0.0, 1.0])
    g = mc.grad(lambda y0: odeint(decay, y0, t, rtol=1e-10, atol=1e-12)[-1].sum())(
        np.array([2.0]))
    np.testing.assert_allclose(g, [np.exp(-1.0)], rtol=1e-9)

    def final(k):
        return odeint(lambda y, s, k: -k * y, np.array([1.0]), t, args=(k,), method="rk4",
                      steps_per_interval=50)[-1, 0]

    # the discrete solution's derivative: the exact one up to RK4's O(h⁴) error
    np.testing.assert_allclose(mc.grad(final)(1.5), -np.exp(-1.5), rtol=1e-6)
    check_grads(lambda y0: odeint(lambda y, s: np.sin(y) - 0.5 * y, y0, np.array([0.0, 0.5]),
                                  method="heun", steps_per_interval=4), (np.array([0.3, -1.2]),),
                order=2)


def test_errors():
    with pytest.raises(ValueError, match="known methods"):
        odeint(decay, np.ones(1), np.array([0.0, 1.0]), method="rk9")
    with pytest.raises(ValueError, match="increasing"):
        odeint(decay, np.ones(1), np.array([1.0, 0.0]))


def test_adjoint_gradients_match_direct_ones_and_finite_differences():
    from mlcalc.ode import odeint_adjoint

    def damped(y, t, k):
        return np.stack([y[1], -k * y[0] - 0.1 * y[1]])

    t = np.linspace(0.0, 3.0, 4)
    y0 = np.array([1.0, 0.0])

    def loss(solver):
        return lambda y0, k: np.sum(solver(damped, y0, t, args=(k,), rtol=1e-10,
                                           atol=1e-12) ** 2)

    direct = mc.grad(loss(odeint), argnums=(0, 1))(y0, 2.0)
    adjoint = mc.grad(loss(odeint_adjoint), argnums=(0, 1))(y0, 2.0)
    np.testing.assert_allclose(adjoint[0], direct[0], rtol=1e-7)
    np.testing.assert_allclose(adjoint[1], direct[1], rtol=1e-7)
    eps = 1e-6
    fd = (loss(odeint)(y0, 2.0 + eps) - loss(odeint)(y0, 2.0 - eps)) / (2 * eps)
    np.testing.assert_allclose(adjoint[1], fd, rtol=1e-6)
