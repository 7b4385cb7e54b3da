"""The change-of-variables formula for maps and continuous flows.

For an invertible map y = φ(x) pushing a density p_X forward,
log p_Y(y) = log p_X(x) − log|det ∂φ/∂x(x)|. ``log_det_jacobian`` computes the log-det
exactly (slogdet of the engine's Jacobian) or estimates it stochastically for residual
maps. For a flow dy/dt = f(y, t), the instantaneous change of variables (Chen et al.
2018) gives d/dt log p(y(t)) = −tr ∂f/∂y, i.e. log|det ∂y(t1)/∂y(t0)| =
∫_{t0}^{t1} tr ∂f/∂y(y(t), t) dt (Liouville's formula); ``log_det_jacobian_flow``
integrates that trace along the trajectory, exactly or with Hutchinson's estimator
(FFJORD, Grathwohl et al. 2019).

Hutchinson's estimator: tr A = E[εᵀAε] for ε with independent Rademacher (±1) entries;
the reported ``std_error`` is the sample standard deviation over the ``n_samples``
probes divided by √n_samples. Points are 1-D arrays (d,), batches (n, d).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..autodiff.api import jacfwd, linearize, vjp
from .solvers import odeint

__all__ = ["LogDet", "FlowLogDet", "log_det_jacobian", "log_det_jacobian_flow"]


@dataclass(frozen=True)
class LogDet:
    """log|det ∂φ/∂x| at a point (floats) or a batch (arrays of shape (n,)).

    ``value``: the log-det; ``std_error``: the estimator's standard error (0 for
    ``exact``); ``sign``: the sign of det (``exact`` only; NaN for ``hutchinson``, whose
    series assumes a positive determinant); ``method``; ``n_samples``: Hutchinson probes
    (0 for ``exact``)."""

    value: float | np.ndarray
    std_error: float | np.ndarray
    sign: float | np.ndarray
    method: str
    n_samples: int


@dataclass(frozen=True)
class FlowLogDet:
    """The flow map and its log-det: ``y1`` = y(t1) (shape of y0); ``value`` =
    log|det ∂y(t1)/∂y(t0)| = ∫ tr ∂f/∂y dt; ``std_error`` (0 for ``exact``);
    ``method``; ``n_samples`` (0 for ``exact``). For a batch (n, d), ``value`` and
    ``std_error`` have shape (n,)."""

    y1: np.ndarray
    value: float | np.ndarray
    std_error: float | np.ndarray
    method: str
    n_samples: int


def _points(x, who: str) -> tuple[np.ndarray, bool]:
    x = np.asarray(x, dtype=float)
    if x.ndim not in (1, 2) or x.shape[-1] == 0:
        raise ValueError(f"{who}: x must be a point (d,) or a batch of points (n, d); got "
                         f"shape {x.shape}.")
    return np.atleast_2d(x), x.ndim == 2


def _probes(rng: np.random.Generator, n_samples: int, d: int) -> np.ndarray:
    return rng.choice(np.array([-1.0, 1.0]), size=(n_samples, d))


def _check_samples(n_samples: int, who: str) -> None:
    if int(n_samples) != n_samples or n_samples < 2:
        raise ValueError(f"{who}: n_samples must be an integer ≥ 2 (for a standard error); "
                         f"got {n_samples!r}.")


def _square_jacobian(phi: Callable, x: np.ndarray) -> np.ndarray:
    jac = np.asarray(jacfwd(phi)(x), dtype=float)
    if jac.shape != (x.size, x.size):
        raise ValueError(f"log_det_jacobian: phi must map R^d to R^d; at a point of shape "
                         f"{x.shape} its Jacobian has shape {jac.shape}.")
    return jac


def log_det_jacobian(
    phi: Callable,
    x,
    method: str = "exact",
    n_samples: int = 64,
    n_terms: int = 30,
    seed: int | None = None,
) -> LogDet:
    """log|det ∂φ/∂x(x)| for φ: R^d → R^d at a point (d,) or a batch (n, d).

    ``exact``: slogdet of the Jacobian from forward mode. Cost per point: d JVPs and an
    O(d³) factorisation.

    ``hutchinson``: for residual maps φ(x) = x + g(x) with ρ(∂g/∂x) < 1 (invertible
    residual networks; Behrmann et al. 2019), log det(I + G) = Σ_{k≥1} (−1)^{k+1}
    tr(G^k)/k, G = ∂φ/∂x − I, truncated after ``n_terms`` terms, each trace estimated by
    Hutchinson's estimator with ``n_samples`` Rademacher probes and the powers G^k ε by
    repeated JVPs on one linearisation. The truncation error is at most
    d·ρ^{K+1}/((K+1)(1−ρ)); the series diverges when ρ ≥ 1 (no check is made: use
    ``exact`` for general maps). Cost per point: n_samples·n_terms JVPs.
    """
    pts, batched = _points(x, "log_det_jacobian")
    if method == "exact":
        signs, values = [], []
        for p in pts:
            sign, logabs = np.linalg.slogdet(_square_jacobian(phi, p))
            signs.append(sign)
            values.append(logabs)
        value, sign = np.array(values), np.array(signs)
        err, n_used = np.zeros_like(value), 0
    elif method == "hutchinson":
        _check_samples(n_samples, "log_det_jacobian")
        if int(n_terms) != n_terms or n_terms < 1:
            raise ValueError(f"log_det_jacobian: n_terms must be a positive integer; got "
                             f"{n_terms!r}.")
        rng = np.random.default_rng(seed)
        means, errs = [], []
        for p in pts:
            out, push = linearize(phi, p)
            if np.shape(out) != p.shape:
                raise ValueError(f"log_det_jacobian: phi must map R^d to R^d; a point of "
                                 f"shape {p.shape} maps to shape {np.shape(out)}.")
            estimates = []
            for eps in _probes(rng, n_samples, p.size):
                v, total = eps, 0.0
                for k in range(1, n_terms + 1):
                    v = np.asarray(push(v), dtype=float) - v
                    total += (-1) ** (k + 1) * float(eps @ v) / k
                estimates.append(total)
            estimates = np.array(estimates)
            means.append(estimates.mean())
            errs.append(estimates.std(ddof=1) / np.sqrt(n_samples))
        value, err = np.array(means), np.array(errs)
        sign, n_used = np.full_like(value, np.nan), int(n_samples)
    else:
        raise ValueError(f"log_det_jacobian: unknown method {method!r}; known methods: "
                         "exact, hutchinson.")
    if batched:
        return LogDet(value, err, sign, method, n_used)
    return LogDet(float(value[0]), float(err[0]), float(sign[0]), method, n_used)


def log_det_jacobian_flow(
    f: Callable,
    y0,
    t0: float,
    t1: float,
    args: tuple = (),
    method: str = "exact",
    n_samples: int = 16,
    seed: int | None = None,
    solver: str = "rk45",
    rtol: float = 1e-8,
    atol: float = 1e-10,
    steps_per_interval: int = 1,
) -> FlowLogDet:
    """The flow map y(t1) of dy/dt = f(y, t, *args), y(t0) = y0, and
    log|det ∂y(t1)/∂y0| = ∫_{t0}^{t1} tr ∂f/∂y(y(t), t) dt, integrated along the
    trajectory as an extra state of the ODE (t1 < t0 integrates backwards: the inverse
    flow). y0: a point (d,) or a batch (n, d) (solved point by point).

    ``exact``: the trace from the full Jacobian ∂f/∂y by forward mode (d JVPs per
    right-hand side). ``hutchinson``: the same ``n_samples`` Rademacher probes ε_j are
    used along the whole trajectory (as FFJORD), each carrying its own integral of
    ε_jᵀ(∂f/∂y)ε_j (one VJP per probe per right-hand side, from one recorded tape), so
    the estimate is unbiased and its standard error is that of the n_samples integrals.
    ``solver``, ``rtol``, ``atol``, ``steps_per_interval``: as in ``odeint``.
    """
    pts, batched = _points(y0, "log_det_jacobian_flow")
    if method not in ("exact", "hutchinson"):
        raise ValueError(f"log_det_jacobian_flow: unknown method {method!r}; known methods: "
                         "exact, hutchinson.")
    if method == "hutchinson":
        _check_samples(n_samples, "log_det_jacobian_flow")
    t0, t1 = float(t0), float(t1)
    if t0 == t1:
        raise ValueError("log_det_jacobian_flow: t0 and t1 must differ.")
    backward = t1 < t0
    rng = np.random.default_rng(seed)
    d = pts.shape[1]

    def field(y, s):  # in the integration variable s (s = −t backwards)
        return -f(y, -s, *args) if backward else f(y, s, *args)

    def check(y, s):
        out = field(y, s)
        if np.shape(out) != (d,):
            raise ValueError(f"log_det_jacobian_flow: f must return the state's shape "
                             f"({d},); got {np.shape(out)}.")
        return out

    ys, values, errs = [], [], []
    for p in pts:
        probes = _probes(rng, n_samples, d) if method == "hutchinson" else None

        def augmented(state, s, probes=probes):
            y = state[:d]
            if probes is None:
                dy = check(y, s)
                trace = np.trace(jacfwd(lambda yy: field(yy, s))(y))
                return np.concatenate([dy, np.reshape(trace, (1,))])
            dy, pull = vjp(lambda yy: check(yy, s), y)
            quad = [pull(eps)[0] @ eps for eps in probes]
            return np.concatenate([dy, np.stack(quad)])

        m = 1 if probes is None else n_samples
        span = np.array([-t0, -t1]) if backward else np.array([t0, t1])
        end = odeint(augmented, np.concatenate([p, np.zeros(m)]), span, method=solver,
                     rtol=rtol, atol=atol, steps_per_interval=steps_per_interval)[-1]
        end = np.asarray(end, dtype=float)
        ys.append(end[:d])
        logdets = end[d:]
        values.append(logdets.mean())
        errs.append(logdets.std(ddof=1) / np.sqrt(m) if m > 1 else 0.0)
    n_used = n_samples if method == "hutchinson" else 0
    if batched:
        return FlowLogDet(np.array(ys), np.array(values), np.array(errs), method, n_used)
    return FlowLogDet(ys[0], float(values[0]), float(errs[0]), method, n_used)
