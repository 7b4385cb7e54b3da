"""An optimisation path seen in the plane of its top two principal directions, with the
loss surface beneath it (Li et al. 2018, "Visualizing the Loss Landscape of Neural Nets",
section 7).

Convention (that of Li et al.'s reference code): with θ* the reference point (the last
point of the trajectory unless ``params`` is given) and the offsets
m_i = θ_i − θ* of the trajectory points, the directions d₁, d₂ are the top two principal
components of the offsets (PCA, i.e. the right singular vectors of the *centred* matrix
M − mean(M)), unit vectors; ``explained_variance_ratio`` are the shares s_k²/Σ s_j² of
their singular values. The path's coordinates are the projections of the offsets,
(m_i·d₁, m_i·d₂), so θ* sits at the origin; the loss surface is
L(θ* + α d₁ + β d₂) on a grid covering the path with a margin
(:func:`mlcalc.landscape.scan.scan_grid`: resumable with ``out=``).

Signs: each direction is flipped so that its entry of largest magnitude is positive.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import numpy as np

from .directions import as_flat
from .scan import problem_fingerprint, scan_grid

__all__ = ["TrajectoryPCA", "trajectory_pca"]


@dataclasses.dataclass(frozen=True)
class TrajectoryPCA:
    """A trajectory projected on its top two principal directions.

    ``directions`` (2, dim) orthonormal rows d₁, d₂; ``explained_variance_ratio`` (2,)
    their shares of the variance of the offsets (``explained`` = their sum);
    ``singular_values`` of the centred offsets (all of them); ``coordinates`` (n, 2) the
    path in the plane (θ* at the origin); ``residuals`` (n,) the distance of each point
    from the plane θ* + span(d₁, d₂); ``center`` θ*; ``alphas``, ``betas``, ``losses``
    (``losses[i, j]`` = L(θ* + αᵢ d₁ + β_j d₂)) the surface, ``None`` when
    ``surface=False``; ``n_evaluated``, ``path`` as in the scans."""

    directions: np.ndarray
    explained_variance_ratio: np.ndarray
    singular_values: np.ndarray
    coordinates: np.ndarray
    residuals: np.ndarray
    center: np.ndarray
    alphas: np.ndarray | None
    betas: np.ndarray | None
    losses: np.ndarray | None
    n_evaluated: int
    path: str | None

    @property
    def explained(self) -> float:
        """The share of the variance the two directions explain."""
        return float(self.explained_variance_ratio.sum())


def _points(problem, trajectory) -> np.ndarray:
    if hasattr(trajectory, "trajectory"):  # a training or optimisation result
        trajectory = trajectory.trajectory
    if trajectory is None:
        raise ValueError("trajectory: the result holds no trajectory; record one "
                         "(e.g. record=True / record_every=...) and pass it")
    if hasattr(trajectory, "x") and not isinstance(trajectory, np.ndarray):
        trajectory = trajectory.x  # mlcalc.optimize Trajectory
    if isinstance(trajectory, np.ndarray) and trajectory.ndim == 2:
        pts = np.asarray(trajectory, dtype=float)
        if pts.shape[1] != problem.dim:
            raise ValueError(
                f"trajectory: expected shape (n_points, {problem.dim}), got {pts.shape}"
            )
    else:
        pts = np.stack([as_flat(problem, p, f"trajectory[{i}]")
                        for i, p in enumerate(trajectory)])
    if pts.shape[0] < 3:
        raise ValueError(f"trajectory: need at least 3 points, got {pts.shape[0]}")
    return pts


def trajectory_pca(
    problem: Any,
    trajectory: Any,
    params: Any = None,
    *,
    surface: bool = True,
    resolution: int | tuple[int, int] = 21,
    margin: float = 0.2,
    out: str | os.PathLike | None = None,
    save_every: int = 10,
    progress: bool = False,
) -> TrajectoryPCA:
    """Project an optimisation path on its top two principal directions (module
    docstring) and evaluate the loss on the plane beneath it.

    ``trajectory``: an ``(n_points, dim)`` array, a sequence of flat vectors or pytrees,
    or a result with a ``trajectory`` attribute (``train``, ``minimize(record=True)``).
    ``params``: the reference point θ* (pytree or flat); default the trajectory's last
    point. The surface covers the path's extent in each coordinate, widened by ``margin``
    times that extent on each side, on a ``resolution`` grid (``surface=False`` skips it).
    Cost: an SVD of the (n_points, dim) offsets, O(n_points²·dim), plus one loss
    evaluation per grid point."""
    pts = _points(problem, trajectory)
    center = pts[-1].copy() if params is None else as_flat(problem, params)
    offsets = pts - center
    centred = offsets - offsets.mean(axis=0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    total = float(np.sum(s ** 2))
    if total == 0.0 or vt.shape[0] < 2:
        raise ValueError(f"trajectory: no plane to project on (the points do not move, or "
                         f"the problem has {problem.dim} parameter)")
    dirs = vt[:2].copy()
    for k in range(2):
        if dirs[k][np.argmax(np.abs(dirs[k]))] < 0:
            dirs[k] = -dirs[k]
    ratio = s[:2] ** 2 / total
    coords = offsets @ dirs.T
    residuals = np.linalg.norm(offsets - coords @ dirs, axis=1)
    if not surface:
        return TrajectoryPCA(dirs, ratio, s, coords, residuals, center,
                             None, None, None, 0, None)
    if float(margin) < 0:
        raise ValueError(f"margin must be ≥ 0, got {margin!r}")
    n_a, n_b = (resolution, resolution) if np.isscalar(resolution) else resolution
    if int(n_a) < 2 or int(n_b) < 2:
        raise ValueError(f"resolution: need at least 2 points per axis, got {resolution!r}")
    axes = []
    for k, n in enumerate((int(n_a), int(n_b))):
        lo, hi = float(min(coords[:, k].min(), 0.0)), float(max(coords[:, k].max(), 0.0))
        width = hi - lo if hi > lo else max(float(np.ptp(coords)), 1.0)
        axes.append(np.linspace(lo - margin * width, hi + margin * width, n))

    def evaluate(alpha, beta):
        return float(problem.loss(center + alpha * dirs[0] + beta * dirs[1]))

    meta = {"origin": center, "directions": dirs}
    if out is not None:
        meta["problem"] = np.array(problem_fingerprint(problem))
    scan = scan_grid(
        evaluate, axes, out=out, save_every=save_every, progress=progress, meta=meta,
        description="trajectory_pca",
    )
    return TrajectoryPCA(dirs, ratio, s, coords, residuals, center, axes[0], axes[1],
                         scan.field("loss").copy(), scan.n_evaluated, scan.path)
