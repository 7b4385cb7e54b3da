"""Min-max methods on games with closed-form dynamics."""

from __future__ import annotations

import numpy as np
import pytest

from mlcalc.optimize.minimax import minimax


def _norms(res):
    return np.hypot(res.trajectory.x[:, 0], res.trajectory.y[:, 0])


def test_gda_spirals_outward_on_the_bilinear_game():
    eta = 0.1
    res = minimax(lambda x, y: x * y, np.array(1.0), np.array(1.0), method="gda", lr=eta,
                  maxiter=200, record=True)
    assert not res.success and res.status == 1
    r = _norms(res)
    assert np.all(np.diff(r) > 0)
    # z_{k+1} = [[1, −η], [η, 1]] z_k: the norm grows by exactly √(1 + η²) per step
    np.testing.assert_allclose(r[1:] / r[:-1], np.sqrt(1 + eta**2), rtol=1e-12)


@pytest.mark.parametrize("method", ["extragradient", "optimistic"])
def test_extragradient_and_optimistic_converge_on_the_bilinear_game(method):
    eta = 0.3
    res = minimax(lambda x, y: x * y, np.array(1.0), np.array(1.0), method=method, lr=eta,
                  maxiter=2000, tol=1e-10, record=True)
    assert res.success, res.message
    np.testing.assert_allclose([res.x, res.y], [0.0, 0.0], atol=1e-10)
    assert res.grad_norm <= 1e-10
    if method == "extragradient":
        # z_{k+1} = ((1 − η²)I − ηA) z_k: the norm contracts by √(1 − η² + η⁴) per step
        r = _norms(res)
        np.testing.assert_allclose(r[1:] / r[:-1], np.sqrt(1 - eta**2 + eta**4), rtol=1e-9)
        assert res.nfev == 2 * res.nit + 1


@pytest.mark.parametrize("method", ["gda", "extragradient", "optimistic"])
def test_strongly_convex_strongly_concave_quadratic(method):
    # f = ½‖x‖² + xᵀBy − ½‖y‖² has its unique saddle point at 0; with a linear term the
    # saddle point solves x + By + a = 0, Bᵀx − y + b = 0
    B = np.array([[1.0, 2.0], [0.0, 1.0]])
    a, b = np.array([1.0, -1.0]), np.array([0.5, 2.0])

    def f(x, y):
        return 0.5 * x @ x + x @ B @ y - 0.5 * y @ y + a @ x + b @ y

    K = np.block([[np.eye(2), B], [B.T, -np.eye(2)]])
    z_star = np.linalg.solve(K, -np.concatenate([a, b]))
    res = minimax(f, np.zeros(2), np.zeros(2), method=method, lr=0.05, maxiter=5000, tol=1e-10)
    assert res.success, res.message
    np.testing.assert_allclose(np.concatenate([res.x, res.y]), z_star, atol=1e-9)
    assert res.fun == pytest.approx(f(z_star[:2], z_star[2:]), abs=1e-12)
    assert res.rate.order == "linear"


def test_pytrees_callback_and_errors():
    seen = []
    res = minimax(lambda p, q: p["a"] * q[0], {"a": np.array(1.0)}, [np.array(1.0)],
                  method="extragradient", lr=0.5, maxiter=3, callback=seen.append)
    assert set(res.x) == {"a"} and isinstance(res.y, list) and len(seen) == 3
    with pytest.raises(ValueError, match="known methods: gda, extragradient, optimistic"):
        minimax(lambda x, y: x * y, 1.0, 1.0, method="sgd")
