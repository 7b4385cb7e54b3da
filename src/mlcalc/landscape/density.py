"""Stochastic Lanczos quadrature (SLQ): the spectral density of a symmetric operator
and traces of its matrix functions, from products only.

For a unit probe v (Rademacher entries ±1/√n), m Lanczos steps from v give the Gauss
quadrature rule of the measure μ_v = Σᵢ (vᵀuᵢ)² δ_{λᵢ}: nodes θₖ (eigenvalues of T)
and weights τₖ (squared first components of T's eigenvectors), exact for polynomials
of degree ≤ 2m − 1. Since E[(vᵀuᵢ)²] = 1/n, averaging the rules of several probes
estimates the empirical spectral measure (1/n) Σᵢ δ_{λᵢ} (Lin, Saad, Yang 2016;
Ghorbani, Krishnan, Xiao 2019; Papyan 2020):

* ``spectral_density``: φ(t) = (1/R) Σ_runs Σₖ τₖ g_σ(t − θₖ), g_σ the Gaussian kernel
  of width σ: the density convolved with g_σ (it integrates to 1);
* ``trace_of_function``: tr f(A) ≈ n (1/R) Σ_runs Σₖ τₖ f(θₖ), with the standard error
  of the mean over runs; ``logdet`` is f = log (after an optional shift A + sI).

Cost: R·m products and O(R m² n) flops for the reorthogonalisation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .lanczos import _check_seed_steps, _frozen, _tridiag_eigh
from .operators import Operator, as_operator, progress_bar

__all__ = ["SpectralDensity", "SLQEstimate", "spectral_density", "slq_quadrature",
           "trace_of_function", "logdet"]

_SQRT_2PI = np.sqrt(2.0 * np.pi)


@dataclass(frozen=True)
class SpectralDensity:
    """A smoothed spectral density φ on ``grid`` (φ ≥ 0, ∫φ = 1 up to the grid's
    truncation), the Gaussian width ``sigma``, and the quadrature rules it came from:
    ``nodes[r]``, ``weights[r]`` of run r (each run's weights sum to 1)."""

    grid: np.ndarray = field(repr=False)
    density: np.ndarray = field(repr=False)
    sigma: float
    nodes: np.ndarray = field(repr=False)
    weights: np.ndarray = field(repr=False)
    n_runs: int
    n_steps: int
    n_products: int
    dim: int

    def expectation(self, fn: Callable[[np.ndarray], np.ndarray]) -> float:
        """(1/n) tr f(A) estimated from the quadrature rules (no broadening)."""
        return float(np.mean(np.sum(self.weights * fn(self.nodes), axis=1)))


@dataclass(frozen=True)
class SLQEstimate:
    """An SLQ estimate of tr f(A) (``estimate``) with the standard error of the mean
    over ``n_runs`` probes; ``per_run`` holds each probe's n·Σₖ τₖ f(θₖ)."""

    estimate: float
    stderr: float
    per_run: np.ndarray = field(repr=False)
    n_runs: int
    n_steps: int
    n_products: int

    def __float__(self) -> float:
        return float(self.estimate)


def slq_quadrature(op, n_runs: int = 10, n_steps: int = 80, *, seed: int | None = 0,
                   progress: bool = False) -> tuple[np.ndarray, np.ndarray, int]:
    """The Gauss quadrature rules of ``n_runs`` Rademacher probes: (nodes, weights),
    each of shape (n_runs, min(n_steps, n)), and the number of products used.

    The runs advance together: each Lanczos step applies the operator to the block of
    the runs' current vectors (``op.matmat``, one product per run), so an operator with
    a fast block product reads its data once per step, not once per run."""
    op = as_operator(op)
    R = _check_seed_steps(n_runs, "n_runs")
    n_steps = _check_seed_steps(n_steps, "n_steps")
    n = op.n
    m = min(n_steps, n)
    rng = np.random.default_rng(seed)
    Q = np.empty((R, m, n))
    alphas = np.zeros((R, m))
    betas = np.zeros((R, m))
    Q[:, 0] = rng.choice(np.array([-1.0, 1.0]), size=(R, n)) / np.sqrt(n)
    anorm = np.zeros(R)
    start = op.n_products
    bar = progress_bar(progress, R * m, "stochastic Lanczos quadrature")
    try:
        for j in range(m):
            W = op.matmat(Q[:, j].T).T
            a = np.einsum("rn,rn->r", Q[:, j], W)
            W -= a[:, None] * Q[:, j]
            if j > 0:
                W -= betas[:, j - 1, None] * Q[:, j - 1]
            Qj = Q[:, : j + 1]
            for _ in range(2):  # full reorthogonalisation, twice
                c = np.einsum("rkn,rn->rk", Qj, W)
                W -= np.einsum("rkn,rk->rn", Qj, c)
                a += c[:, j]
            alphas[:, j] = a
            b = np.linalg.norm(W, axis=1)
            anorm = np.maximum(anorm, np.abs(a) + b + (betas[:, j - 1] if j > 0 else 0.0))
            betas[:, j] = b
            bar.advance(R)
            if j + 1 == m:
                break
            for r in np.flatnonzero(~(b > 1e-12 * anorm)):  # invariant subspace: restart
                betas[r, j] = 0.0
                v = rng.standard_normal(n)
                for _ in range(2):
                    v -= Qj[r].T @ (Qj[r] @ v)
                W[r] = v / np.linalg.norm(v) * 1.0
                b[r] = 1.0
            Q[:, j + 1] = W / b[:, None]
    finally:
        bar.close()
    nodes = np.empty((R, m))
    weights = np.empty((R, m))
    for r in range(R):
        theta, S = _tridiag_eigh(alphas[r], betas[r, : m - 1])
        nodes[r], weights[r] = theta, S[0] ** 2
    return nodes, weights, int(op.n_products - start)


def _grid(grid, lo: float, hi: float, sigma: float) -> np.ndarray:
    if grid is None or np.ndim(grid) == 0:
        points = 1000 if grid is None else int(grid)
        if points < 2:
            raise ValueError(f"grid must be an array of points or a count ≥ 2, got {grid!r}")
        return np.linspace(lo - 4.0 * sigma, hi + 4.0 * sigma, points)
    g = np.asarray(grid, dtype=float)
    if g.ndim != 1:
        raise ValueError(f"grid must be 1-D, got shape {g.shape}")
    return g


def spectral_density(op, n_runs: int = 10, n_steps: int = 80, *, grid=None,
                     sigma: float | None = None, seed: int | None = 0,
                     progress: bool = False) -> SpectralDensity:
    """The eigenvalue density of a symmetric operator by stochastic Lanczos quadrature,
    broadened by a Gaussian of width ``sigma``.

    φ(t) = (1/R) Σ_runs Σₖ τₖ exp(−(t − θₖ)²/2σ²)/(σ√2π) on ``grid`` (an array, or a
    number of points spanning the nodes ± 4σ; default 1000). ``sigma`` defaults to
    (θ_max − θ_min)/n_steps, about the resolution an m-node quadrature rule carries.
    The estimate converges to the density convolved with the Gaussian, with a
    fluctuation that falls like 1/√(R·n) for a spread-out spectrum.
    """
    op = as_operator(op)
    nodes, weights, used = slq_quadrature(op, n_runs, n_steps, seed=seed, progress=progress)
    lo, hi = float(nodes.min()), float(nodes.max())
    if sigma is None:
        sigma = (hi - lo) / nodes.shape[1]
        if not sigma > 0:
            sigma = 1e-3 * max(1.0, abs(hi))
    sigma = float(sigma)
    if not sigma > 0:
        raise ValueError(f"sigma must be positive, got {sigma!r}")
    t = _grid(grid, lo, hi, sigma)
    density = np.zeros_like(t)
    for th, w in zip(nodes, weights):
        z = (t[:, None] - th[None, :]) / sigma
        density += np.exp(-0.5 * z * z) @ w
    density /= nodes.shape[0] * sigma * _SQRT_2PI
    return SpectralDensity(_frozen(t), _frozen(density), sigma, _frozen(nodes),
                           _frozen(weights), nodes.shape[0], nodes.shape[1], used, op.n)


def _estimate(n: int, per_probe: np.ndarray, m: int, used: int) -> SLQEstimate:
    per_run = n * per_probe
    stderr = (float(np.std(per_run, ddof=1) / np.sqrt(per_run.size))
              if per_run.size > 1 else float("inf"))
    return SLQEstimate(float(np.mean(per_run)), stderr, _frozen(per_run), per_run.size, m,
                       used)


def trace_of_function(op, fn: Callable[[np.ndarray], np.ndarray], n_runs: int = 10,
                      n_steps: int = 50, *, seed: int | None = 0,
                      progress: bool = False) -> SLQEstimate:
    """tr f(A) by stochastic Lanczos quadrature: n·(1/R) Σ_runs Σₖ τₖ f(θₖ), with the
    standard error over the R runs (``inf`` for a single run). ``fn`` acts elementwise
    on an array of Ritz values. Exact up to rounding when n_steps ≥ n (each rule then
    integrates the probe's measure exactly) apart from the probe's own variance."""
    op = as_operator(op)
    nodes, weights, used = slq_quadrature(op, n_runs, n_steps, seed=seed, progress=progress)
    values = np.asarray(fn(nodes), dtype=float)
    if values.shape != nodes.shape:
        raise ValueError(f"fn must act elementwise: on Ritz values of shape {nodes.shape} it "
                         f"returned shape {values.shape}")
    return _estimate(op.n, np.sum(weights * values, axis=1), nodes.shape[1], used)


def logdet(op, shift: float = 0.0, n_runs: int = 10, n_steps: int = 50, *,
           seed: int | None = 0, progress: bool = False) -> SLQEstimate:
    """log det(A + shift·I) = tr log(A + shift·I) by stochastic Lanczos quadrature.

    The Ritz values of A + sI are θ + s (Krylov spaces are shift-invariant), so one set
    of runs serves any shift. Needs A + sI positive definite: a Ritz value ≤ 0 raises
    (raise the shift, e.g. a prior precision or a damping).
    """
    op: Operator = as_operator(op)
    nodes, weights, used = slq_quadrature(op, n_runs, n_steps, seed=seed, progress=progress)
    shifted = nodes + float(shift)
    bad = float(shifted.min())
    if not bad > 0:
        raise ValueError(
            f"logdet: the operator + {float(shift):g}·I is not positive definite (a Ritz "
            f"value is {bad:.4g} ≤ 0); log det is undefined there: use a larger shift "
            "(e.g. the prior precision) or a positive semidefinite curvature such as "
            "kind='ggn'")
    return _estimate(op.n, np.sum(weights * np.log(shifted), axis=1), nodes.shape[1], used)
