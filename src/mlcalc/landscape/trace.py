"""The trace of a symmetric operator from products with random probe vectors.

* Hutchinson: tr(A) ≈ (1/m) Σⱼ zⱼᵀ A zⱼ with independent probes zⱼ (E[z zᵀ] = I); the
  standard error is the sample standard deviation of zⱼᵀ A zⱼ over √m. With Rademacher
  probes Var(zᵀAz) = 2(‖A‖_F² − Σᵢ Aᵢᵢ²).
* Hutch++ (Meyer, Musco, Musco, Woodruff 2021): a third of the products sketch the top
  of the spectrum, Q = orth(A S); tr(QᵀAQ) is taken exactly (another third) and
  Hutchinson, with the last third, estimates the trace of the deflated remainder
  (I − QQᵀ)A(I − QQᵀ). The standard error is that of the Hutchinson part (given Q).
  Far fewer products for a given error when the spectrum decays (O(1/ε) against
  O(1/ε²)).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .lanczos import _frozen
from .operators import Operator, as_operator, progress_bar

__all__ = ["TraceEstimate", "trace", "probe_vectors"]

_BLOCK = 16


@dataclass(frozen=True)
class TraceEstimate:
    """An estimate of tr(A) with its standard error.

    ``samples`` are the per-probe values of the stochastic part (zⱼᵀ A zⱼ, of the
    deflated operator for Hutch++); ``exact_part`` is tr(QᵀAQ) for Hutch++ (0 for
    Hutchinson), so ``estimate = exact_part + mean(samples)``. ``float(est)`` is the
    estimate.
    """

    estimate: float
    stderr: float
    n_products: int
    method: str
    n_samples: int
    samples: np.ndarray = field(repr=False)
    exact_part: float

    def __float__(self) -> float:
        return float(self.estimate)

    def interval(self, z: float = 1.96) -> tuple[float, float]:
        """estimate ∓ z·stderr (95% by default, for the normal approximation)."""
        return (self.estimate - z * self.stderr, self.estimate + z * self.stderr)


def probe_vectors(rng: np.random.Generator, n: int, m: int,
                  distribution: str = "rademacher") -> np.ndarray:
    """m probe vectors of dimension n as columns, with E[z zᵀ] = I: Rademacher (±1,
    the minimum-variance choice for Hutchinson) or standard Gaussian."""
    if distribution == "rademacher":
        return rng.choice(np.array([-1.0, 1.0]), size=(n, m))
    if distribution in ("gaussian", "normal"):
        return rng.standard_normal((n, m))
    raise ValueError(f"distribution must be 'rademacher' or 'gaussian', got {distribution!r}")


def _apply(op: Operator, V: np.ndarray, bar) -> np.ndarray:
    out = np.empty_like(V)
    for start in range(0, V.shape[1], _BLOCK):
        stop = min(start + _BLOCK, V.shape[1])
        out[:, start:stop] = op.matmat(V[:, start:stop])
        bar.advance(stop - start)
    return out


def trace(op, method: str = "hutchinson", n_samples: int = 100, *, seed: int | None = 0,
          distribution: str = "rademacher", progress: bool = False) -> TraceEstimate:
    """tr(A) by Hutchinson's estimator or Hutch++, with ``n_samples`` products in all.

    ``method="hutchinson"``: the mean of zᵀAz over n_samples probes, standard error
    std/√n_samples. ``method="hutch++"``: n_samples//3 sketch products, as many for
    the exact part, and the remaining (at least 2) for Hutchinson on the deflated
    remainder. ``seed`` makes the estimate reproducible.
    """
    op = as_operator(op)
    key = str(method).lower().replace("_", "").replace("plusplus", "++")
    if key not in ("hutchinson", "hutch++"):
        raise ValueError(f"method must be 'hutchinson' or 'hutch++', got {method!r}")
    m = int(n_samples)
    if m != n_samples or m < (6 if key == "hutch++" else 2):
        need = "at least 6 for hutch++" if key == "hutch++" else "at least 2"
        raise ValueError(f"n_samples must be an integer, {need} (for a standard error); "
                         f"got {n_samples!r}")
    rng = np.random.default_rng(seed)
    start = op.n_products
    bar = progress_bar(progress, m, f"trace ({key})")
    try:
        if key == "hutchinson":
            Z = probe_vectors(rng, op.n, m, distribution)
            samples = np.einsum("ij,ij->j", Z, _apply(op, Z, bar))
            exact = 0.0
        else:
            s = min(m // 3, op.n)
            g = m - 2 * s
            S = probe_vectors(rng, op.n, s, distribution)
            Q, _ = np.linalg.qr(_apply(op, S, bar))
            exact = float(np.trace(Q.T @ _apply(op, Q, bar)))
            G = probe_vectors(rng, op.n, g, distribution)
            P = G - Q @ (Q.T @ G)
            samples = np.einsum("ij,ij->j", P, _apply(op, P, bar))
    finally:
        bar.close()
    estimate = exact + float(np.mean(samples))
    stderr = float(np.std(samples, ddof=1) / np.sqrt(samples.size))
    return TraceEstimate(float(estimate), stderr, int(op.n_products - start), key, m,
                         _frozen(samples), float(exact))
