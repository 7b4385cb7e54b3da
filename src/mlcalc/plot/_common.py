"""Shared helpers of the plot functions: figures without pyplot (Agg canvas), grids,
batched evaluation, reading result objects."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

KIND_STYLE = {
    "minimum": dict(marker="o", color="#2ca02c", label="minimum"),
    "maximum": dict(marker="^", color="#d62728", label="maximum"),
    "saddle": dict(marker="X", color="#ff7f0e", label="saddle"),
    "degenerate": dict(marker="s", color="#7f7f7f", label="degenerate"),
}


def new_figure(ncols: int = 1, nrows: int = 1, size: tuple[float, float] = (6.4, 4.8),
               projection: str | None = None):
    """A Figure with an Agg canvas (no pyplot, no GUI) and its axes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, layout="constrained")
    FigureCanvasAgg(fig)
    kw = {} if projection is None else {"projection": projection}
    axes = [fig.add_subplot(nrows, ncols, i + 1, **kw) for i in range(nrows * ncols)]
    return fig, axes


def target(ax, size=(6.4, 4.8), projection=None):
    """(fig, ax): the given axes' figure, or a new figure."""
    if ax is not None:
        return ax.figure, ax
    fig, axes = new_figure(size=size, projection=projection)
    return fig, axes[0]


def check_bounds(bounds, d: int = 2, who: str = "plot") -> np.ndarray:
    b = np.asarray(bounds, dtype=float)
    if b.shape != (d, 2) or not np.all(np.isfinite(b)) or np.any(b[:, 0] >= b[:, 1]):
        raise ValueError(
            f"{who}: bounds must be {d} finite (lo, hi) pairs with lo < hi, got "
            f"{np.asarray(bounds).tolist()}"
        )
    return b


def batched(f: Callable) -> Callable[[np.ndarray], np.ndarray]:
    """f for one point (d,) → a function of points (n, d) → (n,) (or (n, k)).

    Uses ``f.evaluate`` for a parsed expression, else ``mlcalc.vmap(f)``, else a loop."""
    if hasattr(f, "evaluate") and hasattr(f, "variables"):
        return lambda P: np.asarray(f.evaluate(P), dtype=float)

    def run(P):
        from ..autodiff.vmap import vmap

        try:
            with np.errstate(all="ignore"):
                return np.asarray(vmap(f)(P), dtype=float)
        except Exception:  # noqa: BLE001 - functions that do not vectorise: loop
            with np.errstate(all="ignore"):
                return np.array([np.asarray(f(p), dtype=float) for p in P])

    return run


def point_function(f: Callable) -> Callable:
    """The one-point function behind ``f`` (a parsed expression or a callable)."""
    return f.function if hasattr(f, "function") and hasattr(f, "variables") else f


def grid(f: Callable, bounds: np.ndarray, resolution: int):
    """(X, Y, Z) of f on a resolution × resolution grid over a 2-D box."""
    xs = np.linspace(bounds[0, 0], bounds[0, 1], resolution)
    ys = np.linspace(bounds[1, 0], bounds[1, 1], resolution)
    X, Y = np.meshgrid(xs, ys)
    P = np.stack([X.ravel(), Y.ravel()], axis=1)
    with np.errstate(all="ignore"):
        Z = batched(f)(P).reshape(X.shape)
    return X, Y, Z


def gradients(f: Callable, points: np.ndarray) -> np.ndarray:
    """∇f at each row of ``points`` by the engine (vmap of grad; a loop as fallback)."""
    from ..autodiff.api import grad

    return batched(grad(point_function(f)))(points)


def levels_for(Z: np.ndarray, n: int) -> np.ndarray:
    """Contour levels at quantiles of the finite values: evenly spread over the picture
    whatever the function's scale (Rosenbrock's valley included)."""
    z = Z[np.isfinite(Z)]
    if z.size == 0:
        return np.array([0.0, 1.0])
    lv = np.unique(np.quantile(z, np.linspace(0.0, 1.0, n)))
    if lv.size < 2:
        lv = np.array([z.min() - 0.5, z.min() + 0.5])
    return lv


def path_of(obj: Any) -> np.ndarray:
    """Iterates (k, d) of a run: an OptimizeResult with a trajectory, a Trajectory, or
    an array."""
    traj = getattr(obj, "trajectory", None)
    if traj is not None:
        obj = traj
    x = getattr(obj, "x", obj)
    return np.atleast_2d(np.asarray(x, dtype=float))


def history_of(obj: Any) -> tuple[np.ndarray, np.ndarray | None]:
    """(f_k, ‖∇f_k‖ or None) of a run: an OptimizeResult with a trajectory, a
    Trajectory, a pair of arrays, or one array of values."""
    traj = getattr(obj, "trajectory", None)
    if traj is not None:
        obj = traj
    if hasattr(obj, "f"):
        g = getattr(obj, "grad_norm", None)
        return np.asarray(obj.f, dtype=float), None if g is None else np.asarray(g, float)
    if isinstance(obj, tuple) and len(obj) == 2:
        return np.asarray(obj[0], dtype=float), np.asarray(obj[1], dtype=float)
    return np.asarray(obj, dtype=float), None


def field_of(obj: Any, *names: str):
    """The first attribute of ``obj`` among ``names`` (for result objects)."""
    for n in names:
        if hasattr(obj, n):
            return getattr(obj, n)
    raise TypeError(f"expected an object with one of the attributes {names}, got {type(obj)}")


def frame_plane(ax, bounds: np.ndarray, labels, title: str, legend: bool = False,
                equal: bool = False) -> None:
    """Limits to ``bounds`` (2, 2), axis labels, title, and a legend when asked: the
    finishing of every figure drawn in a box of the plane."""
    ax.set_xlim(bounds[0])
    ax.set_ylim(bounds[1])
    if equal:
        ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel(labels[0])
    ax.set_ylabel(labels[1])
    if legend:
        ax.legend(loc="best", fontsize="small", framealpha=0.85)
    ax.set_title(title)
