"""Adaptive tensor Gauss–Legendre quadrature on intervals, rectangles and boxes, the
rule behind every integral of :mod:`mlcalc.fields`.

Each cell of the box is integrated twice, by the n-point and the (2n+1)-point tensor
Gauss–Legendre rules (``np.polynomial.legendre.leggauss``; the odd fine rule has a node
at the cell's centre, where the even coarse one has none, so a feature there cannot
fool both alike). The fine value is kept, and 10·|Q₂ₙ₊₁ − Qₙ| is the cell's error
estimate: on a smooth integrand |Q₂ₙ₊₁ − Qₙ| is already the coarse rule's error, far
above the fine one's; the factor 10 covers cells where the integrand is not smooth and
refinement gains little. Cells whose estimate exceeds their share of the tolerance (in
proportion to their volume) are bisected along every axis, all of them in one batched
integrand call, until the total estimate meets the tolerance or the evaluation budget
is spent.

Limitation, shared by every estimate built from point values: a kink or jump that
falls between a cell's outermost nodes and its edge is invisible to both rules, and the
estimate can then miss it. Integrands are meant to be smooth on each cell; put the
breaks of a piecewise curve or surface at the ends of separate pieces.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["QuadratureResult", "gauss_legendre"]

_ROUNDOFF = 50 * np.finfo(float).eps
_SAFETY = 10.0


@dataclass(frozen=True)
class QuadratureResult:
    """An integral and its diagnostics: ``value`` (a float, or an array for a vector
    integrand), ``error`` (the estimate Σ|Q₂ₙ − Qₙ| over the cells, max over components),
    ``nfev`` (integrand evaluations), ``method``, ``success`` (the estimate met
    max(atol, rtol·|value|), or the roundoff floor 50ε·∫|f|) and ``n_cells``. The error
    is never reported below 10ε·∫|f|, the rounding of the sum itself."""

    value: float | np.ndarray
    error: float
    nfev: int
    method: str
    success: bool
    n_cells: int


def _default_order(k: int) -> int:
    """The default number of nodes per axis of the coarse rule in dimension k (the fine
    rule has 2n + 1): 16, 10, 6, then 4."""
    return {1: 16, 2: 10, 3: 6}.get(k, 4)


def _tensor_rule(n: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes (n^k, k) and weights (n^k,) of the n-point tensor rule on [−1, 1]^k."""
    t, w = np.polynomial.legendre.leggauss(n)
    nodes = np.stack([g.ravel() for g in np.meshgrid(*[t] * k, indexing="ij")], axis=-1)
    weights = np.prod(np.stack(np.meshgrid(*[w] * k, indexing="ij")), axis=0).ravel()
    return nodes, weights


def _check_bounds(bounds) -> np.ndarray:
    b = np.asarray(bounds, dtype=float)
    if b.ndim != 2 or b.shape[1] != 2 or len(b) == 0:
        raise ValueError(f"bounds must be [(lo, hi), ...], one pair per axis; got shape {b.shape}.")
    if not np.all(np.isfinite(b)):
        raise ValueError(f"bounds must be finite; got {b.tolist()}.")
    return b


