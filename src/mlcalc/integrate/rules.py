"""Cubature rules on the reference cube [−1, 1]ᵈ, as node templates and weights.

A rule is a pair of weight vectors on one node template: ``high`` (the estimate) and
``low`` (an embedded rule of lower degree on the same nodes), normalised to sum to 1, so
that on a box with centre c and half-widths h the estimate is
vol · Σ_p w_p f(c + h ⊙ U_p), vol = Π 2hᵢ, and |high − low| is the error estimate.

- :func:`genz_malik`: the degree-7 rule with its embedded degree-5 rule of Genz and
  Malik (1980), 2ᵈ + 2d² + 2d + 1 nodes, for d ≥ 2.
- :func:`gauss_kronrod15`: the 15-point Kronrod rule (degree 22) with its embedded
  7-point Gauss rule (degree 13) (QUADPACK's qk15 constants), and its tensor product
  in low dimension.
- :func:`gauss_legendre`: the tensor Gauss–Legendre rule of n points per axis, exact
  for polynomials of degree ≤ 2n − 1 in each variable.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from functools import lru_cache

import numpy as np

__all__ = ["EmbeddedRule", "genz_malik", "gauss_kronrod15", "gauss_legendre"]


@dataclasses.dataclass(frozen=True, eq=False)
class EmbeddedRule:
    """Nodes ``U`` (P, d) in [−1, 1]ᵈ, normalised weights ``high`` and ``low`` (P,),
    the rule's ``name`` and, for the fourth-difference axis choice of Genz–Malik, the
    node indices ``axis_pairs`` = (i₂⁺, i₂⁻, i₃⁺, i₃⁻), each (d,), and ``ratio`` = λ₂²/λ₃²;
    for a product rule, its 1-D ``factors`` (high, low), nodes in C order of the axes."""

    name: str
    U: np.ndarray
    high: np.ndarray
    low: np.ndarray
    axis_pairs: tuple[np.ndarray, ...] = ()
    ratio: float = 0.0
    factors: tuple[np.ndarray, np.ndarray] | None = None


    @property
    def npoints(self) -> int:
        return self.U.shape[0]


@lru_cache(maxsize=32)
def genz_malik(d: int) -> EmbeddedRule:
    """The Genz–Malik degree-7/5 embedded rule on [−1, 1]ᵈ (d ≥ 2).

    Nodes: the centre; ±λ₂eᵢ and ±λ₃eᵢ; ±λ₄eᵢ ± λ₄eⱼ (i < j); (±λ₅, …, ±λ₅), with
    λ₂ = √(9/70), λ₃ = λ₄ = √(9/10), λ₅ = √(9/19). Degree-7 weights
    ((12824 − 9120d + 400d²)/19683, 980/6561, (1820 − 400d)/19683, 200/19683,
    6859/(19683·2ᵈ)); the degree-5 rule drops the λ₅ nodes, with weights
    ((729 − 950d + 50d²)/729, 245/486, (265 − 100d)/1458, 25/729).
    Cost: building O(2ᵈ + d²) nodes once per d (cached).
    """
    if d < 2:
        raise ValueError(f"genz_malik: the rule needs d ≥ 2, got d = {d}.")
    l2, l3, l4, l5 = math.sqrt(9 / 70), math.sqrt(9 / 10), math.sqrt(9 / 10), math.sqrt(9 / 19)
    eye = np.eye(d)
    pairs = []
    for i, j in itertools.combinations(range(d), 2):
        for si, sj in itertools.product((1.0, -1.0), repeat=2):
            p = np.zeros(d)
            p[i], p[j] = si * l4, sj * l4
            pairs.append(p)
    corners = l5 * np.array(list(itertools.product((1.0, -1.0), repeat=d)))
    U = np.vstack([np.zeros((1, d)), l2 * eye, -l2 * eye, l3 * eye, -l3 * eye,
                   np.array(pairs).reshape(-1, d), corners])
    n4, n5 = 2 * d * (d - 1), 2**d
    high = np.concatenate([
        [(12824 - 9120 * d + 400 * d * d) / 19683],
        np.full(2 * d, 980 / 6561),
        np.full(2 * d, (1820 - 400 * d) / 19683),
        np.full(n4, 200 / 19683),
        np.full(n5, 6859 / 19683 / n5),
    ])
    low = np.concatenate([
        [(729 - 950 * d + 50 * d * d) / 729],
        np.full(2 * d, 245 / 486),
        np.full(2 * d, (265 - 100 * d) / 1458),
        np.full(n4, 25 / 729),
        np.zeros(n5),
    ])
    idx = np.arange(d)
    axis_pairs = (1 + idx, 1 + d + idx, 1 + 2 * d + idx, 1 + 3 * d + idx)
    return EmbeddedRule("Genz-Malik 7/5", U, high, low, axis_pairs, l2 * l2 / (l3 * l3))


_XGK = (0.991455371120812639206854697526329, 0.949107912342758524526189684047851,
        0.864864423359769072789712788640926, 0.741531185599394439863864773280788,
        0.586087235467691130294144845693013, 0.405845151377397166906606412076961,
        0.207784955007898467600689403773245, 0.0)
_WGK = (0.022935322010529224963732008058970, 0.063092092629978553290700663189204,
        0.104790010322250183839876322541518, 0.140653259715525918745189590510238,
        0.169004726639267902826583426598550, 0.190350578064785409913256402421014,
        0.204432940075298892414161999234649, 0.209482141084727828012999174891714)
_WG = (0.129484966168869693270611432679082, 0.279705391489276667901467771423780,
       0.381830050505118944950369775488975, 0.417959183673469387755102040816327)


@lru_cache(maxsize=8)
def gauss_kronrod15(d: int = 1) -> EmbeddedRule:
    """The Gauss–Kronrod 7-15 pair on [−1, 1] — Kronrod (15 nodes, degree 22) and the
    embedded Gauss rule (its 7 even-indexed nodes, degree 13) — and for d > 1 its tensor
    product on [−1, 1]ᵈ (15ᵈ nodes; the Gauss product nodes are among them).
    Cost: O(15ᵈ·d), cached."""
    x = np.array(_XGK)
    nodes = np.concatenate([-x[:-1], x[::-1]])  # 15 nodes, ascending
    wk = np.array(_WGK)
    high = np.concatenate([wk[:-1], wk[::-1]]) / 2
    wg_full = np.zeros(8)
    wg_full[1::2] = _WG  # Gauss nodes are x[1], x[3], x[5], x[7] = 0
    low = np.concatenate([wg_full[:-1], wg_full[::-1]]) / 2
    grids = np.meshgrid(*([nodes] * d), indexing="ij")
    U = np.stack([g.ravel() for g in grids], axis=1)
    high_d, low_d = high, low
    for _ in range(d - 1):
        high_d, low_d = np.kron(high_d, high), np.kron(low_d, low)
    name = "Gauss-Kronrod 7-15" + ("" if d == 1 else f" product ({15**d} points)")
    return EmbeddedRule(name, U, high_d, low_d, factors=(high, low))


@lru_cache(maxsize=64)
def gauss_legendre(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights of the n-point Gauss–Legendre rule on [−1, 1] (weights sum
    to 2), exact for polynomials of degree ≤ 2n − 1. Cost: O(n²) (Golub–Welsch), cached."""
    if n < 1:
        raise ValueError(f"gauss_legendre: the order must be ≥ 1, got {n}.")
    return np.polynomial.legendre.leggauss(n)
