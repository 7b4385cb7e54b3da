"""custom_fixed_point on a deep-equilibrium layer z = tanh(W z + U x + b): against the
unrolled solver run to convergence, finite differences, and the closed form of a linear
fixed point."""

import numpy as np
import pytest

import mlcalc as mc
from mlcalc.implicit import custom_fixed_point, fixed_point_iteration
from mlcalc.testing import check_grads

RNG = np.random.default_rng(7)
D, K = 6, 3
_W = RNG.normal(size=(D, D))
W0 = 0.5 * _W / np.linalg.norm(_W, 2)  # ‖W‖₂ = 0.5 and tanh' ≤ 1: a contraction
U0 = RNG.normal(size=(D, K)) / np.sqrt(K)
B0 = 0.1 * RNG.normal(size=D)
X0 = RNG.normal(size=K)
TARGET = RNG.normal(size=D)


def cell(z, W, U, b, x):
    return np.tanh(W @ z + U @ x + b)


@custom_fixed_point(cell)
def deq(init, W, U, b, x):
    return fixed_point_iteration(cell, init, W, U, b, x, tol=1e-14)


def unrolled(W, U, b, x, steps=80):
    z = np.zeros(D)
    for _ in range(steps):  # 0.5⁸⁰ ≈ 1e-24: converged
        z = cell(z, W, U, b, x)
    return z


def loss(z):
    return np.sum((z - TARGET) ** 2) + np.sum(np.sin(z))


ARGS = (W0, U0, B0, X0)


def test_the_equilibrium_is_a_fixed_point():
    z = deq(np.zeros(D), *ARGS)
    np.testing.assert_allclose(z, cell(z, *ARGS), atol=1e-14)
    np.testing.assert_allclose(z, unrolled(*ARGS), atol=1e-13)


def test_gradients_match_the_unrolled_solver():
    g_implicit = mc.grad(lambda *a: loss(deq(np.zeros(D), *a)), argnums=(0, 1, 2, 3))(*ARGS)
    g_unrolled = mc.grad(lambda *a: loss(unrolled(*a)), argnums=(0, 1, 2, 3))(*ARGS)
    for gi, gu in zip(g_implicit, g_unrolled):
        np.testing.assert_allclose(gi, gu, rtol=1e-9, atol=1e-12)


def test_forward_mode_matches_the_unrolled_solver():
    tangents = tuple(RNG.normal(size=np.shape(a)) for a in ARGS)
    _, t_implicit = mc.jvp(lambda *a: deq(np.zeros(D), *a), ARGS, tangents)
    _, t_unrolled = mc.jvp(unrolled, ARGS, tangents)
    np.testing.assert_allclose(t_implicit, t_unrolled, rtol=1e-9, atol=1e-12)


def test_derivatives_against_finite_differences():
    check_grads(lambda *a: deq(np.zeros(D), *a), ARGS, order=1, eps=1e-6, rtol=1e-6,
                atol=1e-7)
    # second order through the input x only (keeps the test fast)
    check_grads(lambda x: loss(deq(np.zeros(D), W0, U0, B0, x)), (X0,), order=2,
                rtol=1e-5, atol=1e-6)


def test_hessians_match_the_unrolled_solver():
    h_implicit = mc.hessian(lambda x: loss(deq(np.zeros(D), W0, U0, B0, x)))(X0)
    h_unrolled = mc.hessian(lambda x: loss(unrolled(W0, U0, B0, x)))(X0)
    np.testing.assert_allclose(h_implicit, h_unrolled, rtol=1e-8, atol=1e-11)
    h_implicit = mc.hessian(lambda W: loss(deq(np.zeros(D), W, U0, B0, X0)))(W0)
    h_unrolled = mc.hessian(lambda W: loss(unrolled(W, U0, B0, X0)))(W0)
    assert h_implicit.shape == (D, D, D, D)
    np.testing.assert_allclose(h_implicit, h_unrolled, rtol=1e-8, atol=1e-11)


def test_linear_fixed_point_closed_form():
    # x = M x + θ  ⇒  x = (I − M)⁻¹ θ,  ∂x/∂θ = (I − M)⁻¹
    M = 0.4 * W0

    @custom_fixed_point(lambda x, t: M @ x + t, solve="bicgstab")
    def solve(init, t):
        return fixed_point_iteration(lambda x, t: M @ x + t, init, t)

    theta = RNG.normal(size=D)
    J = mc.jacrev(lambda t: solve(np.zeros(D), t))(theta)
    # the solve stops at a relative residual of 1e-10
    np.testing.assert_allclose(J, np.linalg.inv(np.eye(D) - M), rtol=1e-9, atol=1e-9)


def test_fixed_point_iteration_reports_divergence():
    with pytest.raises(RuntimeError, match="no convergence"):
        fixed_point_iteration(lambda x: 2.0 * x + 1.0, np.zeros(2), maxiter=50)


def test_a_batch_of_inputs_under_vmap():
    xs = RNG.normal(size=(3, K))

    def batch_loss(W, deq_or_unrolled):
        zs = mc.vmap(lambda x: deq_or_unrolled(W, x))(xs)
        return np.sum(np.stack([loss(z) for z in zs]))

    implicit = mc.grad(lambda W: batch_loss(W, lambda W, x: deq(np.zeros(D), W, U0, B0, x)))
    unroll = mc.grad(lambda W: batch_loss(W, lambda W, x: unrolled(W, U0, B0, x)))
    np.testing.assert_allclose(implicit(W0), unroll(W0), rtol=1e-9, atol=1e-12)
