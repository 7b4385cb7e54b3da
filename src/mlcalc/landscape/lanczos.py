"""Extreme eigenpairs of a symmetric operator known through products.

``eigenvalues`` runs the Lanczos iteration with full reorthogonalisation: after j
products the orthonormal basis Q_j of the Krylov space span{q, Aq, …, A^{j−1}q} and
the tridiagonal T_j = Q_jᵀ A Q_j satisfy A Q_j = Q_j T_j + β_j q_{j+1} e_jᵀ; the Ritz
pairs (θ, Q_j s) of T_j approximate the extreme eigenpairs, each with the residual
‖A y − θ y‖ = β_j |e_jᵀ s|. Every new vector is orthogonalised twice against the whole
basis (classical Gram–Schmidt, twice), so no spurious copies appear; memory is
(steps + 1)·n floats. The iteration stops when the wanted pairs' residuals are below
``tol``·‖A‖ (‖A‖ estimated by max |θ|).

``power_iteration`` is the comparison method (PyHessian's): repeated products with
Rayleigh quotients, deflated by orthogonalising against the vectors already found; it
finds the eigenvalues of largest magnitude, one at a time, converging at the rate
|λ₂/λ₁| per product where Lanczos converges at a rate governed by the square root of
the gap ratio.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.linalg import eigh_tridiagonal

from .operators import Operator, as_operator, progress_bar

__all__ = ["Eigenpairs", "LanczosRun", "lanczos", "eigenvalues", "power_iteration"]

_WHICH = ("largest", "smallest", "both")


def _frozen(a) -> np.ndarray:
    """A read-only float copy of ``a`` (the arrays held by the frozen result classes)."""
    out = np.array(a, dtype=float, copy=True)
    out.setflags(write=False)
    return out


@dataclass(frozen=True)
class Eigenpairs:
    """Approximate eigenpairs (λᵢ, vᵢ) of a symmetric operator.

    ``values`` are ordered from the requested end: descending for "largest" (and for
    power iteration, by magnitude), ascending for "smallest" and "both"; ``vectors[:, i]``
    is the unit vector of ``values[i]``; ``residuals[i]`` = ‖A vᵢ − λᵢ vᵢ‖ (computed
    explicitly with one product per pair, or the Lanczos estimate β|eᵀs| when
    ``residuals="estimate"``). ``converged[i]`` says whether pair i met the tolerance.
    ``history[j]`` holds the estimates of the same values after j + 1 products of the
    iteration (NaN before an estimate exists). ``n_products`` counts the iteration's
    products; ``residual_products`` the ones spent on the residual check.
    """

    values: np.ndarray
    vectors: np.ndarray = field(repr=False)
    residuals: np.ndarray
    converged: np.ndarray
    n_products: int
    residual_products: int
    history: np.ndarray = field(repr=False)
    method: str
    which: str
    tol: float
    message: str

    @property
    def all_converged(self) -> bool:
        return bool(np.all(self.converged))

    def __len__(self) -> int:
        return int(self.values.size)


@dataclass(frozen=True)
class LanczosRun:
    """A Lanczos factorisation A Q = Q T + β q eᵀ after ``n_steps`` products:
    ``alphas`` (diagonal of T), ``betas`` (its off-diagonal, length n_steps − 1; a 0
    marks a restart after an invariant subspace was found), ``beta_last`` (the norm of
    the next residual vector), ``basis`` (the rows of Qᵀ, shape (n_steps, n), when
    kept). ``nodes`` and ``weights`` are the Gauss quadrature rule of the start vector's
    spectral measure: the eigenvalues θₖ of T and the squared first components of its
    eigenvectors (Σ weights = 1 when there was no restart)."""

    alphas: np.ndarray
    betas: np.ndarray
    beta_last: float
    basis: np.ndarray | None = field(repr=False)
    n_steps: int
    restarts: int

    @property
    def nodes(self) -> np.ndarray:
        return self._quadrature()[0]

    @property
    def weights(self) -> np.ndarray:
        return self._quadrature()[1]

    def _quadrature(self) -> tuple[np.ndarray, np.ndarray]:
        theta, S = _tridiag_eigh(self.alphas, self.betas)
        return theta, S[0] ** 2


def _tridiag_eigh(alphas: np.ndarray, betas: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if alphas.size == 1:
        return alphas.copy(), np.ones((1, 1))
    return eigh_tridiagonal(alphas, betas)


def _random_unit(rng: np.random.Generator, n: int) -> np.ndarray:
    q = rng.standard_normal(n)
    return q / np.linalg.norm(q)


class _Lanczos:
    """The Lanczos iteration with full reorthogonalisation, one step at a time."""

    def __init__(self, op: Operator, max_steps: int, rng: np.random.Generator,
                 v0: np.ndarray | None) -> None:
        self.op = op
        self.n = op.n
        self.m = min(int(max_steps), self.n)
        self.rng = rng
        self.Q = np.empty((self.m + 1, self.n))
        self.alphas = np.zeros(self.m)
        self.betas = np.zeros(self.m)   # betas[j] couples steps j and j + 1
        self.steps = 0
        self.restarts = 0
        self.block_starts = [0]   # first step of each Krylov block (restarts)
        self.anorm = 0.0
        if v0 is None:
            q = _random_unit(rng, self.n)
        else:
            q = np.asarray(v0, dtype=float).reshape(-1)
            if q.size != self.n:
                raise ValueError(f"v0 must have shape ({self.n},), got shape {np.shape(v0)}")
            norm = np.linalg.norm(q)
            if not norm > 0:
                raise ValueError("v0 must be a nonzero vector")
            q = q / norm
        self.Q[0] = q

    def step(self) -> None:
        j = self.steps
        Qj = self.Q[: j + 1]
        w = self.op.matvec(self.Q[j])
        a = float(self.Q[j] @ w)
        w -= a * self.Q[j]
        if j > 0:
            w -= self.betas[j - 1] * self.Q[j - 1]
        for _ in range(2):  # full reorthogonalisation, twice is enough (Kahan–Parlett)
            c = Qj @ w
            w -= Qj.T @ c
            a += float(c[j])
        self.alphas[j] = a
        b = float(np.linalg.norm(w))
        prev = self.betas[j - 1] if j > 0 else 0.0
        self.anorm = max(self.anorm, abs(a) + b + prev)
        self.steps = j + 1
        self.betas[j] = b
        if self.steps >= self.n:
            return
        if b > 1e-12 * self.anorm and b > 0:
            self.Q[j + 1] = w / b
            return
        # invariant subspace: restart with a random vector orthogonal to the basis
        self.betas[j] = 0.0
        self.restarts += 1
        self.block_starts.append(j + 1)
        r = self.rng.standard_normal(self.n)
        for _ in range(2):
            r -= Qj.T @ (Qj @ r)
        self.Q[j + 1] = r / np.linalg.norm(r)

    @property
    def broke_down(self) -> bool:
        return self.steps > 0 and self.betas[self.steps - 1] == 0.0

    def ritz(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Ritz values (ascending), eigenvectors of T, residual estimates β|eᵀs|."""
        s = self.steps
        theta, S = _tridiag_eigh(self.alphas[:s], self.betas[: s - 1])
        res = np.abs(self.betas[s - 1] * S[-1])
        return theta, S, res

    def last_block(self) -> tuple[np.ndarray, np.ndarray]:
        """Ritz values (ascending) and residual estimates of the Krylov block that
        holds the latest step."""
        s = self.steps
        b0 = max(b for b in self.block_starts if b <= s - 1)
        theta, S = _tridiag_eigh(self.alphas[b0:s], self.betas[b0 : s - 1])
        return theta, np.abs(self.betas[s - 1] * S[-1])

    def run(self) -> LanczosRun:
        s = self.steps
        return LanczosRun(_frozen(self.alphas[:s]), _frozen(self.betas[: s - 1]),
                          float(self.betas[s - 1]), self.Q[:s], s, self.restarts)


