"""Expectations E[f(X)] under Gaussians and user samplers.

For X ~ N(μ, Σ) with Σ = L Lᵀ (Cholesky), E[f(X)] = E[f(μ + L Z)], Z ~ N(0, I): the
nodes or samples z are drawn once for the standard normal and moved by μ + L z (the
reparameterisation), so the result is differentiable with respect to μ and Σ by every
mlcalc transform (``mc.grad(lambda m: expectation(f, Gaussian(m, S)).value)``).

Methods: ``"gauss-hermite"`` (tensor Gauss–Hermite, exact for polynomials of degree
< 2·order in each variable; the error estimate is the difference from the rule of half
the order), ``"qmc"`` (randomised quasi-Monte Carlo: scrambled Sobol points mapped to
normals by the inverse CDF, several independent randomisations, their standard error),
``"mc"`` (plain Monte Carlo from a user :class:`Sampler`, the sample standard error).
``"auto"`` takes Gauss–Hermite for Gaussians in d ≤ 4, QMC above, and MC for samplers.
Convention: ``f`` takes points (n, d) and returns (n,) or (n, m).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.special
from scipy.stats import qmc

from ..autodiff.core import full_lower, is_tracer

__all__ = ["Gaussian", "Sampler", "ExpectationResult", "expectation"]

_GH_ORDER = {1: 64, 2: 32, 3: 16, 4: 10}
_GH_MAX_NODES = 4_000_000
_DEFAULT_N = 2**14


def _as_float(x):
    """A float array of ``x``; traced values of an enclosing transform pass through."""
    return x if is_tracer(x) else np.asarray(x, dtype=float)


@dataclasses.dataclass(frozen=True, eq=False)
class Gaussian:
    """The normal distribution N(mean, cov) on ℝᵈ: ``mean`` of shape (d,) (or a scalar
    for d = 1), ``cov`` symmetric positive definite of shape (d, d) (or a scalar variance
    for d = 1). Either may be a traced value, so expectations differentiate with respect
    to them."""

    mean: Any
    cov: Any

    def __post_init__(self):
        mean, cov = _as_float(self.mean), _as_float(self.cov)
        if np.ndim(mean) == 0:
            mean = np.reshape(mean, (1,))
        if np.ndim(mean) != 1:
            raise ValueError(f"Gaussian: mean must have shape (d,), got {np.shape(mean)}.")
        d = np.shape(mean)[0]
        if np.ndim(cov) == 0 and d == 1:
            cov = np.reshape(cov, (1, 1))
        if np.shape(cov) != (d, d):
            raise ValueError(
                f"Gaussian: cov must have shape (d, d) = ({d}, {d}) to match mean of shape "
                f"{np.shape(mean)}, got {np.shape(cov)}."
            )
        if not is_tracer(cov):
            if not np.allclose(cov, cov.T, rtol=1e-10, atol=0):
                raise ValueError(f"Gaussian: cov must be symmetric, got {cov}.")
            try:
                np.linalg.cholesky(cov)
            except np.linalg.LinAlgError:
                raise ValueError(f"Gaussian: cov must be positive definite, got {cov}.") from None
        object.__setattr__(self, "mean", mean)
        object.__setattr__(self, "cov", cov)

    @property
    def dim(self) -> int:
        return int(np.shape(self.mean)[0])

    def transform(self, z):
        """Standard normal points z (n, d) → μ + L z (rows), L the Cholesky factor of Σ."""
        return self.mean + z @ np.linalg.cholesky(self.cov).T


@dataclasses.dataclass(frozen=True, eq=False)
class Sampler:
    """A distribution known through samples: ``sample(n, rng)`` returns n independent
    draws as an array (n, d), ``rng`` a ``numpy.random.Generator``."""

    sample: Callable


@dataclasses.dataclass(frozen=True, eq=False)
class ExpectationResult:
    """E[f(X)] (``value``, shaped like one value of f) and its ``error`` (same shape):
    for Gauss–Hermite |Q_order − Q_{order/2}|, for QMC and MC one standard error (not a
    bound: the true error exceeds it about a third of the time). ``nfev`` counts the
    points f was evaluated at; ``method`` is the method used and ``distribution`` the
    distribution."""

    value: Any
    error: Any
    nfev: int
    method: str
    distribution: Any


def _value(x):
    """A Python float for a plain 0-d value; arrays and traced values as they are."""
    return x if is_tracer(x) or np.ndim(x) > 0 else float(x)


def _error(x):
    """An error estimate as plain numbers (a float, or an array for a vector f): any
    tracing stripped, as errors are not differentiated."""
    err = np.asarray(full_lower(x), dtype=float)
    return float(err) if err.ndim == 0 else err


def _values(f: Callable, x):
    values = f(x)
    shape = np.shape(values)
    if shape[:1] != (np.shape(x)[0],) or len(shape) > 2:
        raise ValueError(
            f"expectation: f must map points {np.shape(x)} to values ({np.shape(x)[0]},) or "
            f"({np.shape(x)[0]}, m), but it returned shape {shape}."
        )
    return values


def _hermite_grid(order: int, d: int) -> tuple[np.ndarray, np.ndarray]:
    """Tensor Gauss–Hermite nodes (order^d, d) and weights for N(0, I_d)."""
    t, w = np.polynomial.hermite_e.hermegauss(order)
    w = w / math.sqrt(2 * math.pi)
    grids = np.meshgrid(*[t] * d, indexing="ij")
    weights = np.prod(np.meshgrid(*[w] * d, indexing="ij"), axis=0).ravel()
    return np.stack([g.ravel() for g in grids], axis=-1), weights


def _gauss_hermite(f, dist: Gaussian, order: int | None) -> ExpectationResult:
    d = dist.dim
    order = _GH_ORDER.get(d, 6) if order is None else int(order)
    if order < 2:
        raise ValueError(f"expectation: the Gauss–Hermite order must be ≥ 2, got {order}.")
    if order**d > _GH_MAX_NODES:
        raise ValueError(
            f"expectation: a Gauss–Hermite rule of order {order} in d = {d} has {order**d} "
            f"nodes (more than {_GH_MAX_NODES}); use method='qmc' or a lower order."
        )
    estimates = []
    nfev = 0
    for m in (order // 2, order):
        z, w = _hermite_grid(m, d)
        values = _values(f, dist.transform(z))
        estimates.append(np.tensordot(w, values, axes=(0, 0)))
        nfev += len(w)
    error = np.abs(estimates[1] - estimates[0])
    return ExpectationResult(_value(estimates[1]), _error(error), nfev, "gauss-hermite", dist)


def _standard_error(estimates):
    """The mean over the rows of ``estimates`` and its standard error (per column)."""
    r = np.shape(estimates)[0]
    return np.mean(estimates, axis=0), np.std(estimates, axis=0, ddof=1) / math.sqrt(r)


def _qmc(f, dist: Gaussian, n: int, randomisations: int, rng) -> ExpectationResult:
    if randomisations < 2:
        raise ValueError(f"expectation: QMC needs at least 2 randomisations, got {randomisations}.")
    d = dist.dim
    m = max(1, math.ceil(math.log2(max(n, 1) / randomisations)))
    estimates = []
    tiny = 2.0**-53
    for _ in range(randomisations):
        u = qmc.Sobol(d, scramble=True, seed=rng).random_base2(m)
        z = scipy.special.ndtri(np.clip(u, tiny, 1 - tiny))
        estimates.append(np.mean(_values(f, dist.transform(z)), axis=0))
    value, se = _standard_error(np.stack(estimates))
    return ExpectationResult(_value(value), _error(se), randomisations * 2**m, "qmc", dist)


def _monte_carlo(f, dist, n: int, rng) -> ExpectationResult:
    if n < 2:
        raise ValueError(f"expectation: Monte Carlo needs n ≥ 2 samples, got {n}.")
    if isinstance(dist, Gaussian):
        x = dist.transform(rng.standard_normal((n, dist.dim)))
    else:
        x = dist.sample(n, rng)
        if np.ndim(x) != 2 or np.shape(x)[0] != n:
            raise ValueError(
                f"expectation: sample(n={n}, rng) must return an array (n, d) = ({n}, d), "
                f"got shape {np.shape(x)}."
            )
    value, se = _standard_error(_values(f, x))
    return ExpectationResult(_value(value), _error(se), n, "mc", dist)


_METHODS = ("auto", "gauss-hermite", "qmc", "mc")


def expectation(
    f: Callable,
    distribution: Gaussian | Sampler,
    method: str = "auto",
    n: int | None = None,
    seed: int | np.random.Generator | None = None,
    order: int | None = None,
    randomisations: int = 16,
) -> ExpectationResult:
    """E[f(X)] for X ~ ``distribution`` (a :class:`Gaussian` or a :class:`Sampler`).

    ``method``: "gauss-hermite" (Gaussians; ``order`` nodes per axis, by default 64,
    32, 16, 10 for d = 1…4 and 6 above; error |Q_order − Q_{order/2}|), "qmc" (``n``
    scrambled Sobol points in ``randomisations`` independent batches, each rounded up
    to a power of two; standard error over the batches), "mc" (``n`` independent
    draws; sample standard error), "auto" (Gauss–Hermite for Gaussians in d ≤ 4 or
    when an ``order`` is given, QMC otherwise, MC for samplers). ``n`` defaults to 2¹⁴;
    ``seed`` seeds the randomness.
    Gaussian results are differentiable in the mean and covariance (reparameterisation
    μ + L z with fixed z). Cost: order^d (+ (order/2)^d) evaluations of f for
    Gauss–Hermite, about n for QMC and MC, plus one d×d Cholesky factorisation.
    """
    if method not in _METHODS:
        raise ValueError(f"expectation: method must be one of {_METHODS}, not {method!r}.")
    if not isinstance(distribution, (Gaussian, Sampler)):
        raise TypeError(
            "expectation: the distribution must be a Gaussian(mean, cov) or a "
            f"Sampler(sample), got {distribution!r}."
        )
    if isinstance(distribution, Sampler) and method in ("gauss-hermite", "qmc"):
        raise ValueError(
            f"expectation: method {method!r} needs a Gaussian; a Sampler supports 'mc' only."
        )
    if method == "auto":
        if isinstance(distribution, Sampler):
            method = "mc"
        else:
            method = "gauss-hermite" if distribution.dim <= 4 or order is not None else "qmc"
    n = _DEFAULT_N if n is None else int(n)
    rng = np.random.default_rng(seed)
    if method == "gauss-hermite":
        return _gauss_hermite(f, distribution, order)
    if method == "qmc":
        return _qmc(f, distribution, n, randomisations, rng)
    return _monte_carlo(f, distribution, n, rng)
