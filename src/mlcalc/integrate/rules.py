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

__all__ = ["EmbeddedRule", "genz_malik", "gauss_kronrod", "gauss_kronrod15", "gauss_legendre"]


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


# QUADPACK's Kronrod nodes (positive half, descending, 0 last), Kronrod weights, and the
# weights of the embedded Gauss rule at the odd-indexed nodes (Piessens et al. 1983).
_QK15 = (
    (0.991455371120812639206854697526329, 0.949107912342758524526189684047851,
     0.864864423359769072789712788640926, 0.741531185599394439863864773280788,
     0.586087235467691130294144845693013, 0.405845151377397166906606412076961,
     0.207784955007898467600689403773245, 0.0),
    (0.022935322010529224963732008058970, 0.063092092629978553290700663189204,
     0.104790010322250183839876322541518, 0.140653259715525918745189590510238,
     0.169004726639267902826583426598550, 0.190350578064785409913256402421014,
     0.204432940075298892414161999234649, 0.209482141084727828012999174891714),
    (0.129484966168869693270611432679082, 0.279705391489276667901467771423780,
     0.381830050505118944950369775488975, 0.417959183673469387755102040816327),
)
_QK21 = (
    (0.995657163025808080735527280689003, 0.973906528517171720077964012084452,
     0.930157491355708226001207180059508, 0.865063366688984510732096688423493,
     0.780817726586416897063717578345042, 0.679409568299024406234327365114874,
     0.562757134668604683339000099272694, 0.433395394129247190799265943165784,
     0.294392862701460198131126603103866, 0.148874338981631210884826001129720, 0.0),
    (0.011694638867371874278064396062192, 0.032558162307964727478818972459390,
     0.054755896574351996031381300244580, 0.075039674810919952767043140916190,
     0.093125454583697605535065465083366, 0.109387158802297641899210590325805,
     0.123491976262065851077958109831074, 0.134709217311473325928054001771707,
     0.142775938577060080797094273138717, 0.147739104901338491374841515972068,
     0.149445554002916905664936468389821),
    (0.066671344308688137593568809893332, 0.149451349150580593145776339657697,
     0.219086362515982043995534934228163, 0.269266719309996355091226921569469,
     0.295524224714752870173892994651338),
)
_KRONROD = {7: _QK15, 10: _QK21}


@lru_cache(maxsize=16)
def gauss_kronrod(n: int = 7, d: int = 1) -> EmbeddedRule:
    """The Gauss–Kronrod (n)-(2n+1) pair on [−1, 1] for n = 7 or 10 — Kronrod (2n + 1
    nodes, degree 3n + 1) and the embedded n-point Gauss rule (degree 2n − 1) — and for
    d > 1 its tensor product on [−1, 1]ᵈ ((2n + 1)ᵈ nodes; the Gauss product nodes are
    among them). Constants from QUADPACK. Cost: O((2n + 1)ᵈ·d), cached."""
    if n not in _KRONROD:
        raise ValueError(f"gauss_kronrod: n must be one of {sorted(_KRONROD)}, got {n}.")
    xgk, wgk, wg = (np.array(t) for t in _KRONROD[n])
    m = 2 * n + 1
    nodes = np.concatenate([-xgk[:-1], xgk[::-1]])  # 2n + 1 nodes, ascending
    high = np.concatenate([wgk[:-1], wgk[::-1]]) / 2
    wg_full = np.zeros(n + 1)
    wg_full[1::2] = wg  # the Gauss nodes are the odd-indexed Kronrod nodes
    low = np.concatenate([wg_full[:-1], wg_full[::-1]]) / 2
    grids = np.meshgrid(*([nodes] * d), indexing="ij")
    U = np.stack([g.ravel() for g in grids], axis=1)
    high_d, low_d = high, low
    for _ in range(d - 1):
        high_d, low_d = np.kron(high_d, high), np.kron(low_d, low)
    name = f"Gauss-Kronrod {n}-{m}" + ("" if d == 1 else f" product ({m**d} points)")
    return EmbeddedRule(name, U, high_d, low_d, factors=(high, low))


def gauss_kronrod15(d: int = 1) -> EmbeddedRule:
    """The Gauss–Kronrod 7-15 pair (its product for d > 1): ``gauss_kronrod(7, d)``."""
    return gauss_kronrod(7, d)


@lru_cache(maxsize=64)
def gauss_legendre(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights of the n-point Gauss–Legendre rule on [−1, 1] (weights sum
    to 2), exact for polynomials of degree ≤ 2n − 1. Cost: O(n²) (Golub–Welsch), cached."""
    if n < 1:
        raise ValueError(f"gauss_legendre: the order must be ≥ 1, got {n}.")
    return np.polynomial.legendre.leggauss(n)
