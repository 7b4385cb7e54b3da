"""mlcalc.fields against closed forms and the integral theorems."""

from __future__ import annotations

import numpy as np
import pytest

import mlcalc as mc
from mlcalc import fields as fl

TWO_PI = 2 * np.pi
rng = np.random.default_rng(0)


def rotation(v):  # curl 2, not conservative
    return np.stack([-v[1], v[0]])


def unit_circle(t):
    return np.stack([np.cos(t), np.sin(t)])


def grad_field(v):  # ∇(x²y + sin z)
    return np.stack([2 * v[0] * v[1], v[0] ** 2, np.cos(v[2])])


def grad_potential(p):
    return p[..., 0] ** 2 * p[..., 1] + np.sin(p[..., 2])


def sphere(u):
    return np.stack([np.sin(u[0]) * np.cos(u[1]), np.sin(u[0]) * np.sin(u[1]), np.cos(u[0])])


SPHERE = fl.Patch(sphere, ((0.0, np.pi), (0.0, TWO_PI)))
BALL = fl.Patch(lambda u: u[0] * sphere(u[1:]), ((0.0, 1.0), (0.0, np.pi), (0.0, TWO_PI)))
DISK = fl.Patch(lambda u: u[0] * unit_circle(u[1]), ((0.0, 1.0), (0.0, TWO_PI)))
CIRCLE = fl.Curve(unit_circle, 0.0, TWO_PI)


def covers(result, exact):
    """The reported error estimate covers the true error."""
    return abs(result.value - exact) <= result.error


# --- operators -----------------------------------------------------------------------


def test_operators_closed_forms_point_and_batch():
    def F(v):  # div F = 2x + 3y² + 1, curl F = (−2x, y, z)
        return np.stack([v[0] ** 2, v[1] ** 3 + v[0] * v[2], v[2] - v[0] * v[1]])

    X = rng.standard_normal((6, 3))
    x, y, z = X.T
    np.testing.assert_allclose(fl.divergence(F, X), 2 * x + 3 * y**2 + 1, rtol=1e-13)
    np.testing.assert_allclose(fl.curl(F, X), np.stack([-2 * x, y, z], axis=-1), rtol=1e-13)
    J = fl.field_jacobian(F, X)
    assert J.shape == (6, 3, 3)
    np.testing.assert_allclose(J[:, 1], np.stack([z, 3 * y**2, x], axis=-1), rtol=1e-13)
    lap = fl.laplacian_field(lambda v: v[0] ** 2 * v[1] + np.sin(v[2]), X)
    np.testing.assert_allclose(lap, 2 * y - np.sin(z), rtol=1e-12)
    for i in range(6):  # the batch is the single points, one by one
        np.testing.assert_allclose(fl.divergence(F, X[i]), fl.divergence(F, X)[i], rtol=1e-15)
        np.testing.assert_allclose(fl.curl(F, X[i]), fl.curl(F, X)[i], rtol=1e-15)
        np.testing.assert_allclose(fl.field_jacobian(F, X[i]), J[i], rtol=1e-15)
        assert fl.laplacian_field(lambda v: v[0] ** 2 * v[1] + np.sin(v[2]), X[i]) == \
            pytest.approx(lap[i], rel=1e-15)


def test_rotation_field_scalar_curl_in_2d_and_the_identities():
    assert fl.curl(rotation, np.array([0.3, -0.7])) == 2.0
    np.testing.assert_array_equal(fl.curl(rotation, rng.random((5, 2))), np.full(5, 2.0))
    np.testing.assert_array_equal(fl.divergence(rotation, rng.random((5, 2))), np.zeros(5))
    # 2-D scalar curl of a polynomial field: ∂x(x³y) − ∂y(xy²) = 3x²y − 2xy
    X = rng.standard_normal((4, 2))
    got = fl.curl(lambda v: np.stack([v[0] * v[1] ** 2, v[0] ** 3 * v[1]]), X)
    np.testing.assert_allclose(got, 3 * X[:, 0] ** 2 * X[:, 1] - 2 * X[:, 0] * X[:, 1],
                               rtol=1e-13)
    # curl ∇φ = 0 and div curl F = 0, the operators nested through the engine
    X3 = rng.standard_normal((5, 3))
    np.testing.assert_allclose(fl.curl(grad_field, X3), 0.0, atol=1e-15)
    G = lambda v: np.stack([v[1] * v[2] ** 2, np.sin(v[0] * v[2]), v[0] ** 3 * v[1]])  # noqa: E731
    np.testing.assert_allclose(fl.divergence(lambda v: fl.curl(G, v), X3), 0.0, atol=1e-13)
    # Δφ = div ∇φ
    np.testing.assert_allclose(fl.laplacian_field(grad_potential, X3),
                               fl.divergence(grad_field, X3), rtol=1e-13)


