"""mlcalc.calculus first and second order: partial and directional derivatives, the
gradient, Jacobian determinants, the chain rule for compositions, tangent-plane models,
curvature (Hessian spectrum, definiteness) and the Laplacian, against closed forms."""

from __future__ import annotations

import numpy as np
import pytest

import mlcalc as mc
from mlcalc.calculus import (
    Curvature,
    TangentModel,
    TotalDerivative,
    curvature,
    directional_derivative,
    gradient,
    jacobian,
    jacobian_det,
    laplacian,
    linearize,
    log_abs_det_jacobian,
    partial,
    total_derivative,
)

rng = np.random.default_rng(4)


def bowl(v):
    return v[0] ** 2 + v[1] ** 2


def polar(z):
    r, t = z[0], z[1]
    return np.stack([r * np.cos(t), r * np.sin(t)])


P = np.array([3.0, 4.0])


# -- gradient, partial and directional derivatives -----------------------------------


def test_gradient_of_bowl_at_3_4():
    g = gradient(bowl)(P)
    np.testing.assert_allclose(g, [6.0, 8.0], rtol=0, atol=1e-14)
    assert np.linalg.norm(g) == pytest.approx(10.0, abs=1e-14)


def test_gradient_is_the_grad_transform():
    f = lambda x, y: np.sum(np.sin(x) * y)  # noqa: E731
    x, y = rng.standard_normal(3), rng.standard_normal(3)
    gx, gy = gradient(f, argnums=(0, 1))(x, y)
    np.testing.assert_allclose(gx, np.cos(x) * y, rtol=1e-14)
    np.testing.assert_allclose(gy, np.sin(x), rtol=1e-14)
    (value, aux), _ = mc.value_and_grad(lambda x: (np.sum(x**2), 7), has_aux=True)(x)
    g, aux2 = gradient(lambda x: (np.sum(x**2), 7), has_aux=True)(x)
    np.testing.assert_allclose(g, 2 * x, rtol=1e-14)
    assert aux == aux2 == 7


def test_jacobian_is_the_engine_transform():
    assert jacobian is mc.jacobian
    np.testing.assert_allclose(
        jacobian(polar)(np.array([2.0, 0.5])),
        [[np.cos(0.5), -2 * np.sin(0.5)], [np.sin(0.5), 2 * np.cos(0.5)]],
        rtol=1e-14,
    )


def test_partial_derivatives_of_bowl():
    assert partial(bowl, 0)(P) == pytest.approx(6.0, abs=1e-14)
    assert partial(bowl, 1)(P) == pytest.approx(8.0, abs=1e-14)
    assert partial(bowl, -1)(P) == pytest.approx(8.0, abs=1e-14)


def test_partial_of_vector_function_is_a_jacobian_column():
    z = np.array([2.0, 0.5])
    np.testing.assert_allclose(partial(polar, 1)(z), [-2 * np.sin(0.5), 2 * np.cos(0.5)])
    np.testing.assert_allclose(partial(polar, 0)(z), [np.cos(0.5), np.sin(0.5)])


def test_partial_multi_index_and_scalar_input():
    A = np.arange(6.0).reshape(2, 3)
    f = lambda A: np.sum(A**3)  # noqa: E731
    assert partial(f, (1, 2))(A) == pytest.approx(3 * 5.0**2)
    assert partial(f, 4)(A) == pytest.approx(3 * 4.0**2)  # flat index 4 = (1, 1)
    assert partial(np.sin, 0)(0.3) == pytest.approx(np.cos(0.3))
    assert partial(np.sin, ())(0.3) == pytest.approx(np.cos(0.3))


def test_partial_is_differentiable():
    # ∂/∂x (∂f/∂y) for f = x² y³ is 6 x y²
    f = lambda v: v[0] ** 2 * v[1] ** 3  # noqa: E731
    v = np.array([1.5, -0.5])
    np.testing.assert_allclose(
        mc.grad(partial(f, 1))(v), [6 * 1.5 * 0.25, 6 * 1.5**2 * -0.5], rtol=1e-14
    )


