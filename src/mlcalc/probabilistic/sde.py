"""Stochastic differential equations dX = f(X, t) dt + G(X, t) dW (Itô).

* :func:`euler_maruyama`: X_{k+1} = X_k + f(X_k, t_k) h + G(X_k, t_k) ΔW_k, ΔW_k ~ N(0, h I)
  (strong order ½, weak order 1), for a batch of paths at once.
* :func:`probability_flow`: the deterministic ODE dx/dt = f(x, t) − ½ G Gᵀ ∇ log p_t(x)
  whose solutions have the same marginals p_t as the SDE (Song et al. 2021; for a
  diffusion G that does not depend on x), integrated with :func:`mlcalc.ode.odeint`
  (Euler, Heun, RK4, adaptive RK45).
* :class:`OrnsteinUhlenbeck`: dX = −A(X − μ) dt + G dW, whose marginals from a Gaussian
  start N(m₀, C₀) are Gaussian in closed form: m_t = μ + Φ_t(m₀ − μ), C_t = Φ_t C₀ Φ_tᵀ
  + Q_t, Φ_t = e^{−At}, Q_t = ∫₀ᵗ e^{−As} G Gᵀ e^{−Aᵀs} ds (Van Loan's block
  exponential), with the exact score −C_t⁻¹(x − m_t).

Convention: points are rows, x of shape (n, d); ``drift(x, t, *args)`` returns (n, d);
``diffusion(x, t, *args)`` returns (n, d) for diagonal noise (G = diag, one Wiener process
per coordinate) or (n, d, m) for an m-dimensional Wiener process.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import numpy as np
import scipy.linalg as sla

from ..autodiff.core import Tracer
from ..ode.solvers import odeint

__all__ = [
    "SDEPaths",
    "euler_maruyama",
    "probability_flow",
    "OrnsteinUhlenbeck",
]


@dataclasses.dataclass(frozen=True)
class SDEPaths:
    """Sample paths at the requested times: ``x`` has shape (len(times), n_paths, d),
    row 0 the start; ``n_steps``: the total number of steps taken; ``method``."""

    times: np.ndarray
    x: np.ndarray
    n_steps: int
    method: str

    def moments(self, k: int = -1) -> tuple[np.ndarray, np.ndarray]:
        """Sample mean (d,) and covariance (d, d) of the paths at time index ``k``."""
        xs = np.asarray(self.x[k])
        return xs.mean(axis=0), np.atleast_2d(np.cov(xs, rowvar=False))


def _times(t, who: str) -> np.ndarray:
    times = np.asarray(t, dtype=float)
    if times.ndim != 1 or times.size < 1:
        raise ValueError(f"{who}: t must be a 1-D array of times; got shape {times.shape}.")
    if np.any(np.diff(times) <= 0):
        raise ValueError(f"{who}: the times t must be strictly increasing.")
    return times


def _points(x0, n_paths: int | None, who: str):
    x0 = x0 if isinstance(x0, Tracer) else np.asarray(x0, dtype=float)
    if np.ndim(x0) == 1:
        if n_paths is None:
            raise ValueError(f"{who}: x0 of shape (d,) = {np.shape(x0)} needs n_paths; or "
                             "pass the starting points as an array (n_paths, d).")
        x0 = np.broadcast_to(x0, (int(n_paths), np.shape(x0)[0])) * 1.0
    elif np.ndim(x0) != 2:
        raise ValueError(f"{who}: x0 must have shape (n_paths, d) or (d,); got {np.shape(x0)}.")
    elif n_paths is not None and np.shape(x0)[0] != n_paths:
        raise ValueError(f"{who}: x0 has {np.shape(x0)[0]} rows but n_paths={n_paths}.")
    return x0


def euler_maruyama(
    drift: Callable,
    diffusion: Callable,
    x0,
    t,
    args: tuple = (),
    steps_per_interval: int = 10,
    n_paths: int | None = None,
    seed: int | None = 0,
) -> SDEPaths:
    """Euler–Maruyama for dX = f(X, t) dt + G(X, t) dW, all paths in one array.

    ``x0``: starting points (n_paths, d), or one point (d,) with ``n_paths``; ``t``: the
    increasing output times (t[0] the start), with ``steps_per_interval`` equal steps
    between consecutive times. Strong order ½, weak order 1 (the bias of moments is
    O(h)). The steps are plain array code, so the engine differentiates the paths with
    respect to ``x0`` and ``args`` (pathwise derivatives, the noise held fixed).
    Cost: one drift and one diffusion evaluation per step.
    """
    who = "euler_maruyama"
    times = _times(t, who)
    k = int(steps_per_interval)
    if k < 1:
        raise ValueError(f"{who}: steps_per_interval must be ≥ 1; got {steps_per_interval}.")
    x = _points(x0, n_paths, who)
    n, d = np.shape(x)
    rng = np.random.default_rng(seed)
    out = [x]
    for i in range(times.size - 1):
        h = (times[i + 1] - times[i]) / k
        sqrt_h = math.sqrt(h)
        for j in range(k):
            s = times[i] + j * h
            f = drift(x, s, *args)
            g = diffusion(x, s, *args)
            if np.shape(f) != (n, d):
                raise ValueError(f"{who}: drift(x, t) must return shape (n, d) = {(n, d)}; "
                                 f"got {np.shape(f)}.")
            if np.ndim(g) == 2 and np.shape(g) == (n, d):
                dw = rng.standard_normal((n, d)) * sqrt_h
                x = x + f * h + g * dw
            elif np.ndim(g) == 3 and np.shape(g)[:2] == (n, d):
                dw = rng.standard_normal((n, np.shape(g)[2])) * sqrt_h
                x = x + f * h + np.einsum("ndm,nm->nd", g, dw)
            else:
                raise ValueError(f"{who}: diffusion(x, t) must return (n, d) = {(n, d)} "
                                 f"(diagonal noise) or (n, d, m); got {np.shape(g)}.")
        out.append(x)
    return SDEPaths(times=times, x=np.stack(out), n_steps=k * (times.size - 1),
                    method="euler_maruyama")


def probability_flow(
    drift: Callable,
    diffusion: Callable,
    score: Callable,
    x0,
    t,
    args: tuple = (),
    method: str = "heun",
    steps_per_interval: int = 10,
    **solver,
) -> SDEPaths:
    """Transport the points ``x0`` (n, d) along the probability-flow ODE

        dx/dt = f(x, t) − ½ G(t) G(t)ᵀ ∇ₓ log p_t(x),

    whose flow maps the SDE's marginal p_{t0} onto p_t (Song et al. 2021). ``score(x, t,
    *args)`` is ∇ log p_t at the points (n, d) (exact, or a learned model);
    ``diffusion`` is G in the convention of :func:`euler_maruyama` and must not depend
    on x (otherwise the term −½∇·(G Gᵀ) is missing). Solved with
    :func:`mlcalc.ode.odeint` (``method`` "euler", "heun", "rk4" with
    ``steps_per_interval``, or "rk45" with ``rtol``/``atol`` in ``solver``); differentiable
    by the engine like any odeint solution.
    """
    who = "probability_flow"
    times = _times(t, who)
    x0 = _points(x0, None, who)

    def velocity(x, s, *a):
        g = diffusion(x, s, *a)
        sc = score(x, s, *a)
        if np.ndim(g) == 2:
            return drift(x, s, *a) - 0.5 * (g * g) * sc
        return drift(x, s, *a) - 0.5 * np.einsum("ndm,nem,ne->nd", g, g, sc)

    if method in ("euler", "heun", "rk4"):
        solver.setdefault("steps_per_interval", int(steps_per_interval))
    ys = odeint(velocity, x0, times, args=tuple(args), method=method, **solver)
    steps = solver.get("steps_per_interval", 0) * (times.size - 1)
    return SDEPaths(times=times, x=ys, n_steps=int(steps), method=f"probability_flow ({method})")


def _matrix(a, d: int, what: str) -> np.ndarray:
    a = np.asarray(a, dtype=float)
    if a.ndim == 0:
        return a * np.eye(d)
    if a.ndim == 1 and a.shape == (d,):
        return np.diag(a)
    if a.ndim == 2 and a.shape[0] == d:
        return a
    raise ValueError(f"OrnsteinUhlenbeck: {what} must be a scalar, a vector (d,) or a matrix "
                     f"with d = {d} rows; got shape {a.shape}.")


@dataclasses.dataclass(frozen=True)
class OrnsteinUhlenbeck:
    """dX = −A (X − μ) dt + G dW on ℝᵈ: ``A`` (d, d) (or a scalar/vector: A = a·I /
    diag), ``mu`` (d,), ``G`` (d, m) (or a scalar/vector: diagonal). Stationary when the
    eigenvalues of A have positive real part. Built with ``OrnsteinUhlenbeck.make(A, mu,
    G)``, which broadcasts scalars and vectors."""

    A: np.ndarray
    mu: np.ndarray
    G: np.ndarray

    @classmethod
    def make(cls, A, mu, G) -> OrnsteinUhlenbeck:
        """An OU process in dimension d = len(mu)."""
        mu = np.atleast_1d(np.asarray(mu, dtype=float))
        d = mu.size
        return cls(A=_matrix(A, d, "A"), mu=mu, G=_matrix(G, d, "G"))

    @property
    def dim(self) -> int:
        return int(self.mu.size)

    def drift(self, x, t):
        """−A(x − μ) for points (n, d)."""
        return -(x - self.mu) @ self.A.T

    def diffusion(self, x, t):
        """G broadcast to (n, d, m)."""
        return np.broadcast_to(self.G, (np.shape(x)[0],) + self.G.shape)

    def transition(self, t: float) -> tuple[np.ndarray, np.ndarray]:
        """(Φ_t, Q_t): X_t = μ + Φ_t (X_0 − μ) + N(0, Q_t); Van Loan's block exponential
        expm([[A, GGᵀ], [0, −Aᵀ]] t) = [[·, E₁₂], [0, E₂₂]], Φ = E₂₂ᵀ, Q = Φ E₁₂."""
        d = self.dim
        M = np.zeros((2 * d, 2 * d))
        M[:d, :d] = self.A
        M[:d, d:] = self.G @ self.G.T
        M[d:, d:] = -self.A.T
        E = sla.expm(M * float(t))
        Phi = E[d:, d:].T
        Q = Phi @ E[:d, d:]
        return Phi, 0.5 * (Q + Q.T)

    def marginal(self, t: float, mean0, cov0) -> tuple[np.ndarray, np.ndarray]:
        """Mean and covariance of X_t when X_0 ~ N(mean0, cov0) (cov0 = 0: a point)."""
        mean0 = np.broadcast_to(np.asarray(mean0, float), (self.dim,))
        cov0 = _matrix(cov0, self.dim, "cov0")
        Phi, Q = self.transition(t)
        return self.mu + Phi @ (mean0 - self.mu), Phi @ cov0 @ Phi.T + Q

    def score(self, x, t: float, mean0, cov0):
        """∇ log p_t(x) = −C_t⁻¹(x − m_t) for points x (n, d), X_0 ~ N(mean0, cov0)."""
        m, C = self.marginal(t, mean0, cov0)
        return -(x - m) @ np.linalg.inv(C).T
