"""Directions in parameter space for loss-landscape slices, with the filter normalisation
of Li, Xu, Taylor, Studer & Goldstein, "Visualizing the Loss Landscape of Neural Nets"
(NeurIPS 2018).

All vectors are **flat** (length ``problem.dim``, the order of ``problem.flat_params``);
the problem's ``layout`` (a tuple of ``ParamInfo``) says which entries form each
parameter leaf, its kind (``"weight"``, ``"bias"``, ``"norm"``) and the axis that indexes
its filters.

Filter normalisation (``normalization="filter"``): for every filter f of a weight leaf
(the slice of the leaf at one index along ``ParamInfo.filter_axis``: a column of a Dense
``(in, out)`` matrix, an output channel of a convolution kernel)

    d_f ← d_f · ‖θ_f‖ / (‖d_f‖ + 1e-10),

so each filter of the direction has the norm of the same filter of θ (the 1e-10 is the
reference code's guard against a zero filter). A weight leaf without a filter axis is
rescaled as a whole.

Biases and normalisation parameters (``kind`` ``"bias"`` or ``"norm"``):

* ``ignore="biasbn"`` (the default, as in Li et al.): their entries of the direction are
  zero, the slice moves weights only;
* ``ignore=None``: they are kept, each leaf rescaled as a whole, d_ℓ ← d_ℓ · ‖θ_ℓ‖/‖d_ℓ‖.
  (Li et al.'s reference code, ``net_plotter.normalize_directions_for_weights``, sets these
  entries to θ_ℓ itself instead: the same norm, but not random. mlcalc keeps them random.)

``normalization="layer"`` rescales every leaf as a whole, d_ℓ ← d_ℓ · ‖θ_ℓ‖/‖d_ℓ‖;
``normalization=None`` leaves the Gaussian direction as drawn (the ``ignore`` rule still
applies); ``normalization="unit"`` scales the whole direction to unit Euclidean norm.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autodiff import tree

__all__ = [
    "as_flat",
    "normalize_direction",
    "random_direction",
    "random_directions",
    "filter_norms",
]

_NORMALIZATIONS = ("filter", "layer", "unit", None)
_IGNORES = ("biasbn", None)
_EPS = 1e-10


def as_flat(problem: Any, x: Any, what: str = "params") -> np.ndarray:
    """``x`` as a flat float vector of length ``problem.dim``: a flat array is taken as it
    is, a pytree (same structure as ``problem.params``) is flattened by the problem itself
    (``problem.with_params(x).flat_params``); ``None`` gives ``problem.flat_params``."""
    if x is None:
        return np.asarray(problem.flat_params, dtype=float).copy()
    if isinstance(x, np.ndarray) and x.ndim == 1:
        flat = np.asarray(x, dtype=float)
    else:
        if not tree.leaves(x):
            raise ValueError(f"{what}: got an empty pytree ({type(x).__name__})")
        # the problem knows its own parameter structure (a framework's dict order,
        # device tensors): flatten through it
        flat = np.asarray(problem.with_params(x).flat_params, dtype=float)
    if flat.shape != (problem.dim,):
        raise ValueError(
            f"{what}: expected a flat vector of shape ({problem.dim},) or a pytree with "
            f"{problem.dim} entries like problem.params, got {flat.size} entries"
        )
    return flat.copy()


def _rng(seed) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


def _filters(block: np.ndarray, shape: tuple[int, ...], axis: int) -> np.ndarray:
    """The leaf ``block`` (flat) as a matrix with one row per filter."""
    arr = block.reshape(shape)
    return np.moveaxis(arr, axis, 0).reshape(shape[axis], -1)


def _unfilters(rows: np.ndarray, shape: tuple[int, ...], axis: int) -> np.ndarray:
    moved = rows.reshape((shape[axis],) + tuple(np.delete(np.array(shape), axis)))
    return np.moveaxis(moved, 0, axis).reshape(-1)


def _check_options(normalization, ignore) -> None:
    if normalization not in _NORMALIZATIONS:
        raise ValueError(
            f"normalization must be one of {_NORMALIZATIONS}, got {normalization!r}"
        )
    if ignore not in _IGNORES:
        raise ValueError(f"ignore must be 'biasbn' or None, got {ignore!r}")


def normalize_direction(
    problem: Any,
    direction: Any,
    params: Any = None,
    normalization: str | None = "filter",
    ignore: str | None = "biasbn",
) -> np.ndarray:
    """Rescale ``direction`` relative to the point θ = ``params`` (module docstring):
    filter-wise d_f ← d_f‖θ_f‖/(‖d_f‖ + 1e-10) by default, bias and normalisation
    entries zeroed with ``ignore="biasbn"``. Returns a new flat vector. Cost O(dim)."""
    _check_options(normalization, ignore)
    theta = as_flat(problem, params)
    d = as_flat(problem, direction, "direction")
    if normalization == "unit":
        if ignore == "biasbn":
            for info in problem.layout:
                if info.kind in ("bias", "norm"):
                    d[info.slice] = 0.0
        norm = np.linalg.norm(d)
        return d / norm if norm > 0 else d
    for info in problem.layout:
        sl = info.slice
        if info.kind in ("bias", "norm"):
            if ignore == "biasbn":
                d[sl] = 0.0
            elif normalization is not None:
                d[sl] *= np.linalg.norm(theta[sl]) / (np.linalg.norm(d[sl]) + _EPS)
            continue
        if normalization is None:
            continue
        axis = info.filter_axis
        if normalization == "filter" and axis is not None and len(info.shape) >= 1:
            axis = axis % len(info.shape)
            dd = _filters(d[sl], info.shape, axis)
            tt = _filters(theta[sl], info.shape, axis)
            scale = np.linalg.norm(tt, axis=1) / (np.linalg.norm(dd, axis=1) + _EPS)
            d[sl] = _unfilters(dd * scale[:, None], info.shape, axis)
        else:
            d[sl] *= np.linalg.norm(theta[sl]) / (np.linalg.norm(d[sl]) + _EPS)
    return d


def random_direction(
    problem: Any,
    params: Any = None,
    normalization: str | None = "filter",
    ignore: str | None = "biasbn",
    seed: int | np.random.Generator | None = 0,
) -> np.ndarray:
    """A Gaussian direction d ~ N(0, I) in parameter space, normalised relative to θ by
    :func:`normalize_direction` (filter normalisation, biases/normalisation parameters
    zeroed, by default). The same ``seed`` gives the same direction. Cost O(dim)."""
    _check_options(normalization, ignore)
    d = _rng(seed).standard_normal(problem.dim)
    d = normalize_direction(problem, d, params, normalization, ignore)
    if not np.any(d):
        raise ValueError(
            "the random direction is zero: with ignore='biasbn' every parameter of this "
            "problem is a bias or normalisation parameter, or θ is zero on every weight "
            "filter; pass ignore=None or normalization=None"
        )
    return d


def random_directions(
    problem: Any,
    params: Any = None,
    n: int = 2,
    normalization: str | None = "filter",
    ignore: str | None = "biasbn",
    orthogonalize: bool = False,
    seed: int | np.random.Generator | None = 0,
) -> np.ndarray:
    """``n`` random directions (rows of an ``(n, dim)`` array) drawn one after the other
    from one generator seeded with ``seed``, each normalised as :func:`random_direction`.

    Random directions in high dimension are nearly orthogonal already (Li et al. do not
    orthogonalise). ``orthogonalize=True`` applies Gram–Schmidt: each direction loses its
    components along the previous ones and is rescaled to its own former Euclidean norm,
    so the directions are exactly orthogonal but their filter norms match θ's only
    approximately."""
    if int(n) < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    rng = _rng(seed)
    dirs = [random_direction(problem, params, normalization, ignore, rng) for _ in range(n)]
    if orthogonalize:
        out: list[np.ndarray] = []
        for d in dirs:
            norm = np.linalg.norm(d)
            for u in out:
                d = d - (d @ u) / (u @ u) * u
            new = np.linalg.norm(d)
            if new <= 1e-12 * max(norm, 1e-300):
                raise ValueError("orthogonalize: the directions are linearly dependent")
            out.append(d * (norm / new))
        dirs = out
    return np.stack(dirs)


def filter_norms(problem: Any, vector: Any) -> dict[str, np.ndarray]:
    """The Euclidean norm of every filter of every leaf of a flat vector (one entry per
    leaf name: an array of filter norms for weights with a filter axis, the leaf's norm
    as a 1-element array otherwise). Useful to check a normalisation. Cost O(dim)."""
    v = as_flat(problem, vector, "vector")
    out = {}
    for info in problem.layout:
        block = v[info.slice]
        if info.kind == "weight" and info.filter_axis is not None and len(info.shape) >= 1:
            axis = info.filter_axis % len(info.shape)
            out[info.name] = np.linalg.norm(_filters(block, info.shape, axis), axis=1)
        else:
            out[info.name] = np.array([np.linalg.norm(block)])
    return out
