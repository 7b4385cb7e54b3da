"""Quasi-Newton and conjugate-gradient methods with Wolfe line searches: BFGS (dense
inverse-Hessian update) and L-BFGS (compact form of the two-loop recursion's matrix),
with Moré–Thuente's line search by default, and nonlinear CG (Polak–Ribière+ with
restarts, strong Wolfe)."""

from __future__ import annotations

import functools
import math

import numpy as np
from scipy.linalg.lapack import dtrtri

from .driver import Run, require_unconstrained
from .line_search import more_thuente, strong_wolfe
from .objective import Objective
from .registry import register_method

__all__ = ["bfgs", "lbfgs", "cg"]


NO_DECREASE = "the line search found no decrease along the steepest descent"
STALL_MESSAGE = "no progress in 20 iterations"
LINE_SEARCHES = {"more_thuente": more_thuente, "strong_wolfe": strong_wolfe}


def _line_search(method: str, name: str):
    """The line search called ``name`` (an error naming the known ones otherwise)."""
    try:
        return LINE_SEARCHES[name]
    except KeyError:
        raise ValueError(
            f"{method}: unknown line_search {name!r}; known: {', '.join(LINE_SEARCHES)}."
        ) from None


def _first_step(g: np.ndarray) -> float:
    """Initial trial step along −g at the start: a move of length about 1."""
    return min(1.0, 1.0 / float(np.linalg.norm(g)))


def _curvature_ok(s: np.ndarray, y: np.ndarray) -> bool:
    """yᵀs > 0 (safely): the secant pair keeps the quasi-Newton matrix positive definite."""
    return float(y @ s) > 1e-12 * math.sqrt(float(s @ s) * float(y @ y))


PRODUCT_FORM_MAX_N = 50


def _bfgs_update(H: np.ndarray, s: np.ndarray, y: np.ndarray, rho: float) -> np.ndarray:
    """H⁺ = (I − ρ s yᵀ) H (I − ρ y sᵀ) + ρ s sᵀ (N&W eq. 6.17). Up to n =
    ``PRODUCT_FORM_MAX_N`` = 50 it is evaluated in this product form with two n×n
    products, O(n³) but at such n at most about 1.5 times the time of the expanded form
    (tens of microseconds), and rounded as scipy's BFGS rounds it, so that runs of the
    two agree step for step where the problem amplifies rounding; above, in the
    equivalent expanded form H − ρ(s (Hy)ᵀ + (Hy) sᵀ) + (ρ² yᵀHy + ρ) s sᵀ, O(n²)."""
    n = s.size
    if n <= PRODUCT_FORM_MAX_N:
        A1 = np.eye(n) - s[:, None] * y[None, :] * rho
        A2 = np.eye(n) - y[:, None] * s[None, :] * rho
        return A1 @ (H @ A2) + rho * s[:, None] * s[None, :]
    Hy = H @ y
    return (
        H
        - rho * (np.outer(s, Hy) + np.outer(Hy, s))
        + (rho * rho * float(y @ Hy) + rho) * np.outer(s, s)
    )


