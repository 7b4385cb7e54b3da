"""mlcalc.calculus.taylor: Taylor models of any order, multivariate and vector-valued,
against closed-form derivatives, exactness on polynomials, and the O(‖h‖^(k+1)) rate
of the remainder."""

from __future__ import annotations

import math

import numpy as np
import pytest

import mlcalc as mc
from mlcalc.calculus import TaylorModel, taylor

rng = np.random.default_rng(44)


def exp_sin(v):
    return np.exp(v[0]) * np.sin(v[1])


# a 2-4-1 tanh MLP as a function of a 2-vector, fixed random weights
W1 = rng.standard_normal((4, 2))
B1 = rng.standard_normal(4)
W2 = rng.standard_normal(4)
B2 = 0.1


def mlp(v):
    return np.tanh(W1 @ v + B1) @ W2 + B2


X0 = np.array([0.3, -0.7])
DIRECTIONS = [np.array([0.6, 0.8]), np.array([1.0, 0.0]), np.array([-0.28, 0.96])]


@pytest.mark.parametrize("f", [exp_sin, mlp], ids=["exp_sin", "mlp"])
@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_remainder_shrinks_at_order_k_plus_1(f, k):
    T = taylor(f, X0, order=k)
    hs = 2.0 ** -np.arange(3, 9)  # h = 2^-3 … 2^-8: asymptotic, above rounding
    for u in DIRECTIONS:
        pts = X0 + hs[:, None] * u
        err = np.abs(np.array([f(p) for p in pts]) - T(pts))
        slope = np.polyfit(np.log(hs), np.log(err), 1)[0]
        assert abs(slope - (k + 1)) < 0.3, (u, slope)


def test_exp_sin_coefficients_closed_form():
    # ∂^a_x ∂^b_y e^x sin y = e^x sin^(b)(y), sin^(b)(y) = sin(y + bπ/2)
    x, y = X0
    T = taylor(exp_sin, X0, order=4)
    for j, D in enumerate(T.coefficients):
        assert D.shape == (2,) * j
        for idx in np.ndindex(*D.shape):
            b = sum(idx)  # number of y-derivatives (index 1)
            assert D[idx] == pytest.approx(np.exp(x) * np.sin(y + b * np.pi / 2), rel=1e-13)
    poly = T.polynomial()
    assert len(poly) == 15  # monomials in 2 variables of degree ≤ 4
    for (a, b), c in poly.items():
        expected = np.exp(x) * np.sin(y + b * np.pi / 2) / (math.factorial(a) * math.factorial(b))
        assert c == pytest.approx(expected, rel=1e-13)


@pytest.mark.parametrize("k", [0, 1, 2, 3, 4])
def test_polynomials_of_degree_k_are_exact(k):
    c = rng.standard_normal(15)
    terms = [(a, b) for a in range(k + 1) for b in range(k + 1 - a)]

    def p(v):
        return sum(ci * v[0] ** a * v[1] ** b for ci, (a, b) in zip(c, terms))

    x0 = rng.standard_normal(2)
    pts = rng.uniform(-3, 3, size=(6, 2))
    exact = np.array([p(q) for q in pts])
    for order in (k, k + 1):
        T = taylor(p, x0, order=order)
        np.testing.assert_allclose(T(pts), exact, rtol=1e-11, atol=1e-11)
    if k > 0:  # one order lower misses the top-degree terms
        assert np.max(np.abs(taylor(p, x0, order=k - 1)(pts) - exact)) > 1e-3


def test_univariate_exp_series():
    T = taylor(np.exp, 0.0, order=6)
    assert T.point.shape == ()
    np.testing.assert_allclose([float(D) for D in T.coefficients], np.ones(7), rtol=1e-15)
    assert T(1.0) == pytest.approx(sum(1 / math.factorial(j) for j in range(7)), rel=1e-15)
    np.testing.assert_allclose(
        T(np.array([0.5, -1.0])),
        [sum(h**j / math.factorial(j) for j in range(7)) for h in (0.5, -1.0)],
        rtol=1e-15,
    )


def test_vector_valued_polar_map():
    # (r, θ) ↦ (r cos θ, r sin θ): ∂²/∂r² = 0, ∂²/∂r∂θ = (−sin θ, cos θ),
    # ∂²/∂θ² = (−r cos θ, −r sin θ)
    def polar(z):
        return np.stack([z[0] * np.cos(z[1]), z[0] * np.sin(z[1])])

    r, t = 2.0, 0.5
    T = taylor(polar, [r, t], order=2)
    D2 = T.coefficients[2]
    assert D2.shape == (2, 2, 2)
    np.testing.assert_allclose(D2[:, 0, 0], [0.0, 0.0], atol=1e-15)
    np.testing.assert_allclose(D2[:, 0, 1], [-np.sin(t), np.cos(t)], rtol=1e-14)
    np.testing.assert_allclose(D2[:, 1, 0], [-np.sin(t), np.cos(t)], rtol=1e-14)
    np.testing.assert_allclose(D2[:, 1, 1], [-r * np.cos(t), -r * np.sin(t)], rtol=1e-14)
    pts = np.array([r, t]) + 1e-2 * rng.standard_normal((4, 2))
    out = T(pts)
    assert out.shape == (4, 2)
    for q, o in zip(pts, out):
        np.testing.assert_allclose(o, T(q), rtol=1e-15)
        np.testing.assert_allclose(o, polar(q), atol=1e-5)
    # each output component is the Taylor model of that component
    T0 = taylor(lambda z: polar(z)[0], [r, t], order=2)
    np.testing.assert_allclose(out[:, 0], T0(pts), rtol=1e-14)


def test_matrix_shaped_point():
    # f(A) = Σ A³ entrywise is a cubic: the order-3 model is exact, D² = diag(6A)
    A0 = rng.standard_normal((2, 3))
    f = lambda A: np.sum(A**3)  # noqa: E731
    T = taylor(f, A0, order=3)
    assert T.coefficients[2].shape == (2, 3, 2, 3)
    np.testing.assert_allclose(
        T.coefficients[2].reshape(6, 6), np.diag(6 * A0.ravel()), atol=1e-14
    )
    A = rng.standard_normal((2, 3))
    assert T(A) == pytest.approx(f(A), rel=1e-12)
    assert T(np.stack([A, A0])).shape == (2,)


def test_model_is_differentiable():
    T = taylor(exp_sin, X0, order=3)
    assert isinstance(T, TaylorModel) and T.order == 3
    np.testing.assert_allclose(mc.grad(T)(X0), T.coefficients[1], rtol=1e-14)
    np.testing.assert_allclose(mc.hessian(T)(X0), T.coefficients[2], rtol=1e-14)
    assert T.value == pytest.approx(exp_sin(X0), rel=1e-15)


def test_order_zero_is_the_constant():
    T = taylor(exp_sin, X0, order=0)
    np.testing.assert_allclose(T(np.ones((3, 2))), np.full(3, exp_sin(X0)))
    assert T.polynomial() == {(0, 0): pytest.approx(exp_sin(X0))}


def test_errors():
    with pytest.raises(ValueError, match="≥ 0"):
        taylor(exp_sin, X0, order=-1)
    with pytest.raises(TypeError, match="int"):
        taylor(exp_sin, X0, order=2.0)
    with pytest.raises(ValueError, match=r"\(3,\).*\(2,\)"):
        taylor(exp_sin, X0, order=2)(np.ones(3))
