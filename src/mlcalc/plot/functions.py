"""Pictures of functions of two variables and of vector fields: contours with the
gradient and optimizer paths, 3-D surfaces, critical points, quiver and stream plots,
and graphs of functions of one variable."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from ._common import (
    KIND_STYLE,
    batched,
    check_bounds,
    frame_plane,
    gradients,
    grid,
    levels_for,
    path_of,
    target,
)

__all__ = ["contour", "surface", "critical_points", "vector_field", "graph", "decision_regions"]


def contour(
    f: Callable,
    bounds,
    *,
    paths: Mapping[str, Any] | None = None,
    minimum=None,
    quiver: bool = True,
    levels: int = 25,
    resolution: int = 120,
    title: str | None = None,
    labels: tuple[str, str] = ("x", "y"),
    ax=None,
):
    """Filled contours of f over the box ``bounds`` [(x_lo, x_hi), (y_lo, y_hi)], with
    the negative gradient −∇f as arrows on a 15 × 15 grid (``quiver``), each optimizer
    path of ``paths`` (name → OptimizeResult with a trajectory, Trajectory or (k, 2)
    array; its start marked by a circle, its end by a square) and ``minimum`` (a point,
    marked by a star).

    ``f`` takes one point (2,) (a parsed expression or a NumPy function, vectorised
    with ``mlcalc.vmap``). Levels sit at quantiles of f on the grid, so valleys of any
    scale show. The gradient arrows are normalised to unit length (direction only).
    Returns the Figure.
    """
    b = check_bounds(bounds, 2, "contour")
    fig, ax = target(ax)
    X, Y, Z = grid(f, b, resolution)
    lv = levels_for(Z, levels)
    cs = ax.contourf(X, Y, Z, levels=lv, cmap="viridis", extend="both")
    cs.set_rasterized(True)
    ax.contour(X, Y, Z, levels=lv, colors="k", linewidths=0.3, alpha=0.4)
    fig.colorbar(cs, ax=ax, label="f (levels at quantiles)")
    if quiver:
        qx = np.linspace(b[0, 0], b[0, 1], 15)
        qy = np.linspace(b[1, 0], b[1, 1], 15)
        QX, QY = np.meshgrid(qx, qy)
        P = np.stack([QX.ravel(), QY.ravel()], axis=1)
        with np.errstate(all="ignore"):
            G = gradients(f, P)
            norm = np.linalg.norm(G, axis=1, keepdims=True)
            U = -G / np.where(norm > 0, norm, 1.0)
        ok = np.all(np.isfinite(U), axis=1)
        ax.quiver(P[ok, 0], P[ok, 1], U[ok, 0], U[ok, 1], color="white", alpha=0.7,
                  angles="xy", pivot="mid", width=0.003)
    colors = ["#e41a1c", "#377eb8", "#ff7f00", "#984ea3", "#a65628", "#f781bf", "#999999",
              "#4daf4a", "#dede00"]
    for i, (name, run) in enumerate((paths or {}).items()):
        p = path_of(run)
        c = colors[i % len(colors)]
        ax.plot(p[:, 0], p[:, 1], "-", color=c, lw=1.4, label=f"{name} ({len(p) - 1} it.)")
        ax.plot(p[0, 0], p[0, 1], "o", color=c, mec="k", ms=6)
        ax.plot(p[-1, 0], p[-1, 1], "s", color=c, mec="k", ms=6)
    if minimum is not None:
        m = np.asarray(minimum, dtype=float).ravel()
        ax.plot(m[0], m[1], "*", color="gold", mec="k", ms=15, label="minimum", zorder=5)
    frame_plane(ax, b, labels, title or "contours of f and −∇f",
                legend=bool(paths) or minimum is not None)
    return fig


def surface(
    f: Callable,
    bounds,
    *,
    resolution: int = 50,
    points=None,
    title: str | None = None,
    labels: tuple[str, str] = ("x", "y"),
):
    """The graph z = f(x, y) over the box ``bounds`` as a 3-D surface (rasterised inside
    the SVG), with optional ``points`` (m, 2) marked on it. Returns the Figure."""
    from ._common import new_figure

    b = check_bounds(bounds, 2, "surface")
    fig, (ax,) = new_figure(size=(6.4, 5.2), projection="3d")
    X, Y, Z = grid(f, b, resolution)
    Zc = np.where(np.isfinite(Z), Z, np.nan)
    surf = ax.plot_surface(X, Y, Zc, cmap="viridis", linewidth=0, antialiased=True,
                           rstride=1, cstride=1, alpha=0.85 if points is not None else 1.0)
    surf.set_rasterized(True)
    if points is not None:
        P = np.atleast_2d(np.asarray(points, dtype=float))
        ax.scatter(P[:, 0], P[:, 1], batched(f)(P), color="red", edgecolors="k", s=60,
                   depthshade=False, zorder=10)
    ax.set_xlabel(labels[0])
    ax.set_ylabel(labels[1])
    ax.set_zlabel("f")
    ax.set_title(title or "surface z = f(x, y)")
    return fig


def critical_points(
    f: Callable,
    bounds,
    points,
    *,
    levels: int = 25,
    resolution: int = 120,
    title: str | None = None,
    labels: tuple[str, str] = ("x", "y"),
    ax=None,
):
    """Contours of f with its critical points marked by kind (minimum ●, maximum ▲,
    saddle ✕, degenerate ■). ``points``: a CriticalPointsResult, a sequence of
    CriticalPoint (``.x``, ``.kind``) or of (x, kind) pairs. Returns the Figure."""
    b = check_bounds(bounds, 2, "critical_points")
    fig, ax = target(ax)
    X, Y, Z = grid(f, b, resolution)
    lv = levels_for(Z, levels)
    cs = ax.contourf(X, Y, Z, levels=lv, cmap="Blues_r", extend="both", alpha=0.9)
    cs.set_rasterized(True)
    ax.contour(X, Y, Z, levels=lv, colors="k", linewidths=0.3, alpha=0.4)
    fig.colorbar(cs, ax=ax, label="f (levels at quantiles)")
    items = getattr(points, "points", points)
    seen: set[str] = set()
    for item in items:
        if hasattr(item, "kind"):
            x, kind = np.asarray(item.x, dtype=float), item.kind
        else:
            x, kind = np.asarray(item[0], dtype=float), str(item[1])
        style = dict(KIND_STYLE.get(kind, KIND_STYLE["degenerate"]))
        label = style.pop("label")
        ax.plot(x[0], x[1], linestyle="none", ms=10, mec="k",
                label=None if kind in seen else label, **style)
        seen.add(kind)
    frame_plane(ax, b, labels, title or "critical points", legend=bool(seen))
    return fig


def vector_field(
    F: Callable,
    bounds,
    *,
    kind: str = "both",
    resolution: int = 20,
    plane: float | None = None,
    title: str | None = None,
    labels: tuple[str, str] = ("x", "y"),
    ax=None,
):
    """A vector field F over a 2-D box: arrows (``kind="quiver"``), streamlines
    (``"stream"``) or both, coloured by |F|. ``F`` maps one point (d,) to (d,) (d = 2,
    or 3 with the slice z = ``plane``, default 0, showing the (F₁, F₂) components).
    Returns the Figure."""
    if kind not in ("quiver", "stream", "both"):
        raise ValueError(f"vector_field: kind must be 'quiver', 'stream' or 'both', got {kind!r}")
    b = check_bounds(bounds, 2, "vector_field")
    fig, ax = target(ax)
    xs = np.linspace(b[0, 0], b[0, 1], resolution)
    ys = np.linspace(b[1, 0], b[1, 1], resolution)
    X, Y = np.meshgrid(xs, ys)
    P = np.stack([X.ravel(), Y.ravel()], axis=1)
    fn = batched(F)
    try:
        V = fn(P)
    except Exception:  # noqa: BLE001 - a 3-D field: slice at z = plane
        V = None
    if V is None or V.ndim != 2 or V.shape[1] != 2:
        z = 0.0 if plane is None else float(plane)
        P3 = np.concatenate([P, np.full((len(P), 1), z)], axis=1)
        V = fn(P3)[:, :2]
    U, W = V[:, 0].reshape(X.shape), V[:, 1].reshape(X.shape)
    speed = np.hypot(U, W)
    if kind in ("stream", "both"):
        strm = ax.streamplot(xs, ys, np.nan_to_num(U), np.nan_to_num(W),
                             color=np.nan_to_num(speed), cmap="plasma", density=1.2,
                             linewidth=0.9)
        fig.colorbar(strm.lines, ax=ax, label="|F|")
    if kind in ("quiver", "both"):
        with np.errstate(all="ignore"):
            s = np.where(speed > 0, speed, 1.0)
        q = ax.quiver(X, Y, U / s, W / s, speed, cmap="viridis" if kind == "quiver" else None,
                      angles="xy", pivot="mid", width=0.003,
                      alpha=1.0 if kind == "quiver" else 0.5)
        if kind == "quiver":
            fig.colorbar(q, ax=ax, label="|F|")
    frame_plane(ax, b, labels, title or "vector field", equal=True)
    return fig


def graph(
    f: Callable,
    interval,
    *,
    points=None,
    taylor: Callable | None = None,
    resolution: int = 400,
    title: str | None = None,
    label: str = "x",
    ax=None,
):
    """The graph of a function of one variable over ``interval`` (lo, hi), with
    optional ``points`` marked and a ``taylor`` model (a function of one point (1,))
    drawn dashed. Returns the Figure."""
    b = check_bounds([interval], 1, "graph")
    fig, ax = target(ax)
    xs = np.linspace(b[0, 0], b[0, 1], resolution)
    ys = batched(f)(xs[:, None])
    ax.plot(xs, ys, lw=1.6, label="f")
    if taylor is not None:
        ts = batched(taylor)(xs[:, None])
        ax.plot(xs, ts, "--", lw=1.2, label="Taylor model")
        finite = ys[np.isfinite(ys)]
        if finite.size:
            pad = 0.2 * (np.ptp(finite) + 1e-12)
            ax.set_ylim(finite.min() - pad, finite.max() + pad)
    if points is not None:
        p = np.atleast_1d(np.asarray(points, dtype=float)).ravel()
        ax.plot(p, batched(f)(p[:, None]), "o", color="red", mec="k", label="point")
    ax.set_xlabel(label)
    ax.set_ylabel("f")
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize="small")
    ax.set_title(title or "graph of f")
    return fig


def decision_regions(
    predict: Callable,
    X,
    y,
    *,
    resolution: int = 150,
    margin: float = 0.1,
    title: str | None = None,
    labels: tuple[str, str] = ("x₁", "x₂"),
    ax=None,
):
    """The class a classifier predicts at each point of the box around 2-D inputs
    ``X`` (n, 2) (filled, one colour per class), with the examples coloured by their
    labels ``y``. ``predict(points)`` maps (m, 2) to scores (m, k) (the class is the
    argmax) or to one logit per point (m,) or (m, 1) (class 1 where it is positive).
    Returns the Figure."""
    X = np.asarray(X, dtype=float)
    y = np.asarray(y).ravel()
    if X.ndim != 2 or X.shape[1] != 2 or len(y) != len(X):
        raise ValueError(f"decision_regions: need X of shape (n, 2) and y of shape (n,); got "
                         f"{X.shape} and {np.shape(y)}")
    lo, hi = X.min(axis=0), X.max(axis=0)
    pad = margin * (hi - lo) + 1e-12
    xs = np.linspace(lo[0] - pad[0], hi[0] + pad[0], resolution)
    ys = np.linspace(lo[1] - pad[1], hi[1] + pad[1], resolution)
    GX, GY = np.meshgrid(xs, ys)
    scores = np.asarray(predict(np.stack([GX.ravel(), GY.ravel()], axis=1)), dtype=float)
    if scores.ndim == 2 and scores.shape[1] > 1:
        cls = np.argmax(scores, axis=1)
    else:
        cls = (scores.reshape(-1) > 0).astype(int)
    k = int(max(cls.max(initial=0), y.max(initial=0))) + 1
    fig, ax = target(ax)
    from matplotlib.colors import ListedColormap

    palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
               "#7f7f7f", "#bcbd22", "#17becf"]
    cmap = ListedColormap([palette[i % len(palette)] for i in range(k)])
    mesh = ax.pcolormesh(GX, GY, cls.reshape(GX.shape), cmap=cmap, vmin=-0.5, vmax=k - 0.5,
                         alpha=0.3, shading="auto")
    mesh.set_rasterized(True)
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap=cmap, vmin=-0.5, vmax=k - 0.5, s=12,
               edgecolors="k", linewidths=0.3)
    ax.set_xlabel(labels[0])
    ax.set_ylabel(labels[1])
    ax.set_title(title or "predicted classes and the data")
    return fig
