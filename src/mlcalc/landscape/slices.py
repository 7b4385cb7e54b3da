"""1-D and 2-D slices of the loss landscape (Li et al. 2018, "Visualizing the Loss
Landscape of Neural Nets"):

    f(α) = L(θ + α d),        f(α, β) = L(θ + α d₁ + β d₂),

along random filter-normalised directions (:mod:`mlcalc.landscape.directions`) or given
ones (top Hessian eigenvectors, the difference of two solutions...). Given directions are
used exactly as given (not normalised); call
:func:`~mlcalc.landscape.directions.normalize_direction` first to normalise them.

Long scans take ``out=`` (an ``.npz`` path): the grid is saved as it is computed and a
rerun resumes where the last one stopped (:func:`mlcalc.landscape.scan.scan_grid`).
Every function takes only the problem protocol (``dim``, ``flat_params``, ``layout``,
``loss(w)``, ``accuracy(w)``, ``batches()``), so framework adapters' problems work too.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import numpy as np

from .directions import as_flat, random_direction, random_directions
from .scan import problem_fingerprint, scan_grid

__all__ = ["Slice1D", "Slice2D", "slice_1d", "slice_2d", "as_directions"]


@dataclasses.dataclass(frozen=True)
class Slice1D:
    """f(α) = L(θ + α d) on a grid of α.

    ``alphas`` (n,), ``losses`` (n,), ``accuracies`` (n,) or ``None`` when not asked for
    (NaN where the problem has no accuracy); ``direction`` d and ``origin`` θ (flat);
    ``n_evaluated`` points computed by this call, ``n_loaded`` taken from ``path``."""

    alphas: np.ndarray
    losses: np.ndarray
    accuracies: np.ndarray | None
    direction: np.ndarray
    origin: np.ndarray
    n_evaluated: int
    n_loaded: int
    path: str | None

    @property
    def argmin(self) -> float:
        """The α of the smallest loss on the grid."""
        return float(self.alphas[np.nanargmin(self.losses)])


@dataclasses.dataclass(frozen=True)
class Slice2D:
    """f(α, β) = L(θ + α d₁ + β d₂) on a grid, ``losses[i, j]`` at ``(alphas[i],
    betas[j])`` ("ij" indexing: plot with ``contour(alphas, betas, losses.T)``).

    ``directions`` (2, dim) rows d₁, d₂; ``cosine`` = cos∠(d₁, d₂) (near 0 for random
    directions in high dimension); other fields as :class:`Slice1D`."""

    alphas: np.ndarray
    betas: np.ndarray
    losses: np.ndarray
    accuracies: np.ndarray | None
    directions: np.ndarray
    origin: np.ndarray
    cosine: float
    n_evaluated: int
    n_loaded: int
    path: str | None


def _span(span, what: str) -> tuple[float, float]:
    if np.isscalar(span):
        lo, hi = -float(span), float(span)
    else:
        try:
            lo, hi = (float(s) for s in span)
        except (TypeError, ValueError):
            raise ValueError(
                f"{what}: expected a number a (for [-a, a]) or a pair (lo, hi), got {span!r}"
            ) from None
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ValueError(f"{what}: need finite lo < hi, got ({lo}, {hi})")
    return lo, hi


def _resolution(n, what: str) -> int:
    if int(n) != n or int(n) < 2:
        raise ValueError(f"{what}: expected an integer ≥ 2 (points per axis), got {n!r}")
    return int(n)


def as_directions(problem: Any, directions: Any, k: int) -> np.ndarray:
    """Read ``k`` directions as a ``(k, dim)`` array from: a sequence of flat vectors or
    pytrees; a 2-D array of shape ``(dim, m)`` (columns, the NumPy/SciPy eigenvector
    layout) or ``(m, dim)`` (rows), m ≥ k, of which the first k are taken; or an object
    with a ``vectors`` attribute holding such an array (an eigen-decomposition result)."""
    dim = problem.dim
    if hasattr(directions, "vectors") and not isinstance(directions, np.ndarray):
        directions = directions.vectors
    if (k == 1 and isinstance(directions, np.ndarray) and directions.ndim >= 2
            and directions.size == dim and dim not in directions.shape):
        directions = [directions.reshape(-1)]  # one direction shaped like a single leaf
    if isinstance(directions, np.ndarray) and directions.ndim == 2:
        arr = np.asarray(directions, dtype=float)
        if arr.shape[0] == dim:
            arr = arr.T
        elif arr.shape[1] != dim:
            raise ValueError(
                f"directions: a 2-D array needs shape ({dim}, m) or (m, {dim}), got {arr.shape}"
            )
        if arr.shape[0] < k:
            raise ValueError(f"directions: need {k} directions, the array holds {arr.shape[0]}")
        return arr[:k].copy()
    if isinstance(directions, np.ndarray) and directions.ndim == 1:
        directions = [directions]
    items = list(directions)
    if len(items) < k:
        raise ValueError(f"directions: need {k} directions, got {len(items)}")
    return np.stack([as_flat(problem, d, f"direction {i}") for i, d in enumerate(items[:k])])


def _evaluator(problem, origin, dirs, accuracy):
    def evaluate(*coords):
        w = origin + np.asarray(coords) @ dirs
        loss = float(problem.loss(w))
        if not accuracy:
            return loss
        acc = problem.accuracy(w)
        return loss, (np.nan if acc is None else float(acc))

    return evaluate


def _meta(problem, origin, dirs, out) -> dict:
    """What identifies a scan in its file (the problem's data is hashed only when there
    is a file to check against)."""
    meta = {"origin": origin, "directions": dirs}
    if out is not None:
        meta["problem"] = np.array(problem_fingerprint(problem))
    return meta


def slice_1d(
    problem: Any,
    params: Any = None,
    direction: Any = None,
    *,
    span: float | tuple[float, float] = 1.0,
    resolution: int = 51,
    normalization: str | None = "filter",
    ignore: str | None = "biasbn",
    accuracy: bool = False,
    seed: int | np.random.Generator | None = 0,
    out: str | os.PathLike | None = None,
    save_every: int = 10,
    progress: bool = False,
) -> Slice1D:
    """f(α) = L(θ + α d) for α on ``resolution`` equally spaced points of ``span``
    (a number a for [−a, a], or (lo, hi)). θ = ``params`` (pytree or flat; default
    ``problem.flat_params``); d = ``direction`` as given, or a random direction drawn
    with ``seed`` and normalised (``normalization``, ``ignore``: see
    :mod:`~mlcalc.landscape.directions`). ``accuracy=True`` also records
    ``problem.accuracy``. ``out``: an ``.npz`` file to save to and resume from.
    Cost: ``resolution`` loss evaluations."""
    origin = as_flat(problem, params)
    if direction is None:
        d = random_direction(problem, origin, normalization, ignore, seed)
    else:
        d = as_directions(problem, direction, 1)[0]
    lo, hi = _span(span, "span")
    alphas = np.linspace(lo, hi, _resolution(resolution, "resolution"))
    fields = ("loss", "accuracy") if accuracy else ("loss",)
    scan = scan_grid(
        _evaluator(problem, origin, d[None], accuracy), [alphas], fields=fields, out=out,
        meta=_meta(problem, origin, d[None], out), save_every=save_every, progress=progress,
        description="slice_1d",
    )
    return Slice1D(
        alphas, scan.field("loss").copy(),
        scan.field("accuracy").copy() if accuracy else None,
        d, origin, scan.n_evaluated, scan.n_loaded, scan.path,
    )


def slice_2d(
    problem: Any,
    params: Any = None,
    directions: Any = None,
    *,
    span: Any = 1.0,
    resolution: int | tuple[int, int] = 21,
    normalization: str | None = "filter",
    ignore: str | None = "biasbn",
    orthogonalize: bool = False,
    accuracy: bool = False,
    seed: int | np.random.Generator | None = 0,
    out: str | os.PathLike | None = None,
    save_every: int = 10,
    progress: bool = False,
) -> Slice2D:
    """f(α, β) = L(θ + α d₁ + β d₂) on a ``resolution`` (n or (n_α, n_β)) grid over
    ``span`` (a number a, a pair (lo, hi) for both axes, or ((lo, hi), (lo, hi))).
    ``directions``: two given directions (see :func:`as_directions`; e.g. the top two
    Hessian eigenvectors), or ``None`` for two random ones drawn with ``seed`` and
    normalised (``normalization``, ``ignore``; ``orthogonalize`` applies Gram–Schmidt).
    ``out``: an ``.npz`` file, saved every ``save_every`` points and resumed from: a
    scan stopped part way continues where it stopped, and refuses a file written for
    other inputs. Cost: n_α·n_β loss evaluations (fewer when resuming)."""
    origin = as_flat(problem, params)
    if directions is None:
        dirs = random_directions(problem, origin, 2, normalization, ignore, orthogonalize,
                                 seed)
    else:
        dirs = as_directions(problem, directions, 2)
    if not np.isscalar(span) and len(span) == 2 and not np.isscalar(span[0]):
        span_a, span_b = _span(span[0], "span[0]"), _span(span[1], "span[1]")
    else:
        span_a = span_b = _span(span, "span")
    if np.isscalar(resolution):
        n_a = n_b = resolution
    elif len(resolution) == 2:
        n_a, n_b = resolution
    else:
        raise ValueError(f"resolution: expected n or (n_alpha, n_beta), got {resolution!r}")
    alphas = np.linspace(*span_a, _resolution(n_a, "resolution"))
    betas = np.linspace(*span_b, _resolution(n_b, "resolution"))
    fields = ("loss", "accuracy") if accuracy else ("loss",)
    scan = scan_grid(
        _evaluator(problem, origin, dirs, accuracy), [alphas, betas], fields=fields,
        out=out, meta=_meta(problem, origin, dirs, out), save_every=save_every,
        progress=progress, description="slice_2d",
    )
    n1, n2 = np.linalg.norm(dirs, axis=1)
    cosine = float(dirs[0] @ dirs[1] / (n1 * n2)) if n1 > 0 and n2 > 0 else float("nan")
    return Slice2D(
        alphas, betas, scan.field("loss").copy(),
        scan.field("accuracy").copy() if accuracy else None,
        dirs, origin, cosine, scan.n_evaluated, scan.n_loaded, scan.path,
    )
