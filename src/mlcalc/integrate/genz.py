"""Genz's six test families on [0, 1]ᵈ (Genz, 1984) with their closed-form integrals.

With shape parameters a ∈ ℝᵈ₊ (difficulty: larger is harder) and shift parameters
u ∈ [0, 1]ᵈ:

=============  ======================================  ========================================
family         f(x)                                    ∫_[0,1]ᵈ f
=============  ======================================  ========================================
oscillatory    cos(2πu₁ + Σ aᵢxᵢ)                      cos(2πu₁ + Σaᵢ/2) Πᵢ 2 sin(aᵢ/2)/aᵢ
product_peak   Πᵢ 1/(aᵢ⁻² + (xᵢ − uᵢ)²)                 Πᵢ aᵢ (atan(aᵢ(1 − uᵢ)) + atan(aᵢuᵢ))
corner_peak    (1 + Σ aᵢxᵢ)^−(d+1)                     Σ_{v∈{0,1}ᵈ} (−1)^|v| / (1 + a·v)
                                                       / (d! Πᵢ aᵢ)
gaussian       exp(−Σ aᵢ²(xᵢ − uᵢ)²)                   Πᵢ √π/(2aᵢ) (erf(aᵢ(1 − uᵢ)) + erf(aᵢuᵢ))
continuous     exp(−Σ aᵢ|xᵢ − uᵢ|)                     Πᵢ (2 − e^(−aᵢuᵢ) − e^(−aᵢ(1−uᵢ)))/aᵢ
discontinuous  exp(Σ aᵢxᵢ) if x₁ ≤ u₁ and x₂ ≤ u₂,     Πᵢ (e^(aᵢcᵢ) − 1)/aᵢ, cᵢ = uᵢ for i ≤ 2,
               else 0                                  cᵢ = 1 after
=============  ======================================  ========================================

Derivations: each family but the oscillatory and the corner peak is a product of 1-D
integrals. The oscillatory one is Re e^(2πiu₁) Πᵢ ∫₀¹ e^(iaᵢxᵢ) dxᵢ with
∫₀¹ e^(iax) dx = e^(ia/2)·2 sin(a/2)/a. For the corner peak, integrating
(c + a x)^−(m+1) over x ∈ [0, 1] gives ((c)^−m − (c + a)^−m)/(m a); applying it d
times (m = d, d − 1, …, 1) gives the alternating sum over the vertices.

:func:`genz_parameters` draws a, u as Genz does: u ~ U[0, 1]ᵈ, a ~ U[0, 1]ᵈ rescaled to
Σ aᵢ = b with the difficulty levels b = (9.0, 7.25, 1.85, 7.03, 20.4, 4.3) (families in
the order above). These are the levels of the sparse-grid literature (Barthelmann, Novak
& Ritter 2000; Novak & Ritter 1996), stated there for d = 10, after Genz (1984, 1987);
Genz's own TESTPACK draws with b = (1.5, d, 1.85, 7.03, 20.4, 4.3). The difficulty only
chooses test cases: every check compares with the closed forms above, whatever a is.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Callable

import numpy as np
import scipy.special

__all__ = ["GENZ_FAMILIES", "GenzProblem", "genz", "genz_parameters"]

GENZ_FAMILIES = ("oscillatory", "product_peak", "corner_peak", "gaussian", "continuous",
                 "discontinuous")
_DIFFICULTY = dict(zip(GENZ_FAMILIES, (9.0, 7.25, 1.85, 7.03, 20.4, 4.3)))


@dataclasses.dataclass(frozen=True, eq=False)
class GenzProblem:
    """One Genz integrand ``f`` (points (n, d) → values (n,)) on [0, 1]ᵈ, its closed-form
    integral ``exact``, and its ``family``, ``a``, ``u``."""

    family: str
    f: Callable
    exact: float
    a: np.ndarray
    u: np.ndarray


def genz_parameters(family: str, d: int, rng: np.random.Generator) -> tuple[np.ndarray,
                                                                           np.ndarray]:
    """(a, u) for ``family`` in dimension d: u ~ U[0, 1]ᵈ and a ~ U[0, 1]ᵈ scaled to
    Σaᵢ = b_family (the difficulty levels of the module docstring). Cost: O(d)."""
    if family not in _DIFFICULTY:
        raise ValueError(f"genz_parameters: unknown family {family!r}; known: {GENZ_FAMILIES}.")
    a = rng.random(d)
    u = rng.random(d)
    return a * (_DIFFICULTY[family] / a.sum()), u


def genz(family: str, a, u) -> GenzProblem:
    """The Genz test function of ``family`` with shape ``a`` (d,) > 0 and shift ``u`` (d,)
    in [0, 1], and its exact integral over [0, 1]ᵈ (module docstring). Cost: O(d) for
    the integral (O(2ᵈ) for the corner peak); each call of f is O(n·d)."""
    a = np.asarray(a, dtype=float)
    u = np.asarray(u, dtype=float)
    if a.ndim != 1 or a.shape != u.shape:
        raise ValueError(f"genz: a and u must be vectors of one length; got shapes "
                         f"{a.shape} and {u.shape}.")
    if np.any(a <= 0):
        raise ValueError(f"genz: the shape parameters a must be positive, got {a}.")
    d = a.size
    if family == "oscillatory":
        def f(x):
            return np.cos(2 * np.pi * u[0] + x @ a)
        exact = math.cos(2 * math.pi * u[0] + a.sum() / 2) * np.prod(2 * np.sin(a / 2) / a)
    elif family == "product_peak":
        def f(x):
            return np.prod(1.0 / (a**-2 + (x - u) ** 2), axis=1)
        exact = np.prod(a * (np.arctan(a * (1 - u)) + np.arctan(a * u)))
    elif family == "corner_peak":
        def f(x):
            return (1.0 + x @ a) ** (-(d + 1))
        total = math.fsum((-1) ** sum(v) / (1.0 + float(np.dot(a, v)))
                          for v in itertools.product((0, 1), repeat=d))
        exact = total / (math.factorial(d) * np.prod(a))
    elif family == "gaussian":
        def f(x):
            return np.exp(-np.sum(a**2 * (x - u) ** 2, axis=1))
        exact = np.prod(math.sqrt(math.pi) / (2 * a)
                        * (scipy.special.erf(a * (1 - u)) + scipy.special.erf(a * u)))
    elif family == "continuous":
        def f(x):
            return np.exp(-np.sum(a * np.abs(x - u), axis=1))
        exact = np.prod((2 - np.exp(-a * u) - np.exp(-a * (1 - u))) / a)
    elif family == "discontinuous":
        m = min(d, 2)

        def f(x):
            inside = np.all(x[:, :m] <= u[:m], axis=1)
            return np.where(inside, np.exp(x @ a), 0.0)
        c = np.concatenate([u[:m], np.ones(d - m)])
        exact = np.prod(np.expm1(a * c) / a)
    else:
        raise ValueError(f"genz: unknown family {family!r}; known: {GENZ_FAMILIES}.")
    return GenzProblem(family, f, float(exact), a, u)
