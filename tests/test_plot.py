"""mlcalc.plot: every function returns a Figure whose drawn data are the right numbers
(paths, gradient directions, classifications, curves), made on an Agg canvas."""

from types import SimpleNamespace

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.quiver import Quiver  # noqa: E402

import mlcalc.optimize as mo  # noqa: E402
from mlcalc import expr, plot  # noqa: E402


def quad(v):
    return v[0] ** 2 + 3 * v[1] ** 2


def _quiver(ax):
    return next(c for c in ax.collections if isinstance(c, Quiver))


def test_contour_draws_paths_minimum_and_the_negative_gradient_direction():
    res = mo.minimize(quad, np.array([1.5, 1.0]), method="gd", record=True, maxiter=30)
    path = res.trajectory.x
    fig = plot.contour(quad, [(-2, 2), (-2, 2)], paths={"gd": res, "line": path[:3]},
                       minimum=[0, 0])
    assert isinstance(fig, Figure) and isinstance(fig.canvas, FigureCanvasAgg)
    ax = fig.axes[0]
    lines = {ln.get_label(): ln for ln in ax.get_lines()}
    gd = lines[f"gd ({len(path) - 1} it.)"]
    np.testing.assert_allclose(gd.get_xydata(), path)
    np.testing.assert_allclose(lines["minimum"].get_xydata(), [[0.0, 0.0]])
    # arrows: −∇f/|∇f|, ∇f = (2x, 6y)
    q = _quiver(ax)
    P = q.get_offsets()
    G = np.stack([2 * P[:, 0], 6 * P[:, 1]], axis=1)
    norm = np.linalg.norm(G, axis=1)
    ok = norm > 0
    np.testing.assert_allclose(np.stack([q.U, q.V], 1)[ok], -(G[ok] / norm[ok, None]),
                               atol=1e-12)
    assert ax.get_xlim() == (-2.0, 2.0) and ax.get_ylim() == (-2.0, 2.0)


