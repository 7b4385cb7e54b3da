"""Monte Carlo and randomised quasi-Monte Carlo over a box, with standard errors.

- ``mc``: I ≈ vol · (1/N) Σ f(Tᵢ), Tᵢ uniform on the box (NumPy's default generator);
  the error is the standard error vol · s/√N (s the sample standard deviation).
- ``qmc``: r independent scrambled Sobol sequences (scipy.stats.qmc.Sobol, Owen's
  scrambling, seeds spawned from ``seed``); each gives an unbiased estimate Îⱼ from its
  first 2ᵐ points, the result is their mean and the error their standard error
  sd(Îⱼ)/√r. For smooth integrands it falls like N^(−3/2+ε) instead of N^(−1/2).

Both double the sample (2ᵐ points per sequence for QMC) until the standard error meets
max(atol, rtol·|I|) or the next doubling would exceed ``max_evals``. The points are
decided in advance of the values, so the estimate is differentiable by the engine.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import qmc as _qmc

from .integrand import Integrand, plain

__all__: list[str] = []


def _tol(value: np.ndarray, rtol: float, atol: float) -> np.ndarray:
    return np.maximum(atol, rtol * np.abs(value))


def qmc(integrand: Integrand, rtol: float, atol: float, max_evals: int, seed,
        randomisations: int) -> tuple:
    """(value, error, success, message) of randomised QMC. Cost: at most max_evals
    evaluations of f, one call per doubling."""
    r, d = randomisations, integrand.d
    if max_evals < 2 * r:
        raise ValueError(f"integrate: method='qmc' needs max_evals ≥ {2 * r} "
                         f"(2 points for each of {r} randomisations), got {max_evals}.")
    m = min(10, int(math.log2(max_evals // r)))
    engines = [_qmc.Sobol(d, scramble=True, seed=np.random.default_rng(s))
               for s in np.random.SeedSequence(seed).spawn(r)]
    lo, width = integrand.t_lo, integrand.t_hi - integrand.t_lo
    vol = float(np.prod(width))
    n_per, sums = 0, None
    draw = 2**m
    while True:
        pts = [e.random_base2(m) if n_per == 0 else e.random(draw) for e in engines]
        Y = integrand(lo + width * np.vstack(pts))
        part = np.reshape(Y, (r, draw, Y.shape[1])).sum(axis=1)
        sums = part if sums is None else sums + part
        n_per += draw
        estimates = vol * plain(sums) / n_per
        value_p = estimates.mean(axis=0)
        error = estimates.std(axis=0, ddof=1) / math.sqrt(r)
        ok = bool(np.all(error <= _tol(value_p, rtol, atol)))
        if ok or r * 2 * n_per > max_evals:
            break
        draw = n_per
    value = vol * sums.sum(axis=0) / (r * n_per)
    msg = (f"scrambled Sobol, {r} randomisations × {n_per} points; the error is their "
           "standard error; " + ("tolerance met" if ok else
                                 f"max_evals={max_evals} reached before the tolerance"))
    return value, error, ok, msg


def mc(integrand: Integrand, rtol: float, atol: float, max_evals: int, seed) -> tuple:
    """(value, error, success, message) of plain Monte Carlo. Cost: at most max_evals
    evaluations of f, one call per doubling."""
    if max_evals < 2:
        raise ValueError(f"integrate: method='mc' needs max_evals ≥ 2, got {max_evals}.")
    rng = np.random.default_rng(seed)
    lo, width = integrand.t_lo, integrand.t_hi - integrand.t_lo
    vol = float(np.prod(width))
    n, total, mean, m2 = 0, None, None, None
    draw = min(max_evals, 4096)
    while True:
        Y = integrand(lo + width * rng.random((draw, integrand.d)))
        s = Y.sum(axis=0)
        total = s if total is None else total + s
        Yp = plain(Y)
        mean_b = Yp.mean(axis=0)
        m2_b = ((Yp - mean_b) ** 2).sum(axis=0)
        if mean is None:
            mean, m2 = mean_b, m2_b
        else:  # Chan et al.'s pairwise update of the mean and the sum of squares
            delta = mean_b - mean
            m2 = m2 + m2_b + delta**2 * n * draw / (n + draw)
            mean = mean + delta * draw / (n + draw)
        n += draw
        error = vol * np.sqrt(m2 / (n - 1) / n)
        ok = bool(np.all(error <= _tol(vol * mean, rtol, atol)))
        draw = min(n, max_evals - n)
        if ok or draw < 1:
            break
    value = vol * total / n
    msg = (f"plain Monte Carlo with {n} points; the error is the standard error; "
           + ("tolerance met" if ok else f"max_evals={max_evals} reached before the tolerance"))
    return value, error, ok, msg
