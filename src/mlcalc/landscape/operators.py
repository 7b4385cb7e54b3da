"""Matrix-free symmetric operators: the curvature of a loss seen only through products.

``HessianOperator(problem)`` is the Hessian ∇²L(w) of the full-data loss of a problem
(``mlcalc.models.Problem`` or any object with the same protocol: ``dim``,
``flat_params``, ``with_params``, ``hvp``, ``ggn_vp``, ``fisher_vp``); with
``kind="ggn"`` the generalised Gauss–Newton matrix Jᵀ H_ℓ J, with ``kind="fisher"`` the
empirical Fisher (1/n) Σᵢ gᵢ gᵢᵀ. Each product is summed over the problem's
mini-batches, so it is the exact full-data matrix applied to a vector, never formed.

Every operator counts its products (``n_products``): the spectral instruments report
how many each result cost. ``as_operator`` turns a dense symmetric array, a
``scipy.sparse.linalg.LinearOperator`` (or sparse matrix) or a pair ``(matvec, n)``
into the same interface.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = [
    "Operator",
    "HessianOperator",
    "GaussNewtonOperator",
    "FisherOperator",
    "as_operator",
]

_KINDS = {
    "hessian": "hessian",
    "ggn": "ggn",
    "gauss_newton": "ggn",
    "gauss-newton": "ggn",
    "gn": "ggn",
    "fisher": "fisher",
    "empirical_fisher": "fisher",
}

# to_dense refuses larger operators unless asked (n products and n² memory)
_DENSE_LIMIT = 5000


class Operator:
    """A symmetric n×n linear operator known through ``matvec``.

    ``op @ v`` (v of shape (n,)) and ``op @ V`` (V of shape (n, k), one product per
    column) apply it; ``n_products`` counts the vectors it has been applied to.
    ``as_linear_operator()`` wraps it for SciPy (``eigsh``, ``cg``, ...), still counted.
    """

    def __init__(self, matvec: Callable[[np.ndarray], np.ndarray], n: int,
                 name: str = "operator", matmat: Callable | None = None) -> None:
        n_int = int(n)
        if n_int != n or n_int < 1:
            raise ValueError(f"the operator's size must be a positive integer, got {n!r}")
        self._matvec = matvec
        self._matmat = matmat
        self.n = n_int
        self.name = name
        self.n_products = 0

    # ------------------------------------------------------------------ interface
    @property
    def shape(self) -> tuple[int, int]:
        return (self.n, self.n)

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(float)

    def reset_count(self) -> None:
        """Set the product counter back to 0."""
        self.n_products = 0

    def matvec(self, v) -> np.ndarray:
        """A v for one vector of shape (n,); counts one product."""
        v = np.asarray(v, dtype=float)
        if v.shape not in ((self.n,), (self.n, 1)):
            raise ValueError(
                f"{self.name}: expected a vector of shape ({self.n},), got shape {v.shape}")
        out = np.asarray(self._matvec(v.reshape(self.n)), dtype=float)
        self.n_products += 1
        if out.size != self.n:
            raise ValueError(f"{self.name}: the product returned shape {out.shape}, "
                             f"expected ({self.n},)")
        return out.reshape(v.shape)

    def matmat(self, V) -> np.ndarray:
        """A V for V of shape (n, k); counts k products."""
        V = np.asarray(V, dtype=float)
        if V.ndim != 2 or V.shape[0] != self.n:
            raise ValueError(
                f"{self.name}: expected a block of vectors of shape ({self.n}, k), "
                f"got shape {V.shape}")
        if self._matmat is not None:
            out = np.asarray(self._matmat(V), dtype=float).reshape(V.shape)
            self.n_products += V.shape[1]
            return out
        if V.shape[1] == 0:
            return np.zeros_like(V)
        return np.stack([self.matvec(V[:, j]) for j in range(V.shape[1])], axis=1)

    def __matmul__(self, x) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        return self.matvec(x) if x.ndim == 1 else self.matmat(x)

    def __call__(self, v) -> np.ndarray:
        return self.matvec(v)

    def as_linear_operator(self):
        """This operator as a ``scipy.sparse.linalg.LinearOperator`` (symmetric:
        ``rmatvec`` is ``matvec``); products through it are counted here."""
        from scipy.sparse.linalg import LinearOperator

        return LinearOperator(self.shape, matvec=self.matvec, rmatvec=self.matvec,
                              matmat=self.matmat, rmatmat=self.matmat, dtype=float)

    def to_dense(self, force: bool = False) -> np.ndarray:
        """The n×n matrix, column by column (n products), symmetrised (A + Aᵀ)/2.
        Refused above n = 5000 unless ``force=True``."""
        if self.n > _DENSE_LIMIT and not force:
            raise ValueError(
                f"{self.name}: forming a dense {self.n}×{self.n} matrix costs {self.n} "
                f"products and {8 * self.n * self.n / 2**30:.1f} GiB; pass force=True "
                "if that is intended")
        A = self.matmat(np.eye(self.n))
        return 0.5 * (A + A.T)

    def shifted(self, sigma: float) -> Operator:
        """The operator A + σI (its products are counted on this operator too)."""
        sigma = float(sigma)
        return Operator(lambda v: self.matvec(v) + sigma * v, self.n,
                        name=f"{self.name} + {sigma:g}·I")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, n={self.n}, products={self.n_products})"


def _flat_point(problem: Any, params: Any) -> np.ndarray:
    """The flat parameter vector: the problem's own, a flat array of shape (dim,), or a
    pytree converted through ``problem.with_params``."""
    if params is None:
        return np.array(problem.flat_params, dtype=float)
    if isinstance(params, np.ndarray) and params.shape == (problem.dim,):
        return np.array(params, dtype=float)
    if isinstance(params, np.ndarray) and params.ndim == 1:
        raise ValueError(
            f"params: a flat vector must have shape ({problem.dim},) (the problem's "
            f"parameter count), got shape {params.shape}")
    return np.asarray(problem.with_params(params).flat_params, dtype=float)


class HessianOperator(Operator):
    """A curvature matrix of the full-data loss L of ``problem`` at ``params``
    (default: ``problem.params``; a pytree or a flat vector), applied without forming it.

    * ``kind="hessian"``: ∇²L(w)·v, forward-over-reverse, summed over mini-batches
      (cost ≈ 4 loss evaluations per product);
    * ``kind="ggn"``: the generalised Gauss–Newton Jᵀ H_ℓ J v (positive semidefinite for
      convex losses; equals the Fisher for cross-entropy and squared error);
    * ``kind="fisher"``: the empirical Fisher (1/n) Σᵢ gᵢ gᵢᵀ v (per-example gradients).

    Uses only the problem protocol, so framework adapters' problems work too.
    """

    def __init__(self, problem: Any, params: Any = None, kind: str = "hessian") -> None:
        key = _KINDS.get(str(kind).lower())
        if key is None:
            raise ValueError(
                f"HessianOperator: unknown kind {kind!r}; use 'hessian', 'ggn' "
                "(Gauss–Newton) or 'fisher'")
        for attr in ("dim", "flat_params", "hvp", "ggn_vp", "fisher_vp"):
            if not hasattr(problem, attr):
                raise TypeError(
                    f"HessianOperator needs a problem (mlcalc.models.Problem or an object "
                    f"with the same protocol); {type(problem).__name__} has no {attr!r}")
        self.problem = problem
        self.kind = key
        self.w = _flat_point(problem, params)
        product = {"hessian": problem.hvp, "ggn": problem.ggn_vp,
                   "fisher": problem.fisher_vp}[key]
        w = self.w
        label = getattr(problem, "name", type(problem).__name__)
        super().__init__(lambda v: product(w, v), int(problem.dim), name=f"{key} of {label}")


def GaussNewtonOperator(problem: Any, params: Any = None) -> HessianOperator:
    """The generalised Gauss–Newton operator Jᵀ H_ℓ J of ``problem`` (see
    :class:`HessianOperator`)."""
    return HessianOperator(problem, params, kind="ggn")


def FisherOperator(problem: Any, params: Any = None) -> HessianOperator:
    """The empirical Fisher operator (1/n) Σᵢ gᵢ gᵢᵀ of ``problem`` (see
    :class:`HessianOperator`)."""
    return HessianOperator(problem, params, kind="fisher")


def as_operator(obj: Any, n: int | None = None, *, check_symmetric: bool = True) -> Operator:
    """An :class:`Operator` from ``obj``: an operator (returned as is), a problem (its
    Hessian), a dense symmetric (n, n) array, a scipy ``LinearOperator`` or sparse
    matrix, a pair ``(matvec, n)``, or a callable ``matvec`` with ``n`` given.

    Dense arrays are checked for symmetry (relative 1e-10) unless
    ``check_symmetric=False``; every spectral instrument assumes a symmetric operator.
    """
    if isinstance(obj, Operator):
        return obj
    if hasattr(obj, "hvp") and hasattr(obj, "flat_params"):
        return HessianOperator(obj)
    if isinstance(obj, tuple) and len(obj) == 2 and callable(obj[0]):
        return Operator(obj[0], obj[1], name="matvec")
    try:
        import scipy.sparse as sp
        from scipy.sparse.linalg import LinearOperator
    except ImportError:  # pragma: no cover - scipy is a dependency
        sp, LinearOperator = None, ()
    if isinstance(obj, LinearOperator) or (sp is not None and sp.issparse(obj)):
        rows, cols = obj.shape
        if rows != cols:
            raise ValueError(f"as_operator: the operator must be square, got shape {obj.shape}")
        if isinstance(obj, LinearOperator):
            return Operator(obj.matvec, rows, name="LinearOperator", matmat=obj.matmat)
        return Operator(lambda v: obj @ v, rows, name="sparse matrix", matmat=lambda V: obj @ V)
    if callable(obj):
        if n is None:
            raise ValueError("as_operator: a bare matvec needs its size: pass (matvec, n) or n=")
        return Operator(obj, n, name="matvec")
    A = np.asarray(obj, dtype=float)
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValueError(
            f"as_operator: a dense operator must be a square 2-D array, got shape {A.shape}")
    if check_symmetric:
        scale = max(float(np.max(np.abs(A), initial=0.0)), np.finfo(float).tiny)
        asym = float(np.max(np.abs(A - A.T), initial=0.0))
        if asym > 1e-10 * scale:
            raise ValueError(
                f"as_operator: the matrix is not symmetric (max |A − Aᵀ| = {asym:.3g}, "
                f"max |A| = {scale:.3g}); symmetrise it, (A + A.T) / 2, or pass "
                "check_symmetric=False")
    op = Operator(lambda v: A @ v, A.shape[0], name="dense matrix", matmat=lambda V: A @ V)
    op.dense = A
    return op


# ---------------------------------------------------------------------------------
# progress bars (rich, imported only when asked for)


class _NoProgress:
    def advance(self, steps: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


class _RichProgress:
    def __init__(self, total: int, description: str) -> None:
        from rich.console import Console
        from rich.progress import Progress

        self._progress = Progress(console=Console(file=sys.stderr), transient=True)
        self._progress.start()
        self._task = self._progress.add_task(description, total=total)

    def advance(self, steps: int = 1) -> None:
        self._progress.advance(self._task, steps)

    def close(self) -> None:
        self._progress.stop()


def progress_bar(enabled: bool, total: int, description: str):
    """A progress bar on stderr (rich) when ``enabled``; a silent stand-in otherwise or
    when rich is not installed (with a warning)."""
    if not enabled:
        return _NoProgress()
    try:
        return _RichProgress(total, description)
    except ImportError:
        warnings.warn("progress=True needs the 'rich' package (pip install rich); "
                      "continuing without a progress bar", RuntimeWarning, stacklevel=3)
        return _NoProgress()
