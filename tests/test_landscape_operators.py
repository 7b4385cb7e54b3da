"""Curvature operators of mlcalc.landscape against closed forms and the dense Hessian
of the engine (mc.hessian of the full-data loss)."""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator, eigsh

import mlcalc as mc
from landscape_fixtures import full_loss, small_mlp_problem
from mlcalc.landscape import (
    FisherOperator,
    GaussNewtonOperator,
    HessianOperator,
    Operator,
    as_operator,
)
from mlcalc.models import Problem


def mse(pred, y):
    return np.mean((pred[:, 0] - y) ** 2)


def test_hessian_operator_equals_dense_hessian_over_minibatches():
    problem = small_mlp_problem(batch_size=7)  # 30 examples: batches of 7, 7, 7, 7, 2
    H = np.asarray(mc.hessian(full_loss(problem))(problem.flat_params))
    op = HessianOperator(problem)
    assert op.shape == (problem.dim, problem.dim)
    np.testing.assert_allclose(op.to_dense(), H, rtol=1e-10, atol=1e-12)
    v = np.random.default_rng(1).normal(size=problem.dim)
    np.testing.assert_allclose(op @ v, H @ v, rtol=1e-10, atol=1e-12)


def test_product_counter_and_block_products():
    problem = small_mlp_problem()
    op = HessianOperator(problem)
    V = np.random.default_rng(2).normal(size=(problem.dim, 3))
    assert op.n_products == 0
    op @ V[:, 0]
    assert op.n_products == 1
    out = op @ V
    assert op.n_products == 4 and out.shape == V.shape
    np.testing.assert_allclose(out[:, 1], op.matvec(V[:, 1]), rtol=1e-12)
    op.reset_count()
    assert op.n_products == 0


def test_linear_operator_for_scipy_counts_products():
    problem = small_mlp_problem()
    op = HessianOperator(problem)
    H = np.asarray(mc.hessian(full_loss(problem))(problem.flat_params))
    lin = op.as_linear_operator()
    vals = eigsh(lin, k=2, which="LA", tol=1e-12, return_eigenvectors=False)
    np.testing.assert_allclose(np.sort(vals), np.linalg.eigvalsh(H)[-2:], rtol=1e-8)
    assert op.n_products > 0


def test_params_elsewhere_flat_and_pytree():
    problem = small_mlp_problem()
    rng = np.random.default_rng(3)
    w = problem.flat_params + 0.3 * rng.normal(size=problem.dim)
    H = np.asarray(mc.hessian(full_loss(problem))(w))
    v = rng.normal(size=problem.dim)
    np.testing.assert_allclose(HessianOperator(problem, params=w) @ v, H @ v, rtol=1e-10)
    tree = problem.unravel(w)
    np.testing.assert_allclose(HessianOperator(problem, params=tree) @ v, H @ v, rtol=1e-10)
    with pytest.raises(ValueError, match=r"shape \(" + str(problem.dim) + r",\)"):
        HessianOperator(problem, params=w[:-1])


def least_squares_problem(seed=0, n=40, d=4):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = rng.normal(size=n)
    params = {"W": rng.normal(size=(d, 1))}
    return Problem(lambda p, X: X @ p["W"], mse, (X, y), params, batch_size=9)


def test_gauss_newton_and_fisher_of_least_squares_closed_forms():
    # L(w) = (1/n) Σ (xᵢ·w − yᵢ)²: Hessian = GGN = 2XᵀX/n; per-example gradients
    # gᵢ = 2(xᵢ·w − yᵢ)xᵢ, so the empirical Fisher is (4/n) Σ rᵢ² xᵢxᵢᵀ.
    problem = least_squares_problem()
    X, y, w = problem.X, problem.y, problem.flat_params
    n = X.shape[0]
    H_exact = 2 * X.T @ X / n
    r = X @ w - y
    F_exact = 4 * (X * r[:, None] ** 2).T @ X / n
    np.testing.assert_allclose(HessianOperator(problem).to_dense(), H_exact, rtol=1e-12)
    np.testing.assert_allclose(GaussNewtonOperator(problem).to_dense(), H_exact, rtol=1e-12)
    np.testing.assert_allclose(FisherOperator(problem).to_dense(), F_exact, rtol=1e-12)
    assert HessianOperator(problem, kind="gauss-newton").kind == "ggn"


