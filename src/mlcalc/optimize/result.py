"""Results of the optimizers: scipy's ``OptimizeResult`` fields plus the trajectory and
the observed convergence rate."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import OptimizeResult as _ScipyResult

__all__ = ["OptimizeResult", "Trajectory", "ConvergenceRate", "estimate_rate"]


class OptimizeResult(_ScipyResult):
    """scipy.optimize's result (a dict with attribute access): ``x, fun, jac, nit, nfev,
    njev, nhev, success, status, message``, plus ``trajectory`` (a :class:`Trajectory`
    when the run was recorded, else ``None``) and ``rate`` (a :class:`ConvergenceRate`)."""


@dataclass(frozen=True)
class Trajectory:
    """The iterates of a run: row k holds iteration k (row 0 is the start).

    ``x``: (k+1, n) points (flattened); ``f``: objective values; ``grad_norm``: ‖∇f‖;
    ``step``: the step size taken to reach each point (0 for the start).
    """

    x: np.ndarray
    f: np.ndarray
    grad_norm: np.ndarray
    step: np.ndarray

    def __len__(self) -> int:
        return len(self.f)


@dataclass(frozen=True)
class ConvergenceRate:
    """The observed order of convergence of a run, from its errors e_k.

    ``order``: "quadratic", "superlinear", "linear", "sublinear" or "unknown" (too few
    iterations); ``factor``: ρ, the median ratio e_{k+1}/e_k over the tail (for linear
    convergence); ``q``: the estimated order q in e_{k+1} ≈ C e_k^q.
    """

    order: str
    factor: float
    q: float

    def __str__(self) -> str:
        if self.order == "linear":
            return f"linear (ρ ≈ {self.factor:.3g})"
        if self.order in ("quadratic", "superlinear"):
            return f"{self.order} (q ≈ {self.q:.2g})"
        return self.order


def estimate_rate(errors, tail: int = 8) -> ConvergenceRate:
    """Classify the convergence of a positive error sequence e_k (e.g. ‖∇f(x_k)‖ or
    f(x_k) − f*), over its last ``tail`` values above rounding level.

    q is the least-squares slope of log e_{k+1} against log e_k (e_{k+1} ≈ C e_k^q), ρ the
    geometric mean of the ratios e_{k+1}/e_k. Quadratic: q ≥ 1.8; superlinear: q ≥ 1.2,
    or ratios falling below 1/10 of their start; linear: ρ < 0.999; sublinear otherwise.
    Methods whose ratios alternate (steepest descent zig-zagging) still read as linear,
    since the slope averages over the alternation."""
    e = np.asarray(errors, dtype=float)
    e = e[np.isfinite(e) & (e > 0)]
    if e.size:
        e = e[e > 1e3 * np.finfo(float).eps * e[0]]
    if e.size < 4:
        return ConvergenceRate("unknown", float("nan"), float("nan"))
    e = e[-(tail + 1):]
    logs = np.log(e)
    ratios = e[1:] / e[:-1]
    rho = float(np.exp(np.mean(np.log(ratios))))
    x, y = logs[:-1], logs[1:]
    q = float(np.polyfit(x, y, 1)[0]) if np.ptp(x) > 1e-12 else float("nan")
    falling = ratios[-1] < 0.1 * ratios[0] and ratios[-1] < 0.1
    if q >= 1.8 and rho < 1:
        return ConvergenceRate("quadratic", rho, q)
    if rho < 1 and (q >= 1.2 or falling):
        return ConvergenceRate("superlinear", rho, q)
    if rho < 0.999:
        return ConvergenceRate("linear", rho, q)
    return ConvergenceRate("sublinear", rho, q)