def _check_seed_steps(n_steps: int, what: str = "n_steps") -> int:
    if int(n_steps) != n_steps or n_steps < 1:
        raise ValueError(f"{what} must be a positive integer, got {n_steps!r}")
    return int(n_steps)


def lanczos(op, n_steps: int, *, seed: int | None = 0, v0=None,
            keep_basis: bool = True) -> LanczosRun:
    """``n_steps`` Lanczos steps (full reorthogonalisation) from ``v0`` or a seeded
    random unit vector: the tridiagonal T = Qᵀ A Q and, when kept, the basis Q.
    Cost: n_steps products and O(n_steps² n) flops for the reorthogonalisation."""
    op = as_operator(op)
    n_steps = _check_seed_steps(n_steps)
    it = _Lanczos(op, n_steps, np.random.default_rng(seed), v0)
    for _ in range(it.m):
        it.step()
    out = it.run()
    if not keep_basis:
        out = LanczosRun(out.alphas, out.betas, out.beta_last, None, out.n_steps, out.restarts)
    return out


def _wanted(theta: np.ndarray, k: int, which: str) -> np.ndarray:
    """Indices into ascending ``theta`` of the wanted values, in reporting order."""
    s = theta.size
    k = min(k, s)
    if which == "largest":
        return np.arange(s - 1, s - 1 - k, -1)
    if which == "smallest":
        return np.arange(k)
    high = k - k // 2
    low = k // 2
    return np.concatenate([np.arange(low), np.arange(s - high, s)])


