"""check_grad: AD against Richardson-extrapolated finite differences, with an honest
error estimate, catching wrong custom rules and naming the wrong component."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import mlcalc as mc
from mlcalc.calculus.checking import CheckGradResult, check_grad

# (f, closed-form gradient of the sum, closed-form Hessian diagonal) for elementwise sums
SMOOTH = {
    "sin": (lambda x: np.sum(np.sin(x)), np.cos, lambda x: -np.sin(x)),
    "exp_x2": (
        lambda x: np.sum(np.exp(x) * x**2),
        lambda x: np.exp(x) * (x**2 + 2 * x),
        lambda x: np.exp(x) * (x**2 + 4 * x + 2),
    ),
    "runge": (
        lambda x: np.sum(1.0 / (1.0 + x**2)),
        lambda x: -2 * x / (1 + x**2) ** 2,
        lambda x: (6 * x**2 - 2) / (1 + x**2) ** 3,
    ),
    "log1p_x2": (  # rounding noise relative to 1, not to f: the noise estimate must see it
        lambda x: np.sum(np.log(1.0 + x**2)),
        lambda x: 2 * x / (1 + x**2),
        lambda x: 2 * (1 - x**2) / (1 + x**2) ** 2,
    ),
}
POINTS = [np.array([0.3, -1.2, 2.5]), np.array([0.02, 0.004, -0.05]),
          np.array([-4.0, 7.5, 0.9]), np.array([12.0, -30.0, 1e-3])]


def _mlp_loss(params, x, y):
    h = np.tanh(x @ params["W1"] + params["b1"])
    pred = h @ params["W2"] + params["b2"]
    return np.mean((pred - y) ** 2)


def _mlp_setup(seed=0):
    rng = np.random.default_rng(seed)
    params = {
        "W1": rng.standard_normal((3, 4)) * 0.7,
        "b1": rng.standard_normal(4) * 0.1,
        "W2": rng.standard_normal((4, 2)) * 0.7,
        "b2": rng.standard_normal(2) * 0.1,
    }
    x, y = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    return params, x, y


def _mlp_grad_by_hand(params, x, y):
    """Backpropagation written out: the closed form for the MLP loss."""
    a = x @ params["W1"] + params["b1"]
    h = np.tanh(a)
    pred = h @ params["W2"] + params["b2"]
    g_pred = 2 * (pred - y) / pred.size
    g_h = g_pred @ params["W2"].T
    g_a = g_h * (1 - h**2)
    grads = {"W1": x.T @ g_a, "b1": g_a.sum(0), "W2": h.T @ g_pred, "b2": g_pred.sum(0)}
    leaves, _ = mc.tree.flatten(grads)
    return np.concatenate([g.ravel() for g in leaves])


# ---------------------------------------------------------------------------------
# correct derivatives pass, and the estimate is honest


@pytest.mark.parametrize("name", SMOOTH)
@pytest.mark.parametrize("x", POINTS, ids=range(len(POINTS)))
def test_gradient_passes_and_error_estimate_is_honest(name, x):
    f, df, _ = SMOOTH[name]
    r = check_grad(f, x)
    assert r.ok, str(r)
    assert r.failed == ()
    true_err = np.abs(r.fd - df(x))
    assert np.all(true_err <= r.fd_error), (true_err, r.fd_error)
    # informative: the estimate resolves relative errors far below 1e-6
    assert np.all(r.fd_error <= 1e-9 * np.max(np.abs(df(x))) + 1e-13)


@pytest.mark.parametrize("mode", ["gradient", "function"])
@pytest.mark.parametrize("name", SMOOTH)
def test_hessian_passes_and_error_estimate_is_honest(name, mode):
    f, _, d2f = SMOOTH[name]
    for x in POINTS[:3]:
        r = check_grad(f, x, order=2, hessian_fd=mode)
        assert r.ok, str(r)
        assert r.ad.shape == r.fd.shape == (3, 3)
        true_err = np.abs(r.fd - np.diag(d2f(x)))
        assert np.all(true_err <= r.fd_error), (mode, x, true_err, r.fd_error)
        assert np.all(r.fd_error <= 1e-5 * np.max(np.abs(d2f(x))) + 1e-9)


def test_closed_form_hessian_of_quadratic():
    f = lambda v: v[0] ** 2 + 3 * v[1] ** 2 - v[0] * v[1]  # noqa: E731
    for mode in ("gradient", "function"):
        r = check_grad(f, np.array([0.7, -0.2]), order=2, hessian_fd=mode)
        assert r.ok
        np.testing.assert_allclose(r.fd, [[2.0, -1.0], [-1.0, 6.0]], atol=1e-8)
        assert np.all(np.abs(r.fd - [[2.0, -1.0], [-1.0, 6.0]]) <= r.fd_error)


def test_scalar_x_and_jacobian_of_vector_function():
    r = check_grad(lambda t: np.exp(t) * t**2, 0.8)
    assert r.ok and r.ad.shape == () and abs(r.fd - np.exp(0.8) * (0.64 + 1.6)) <= r.fd_error

    def g(v):
        return np.stack([np.sin(v[0]) * v[1], np.exp(v[1] - v[2]), v[0] * v[1] * v[2]])

    v = np.array([0.4, -1.1, 0.6])
    J = np.array([
        [np.cos(v[0]) * v[1], np.sin(v[0]), 0.0],
        [0.0, np.exp(v[1] - v[2]), -np.exp(v[1] - v[2])],
        [v[1] * v[2], v[0] * v[2], v[0] * v[1]],
    ])
    r = check_grad(g, v)
    assert r.ok and r.ad.shape == (3, 3)
    assert np.all(np.abs(r.fd - J) <= r.fd_error)
    r2 = check_grad(g, v, order=2)
    assert r2.ok and r2.ad.shape == (3, 3, 3)


def test_small_mlp_pytree_parameters():
    params, x, y = _mlp_setup()
    loss = lambda p: _mlp_loss(p, x, y)  # noqa: E731
    r = check_grad(loss, params)
    n = 3 * 4 + 4 + 4 * 2 + 2
    assert r.ok, str(r)
    assert r.ad.shape == (n,)  # flattened in mc.tree.flatten's leaf order
    exact = _mlp_grad_by_hand(params, x, y)
    np.testing.assert_allclose(r.ad, exact, rtol=1e-12, atol=1e-14)
    assert np.all(np.abs(r.fd - exact) <= r.fd_error)
    r2 = check_grad(loss, params, order=2)
    assert r2.ok and r2.ad.shape == (n, n)


def test_function_undefined_at_large_steps():
    # log at 0.1: the largest steps leave the domain (NaN); the smaller ones still serve
    r = check_grad(lambda t: np.sum(np.log(t)), np.array([0.1, 0.05]))
    assert r.ok
    assert np.all(np.abs(r.fd - 1 / np.array([0.1, 0.05])) <= r.fd_error)


# ---------------------------------------------------------------------------------
# wrong rules are caught, with the component named


def _three_term(v):
    return v[0] ** 2 + np.sin(v[1]) + v[2] * v[0]


def _with_rule(factor_on_sin: float):
    @mc.custom_jvp
    def f(v):
        return _three_term(v)

    @f.defjvp
    def f_jvp(primals, tangents):
        (v,), (t,) = primals, tangents
        dv = (2 * v[0] + v[2]) * t[0] + factor_on_sin * np.cos(v[1]) * t[1] + v[0] * t[2]
        return f(v), dv

    return f


def test_correct_custom_jvp_passes():
    r = check_grad(_with_rule(1.0), np.array([0.5, 1.0, -2.0]))
    assert r.ok and r.failed == ()


def test_custom_jvp_off_by_one_percent_is_caught_and_located():
    v = np.array([0.5, 1.0, -2.0])
    r = check_grad(_with_rule(1.01), v)
    assert not r.ok
    assert r.failed == ((1,),)
    np.testing.assert_allclose(r.ad[1], 1.01 * np.cos(1.0), rtol=1e-14)
    np.testing.assert_allclose(r.rel_discrepancy[1], 0.01 / 1.01, rtol=1e-6)
    assert r.abs_discrepancy[1] > r.allowed[1]
    assert "FAILED" in str(r) and "(1,)" in str(r)


def test_wrong_jacobian_entry_is_located():
    @mc.custom_jvp
    def g(v):
        return np.stack([v[0] * v[1], np.exp(v[1])])

    @g.defjvp
    def g_jvp(primals, tangents):
        (v,), (t,) = primals, tangents
        row0 = v[1] * t[0] + v[0] * t[1]
        row1 = 0.99 * np.exp(v[1]) * t[1]  # ∂g₁/∂v₁ off by 1 %
        return g(v), np.stack([row0, row1])

    r = check_grad(g, np.array([0.3, 0.8]))
    assert not r.ok and r.failed == ((1, 1),)


def test_wrong_custom_vjp_is_caught():
    @mc.custom_vjp
    def h(v):
        return np.sum(np.tanh(v))

    def h_fwd(v):
        return h(v), v

    def h_bwd(v, g):
        d = 1 - np.tanh(v) ** 2
        d = d * np.array([1.0, 1.0, 1.01, 1.0])
        return (g * d,)

    h.defvjp(h_fwd, h_bwd)
    r = check_grad(h, np.array([0.1, -0.4, 0.7, 1.3]))
    assert not r.ok and r.failed == ((2,),)


def test_second_order_catches_rule_with_wrong_derivative():
    # first-order values right, but the rule's own derivative is wrong (stop_gradient)
    @mc.custom_jvp
    def s(v):
        return np.sum(np.sin(v))

    @s.defjvp
    def s_jvp(primals, tangents):
        (v,), (t,) = primals, tangents
        return s(v), np.sum(np.cos(mc.stop_gradient(v)) * t)

    v = np.array([0.4, 1.1])
    assert check_grad(s, v).ok
    for mode in ("gradient", "function"):
        r2 = check_grad(s, v, order=2, hessian_fd=mode)
        assert not r2.ok and set(r2.failed) == {(0, 0), (1, 1)}


# ---------------------------------------------------------------------------------
# result and errors


def test_result_is_frozen_and_counts_evaluations():
    r = check_grad(np.sin, np.array([0.1, 0.2]), num_steps=6)
    assert isinstance(r, CheckGradResult)
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.ok = False  # type: ignore[misc]
    assert r.n_evaluations == 2 * 6 * 2 + 9


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"order": 3}, "order must be 1 or 2"),
        ({"hessian_fd": "fd"}, "hessian_fd"),
        ({"num_steps": 2}, "num_steps"),
        ({"step_ratio": 1.0}, "step_ratio"),
        ({"rtol": -1.0}, ">= 0"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        check_grad(np.sin, np.array([0.1]), **kwargs)


def test_bad_inputs():
    with pytest.raises(ValueError, match="empty"):
        check_grad(np.sum, np.zeros(0))
    with pytest.raises(TypeError, match="must return"):
        check_grad(lambda v: {"a": v}, np.ones(2))
    with pytest.raises(TypeError, match="real"):
        check_grad(np.sum, np.array(["a"]))
