"""Linear interpolation, mode connectivity and trajectory PCA."""

import numpy as np
import pytest

from mlcalc.landscape.paths import curve_point, interpolate, mode_connect
from mlcalc.landscape.pca import trajectory_pca
from mlcalc.landscape.scan import ScanMismatchError
from mlcalc.models.problem import Problem
from mlcalc.optimize import minimize
from mlcalc.optimize.transforms import cosine_decay_schedule


def _identity(p, X):
    return p["w"]


def function_problem(f, w0, counter=None, fail_after=None):
    """The Problem whose loss is f(w) (the model returns the parameters)."""

    def loss(out, y):
        if counter is not None:
            if fail_after is not None and len(counter) >= fail_after:
                raise KeyboardInterrupt("simulated interruption")
            counter.append(1)
        return f(out)

    return Problem(_identity, loss, (np.zeros((1, 1)), np.zeros(1)),
                   {"w": np.asarray(w0, dtype=float)})


def double_well(w):
    return (w[0] ** 2 - 1) ** 2 + w[1] ** 2


# ---------------------------------------------------------------- interpolation
def test_barrier_between_the_minima_of_a_double_well():
    prob = function_problem(double_well, [0.0, 0.0])
    # n = 20: t = ½ (the saddle at the origin, L = 1) is not a grid point
    li = interpolate(prob, np.array([-1.0, 0.0]), np.array([1.0, 0.0]), n=20)
    assert li.loss_a == 0.0 and li.loss_b == 0.0
    assert li.barrier == pytest.approx(1.0, abs=1e-9)
    assert li.barrier_mean == pytest.approx(1.0, abs=1e-9)
    assert li.t_max == pytest.approx(0.5, abs=1e-4)
    coarse = interpolate(prob, np.array([-1.0, 0.0]), np.array([1.0, 0.0]), n=20,
                         refine=False)
    assert coarse.barrier < 0.999  # the grid alone misses the top


def test_barrier_conventions_with_unequal_ends():
    prob = function_problem(double_well, [0.0, 0.0])
    a, b = np.array([-1.0, 0.0]), np.array([1.0, 0.5])  # L(a) = 0, L(b) = 0.25
    li = interpolate(prob, a, b, n=31)
    t = np.linspace(0, 1, 200001)  # brute force along the line
    top = np.max(((2 * t - 1) ** 2 - 1) ** 2 + (0.5 * t) ** 2)
    assert li.loss_b == pytest.approx(0.25)
    assert li.loss_max == pytest.approx(top, abs=1e-9)
    assert li.barrier == pytest.approx(top - 0.25, abs=1e-9)  # above the higher end
    assert li.barrier_mean == pytest.approx(top - 0.125, abs=1e-9)  # Frankle et al.
    np.testing.assert_allclose(li.losses, [double_well((1 - s) * a + s * b) for s in li.ts])


def test_interpolation_resumes_from_its_file(tmp_path):
    out = tmp_path / "line.npz"
    a, b = np.array([-1.0, 0.0]), np.array([1.0, 0.0])
    first: list = []
    with pytest.raises(KeyboardInterrupt):
        interpolate(function_problem(double_well, [0, 0], first, 7), a, b, n=11, out=out)
    second: list = []
    li = interpolate(function_problem(double_well, [0, 0], second), a, b, n=11, out=out,
                     refine=False)
    assert len(first) == 7 and len(second) == 11 - 7
    assert li.barrier == 1.0  # t = ½ is on this grid
    with pytest.raises(ScanMismatchError, match="b"):
        interpolate(function_problem(double_well, [0, 0]), a, -b, n=11, out=out)


# ---------------------------------------------------------------- curves
def test_curve_definitions():
    a, b, c = np.array([1.0, 0.0]), np.array([0.0, 2.0]), np.array([3.0, 3.0])
    for kind in ("bezier", "polychain"):
        np.testing.assert_allclose(curve_point(kind, a, b, c, 0.0)[0], a)
        np.testing.assert_allclose(curve_point(kind, a, b, c, 1.0)[0], b)
    assert np.allclose(curve_point("bezier", a, b, c, 0.5)[0], (a + 2 * c + b) / 4)
    assert np.allclose(curve_point("polychain", a, b, c, 0.5)[0], c)
    assert curve_point("bezier", a, b, c, 0.25)[1] == 2 * 0.25 * 0.75
    with pytest.raises(ValueError, match="kind"):
        curve_point("spline", a, b, c, 0.5)