@register_method("bfgs")
def bfgs(
    obj: Objective,
    x: np.ndarray,
    run: Run,
    *,
    c1: float = 1e-4,
    c2: float = 0.9,
    initial_scaling: bool = False,
    line_search: str = "more_thuente",
    bounds=None,
    constraints=(),
):
    """BFGS with the inverse-Hessian update and a strong Wolfe line search.

    Direction d = −H_k g_k; H_{k+1} = (I − ρ s yᵀ) H_k (I − ρ y sᵀ) + ρ s sᵀ
    (:func:`_bfgs_update`) with s = t_k d_k = x_{k+1} − x_k, y = g_{k+1} − g_k,
    ρ = 1/yᵀs, H_0 = I. Line search: Moré–Thuente (``line_search="more_thuente"``,
    default, as scipy's BFGS) or ``"strong_wolfe"`` (N&W's zoom). With
    ``initial_scaling=True`` H_0 is rescaled to (yᵀs / yᵀy) I before the first update
    (N&W eq. 6.20); off by default, since on the Moré–Garbow–Hillstrom problems it
    costs more evaluations than it saves. Trial step t_0 = min(1, 1.01·2(f_k − f_{k−1})
    / g_kᵀd_k) (the step of a quadratic model of the last decrease, N&W eq. 3.60;
    min(1, 1.01/‖g_0‖) at the start, a move of length about 1). A pair with yᵀs ≤ 0 is
    skipped; a line search without decrease restarts once from H = I, then stops, as
    do 20 iterations without progress (:meth:`Run.stalled`): with success when the
    decrease left is within the rounding of f (:meth:`Run.stop_at_rounding`).
    Cost per iteration: O(n²) (O(n³) up to n = 50, see :func:`_bfgs_update`) plus the
    line search's value-and-gradient evaluations (usually one).
    """
    require_unconstrained("bfgs", bounds, constraints)
    search = _line_search("bfgs", line_search)
    f, g = obj.value_and_grad(x)
    if run.start(x, f, g):
        return run.result()
    n = x.size
    H = np.eye(n)
    fresh = True  # H is the identity (no update yet)
    f_prev = f + 0.5 * float(np.linalg.norm(g))  # makes the first trial step 1.01/‖g‖
    while True:
        d = -(H @ g)
        slope = float(g @ d)
        if run.stalled():
            run.stop_at_rounding(slope, STALL_MESSAGE)
            return run.result()
        t0 = min(1.0, 1.01 * 2 * (f - f_prev) / slope) if slope < 0 and f < f_prev else 1.0
        ls = search(obj, x, f, g, d, step=t0, c1=c1, c2=c2)
        if ls.step == 0.0:
            if fresh:
                run.stop_at_rounding(t0 * slope, NO_DECREASE)
                return run.result()
            H, fresh = np.eye(n), True
            continue
        s, y = ls.step * d, ls.g - g
        f_prev = f
        x, f, g = ls.x, ls.f, ls.g
        if _curvature_ok(s, y):
            rho = 1.0 / float(y @ s)
            if fresh and initial_scaling:
                H = (float(y @ s) / float(y @ y)) * np.eye(n)
            fresh = False
            H = _bfgs_update(H, s, y, rho)
        if run.iterate(x, f, g, ls.step):
            return run.result()


def _two_loop(g: np.ndarray, S: list, Y: list, rhos: list) -> np.ndarray:
    """L-BFGS two-loop recursion: H_k g with H_k^0 = γ I, γ = sᵀy / yᵀy of the newest
    pair (N&W Algorithm 7.4). Cost O(m n). (The reference for :class:`_Memory`.)"""
    q = g.copy()
    alphas = []
    for s, y, rho in zip(reversed(S), reversed(Y), reversed(rhos)):
        a = rho * float(s @ q)
        alphas.append(a)
        q -= a * y
    q *= float(S[-1] @ Y[-1]) / float(Y[-1] @ Y[-1])
    for s, y, rho, a in zip(S, Y, rhos, reversed(alphas)):
        b = rho * float(y @ q)
        q += (a - b) * s
    return q


@functools.lru_cache(maxsize=64)
def _strict_lower(k: int) -> np.ndarray:
    """Mask of the strictly lower triangle of a k×k matrix."""
    return np.tri(k, k, -1, dtype=bool)


