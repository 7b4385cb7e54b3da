"""∫_box f: integrals over a box [lower, upper] ⊂ ℝᵈ by one of four methods.

Convention: ``f`` takes points of shape (n, d) and returns values (n,) (scalar
integrand) or (n, k) (vector integrand, integrated componentwise). Limits may be
infinite (the change of variables is documented in :mod:`mlcalc.integrate.integrand`).

Methods (``method=``):

- ``"gauss"``: tensor Gauss–Legendre of ``order`` points per axis (exact for degree
  ≤ 2·order − 1 in each variable); error |Q_order − Q_⌈order/2⌉|.
- ``"adaptive"``: globally adaptive cubature, the Gauss–Kronrod 10-21 product rule
  (d ≤ 4), the 7-15 product (d = 5) or Genz–Malik 7/5 (d ≥ 6), embedded error
  estimates summed over the subregions (:mod:`mlcalc.integrate.adaptive`).
- ``"mc"``: plain Monte Carlo; ``"qmc"``: scrambled Sobol with ``randomisations``
  independent scramblings. Their error is one standard error (not a bound: the true
  error exceeds it about a third of the time, 4 standard errors about 1 in 10⁴).
- ``"auto"``: ``adaptive`` for d ≤ 4, and for 5 ≤ d ≤ 6 when rtol ≤ 1e-3 (tight
  tolerances, where the degree-7 rule beats QMC's rate); ``qmc`` otherwise.

Differentiation: when ``f`` closes over values traced by an mlcalc transform, the
result's ``value`` is traced too, so ``mc.grad(lambda p: integrate(..., p...).value)``
differentiates the rule (fixed points for gauss/mc/qmc; for adaptive, the subdivision
is decided on plain values and held fixed). The limits are plain numbers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

from .adaptive import adaptive
from .gauss import default_order, gauss
from .integrand import Integrand, as_limits, finish
from .sampling import mc, qmc

__all__ = ["IntegrationResult", "integrate", "METHODS"]

METHODS = ("auto", "gauss", "adaptive", "mc", "qmc")

_DEFAULT_MAX_EVALS = {"gauss": 2_000_000, "adaptive": 2_000_000, "mc": 1 << 18, "qmc": 1 << 18}


@dataclasses.dataclass(frozen=True, eq=False)
class IntegrationResult:
    """The integral ``value`` (a float, a 0-d traced value, or a (k,) array for a vector
    integrand), its ``error`` estimate (same shape as the value, plain: a bound estimate
    for gauss/adaptive, one standard error for mc/qmc), ``nfev`` (integrand points
    evaluated), the ``method`` used, ``success`` (the estimate met
    max(atol, rtol·|value|)) and a ``message`` saying how it ended."""

    value: Any
    error: Any
    nfev: int
    method: str
    success: bool
    message: str


def _choose(d: int, rtol: float) -> tuple[str, str]:
    if d <= 4:
        return "adaptive", f"auto: adaptive cubature for d = {d} ≤ 4"
    if d <= 6 and rtol <= 1e-3:
        return "adaptive", f"auto: adaptive cubature for d = {d} ≤ 6 at rtol = {rtol:g} ≤ 1e-3"
    return "qmc", f"auto: randomised QMC for d = {d}, rtol = {rtol:g}"


def integrate(
    f: Callable,
    lower: Any,
    upper: Any,
    method: str = "auto",
    rtol: float = 1e-8,
    atol: float = 0.0,
    max_evals: int | None = None,
    seed: int | None = None,
    order: int | None = None,
    randomisations: int = 16,
) -> IntegrationResult:
    """∫_{lower}^{upper} f(x) dx over a box in ℝᵈ (limits may be ±inf).

    ``f`` maps points (n, d) to values (n,) or (n, k). ``method`` is one of "auto",
    "gauss", "adaptive", "mc", "qmc" (see the module docstring); the target is
    max(atol, rtol·|value|) per component. ``max_evals`` caps the integrand points
    (default 2·10⁶ for gauss/adaptive, 2¹⁸ for mc/qmc); ``seed`` seeds mc/qmc;
    ``order`` is the Gauss–Legendre order (default: the largest ≤ 32, or 64 in 1-D,
    whose two rules fit in max_evals); ``randomisations`` is QMC's number of scramblings.
    Cost: ``nfev`` evaluations of f, in batched calls (one per adaptive or sampling
    round; chunks of 2¹⁸ points for gauss).
    """
    if method not in METHODS:
        raise ValueError(f"integrate: unknown method {method!r}; choose one of {METHODS}.")
    if not callable(f):
        raise TypeError(f"integrate: f must be callable, got {type(f).__name__}.")
    if not (rtol >= 0 and atol >= 0):
        raise ValueError(f"integrate: need rtol ≥ 0 and atol ≥ 0; got rtol={rtol}, atol={atol}.")
    lo, hi = as_limits(lower, upper)
    d = lo.size
    note = ""
    if method == "auto":
        method, note = _choose(d, rtol)
    if max_evals is None:
        max_evals = _DEFAULT_MAX_EVALS[method]
    if max_evals < 1:
        raise ValueError(f"integrate: max_evals must be ≥ 1, got {max_evals}.")
    integrand = Integrand(f, lo, hi)

    def tol_of(value: np.ndarray) -> np.ndarray:
        return np.maximum(atol, rtol * np.abs(value))

    if method == "gauss":
        if order is None:
            order = default_order(d, max_evals)
        if order < 1 or order**d + ((order + 1) // 2) ** d > max_evals:
            raise ValueError(
                f"integrate: order={order} in d = {d} needs {order**d + ((order + 1) // 2)**d}"
                f" points (both rules), above max_evals={max_evals}."
                if order >= 1 else f"integrate: order must be ≥ 1, got {order}."
            )
        value, error, ok, msg = gauss(integrand, order, tol_of)
    elif method == "adaptive":
        value, error, ok, msg, _ = adaptive(integrand, rtol, atol, max_evals)
    elif method == "mc":
        value, error, ok, msg = mc(integrand, rtol, atol, max_evals, seed)
    else:
        if randomisations < 2:
            raise ValueError(f"integrate: randomisations must be ≥ 2, got {randomisations}.")
        value, error, ok, msg = qmc(integrand, rtol, atol, max_evals, seed, randomisations)
    value, error = finish(integrand, value, error)
    if note:
        msg = f"{note}; {msg}"
    return IntegrationResult(value, error, integrand.nfev, method, ok, msg)