def test_bezier_bend_minimises_the_expected_loss_of_a_quadratic():
    # L(w) = ½‖w‖²: E_t L(θ(t)) is quadratic in c with minimiser
    # c* = −(E[2t(1−t)³] a + E[2t³(1−t)] b) / E[4t²(1−t)²] = −¾ (a + b)
    prob = function_problem(lambda w: 0.5 * w @ w, [0.0, 0.0])
    a, b = np.array([-1.0, 1.0]), np.array([1.0, 1.0])
    mc = mode_connect(prob, a, b, steps=1000, learning_rate=cosine_decay_schedule(0.05, 1000),
                      n_samples=8, seed=3)
    np.testing.assert_allclose(mc.bend, [0.0, -1.5], atol=0.06)  # up to the sampling noise
    assert mc.n_grad == 1000 * 8 and mc.n_steps == 1000


def _tiny_mlp():
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, (40, 2))
    y = np.sin(X[:, 0]) * np.cos(X[:, 1])
    h = 4

    def model(p, X):
        return (np.tanh(X @ p[0]["W"] + p[0]["b"]) @ p[1]["W"] + p[1]["b"])[:, 0]

    params = [{"W": rng.normal(size=(2, h)), "b": 0.1 * rng.normal(size=h)},
              {"W": 0.5 * rng.normal(size=(h, 1)), "b": np.zeros(1)}]
    prob = Problem(model, lambda o, t: np.mean((o - t) ** 2), (X, y), params)
    a = minimize(prob.loss, prob.flat_params, method="lbfgs", jac=prob.grad, maxiter=300).x
    P = prob.unravel(a)
    perm = [1, 0, 2, 3]  # swap hidden units 0 and 1: the same function
    b = [{"W": P[0]["W"][:, perm], "b": P[0]["b"][perm]}, {"W": P[1]["W"][perm], "b": P[1]["b"]}]
    return prob, a, b


def test_mode_connection_between_permuted_solutions_of_a_tiny_mlp():
    prob, a, b = _tiny_mlp()
    assert prob.loss(a) == pytest.approx(prob.with_params(b).loss(), rel=1e-12)
    for kind in ("bezier", "polychain"):
        mc = mode_connect(prob, a, b, kind=kind, steps=300, learning_rate=0.05, seed=0)
        assert mc.line_barrier > 1.0  # the straight line crosses a high ridge
        assert mc.curve_barrier < 0.05 * mc.line_barrier
        assert mc.curve_max < 0.05 * mc.line_max
        assert mc.curve_losses[0] == mc.line.loss_a and mc.curve_losses[-1] == mc.line.loss_b


def test_mode_connection_is_reproducible_and_resumable(tmp_path):
    prob = function_problem(double_well, [0.0, 0.0])
    a, b = np.array([-1.0, 0.0]), np.array([1.0, 0.0])
    kw = dict(steps=60, learning_rate=0.05, n_samples=2, seed=5, n=11)
    full_calls: list = []
    full = mode_connect(function_problem(double_well, [0, 0], full_calls), a, b, **kw)
    again = mode_connect(prob, a, b, **kw)
    np.testing.assert_array_equal(full.bend, again.bend)
    # every path between the wells crosses w₁ = 0, where L ≥ 1: no curve beats the saddle
    assert full.line_barrier == pytest.approx(1.0, abs=1e-9)
    assert full.curve_barrier == pytest.approx(1.0, abs=1e-9)
    other = mode_connect(prob, a, b, **{**kw, "seed": 6})
    assert not np.array_equal(other.bend, full.bend)

    out = tmp_path / "curve.npz"
    calls: list = []
    with pytest.raises(KeyboardInterrupt):  # each gradient evaluates the loss once
        mode_connect(function_problem(double_well, [0, 0], calls, 45), a, b, out=out,
                     save_every=1000, **kw)
    with np.load(out) as z:
        assert int(z["step"]) == 22  # 2 samples per step: 22 steps done, the 23rd stopped
    rest: list = []
    resumed = mode_connect(function_problem(double_well, [0, 0], rest), a, b, out=out, **kw)
    # the 22 finished steps (44 gradients) are not redone; the evaluations after are the same
    assert len(rest) == len(full_calls) - 44
    np.testing.assert_array_equal(resumed.bend, full.bend)
    np.testing.assert_array_equal(resumed.train_losses, full.train_losses)
    with pytest.raises(ScanMismatchError, match="mode connection"):
        mode_connect(prob, a, b, out=out, **{**kw, "steps": 61})