def test_partial_bad_index():
    with pytest.raises(IndexError, match="shape \\(2,\\)"):
        partial(bowl, 2)(P)
    with pytest.raises(IndexError):
        partial(lambda A: np.sum(A), (0, 3))(np.ones((2, 3)))
    with pytest.raises(ValueError, match="multi-index"):
        partial(lambda A: np.sum(A), (0,))(np.ones((2, 3)))
    with pytest.raises(TypeError):
        partial(bowl, 0.5)(P)


def test_directional_derivative_maximal_along_gradient():
    g = np.array([6.0, 8.0])
    assert directional_derivative(bowl, P, g) == pytest.approx(10.0, abs=1e-13)
    assert directional_derivative(bowl, P, 5 * g) == pytest.approx(10.0, abs=1e-13)
    assert directional_derivative(bowl, P, -g) == pytest.approx(-10.0, abs=1e-13)
    angles = np.linspace(0, 2 * np.pi, 97)
    values = [directional_derivative(bowl, P, [np.cos(a), np.sin(a)]) for a in angles]
    assert max(values) <= 10.0 + 1e-12
    assert min(values) >= -10.0 - 1e-12


def test_directional_derivative_zero_along_level_set():
    assert abs(directional_derivative(bowl, P, [-4.0, 3.0])) < 1e-13
    assert abs(directional_derivative(bowl, P, [4.0, -3.0])) < 1e-13


def test_directional_derivative_of_vector_function():
    z = np.array([2.0, 0.5])
    u = np.array([1.0, 1.0])
    J = np.array([[np.cos(0.5), -2 * np.sin(0.5)], [np.sin(0.5), 2 * np.cos(0.5)]])
    np.testing.assert_allclose(directional_derivative(polar, z, u), J @ u / np.sqrt(2))


