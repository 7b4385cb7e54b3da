"""Prox operators and ISTA/FISTA against closed forms and Beck & Teboulle's (2009) bounds."""

from __future__ import annotations

import numpy as np
import pytest

import mlcalc.optimize.proximal  # noqa: F401  (registers the methods)
from mlcalc.optimize import minimize
from mlcalc.optimize.proximal import (
    prox_box,
    prox_elastic_net,
    prox_l1,
    prox_l2,
    prox_nonnegative,
)

RNG = np.random.default_rng(3)


def _lasso(X, y, lam):
    return lambda w: 0.5 * np.sum((X @ w - y) ** 2), lambda w: lam * np.sum(np.abs(w))


def _coordinate_descent(X, y, lam, sweeps):
    """Lasso by cyclic coordinate descent (an independent solver)."""
    w = np.zeros(X.shape[1])
    col = np.sum(X**2, axis=0)
    r = y - X @ w
    for _ in range(sweeps):
        for j in range(X.shape[1]):
            r += X[:, j] * w[j]
            z = X[:, j] @ r
            w[j] = np.sign(z) * max(abs(z) - lam, 0.0) / col[j]
            r -= X[:, j] * w[j]
    return w


# ---------------------------------------------------------------------------------
# prox operators: prox_{t h}(v) = argmin_u h(u) + ‖u − v‖²/(2t)


def _brute_prox(h, v, t):
    """The prox by minimising over a fine grid, coordinate-separable 1-D case."""
    grid = np.linspace(-4, 4, 80001)
    return np.array([grid[np.argmin(h(grid) + (grid - vi) ** 2 / (2 * t))] for vi in v])


def test_prox_l1_and_elastic_net_against_brute_force():
    v, t = np.array([-2.0, -0.3, 0.0, 0.4, 1.7]), 0.5
    np.testing.assert_allclose(prox_l1(v, t), [-1.5, 0.0, 0.0, 0.0, 1.2], atol=1e-15)
    np.testing.assert_allclose(prox_l1(v, t), _brute_prox(np.abs, v, t), atol=1e-4)
    l1, l2 = 0.6, 2.0
    np.testing.assert_allclose(prox_elastic_net(v, t, l1, l2),
                               _brute_prox(lambda u: l1 * np.abs(u) + 0.5 * l2 * u**2, v, t),
                               atol=1e-4)


def test_prox_l2_block_shrinkage():
    v = np.array([3.0, 4.0])
    np.testing.assert_allclose(prox_l2(v, 1.0), [2.4, 3.2], rtol=1e-15)
    np.testing.assert_array_equal(prox_l2(v, 5.0), [0.0, 0.0])
    # optimality: v − u ∈ t ∂‖u‖ = t u/‖u‖
    u = prox_l2(v, 2.0)
    np.testing.assert_allclose(v - u, 2.0 * u / np.linalg.norm(u), rtol=1e-14)


def test_prox_box_and_nonnegative():
    np.testing.assert_array_equal(prox_box([-3.0, 0.2, 5.0], -1.0, 1.0), [-1.0, 0.2, 1.0])
    np.testing.assert_array_equal(prox_nonnegative([-1.0, 2.0]), [0.0, 2.0])


# ---------------------------------------------------------------------------------
# lasso


@pytest.mark.parametrize("method", ["ista", "fista"])
def test_lasso_with_orthonormal_design_is_soft_thresholding(method):
    X, _ = np.linalg.qr(RNG.standard_normal((20, 6)))
    y = RNG.standard_normal(20)
    lam = 0.3
    f, _ = _lasso(X, y, lam)
    res = minimize(f, np.zeros(6), method=method, options={"prox": "l1", "lam": lam}, tol=1e-12)
    assert res.success, res.message
    # XᵀX = I: the lasso separates, w* = soft(Xᵀy, λ)
    np.testing.assert_allclose(res.x, prox_l1(X.T @ y, lam), atol=1e-12)


