"""Pictures of a loss landscape: the Hessian's top eigenvalues and spectral density,
1-D and 2-D slices, and the loss along the path from initialisation to the solution.

Each function takes plain arrays, or the matching result object of
``mlcalc.landscape`` (read by attribute: ``values``; ``grid``/``density``;
``alphas``/``losses``; ``alphas``/``betas``/``losses``; ``ts``/``losses``/``barrier``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._common import field_of, levels_for, target

__all__ = ["spectrum", "spectral_density", "slice_1d", "slice_2d", "interpolation"]


def spectrum(eigenvalues, *, title: str | None = None, ax=None):
    """The Hessian's computed eigenvalues λ₁ ≥ λ₂ ≥ … as a stem plot against their rank,
    on a symmetric-log axis (negative curvature shows below zero). ``eigenvalues``: an
    array or an object with ``values``. Returns the Figure."""
    lam = np.asarray(getattr(eigenvalues, "values", eigenvalues), dtype=float).ravel()
    lam = np.sort(lam)[::-1]
    fig, ax = target(ax)
    ranks = np.arange(1, lam.size + 1)
    colors = np.where(lam >= 0, "#1f77b4", "#d62728")
    ax.vlines(ranks, 0, lam, colors=colors, lw=2)
    ax.scatter(ranks, lam, c=colors, zorder=3)
    ax.axhline(0, color="k", lw=0.6)
    scale = np.max(np.abs(lam)) if lam.size else 1.0
    ax.set_yscale("symlog", linthresh=max(1e-6, 1e-3 * scale))
    ax.set_xlabel("rank")
    ax.set_ylabel("eigenvalue λ")
    ax.set_xticks(ranks)
    ax.grid(alpha=0.3)
    ax.set_title(title or "Hessian eigenvalues (computed)")
    return fig


def spectral_density(grid, density=None, *, eigenvalues=None, log: bool = True,
                     title: str | None = None, ax=None):
    """The smoothed spectral density φ(λ) of the Hessian (e.g. from stochastic Lanczos
    quadrature) against λ, on a log scale by default, with the computed top
    eigenvalues as vertical ticks. ``grid`` may be an object with ``grid`` and
    ``density``. Returns the Figure."""
    if density is None:
        grid, density = field_of(grid, "grid"), field_of(grid, "density")
    x = np.asarray(grid, dtype=float).ravel()
    y = np.asarray(density, dtype=float).ravel()
    if x.shape != y.shape:
        raise ValueError(f"spectral_density: grid {x.shape} and density {y.shape} differ")
    fig, ax = target(ax)
    ax.plot(x, y, lw=1.3, color="#1f77b4")
    if log and np.any(y > 0):
        floor = max(float(np.max(y)) * 1e-10, 1e-300)
        ax.set_yscale("log")
        ax.set_ylim(floor, float(np.max(y)) * 3.0)
        ax.fill_between(x, np.maximum(y, floor), floor, alpha=0.25)
    else:
        ax.fill_between(x, y, 0, alpha=0.25)
    if eigenvalues is not None:
        lam = np.asarray(getattr(eigenvalues, "values", eigenvalues), dtype=float).ravel()
        for v in lam:
            ax.axvline(v, color="#d62728", lw=0.8, alpha=0.7)
    ax.axvline(0, color="k", lw=0.6)
    ax.set_xlabel("eigenvalue λ")
    ax.set_ylabel("density φ(λ)")
    ax.grid(alpha=0.3)
    ax.set_title(title or "Hessian spectral density")
    return fig


def slice_1d(alphas, losses=None, *, label: str | None = None, title: str | None = None,
             ax=None):
    """The loss along a line through the solution, L(w* + α d), against α (d usually a
    filter-normalised random direction). ``alphas`` may be an object with ``alphas``
    and ``losses`` (or a sequence of them, one line each). Returns the Figure."""
    fig, ax = target(ax)
    if losses is None:
        items = alphas if isinstance(alphas, (list, tuple)) else [alphas]
        for i, item in enumerate(items):
            _line(ax, field_of(item, "alphas"), field_of(item, "losses"),
                  label if len(items) == 1 else f"direction {i + 1}")
    else:
        _line(ax, alphas, losses, label)
    ax.axvline(0, color="k", lw=0.6, ls=":")
    ax.set_xlabel("α  (w = w* + α d)")
    ax.set_ylabel("loss")
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize="small")
    ax.set_title(title or "1-D slice of the loss")
    return fig


def _line(ax, x, y, label):
    ax.plot(np.asarray(x, dtype=float).ravel(), np.asarray(y, dtype=float).ravel(), lw=1.5,
            label=label)


def slice_2d(alphas, betas=None, losses=None, *, levels: int = 25, title: str | None = None,
             ax=None):
    """Contours of the loss on the plane L(w* + α d₁ + β d₂), losses of shape
    (len(betas), len(alphas)) (rows follow β; the transposed layout is accepted when
    unambiguous). ``alphas`` may be an object with ``alphas``, ``betas``, ``losses``.
    Returns the Figure."""
    if betas is None:
        obj: Any = alphas
        alphas, betas, losses = (field_of(obj, "alphas"), field_of(obj, "betas"),
                                 field_of(obj, "losses"))
    a = np.asarray(alphas, dtype=float).ravel()
    b = np.asarray(betas, dtype=float).ravel()
    Z = np.asarray(losses, dtype=float)
    if Z.shape == (a.size, b.size) and a.size != b.size:
        Z = Z.T
    if Z.shape != (b.size, a.size):
        raise ValueError(f"slice_2d: losses {Z.shape} must be (len(betas), len(alphas)) = "
                         f"{(b.size, a.size)}")
    fig, ax = target(ax)
    lv = levels_for(Z, levels)
    cs = ax.contourf(a, b, Z, levels=lv, cmap="viridis", extend="both")
    cs.set_rasterized(True)
    ax.contour(a, b, Z, levels=lv, colors="k", linewidths=0.3, alpha=0.5)
    fig.colorbar(cs, ax=ax, label="loss (levels at quantiles)")
    ax.plot(0, 0, "*", color="gold", mec="k", ms=14, label="solution w*")
    ax.set_xlabel("α (direction d₁)")
    ax.set_ylabel("β (direction d₂)")
    ax.legend(loc="best", fontsize="small")
    ax.set_title(title or "2-D slice of the loss")
    return fig


def interpolation(ts, losses=None, *, barrier: float | None = None, title: str | None = None,
                  ax=None):
    """The loss along the straight line (1 − t) w₀ + t w₁ from initialisation (t = 0) to
    the solution (t = 1), with the barrier max_t L(t) − max(L(0), L(1)) marked when
    positive. ``ts`` may be an object with ``ts``, ``losses`` and ``barrier``.
    Returns the Figure."""
    if losses is None:
        obj: Any = ts
        ts, losses = field_of(obj, "ts", "alphas"), field_of(obj, "losses")
        if barrier is None:
            barrier = getattr(obj, "barrier", None)
    t = np.asarray(ts, dtype=float).ravel()
    y = np.asarray(losses, dtype=float).ravel()
    fig, ax = target(ax)
    ax.plot(t, y, lw=1.6, marker=".", ms=4)
    ax.plot([t[0], t[-1]], [y[0], y[-1]], "k:", lw=0.8, label="chord")
    if barrier is not None and np.isfinite(barrier):
        k = int(np.nanargmax(y))
        base = max(y[0], y[-1])
        if barrier > 0:
            ax.annotate("", xy=(t[k], y[k]), xytext=(t[k], base),
                        arrowprops=dict(arrowstyle="<->", color="#d62728"))
        ax.text(t[k], y[k], f"  barrier {barrier:.3g}", color="#d62728", va="bottom")
    ax.set_xlabel("t  (w = (1 − t) w_init + t w*)")
    ax.set_ylabel("loss")
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize="small")
    ax.set_title(title or "linear interpolation from initialisation")
    return fig