def test_operators_are_differentiable_at_traced_points():
    F = lambda v: np.stack([v[0] ** 2, v[1] ** 3 + v[0] * v[2], v[2]])  # noqa: E731
    p = np.array([0.4, -1.2, 0.9])
    # div F = 2x + 3y² + 1, so ∇ div F = (2, 6y, 0)
    np.testing.assert_allclose(mc.grad(lambda v: fl.divergence(F, v))(p), [2, 6 * p[1], 0],
                               rtol=1e-13)


def test_operator_shape_errors_show_the_shapes():
    with pytest.raises(ValueError, match="2-D and 3-D"):
        fl.curl(lambda v: v, np.ones(4))
    with pytest.raises(ValueError, match=r"\(2, 2, 2\)"):
        fl.divergence(rotation, np.ones((2, 2, 2)))
    with pytest.raises(ValueError, match=r"returned shape \(2,\).*\(2, 3\)"):
        fl.divergence(lambda v: v[:2], np.ones(3))


# --- conservative fields and potentials -----------------------------------------------


def test_gradient_field_is_conservative_with_path_independence_and_potential():
    test = fl.is_conservative(grad_field, [(-1, 1)] * 3, n_samples=64, seed=1)
    assert test.conservative and test.max_asymmetry < 1e-15 and test.n_samples == 64
    a, b = np.array([0.0, 0.0, 0.0]), np.array([1.0, 2.0, 0.5])
    exact = grad_potential(b) - grad_potential(a)
    straight = fl.line_integral(grad_field, lambda t: a + t * (b - a), 0.0, 1.0)
    wiggly = fl.line_integral(
        grad_field,
        lambda t: a + t * (b - a) + np.sin(np.pi * t) * np.stack([0.3, -0.2, 0.4 * t]),
        0.0, 1.0,
    )
    for r in (straight, wiggly):
        assert r.success and covers(r, exact)
        np.testing.assert_allclose(r.value, exact, rtol=1e-13)
    # around a closed loop the work of a gradient field is zero
    loop = fl.line_integral(grad_field, lambda t: np.stack([np.cos(t), np.sin(t), t * 0]),
                            0.0, TWO_PI, atol=1e-12)
    assert abs(loop.value) < 1e-13 and loop.success

    x0 = np.array([0.2, -0.3, 0.1])
    phi = fl.potential(grad_field, x0)
    pts = rng.uniform(-1, 1, (5, 3))
    got = phi(pts)
    assert got.shape == (5,) and phi(x0) == 0.0
    np.testing.assert_allclose(got, grad_potential(pts) - grad_potential(x0), atol=1e-14)
    np.testing.assert_allclose(phi(pts[2]), got[2], rtol=1e-15)
    np.testing.assert_allclose(mc.grad(phi)(pts[0]), grad_field(pts[0]), rtol=1e-13)


def test_rotation_field_is_not_conservative_and_has_no_potential():
    test = fl.is_conservative(rotation, [(-1, 1), (-1, 1)])
    assert not test.conservative
    assert test.max_asymmetry == pytest.approx(2.0, rel=1e-15)  # = |curl F|
    with pytest.raises(ValueError, match="not conservative"):
        fl.potential(rotation, np.zeros(2))
    with pytest.raises(ValueError, match=r"bounds has 3 axes but x0 has shape \(2,\)"):
        fl.potential(grad_field, np.zeros(2), bounds=[(0, 1)] * 3)


def test_vortex_is_curl_free_yet_circulates_around_the_origin():
    vortex = lambda v: np.stack([-v[1], v[0]]) / (v[0] ** 2 + v[1] ** 2)  # noqa: E731
    # locally conservative in a box away from the origin ...
    assert fl.is_conservative(vortex, [(0.5, 2.0), (-1.0, 1.0)]).conservative
    # ... but not on a region around it: the sampled test cannot see that, a loop does
    circ = fl.line_integral(vortex, lambda t: 0.5 * unit_circle(t), 0.0, TWO_PI)
    np.testing.assert_allclose(circ.value, TWO_PI, rtol=1e-13)


# --- line and surface integrals --------------------------------------------------------


def test_circulation_of_the_rotation_field():
    circ = fl.line_integral(rotation, unit_circle, 0.0, TWO_PI)
    assert circ.success and covers(circ, TWO_PI) and circ.nfev > 0
    np.testing.assert_allclose(circ.value, TWO_PI, rtol=1e-14)
    back = fl.line_integral(rotation, unit_circle, TWO_PI, 0.0)  # reversed orientation
    np.testing.assert_allclose(back.value, -TWO_PI, rtol=1e-14)