def test_directional_derivative_errors():
    with pytest.raises(ValueError, match="zero vector"):
        directional_derivative(bowl, P, [0.0, 0.0])
    with pytest.raises(ValueError, match=r"\(3,\).*\(2,\)"):
        directional_derivative(bowl, P, [1.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="not finite"):
        directional_derivative(bowl, P, [np.inf, 0.0])


# -- Jacobian determinants -----------------------------------------------------------


@pytest.mark.parametrize("r,theta", [(2.0, 0.3), (0.5, -2.0), (7.0, 3.0)])
def test_polar_jacobian_determinant_is_r(r, theta):
    z = np.array([r, theta])
    assert jacobian_det(polar, z) == pytest.approx(r, rel=1e-14)
    assert log_abs_det_jacobian(polar, z) == pytest.approx(np.log(r), abs=1e-14)


def test_determinant_of_linear_map_and_singular_point():
    A = rng.standard_normal((4, 4))
    x = rng.standard_normal(4)
    assert jacobian_det(lambda v: A @ v, x) == pytest.approx(np.linalg.det(A), rel=1e-12)
    assert log_abs_det_jacobian(lambda v: A @ v, x) == pytest.approx(
        np.log(abs(np.linalg.det(A))), rel=1e-12
    )
    assert jacobian_det(polar, np.array([0.0, 1.0])) == 0.0
    assert log_abs_det_jacobian(polar, np.array([0.0, 1.0])) == -np.inf


def test_log_abs_det_is_differentiable():
    # d/dr log r = 1/r, d/dθ log r = 0 (the density correction of a change of variables)
    z = np.array([0.3, 1.1])
    g = mc.grad(lambda z: log_abs_det_jacobian(polar, z))(z)
    np.testing.assert_allclose(g, [1 / 0.3, 0.0], rtol=1e-13, atol=1e-13)


def test_determinant_of_matrix_shaped_input():
    # f(X) = X² on 2×2 matrices: dX ↦ X dX + dX X, whose eigenvalues are λᵢ + λⱼ
    X = rng.standard_normal((2, 2))
    J = mc.jacobian(lambda X: X @ X)(X).reshape(4, 4)
    assert jacobian_det(lambda X: X @ X, X) == pytest.approx(np.linalg.det(J), rel=1e-12)
    # so det J = Πᵢⱼ (λᵢ + λⱼ)
    lam = np.linalg.eigvals(X)
    expected = np.prod([li + lj for li in lam for lj in lam]).real
    assert jacobian_det(lambda X: X @ X, X) == pytest.approx(expected, rel=1e-10)


def test_non_square_jacobian_is_a_clear_error():
    f = lambda v: v[:2] * v[2]  # noqa: E731
    with pytest.raises(ValueError, match=r"square.*\(3,\).*\(2,\).*2×3"):
        jacobian_det(f, np.ones(3))
    with pytest.raises(ValueError, match="square"):
        log_abs_det_jacobian(lambda v: np.sum(v), np.ones(3))


# -- total derivative (chain rule) ---------------------------------------------------


def test_total_derivative_of_three_stage_composition():
    def square_mix(u):  # ℝ² → ℝ³
        return np.stack([u[0] ** 2, u[0] * u[1], u[1]])

    def energy(w):  # ℝ³ → ℝ
        return np.sum(np.sin(w))

    z = np.array([1.3, 0.4])
    td = total_derivative([polar, square_mix, energy], z)
    assert isinstance(td, TotalDerivative)
    r, t = z
    x, y = r * np.cos(t), r * np.sin(t)
    np.testing.assert_allclose(td.points[0], z)
    np.testing.assert_allclose(td.points[1], [x, y], rtol=1e-15)
    np.testing.assert_allclose(td.points[2], [x * x, x * y, y], rtol=1e-15)
    assert td.value == pytest.approx(np.sin(x * x) + np.sin(x * y) + np.sin(y), rel=1e-15)
    # each stage's Jacobian in closed form
    J1 = np.array([[np.cos(t), -r * np.sin(t)], [np.sin(t), r * np.cos(t)]])
    J2 = np.array([[2 * x, 0.0], [y, x], [0.0, 1.0]])
    J3 = np.cos([x * x, x * y, y])
    np.testing.assert_allclose(td.stage_jacobians[0], J1, rtol=1e-14)
    np.testing.assert_allclose(td.stage_jacobians[1], J2, rtol=1e-14)
    np.testing.assert_allclose(td.stage_jacobians[2], J3, rtol=1e-14)
    # their product is the Jacobian of the composition
    np.testing.assert_allclose(td.jacobian, J3 @ J2 @ J1, rtol=1e-13)
    composed = lambda z: energy(square_mix(polar(z)))  # noqa: E731
    np.testing.assert_allclose(td.jacobian, mc.jacobian(composed)(z), rtol=1e-13)
    np.testing.assert_allclose(td.direct_jacobian, mc.grad(composed)(z), rtol=1e-13)
    assert td.agrees and td.residual < 1e-14


def test_total_derivative_single_stage_and_errors():
    td = total_derivative([polar], np.array([2.0, 0.5]))
    np.testing.assert_allclose(td.jacobian, td.stage_jacobians[0])
    assert td.agrees
    with pytest.raises(ValueError, match="empty"):
        total_derivative([], np.ones(2))
    with pytest.raises(TypeError, match="stage 1"):
        total_derivative([polar, 3], np.ones(2))


# -- tangent-plane model --------------------------------------------------------------


def sin_times_y(v):
    return np.sin(v[0]) * v[1]


def test_linearize_sin_times_y_closed_form():
    x0 = np.array([0.5, 2.0])
    L = linearize(sin_times_y, x0)
    assert isinstance(L, TangentModel)
    assert L.value == pytest.approx(np.sin(0.5) * 2.0, rel=1e-15)
    np.testing.assert_allclose(L.gradient, [np.cos(0.5) * 2.0, np.sin(0.5)], rtol=1e-15)
    np.testing.assert_allclose(L.jacobian, L.gradient)
    np.testing.assert_allclose(L.point, x0)
    assert L(x0) == pytest.approx(L.value, rel=1e-15)


def test_linearize_error_is_second_order():
    x0 = np.array([0.5, 2.0])
    L = linearize(sin_times_y, x0)
    u = np.array([0.6, -0.8])
    hs = 2.0 ** -np.arange(2, 10)
    pts = x0 + hs[:, None] * u
    err = np.abs(np.array([sin_times_y(p) for p in pts]) - L(pts))
    slope = np.polyfit(np.log(hs), np.log(err), 1)[0]
    assert abs(slope - 2.0) < 0.1
    # the constant is ½ uᵀHu with H = [[-sin(x)y, cos x], [cos x, 0]]
    H = np.array([[-np.sin(0.5) * 2.0, np.cos(0.5)], [np.cos(0.5), 0.0]])
    np.testing.assert_allclose(err[-1] / hs[-1] ** 2, abs(u @ H @ u) / 2, rtol=1e-2)


def test_linearize_vector_map_and_batches():
    z0 = np.array([2.0, 0.5])
    L = linearize(polar, z0)
    with pytest.raises(AttributeError, match="jacobian"):
        L.gradient
    Z = z0 + 1e-3 * rng.standard_normal((5, 2))
    out = L(Z)
    assert out.shape == (5, 2)
    for z, o in zip(Z, out):
        np.testing.assert_allclose(o, L(z), rtol=1e-15)
        np.testing.assert_allclose(o, polar(z), atol=1e-5)
    with pytest.raises(ValueError, match=r"\(3,\).*\(2,\)"):
        L(np.ones(3))


# -- curvature ------------------------------------------------------------------------


def quad(v):
    return v[0] ** 2 + 3 * v[1] ** 2 - v[0] * v[1]


def test_curvature_of_quadratic_closed_form():
    c = curvature(quad, np.array([0.7, -1.2]))
    assert isinstance(c, Curvature)
    np.testing.assert_allclose(c.hessian, [[2.0, -1.0], [-1.0, 6.0]], rtol=1e-15)
    np.testing.assert_allclose(c.eigenvalues, [4 - np.sqrt(5), 4 + np.sqrt(5)], rtol=1e-14)
    assert c.definiteness == "positive definite"
    assert c.inertia == (2, 0, 0)
    assert not c.singular
    assert c.condition_number == pytest.approx((4 + np.sqrt(5)) / (4 - np.sqrt(5)), rel=1e-13)
    # principal directions: unit eigenvectors, rows ordered with the eigenvalues
    for lam, v, col in zip(c.eigenvalues, c.principal_directions, c.eigenvectors.T):
        np.testing.assert_allclose(c.hessian @ v, lam * v, atol=1e-13)
        assert np.linalg.norm(v) == pytest.approx(1.0)
        np.testing.assert_allclose(v, col)
    # the least-curvature direction of [[2,-1],[-1,6]] is ∝ (1, 2 − λ₀) = (1, √5 − 2)
    v0 = c.principal_directions[0]
    assert v0[1] / v0[0] == pytest.approx(np.sqrt(5) - 2, rel=1e-12)


@pytest.mark.parametrize(
    "f,expected,inertia",
    [
        (lambda v: 5 * v[0] ** 2 - v[1] ** 2, "indefinite", (1, 1, 0)),
        (lambda v: -(v[0] ** 2) - 2 * v[1] ** 2, "negative definite", (0, 2, 0)),
        (lambda v: (v[0] + v[1]) ** 2, "positive semidefinite", (1, 0, 1)),
        (lambda v: -((v[0] - v[1]) ** 2), "negative semidefinite", (0, 1, 1)),
        (lambda v: v[0] ** 3 - 3 * v[0] * v[1] ** 2, "positive semidefinite", (0, 0, 2)),
    ],
)
def test_definiteness_classes_at_origin(f, expected, inertia):
    c = curvature(f, np.zeros(2))
    assert c.definiteness == expected
    assert c.inertia == inertia
    if inertia[2]:
        assert c.condition_number == np.inf and c.singular


def test_saddle_eigenvalues():
    c = curvature(lambda v: 5 * v[0] ** 2 - v[1] ** 2, np.zeros(2))
    np.testing.assert_allclose(c.eigenvalues, [-2.0, 10.0])
    np.testing.assert_allclose(np.abs(c.principal_directions), np.eye(2)[::-1])
    assert c.condition_number == pytest.approx(5.0)


def test_curvature_tolerance_is_relative_to_largest_eigenvalue():
    f = lambda v: 0.5 * v[0] ** 2 + 0.5e-10 * v[1] ** 2  # noqa: E731  H = diag(1, 1e-10)
    x = np.array([0.3, 0.2])
    assert curvature(f, x).definiteness == "positive semidefinite"  # 1e-10 < √ε
    c = curvature(f, x, tol=1e-12)
    assert c.definiteness == "positive definite"
    assert c.threshold == pytest.approx(1e-12)
    assert c.condition_number == pytest.approx(1e10, rel=1e-6)
    # scaling f does not change the verdict
    assert curvature(lambda v: 1e6 * f(v), x, tol=1e-12).definiteness == "positive definite"


def test_curvature_of_matrix_shaped_input():
    A = rng.standard_normal((3, 3))
    S = A @ A.T + np.eye(3)
    f = lambda X: np.sum(X @ S * X)  # noqa: E731   Σ_i x_iᵀ S x_i over the rows: H = 2 I⊗S
    c = curvature(f, np.ones((2, 3)))
    assert c.hessian.shape == (6, 6)
    assert c.principal_directions.shape == (6, 2, 3)
    lam_S = np.linalg.eigvalsh(S)
    np.testing.assert_allclose(c.eigenvalues, np.sort(np.repeat(2 * lam_S, 2)), rtol=1e-12)
    assert c.definiteness == "positive definite"


def test_curvature_errors():
    with np.errstate(divide="ignore", invalid="ignore"), pytest.raises(
        ValueError, match="not finite"
    ):
        curvature(lambda v: np.sqrt(v[0]) + v[1] ** 2, np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="tol"):
        curvature(quad, np.zeros(2), tol=-1.0)


# -- Laplacian ------------------------------------------------------------------------


def test_laplacian_of_squared_norm_is_6():
    assert laplacian(lambda v: np.sum(v**2), np.array([0.3, -1.0, 2.0])) == pytest.approx(6.0)


@pytest.mark.parametrize(
    "f",
    [lambda v: v[0] ** 2 - v[1] ** 2, lambda v: np.exp(v[0]) * np.sin(v[1]),
     lambda v: np.log(v[0] ** 2 + v[1] ** 2)],
)
def test_laplacian_of_harmonic_functions_is_zero(f):
    for p in rng.uniform(0.2, 1.5, size=(4, 2)):
        assert abs(laplacian(f, p)) < 1e-12


def test_laplacian_is_the_trace_of_the_hessian():
    f = lambda v: np.sum(np.sin(v) * v[::-1]) + np.prod(v)  # noqa: E731
    x = rng.standard_normal(4)
    assert laplacian(f, x) == pytest.approx(np.trace(mc.hessian(f)(x)), rel=1e-13)
    assert laplacian(np.sin, 0.3) == pytest.approx(-np.sin(0.3), rel=1e-14)


def test_laplacian_differentiable_and_batched():
    f = lambda v: np.sum(v**4)  # noqa: E731   Δf = 12 Σ v², ∇Δf = 24 v
    x = np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(mc.grad(lambda z: laplacian(f, z))(x), 24 * x, rtol=1e-14)
    X = rng.standard_normal((5, 3))
    np.testing.assert_allclose(
        mc.vmap(lambda z: laplacian(f, z))(X), 12 * np.sum(X**2, axis=1), rtol=1e-13
    )
