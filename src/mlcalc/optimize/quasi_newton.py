"""Quasi-Newton and conjugate-gradient methods with a strong Wolfe line search: BFGS
(dense inverse-Hessian update), L-BFGS (two-loop recursion) and nonlinear CG
(Polak–Ribière+ with restarts)."""

from __future__ import annotations

import numpy as np

from .driver import Run, require_unconstrained
from .line_search import strong_wolfe
from .objective import Objective
from .registry import register_method

__all__ = ["bfgs", "lbfgs", "cg"]


def _first_step(g: np.ndarray) -> float:
    """Initial trial step along −g at the start: a move of length about 1."""
    return min(1.0, 1.0 / float(np.linalg.norm(g)))


def _curvature_ok(s: np.ndarray, y: np.ndarray) -> bool:
    """yᵀs > 0 (safely): the secant pair keeps the quasi-Newton matrix positive definite."""
    return float(y @ s) > 1e-12 * float(np.linalg.norm(s) * np.linalg.norm(y))


@register_method("bfgs")
def bfgs(
    obj: Objective,
    x: np.ndarray,
    run: Run,
    *,
    c1: float = 1e-4,
    c2: float = 0.9,
    initial_scaling: bool = False,
    bounds=None,
    constraints=(),
):
    """BFGS with the inverse-Hessian update and a strong Wolfe line search.

    Direction d = −H_k g_k; H_{k+1} = (I − ρ s yᵀ) H_k (I − ρ y sᵀ) + ρ s sᵀ with
    s = x_{k+1} − x_k, y = g_{k+1} − g_k, ρ = 1/yᵀs, H_0 = I. With
    ``initial_scaling=True`` H_0 is rescaled to (yᵀs / yᵀy) I before the first update
    (N&W eq. 6.20); off by default, since on the Moré–Garbow–Hillstrom problems it
    costs more evaluations than it saves. Trial step t_0 = min(1, 1.01·2(f_k − f_{k−1})
    / g_kᵀd_k) (the step of a quadratic model of the last decrease, N&W eq. 3.60;
    min(1, 1.01/‖g_0‖) at the start, a move of length about 1). A pair with yᵀs ≤ 0 is
    skipped; a line search without decrease restarts once from H = I, then stops.
    Cost per iteration: O(n²) plus the line search's value-and-gradient evaluations
    (usually one).
    """
    require_unconstrained("bfgs", bounds, constraints)
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
        t0 = min(1.0, 2.02 * (f - f_prev) / slope) if slope < 0 and f < f_prev else 1.0
        ls = strong_wolfe(obj, x, f, g, d, step=t0, c1=c1, c2=c2)
        if ls.step == 0.0:
            if fresh:
                run.fail("the line search found no decrease along the steepest descent")
                return run.result()
            H, fresh = np.eye(n), True
            continue
        s, y = ls.x - x, ls.g - g
        f_prev = f
        x, f, g = ls.x, ls.f, ls.g
        if _curvature_ok(s, y):
            rho = 1.0 / float(y @ s)
            if fresh and initial_scaling:
                H = (float(y @ s) / float(y @ y)) * np.eye(n)
            fresh = False
            Hy = H @ y
            H = (
                H
                - rho * (np.outer(s, Hy) + np.outer(Hy, s))
                + (rho * rho * float(y @ Hy) + rho) * np.outer(s, s)
            )
        if run.iterate(x, f, g, ls.step):
            return run.result()


def _two_loop(g: np.ndarray, S: list, Y: list, rhos: list) -> np.ndarray:
    """L-BFGS two-loop recursion: H_k g with H_k^0 = γ I, γ = sᵀy / yᵀy of the newest
    pair (N&W Algorithm 7.4). Cost O(m n)."""
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


@register_method("lbfgs", "l-bfgs")
def lbfgs(
    obj: Objective,
    x: np.ndarray,
    run: Run,
    *,
    m: int = 10,
    c1: float = 1e-4,
    c2: float = 0.9,
    bounds=None,
    constraints=(),
):
    """Limited-memory BFGS (N&W Algorithm 7.5) with a strong Wolfe line search.

    Direction d = −H_k g by the two-loop recursion over the last ``m`` pairs
    (s, y), with initial matrix γ I, γ = sᵀy / yᵀy (newest pair). Trial step 1, except
    min(1, 1/‖g‖) along −g when the memory is empty. Pairs with yᵀs ≤ 0 are skipped; a
    line search without decrease clears the memory once, then stops. Cost per
    iteration: O(m n) plus the line search's evaluations (usually one).
    """
    require_unconstrained("lbfgs", bounds, constraints)
    if int(m) < 1:
        raise ValueError(f"lbfgs: the memory m must be ≥ 1; got {m}.")
    f, g = obj.value_and_grad(x)
    if run.start(x, f, g):
        return run.result()
    S: list[np.ndarray] = []
    Y: list[np.ndarray] = []
    rhos: list[float] = []
    while True:
        d = -_two_loop(g, S, Y, rhos) if S else -g
        ls = strong_wolfe(obj, x, f, g, d, step=1.0 if S else _first_step(g), c1=c1, c2=c2)
        if ls.step == 0.0:
            if not S:
                run.fail("the line search found no decrease along the steepest descent")
                return run.result()
            S, Y, rhos = [], [], []
            continue
        s, y = ls.x - x, ls.g - g
        x, f, g = ls.x, ls.f, ls.g
        if _curvature_ok(s, y):
            S.append(s)
            Y.append(y)
            rhos.append(1.0 / float(y @ s))
            if len(S) > m:
                S.pop(0), Y.pop(0), rhos.pop(0)
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
        ls = strong_wolfe(obj, x, f, g, d, step=t0, c1=c1, c2=c2)
        if ls.step == 0.0:
            if since_restart == 0:
                run.fail("the line search found no decrease along the steepest descent")
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