def test_adaptive_refinement_on_a_kinked_path_with_an_honest_error():
    # r(t) = (t, |t|): F = (1, 1) gives F·r' = 1 + sign t, so ∫_{-1}^{2} = 1·(0) + 2·2 = 4
    kinked = lambda t: np.stack([t, np.abs(t)])  # noqa: E731
    res = fl.line_integral(lambda v: 1.0 + 0.0 * v, kinked, -1.0, 2.0, rtol=1e-10)
    assert res.success and res.n_cells > 10 and covers(res, 4.0)
    assert abs(res.value - 4.0) < 1e-9
    starved = fl.line_integral(lambda v: 1.0 + 0.0 * v, kinked, -1.0, 2.0, max_evals=200)
    assert not starved.success and covers(starved, 4.0)


def test_scalar_line_integrals_arc_length_of_a_helix():
    helix = lambda t: np.stack([np.cos(t), np.sin(t), t])  # noqa: E731
    length = fl.line_integral_scalar(lambda v: 1.0, helix, 0.0, TWO_PI)
    assert length.success and covers(length, TWO_PI * np.sqrt(2))
    np.testing.assert_allclose(length.value, TWO_PI * np.sqrt(2), rtol=1e-14)
    # ∫ z ds over one turn = √2 ∫ t dt = √2·2π², whatever the direction of travel
    zds = fl.line_integral_scalar(lambda v: v[2], helix, TWO_PI, 0.0)
    np.testing.assert_allclose(zds.value, np.sqrt(2) * 2 * np.pi**2, rtol=1e-13)


def test_surface_integrals_on_the_sphere_and_the_flat_torus_in_r4():
    area = fl.surface_integral(lambda v: 1.0, sphere, (0, np.pi), (0, TWO_PI))
    assert area.success and covers(area, 4 * np.pi)
    z2 = fl.surface_integral(lambda v: v[2] ** 2, sphere, (0, np.pi), (0, TWO_PI))
    np.testing.assert_allclose(z2.value, 4 * np.pi / 3, rtol=1e-13)
    assert covers(z2, 4 * np.pi / 3)
    # the Clifford torus (cos u, sin u, cos v, sin v) in R⁴ is flat, area 4π² (Gram element)
    torus = lambda u: np.stack([np.cos(u[0]), np.sin(u[0]), np.cos(u[1]), np.sin(u[1])])  # noqa: E731
    t_area = fl.surface_integral(lambda v: 1.0, torus, (0, TWO_PI), (0, TWO_PI))
    np.testing.assert_allclose(t_area.value, 4 * np.pi**2, rtol=1e-13)


def test_flux_through_the_sphere():
    identity = lambda v: v  # noqa: E731
    out = fl.flux(identity, sphere, (0.0, np.pi), (0.0, TWO_PI))
    assert out.success and covers(out, 4 * np.pi)
    np.testing.assert_allclose(out.value, 4 * np.pi, rtol=1e-13)
    inward = fl.flux(identity, sphere, (0.0, np.pi), (TWO_PI, 0.0))
    np.testing.assert_allclose(inward.value, -4 * np.pi, rtol=1e-13)
    with pytest.raises(ValueError, match=r"surface in R\^3.*\(4,\)"):
        fl.flux(lambda v: v, lambda u: np.stack([u[0], u[1], u[0], u[1]]), (0, 1), (0, 1))


def test_integrand_shape_errors_show_both_shapes():
    with pytest.raises(ValueError, match=r"vector \(2,\).*returned shape \(49, 3\)"):
        fl.line_integral(lambda v: np.stack([v[0], v[1], v[0]]), unit_circle, 0, 1)
    with pytest.raises(ValueError, match="must be a pair"):
        fl.surface_integral(lambda v: 1.0, sphere, (0, 1, 2), (0, 1))
    with pytest.raises(ValueError, match=r"returned shape \(2,\)"):
        fl.gauss_legendre(lambda x: np.ones(2), [(0, 1)])


# --- the theorems ----------------------------------------------------------------------


