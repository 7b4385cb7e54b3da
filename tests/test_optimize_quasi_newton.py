"""Quasi-Newton and nonlinear CG methods and the strong Wolfe line search, against
published facts (Wolfe conditions, superlinear convergence of L-BFGS, finite
termination of CG on quadratics) and scipy's evaluation counts on Rosenbrock."""

import numpy as np
import pytest
import scipy.optimize as so

import mlcalc as mc
import mlcalc.optimize.quasi_newton  # noqa: F401  (registers the methods)
from mlcalc.optimize import minimize
from mlcalc.optimize.line_search import more_thuente, strong_wolfe
from mlcalc.optimize.objective import Objective
from mlcalc.optimize.quasi_newton import _bfgs_update, _Memory, _two_loop


def rosen(x):
    return 100.0 * (x[1] - x[0] ** 2) ** 2 + (1.0 - x[0]) ** 2


def smooth_convex(x):
    n = x.size
    A = np.diag(np.arange(1.0, n + 1)) + 0.1
    return 0.5 * x @ A @ x + np.sum(np.exp(0.5 * x)) + 0.05 * np.sum(x**4)


@pytest.mark.parametrize("search", [strong_wolfe, more_thuente])
@pytest.mark.parametrize("c2", [0.9, 0.1])
@pytest.mark.parametrize("step", [1e-3, 1.0, 1e3])
@pytest.mark.parametrize("x0", [[-1.2, 1.0], [0.5, -0.3], [2.0, 2.0]])
def test_strong_wolfe_conditions_hold(c2, step, x0, search):
    c1 = 1e-4
    obj = Objective(rosen, np.array(x0))
    x = obj.x0
    f, g = obj.value_and_grad(x)
    d = -g / np.linalg.norm(g)
    res = search(obj, x, f, g, d, step=step, c1=c1, c2=c2)
    assert res.ok and res.step > 0
    f_t, g_t = obj.value_and_grad(x + res.step * d)
    assert f_t == res.f
    assert f_t <= f + c1 * res.step * (g @ d)  # sufficient decrease
    assert abs(g_t @ d) <= c2 * abs(g @ d)  # strong curvature condition


def test_more_thuente_steps_follow_the_papers_rules():
    # φ(t) = f(x + t d) for f(x) = x³/3 − x from x = 0 along d = 1: φ'(t) = t² − 1, the
    # minimiser is t = 1. From t = 3 (φ = 6 > φ(0), case 1 of Moré & Thuente 1994) the
    # cubic step is 1 (φ is the cubic) and the quadratic step through φ(0), φ'(0), φ(3)
    # is 1/2; the cubic one is farther from 0, so the rule takes their midpoint 3/4.
    # At 3/4 (φ' = −7/16, same sign as φ'(0), |φ'| decreasing: case 3) the cubic step
    # through 0 and 3/4 is again 1, nearer to 3/4 than the secant step 4/3: taken.
    trials = []

    def phi(x):
        trials.append(float(x[0]))
        return x[0] ** 3 / 3 - x[0]

    obj = Objective(phi, np.zeros(1), jac=lambda x: x**2 - 1.0)
    f, g = obj.value_and_grad(obj.x0)
    res = more_thuente(obj, obj.x0, f, g, np.ones(1), step=3.0, c2=0.1)
    assert res.ok and res.step == pytest.approx(1.0, rel=1e-12)
    np.testing.assert_allclose(trials, [0.0, 3.0, 0.75, 1.0], rtol=1e-12)


def test_compact_memory_equals_the_two_loop_recursion():
    rng = np.random.default_rng(3)
    n, m = 6, 4
    mem, S, Y, rhos = _Memory(m, n), [], [], []
    for _ in range(7):  # more pairs than the memory holds
        s = rng.standard_normal(n)
        y = s + 0.3 * rng.standard_normal(n)
        mem.add(s, y)
        S, Y, rhos = (S + [s])[-m:], (Y + [y])[-m:], (rhos + [1 / (y @ s)])[-m:]
        g = rng.standard_normal(n)
        np.testing.assert_allclose(mem.apply(g), _two_loop(g, S, Y, rhos), rtol=1e-12,
                                   atol=1e-12)
    # the secant equation H y = s for the newest pair
    np.testing.assert_allclose(mem.apply(Y[-1]), S[-1], rtol=1e-12)


