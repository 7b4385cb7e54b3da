"""Critical points: the second-derivative test and the multistart Newton search,
against closed forms and published values."""

import dataclasses

import numpy as np
import pytest

from mlcalc.calculus import classify, critical_points


def saddle_5x2_y2(x):
    return 5 * x[0] ** 2 - x[1] ** 2


def monkey(x):
    return x[0] ** 3 - 3 * x[0] * x[1] ** 2


def quad(x):
    return x[0] ** 2 + 3 * x[1] ** 2 - x[0] * x[1]


def himmelblau(x):
    return (x[0] ** 2 + x[1] - 11) ** 2 + (x[0] + x[1] ** 2 - 7) ** 2


def himmelblau_grad(x, y):
    """Written out by hand, independent of the AD engine."""
    a, b = x * x + y - 11, x + y * y - 7
    return np.array([4 * x * a + 2 * b, 2 * a + 4 * y * b])


def himmelblau_hess(x, y):
    return np.array([[12 * x * x + 4 * y - 42, 4 * x + 4 * y],
                     [4 * x + 4 * y, 4 * x + 12 * y * y - 26]])


# ---------------------------------------------------------------------------------
# classify


def test_classify_saddle_5x2_minus_y2():
    c = classify(saddle_5x2_y2, [0.0, 0.0])
    assert c.kind == "saddle" and c.index == 1
    np.testing.assert_allclose(c.eigenvalues, [-2.0, 10.0])
    assert c.is_critical and c.grad_norm == 0.0 and not c.degenerate
    assert "index 1" in c.message


def test_classify_monkey_saddle_is_degenerate():
    c = classify(monkey, [0.0, 0.0])
    assert c.kind == "degenerate" and c.degenerate and c.is_critical
    np.testing.assert_allclose(c.eigenvalues, [0.0, 0.0], atol=1e-14)
    assert "inconclusive" in c.message


def test_classify_quadratic_minimum_eigenvalues():
    c = classify(quad, np.zeros(2))
    assert c.kind == "minimum" and c.index == 0
    np.testing.assert_allclose(c.eigenvalues, [4 - np.sqrt(5), 4 + np.sqrt(5)], rtol=1e-14)
    # eigenvectors diagonalise the Hessian [[2, -1], [-1, 6]]
    H = np.array([[2.0, -1.0], [-1.0, 6.0]])
    np.testing.assert_allclose(c.eigenvectors.T @ H @ c.eigenvectors,
                               np.diag(c.eigenvalues), atol=1e-13)


def test_classify_maximum_and_scalar_points():
    c = classify(lambda x: -(x[0] ** 2) - 2 * x[1] ** 2 - x[2] ** 2, np.zeros(3))
    assert c.kind == "maximum" and c.index == 3
    assert classify(np.cos, 0.0).kind == "maximum"
    c = classify(np.cos, np.pi)
    assert c.kind == "minimum" and c.x.shape == (1,)
    np.testing.assert_allclose(c.eigenvalues, [1.0])


def test_classify_indefinite_with_zero_eigenvalue_is_a_saddle():
    # x² − y² + z⁴: the Hessian diag(2, −2, 0) is indefinite, so not an extremum.
    c = classify(lambda x: x[0] ** 2 - x[1] ** 2 + x[2] ** 4, np.zeros(3))
    assert c.kind == "saddle" and c.index == 1 and c.degenerate


def test_classify_semidefinite_is_degenerate():
    # x² + y⁴ has a minimum and x² − y⁴ does not: the Hessian cannot tell them apart.
    for f in (lambda x: x[0] ** 2 + x[1] ** 4, lambda x: x[0] ** 2 - x[1] ** 4):
        c = classify(f, np.zeros(2))
        assert c.kind == "degenerate" and "inconclusive" in c.message


def test_classify_relative_eigenvalue_tolerance():
    # eigenvalues 2e6 and 1e-3: "zero" means |λ| ≤ tol · max(1, max|λ|) = tol · 2e6
    f = lambda x: 1e6 * x[0] ** 2 + 5e-4 * x[1] ** 2  # noqa: E731
    c = classify(f, np.zeros(2), tol=1e-8)
    assert c.kind == "degenerate" and c.eig_tol == pytest.approx(2e-2)
    assert classify(f, np.zeros(2), tol=1e-10).kind == "minimum"
    # the floor max(1, ·): small curvatures are compared with tol itself
    assert classify(lambda x: 1e-6 * (x[0] ** 2 + x[1] ** 2), np.zeros(2)).kind == "minimum"