def test_green_rotation_field_twice_the_area():
    disk = fl.green(rotation, CIRCLE, DISK)
    assert disk.theorem == "green" and disk.agree
    np.testing.assert_allclose([disk.lhs, disk.rhs], [TWO_PI, TWO_PI], rtol=1e-13)
    assert abs(disk.difference) < 1e-12 and len(disk.pieces) == 1
    # a triangle with its three sides as boundary pieces: area 3, so both sides 6
    a, b, c = (0.0, 0.0), (3.0, 0.0), (1.0, 2.0)
    tri = fl.green(rotation, fl.polygon([a, b, c]), fl.triangle(a, b, c))
    assert len(tri.pieces) == 3 and tri.agree
    np.testing.assert_allclose([tri.lhs, tri.rhs], [6.0, 6.0], rtol=1e-13)
    # the annulus 1/2 < r < 1: outer circle counter-clockwise, inner clockwise
    inner = fl.Curve(lambda t: 0.5 * unit_circle(t), TWO_PI, 0.0)
    ring = fl.Patch(lambda u: u[0] * unit_circle(u[1]), ((0.5, 1.0), (0.0, TWO_PI)))
    ann = fl.green(rotation, [CIRCLE, inner], ring)
    np.testing.assert_allclose([ann.lhs, ann.rhs], [1.5 * np.pi, 1.5 * np.pi], rtol=1e-13)


def test_green_with_a_varying_curl_and_the_wrong_orientation():
    F = lambda v: np.stack([-v[1] ** 3, v[0] ** 3])  # noqa: E731  curl 3r², ∫ over disk = 3π/2
    check = fl.green(F, CIRCLE, DISK)
    np.testing.assert_allclose([check.lhs, check.rhs], [1.5 * np.pi] * 2, rtol=1e-13)
    assert check.agree and check.rhs_error < 1e-9
    clockwise = fl.green(F, fl.Curve(unit_circle, TWO_PI, 0.0), DISK)
    assert not clockwise.agree
    np.testing.assert_allclose(clockwise.difference, -3 * np.pi, rtol=1e-13)


def test_flux_of_the_identity_and_the_divergence_theorem_on_the_ball():
    check = fl.divergence_theorem(lambda v: v, BALL, SPHERE)
    np.testing.assert_allclose([check.lhs, check.rhs], [4 * np.pi, 4 * np.pi], rtol=1e-13)
    assert check.agree and covers(check.interior, 4 * np.pi) and covers(check.pieces[0], 4 * np.pi)


def cube_faces():
    """The six faces of [0, 1]³, each parametrised with the outward normal ∂u × ∂v."""
    one, zero = (lambda u: 1.0 + 0 * u[0]), (lambda u: 0 * u[0])
    unit = ((0.0, 1.0), (0.0, 1.0))
    faces = []
    for side, c in ((one, 1), (zero, -1)):
        # (x, y, z) = cyclic placement with u, v chosen so that ∂u × ∂v = c·e_axis
        for axis in range(3):
            def phi(u, axis=axis, side=side, c=c):
                a, b = (u[0], u[1]) if c > 0 else (u[1], u[0])
                coords = [side(u), a, b]
                return np.stack([coords[(i - axis) % 3] for i in range(3)])
            faces.append(fl.Patch(phi, unit))
    return faces


def test_divergence_theorem_on_the_unit_cube_with_six_faces():
    F = lambda v: np.stack([v[0] ** 2 * v[1], np.sin(v[1]) * v[2], v[0] * v[2] ** 3])  # noqa: E731
    # div F = 2xy + z cos y + 3xz², ∫ over the cube = 1/2 + sin(1)/2 + 1/2
    exact = 1.0 + np.sin(1.0) / 2
    check = fl.divergence_theorem(F, fl.Patch(lambda u: u, ((0, 1),) * 3), cube_faces())
    assert len(check.pieces) == 6 and check.agree
    np.testing.assert_allclose([check.lhs, check.rhs], [exact, exact], rtol=1e-13)


def test_stokes_on_the_upper_hemisphere():
    F = lambda v: np.stack([-v[1] ** 3, v[0] ** 3, v[2]])  # noqa: E731  curl F = (0, 0, 3(x²+y²))
    hemisphere = fl.Patch(sphere, ((0.0, np.pi / 2), (0.0, TWO_PI)))
    equator = fl.Curve(lambda t: np.stack([np.cos(t), np.sin(t), 0.0 * t]), 0.0, TWO_PI)
    check = fl.stokes(F, hemisphere, equator)
    assert check.theorem == "stokes" and check.agree
    np.testing.assert_allclose([check.lhs, check.rhs], [1.5 * np.pi] * 2, rtol=1e-13)


def test_theorem_inputs_are_checked():
    with pytest.raises(ValueError, match=r"parameters \(2,\) to points \(2,\).*\(3,\)"):
        fl.green(rotation, CIRCLE, fl.Patch(sphere, ((0, 1), (0, 1))))
    with pytest.raises(TypeError, match="Curve or a sequence"):
        fl.green(rotation, unit_circle, DISK)
    with pytest.raises(ValueError, match=r"3 parameter intervals.*\(2, 2\)"):
        fl.divergence_theorem(lambda v: v, SPHERE, SPHERE)
