"""lstsq: QR, normal equations and SVD against closed forms and published facts."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import mlcalc as mc
from mlcalc.calculus.least_squares import LstsqResult, lstsq
from mlcalc.testing import check_grads

METHODS = ["qr", "normal", "svd"]
RNG = np.random.default_rng(42)
A = RNG.standard_normal((9, 4))
B_VEC = RNG.standard_normal(9)
B_MAT = RNG.standard_normal((9, 3))


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("b", [B_VEC, B_MAT], ids=["vector", "matrix"])
def test_agrees_with_numpy_lstsq(method, b):
    r = lstsq(A, b, method=method)
    x_ref, res_ref, rank_ref, s_ref = np.linalg.lstsq(A, b, rcond=None)
    np.testing.assert_allclose(r.x, x_ref, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(r.residuals, A @ x_ref - b, atol=1e-12)
    np.testing.assert_allclose(np.square(r.residual_norm), res_ref, rtol=1e-11)
    assert r.rank == rank_ref == 4 and r.method == method and r.note == ""
    np.testing.assert_allclose(r.singular_values, s_ref, rtol=1e-10)
    np.testing.assert_allclose(r.condition_number, np.linalg.cond(A), rtol=1e-10)


def test_gradient_identity_against_ad():
    # ∇‖Ax − b‖² = 2Aᵀ(Ax − b), at arbitrary x
    for x in (np.zeros(4), RNG.standard_normal(4), 10 * RNG.standard_normal(4)):
        ad = mc.grad(lambda x: np.sum((A @ x - B_VEC) ** 2))(x)
        np.testing.assert_allclose(ad, 2 * A.T @ (A @ x - B_VEC), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("ridge", [0.0, 0.8])
def test_gradient_vanishes_at_the_solution(method, ridge):
    r = lstsq(A, B_VEC, method=method, ridge=ridge)

    def objective(x):
        return np.sum((A @ x - B_VEC) ** 2) + ridge * np.sum(x**2)

    g = mc.grad(objective)(r.x)
    np.testing.assert_allclose(r.gradient_at_solution, g, atol=1e-13)
    assert np.max(np.abs(g)) < 1e-12 * np.linalg.norm(A) * np.linalg.norm(B_VEC)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("shape", [(9, 4), (3, 6)], ids=["tall", "wide"])
@pytest.mark.parametrize("nrhs", [None, 2])
def test_ridge_closed_form(method, shape, nrhs):
    M = RNG.standard_normal(shape)
    b = RNG.standard_normal(shape[0] if nrhs is None else (shape[0], nrhs))
    lam = 0.37
    r = lstsq(M, b, method=method, ridge=lam)
    expected = np.linalg.solve(M.T @ M + lam * np.eye(shape[1]), M.T @ b)
    np.testing.assert_allclose(r.x, expected, rtol=1e-11, atol=1e-12)
    assert r.ridge == lam and r.method == method
    np.testing.assert_allclose(r.gradient_at_solution, 0.0, atol=1e-12)


def _rank_deficient():
    M = RNG.standard_normal((7, 3))
    return np.column_stack([M, M[:, 0] - 2 * M[:, 2]])  # 4 columns, rank 3


@pytest.mark.parametrize("method", ["qr", "svd"])
def test_rank_deficient_gives_minimum_norm_solution(method):
    M = _rank_deficient()
    r = lstsq(M, B_VEC[:7], method=method)
    np.testing.assert_allclose(r.x, np.linalg.pinv(M) @ B_VEC[:7], rtol=1e-10, atol=1e-12)
    assert r.rank == 3 and r.condition_number > 1e14
    assert r.method == "svd" and r.requested_method == method
    if method == "qr":
        assert "rank-deficient" in r.note and "rank 3 < n = 4" in r.note
    # minimum norm: x is orthogonal to the null space of M
    null = np.array([1.0, 0.0, -2.0, -1.0])
    assert abs(null @ r.x) < 1e-12
    # still a least-squares solution
    np.testing.assert_allclose(M.T @ r.residuals, 0.0, atol=1e-12)


def test_underdetermined_minimum_norm():
    W = RNG.standard_normal((3, 7))
    for method in ("qr", "svd"):
        r = lstsq(W, B_VEC[:3], method=method)
        np.testing.assert_allclose(r.x, np.linalg.pinv(W) @ B_VEC[:3], atol=1e-12)
        assert r.method == "svd" and r.rank == 3 and r.residual_norm < 1e-13


def test_normal_equations_refuse_rank_deficient():
    with pytest.raises(np.linalg.LinAlgError, match="method='qr' or 'svd'"):
        lstsq(_rank_deficient(), B_VEC[:7], method="normal")
    # ridge makes the normal equations solvable again
    r = lstsq(_rank_deficient(), B_VEC[:7], method="normal", ridge=1e-3)
    assert r.rank == 3


def test_rcond_cuts_small_singular_values():
    U, _ = np.linalg.qr(RNG.standard_normal((6, 3)))
    V, _ = np.linalg.qr(RNG.standard_normal((3, 3)))
    M = U @ np.diag([1.0, 1e-2, 1e-9]) @ V.T
    b = RNG.standard_normal(6)
    r = lstsq(M, b, method="svd", rcond=1e-6)
    assert r.rank == 2
    np.testing.assert_allclose(r.x, np.linalg.pinv(M, rcond=1e-6) @ b, rtol=1e-10)


def test_normal_equations_square_the_condition_number():
    # Vandermonde fit with an exact solution: forward error ∝ κ·ε for QR, κ²·ε for the
    # normal equations (Golub & Van Loan, §5.3; Higham, Accuracy and Stability, §20).
    t = np.linspace(0.0, 1.0, 30)
    eps = np.finfo(float).eps
    for n in (6, 8):
        V = np.vander(t, n, increasing=True)
        x_true = np.ones(n)
        b = V @ x_true
        kappa = np.linalg.cond(V)
        err = {m: np.linalg.norm(lstsq(V, b, method=m).x - x_true) / np.sqrt(n)
               for m in METHODS}
        assert err["qr"] < 10 * kappa * eps
        assert err["svd"] < 10 * kappa * eps
        assert err["normal"] < 10 * kappa**2 * eps
        assert err["normal"] > 10 * kappa * eps  # beyond what QR guarantees
        assert err["normal"] > 1e3 * err["qr"]


@pytest.mark.parametrize("method", ["normal", "svd", "qr"])
@pytest.mark.parametrize("ridge", [0.0, 0.5])
def test_differentiable_through_the_solver(method, ridge):
    def sq_norm_of_solution(M):
        return np.sum(lstsq(M, B_VEC, method=method, ridge=ridge).x ** 2)

    check_grads(sq_norm_of_solution, (A,), order=2, modes=("fwd", "rev"), atol=1e-6,
                rtol=1e-6)
    # closed form: dx = (AᵀA + λI)⁻¹(dAᵀ r − Aᵀ dA x) with r = b − Ax, so for L = ‖x‖²
    # ∂L/∂A = r gᵀ − A g xᵀ, g = 2 (AᵀA + λI)⁻¹ x
    x = np.linalg.solve(A.T @ A + ridge * np.eye(4), A.T @ B_VEC)
    r = B_VEC - A @ x
    g = 2 * np.linalg.solve(A.T @ A + ridge * np.eye(4), x)
    expected = np.outer(r, g) - A @ np.outer(g, x)
    np.testing.assert_allclose(mc.grad(sq_norm_of_solution)(A), expected, rtol=1e-9,
                               atol=1e-12)


def test_differentiable_in_b_and_diagnostics_stay_plain():
    def f(b):
        r = lstsq(A, b)
        assert isinstance(r.rank, int) and isinstance(r.condition_number, float)
        assert isinstance(r.singular_values, np.ndarray)
        return r.residual_norm ** 2

    # ‖(I − P)b‖² has gradient 2(I − P)b = −2 r
    x = np.linalg.lstsq(A, B_VEC, rcond=None)[0]
    np.testing.assert_allclose(mc.grad(f)(B_VEC), 2 * (B_VEC - A @ x), atol=1e-12)


def test_result_is_frozen():
    r = lstsq(A, B_VEC)
    assert isinstance(r, LstsqResult)
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.x = None  # type: ignore[misc]
    assert isinstance(r.residual_norm, float)
    assert lstsq(A, B_MAT).residual_norm.shape == (3,)


def test_integer_and_list_inputs():
    r = lstsq([[1, 0], [0, 1], [1, 1]], [1, 2, 3])
    np.testing.assert_allclose(r.x, [1.0, 2.0])


@pytest.mark.parametrize(
    "args, kwargs, error, match",
    [
        ((A, B_VEC[:5]), {}, ValueError, r"\(9, 4\).*\(5,\)"),
        ((A[0], B_VEC), {}, ValueError, "must be a matrix"),
        ((A, np.ones((9, 2, 2))), {}, ValueError, r"\(9, 2, 2\)"),
        ((A, B_VEC), {"method": "lu"}, ValueError, "method must be one of"),
        ((A, B_VEC), {"ridge": -1.0}, ValueError, "ridge must be >= 0"),
        ((A, B_VEC), {"rcond": -1.0}, ValueError, "rcond must be >= 0"),
        ((np.zeros((0, 3)), np.zeros(0)), {}, ValueError, "non-empty"),
        ((A.astype(complex), B_VEC), {}, TypeError, "real"),
    ],
)
def test_bad_input(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        lstsq(*args, **kwargs)


def test_vmap_over_right_hand_sides():
    for method in METHODS:
        xs = mc.vmap(lambda b, m=method: lstsq(A, b, method=m).x)(B_MAT.T)
        np.testing.assert_allclose(xs, np.linalg.lstsq(A, B_MAT, rcond=None)[0].T, atol=1e-12)
    with pytest.raises(NotImplementedError, match="vmap over A"):
        mc.vmap(lambda M: lstsq(M, B_VEC).x)(np.stack([A, A]))