@pytest.mark.parametrize("options", [{}, {"restart": True}, {"step": None, "step0": 10.0}])
def test_lasso_by_fista_matches_coordinate_descent(options):
    X = RNG.standard_normal((40, 10))
    y = X @ np.array([2.0, 0, 0, -1.5, 0, 0, 0.7, 0, 0, 0]) + 0.1 * RNG.standard_normal(40)
    lam = 3.0
    f, h = _lasso(X, y, lam)
    res = minimize(f, np.zeros(10), method="fista", options={"prox": "l1", "lam": lam, **options},
                   tol=1e-10, maxiter=5000)
    assert res.success, res.message
    w = _coordinate_descent(X, y, lam, 2000)
    np.testing.assert_allclose(res.x, w, atol=1e-8)
    assert res.fun == pytest.approx(f(w) + h(w), rel=1e-12)
    # optimality: −Xᵀ(Xw − y) ∈ λ ∂‖w‖₁
    g = -res.jac
    nz = w != 0
    np.testing.assert_allclose(g[nz], lam * np.sign(w[nz]), atol=1e-7)
    assert np.all(np.abs(g[~nz]) <= lam + 1e-7)


def test_fista_gap_decays_faster_than_ista():
    # an ill-conditioned lasso (κ(XᵀX) = 1e4); fixed step 1/L
    n = 30
    Q, _ = np.linalg.qr(RNG.standard_normal((n, n)))
    X = Q @ np.diag(np.geomspace(1.0, 1e-2, n)) @ Q.T
    y = X @ RNG.standard_normal(n)
    lam = 1e-3
    f, h = _lasso(X, y, lam)
    w_star = _coordinate_descent(X, y, lam, 20000)
    F_star = f(w_star) + h(w_star)
    L = np.linalg.eigvalsh(X.T @ X)[-1]
    x0 = np.zeros(n)
    R2 = np.sum((x0 - w_star) ** 2)
    K = 300
    gaps = {}
    for method in ("ista", "fista"):
        res = minimize(f, x0, method=method, options={"prox": "l1", "lam": lam, "step": 1 / L},
                       tol=0.0, maxiter=K, record=True)
        gaps[method] = res.trajectory.f[1:] - F_star
    k = np.arange(1, K + 1)
    slack = 1e-12
    # Beck & Teboulle 2009, Theorems 3.1 and 4.4
    assert np.all(gaps["ista"] <= L * R2 / (2 * k) + slack)
    assert np.all(gaps["fista"] <= 2 * L * R2 / (k + 1) ** 2 + slack)
    assert gaps["fista"][-1] < 0.1 * gaps["ista"][-1]
    # ISTA is monotone
    assert np.all(np.diff(gaps["ista"]) <= 1e-14)


def test_other_penalties_and_errors():
    c = np.array([2.0, -0.5, 1.0])
    f = lambda w: 0.5 * np.sum((w - c) ** 2)  # noqa: E731
    # prox of the whole objective at step 1 from c: min ½‖w − c‖² + h(w) = prox_h(c)
    for prox, expected in [("l2", prox_l2(c, 0.7)), ("nonnegative", prox_nonnegative(c)),
                           ("elastic_net", prox_elastic_net(c, 1.0, 0.7, 0.5))]:
        res = minimize(f, np.zeros(3), method="fista",
                       options={"prox": prox, "lam": 0.7, "l2": 0.5}, tol=1e-12)
        np.testing.assert_allclose(res.x, expected, atol=1e-10)
    res = minimize(f, np.zeros(3), method="ista", bounds=[(0, 1)] * 3, tol=1e-12)
    np.testing.assert_allclose(res.x, [1.0, 0.0, 1.0], atol=1e-12)
    res = minimize(f, np.zeros(3), method="ista", tol=1e-12,
                   options={"prox": lambda v, t: prox_l1(v, t), "h": lambda v: np.abs(v).sum()})
    np.testing.assert_allclose(res.x, prox_l1(c, 1.0), atol=1e-12)
    with pytest.raises(ValueError, match="unknown prox 'l0'; known: l1, l2"):
        minimize(f, np.zeros(3), method="fista", options={"prox": "l0"})
    with pytest.raises(ValueError, match="pass options"):
        minimize(f, np.zeros(3), method="fista")
