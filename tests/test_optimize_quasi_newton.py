"""Quasi-Newton and nonlinear CG methods and the strong Wolfe line search, against
published facts (Wolfe conditions, superlinear convergence of L-BFGS, finite
termination of CG on quadratics) and scipy's evaluation counts on Rosenbrock."""

import numpy as np
import pytest
import scipy.optimize as so

import mlcalc as mc
import mlcalc.optimize.quasi_newton  # noqa: F401  (registers the methods)
from mlcalc.optimize import minimize
from mlcalc.optimize.line_search import strong_wolfe
from mlcalc.optimize.objective import Objective


def rosen(x):
    return 100.0 * (x[1] - x[0] ** 2) ** 2 + (1.0 - x[0]) ** 2


def smooth_convex(x):
    n = x.size
    A = np.diag(np.arange(1.0, n + 1)) + 0.1
    return 0.5 * x @ A @ x + np.sum(np.exp(0.5 * x)) + 0.05 * np.sum(x**4)


@pytest.mark.parametrize("c2", [0.9, 0.1])
@pytest.mark.parametrize("step", [1e-3, 1.0, 1e3])
@pytest.mark.parametrize("x0", [[-1.2, 1.0], [0.5, -0.3], [2.0, 2.0]])
def test_strong_wolfe_conditions_hold(c2, step, x0):
    c1 = 1e-4
    obj = Objective(rosen, np.array(x0))
    x = obj.x0
    f, g = obj.value_and_grad(x)
    d = -g / np.linalg.norm(g)
    res = strong_wolfe(obj, x, f, g, d, step=step, c1=c1, c2=c2)
    assert res.ok and res.step > 0
    f_t, g_t = obj.value_and_grad(x + res.step * d)
    assert f_t == res.f
    assert f_t <= f + c1 * res.step * (g @ d)  # sufficient decrease
    assert abs(g_t @ d) <= c2 * abs(g @ d)  # strong curvature condition


def test_strong_wolfe_rejects_ascent_direction():
    obj = Objective(rosen, np.array([-1.2, 1.0]))
    f, g = obj.value_and_grad(obj.x0)
    res = strong_wolfe(obj, obj.x0, f, g, g)
    assert not res.ok and res.step == 0.0 and res.f == f
    with pytest.raises(ValueError, match="c1 < c2"):
        strong_wolfe(obj, obj.x0, f, g, -g, c1=0.5, c2=0.1)


@pytest.mark.parametrize("method", ["bfgs", "lbfgs", "cg"])
def test_rosenbrock_from_standard_start(method):
    res = minimize(rosen, np.array([-1.2, 1.0]), method=method, maxiter=2000)
    assert res.success, res.message
    np.testing.assert_allclose(res.x, [1.0, 1.0], atol=1e-6)
    assert res.nfev == res.njev and res.nhev == 0


@pytest.mark.parametrize("x0", [[1.0, 2.0], [3.0, 3.0], [1.0, -1.0, 2.0]])
def test_lbfgs_superlinear_on_smooth_strongly_convex(x0):
    # with the memory covering the dimension (n ≤ m) the error ratio goes to 0; for
    # n ≫ m L-BFGS is only R-linear in theory (Liu & Nocedal 1989)
    res = minimize(smooth_convex, np.array(x0), method="lbfgs", tol=1e-10, record=True)
    assert res.success
    assert res.rate.order in ("superlinear", "quadratic")
    e = res.trajectory.grad_norm
    ratios = e[1:] / e[:-1]
    assert ratios[-2:].max() < 0.1 * ratios[:3].min()  # e_{k+1}/e_k → 0


@pytest.mark.parametrize("n", [5, 12])
def test_cg_terminates_on_quadratic_within_n_steps(n):
    rng = np.random.default_rng(n)
    Q = rng.normal(size=(n, n))
    A = Q @ Q.T + n * np.eye(n)
    b = rng.normal(size=n)
    res = minimize(lambda x: 0.5 * x @ A @ x - b @ x, np.zeros(n), method="cg", tol=1e-8,
                   options={"c1": 1e-7, "c2": 1e-6})
    assert res.success and res.nit <= n + 2
    np.testing.assert_allclose(res.x, np.linalg.solve(A, b), atol=1e-8)


@pytest.mark.parametrize("ours,theirs", [("lbfgs", "L-BFGS-B"), ("bfgs", "BFGS")])
def test_fewer_evaluations_than_scipy_on_rosenbrock(ours, theirs):
    x0 = np.array([-1.2, 1.0])
    res = minimize(rosen, x0, method=ours)
    ref = so.minimize(mc.value_and_grad(rosen), x0, jac=True, method=theirs)
    print(f"{ours}: nfev={res.nfev}  scipy {theirs}: nfev={ref.nfev}")
    assert res.success and ref.success
    assert res.nfev <= 1.5 * ref.nfev


def test_lbfgs_memory_one_and_pytree():
    res = minimize(lambda p: rosen(np.stack([p["a"], p["b"]])),
                   {"a": np.array(-1.2), "b": np.array(1.0)}, method="lbfgs",
                   options={"m": 1}, maxiter=5000)
    assert res.success
    np.testing.assert_allclose([res.x["a"], res.x["b"]], [1.0, 1.0], atol=1e-5)


@pytest.mark.parametrize("method", ["bfgs", "lbfgs", "cg"])
def test_failed_line_search_stops_with_message(method):
    # a wrong gradient (the negated one) makes every direction an ascent direction
    res = minimize(lambda x: x @ x, np.ones(3), method=method, jac=lambda x: -2.0 * x)
    assert not res.success and res.status == 4
    assert "line search" in res.message


def test_errors():
    with pytest.raises(ValueError, match="m must be"):
        minimize(rosen, np.zeros(2), method="lbfgs", options={"m": 0})
    with pytest.raises(ValueError, match="unconstrained"):
        minimize(rosen, np.zeros(2), method="bfgs", bounds=[(0, 1), (0, 1)])
    with pytest.raises(ValueError, match="'memory'.*c1, c2, restart"):
        minimize(rosen, np.zeros(2), method="cg", options={"memory": 3})