class _Memory:
    """The last ``m`` pairs (s_i, y_i) of L-BFGS and their inverse-Hessian approximation
    in the compact form of Byrd, Nocedal & Schnabel (1994, Theorem 2.2):
    H = γI + [S γY] [[R⁻ᵀ(D + γYᵀY)R⁻¹, −R⁻ᵀ], [−R⁻¹, 0]] [S γY]ᵀ, with S, Y the pairs
    as columns, R the upper triangle of SᵀY, D its diagonal and γ = sᵀy / yᵀy of the
    newest pair: the matrix of the two-loop recursion. With W = [S Y]ᵀ (2k × n) this is
    H = γI + Wᵀ M W for a 2k × 2k matrix M, rebuilt when a pair arrives (SᵀY and YᵀY
    gain one row and column), so that H g = γg + Wᵀ(M(W g)) takes three NumPy products
    where the recursion makes 4k vector operations. Cost O(m n + m³) per pair, O(m n)
    per product."""

    def __init__(self, m: int, n: int):
        self.m, self.n = m, n
        self.clear()

    def clear(self) -> None:
        self.S = np.empty((0, self.n))
        self.Y = np.empty((0, self.n))
        self.SY = np.empty((0, 0))
        self.YY = np.empty((0, 0))

    def __len__(self) -> int:
        return self.S.shape[0]

    def add(self, s: np.ndarray, y: np.ndarray) -> None:
        drop = 1 if self.S.shape[0] >= self.m else 0
        S = np.concatenate((self.S[drop:], s[None, :]))
        Y = np.concatenate((self.Y[drop:], y[None, :]))
        W = np.concatenate((S, Y))
        k = S.shape[0]
        Wy, Ws = W @ y, W @ s  # s_iᵀy, y_iᵀy; s_iᵀs, y_iᵀs for every kept pair
        SY, YY = np.empty((k, k)), np.empty((k, k))
        SY[:-1, :-1], YY[:-1, :-1] = self.SY[drop:, drop:], self.YY[drop:, drop:]
        SY[:, -1], SY[-1, :-1] = Wy[:k], Ws[k:-1]
        YY[:, -1] = YY[-1, :] = Wy[k:]
        gamma = SY[-1, -1] / YY[-1, -1]
        # R⁻¹ by LAPACK's triangular inverse of the upper triangle of SᵀY
        Rinv, info = dtrtri(SY)
        if info:  # cannot happen: yᵀs > 0 on the diagonal of R
            raise np.linalg.LinAlgError("lbfgs: singular triangle of SᵀY")
        Rinv[_strict_lower(k)] = 0.0  # dtrtri leaves the lower triangle as it was
        B = gamma * YY
        B.flat[:: k + 1] += SY.diagonal()  # D + γYᵀY
        M = np.zeros((2 * k, 2 * k))
        M[:k, :k] = Rinv.T @ (B @ Rinv)
        M[k:, :k] = -gamma * Rinv
        M[:k, k:] = M[k:, :k].T
        self.S, self.Y, self.SY, self.YY = S, Y, SY, YY
        self.gamma, self.M, self.W = gamma, M, W

    def apply(self, g: np.ndarray) -> np.ndarray:
        """H g."""
        return self.gamma * g + (self.M @ (self.W @ g)) @ self.W