@pytest.mark.parametrize("n", [5, 60])  # the product form and the expanded form
def test_bfgs_update_satisfies_the_secant_equation(n):
    rng = np.random.default_rng(n)
    Q = rng.standard_normal((n, n))
    H = Q @ Q.T / n + np.eye(n)
    s = rng.standard_normal(n)
    y = s + 0.2 * rng.standard_normal(n)
    rho = 1 / (y @ s)
    H1 = _bfgs_update(H, s, y, rho)
    np.testing.assert_allclose(H1 @ y, s, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(H1, H1.T, atol=1e-10)
    A = np.eye(n) - rho * np.outer(s, y)
    np.testing.assert_allclose(H1, A @ H @ A.T + rho * np.outer(s, s), rtol=1e-10, atol=1e-10)


def test_strong_wolfe_rejects_ascent_direction():
    obj = Objective(rosen, np.array([-1.2, 1.0]))
    f, g = obj.value_and_grad(obj.x0)
    res = strong_wolfe(obj, obj.x0, f, g, g)
    assert not res.ok and res.step == 0.0 and res.f == f
    with pytest.raises(ValueError, match="c1 < c2"):
        strong_wolfe(obj, obj.x0, f, g, -g, c1=0.5, c2=0.1)


def _quadratic_next_to_its_minimiser():
    """½xᵀAx − bᵀx at 3e-13 from its minimiser, with its value and gradient there."""
    A = np.array([[3.0, 1.0], [1.0, 2.0]])
    b = np.array([1.0, 1.0])
    x_star = np.linalg.solve(A, b)
    obj = Objective(lambda x: 0.5 * x @ A @ x - b @ x, x_star + np.array([3e-13, -2e-13]))
    x = obj.x0
    f, g = obj.value_and_grad(x)
    return A, b, obj, x, f, g


def test_strong_wolfe_below_the_rounding_of_f():
    # Near the minimiser of a quadratic the decrease along d, ½(gᵀd)²/dᵀAd ≈ 1e-25, is far
    # below the rounding of f ≈ −0.3 (≈ 1e-17): the values cannot show it, the
    # directional derivatives still can (Hager & Zhang's approximate Wolfe conditions).
    # The exact minimiser along d is t* = −gᵀd / dᵀAd.
    A, b, obj, x, f, g = _quadratic_next_to_its_minimiser()
    d = -g / np.linalg.norm(g)
    res = strong_wolfe(obj, x, f, g, d, step=1.0, c1=1e-4, c2=0.1)
    assert res.ok
    t_star = -(g @ d) / (d @ A @ d)
    assert abs(res.g @ d) <= 0.1 * abs(g @ d)
    assert res.step == pytest.approx(t_star, rel=0.2)


def test_backtracking_below_the_rounding_of_f():
    from mlcalc.optimize.line_search import ROUNDING_RISE, backtracking
    A, b, obj, x, f, g = _quadratic_next_to_its_minimiser()
    t, x_new, _ = backtracking(obj, x, f, g, -g, step=8.0)
    # Armijo on a quadratic: t ≤ 2(1 − c1) gᵀg / gᵀAg; backtracking by halves lands in
    # the upper half of that interval
    t_max = 2 * (1 - 1e-4) * (g @ g) / (g @ A @ g)
    assert t_max / 2 < t <= t_max
    assert np.linalg.norm(A @ x_new - b) < np.linalg.norm(g)
    # a wrong (negated) gradient: where the values cannot tell, no step may raise f by
    # more than rounding
    t_bad, _, f_bad = backtracking(obj, x, f, -g, g, step=8.0)
    assert f_bad <= f + ROUNDING_RISE * abs(f)
    far = Objective(lambda x: x @ x, np.full(3, 0.5))  # and where they can: no step
    f_far, g_far = far.value_and_grad(far.x0)
    assert backtracking(far, far.x0, f_far, -g_far, g_far)[0] == 0.0


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


def test_stop_at_rounding_tells_the_rounding_floor_from_a_failure():
    from mlcalc.optimize.driver import Run
    from mlcalc.optimize.line_search import APPROX_EPSILON

    obj = Objective(lambda x: x @ x + 100.0, np.ones(2))
    for predicted, success in ((-0.5 * APPROX_EPSILON * 102.0, True),
                               (-2.0 * APPROX_EPSILON * 102.0, False)):
        run = Run(obj, method="test", gtol=1e-12, maxiter=10)
        run.start(obj.x0, 102.0, np.full(2, 2.0))
        run.stop_at_rounding(predicted, "the line search found no decrease")
        res = run.result()
        assert res.success is success and res.status == (0 if success else 4)
        assert "the line search found no decrease" in res.message
        assert res.message.startswith("stationary to rounding") is success


@pytest.mark.parametrize("line_search", ["more_thuente", "strong_wolfe"])
@pytest.mark.parametrize("method", ["bfgs", "lbfgs"])
def test_both_line_searches_solve_rosenbrock(method, line_search):
    res = minimize(rosen, np.array([-1.2, 1.0]), method=method, tol=1e-10,
                   options={"line_search": line_search})
    assert res.success
    np.testing.assert_allclose(res.x, [1.0, 1.0], atol=1e-8)
    with pytest.raises(ValueError, match="unknown line_search 'armijo'; known:"):
        minimize(rosen, np.zeros(2), method=method, options={"line_search": "armijo"})


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
