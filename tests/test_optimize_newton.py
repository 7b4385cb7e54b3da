"""Second-order methods: Newton (damping, trust region, pure), saddle-free Newton,
Newton-CG and trust-region Newton-CG, against closed forms and published facts."""

import numpy as np
import pytest

import mlcalc.optimize.second_order  # noqa: F401  (registers the methods)
from mlcalc.optimize import minimize
from mlcalc.optimize.objective import Objective
from mlcalc.optimize.second_order import exact_trust_region_step, levenberg_solve


def rosen(x):
    return 100.0 * (x[1] - x[0] ** 2) ** 2 + (1.0 - x[0]) ** 2


def saddle(x):
    """f = x² − y² + y⁴/4: a saddle at the origin, minima (0, ±√2) with f = −1."""
    return x[0] ** 2 - x[1] ** 2 + x[1] ** 4 / 4.0


A = np.array([[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]])
B = np.array([1.0, -2.0, 0.5])


def quadratic(x):
    return 0.5 * x @ A @ x - B @ x


def smooth_convex(x):
    """Strongly convex (Hessian ⪰ A), smooth, minimiser not in closed form."""
    return 0.5 * x @ A @ x - B @ x + np.sum(np.exp(x)) + 0.1 * np.sum(x**4)


@pytest.mark.parametrize("glob", ["damping", "trust_region", "none"])
def test_newton_solves_quadratic_in_one_step(glob):
    res = minimize(quadratic, np.array([3.0, -1.0, 2.0]), method="newton",
                   options={"globalization": glob, "initial_radius": 100.0})
    assert res.success and res.nit == 1
    np.testing.assert_allclose(res.x, np.linalg.solve(A, B), rtol=1e-12, atol=1e-12)


def test_newton_converges_quadratically():
    res = minimize(smooth_convex, np.full(3, 1.5), method="newton", tol=1e-12, record=True)
    assert res.success
    assert res.rate.order == "quadratic"
    e = res.trajectory.grad_norm
    e = e[e > 1e-9]
    ratios = e[1:] / e[:-1] ** 2
    assert len(ratios) >= 3 and np.all(ratios[-3:] < 10.0)


@pytest.mark.parametrize("glob", ["damping", "trust_region"])
def test_newton_rosenbrock(glob):
    res = minimize(rosen, np.array([-1.2, 1.0]), method="newton",
                   options={"globalization": glob})
    assert res.success
    np.testing.assert_allclose(res.x, [1.0, 1.0], atol=1e-8)


def test_levenberg_damping_makes_the_shift_positive_definite():
    H = np.array([[1.0, 0.0], [0.0, -3.0]])
    g = np.array([1.0, 1.0])
    d, lam = levenberg_solve(H, g)
    assert lam > 3.0
    np.linalg.cholesky(H + lam * np.eye(2))
    np.testing.assert_allclose((H + lam * np.eye(2)) @ d, -g, atol=1e-12)
    assert g @ d < 0


def test_newton_singular_hessian_does_not_crash():
    # H = 2·[[1, 1], [1, 1]] is singular everywhere; the minimisers form the line x = −y
    res = minimize(lambda x: (x[0] + x[1]) ** 2, np.array([1.0, 2.0]), method="newton")
    assert res.success and res.fun < 1e-12
    res = minimize(lambda x: (x[0] + x[1]) ** 2, np.array([1.0, 2.0]), method="newton",
                   options={"globalization": "none"})
    assert res.success and res.fun < 1e-12


@pytest.mark.parametrize("radius", [0.3, 1.0, 5.0])
def test_exact_trust_region_step_optimality(radius):
    rng = np.random.default_rng(0)
    H = np.diag([-2.0, 0.5, 3.0])
    for g in (np.array([1.0, -1.0, 2.0]), np.array([0.0, 0.1, 0.2])):  # second: hard case
        p, on_boundary = exact_trust_region_step(H, g, radius)
        assert np.linalg.norm(p) <= radius * (1 + 1e-9)
        model = g @ p + 0.5 * p @ H @ p
        q = rng.normal(size=(2000, 3))
        q *= radius * rng.uniform(size=(2000, 1)) ** (1 / 3) / np.linalg.norm(q, axis=1)[:, None]
        others = q @ g + 0.5 * np.einsum("ij,jk,ik->i", q, H, q)
        assert on_boundary and model <= others.min() + 1e-10