def test_classify_non_critical_point_says_so():
    c = classify(quad, [1.0, 1.0])
    assert not c.is_critical
    assert c.grad_norm == pytest.approx(np.hypot(1.0, 5.0))
    assert c.message.startswith("not a critical point")
    # a published minimiser of Himmelblau to six decimals counts as critical
    assert classify(himmelblau, [-2.805118, 3.131312]).is_critical


def test_classify_result_is_frozen():
    c = classify(quad, np.zeros(2))
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.kind = "maximum"
    with pytest.raises(ValueError):
        c.eigenvalues[0] = 1.0


def test_classify_bad_input():
    with pytest.raises(ValueError, match=r"\(2, 2\)"):
        classify(quad, np.zeros((2, 2)))
    with pytest.raises(ValueError, match="scalar"):
        classify(lambda x: x * 2, np.zeros(2))


# ---------------------------------------------------------------------------------
# critical_points


def test_quadratic_has_one_minimum_at_origin():
    r = critical_points(quad, [(-3, 3), (-3, 3)], n_starts=32)
    assert len(r.points) == 1 and r.counts["minimum"] == 1
    p = r.points[0]
    assert p.kind == "minimum"
    np.testing.assert_allclose(p.x, [0.0, 0.0], atol=1e-12)
    assert r.hits == (32,) and r.n_converged == 32


HIMMELBLAU_MINIMA = np.array([[3.0, 2.0], [-2.805118, 3.131312], [-3.779310, -3.283186],
                              [3.584428, -1.848126]])


def test_himmelblau_all_critical_points():
    r = critical_points(himmelblau, [(-5, 5), (-5, 5)], n_starts=256, seed=0)
    assert r.counts == {"minimum": 4, "maximum": 1, "saddle": 4, "degenerate": 0}
    assert r.vectorised
    # the four published minima, f = 0
    mins = r.x[[p.kind == "minimum" for p in r.points]]
    for m in HIMMELBLAU_MINIMA:
        assert np.min(np.max(np.abs(mins - m), axis=1)) < 1e-6
    for p in r.minima:
        assert p.value < 1e-20 and p.index == 0
    # the published local maximum
    (mx,) = r.maxima
    np.testing.assert_allclose(mx.x, [-0.270845, -0.923039], atol=1e-6)
    assert mx.value == pytest.approx(181.617, abs=1e-3) and mx.index == 2
    assert r.points[-1] is mx  # sorted by value, the maximum is the highest
    # the saddles: zero gradient and an indefinite Hessian, by the hand-written formulas
    assert len(r.saddles) == 4
    for p in r.saddles:
        assert p.index == 1
        assert np.linalg.norm(himmelblau_grad(*p.x)) < 1e-9
        assert np.linalg.det(himmelblau_hess(*p.x)) < 0
    for p in r.points:
        np.testing.assert_allclose(p.hessian, himmelblau_hess(*p.x), rtol=1e-12, atol=1e-10)
        assert p.grad_norm <= r.gtol
    assert np.all(np.diff(r.values) >= 0)
    # all starts are accounted for
    assert (r.n_converged + r.n_left_box + r.n_stalled + r.n_diverged + r.n_unconverged
            == r.n_starts == sum(r.hits) + r.n_left_box + r.n_stalled + r.n_diverged
            + r.n_unconverged)


def test_himmelblau_reproducible_from_seed():
    a = critical_points(himmelblau, [(-5, 5), (-5, 5)], n_starts=64, seed=3)
    b = critical_points(himmelblau, [(-5, 5), (-5, 5)], n_starts=64, seed=3)
    np.testing.assert_array_equal(a.x, b.x)
    assert a.hits == b.hits


def test_sin_sin_extrema_and_saddle():
    # sin x · sin y on (0, 2π)²: extrema where cos x = cos y = 0, a saddle at (π, π)
    r = critical_points(lambda x: np.sin(x[0]) * np.sin(x[1]), [(0.1, 2 * np.pi - 0.1)] * 2,
                        n_starts=64)
    h = np.pi / 2
    expected = {"minimum": {(h, 3 * h), (3 * h, h)}, "maximum": {(h, h), (3 * h, 3 * h)},
                "saddle": {(np.pi, np.pi)}}
    assert r.counts == {"minimum": 2, "maximum": 2, "saddle": 1, "degenerate": 0}
    for kind, pts in expected.items():
        found = sorted(tuple(p.x) for p in r.of_kind(kind))
        np.testing.assert_allclose(found, sorted(pts), atol=1e-10)
    np.testing.assert_allclose(r.values, [-1, -1, 0, 1, 1], atol=1e-12)