def gauss_legendre(integrand: Callable, bounds, order: int | None = None, rtol: float = 1e-8,
                   atol: float = 0.0, max_evals: int = 500_000) -> QuadratureResult:
    """∫_box integrand, the box given by ``bounds`` [(a, b), ...] in any dimension k.

    ``integrand`` takes the nodes as one array (N, k) and returns (N,) or (N, m) values.
    Adaptive tensor Gauss–Legendre (see the module note): per cell the n-point and the
    (2n+1)-point rules, n = ``order`` (default 16, 10, 6 in 1, 2, 3 dimensions, then 4),
    the finer value kept, 10·their difference the error estimate; cells over their share
    of the tolerance are bisected along every axis.
    A reversed interval (a > b) gives the negative, as for ∫ₐᵇ. Cost: (n^k +
    (2n+1)^k) evaluations per cell, one integrand call per refinement round, at most
    about ``max_evals`` in all."""
    b = _check_bounds(bounds)
    k = len(b)
    n = _default_order(k) if order is None else int(order)
    if n < 1:
        raise ValueError(f"order must be a positive number of nodes; got {order}.")
    coarse, wc = _tensor_rule(n, k)
    fine, wf = _tensor_rule(2 * n + 1, k)
    nodes = np.concatenate([coarse, fine])
    per_cell = len(nodes)
    if per_cell > max_evals:
        raise ValueError(f"max_evals={max_evals} is below one cell's {per_cell} evaluations "
                         f"(order {n} in {k}-D).")
    total_volume = float(np.prod(np.abs(b[:, 1] - b[:, 0])))

    def evaluate(lo, hi):
        """Fine value, error estimate and fine ∫|f| of each cell (lo, hi: (c, k))."""
        center, half = 0.5 * (lo + hi), 0.5 * (hi - lo)
        pts = center[:, None, :] + half[:, None, :] * nodes[None]
        vals = np.asarray(integrand(pts.reshape(-1, k)), dtype=float)
        expected = len(lo) * per_cell
        if vals.ndim not in (1, 2) or vals.shape[0] != expected:
            raise ValueError(f"the integrand must return (N,) or (N, m) values for nodes of "
                             f"shape ({expected}, {k}); it returned shape {vals.shape}.")
        vals = vals.reshape((len(lo), per_cell) + vals.shape[1:])
        jac = np.prod(half, axis=-1).reshape((-1,) + (1,) * (vals.ndim - 2))
        qc = np.einsum("cn...,n->c...", vals[:, : len(wc)], wc) * jac
        qf = np.einsum("cn...,n->c...", vals[:, len(wc):], wf) * jac
        absf = np.einsum("cn...,n->c...", np.abs(vals[:, len(wc):]), wf) * np.abs(jac)
        err = _SAFETY * np.abs(qf - qc).reshape(len(lo), -1).max(axis=1)
        return qf, err, absf

    lo, hi = b[None, :, 0], b[None, :, 1]
    q, err, absf = evaluate(lo, hi)
    nfev = per_cell
    corners = np.stack(np.meshgrid(*[[0, 1]] * k, indexing="ij"), axis=-1).reshape(-1, k)
    while True:
        value = q.sum(axis=0)
        total = float(err.sum())
        tol = max(atol, rtol * float(np.max(np.abs(value))),
                  _ROUNDOFF * float(np.max(absf.sum(axis=0))))
        if total <= tol or not np.isfinite(total):
            break
        volume = np.prod(np.abs(hi - lo), axis=1)
        share = tol * volume / total_volume
        split = np.flatnonzero(err > share)
        if len(split) == 0:
            split = np.array([int(np.argmax(err))])
        budget = (max_evals - nfev) // (per_cell * 2**k)
        if budget < 1:
            break
        split = split[np.argsort(err[split])[::-1][:budget]]
        mid = 0.5 * (lo[split] + hi[split])
        # children of each split cell: for every corner pattern, each axis takes one half
        new_lo = np.where(corners[None], mid[:, None], lo[split][:, None]).reshape(-1, k)
        new_hi = np.where(corners[None], hi[split][:, None], mid[:, None]).reshape(-1, k)
        cq, cerr, cabs = evaluate(new_lo, new_hi)
        nfev += per_cell * len(new_lo)
        keep = np.ones(len(lo), dtype=bool)
        keep[split] = False
        lo, hi = np.concatenate([lo[keep], new_lo]), np.concatenate([hi[keep], new_hi])
        q, err = np.concatenate([q[keep], cq]), np.concatenate([err[keep], cerr])
        absf = np.concatenate([absf[keep], cabs])
    value = q.sum(axis=0)
    total = max(float(err.sum()), 10 * np.finfo(float).eps * float(np.max(absf.sum(axis=0))))
    out = float(value) if np.ndim(value) == 0 else value
    method = f"adaptive tensor Gauss-Legendre {n}/{2 * n + 1}"
    return QuadratureResult(out, float(total), nfev, method, bool(total <= tol), len(lo))
