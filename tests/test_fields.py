"""mlcalc.fields against closed forms and the integral theorems."""

from __future__ import annotations

import numpy as np
import pytest

from mlcalc import fields as fl

TWO_PI = 2 * np.pi
rng = np.random.default_rng(0)


def rotation(v):
    return np.stack([-v[1], v[0]])


def unit_circle(t):
    return np.stack([np.cos(t), np.sin(t)])


def grad_field(v):  # ∇(x²y + sin z)
    return np.stack([2 * v[0] * v[1], v[0] ** 2, np.cos(v[2])])


def sphere(u):
    return np.stack([np.sin(u[0]) * np.cos(u[1]), np.sin(u[0]) * np.sin(u[1]), np.cos(u[0])])


SPHERE = fl.Patch(sphere, ((0.0, np.pi), (0.0, TWO_PI)))
BALL = fl.Patch(lambda u: u[0] * sphere(u[1:]), ((0.0, 1.0), (0.0, np.pi), (0.0, TWO_PI)))
DISK = fl.Patch(lambda u: u[0] * unit_circle(u[1]), ((0.0, 1.0), (0.0, TWO_PI)))


def test_rotation_field_curl_circulation_and_green():
    assert fl.curl(rotation, np.array([0.3, -0.7])) == 2.0
    np.testing.assert_array_equal(fl.curl(rotation, rng.random((5, 2))), np.full(5, 2.0))
    circ = fl.line_integral(rotation, unit_circle, 0.0, TWO_PI)
    np.testing.assert_allclose(circ.value, TWO_PI, rtol=1e-13)
    check = fl.green(rotation, fl.Curve(unit_circle, 0.0, TWO_PI), DISK)
    np.testing.assert_allclose([check.lhs, check.rhs], [TWO_PI, TWO_PI], rtol=1e-12)
    assert abs(check.difference) < 1e-12


def test_operators_closed_forms_point_and_batch():
    def F(v):  # div F = 2x + 3y² + 1, curl F = (−2x, y, z)
        return np.stack([v[0] ** 2, v[1] ** 3 + v[0] * v[2], v[2] - v[0] * v[1]])

    X = rng.standard_normal((6, 3))
    x, y, z = X.T
    np.testing.assert_allclose(fl.divergence(F, X), 2 * x + 3 * y**2 + 1, rtol=1e-13)
    np.testing.assert_allclose(fl.curl(F, X), np.stack([-2 * x, y, z], axis=-1), rtol=1e-13)
    for i in range(6):
        np.testing.assert_allclose(fl.divergence(F, X[i]), fl.divergence(F, X)[i])
    lap = fl.laplacian_field(lambda v: v[0] ** 2 * v[1] + np.sin(v[2]), X)
    np.testing.assert_allclose(lap, 2 * y - np.sin(z), rtol=1e-12)
    assert fl.field_jacobian(F, X).shape == (6, 3, 3)
    with pytest.raises(ValueError, match="2-D and 3-D"):
        fl.curl(lambda v: v, np.ones(4))
    with pytest.raises(ValueError, match=r"\(2, 2, 2\)"):
        fl.divergence(rotation, np.ones((2, 2, 2)))


def test_gradient_field_is_conservative_with_path_independence_and_potential():
    assert fl.is_conservative(grad_field, [(-1, 1)] * 3).conservative
    a, b = np.array([0.0, 0.0, 0.0]), np.array([1.0, 2.0, 0.5])
    straight = fl.line_integral(grad_field, lambda t: a + t * (b - a), 0.0, 1.0).value
    wiggly = fl.line_integral(
        grad_field,
        lambda t: a + t * (b - a) + np.sin(np.pi * t) * np.stack([0.3, -0.2, 0.4]),
        0.0, 1.0,
    ).value
    exact = b[0] ** 2 * b[1] + np.sin(b[2])
    np.testing.assert_allclose([straight, wiggly], [exact, exact], rtol=1e-12)
    phi = fl.potential(grad_field, np.array([0.2, -0.3, 0.1]))
    pts = rng.uniform(-1, 1, (5, 3))
    true = pts[:, 0] ** 2 * pts[:, 1] + np.sin(pts[:, 2])
    got = phi(pts)
    np.testing.assert_allclose(got - got[0], true - true[0], rtol=1e-10, atol=1e-12)


def test_rotation_field_is_not_conservative_and_has_no_potential():
    test = fl.is_conservative(rotation, [(-1, 1), (-1, 1)])
    assert not test.conservative and test.max_asymmetry > 1
    with pytest.raises(ValueError, match="not conservative"):
        fl.potential(rotation, np.zeros(2))


def test_flux_through_sphere_and_divergence_theorem():
    identity = lambda v: v  # noqa: E731
    out = fl.flux(identity, sphere, (0.0, np.pi), (0.0, TWO_PI))
    np.testing.assert_allclose(out.value, 4 * np.pi, rtol=1e-12)
    check = fl.divergence_theorem(identity, BALL, SPHERE)
    np.testing.assert_allclose([check.lhs, check.rhs], [4 * np.pi, 4 * np.pi], rtol=1e-12)


def test_stokes_on_the_upper_hemisphere():
    F = lambda v: np.stack([-v[1], v[0], 0.0 * v[2]])  # noqa: E731  curl F = (0, 0, 2)
    hemisphere = fl.Patch(sphere, ((0.0, np.pi / 2), (0.0, TWO_PI)))
    equator = fl.Curve(lambda t: np.stack([np.cos(t), np.sin(t), 0.0 * t]), 0.0, TWO_PI)
    check = fl.stokes(F, hemisphere, equator)
    np.testing.assert_allclose([check.lhs, check.rhs], [TWO_PI, TWO_PI], rtol=1e-12)


def test_scalar_line_and_surface_integrals():
    helix = lambda t: np.stack([np.cos(t), np.sin(t), t])  # noqa: E731
    length = fl.line_integral_scalar(lambda v: 1.0 + 0.0 * v[0], helix, 0.0, TWO_PI)
    np.testing.assert_allclose(length.value, TWO_PI * np.sqrt(2), rtol=1e-13)
    area = fl.surface_integral(lambda v: 1.0 + 0.0 * v[0], sphere, (0, np.pi), (0, TWO_PI))
    np.testing.assert_allclose(area.value, 4 * np.pi, rtol=1e-12)
    z2 = fl.surface_integral(lambda v: v[2] ** 2, sphere, (0, np.pi), (0, TWO_PI))
    np.testing.assert_allclose(z2.value, 4 * np.pi / 3, rtol=1e-12)
    assert z2.error < 1e-10