def test_contour_levels_span_the_values_at_quantiles():
    e = expr.parse("100*(y - x^2)^2 + (1 - x)^2")
    fig = plot.contour(e, [(-2, 2), (-1, 3)], quiver=False, levels=10, resolution=60)
    cs = fig.axes[0].collections[0]
    lv = np.asarray(cs.levels)
    assert np.all(np.diff(lv) > 0)
    xs, ys = np.linspace(-2, 2, 60), np.linspace(-1, 3, 60)
    X, Y = np.meshgrid(xs, ys)
    Z = 100 * (Y - X**2) ** 2 + (1 - X) ** 2
    np.testing.assert_allclose([lv[0], lv[-1]], [Z.min(), Z.max()], rtol=1e-12)
    np.testing.assert_allclose(lv[len(lv) // 2], np.quantile(Z, lv.size // 2 / (lv.size - 1)),
                               rtol=1e-12)
    assert not any(isinstance(c, Quiver) for c in fig.axes[0].collections)


def test_surface_is_3d_with_the_function_range():
    fig = plot.surface(lambda v: v[0] ** 2 + v[1] ** 2, [(-1, 1), (-1, 1)], resolution=21,
                       points=[[0.0, 0.0]])
    ax = fig.axes[0]
    assert ax.name == "3d"
    lo, hi = ax.get_zlim()
    assert lo <= 0.0 + 1e-9 and hi >= 2.0 - 1e-9 and hi < 2.5


def test_critical_points_marks_each_kind_at_its_point():
    pts = [(np.array([1.0, 0.0]), "minimum"), (np.array([-1.0, 0.0]), "saddle"),
           (np.array([0.0, 1.0]), "saddle"), (np.array([0.0, -1.0]), "maximum")]
    fig = plot.critical_points(lambda v: v[0] * v[1], [(-2, 2), (-2, 2)], pts)
    ax = fig.axes[0]
    marks = [ln for ln in ax.get_lines() if ln.get_marker() not in (None, "None", "")]
    assert len(marks) == 4
    got = {tuple(ln.get_xydata()[0]): ln.get_marker() for ln in marks}
    assert got[(1.0, 0.0)] == "o" and got[(-1.0, 0.0)] == "X" and got[(0.0, -1.0)] == "^"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert sorted(labels) == ["maximum", "minimum", "saddle"]  # one legend entry per kind


def test_vector_field_quiver_directions_and_stream():
    F = lambda v: np.stack([-v[1], v[0]])  # noqa: E731
    fig = plot.vector_field(F, [(-1, 1), (-1, 1)], kind="quiver", resolution=9)
    q = _quiver(fig.axes[0])
    P = q.get_offsets()
    r = np.hypot(P[:, 0], P[:, 1])
    ok = r > 0
    np.testing.assert_allclose(q.U[ok], -P[ok, 1] / r[ok], atol=1e-12)
    np.testing.assert_allclose(q.V[ok], P[ok, 0] / r[ok], atol=1e-12)
    fig = plot.vector_field(F, [(-1, 1), (-1, 1)], kind="stream")
    assert fig.axes[0].collections and not any(isinstance(c, Quiver)
                                               for c in fig.axes[0].collections)
    # a 3-D field is shown on the slice z = plane: (F1, F2) = (z, z) there
    fig = plot.vector_field(lambda v: np.stack([v[2], v[2], v[0]]), [(-1, 1), (-1, 1)],
                            kind="quiver", plane=2.0, resolution=5)
    q = _quiver(fig.axes[0])
    np.testing.assert_allclose(q.U, 1 / np.sqrt(2))
    with pytest.raises(ValueError, match="kind must be"):
        plot.vector_field(F, [(-1, 1), (-1, 1)], kind="arrows")


def test_graph_with_taylor_model():
    import mlcalc as mc

    f = lambda v: np.sin(v[0])  # noqa: E731
    tm = mc.taylor(f, np.array([0.5]), order=2)
    fig = plot.graph(f, (-1, 2), points=[0.5], taylor=tm, resolution=50)
    lines = {ln.get_label(): ln for ln in fig.axes[0].get_lines()}
    x, y = lines["f"].get_data()
    np.testing.assert_allclose(y, np.sin(x), atol=1e-15)
    x, t = lines["Taylor model"].get_data()
    np.testing.assert_allclose(t, np.sin(0.5) + np.cos(0.5) * (x - 0.5)
                               - np.sin(0.5) * (x - 0.5) ** 2 / 2, atol=1e-12)


def test_convergence_draws_gaps_and_gradient_norms_on_log_axes():
    runs = {m: mo.minimize(quad, np.array([1.0, 1.0]), method=m, record=True)
            for m in ("newton", "lbfgs")}
    fig = plot.convergence(runs, f_star=0.0)
    a1, a2 = fig.axes[:2]
    assert a1.get_yscale() == "log" and a2.get_yscale() == "log"
    by = {ln.get_label(): ln for ln in a1.get_lines()}
    f_lbfgs = runs["lbfgs"].trajectory.f
    np.testing.assert_allclose(by["lbfgs"].get_ydata(), np.maximum(f_lbfgs, 0.0))
    assert np.all(f_lbfgs > 0)
    g = {ln.get_label(): ln for ln in a2.get_lines()}
    np.testing.assert_allclose(g["newton"].get_ydata()[0], np.hypot(2.0, 6.0))
    # f* defaults to the smallest value seen
    fig = plot.convergence({"a": np.array([3.0, 2.0, 1.5])})
    # the exact zero gap is drawn at a tenth of the smallest positive one
    np.testing.assert_allclose(fig.axes[0].get_lines()[0].get_ydata(), [1.5, 0.5, 0.05])


def test_spectrum_and_density():
    fig = plot.spectrum(SimpleNamespace(values=np.array([0.5, 10.0, -2.0])))
    ax = fig.axes[0]
    np.testing.assert_allclose(ax.collections[-1].get_offsets()[:, 1], [10.0, 0.5, -2.0])
    assert ax.get_yscale() == "symlog"
    grid = np.linspace(-1, 5, 100)
    dens = np.exp(-(grid - 2) ** 2)
    fig = plot.spectral_density(SimpleNamespace(grid=grid, density=dens), eigenvalues=[4.0])
    ax = fig.axes[0]
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), dens)
    assert ax.get_yscale() == "log"
    assert any(np.allclose(ln.get_xdata(), [4.0, 4.0]) for ln in ax.get_lines()[1:])
    with pytest.raises(ValueError, match="differ"):
        plot.spectral_density(grid, dens[:-1])


