"""Krylov solvers and the differentiable linear solve of mlcalc.implicit, against
np.linalg.solve and the closed-form derivatives of A⁻¹b."""

import warnings

import numpy as np
import pytest

import mlcalc as mc
from mlcalc.implicit import (
    ImplicitSolveError,
    ImplicitSolveWarning,
    LinearSolver,
    bicgstab,
    cg,
    dense_solve,
    gmres,
    linear_solve,
)
from mlcalc.testing import check_grads

RNG = np.random.default_rng(0)
N = 12
_M = RNG.normal(size=(N, N))
SPD = _M @ _M.T / N + 0.5 * np.eye(N)
GENERAL = np.eye(N) * 3 + RNG.normal(size=(N, N)) / np.sqrt(N)
B = RNG.normal(size=N)


@pytest.mark.parametrize("solver, A", [(cg, SPD), (gmres, SPD), (gmres, GENERAL),
                                       (bicgstab, GENERAL), (dense_solve, GENERAL)])
def test_solvers_match_a_direct_solve(solver, A):
    res = solver(lambda v: A @ v, B, tol=1e-12)
    assert res.converged and res.residual_norm <= 1e-12 * np.linalg.norm(B)
    np.testing.assert_allclose(res.x, np.linalg.solve(A, B), rtol=1e-9, atol=1e-11)
    assert 0 < res.nit


def test_cg_takes_at_most_n_iterations_on_a_well_conditioned_system():
    # exact arithmetic: n steps; a condition number of ~10 needs far fewer
    res = cg(lambda v: SPD @ v, B, tol=1e-10)
    assert res.nit <= N


def test_gmres_restart_still_converges():
    res = gmres(lambda v: GENERAL @ v, B, tol=1e-12, restart=3)
    assert res.converged
    np.testing.assert_allclose(res.x, np.linalg.solve(GENERAL, B), rtol=1e-9)


def test_warm_start_is_used():
    x = np.linalg.solve(SPD, B)
    res = cg(lambda v: SPD @ v, B, x0=x, tol=1e-10)
    assert res.converged and res.nit <= 1


def test_cg_detects_an_indefinite_operator():
    A = np.diag([1.0, -1.0, 2.0])
    res = cg(lambda v: A @ v, np.array([1.0, 1.0, 1.0]))
    assert not res.converged and "not positive definite" in res.message


def test_zero_right_hand_side_needs_no_iterations():
    calls = []
    x = LinearSolver("gmres")(lambda v: calls.append(1) or v, np.zeros(4))
    np.testing.assert_array_equal(x, np.zeros(4))
    assert calls == []


def test_a_non_converging_solve_raises_with_its_residual():
    solver = LinearSolver("gmres", maxiter=2, restart=2)
    with pytest.raises(ImplicitSolveError, match=r"residual ‖Ax − b‖ = [0-9.e-]+"):
        solver(lambda v: GENERAL @ v, B)


def test_a_singular_system_raises():
    A = np.diag([1.0, 1.0, 0.0])
    with pytest.raises(ImplicitSolveError, match="did not solve"):
        LinearSolver("gmres")(lambda v: A @ v, np.ones(3))


def test_warn_mode_returns_the_unconverged_solution():
    solver = LinearSolver("cg", maxiter=1, on_failure="warn")
    with pytest.warns(ImplicitSolveWarning, match="residual"):
        x = solver(lambda v: SPD @ v, B)
    assert np.linalg.norm(SPD @ x - B) > 1e-6


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="unknown method"):
        LinearSolver("lu")
    with pytest.raises(ValueError, match="on_failure"):
        LinearSolver(on_failure="ignore")
    with pytest.raises(ValueError, match="square"):
        gmres(lambda v: np.ones(3), np.ones(4))


# ---------------------------------------------------------------------------------
# differentiable linear_solve


def _solve(A, b, method="gmres"):
    return linear_solve(lambda v, A: A @ v, b, A, solve=method)


@pytest.mark.parametrize("method", ["gmres", "bicgstab", "dense"])
def test_linear_solve_derivatives_match_the_closed_form(method):
    A, b = GENERAL[:5, :5] + np.eye(5), B[:5]
    x = np.linalg.solve(A, b)
    Ainv = np.linalg.inv(A)
    # ∂x/∂b = A⁻¹,  ∂xᵢ/∂A_jk = −(A⁻¹)_ij x_k
    np.testing.assert_allclose(mc.jacfwd(lambda b: _solve(A, b, method))(b), Ainv,
                               rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(mc.jacrev(lambda A: _solve(A, b, method))(A),
                               -np.einsum("ij,k->ijk", Ainv, x), rtol=1e-8, atol=1e-10)


def test_linear_solve_second_order_against_finite_differences():
    A, b = GENERAL[:4, :4], B[:4]
    check_grads(lambda A, b: _solve(A, b), (A, b), order=2, rtol=1e-5, atol=1e-6)


def test_linear_solve_hessian_matches_the_dense_formula():
    A, b = SPD[:4, :4], B[:4]

    def loss(b):
        return np.sum(linear_solve(lambda v, A: A @ v, b, A, symmetric=True) ** 3)

    def loss_dense(b):
        return np.sum(np.linalg.solve(A, b) ** 3)

    np.testing.assert_allclose(mc.hessian(loss)(b), mc.hessian(loss_dense)(b), rtol=1e-8)


def test_linear_solve_on_pytrees():
    A1, A2 = np.diag([2.0, 4.0]), np.array([[3.0]])

    def mv(v, s):
        return {"a": s * (A1 @ v["a"]), "b": A2 @ v["b"]}

    x = linear_solve(mv, {"a": np.array([2.0, 4.0]), "b": np.array([6.0])}, 2.0)
    np.testing.assert_allclose(x["a"], [0.5, 0.5])
    np.testing.assert_allclose(x["b"], [2.0])
    g = mc.grad(lambda s: np.sum(linear_solve(mv, {"a": np.ones(2), "b": np.ones(1)},
                                              s)["a"]))(2.0)
    assert g == pytest.approx(-(1 / 2 + 1 / 4) / 4, rel=1e-10)  # d/ds (c/s) = −c/s²


def test_linear_solve_under_vmap():
    A = GENERAL[:4, :4]
    bs = RNG.normal(size=(3, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        xs = mc.vmap(lambda b: _solve(A, b))(bs)
        xs_t = mc.vmap(lambda b: _solve(A, b), in_axes=1, out_axes=1)(bs.T)
    np.testing.assert_allclose(xs, np.linalg.solve(A, bs.T).T, rtol=1e-9)
    np.testing.assert_allclose(xs_t, xs.T, rtol=1e-12)


def test_operator_with_the_wrong_output_structure_is_refused():
    with pytest.raises(ValueError, match="structure of the right-hand side"):
        linear_solve(lambda v: (v, v), np.ones(2))