def _block_done(it: _Lanczos, wanted: np.ndarray, which: str, atol: float) -> bool:
    """Whether the latest Krylov block can add nothing to the wanted values.

    The first block explores the whole space but holds one copy of each distinct
    eigenvalue; a restarted block explores the orthogonal complement of the previous
    ones. A block still running must have converged its extreme Ritz value(s) on the
    wanted side (the extremes of the complement). A block that became invariant holds
    the complement's distinct eigenvalues: if one of them lies strictly inside the
    wanted range, further copies may hide in the next complement, so the iteration
    goes on (it has already restarted)."""
    tb, rb = it.last_block()
    hi, lo = float(np.max(wanted)), float(np.min(wanted))
    if it.broke_down:
        if which == "largest":
            inside = tb > lo
        elif which == "smallest":
            inside = tb < hi
        else:
            half = wanted.size // 2
            inside = (tb < wanted[half - 1]) if half else np.zeros(tb.size, bool)
            inside = inside | (tb > wanted[half])
        return not np.any(inside)
    ends = {"largest": [-1], "smallest": [0], "both": [0, -1]}[which]
    return bool(np.all(rb[ends] <= atol))


def _check_which(which: str) -> str:
    key = str(which).lower()
    if key not in _WHICH:
        raise ValueError(f"which must be one of {', '.join(map(repr, _WHICH))}; got {which!r}")
    return key


def eigenvalues(op, k: int = 6, which: str = "largest", *, tol: float = 1e-6,
                max_steps: int | None = None, seed: int | None = 0, v0=None,
                residuals: str = "explicit", progress: bool = False) -> Eigenpairs:
    """The ``k`` extreme eigenpairs of a symmetric operator by Lanczos with full
    reorthogonalisation.

    ``which``: "largest" (algebraically), "smallest", or "both" (k in all: k − k//2
    from the top, k//2 from the bottom, as scipy's ``eigsh(which="BE")``). Stops when
    every wanted Ritz pair has residual ≤ ``tol``·max|θ| (eigenvalue errors are then of
    order residual²/gap), after ``max_steps`` products (default min(n, 20k + 50)), or
    when the Krylov space is the whole space. ``residuals="explicit"`` checks each
    returned pair with one more product, ‖A v − λ v‖; ``"estimate"`` reports β|eᵀs|.
    Cost: one product per step; memory (steps + 1)·n. ``seed`` fixes the start vector.
    An eigenvalue of multiplicity m > 1 is found once per Krylov block (the iteration
    restarts with a fresh vector when a block becomes invariant).
    """
    op = as_operator(op)
    which = _check_which(which)
    if int(k) != k or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    if residuals not in ("explicit", "estimate"):
        raise ValueError(f"residuals must be 'explicit' or 'estimate', got {residuals!r}")
    k = min(int(k), op.n)
    if max_steps is None:
        max_steps = min(op.n, 20 * k + 50)
    max_steps = max(_check_seed_steps(max_steps, "max_steps"), min(k, op.n))
    start = op.n_products
    it = _Lanczos(op, max_steps, np.random.default_rng(seed), v0)
    history = np.full((it.m, k), np.nan)
    bar = progress_bar(progress, it.m, f"Lanczos ({which} {k})")
    converged = False
    try:
        while it.steps < it.m:
            it.step()
            bar.advance()
            theta, S, res = it.ritz()
            idx = _wanted(theta, k, which)
            history[it.steps - 1, : idx.size] = theta[idx]
            if it.steps >= op.n:
                converged = True
                break
            if idx.size < k:
                continue
            scale = max(float(np.max(np.abs(theta))), np.finfo(float).tiny)
            if np.all(res[idx] <= tol * scale) and _block_done(it, theta[idx], which,
                                                                tol * scale):
                converged = True
                break
    finally:
        bar.close()
    theta, S, res = it.ritz()
    idx = _wanted(theta, k, which)
    values = theta[idx]
    vectors = it.Q[: it.steps].T @ S[:, idx]
    vectors /= np.linalg.norm(vectors, axis=0, keepdims=True)
    n_products = op.n_products - start
    scale = max(float(np.max(np.abs(theta))), np.finfo(float).tiny)
    pair_ok = res[idx] <= tol * scale
    if residuals == "explicit":
        AV = op.matmat(vectors)
        resid = np.linalg.norm(AV - vectors * values, axis=0)
        residual_products = vectors.shape[1]
    else:
        resid = res[idx]
        residual_products = 0
    if idx.size < k:
        msg = (f"only {idx.size} Ritz values after {it.steps} steps (the operator has "
               f"{op.n} dimensions)")
    elif converged and np.all(pair_ok):
        msg = f"converged after {it.steps} products"
    elif converged:
        msg = f"the Krylov space is the whole space after {it.steps} products (exact)"
        pair_ok = np.ones_like(pair_ok)
    else:
        msg = (f"not converged: {int(np.sum(~pair_ok))} of {k} pairs above the residual "
               f"tolerance {tol:g}·max|θ| after max_steps = {it.steps}; raise max_steps")
    if it.restarts:
        msg += (f"; {it.restarts} restart(s) after invariant subspaces (eigenvalues of "
                "multiplicity > 1 are found once per block)")
    return Eigenpairs(_frozen(values), _frozen(vectors), _frozen(resid),
                      np.array(pair_ok, dtype=bool), int(n_products), int(residual_products),
                      _frozen(history[: it.steps]), "lanczos", which, float(tol), msg)


