"""Globally adaptive cubature with an embedded error estimate (Genz & Malik, 1980;
Berntsen, Espelid & Genz, 1991).

Each subregion carries the estimate of an embedded rule pair and its error estimate:
for d ≤ 4 the tensor product of the Gauss–Kronrod 10-21 pair (21ᵈ nodes, degree 31 per
axis), for d = 5 that of the 7-15 pair (15ᵈ nodes, degree 22), with QUADPACK's
estimate ρ·min(1, (200|K − G|/ρ)^1.5), ρ = ∫|f − mean f| by the Kronrod rule; for d ≥ 6
the Genz–Malik 7/5 pair (2ᵈ + 2d² + 2d + 1 nodes), with |I₇ − I₅|. The choice is measured
on Genz's smooth families at rtol = 1e-8 (benchmarks/bench_integrate.py): in d ≤ 4 the
21-point product usually meets the tolerance on the whole box where the 15-point product
needs a dozen subdivisions (product peak, d = 4: 194,481 against 1,164,375 evaluations);
in d = 5 one 21-point region already costs 4.1 million points, so the 15-point product
is cheaper; from d = 6 on the product rules' cost outgrows Genz–Malik's.
Both are floored at 50ε·∫|f| (rounding). While the summed error exceeds
tol = max(atol, rtol·|I|), the regions with the largest errors are bisected — along
the axis of largest fourth difference (Genz–Malik) or of largest 1-D error (product
rule: Kronrod on every axis against Gauss on that one), the widest of tied axes — and
the children of all of them are evaluated in one call of f, as in the vectorised
hcubature: regions are taken, largest error first, until the errors left
behind sum to at most tol. The loop stops when tol is met, or when the next batch would
exceed ``max_evals`` (``success=False``).

The estimates are heuristics: a discontinuity or a peak lying between a region's nodes
is invisible to its rule, so for discontinuous integrands use ``qmc`` or ``mc``.

Decisions are taken on plain values; the estimate itself is a sum of the final regions'
rule values, so it is differentiable by the engine for the partition it chose.
"""

from __future__ import annotations

import numpy as np

from ..autodiff.core import is_tracer
from .integrand import Integrand, plain
from .rules import EmbeddedRule, gauss_kronrod, genz_malik

__all__: list[str] = []

_MAX_BATCH_POINTS = 1 << 18  # points per call of f
_PRODUCT_MAX_D = 5
_KRONROD21_MAX_D = 4


def rule_for(d: int) -> EmbeddedRule:
    """The product of Gauss–Kronrod 10-21 for d ≤ _KRONROD21_MAX_D, of Gauss–Kronrod
    7-15 up to _PRODUCT_MAX_D, Genz–Malik 7/5 above."""
    if d <= _KRONROD21_MAX_D:
        return gauss_kronrod(10, d)
    return gauss_kronrod(7, d) if d <= _PRODUCT_MAX_D else genz_malik(d)


class _Regions:
    """Struct of arrays over all regions ever evaluated (active or split)."""

    def __init__(self, d: int, k: int):
        self.C = np.empty((0, d))
        self.H = np.empty((0, d))
        self.V = np.empty((0, k))
        self.E = np.empty((0, k))
        self.axis = np.empty(0, dtype=int)
        self.active = np.empty(0, dtype=bool)
        self.batch = np.empty(0, dtype=int)
        self.traced: list = []  # per batch: the traced values (B, k), or None


def _evaluate(integrand: Integrand, rule: EmbeddedRule, C: np.ndarray, H: np.ndarray):
    """Rule values (B, k) — traced when f's are —, plain values, errors (B, k) and the
    split axes (B,) of the boxes with centres C and half-widths H (B, d)."""
    B, d = C.shape
    P = rule.npoints
    T = (C[:, None, :] + rule.U[None, :, :] * H[:, None, :]).reshape(B * P, d)
    Y = integrand(T)
    k = Y.shape[1]
    Y = np.reshape(Y, (B, P, k))
    vol = np.prod(2 * H, axis=1)[:, None]
    Yp = plain(Y)
    traced = None
    if is_tracer(Y):
        traced = vol * np.einsum("bpk,p->bk", Y, rule.high)
    values = vol * np.einsum("bpk,p->bk", Yp, rule.high)
    errors = np.abs(vol * np.einsum("bpk,p->bk", Yp, rule.high - rule.low))
    if rule.factors is not None:  # QUADPACK's scaling of |K − G| by the variation
        spread = np.abs(vol) * np.einsum("bpk,p->bk", np.abs(Yp - (values / vol)[:, None, :]),
                                         rule.high)
        with np.errstate(divide="ignore", invalid="ignore"):
            scaled = spread * np.minimum(1.0, (200 * errors / spread) ** 1.5)
        errors = np.where(spread > 0, scaled, errors)
    floor = 50 * np.finfo(float).eps * np.abs(vol) * np.einsum("bpk,p->bk", np.abs(Yp),
                                                                np.abs(rule.high))
    errors = np.maximum(errors, floor)
    if d == 1:
        axes = np.zeros(B, dtype=int)
    elif rule.factors is not None:
        axes = _widest_of_tied(_product_axis_errors(Yp, rule, vol), H)
    else:
        i2p, i2m, i3p, i3m = rule.axis_pairs
        f0 = Yp[:, :1, :]
        diff = np.abs(Yp[:, i2p] + Yp[:, i2m] - 2 * f0
                      - rule.ratio * (Yp[:, i3p] + Yp[:, i3m] - 2 * f0)).sum(axis=2)
        axes = _widest_of_tied(diff, H)
    return traced, values, errors, axes


