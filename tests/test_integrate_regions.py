"""Integrals over regions by change of variables, against closed forms."""

import math

import numpy as np
import pytest
from scipy import special

import mlcalc as mc
from mlcalc.integrate.box import IntegrationResult
from mlcalc.integrate.regions import (
    Annulus,
    Ball,
    Disk,
    MappedRegion,
    RegionIntegral,
    Simplex,
    SphereSurface,
    Triangle,
    integrate_region,
    volume_element,
)


def one(x):
    return np.ones(x.shape[0])


def check(res, exact, rtol=1e-9):
    """The value agrees with the closed form, and the reported error covers the true
    error (up to rounding)."""
    assert res.value == pytest.approx(exact, rel=rtol, abs=1e-12)
    true_error = np.abs(np.asarray(res.value) - exact)
    assert np.all(true_error <= res.error + 1e-12 * np.maximum(1.0, np.abs(exact)))
    assert res.success


ELEMENTS = ["closed", "engine"]


@pytest.mark.parametrize("element", ELEMENTS)
def test_unit_disk_area_is_pi(element):
    res = integrate_region(one, Disk([0.0, 0.0], 1.0), element=element)
    check(res, math.pi)
    assert isinstance(res, RegionIntegral) and isinstance(res, IntegrationResult)
    assert res.element == element and isinstance(res.region, Disk)


@pytest.mark.parametrize("element", ELEMENTS)
def test_shifted_disk_second_moment(element):
    # ∫ |x − c|² over the disk of radius R about c = π R⁴ / 2.
    c, R = np.array([1.0, -2.0]), 1.5
    res = integrate_region(lambda x: np.sum((x - c) ** 2, axis=1), Disk(c, R), element=element)
    check(res, math.pi * R**4 / 2)


@pytest.mark.parametrize("element", ELEMENTS)
def test_annulus_integral_of_r_squared(element):
    # ∫ r² dA over r_in ≤ r ≤ r_out = 2π (r_out⁴ − r_in⁴) / 4.
    c, r_in, r_out = np.array([0.5, 0.25]), 1.0, 2.0
    res = integrate_region(
        lambda x: np.sum((x - c) ** 2, axis=1), Annulus(c, r_in, r_out), element=element
    )
    check(res, math.pi / 2 * (r_out**4 - r_in**4))


@pytest.mark.parametrize("element", ELEMENTS)
def test_unit_ball_volume(element):
    res = integrate_region(one, Ball(np.zeros(3), 1.0), element=element)
    check(res, 4 * math.pi / 3)


def test_ball_volume_in_four_dimensions_and_moment():
    # vol B⁴(R) = π² R⁴ / 2; ∫ x₁² over the unit ball in ℝ³ = 4π/15.
    check(integrate_region(one, Ball(np.ones(4), 2.0)), math.pi**2 / 2 * 16)
    check(integrate_region(lambda x: x[:, 0] ** 2, Ball(np.zeros(3), 1.0)), 4 * math.pi / 15)


@pytest.mark.parametrize("element", ELEMENTS)
def test_triangle_area_and_centroid(element):
    a, b, c = np.array([0.0, 0.0]), np.array([3.0, 0.5]), np.array([1.0, 2.0])
    area = 0.5 * abs((b - a)[0] * (c - a)[1] - (b - a)[1] * (c - a)[0])
    tri = Triangle(a, b, c)
    check(integrate_region(one, tri, element=element), area)
    # a vector integrand (n, 2): ∫ x dA = area · centroid
    check(integrate_region(lambda x: x, tri, element=element), area * (a + b + c) / 3)


def test_simplex_volume_and_dirichlet_moment():
    # standard 3-simplex: volume 1/3! and ∫ x y z = 1! 1! 1! / 6! (Dirichlet integral)
    simplex = Simplex(np.vstack([np.zeros(3), np.eye(3)]))
    check(integrate_region(one, simplex), 1 / 6)
    check(integrate_region(lambda x: np.prod(x, axis=1), simplex), 1 / 720)
    # a general tetrahedron: volume |det(edges)| / 6
    v = np.array([[0.0, 0, 0], [2, 0.1, 0], [0.3, 1, 0.2], [0.1, 0.4, 3]])
    check(integrate_region(one, Simplex(v), element="engine"), abs(np.linalg.det(v[1:] - v[0])) / 6)


@pytest.mark.parametrize("element", ELEMENTS)
def test_triangle_in_space_area(element):
    a, b, c = np.array([1.0, 0, 0]), np.array([0, 2.0, 0]), np.array([0, 0, 3.0])
    tri = Triangle(a, b, c)
    assert tri.dim == 3
    check(integrate_region(one, tri, element=element), 0.5 * np.linalg.norm(np.cross(b - a, c - a)))


@pytest.mark.parametrize("element", ELEMENTS)
def test_sphere_surface_area_and_z_squared(element):
    r = 2.0
    check(
        integrate_region(one, SphereSurface([1.0, 2.0, 3.0], r), element=element),
        4 * math.pi * r**2,
    )
    unit = SphereSurface(np.zeros(3), 1.0)
    check(integrate_region(lambda x: x[:, 2] ** 2, unit, element=element), 4 * math.pi / 3)


def test_circle_length_and_four_sphere_area():
    check(integrate_region(one, SphereSurface([0.0, 0.0], 3.0), element="engine"), 6 * math.pi)
    # |S³| = 2π² r³
    check(integrate_region(one, SphereSurface(np.zeros(4), 1.0)), 2 * math.pi**2)


