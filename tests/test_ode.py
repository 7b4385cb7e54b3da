"""mlcalc.ode: the orders of the methods on y' = −y, the adaptive solver's accuracy,
derivatives through the solver and by the adjoint method against closed forms and
finite differences, and the change of variables for maps and flows against the
densities of pushed-forward Gaussians."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from scipy.linalg import expm

import mlcalc as mc
from mlcalc.ode import (
    dormand_prince_step,
    log_det_jacobian,
    log_det_jacobian_flow,
    odeint,
)
from mlcalc.testing import check_grads


def decay(y, t):
    return -y


def slope(hs, errors) -> float:
    return float(np.polyfit(np.log(hs), np.log(errors), 1)[0])


# ---------------------------------------------------------------------------------
# solvers


@pytest.mark.parametrize("method,order", [("euler", 1), ("heun", 2), ("rk4", 4)])
def test_fixed_step_orders(method, order):
    ns = [8, 16, 32, 64]
    errors = [abs(odeint(decay, np.array([1.0]), np.array([0.0, 1.0]), method=method,
                         steps_per_interval=n)[-1, 0] - np.exp(-1)) for n in ns]
    assert abs(slope([1 / n for n in ns], errors) - order) < 0.1


def test_dormand_prince_is_fifth_order():
    # the global error of fixed Dormand–Prince steps (no step-size control) at t = 1
    ns = [4, 8, 16, 32]
    errors = []
    for n in ns:
        y, h = np.array([1.0]), 1.0 / n
        for k in range(n):
            y, _ = dormand_prince_step(decay, y, k * h, h)
        errors.append(abs(y[0] - np.exp(-1)))
    assert abs(slope([1 / n for n in ns], errors) - 5) < 0.25


def test_embedded_error_estimate_is_fourth_order_locally():
    # one step: y5 − y4 = O(h⁵) (the 4th-order solution's local error)
    hs = [0.2, 0.1, 0.05, 0.025]
    errs = [abs(dormand_prince_step(decay, np.array([1.0]), 0.0, h)[1][0]) for h in hs]
    assert abs(slope(hs, errs) - 5) < 0.2


@pytest.mark.parametrize("rtol", [1e-4, 1e-7, 1e-10])
def test_adaptive_solver_meets_its_tolerance(rtol):
    t = np.linspace(0.0, 2.0, 9)
    y = odeint(decay, np.array([1.0, -2.0]), t, rtol=rtol, atol=rtol * 1e-3)
    exact = np.exp(-t)[:, None] * np.array([1.0, -2.0])
    assert y.shape == (9, 2)
    np.testing.assert_allclose(y, exact, rtol=50 * rtol, atol=1e-14)


def test_adaptive_error_falls_with_the_tolerance():
    # for a 5th-order method with error-per-step control, error ∝ tol (about) — at least
    # it falls by orders of magnitude over 6 decades of tolerance
    t = np.array([0.0, 1.0])
    errors = [abs(odeint(decay, np.array([1.0]), t, rtol=r, atol=1e-16)[-1, 0] - np.exp(-1))
              for r in (1e-4, 1e-6, 1e-8, 1e-10)]
    assert all(b < a for a, b in zip(errors, errors[1:]))
    assert errors[-1] < 1e-10


def test_harmonic_oscillator_and_pytree_state():
    def oscillator(y, t, w):
        return np.stack([y[1], -w * w * y[0]])

    t = np.linspace(0.0, 10.0, 11)
    y = odeint(oscillator, np.array([1.0, 0.0]), t, args=(2.0,), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(y[:, 0], np.cos(2.0 * t), atol=1e-7)

    def as_tree(s, t, w):
        return {"q": s["p"], "p": -w * w * s["q"]}

    sol = odeint(as_tree, {"q": np.array(1.0), "p": np.array(0.0)}, t, args=(2.0,),
                 rtol=1e-10, atol=1e-12)
    assert sol["q"].shape == (11,)
    np.testing.assert_allclose(sol["q"], np.cos(2.0 * t), atol=1e-7)
    np.testing.assert_allclose(sol["p"], -2.0 * np.sin(2.0 * t), atol=1e-7)


def test_matrix_state_keeps_its_shape():
    a = np.array([[0.0, 1.0], [-1.0, 0.0]])
    t = np.array([0.0, 0.5, 1.0])
    y = odeint(lambda m, s: a @ m, np.eye(2), t, method="rk4", steps_per_interval=20)
    assert y.shape == (3, 2, 2)
    np.testing.assert_allclose(y[-1], expm(a), atol=1e-7)


# ---------------------------------------------------------------------------------
# derivatives


def test_gradients_through_the_solver():
    t = np.array([0.0, 1.0])
    # y(1) = y0·e^{−1}: d y(1)/d y0 = e^{−1}
    g = mc.grad(lambda y0: odeint(decay, y0, t, rtol=1e-10, atol=1e-12)[-1].sum())(
        np.array([2.0]))
    np.testing.assert_allclose(g, [np.exp(-1.0)], rtol=1e-9)

    def final(k):
        return odeint(lambda y, s, k: -k * y, np.array([1.0]), t, args=(k,), method="rk4",
                      steps_per_interval=50)[-1, 0]

    # d/dk e^{−k} = −e^{−k}, up to RK4's O(h⁴) error
    np.testing.assert_allclose(mc.grad(final)(1.5), -np.exp(-1.5), rtol=1e-6)
    check_grads(lambda y0: odeint(lambda y, s: np.sin(y) - 0.5 * y, y0, np.array([0.0, 0.5]),
                                  method="heun", steps_per_interval=4), (np.array([0.3, -1.2]),),
                order=2)


def damped(y, t, k):
    return np.stack([y[1], -k * y[0] - 0.1 * y[1] + 0.2 * np.sin(t)])


@pytest.mark.parametrize("method,kw", [("rk45", {}), ("rk4", {"steps_per_interval": 200})])
def test_adjoint_gradients_match_direct_ones_and_finite_differences(method, kw):
    t = np.linspace(0.0, 3.0, 4)
    y0 = np.array([1.0, 0.0])

    def loss(adjoint):
        return lambda y0, k: np.sum(odeint(damped, y0, t, args=(k,), method=method,
                                           rtol=1e-10, atol=1e-12, adjoint=adjoint, **kw) ** 2)

    direct = mc.grad(loss(False), argnums=(0, 1))(y0, 2.0)
    adjoint = mc.grad(loss(True), argnums=(0, 1))(y0, 2.0)
    np.testing.assert_allclose(adjoint[0], direct[0], rtol=1e-7)
    np.testing.assert_allclose(adjoint[1], direct[1], rtol=1e-7)
    eps = 1e-6
    f = loss(False)
    fd_k = (f(y0, 2.0 + eps) - f(y0, 2.0 - eps)) / (2 * eps)
    fd_y = [(f(y0 + eps * e, 2.0) - f(y0 - eps * e, 2.0)) / (2 * eps) for e in np.eye(2)]
    np.testing.assert_allclose(adjoint[1], fd_k, rtol=1e-6)
    np.testing.assert_allclose(adjoint[0], fd_y, rtol=1e-6)


def test_adjoint_with_pytree_parameters_and_closed_form():
    # y' = −k·y + b: y(T) = y0 e^{−kT} + b(1 − e^{−kT})/k
    def f(y, t, p):
        return -p["k"] * y + p["b"]

    t = np.array([0.0, 2.0])
    params = {"k": np.array(0.7), "b": np.array([0.3, -0.1])}
    y0 = np.array([1.0, 2.0])

    def final(y0, p):
        return np.sum(odeint(f, y0, t, args=(p,), rtol=1e-11, atol=1e-13, adjoint=True)[-1])

    g_y0, g_p = mc.grad(final, argnums=(0, 1))(y0, params)
    k, b, big_t = 0.7, params["b"], 2.0
    e = np.exp(-k * big_t)
    np.testing.assert_allclose(g_y0, [e, e], rtol=1e-8)
    np.testing.assert_allclose(g_p["b"], [(1 - e) / k] * 2, rtol=1e-8)
    dk = np.sum(-big_t * y0 * e + b * (big_t * e * k - (1 - e)) / k ** 2)
    np.testing.assert_allclose(g_p["k"], dk, rtol=1e-8)


def test_errors():
    with pytest.raises(ValueError, match="known methods"):
        odeint(decay, np.ones(1), np.array([0.0, 1.0]), method="rk9")
    with pytest.raises(ValueError, match="increasing"):
        odeint(decay, np.ones(1), np.array([1.0, 0.0]))
    with pytest.raises(ValueError, match=r"\(2,\).*\(3,\)"):
        odeint(lambda y, t: np.ones(3), np.ones(2), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="steps_per_interval"):
        odeint(decay, np.ones(1), np.array([0.0, 1.0]), method="rk4", steps_per_interval=0)


# ---------------------------------------------------------------------------------
# change of variables


def test_linear_flow_log_det_and_pushed_forward_gaussian_density():
    # dy/dt = A y: y(T) = e^{AT} x, log det = tr(A)·T; x ~ N(0, I) pushes forward to
    # N(0, M Mᵀ), M = e^{AT}
    a = np.array([[0.1, 1.0], [-0.5, -0.3]])
    big_t = 1.5
    x = np.array([0.3, -0.8])
    res = log_det_jacobian_flow(lambda y, t: a @ y, x, 0.0, big_t)
    np.testing.assert_allclose(res.value, np.trace(a) * big_t, rtol=1e-9)
    m = expm(a * big_t)
    np.testing.assert_allclose(res.y1, m @ x, rtol=1e-7)
    log_p1 = stats.multivariate_normal(np.zeros(2), m @ m.T).logpdf(res.y1)
    log_p0 = stats.multivariate_normal(np.zeros(2), np.eye(2)).logpdf(x)
    np.testing.assert_allclose(log_p0 - res.value, log_p1, rtol=1e-8)
    # the inverse flow (t1 < t0) has the opposite log-det and maps back
    back = log_det_jacobian_flow(lambda y, t: a @ y, res.y1, big_t, 0.0)
    np.testing.assert_allclose(back.value, -res.value, rtol=1e-9)
    np.testing.assert_allclose(back.y1, x, atol=1e-7)


def test_hutchinson_flow_estimate_covers_the_exact_trace():
    a = np.array([[0.1, 1.0], [-0.5, -0.3]])
    res = log_det_jacobian_flow(lambda y, t: a @ y, np.array([[0.3, -0.8], [1.0, 0.5]]),
                                0.0, 1.5, method="hutchinson", n_samples=64, seed=0)
    assert res.value.shape == (2,) and res.n_samples == 64
    assert np.all(res.std_error > 0)
    assert np.all(np.abs(res.value - np.trace(a) * 1.5) <= 4 * res.std_error)
    # for a diagonal Jacobian Rademacher probes are exact: εᵀDε = tr D
    diag = log_det_jacobian_flow(lambda y, t: np.array([-1.0, 0.5]) * y, np.ones(2), 0.0, 2.0,
                                 method="hutchinson", n_samples=4, seed=1)
    np.testing.assert_allclose(diag.value, -1.0, rtol=1e-9)
    assert diag.std_error < 1e-9


def test_nonlinear_flow_against_its_closed_form_density():
    # y' = −y³: y(T) = x/√(1 + 2x²T), dy(T)/dx = (1 + 2x²T)^{−3/2}; x ~ N(0, 1) pushes
    # forward to p(y) = φ(x(y))·(1 − 2y²T)^{−3/2} with x(y) = y/√(1 − 2y²T)
    big_t, x = 0.8, np.array([0.9])
    res = log_det_jacobian_flow(lambda y, t: -y ** 3, x, 0.0, big_t, rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(res.value, -1.5 * np.log1p(2 * x[0] ** 2 * big_t), rtol=1e-8)
    y = res.y1[0]
    log_p1 = stats.norm.logpdf(y / np.sqrt(1 - 2 * y ** 2 * big_t)) - 1.5 * np.log(
        1 - 2 * y ** 2 * big_t)
    np.testing.assert_allclose(stats.norm.logpdf(x[0]) - res.value, log_p1, rtol=1e-8)


def test_flow_trace_integral_equals_slogdet_of_the_flow_map():
    # Liouville: ∫ tr ∂f/∂y dt = log|det ∂φ_T/∂y0| with φ_T differentiated by the engine
    def f(y, t):
        return np.stack([y[1] - 0.3 * y[0] ** 3, -np.sin(y[0]) - 0.2 * y[1] * y[0] ** 2])

    y0 = np.array([0.7, -0.4])

    def flow_map(y):
        return odeint(f, y, np.array([0.0, 1.2]), rtol=1e-11, atol=1e-13)[-1]

    exact = log_det_jacobian(flow_map, y0)
    assert exact.sign == 1.0
    by_trace = log_det_jacobian_flow(f, y0, 0.0, 1.2, rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(by_trace.value, exact.value, rtol=1e-7)
    hutch = log_det_jacobian_flow(f, y0, 0.0, 1.2, method="hutchinson", n_samples=32, seed=3)
    assert abs(hutch.value - exact.value) <= 4 * hutch.std_error


def test_nonlinear_map_against_pushed_forward_density():
    # φ(x) = (e^{x1}, x2 + x1²) pushes N(0, I) to y1 ~ lognormal, y2 | y1 ~ N((log y1)², 1)
    def phi(x):
        return np.stack([np.exp(x[0]), x[1] + x[0] ** 2])

    xs = np.array([[0.3, -0.5], [-1.2, 0.7], [0.0, 2.0]])
    res = log_det_jacobian(phi, xs)
    assert res.value.shape == (3,)
    np.testing.assert_allclose(res.value, xs[:, 0], rtol=1e-12)  # det = e^{x1}
    ys = np.array([phi(x) for x in xs])
    log_p1 = stats.lognorm(s=1.0).logpdf(ys[:, 0]) + stats.norm.logpdf(
        ys[:, 1] - np.log(ys[:, 0]) ** 2)
    log_p0 = stats.multivariate_normal(np.zeros(2), np.eye(2)).logpdf(xs)
    np.testing.assert_allclose(log_p0 - res.value, log_p1, rtol=1e-10)


def test_hutchinson_power_series_for_a_residual_map():
    w = np.array([[0.4, 0.5, 0.0], [-0.3, 0.2, 0.4], [0.1, -0.4, 0.3]])

    def phi(x):  # x + g(x) with Lip(g) ≤ 0.8·‖W‖₂ < 1
        return x + 0.8 * np.tanh(w @ x)

    x = np.array([0.2, -0.6, 0.9])
    exact = log_det_jacobian(phi, x)
    est = log_det_jacobian(phi, x, method="hutchinson", n_samples=200, n_terms=40, seed=0)
    assert est.std_error > 0
    assert abs(est.value - exact.value) <= 4 * est.std_error
    with pytest.raises(ValueError, match="known methods"):
        log_det_jacobian(phi, x, method="series")
    with pytest.raises(ValueError, match=r"shape \(3,\).*\(2, 3\)"):
        log_det_jacobian(lambda v: v[:2], x)