# ---------------------------------------------------------------- trajectory PCA
def _planar_path(dim=12, seed=0):
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.normal(size=(dim, 2)))
    u, v = q.T
    center = rng.normal(size=dim)
    s = np.linspace(0, 1, 40)
    x = (1 - s) * 3 * np.cos(6 * s)  # a spiral into the final point
    y = (1 - s) * 1.5 * np.sin(6 * s)
    return center + np.outer(x, u) + np.outer(y, v), center, u, v


def test_pca_of_a_planar_path_explains_everything_and_recovers_the_plane(tmp_path):
    pts, center, u, v = _planar_path()
    H = np.diag(np.linspace(1, 3, pts.shape[1]))
    prob = function_problem(lambda w: 0.5 * (w - center) @ H @ (w - center), center)
    res = trajectory_pca(prob, pts, resolution=5, out=tmp_path / "pca.npz")
    assert res.n_evaluated == 25
    assert trajectory_pca(prob, pts, resolution=5, out=tmp_path / "pca.npz").n_evaluated == 0
    assert res.explained == pytest.approx(1.0, abs=1e-12)
    assert res.explained_variance_ratio[0] >= res.explained_variance_ratio[1] > 0
    np.testing.assert_allclose(res.center, pts[-1])
    # the plane is span(u, v): equal orthogonal projectors
    P_true = np.outer(u, u) + np.outer(v, v)
    np.testing.assert_allclose(res.directions.T @ res.directions, P_true, atol=1e-10)
    np.testing.assert_allclose(res.directions @ res.directions.T, np.eye(2), atol=1e-12)
    # the coordinates rebuild the path exactly
    np.testing.assert_allclose(res.center + res.coordinates @ res.directions, pts, atol=1e-10)
    assert res.residuals.max() < 1e-10
    np.testing.assert_allclose(res.coordinates[-1], 0.0, atol=1e-12)
    # the surface is the quadratic restricted to the plane: ½ xᵀ (DHDᵀ) x
    M = res.directions @ H @ res.directions.T
    A, B = np.meshgrid(res.alphas, res.betas, indexing="ij")
    expected = 0.5 * (M[0, 0] * A**2 + 2 * M[0, 1] * A * B + M[1, 1] * B**2)
    np.testing.assert_allclose(res.losses, expected, rtol=1e-10, atol=1e-12)
    # the grid covers the path
    assert res.alphas[0] < res.coordinates[:, 0].min() and res.betas[-1] > res.coordinates[
        :, 1].max()


def test_pca_of_a_path_off_the_plane_and_of_optimizer_results():
    pts, center, u, v = _planar_path(seed=1)
    w = np.random.default_rng(2).normal(size=pts.shape[1])
    w -= (w @ u) * u + (w @ v) * v
    bumped = pts + np.outer(0.3 * np.sin(np.linspace(0, 9, len(pts))), w)
    prob = function_problem(lambda x: x @ x, center)
    res = trajectory_pca(prob, list(bumped), surface=False)
    assert res.explained < 1.0 - 1e-4 and res.losses is None and res.residuals.max() > 1e-3
    # a minimize(record=True) result: its trajectory is taken as it is
    opt = minimize(lambda x: (x[0] - 1) ** 2 + 10 * (x[1] - x[0] ** 2) ** 2 + x[2] ** 2,
                   np.array([-1.0, 1.0, 0.5]), method="lbfgs", maxiter=30, record=True)
    prob3 = function_problem(lambda x: x @ x, np.zeros(3))
    r3 = trajectory_pca(prob3, opt, surface=False)
    np.testing.assert_allclose(r3.center, opt.trajectory.x[-1])
    assert r3.coordinates.shape == (len(opt.trajectory.x), 2)
    with pytest.raises(ValueError, match="n_points, 3"):
        trajectory_pca(prob3, np.zeros((5, 4)))