def power_iteration(op, k: int = 1, *, tol: float = 1e-6, max_iter: int = 1000,
                    seed: int | None = 0, residuals: str = "explicit",
                    progress: bool = False) -> Eigenpairs:
    """The ``k`` eigenvalues of largest magnitude by power iteration with deflation
    (PyHessian's method).

    For i = 1..k: from a seeded random unit vector v, repeat w = A v, λ = vᵀw, v ← w/‖w‖,
    with v orthogonalised against the eigenvectors already found before each product,
    until |λ − λ_prev| ≤ ``tol``·|λ| (PyHessian's rule), or the deflated residual
    ‖A v − λ v‖ ≤ ``tol``·max|λ| (which also settles eigenvalues 0 of a singular
    operator, where A v carries no direction), or ``max_iter`` products. Converges like
    |λᵢ₊₁/λᵢ|ᵗ. The residual ‖A v − λ v‖ comes from the last product (no extra cost).
    ``history[j, i]``: the estimate of λᵢ after j + 1 products in all.
    ``residuals="explicit"`` reports ‖A v − λ v‖ (one more product per pair);
    ``"estimate"`` the residual of the deflated operator from the last product (free,
    but blind to the errors of the vectors deflated before).
    """
    op = as_operator(op)
    if residuals not in ("explicit", "estimate"):
        raise ValueError(f"residuals must be 'explicit' or 'estimate', got {residuals!r}")
    if int(k) != k or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    k = min(int(k), op.n)
    max_iter = _check_seed_steps(max_iter, "max_iter")
    rng = np.random.default_rng(seed)
    start = op.n_products
    found: list[np.ndarray] = []
    values, resid, ok = [], [], []
    history: list[np.ndarray] = []
    current = np.full(k, np.nan)
    bar = progress_bar(progress, k * max_iter, f"power iteration ({k})")
    try:
        for i in range(k):
            U = np.array(found).T if found else np.zeros((op.n, 0))
            v = _random_unit(rng, op.n)
            lam_prev, lam, r, done = None, 0.0, np.inf, False
            for _ in range(max_iter):
                if found:
                    for _ in range(2):
                        v = v - U @ (U.T @ v)
                    v /= np.linalg.norm(v)
                w = op.matvec(v)
                if found:
                    w = w - U @ (U.T @ w)
                lam = float(v @ w)
                r = float(np.linalg.norm(w - lam * v))
                current[i] = lam
                history.append(current.copy())
                bar.advance()
                vec = v
                wn = np.linalg.norm(w)
                scale = max([abs(lam)] + [abs(x) for x in values])
                if (lam_prev is not None and abs(lam - lam_prev) <= tol * abs(lam)) or \
                        r <= tol * scale:
                    done = True
                    break
                lam_prev = lam
                if wn == 0:  # v is in the null space: λ = 0 exactly
                    done = True
                    break
                v = w / wn
            found.append(vec)
            values.append(lam)
            resid.append(r)
            ok.append(done)
    finally:
        bar.close()
    n_products = op.n_products - start
    vectors = np.array(found).T
    residual_products = 0
    if residuals == "explicit":
        resid = np.linalg.norm(op.matmat(vectors) - vectors * np.array(values), axis=0)
        residual_products = k
    n_ok = sum(ok)
    msg = (f"{n_ok} of {k} eigenvalues converged (relative change or residual ≤ {tol:g}) in "
           f"{n_products} products")
    return Eigenpairs(_frozen(values), _frozen(vectors), _frozen(resid),
                      np.array(ok, dtype=bool), int(n_products), residual_products,
                      _frozen(np.array(history).reshape(-1, k)), "power", "magnitude",
                      float(tol), msg)
