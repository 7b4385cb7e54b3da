"""The second-derivative test at a point of a loss landscape.

``classify_critical_point`` takes a problem (the full-data loss L(w) of
``mlcalc.models.Problem`` or any object with its protocol) or a plain function f(w)
with a point, and reports the gradient norm, the Hessian's eigenvalues and the
verdict in the vocabulary of ``mlcalc.calculus.classify``: "minimum" (all eigenvalues
> tol), "maximum" (all < −tol), "saddle" (both signs; its index is #{λ < −tol}) or
"degenerate" (semidefinite with an eigenvalue within tol of 0: inconclusive).

Small problems are decided from the whole spectrum (the dense Hessian from n
Hessian-vector products); large ones from the extreme eigenvalues by Lanczos, which
decide the verdict just as well (every eigenvalue lies between the extremes); the
index is then exact when a computed low eigenvalue is non-negative, and a lower bound
otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..autodiff.api import hvp, value_and_grad
from ..calculus.critical import _sym_kind
from .lanczos import _frozen, eigenvalues
from .operators import HessianOperator, Operator, _flat_point

__all__ = ["CriticalPointReport", "classify_critical_point"]


@dataclass(frozen=True)
class CriticalPointReport:
    """The second-derivative test at a point w.

    ``verdict``: "minimum", "maximum", "saddle" or "degenerate" (as
    ``mlcalc.calculus.classify``); ``index``: #{λ < −eig_tol}, exact when
    ``index_exact`` (else a lower bound: every computed low eigenvalue was negative).
    ``eigenvalues`` (ascending) and ``eigenvectors`` (columns) are the decomposition
    used: the whole spectrum for ``method="dense"``, the extreme pairs for
    ``"lanczos"`` (with their ``residuals`` ‖Hv − λv‖). ``is_critical``: ‖∇L(w)‖ ≤
    gtol; when False the verdict describes the local curvature only.
    """

    grad_norm: float
    index: int
    verdict: str
    eigenvalues: np.ndarray
    eigenvectors: np.ndarray = field(repr=False)
    residuals: np.ndarray
    is_critical: bool
    index_exact: bool
    degenerate: bool
    value: float
    point: np.ndarray = field(repr=False)
    method: str
    eig_tol: float
    gtol: float
    n_products: int
    message: str

    @property
    def kind(self) -> str:
        """The verdict (the name ``mlcalc.calculus.CriticalPoint`` uses)."""
        return self.verdict


def _is_problem(obj: Any) -> bool:
    return all(hasattr(obj, a) for a in ("hvp", "flat_params", "value_and_grad", "dim"))


def _function_setup(f: Callable, x) -> tuple[float, np.ndarray, Operator, np.ndarray]:
    if x is None:
        raise ValueError("classify_critical_point(f, point): a plain function needs the "
                         "point to classify as its second argument")
    x = np.asarray(x, dtype=float)
    shape = x.shape
    x0 = x.reshape(-1)

    def flat(u):
        out = f(u.reshape(shape))
        if np.size(out) != 1:
            raise ValueError(f"f must return a scalar; at a point of shape {shape} it "
                             f"returned shape {np.shape(out)}")
        return np.reshape(out, ())

    value, g = value_and_grad(flat)(x0)
    op = Operator(lambda v: np.asarray(hvp(flat, (x0,), (v,)), dtype=float), x0.size,
                  name="Hessian of f")
    return float(value), np.asarray(g, dtype=float).reshape(-1), op, x0


def classify_critical_point(problem_or_f: Any, params: Any = None, *, method: str = "auto",
                            k: int = 10, tol: float = 1e-8, gtol: float | None = None,
                            dense_max: int = 300, lanczos_tol: float = 1e-6,
                            max_steps: int | None = None, seed: int | None = 0,
                            progress: bool = False) -> CriticalPointReport:
    """Gradient norm, Hessian spectrum, index and verdict at ``params`` (a problem's
    pytree or flat vector, default ``problem.params``; for a plain function f(w), the
    point w).

    ``method="dense"``: the Hessian from n products, ``np.linalg.eigh``; ``"lanczos"``:
    the ``k`` extreme eigenpairs (k − k//2 largest, k//2 smallest) to residual
    ``lanczos_tol``·max|λ|; ``"auto"``: dense when n ≤ ``dense_max``. With
    s = max(1, max|λ|), an eigenvalue is zero when |λ| ≤ tol·s (+ the largest Lanczos
    residual, its possible error). The default gtol is 1e-6·s·max(1, ‖w‖∞), as in
    ``mlcalc.calculus.classify``. Cost: one gradient, then n or about k-plus-steps
    Hessian-vector products.
    """
    if _is_problem(problem_or_f):
        problem = problem_or_f
        w = _flat_point(problem, params)
        value, g = problem.value_and_grad(w)
        g = np.asarray(g, dtype=float)
        op: Operator = HessianOperator(problem, w)
    elif callable(problem_or_f):
        value, g, op, w = _function_setup(problem_or_f, params)
    else:
        raise TypeError(
            f"classify_critical_point takes a problem (mlcalc.models.Problem or its "
            f"protocol) or a function f(w) with a point; got {type(problem_or_f).__name__}")
    if method not in ("auto", "dense", "lanczos"):
        raise ValueError(f"method must be 'auto', 'dense' or 'lanczos', got {method!r}")
    if method == "auto":
        method = "dense" if op.n <= dense_max else "lanczos"
    if method == "dense":
        H = op.to_dense()
        lam, vec = np.linalg.eigh(H)
        resid = np.linalg.norm(H @ vec - vec * lam, axis=0)
        err = 0.0
    else:
        pairs = eigenvalues(op, k=max(2, int(k)), which="both", tol=lanczos_tol,
                            max_steps=max_steps, seed=seed, progress=progress)
        lam, vec, resid = np.asarray(pairs.values), np.asarray(pairs.vectors), \
            np.asarray(pairs.residuals)
        err = float(np.max(resid))
    scale = max(1.0, float(np.max(np.abs(lam), initial=0.0)))
    eig_tol = tol * scale + err
    verdict, index, degenerate, why = _sym_kind(lam, eig_tol)
    n_low = lam.size if method == "dense" else max(2, int(k)) // 2
    index_exact = method == "dense" or index < n_low or lam.size == op.n
    gnorm = float(np.linalg.norm(g))
    if gtol is None:
        gtol = 1e-6 * scale * max(1.0, float(np.max(np.abs(w), initial=0.0)))
    is_critical = bool(gnorm <= gtol)
    head = f"saddle of index {index}" if verdict == "saddle" else verdict
    if verdict == "saddle" and not index_exact:
        head = f"saddle of index ≥ {index}"
    msg = f"{head}: {why}"
    if method == "lanczos":
        msg += f" (the {lam.size} extreme eigenvalues of {op.n}, by Lanczos)"
    msg += "."
    if not is_critical:
        msg = (f"not a critical point: ‖∇L‖ = {gnorm:.3g} > gtol = {gtol:.3g}; the "
               f"Hessian test describes the local curvature only ({msg})")
    return CriticalPointReport(gnorm, int(index), verdict, _frozen(lam), _frozen(vec),
                               _frozen(resid), is_critical, bool(index_exact),
                               bool(degenerate), float(value), _frozen(w), method,
                               float(eig_tol), float(gtol), int(op.n_products), msg)