def test_saddle_free_newton_escapes_saddle_where_newton_is_attracted():
    x0 = np.array([0.1, 1e-3])
    plain = minimize(saddle, x0, method="newton", options={"globalization": "none"})
    assert plain.success
    np.testing.assert_allclose(plain.x, [0.0, 0.0], atol=1e-8)
    assert abs(plain.fun) < 1e-12
    sfn = minimize(saddle, x0, method="saddle_free_newton")
    assert sfn.success
    np.testing.assert_allclose(sfn.fun, -1.0, atol=1e-12)
    np.testing.assert_allclose(abs(sfn.x[1]), np.sqrt(2.0), atol=1e-8)
    assert abs(sfn.x[0]) < 1e-8


@pytest.fixture
def no_hessian(monkeypatch):
    def forbidden(self, x):
        raise AssertionError("the full Hessian was requested")

    monkeypatch.setattr(Objective, "hess", forbidden)


@pytest.mark.parametrize("method", ["newton_cg", "trust_ncg"])
def test_matrix_free_methods_use_hvps_only(method, no_hessian):
    calls = []

    def hvp(x, p):
        calls.append(1)
        return np.array([1200 * x[0] ** 2 - 400 * x[1] + 2, -400 * x[0]]) * p[0] + np.array(
            [-400 * x[0], 200.0]) * p[1]

    res = minimize(rosen, np.array([-1.2, 1.0]), method=method, hvp=hvp, hess=None)
    assert res.success
    np.testing.assert_allclose(res.x, [1.0, 1.0], atol=1e-6)
    assert res.nhev == len(calls) > 0
    engine = minimize(rosen, np.array([-1.2, 1.0]), method=method)  # engine HVPs
    assert engine.success and engine.nhev > 0


@pytest.mark.parametrize("method", ["newton_cg", "trust_ncg"])
def test_matrix_free_methods_leave_the_saddle(method, no_hessian):
    res = minimize(saddle, np.array([0.5, 1e-3]), method=method)
    assert res.success
    np.testing.assert_allclose(res.fun, -1.0, atol=1e-10)


def test_newton_cg_superlinear_on_smooth_convex(no_hessian):
    res = minimize(smooth_convex, np.full(3, 1.5), method="newton_cg", tol=1e-9)
    assert res.success and res.rate.order in ("superlinear", "quadratic")


@pytest.mark.parametrize("forcing", ["quadratic", "superlinear"])
@pytest.mark.parametrize("method", ["newton_cg", "trust_ncg"])
def test_forcing_terms_converge(method, forcing, no_hessian):
    # η = min(0.5, ‖g‖) gives quadratic local convergence, min(0.5, √‖g‖) superlinear
    # (N&W Theorem 7.2): both reach the minimiser, the first with fewer iterations
    res = minimize(smooth_convex, np.full(3, 1.5), method=method, tol=1e-10,
                   options={"forcing": forcing})
    assert res.success and res.rate.order in ("superlinear", "quadratic")
    np.testing.assert_allclose(res.jac, 0.0, atol=1e-10)


def test_trust_ncg_radius_cap_follows_the_scale_of_the_iterates(no_hessian):
    # Brown's badly scaled function (MGH problem 4): r = (x₁ − 1e6, x₂ − 2e-6, x₁x₂ − 2),
    # minimiser (1e6, 2e-6), f* = 0, from (1, 1). The region must grow to ~1e6 to get
    # there; with the cap 1000·max(1, ‖x‖) it can double at every successful step.
    def brown(x):
        r = np.stack([x[0] - 1e6, x[1] - 2e-6, x[0] * x[1] - 2.0])
        return np.sum(r * r)

    res = minimize(brown, np.ones(2), method="trust_ncg", tol=1e-10, maxiter=200)
    assert res.success and res.nit < 100, (res.nit, res.message)
    np.testing.assert_allclose(res.x, [1e6, 2e-6], rtol=1e-10)
    # with a fixed cap of 1000 every step is at most 1000 long: x₁ ≤ 1 + 200·1000 after
    # 200 iterations, far from 1e6
    capped = minimize(brown, np.ones(2), method="trust_ncg", tol=1e-10, maxiter=200,
                      options={"max_radius": 1000.0})
    assert capped.x[0] < 5e5


def test_errors():
    with pytest.raises(ValueError, match="unknown forcing 'cubic'; known: quadratic"):
        minimize(rosen, np.zeros(2), method="newton_cg", options={"forcing": "cubic"})
    with pytest.raises(ValueError, match="damping, trust_region, none"):
        minimize(rosen, np.zeros(2), method="newton", options={"globalization": "lm"})
    with pytest.raises(ValueError, match="eta"):
        minimize(rosen, np.zeros(2), method="trust_ncg", options={"eta": 0.5})
    with pytest.raises(ValueError, match="unconstrained"):
        minimize(rosen, np.zeros(2), method="newton", bounds=[(0, 1), (0, 1)])