def _widest_of_tied(score: np.ndarray, H: np.ndarray) -> np.ndarray:
    """Per row, the axis of largest ``score`` (B, d); among ties, the widest."""
    top = score.max(axis=1, keepdims=True)
    tied = score >= top * (1 - 1e-10) - 1e-300
    return np.argmax(np.where(tied, np.abs(H), -1.0), axis=1)


def _product_axis_errors(Yp: np.ndarray, rule: EmbeddedRule, vol: np.ndarray) -> np.ndarray:
    """For a product rule, the error of each axis's 1-D rule: |Q_high − Q_(low on axis i,
    high elsewhere)| summed over components, (B, d)."""
    B, P, k = Yp.shape
    hi, lo = rule.factors
    d = rule.U.shape[1]
    m = hi.size
    Y = Yp.reshape((B,) + (m,) * d + (k,))
    out = np.empty((B, d))
    for i in range(d):
        Z = Y
        for j in range(d - 1, -1, -1):  # contract the last node axis first
            Z = np.tensordot(Z, (hi - lo) if j == i else hi, axes=([j + 1], [0]))
        out[:, i] = np.abs(vol * Z).sum(axis=1)
    return out


def adaptive(integrand: Integrand, rtol: float, atol: float, max_evals: int) -> tuple:
    """(value, error, success, message, nregions) of the adaptive cubature over the
    integrand's finite box. Cost: ≤ max_evals evaluations of f in batches; O(R log R)
    bookkeeping per batch for R regions."""
    rule = rule_for(integrand.d)
    P = rule.npoints
    if P > max_evals:
        raise ValueError(
            f"integrate: max_evals={max_evals} is below one application of the "
            f"{rule.name} rule ({P} points in d = {integrand.d})."
        )
    c0 = (integrand.t_lo + integrand.t_hi) / 2
    h0 = (integrand.t_hi - integrand.t_lo) / 2
    traced, v, e, ax = _evaluate(integrand, rule, c0[None], h0[None])
    reg = _Regions(integrand.d, v.shape[1])
    _append(reg, c0[None], h0[None], v, e, ax, traced)
    success, message = False, ""
    while True:
        act = np.flatnonzero(reg.active)
        total = reg.V[act].sum(axis=0)
        err = reg.E[act].sum(axis=0)
        tol = np.maximum(atol, rtol * np.abs(total))
        if np.all(err <= tol):
            success = True
            message = f"tolerance met with {act.size} subregions"
            break
        budget = (max_evals - integrand.nfev) // (2 * P)
        if budget < 1:
            message = (f"max_evals={max_evals} reached with {act.size} subregions before the "
                       f"error estimate {np.max(err):.3g} met the tolerance {np.min(tol):.3g}")
            break
        scaled = (reg.E[act] / np.maximum(tol, 1e-300)).max(axis=1)
        order = np.argsort(-scaled, kind="stable")
        left = scaled.sum() - np.cumsum(scaled[order])
        npop = int(np.searchsorted(-left, -1.0)) + 1  # first prefix leaving ≤ 1 behind
        npop = max(1, min(npop, act.size, budget, _MAX_BATCH_POINTS // (2 * P)))
        pick = act[order[:npop]]
        reg.active[pick] = False
        C, H, a = reg.C[pick], reg.H[pick].copy(), reg.axis[pick]
        rows = np.arange(npop)
        H[rows, a] /= 2
        shift = np.zeros_like(H)
        shift[rows, a] = H[rows, a]
        Cn, Hn = np.vstack([C - shift, C + shift]), np.vstack([H, H])
        traced, v, e, ax = _evaluate(integrand, rule, Cn, Hn)
        _append(reg, Cn, Hn, v, e, ax, traced)
    act = reg.active
    if integrand.traced:
        value = None
        for b, tv in enumerate(reg.traced):
            mask = (act & (reg.batch == b))[reg.batch == b].astype(float)
            if mask.any():
                part = mask @ tv
                value = part if value is None else value + part
    else:
        value = reg.V[act].sum(axis=0)
    error = reg.E[act].sum(axis=0)
    return value, error, success, f"{rule.name}: {message}", int(act.sum())


def _append(reg: _Regions, C, H, v, e, ax, traced) -> None:
    n = C.shape[0]
    reg.C = np.vstack([reg.C, C])
    reg.H = np.vstack([reg.H, H])
    reg.V = np.vstack([reg.V, v])
    reg.E = np.vstack([reg.E, e])
    reg.axis = np.concatenate([reg.axis, ax])
    reg.active = np.concatenate([reg.active, np.ones(n, dtype=bool)])
    reg.batch = np.concatenate([reg.batch, np.full(n, len(reg.traced))])
    reg.traced.append(traced)
