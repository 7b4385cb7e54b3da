"""Scalar summaries of a curvature spectrum.

* ``sharpness``: the largest eigenvalue λ_max of the Hessian (the curvature along the
  sharpest direction; gradient descent with step η is stable only while λ_max < 2/η);
* ``condition_number``: κ = λ_max/λ_min of a positive definite operator (∞ when
  λ_min ≤ 0: the operator is singular or indefinite there);
* ``negative_fraction``: the fraction of eigenvalues below −tol, #{λᵢ < −tol}/n, by
  stochastic Lanczos quadrature (or exactly, from a dense eigendecomposition).
"""

from __future__ import annotations

import numpy as np

from .density import SLQEstimate, slq_quadrature
from .lanczos import _frozen, eigenvalues
from .operators import as_operator

__all__ = ["sharpness", "condition_number", "negative_fraction"]


def sharpness(op, *, tol: float = 1e-6, max_steps: int | None = None,
              seed: int | None = 0) -> float:
    """λ_max, the largest (algebraic) eigenvalue, by Lanczos (residual ≤ tol·|λ_max|,
    so the eigenvalue is accurate to about tol²·|λ_max|/gap)."""
    return float(eigenvalues(op, k=1, which="largest", tol=tol, max_steps=max_steps,
                             seed=seed, residuals="estimate").values[0])


def condition_number(op, *, tol: float = 1e-6, max_steps: int | None = None,
                     seed: int | None = 0) -> float:
    """κ = λ_max/λ_min from the two extreme eigenvalues (one Lanczos run, which="both").
    Returns ∞ when λ_min ≤ 0 (singular or indefinite: no finite condition number).
    The smallest eigenvalue of a Hessian often sits in a dense cluster near 0, where
    Lanczos converges slowly: check ``eigenvalues(op, 2, "both")`` if in doubt."""
    pairs = eigenvalues(op, k=2, which="both", tol=tol, max_steps=max_steps, seed=seed,
                        residuals="estimate")
    lo, hi = float(pairs.values[0]), float(pairs.values[-1])
    if lo <= 0.0:
        return float("inf")
    return hi / lo


def negative_fraction(op, *, tol: float = 0.0, method: str = "slq", n_runs: int = 10,
                      n_steps: int = 80, seed: int | None = 0) -> SLQEstimate:
    """The fraction of eigenvalues below −``tol``: #{λᵢ < −tol}/n.

    ``method="slq"``: (1/R) Σ_runs Σₖ τₖ 1[θₖ < −tol] with the standard error over the
    runs (the quadrature of a step function: accurate to about the weight of the nodes
    near −tol). ``method="dense"``: the exact count from the dense matrix (n products,
    for small operators; stderr 0).
    """
    op = as_operator(op)
    if method == "dense":
        A = getattr(op, "dense", None)
        lam = np.linalg.eigvalsh(A if A is not None else op.to_dense())
        frac = float(np.mean(lam < -tol))
        return SLQEstimate(frac, 0.0, _frozen([frac]), 0, op.n, op.n if A is None else 0)
    if method != "slq":
        raise ValueError(f"method must be 'slq' or 'dense', got {method!r}")
    nodes, weights, used = slq_quadrature(op, n_runs, n_steps, seed=seed)
    per_run = _frozen(np.sum(weights * (nodes < -tol), axis=1))
    stderr = (float(np.std(per_run, ddof=1) / np.sqrt(per_run.size))
              if per_run.size > 1 else float("inf"))
    return SLQEstimate(float(np.mean(per_run)), stderr, per_run, per_run.size,
                       nodes.shape[1], used)