@register_method("lbfgs", "l-bfgs")
def lbfgs(
    obj: Objective,
    x: np.ndarray,
    run: Run,
    *,
    m: int = 10,
    c1: float = 1e-4,
    c2: float = 0.9,
    line_search: str = "more_thuente",
    bounds=None,
    constraints=(),
):
    """Limited-memory BFGS (N&W Algorithm 7.5) with a strong Wolfe line search.

    Direction d = −H_k g over the last ``m`` pairs (s, y), with initial matrix γ I,
    γ = sᵀy / yᵀy (newest pair): the two-loop recursion's matrix, applied in the compact
    form of Byrd, Nocedal & Schnabel (1994), as L-BFGS-B does. Line search: Moré–
    Thuente (``line_search="more_thuente"``, default) or ``"strong_wolfe"``. Trial step 1, except
    min(1, 1/‖g‖) along −g when the memory is empty. Pairs with yᵀs ≤ 0 are skipped; a
    line search without decrease clears the memory once, then stops, as do 20
    iterations without progress: with success when the decrease left is within the
    rounding of f (:meth:`Run.stop_at_rounding`). Cost per iteration: O(m n + m²)
    plus the line search's evaluations (usually one).
    """
    require_unconstrained("lbfgs", bounds, constraints)
    if int(m) < 1:
        raise ValueError(f"lbfgs: the memory m must be ≥ 1; got {m}.")
    search = _line_search("lbfgs", line_search)
    f, g = obj.value_and_grad(x)
    if run.start(x, f, g):
        return run.result()
    memory = _Memory(int(m), x.size)
    while True:
        empty = len(memory) == 0
        d = -g if empty else -memory.apply(g)
        t0 = _first_step(g) if empty else 1.0
        if run.stalled():
            run.stop_at_rounding(float(g @ d), STALL_MESSAGE)
            return run.result()
        ls = search(obj, x, f, g, d, step=t0, c1=c1, c2=c2)
        if ls.step == 0.0:
            if empty:
                run.stop_at_rounding(t0 * float(g @ d), NO_DECREASE)
                return run.result()
            memory.clear()
            continue
        s, y = ls.x - x, ls.g - g
        x, f, g = ls.x, ls.f, ls.g
        if _curvature_ok(s, y):
            memory.add(s, y)
        if run.iterate(x, f, g, ls.step):
            return run.result()


@register_method("cg")
def cg(
    obj: Objective,
    x: np.ndarray,
    run: Run,
    *,
    c1: float = 1e-4,
    c2: float = 0.1,
    restart: int | None = None,
    bounds=None,
    constraints=(),
):
    """Nonlinear conjugate gradients, Polak–Ribière+ (N&W §5.2), strong Wolfe line search.

    d_{k+1} = −g_{k+1} + β d_k with β = max(0, g_{k+1}ᵀ(g_{k+1} − g_k) / g_kᵀg_k).
    Restarts with d = −g every ``restart`` iterations (default n), when
    |g_{k+1}ᵀg_k| ≥ 0.2 ‖g_{k+1}‖² (Powell), or when d is not a descent direction.
    Trial step: min(1, 1/‖g_0‖) at the start, then min(1, 1.01·2(f_k − f_{k−1}) / g_kᵀd_k)
    (the minimiser of a quadratic model of the last decrease, N&W §3.5; if f did not
    decrease, t_{k−1} g_{k−1}ᵀd_{k−1} / g_kᵀd_k, N&W eq. 3.60). With an exact line search (a tight
    c2) it is linear CG on a quadratic: n iterations. Cost per iteration: O(n) plus
    the line search's evaluations.
    """
    require_unconstrained("cg", bounds, constraints)
    f, g = obj.value_and_grad(x)
    if run.start(x, f, g):
        return run.result()
    period = x.size if restart is None else int(restart)
    d = -g
    t0 = _first_step(g)
    since_restart = 0
    while True:
        if run.stalled():
            run.stop_at_rounding(float(g @ d), STALL_MESSAGE)
            return run.result()
        ls = strong_wolfe(obj, x, f, g, d, step=t0, c1=c1, c2=c2)
        if ls.step == 0.0:
            if since_restart == 0:
                run.stop_at_rounding(t0 * float(g @ d), NO_DECREASE)
                return run.result()
            d, t0, since_restart = -g, _first_step(g), 0
            continue
        slope_old = float(g @ d)
        g_old, f_old = g, f
        x, f, g = ls.x, ls.f, ls.g
        if run.iterate(x, f, g, ls.step):
            return run.result()
        since_restart += 1
        gg = float(g_old @ g_old)
        beta = max(0.0, float(g @ (g - g_old)) / gg)
        if since_restart >= period or abs(float(g @ g_old)) >= 0.2 * float(g @ g):
            beta, since_restart = 0.0, 0
        d = -g + beta * d
        slope = float(g @ d)
        if not slope < 0:
            d, slope, since_restart = -g, -float(g @ g), 0
        t0 = min(1.0, 2.02 * (f - f_old) / slope) if f < f_old else ls.step * slope_old / slope