def test_mapped_ellipse_area_by_the_engine():
    a, b = 2.0, 0.5

    def ellipse(u):
        r, t = u[0], u[1]
        return np.stack([a * r * np.cos(t), b * r * np.sin(t)])

    region = MappedRegion(ellipse, [0.0, 0.0], [1.0, 2 * math.pi])
    assert region.dim == 2
    res = integrate_region(one, region)
    assert res.element == "engine"
    check(res, math.pi * a * b)
    # ∫ x² over the ellipse = π a³ b / 4
    check(integrate_region(lambda x: x[:, 0] ** 2, region), math.pi * a**3 * b / 4)


def test_mapped_torus_surface_area():
    # a 2-manifold in ℝ³: area element √det(JᵀJ) by the engine; area 4π² R r
    R, r = 3.0, 1.0

    def torus(u):
        t, p = u[0], u[1]
        rho = R + r * np.cos(t)
        return np.stack([rho * np.cos(p), rho * np.sin(p), r * np.sin(t)])

    region = MappedRegion(torus, [0.0, 0.0], [2 * math.pi, 2 * math.pi])
    assert region.dim == 3
    check(integrate_region(one, region), 4 * math.pi**2 * R * r)


def test_mapped_curve_length():
    # a helix (cos t, sin t, c t), t ∈ [0, 2π]: length 2π √(1 + c²)
    c = 0.5
    helix = MappedRegion(
        lambda u: np.stack([np.cos(u[0]), np.sin(u[0]), c * u[0]]), [0.0], [2 * math.pi]
    )
    check(integrate_region(one, helix), 2 * math.pi * math.sqrt(1 + c**2))


@pytest.mark.parametrize(
    "region",
    [
        Disk([0.3, 0.1], 2.0),
        Annulus([0.0, 0.0], 0.5, 1.0),
        Ball(np.zeros(3), 1.5),
        Ball(np.zeros(5), 1.0),
        Simplex(np.vstack([np.zeros(4), np.eye(4) + 0.1])),
        Triangle([0.0, 0, 0], [1.0, 1, 0], [0.0, 1, 2]),
        SphereSurface(np.zeros(3), 2.0),
        SphereSurface(np.zeros(5), 1.0),
    ],
    ids=lambda r: type(r).__name__,
)
def test_engine_element_equals_the_closed_form(region):
    rng = np.random.default_rng(0)
    u = region.lower + (region.upper - region.lower) * rng.random((50, region.lower.size))
    x, rho = volume_element(region.phi, u)
    np.testing.assert_allclose(x, region.phi(u), rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(rho, region.element(u), rtol=1e-10, atol=1e-12)


def test_bad_input_errors():
    with pytest.raises(ValueError, match=r"\(2,\)"):
        Disk([0.0, 0.0, 0.0], 1.0)
    with pytest.raises(ValueError, match="r_in < r_out"):
        Annulus([0.0, 0.0], 2.0, 1.0)
    with pytest.raises(ValueError, match="radius"):
        Ball(np.zeros(3), -1.0)
    with pytest.raises(ValueError, match="affinely dependent"):
        Triangle([0.0, 0.0], [1.0, 1.0], [2.0, 2.0])
    with pytest.raises(ValueError, match=r"\(4, 2\)"):
        Simplex(np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"lower has shape \(2,\) but upper has shape \(3,\)"):
        MappedRegion(lambda u: u, [0.0, 0.0], [1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match=r"returned shape \(1,\)"):
        MappedRegion(lambda u: u[:1], [0.0, 0.0], [1.0, 1.0])
    square = MappedRegion(lambda u: u, [0.0, 0.0], [1.0, 1.0])
    with pytest.raises(ValueError, match="no closed-form"):
        integrate_region(one, square, element="closed")
    with pytest.raises(ValueError, match="element must be"):
        integrate_region(one, square, element="exact")
    with pytest.raises(TypeError, match="no 'phi'"):
        integrate_region(one, object())
    with pytest.raises(ValueError, match=r"returned shape \(\d+, 2, 2\)"):
        integrate_region(lambda x: np.ones((x.shape[0], 2, 2)), Disk([0.0, 0.0], 1.0))


@pytest.mark.parametrize("method", ["gauss", "adaptive"])
def test_ball_moment_by_each_deterministic_method(method):
    res = integrate_region(lambda x: x[:, 2] ** 2, Ball(np.zeros(3), 1.0), method=method)
    assert res.method == method
    check(res, 4 * math.pi / 15)


@pytest.mark.parametrize("method", ["mc", "qmc"])
def test_disk_by_sampling_reports_a_standard_error(method):
    # ∫ x₁² over the unit disk = π/4; the true error within 4 standard errors
    res = integrate_region(
        lambda x: x[:, 0] ** 2, Disk([0.0, 0.0], 1.0), method=method, rtol=1e-3, seed=0
    )
    assert res.method == method
    assert 0 < res.error < 1e-2
    assert abs(res.value - math.pi / 4) <= 4 * res.error


@pytest.mark.parametrize("element", ELEMENTS)
def test_gradient_through_a_region_integral(element):
    # ∫_{unit disk} exp(c x₁) dA = 2π I₁(c)/c, whose derivative is 2π I₂(c)/c
    def integral(c):
        f = lambda x: np.exp(c * x[:, 0])  # noqa: E731
        return integrate_region(f, Disk([0.0, 0.0], 1.0), element=element).value

    c = 0.8
    assert integral(c) == pytest.approx(2 * math.pi * special.iv(1, c) / c, rel=1e-10)
    # the derivative is the same rule applied to ∂f/∂c: accurate to about the value's rtol
    assert mc.grad(integral)(c) == pytest.approx(2 * math.pi * special.iv(2, c) / c, rel=1e-8)
