"""Checking derivatives: AD against finite differences with Richardson extrapolation.

``check_grad(f, x)`` is for users who write their own rules (``mc.custom_jvp``,
``mc.custom_vjp``) and want to know whether they are right. It compares mlcalc's
derivative (``mc.grad`` for a scalar f, ``mc.jacobian`` otherwise; for ``order=2`` the
Hessian) with a finite-difference estimate that carries its own error estimate, in the
manner of numdifftools (Brodtkorb & D'Errico):

1. central differences D(hⱼ) at a geometric sequence of steps hⱼ = h₀·r⁻ʲ; their error
   expands in even powers h², h⁴, ... ;
2. a Richardson table R[j, k] = (r²ᵏ R[j+1, k−1] − R[j, k−1]) / (r²ᵏ − 1) removes
   those terms one by one;
3. each entry's error is estimated as the larger of its distances to the two
   lower-order entries it was built from (which bounds the error of the lower order, and
   so, in the asymptotic regime, of the entry itself), plus a rounding bound propagated
   through the table (≈ 10ε·|f| / h for each difference);
4. per component, the entry with the smallest estimated error is reported.

A component passes when |AD − FD| ≤ max(safety·error estimate, atol + rtol·|FD|).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import tree
from ..autodiff.api import grad, hessian, jacfwd, jacobian, jacrev

__all__ = ["CheckGradResult", "check_grad"]

_NOISE_POINTS = 9  # evaluations for the noise estimate (phi at x and 8 nearby points)


@dataclass(frozen=True)
class CheckGradResult:
    """AD and finite differences compared component by component.

    Arrays have the derivative's shape: ``out.shape + x.shape`` (``order=2``:
    ``out.shape + x.shape + x.shape``); a pytree ``x`` is flattened into one vector of
    n entries (leaf order of ``mc.tree.flatten``) and ``x.shape`` reads ``(n,)``.

    ok: every component within ``allowed``.
    ad: the derivative from automatic differentiation.
    fd: the Richardson-extrapolated finite-difference estimate.
    fd_error: the estimated absolute error of ``fd``, per component.
    abs_discrepancy: |ad − fd|.  rel_discrepancy: |ad − fd| / max(|ad|, |fd|).
    allowed: max(safety·fd_error, atol + rtol·|fd|), per component.
    failed: indices of the components outside ``allowed``, worst (largest
        discrepancy/allowed) first.
    n_evaluations: calls of f (or of its AD gradient, for ``order=2`` from the gradient).
    """

    ok: bool
    order: int
    ad: np.ndarray
    fd: np.ndarray
    fd_error: np.ndarray
    abs_discrepancy: np.ndarray
    rel_discrepancy: np.ndarray
    allowed: np.ndarray
    failed: tuple[tuple[int, ...], ...]
    n_evaluations: int

    def __str__(self) -> str:
        what = "derivative" if self.order == 1 else "second derivative"
        if self.ok:
            return (f"check_grad: {what} ok ({self.ad.size} components, max |AD − FD| = "
                    f"{np.max(self.abs_discrepancy, initial=0.0):.3g})")
        lines = [f"check_grad: {what} FAILED at {len(self.failed)} of {self.ad.size} "
                 "components:"]
        for idx in self.failed[:10]:
            lines.append(f"  {idx}: AD = {self.ad[idx]!r}, FD = {self.fd[idx]!r} "
                         f"± {self.fd_error[idx]:.2g} (rel. discrepancy "
                         f"{self.rel_discrepancy[idx]:.2g})")
        return "\n".join(lines)


# ---------------------------------------------------------------------------------
# flattening the point


def _float_array(x) -> np.ndarray:
    arr = np.asarray(x)
    if arr.dtype.kind == "c":
        raise NotImplementedError("check_grad: complex inputs are not supported.")
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"check_grad: x must be real numbers, got dtype {arr.dtype}.")
    return arr.astype(arr.dtype if arr.dtype.kind == "f" else np.float64)


def _ravel(x) -> tuple[np.ndarray, Callable, tuple[int, ...]]:
    """(flat vector, its inverse map, the shape derivatives are reported in)."""
    if isinstance(x, (np.ndarray, np.generic, int, float)):
        arr = _float_array(x)
        return arr.ravel(), lambda v: np.reshape(v, arr.shape), arr.shape
    leaves, treedef = tree.flatten(x)
    arrays = [_float_array(leaf) for leaf in leaves]
    if not arrays:
        raise ValueError("check_grad: x has no array leaves.")
    dtype = np.result_type(*arrays)
    flat = np.concatenate([a.ravel().astype(dtype) for a in arrays])
    offsets = np.cumsum([0] + [a.size for a in arrays])

    def unravel(v):
        parts = [np.reshape(v[offsets[k]:offsets[k + 1]], a.shape)
                 for k, a in enumerate(arrays)]
        return tree.unflatten(treedef, parts)

    return flat, unravel, (flat.size,)


def _value(fn: Callable, v: np.ndarray) -> np.ndarray:
    out = fn(v)
    if not isinstance(out, (np.ndarray, np.generic, int, float)):
        raise TypeError(f"check_grad: f must return a real array or number, got "
                        f"{type(out).__name__}.")
    return np.asarray(out, dtype=np.result_type(np.asarray(out).dtype, v.dtype))


# ---------------------------------------------------------------------------------
# finite-difference tables (axis 0: the step sequence)


def _exact_step(v_i: float, h: float) -> tuple[float, float]:
    """Points v_i ± δ with δ = (v_i + h) − v_i, a step the floating-point grid represents
    (callers divide by the points' computed distance: no rounding error in the step)."""
    delta = (v_i + h) - v_i
    return v_i + delta, v_i - delta


def _noise_level(phi, v, phi0, points: int = _NOISE_POINTS) -> np.ndarray:
    """The computational noise of phi near v, per output component (Moré & Wild,
    "Estimating computational noise", 2011): k-th differences of phi at equispaced
    points v + iδp along a fixed direction p, with δ relative 1e-7 so that the smooth
    part of Δᵏφ is negligible for k ≥ 3; σₖ² = γₖ·mean (Δᵏφ)², γₖ = (k!)²/(2k)!.
    Returns the largest σₖ over k = 3..6 (cost: points − 1 evaluations)."""
    p = np.random.default_rng(0).choice([-1.0, 1.0], size=v.size)
    delta = 1e-7 * np.maximum(1.0, np.abs(v)) * p
    values = [phi0] + [_value(phi, v + i * delta) for i in range(1, points)]
    table = np.asarray(values)
    sigma = np.zeros(phi0.shape)
    for k in range(1, 7):
        table = np.diff(table, axis=0)
        if k >= 3:
            gamma = math.factorial(k) ** 2 / math.factorial(2 * k)
            top = np.max(np.abs(table), axis=0)
            top_safe = np.where(top > 0, top, 1.0)  # scaled: no underflow of the squares
            rms = top * np.sqrt(np.mean((table / top_safe) ** 2, axis=0))
            sigma = np.maximum(sigma, np.sqrt(gamma) * rms)
    return sigma


def _first_differences(phi, v, steps, eps, phi0):
    """Central differences of phi along each coordinate: tables of shape
    (J,) + out.shape + (n,) for the estimates and their rounding bounds (from the
    measured noise σ of phi and ≈ 10ε·|phi|)."""
    scale = np.max(np.abs(phi0), initial=0.0)
    sigma = _noise_level(phi, v, phi0)
    D, N = [], []
    for i in range(v.size):
        d_i, n_i = [], []
        for h in steps[:, i]:
            xp, xm = _exact_step(v[i], h)
            vp, vm = v.copy(), v.copy()
            vp[i], vm[i] = xp, xm
            fp, fm = _value(phi, vp), _value(phi, vm)
            width = xp - xm
            d_i.append((fp - fm) / width)
            n_i.append((6.0 * sigma + eps * (10.0 * (np.abs(fp) + np.abs(fm)) + 2.0 * scale))
                       / abs(width))
        D.append(d_i)
        N.append(n_i)
    return np.moveaxis(np.asarray(D), 0, -1), np.moveaxis(np.asarray(N), 0, -1)


def _second_differences(f, v, steps, eps, f0):
    """Second differences of scalar-or-array f: ∂²f/∂xᵢ∂xⱼ from the four corners of a
    rectangle (i ≠ j) or the divided difference on three points (i = j). Tables of
    shape (J,) + out.shape + (n, n)."""
    n, J = v.size, steps.shape[0]
    D = np.empty((J,) + f0.shape + (n, n), dtype=f0.dtype)
    N = np.empty_like(D)
    scale = np.max(np.abs(f0), initial=0.0)
    sigma = _noise_level(f, v, f0)
    for j in range(J):
        for i in range(n):
            a, b = _exact_step(v[i], 2.0 * steps[j, i])
            va, vb = v.copy(), v.copy()
            va[i], vb[i] = a, b
            fa, fb = _value(f, va), _value(f, vb)
            D[j, ..., i, i] = 2.0 * ((fa - f0) / (a - v[i]) - (f0 - fb) / (v[i] - b)) / (a - b)
            N[j, ..., i, i] = (12.0 * sigma + eps * (10.0 * (np.abs(fa) + 2 * np.abs(f0)
                                                             + np.abs(fb)) + 4.0 * scale)
                               ) * 4.0 / (a - b) ** 2
            for k in range(i + 1, n):
                pi, mi = _exact_step(v[i], steps[j, i])
                pk, mk = _exact_step(v[k], steps[j, k])
                corners = []
                for xi, xk in ((pi, pk), (pi, mk), (mi, pk), (mi, mk)):
                    w = v.copy()
                    w[i], w[k] = xi, xk
                    corners.append(_value(f, w))
                area = (pi - mi) * (pk - mk)
                est = (corners[0] - corners[1] - corners[2] + corners[3]) / area
                noise = (12.0 * sigma + eps * (10.0 * sum(np.abs(c) for c in corners)
                                               + 4.0 * scale)) / area
                D[j, ..., i, k] = D[j, ..., k, i] = est
                N[j, ..., i, k] = N[j, ..., k, i] = noise
    return D, N


def _richardson(D: np.ndarray, noise: np.ndarray, ratio: float, levels: int):
    """Best entry of the Richardson table built on ``D`` (axis 0: steps h₀·r⁻ʲ, error
    in even powers of h) and its error estimate, per component."""
    cands, errs = [], []
    R, Nk = D, noise
    for k in range(1, min(levels, D.shape[0] - 1) + 1):
        c = ratio ** (2 * k)
        R_new = (c * R[1:] - R[:-1]) / (c - 1.0)
        Nk = (c * Nk[1:] + Nk[:-1]) / (c - 1.0)
        trunc = np.maximum(np.abs(R_new - R[:-1]), np.abs(R_new - R[1:]))
        cands.append(R_new)
        errs.append(trunc + Nk)
        R = R_new
    cand, err = np.concatenate(cands), np.concatenate(errs)
    err = np.where(np.isfinite(err) & np.isfinite(cand), err, np.inf)
    best = np.argmin(err, axis=0)[None]
    return (np.take_along_axis(cand, best, axis=0)[0],
            np.take_along_axis(err, best, axis=0)[0])


# ---------------------------------------------------------------------------------
# the check


def check_grad(
    f: Callable,
    x: Any,
    *,
    order: int = 1,
    hessian_fd: str = "gradient",
    rtol: float = 1e-6,
    atol: float = 0.0,
    safety: float = 10.0,
    base_step: float = 0.25,
    step_ratio: float = 2.0,
    num_steps: int = 10,
    levels: int = 3,
) -> CheckGradResult:
    """Compare f's AD derivative at ``x`` with Richardson-extrapolated finite differences.

    ``order=1``: the gradient (scalar f, ``mc.grad``) or Jacobian (``mc.jacobian``).
    ``order=2``: the Hessian ∂²f/∂xᵢ∂xⱼ (``mc.hessian``; for an array-valued f the
    tensor of second derivatives, ``mc.jacfwd(mc.jacrev(f))``), against finite
    differences of the AD gradient (``hessian_fd="gradient"``: checks the second order
    given the first) or second differences of f itself (``"function"``: independent of
    AD, but with a larger rounding error ∝ ε/h²). The rounding noise of f (or of the
    AD gradient) is measured at x (Moré & Wild's difference-table estimate), not assumed.

    Steps: hⱼ = base_step·max(1, log(1 + |xᵢ|))·step_ratio⁻ʲ, j < num_steps, adjusted
    so that xᵢ ± hⱼ are exact; ``levels`` Richardson extrapolations (error O(h^(2·levels
    + 2))). NaN/inf values (steps leaving f's domain) are skipped. Cost: 2·num_steps·n + 9
    evaluations of f (``order=2`` from the gradient: of the AD gradient; from f:
    ≈ 2·num_steps·n² + 9 evaluations of f), plus one AD derivative.
    """
    if order not in (1, 2):
        raise ValueError(f"check_grad: order must be 1 or 2, not {order!r}.")
    if hessian_fd not in ("gradient", "function"):
        raise ValueError(f"check_grad: hessian_fd must be 'gradient' or 'function', not "
                         f"{hessian_fd!r}.")
    if not (num_steps >= 3 and step_ratio > 1 and base_step > 0 and levels >= 1):
        raise ValueError(
            "check_grad: need num_steps >= 3, step_ratio > 1, base_step > 0 and levels >= 1; "
            f"got num_steps={num_steps!r}, step_ratio={step_ratio!r}, "
            f"base_step={base_step!r}, levels={levels!r}."
        )
    if rtol < 0 or atol < 0 or safety < 0:
        raise ValueError(f"check_grad: rtol, atol and safety must be >= 0; got {rtol!r}, "
                         f"{atol!r}, {safety!r}.")
    v, unravel, in_shape = _ravel(x)
    if v.size == 0:
        raise ValueError("check_grad: x is empty; there is nothing to check.")

    def g(w):
        return f(unravel(w))

    f0 = _value(g, v)
    scalar = f0.ndim == 0
    eps = float(np.finfo(v.dtype).eps)
    scale = base_step * np.maximum(1.0, np.log1p(np.abs(v)))
    steps = scale[None, :] * step_ratio ** -np.arange(num_steps, dtype=float)[:, None]

    if order == 1:
        ad = grad(g)(v) if scalar else jacobian(g)(v)
        phi, phi0 = g, f0
    else:
        ad = hessian(g)(v) if scalar else jacfwd(jacrev(g))(v)
        phi = grad(g) if scalar else jacrev(g)
        phi0 = _value(phi, v)
    # the largest steps may leave f's domain: NaN there is expected and skipped
    with np.errstate(all="ignore"):
        if order == 1 or hessian_fd == "gradient":
            D, noise = _first_differences(phi, v, steps, eps, phi0)
            n_evals = 2 * num_steps * v.size + _NOISE_POINTS
        else:
            D, noise = _second_differences(g, v, steps, eps, f0)
            n_evals = num_steps * (2 * v.size + 2 * v.size * (v.size - 1)) + _NOISE_POINTS
    shape = f0.shape + in_shape * order
    fd, fd_err = _richardson(D, noise, step_ratio, levels)
    fd, fd_err = fd.reshape(shape), fd_err.reshape(shape)
    ad = np.asarray(ad, dtype=fd.dtype).reshape(shape)

    same = (ad == fd) | (np.isnan(ad) & np.isnan(fd))
    diff = np.where(same, 0.0, np.abs(ad - fd))
    denom = np.maximum(np.abs(ad), np.abs(fd))
    rel = np.where(diff == 0, 0.0, diff / np.where(denom > 0, denom, 1.0))
    allowed = np.maximum(safety * fd_err, atol + rtol * np.abs(fd))
    bad = ~(same | (diff <= allowed))
    severity = np.where(bad, diff / np.where(allowed > 0, allowed, 1.0), 0.0)
    severity = np.where(np.isnan(severity), np.inf, severity)
    worst_first = np.argsort(-severity, axis=None, kind="stable")[: int(np.sum(bad))]
    failed = tuple(tuple(int(i) for i in np.unravel_index(k, shape)) for k in worst_first)
    return CheckGradResult(
        ok=not bool(np.any(bad)),
        order=order,
        ad=ad,
        fd=fd,
        fd_error=fd_err,
        abs_discrepancy=diff,
        rel_discrepancy=rel,
        allowed=allowed,
        failed=failed,
        n_evaluations=n_evals,
    )