def test_three_dimensional_saddles_and_their_indices():
    # Σ (xᵢ³ − 3xᵢ): critical points (±1, ±1, ±1); the index counts the −1 entries
    r = critical_points(lambda x: np.sum(x ** 3 - 3 * x), [(-2, 2)] * 3, n_starts=128)
    assert len(r.points) == 8
    assert r.counts == {"minimum": 1, "maximum": 1, "saddle": 6, "degenerate": 0}
    for p in r.points:
        np.testing.assert_allclose(np.abs(p.x), 1.0, atol=1e-12)
        assert p.index == int(np.sum(p.x < 0))
        np.testing.assert_allclose(p.value, np.sum(p.x ** 3 - 3 * p.x), atol=1e-12)


def test_a_circle_of_minima_is_degenerate():
    # (|x|² − 1)²: a maximum at 0 and a continuum of minima (zero curvature along it)
    r = critical_points(lambda x: (x @ x - 1) ** 2, [(-2, 2), (-2, 2)], n_starts=32)
    assert r.counts["maximum"] == 1 and r.counts["minimum"] == 0
    ring = r.of_kind("degenerate")
    assert len(ring) > 1
    for p in ring:
        assert abs(np.linalg.norm(p.x) - 1) < 1e-8 and p.value < 1e-16


def test_monkey_saddle_found_once_and_degenerate():
    r = critical_points(monkey, [(-1, 1), (-1, 1)], n_starts=64)
    assert len(r.points) == 1
    p = r.points[0]
    assert p.kind == "degenerate" and p.degenerate
    assert np.linalg.norm(p.x) < 1e-3


def test_one_dimensional_box():
    r = critical_points(lambda x: x[0] ** 3 - 3 * x[0], [(-2, 2)], n_starts=16)
    assert [p.kind for p in r.points] == ["minimum", "maximum"]
    np.testing.assert_allclose(r.x[:, 0], [1.0, -1.0], atol=1e-12)
    np.testing.assert_allclose(r.values, [-2.0, 2.0], atol=1e-12)


def test_points_outside_the_box_are_discarded():
    r = critical_points(lambda x: (x[0] - 10) ** 2 + x[1] ** 2, [(-1, 1), (-1, 1)],
                        n_starts=16)
    assert r.points == () and r.n_left_box == 16
    assert r.counts == {"minimum": 0, "maximum": 0, "saddle": 0, "degenerate": 0}


def test_explicit_starts():
    r = critical_points(himmelblau, [(-5, 5), (-5, 5)], starts=[[2.5, 2.5]])
    assert r.n_starts == 1 and len(r.points) == 1
    np.testing.assert_allclose(r.points[0].x, [3.0, 2.0], atol=1e-10)


def test_function_that_does_not_vectorise_falls_back_to_a_loop():
    def piecewise(x):
        if x[0] > 0:  # a Python branch on a traced value: fine per point, not batched
            return (x[0] - 1) ** 2 + x[1] ** 2
        return (x[0] + 1) ** 2 + x[1] ** 2 + 1

    r = critical_points(piecewise, [(-3, 3), (-3, 3)], n_starts=16)
    assert not r.vectorised
    np.testing.assert_allclose(r.x, [[1.0, 0.0], [-1.0, 0.0]], atol=1e-10)
    np.testing.assert_allclose(r.values, [0.0, 1.0], atol=1e-12)


def test_critical_points_bad_input():
    with pytest.raises(ValueError, match=r"\(3,\)"):
        critical_points(quad, [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="min < max"):
        critical_points(quad, [(1, -1), (0, 1)])
    with pytest.raises(ValueError, match="n_starts"):
        critical_points(quad, [(-1, 1), (-1, 1)], n_starts=0)
    with pytest.raises(ValueError, match=r"\(n_starts, 2\)"):
        critical_points(quad, [(-1, 1), (-1, 1)], starts=np.zeros((4, 3)))
