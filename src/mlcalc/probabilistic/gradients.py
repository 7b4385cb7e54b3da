"""Monte Carlo gradients of an expectation ∇_φ E_{q_φ}[f(x)].

* Reparameterisation (pathwise) estimator: x = T(φ, ε), ε ~ p(ε) fixed, so
  ∇_φ E[f] = E_ε[∇_φ f(T(φ, ε))]; needs f differentiable; usually low variance.
* Score-function (REINFORCE, likelihood-ratio) estimator: ∇_φ E[f] =
  E_q[(f(x) − b) ∇_φ log q_φ(x)], any f (even discontinuous); b a baseline that keeps it
  unbiased (a constant, or the leave-one-out mean of the other samples).

Both return the estimate with its per-component standard error and the variance of a
single-sample estimate (Mohamed, Rosca, Figurnov, Mnih 2020, "Monte Carlo Gradient
Estimation in Machine Learning").

Convention: ``f`` maps points (n, d) to values (n,) (NumPy's point layout); a family
maps parameters φ (a pytree) and standard noise ε (n, d) to samples (n, d).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import numpy as mnp
from ..autodiff.api import grad
from ..autodiff.tree import ravel
from ..autodiff.vmap import vmap

__all__ = [
    "DiagonalGaussian",
    "Gaussian",
    "GradientEstimate",
    "reparameterization_gradient",
    "score_function_gradient",
]

_LOG_2PI = math.log(2.0 * math.pi)


@dataclasses.dataclass(frozen=True)
class DiagonalGaussian:
    """q_φ = N(mean, diag(exp(2·log_std))) on ℝᵈ, φ = {"mean": (d,), "log_std": (d,)};
    x = mean + exp(log_std)·ε with ε ~ N(0, I)."""

    dim: int

    def params(self, mean, log_std) -> dict:
        """φ from a mean and log standard deviations (scalars broadcast to (d,))."""
        shape = (self.dim,)
        return {"mean": np.broadcast_to(np.asarray(mean, float), shape).copy(),
                "log_std": np.broadcast_to(np.asarray(log_std, float), shape).copy()}

    def sample_noise(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """ε ~ N(0, I), shape (n, d)."""
        return rng.standard_normal((n, self.dim))

    def transform(self, phi, eps):
        """x = mean + exp(log_std)·ε (rows)."""
        return phi["mean"] + mnp.exp(phi["log_std"]) * eps

    def log_prob(self, phi, x):
        """log q_φ(x) for points x (n, d) → (n,)."""
        z = (x - phi["mean"]) * mnp.exp(-phi["log_std"])
        return -0.5 * mnp.sum(z * z, axis=-1) - mnp.sum(phi["log_std"]) - 0.5 * self.dim * _LOG_2PI


@dataclasses.dataclass(frozen=True)
class Gaussian:
    """q_φ = N(mean, L Lᵀ) on ℝᵈ, φ = {"mean": (d,), "scale_tril": (d, d)} (the lower
    triangle is used, its diagonal must be nonzero); x = mean + L ε."""

    dim: int

    def params(self, mean, scale_tril) -> dict:
        """φ from a mean and a lower-triangular factor L of the covariance."""
        return {"mean": np.broadcast_to(np.asarray(mean, float), (self.dim,)).copy(),
                "scale_tril": np.tril(np.asarray(scale_tril, float))}

    def sample_noise(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """ε ~ N(0, I), shape (n, d)."""
        return rng.standard_normal((n, self.dim))

    def transform(self, phi, eps):
        """x = mean + L ε (rows)."""
        return phi["mean"] + eps @ mnp.tril(phi["scale_tril"]).T

    def log_prob(self, phi, x):
        """log q_φ(x) = −½‖L⁻¹(x − mean)‖² − Σ log|Lᵢᵢ| − (d/2) log 2π, points (n, d) → (n,)."""
        L = mnp.tril(phi["scale_tril"])
        z = mnp.linalg.solve(L, (x - phi["mean"]).T)
        logdiag = mnp.sum(mnp.log(mnp.abs(mnp.diagonal(L))))
        return -0.5 * mnp.sum(z * z, axis=0) - logdiag - 0.5 * self.dim * _LOG_2PI


@dataclasses.dataclass(frozen=True)
class GradientEstimate:
    """A Monte Carlo estimate of E_q[f] and of its gradient in φ.

    ``value``, ``value_stderr``: the sample mean of f and its standard error; ``grad``:
    the gradient estimate (the structure of φ); ``grad_stderr``: its per-component
    standard error (same structure); ``variance``: the per-component variance of a
    single-sample gradient estimate (same structure); ``total_variance``: the sum of
    those variances (the trace of the single-sample covariance); ``n_samples``;
    ``method``: "reparameterization" or "score_function" (with the baseline).
    """

    value: float
    value_stderr: float
    grad: Any
    grad_stderr: Any
    variance: Any
    total_variance: float
    n_samples: int
    method: str


def _values(f: Callable, x, n: int, who: str):
    out = f(x)
    if np.shape(out) != (n,):
        raise ValueError(f"{who}: f must map points (n, d) = {np.shape(x)} to values (n,) = "
                         f"({n},); got shape {np.shape(out)}.")
    return out


def _summarise(per_sample: np.ndarray, fvals: np.ndarray, unravel, method: str):
    n = per_sample.shape[0]
    if n < 2:
        raise ValueError(f"{method}: need n_samples ≥ 2 for a standard error; got {n}.")
    var = np.var(per_sample, axis=0, ddof=1)
    return GradientEstimate(
        value=float(np.mean(fvals)),
        value_stderr=float(np.std(fvals, ddof=1) / math.sqrt(n)),
        grad=unravel(np.mean(per_sample, axis=0)),
        grad_stderr=unravel(np.sqrt(var / n)),
        variance=unravel(var),
        total_variance=float(np.sum(var)),
        n_samples=n,
        method=method,
    )


def reparameterization_gradient(
    f: Callable, family: Any, phi: Any, n_samples: int = 1000, seed: int | None = 0
) -> GradientEstimate:
    """∇_φ E_{q_φ}[f] ≈ (1/n) Σᵢ ∇_φ f(T(φ, εᵢ)), εᵢ ~ p(ε) (the pathwise estimator).

    ``family`` provides ``sample_noise(rng, n)`` and ``transform(phi, eps)`` (e.g.
    :class:`DiagonalGaussian`); f must be differentiable. Per-sample gradients come from
    one batched reverse pass (vmap of grad). Cost ≈ n gradient evaluations of f∘T.
    """
    rng = np.random.default_rng(seed)
    eps = np.asarray(family.sample_noise(rng, int(n_samples)))
    flat, unravel = ravel(phi)
    n = eps.shape[0]
    who = "reparameterization_gradient"

    def single(w, e):
        return _values(f, family.transform(unravel(w), e[None]), 1, who)[0]

    per_sample = np.asarray(vmap(grad(single), in_axes=(None, 0))(flat, eps))
    fvals = np.asarray(_values(f, np.asarray(family.transform(phi, eps)), n, who), float)
    return _summarise(per_sample, fvals, unravel, "reparameterization")


def score_function_gradient(
    f: Callable,
    family: Any,
    phi: Any,
    n_samples: int = 1000,
    seed: int | None = 0,
    baseline: str | float | None = "loo",
) -> GradientEstimate:
    """∇_φ E_{q_φ}[f] ≈ (1/n) Σᵢ (f(xᵢ) − bᵢ) ∇_φ log q_φ(xᵢ), xᵢ ~ q_φ (REINFORCE).

    f is only evaluated (it may be non-differentiable). ``family`` provides
    ``sample_noise``, ``transform`` and ``log_prob(phi, x)``. ``baseline``: ``None`` (b =
    0), a number, or ``"loo"``: bᵢ = the mean of f over the other n − 1 samples, which
    keeps the estimator unbiased (E[∇ log q] = 0 and bᵢ is independent of xᵢ) and usually
    cuts its variance by orders of magnitude. Cost: n evaluations of f, n gradients of
    log q.
    """
    rng = np.random.default_rng(seed)
    eps = np.asarray(family.sample_noise(rng, int(n_samples)))
    x = np.asarray(family.transform(phi, eps), float)
    n = x.shape[0]
    fvals = np.asarray(_values(f, x, n, "score_function_gradient"), float)
    if baseline is None:
        b = np.zeros(n)
    elif isinstance(baseline, str):
        if baseline != "loo":
            raise ValueError(f"score_function_gradient: baseline must be None, a number or "
                             f"'loo'; got {baseline!r}.")
        if n < 2:
            raise ValueError("score_function_gradient: the 'loo' baseline needs n_samples ≥ 2.")
        b = (np.sum(fvals) - fvals) / (n - 1)
    else:
        b = np.full(n, float(baseline))
    flat, unravel = ravel(phi)

    def log_q(w, xi):
        return family.log_prob(unravel(w), xi[None])[0]

    scores = np.asarray(vmap(grad(log_q), in_axes=(None, 0))(flat, x))
    per_sample = (fvals - b)[:, None] * scores
    label = "score_function" + ("" if baseline is None else f" (baseline={baseline})")
    return _summarise(per_sample, fvals, unravel, label)
