"""Curves against iterations: convergence of optimizers, training losses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ._common import history_of, new_figure, target

__all__ = ["convergence", "training_curve"]

_TINY = 1e-300


def convergence(runs: Mapping[str, Any], *, f_star: float | None = None,
                title: str | None = None):
    """Two log-scale panels against the iteration k: f(x_k) − f* and ‖∇f(x_k)‖, one
    line per run. ``runs``: name → OptimizeResult with a trajectory, Trajectory,
    (f_values, grad_norms) or f_values alone. ``f*`` defaults to the smallest value
    seen over all runs. Gaps and norms that are exactly 0 (or below a tenth of the
    smallest positive one) are drawn at that floor, so the axes span only the decades
    the runs reached. Returns the Figure."""
    histories = {name: history_of(run) for name, run in runs.items()}
    if f_star is None:
        finite = [np.nanmin(f[np.isfinite(f)]) for f, _ in histories.values()
                  if np.any(np.isfinite(f))]
        f_star = float(min(finite)) if finite else 0.0
    gaps = {name: f - f_star for name, (f, _) in histories.items()}
    floor_f = _floor(list(gaps.values()))
    floor_g = _floor([g for _, g in histories.values() if g is not None])
    fig, (a1, a2) = new_figure(ncols=2, size=(10.5, 4.2))
    for name, (f, g) in histories.items():
        k = np.arange(len(f))
        a1.semilogy(k, np.maximum(gaps[name], floor_f), lw=1.4, label=name)
        if g is not None:
            a2.semilogy(k, np.maximum(g, floor_g), lw=1.4, label=name)
    a1.set_xlabel("iteration k")
    a1.set_ylabel("f(x_k) − f*")
    a1.set_title(f"gap to f* = {f_star:.6g}")
    a2.set_xlabel("iteration k")
    a2.set_ylabel("‖∇f(x_k)‖")
    a2.set_title("gradient norm")
    for a in (a1, a2):
        a.grid(alpha=0.3, which="both")
        if a.get_legend_handles_labels()[0]:
            a.legend(loc="best", fontsize="small")
    if title:
        fig.suptitle(title)
    return fig


def _floor(series: list) -> float:
    """A tenth of the smallest positive finite value of the series (1e-300 at least)."""
    pos = [np.min(v[np.isfinite(v) & (v > 0)]) for v in series
           if np.any(np.isfinite(v) & (v > 0))]
    return max(0.1 * float(min(pos)), _TINY) if pos else 1.0


def training_curve(losses, *, steps=None, log: bool = True, title: str | None = None, ax=None):
    """Training loss against the step (log scale when all values are positive).
    Returns the Figure."""
    y = np.asarray(losses, dtype=float).ravel()
    x = np.arange(len(y)) if steps is None else np.asarray(steps, dtype=float).ravel()
    fig, ax = target(ax)
    ax.plot(x, y, lw=1.2)
    if log and np.all(y[np.isfinite(y)] > 0):
        ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("training loss")
    ax.grid(alpha=0.3, which="both")
    ax.set_title(title or "training loss")
    return fig