def test_slices_and_interpolation_accept_objects_and_arrays():
    a = np.linspace(-1, 1, 11)
    fig = plot.slice_1d(SimpleNamespace(alphas=a, losses=a**2))
    np.testing.assert_allclose(fig.axes[0].get_lines()[0].get_ydata(), a**2)
    fig = plot.slice_1d([SimpleNamespace(alphas=a, losses=a**2),
                         SimpleNamespace(alphas=a, losses=2 * a**2)])
    assert len([ln for ln in fig.axes[0].get_lines() if ln.get_label().startswith("dir")]) == 2
    b = np.linspace(-2, 2, 7)
    Z = a[None, :] ** 2 + b[:, None] ** 2  # rows follow β
    f1 = plot.slice_2d(a, b, Z)
    f2 = plot.slice_2d(SimpleNamespace(alphas=a, betas=b, losses=Z.T))  # transposed layout
    np.testing.assert_allclose(f1.axes[0].collections[0].levels, f2.axes[0].collections[0].levels)
    with pytest.raises(ValueError, match="len\\(betas\\), len\\(alphas\\)"):
        plot.slice_2d(a, b, Z[:, :-1])
    t = np.linspace(0, 1, 21)
    loss = 1 - t + 2 * np.sin(np.pi * t)  # peak above the chord
    barrier = loss.max() - max(loss[0], loss[-1])
    fig = plot.interpolation(SimpleNamespace(ts=t, losses=loss, barrier=barrier))
    texts = [x.get_text() for x in fig.axes[0].texts]
    assert any(f"barrier {barrier:.3g}" in s for s in texts)


def test_bad_bounds_are_refused():
    with pytest.raises(ValueError, match="bounds must be 2 finite"):
        plot.contour(quad, [(1, -1), (0, 1)])
    with pytest.raises(ValueError, match="bounds must be 2 finite"):
        plot.surface(quad, [(0, 1)])


def test_decision_regions_follow_the_predictor():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 2))
    y = (X[:, 0] - X[:, 1] > 0).astype(int)
    fig = plot.decision_regions(lambda P: P[:, 0] - P[:, 1], X, y, resolution=30)
    mesh = fig.axes[0].collections[0]
    cls = np.asarray(mesh.get_array()).reshape(30, 30)
    lo, hi = X.min(0), X.max(0)
    pad = 0.1 * (hi - lo)
    xs = np.linspace(lo[0] - pad[0], hi[0] + pad[0], 30)
    ys = np.linspace(lo[1] - pad[1], hi[1] + pad[1], 30)
    np.testing.assert_array_equal(cls, (xs[None, :] - ys[:, None] > 0).astype(int))
    # scores (m, k): the argmax
    fig = plot.decision_regions(lambda P: np.stack([P[:, 1], P[:, 0]], 1), X, y, resolution=30)
    cls2 = np.asarray(fig.axes[0].collections[0].get_array()).reshape(30, 30)
    np.testing.assert_array_equal(cls2, cls)
    with pytest.raises(ValueError, match="need X of shape"):
        plot.decision_regions(lambda P: P[:, 0], X[:, :1], y)