def test_gauss_newton_of_cross_entropy_is_positive_semidefinite_hessian_is_not():
    problem = small_mlp_problem(sizes=(3, 6, 3))
    w = problem.flat_params * 3.0  # away from the minimum: the Hessian is indefinite
    G = GaussNewtonOperator(problem, w).to_dense()
    H = HessianOperator(problem, w).to_dense()
    assert np.linalg.eigvalsh(G).min() > -1e-12
    assert np.linalg.eigvalsh(H).min() < -1e-4


def test_as_operator_forms():
    rng = np.random.default_rng(4)
    A = rng.normal(size=(6, 6))
    A = A + A.T
    v = rng.normal(size=6)
    forms = [A, (lambda u: A @ u, 6), LinearOperator((6, 6), matvec=lambda u: A @ u),
             sp.csr_matrix(A), as_operator(A)]
    for form in forms:
        op = as_operator(form)
        assert isinstance(op, Operator) and op.shape == (6, 6)
        np.testing.assert_allclose(op @ v, A @ v, rtol=1e-13)
    op = as_operator(A)
    assert as_operator(op) is op
    np.testing.assert_allclose(op.shifted(2.5) @ v, A @ v + 2.5 * v, rtol=1e-13)
    problem = small_mlp_problem()
    assert isinstance(as_operator(problem), HessianOperator)


def test_bad_inputs_say_what_happened():
    A = np.arange(9.0).reshape(3, 3)
    with pytest.raises(ValueError, match="not symmetric"):
        as_operator(A)
    with pytest.raises(ValueError, match=r"square 2-D array, got shape \(2, 3\)"):
        as_operator(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="needs its size"):
        as_operator(lambda v: v)
    op = as_operator(np.eye(3))
    with pytest.raises(ValueError, match=r"shape \(3,\), got shape \(4,\)"):
        op @ np.ones(4)
    with pytest.raises(ValueError, match="unknown kind"):
        HessianOperator(small_mlp_problem(), kind="laplacian")
    with pytest.raises(TypeError, match="problem"):
        HessianOperator(np.eye(3))
    with pytest.raises(ValueError, match="force=True"):
        as_operator((lambda v: v, 10_000)).to_dense()


class QuadraticProblem:
    """The problem protocol without mlcalc.models: L(w) = ½ wᵀAw − bᵀw (what a framework
    adapter provides), with A symmetric indefinite."""

    def __init__(self, A, b, w):
        self.A, self.b, self.flat_params = A, b, np.asarray(w, dtype=float)
        self.name = "quadratic"

    @property
    def dim(self):
        return self.A.shape[0]

    @property
    def params(self):
        return self.flat_params

    def with_params(self, params):
        return QuadraticProblem(self.A, self.b, params)

    def value_and_grad(self, w=None):
        w = self.flat_params if w is None else w
        return 0.5 * w @ self.A @ w - self.b @ w, self.A @ w - self.b

    def hvp(self, w, v):
        return self.A @ v

    ggn_vp = fisher_vp = hvp


def test_operators_and_classification_use_only_the_problem_protocol():
    from mlcalc.landscape import classify_critical_point, eigenvalues

    rng = np.random.default_rng(5)
    Q, _ = np.linalg.qr(rng.normal(size=(8, 8)))
    lam = np.array([-3.0, -1.0, 0.5, 1.0, 2.0, 4.0, 5.0, 6.0])
    A = (Q * lam) @ Q.T
    b = rng.normal(size=8)
    problem = QuadraticProblem(A, b, np.zeros(8))
    op = HessianOperator(problem)
    np.testing.assert_allclose(op.to_dense(), A, atol=1e-14)
    np.testing.assert_allclose(eigenvalues(op, k=2, which="both").values, [-3.0, 6.0],
                               atol=1e-10)
    # the stationary point w* = A⁻¹b is a saddle of index 2; the origin is not critical
    report = classify_critical_point(problem, np.linalg.solve(A, b))
    assert report.verdict == "saddle" and report.index == 2 and report.is_critical
    np.testing.assert_allclose(report.eigenvalues, lam, atol=1e-12)
    assert not classify_critical_point(problem).is_critical
    lz = classify_critical_point(problem, np.linalg.solve(A, b), method="lanczos", k=6)
    assert lz.verdict == "saddle" and lz.index == 2 and lz.index_exact


def test_rich_is_imported_only_for_progress_bars():
    import subprocess
    import sys

    code = ("import sys, numpy as np, mlcalc.landscape as L\n"
            "assert 'rich' not in sys.modules\n"
            "L.eigenvalues(np.diag(np.arange(1.0, 30.0)), k=1, progress=True)\n"
            "assert 'rich' in sys.modules\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout == ""
