"""Differentiable ``numpy.linalg``: ``mlcalc.numpy.linalg``.

Every function accepts stacks of matrices (leading batch axes) as NumPy does, and its
values are NumPy's own. Rules are written with mlcalc's differentiable functions, so
derivatives of every order exist wherever the function is smooth.

Conventions
-----------
- ``cholesky``, ``eigh``, ``eigvalsh`` read one triangle of a symmetric matrix. Their
  derivatives are taken with respect to symmetric perturbations: a tangent ``dA`` is
  replaced by ``(dA + dAᵀ)/2`` and cotangents are symmetric (as in JAX and PyTorch).
- ``eigh`` with repeated eigenvalues, and ``svd`` with repeated (or, for non-square
  matrices, zero) singular values: the eigen/singular vectors are not unique and their
  derivative is undefined (the rules divide by ``λⱼ − λᵢ`` or ``sⱼ² − sᵢ²`` and give
  inf/nan). The eigenvalues and singular values themselves stay differentiable while
  distinct.
- ``det`` at a (near-)singular matrix: the derivative is the cofactor matrix
  ``adj(A)ᵀ``, computed from the SVD instead of ``det(A)·A⁻ᵀ``.
- ``norm`` at the zero vector (2-norm, Frobenius norm): derivative 0. ``abs`` inside
  the 1-/inf-norms has derivative ``sign(x)`` (0 at 0); ties of max/min (inf-norms,
  spectral norm) split the derivative equally.
- ``pinv``: the constant-rank derivative (Golub & Pereyra, 1973).
"""

from __future__ import annotations

from collections import namedtuple

import numpy as _np

from ..autodiff.core import NotDifferentiableError, Tracer, full_lower
from . import _core
from ._base import (
    Primitive,
    dtype_of,
    implements,
    move_bdim_to_front,
    ndim_of,
    normalize_axis,
    shape_of,
    unbroadcast,
)
from ._contractions import cross, dot, matmul, outer, tensordot
from ._elementwise import multiply, negative, power

__all__ = [
    "inv",
    "solve",
    "det",
    "slogdet",
    "cholesky",
    "eigh",
    "eigvalsh",
    "svd",
    "svdvals",
    "qr",
    "pinv",
    "norm",
    "matrix_power",
    "multi_dot",
    "matmul",
    "tensordot",
    "outer",
    "cross",
]

SlogdetResult = namedtuple("SlogdetResult", ["sign", "logabsdet"])
EighResult = namedtuple("EighResult", ["eigenvalues", "eigenvectors"])
SVDResult = namedtuple("SVDResult", ["U", "S", "Vh"])
QRResult = namedtuple("QRResult", ["Q", "R"])


# ---------------------------------------------------------------------------------
# helpers (plain constants for identities and masks)


def _mT(x):
    return _core.swapaxes(x, -1, -2)


def _eye(n: int, like) -> _np.ndarray:
    dt = dtype_of(like)
    return _np.eye(n, dtype=dt if dt.kind == "f" else _np.float64)


def _sym(x):
    return (x + _mT(x)) * 0.5


def _diag_part(m):
    """The diagonal of each matrix of a stack."""
    return _core.sum(m * _eye(shape_of(m)[-1], m), axis=-1)


def _diag_embed(v):
    """Diagonal matrices with the entries of ``v`` on their diagonals."""
    return _core.expand_dims(v, -2) * _eye(shape_of(v)[-1], v)


def _pair_inverse(x):
    """``F[..., i, j] = 1 / (x_j − x_i)`` off the diagonal, 0 on it."""
    eye = _eye(shape_of(x)[-1], x)
    diff = _core.expand_dims(x, -2) - _core.expand_dims(x, -1)
    return (1.0 - eye) / (diff + eye)


def _tril_mask(n: int, k: int, like) -> _np.ndarray:
    return _np.tril(_np.ones((n, n), dtype=_eye(1, like).dtype), k)


def _batch_leading(prim: Primitive):
    """Batching rule of a primitive that maps over leading axes of its one argument."""

    def rule(args, dims, **params):
        out = prim.bind(move_bdim_to_front(args[0], dims[0]), **params)
        return (out, (0,) * len(out)) if prim.multiple_results else (out, 0)

    return rule


def _unary(name: str, impl, *, nondiff: bool = False, multiple_results: bool = False):
    prim = Primitive(name, impl, nondiff=nondiff, multiple_results=multiple_results)
    prim.defbatch(_batch_leading(prim))
    return prim


def _any_traced(*xs) -> bool:
    return any(isinstance(x, Tracer) for x in xs)


# ---------------------------------------------------------------------------------
# inv, solve


inv_p = _unary("inv", _np.linalg.inv)
inv_p.defjvp(lambda t, ans, a: negative(matmul(ans, matmul(t, ans))))
inv_p.defvjp(lambda g, ans, a: negative(matmul(_mT(ans), matmul(g, _mT(ans)))))


@implements(_np.linalg.inv)
def inv(a):
    """Matrix inverse; ``d(A⁻¹) = −A⁻¹ dA A⁻¹``."""
    return inv_p.bind(a)


solve_p = Primitive("solve", _np.linalg.solve)


def _solve_jvp_a(t, ans, a, b):
    if ndim_of(b) == 1:
        rhs = matmul(t, _core.expand_dims(ans, -1))
        return negative(_core.squeeze(solve_p.bind(a, rhs), axis=-1))
    return negative(solve_p.bind(a, matmul(t, ans)))


def _solve_vjp(g, ans, needs, a, b):
    if ndim_of(b) == 1:
        gb = _core.squeeze(solve_p.bind(_mT(a), _core.expand_dims(g, -1)), axis=-1)
        ga = multiply(_core.expand_dims(gb, -1), _core.expand_dims(ans, -2)) if needs[0] else None
    else:
        gb = solve_p.bind(_mT(a), g)
        ga = matmul(gb, _mT(ans)) if needs[0] else None
    ga = None if ga is None else unbroadcast(negative(ga), shape_of(a))
    return [ga, unbroadcast(gb, shape_of(b)) if needs[1] else None]


solve_p.defjvp(_solve_jvp_a, lambda t, ans, a, b: solve_p.bind(a, t))
solve_p.defvjp_all(_solve_vjp)


def _solve_batch(args, dims):
    (a, b), (da, db) = args, dims
    a, b = move_bdim_to_front(a, da), move_bdim_to_front(b, db)
    ra, rb = ndim_of(a) - (da is not None), ndim_of(b) - (db is not None)
    vector = rb == 1
    if vector:
        b = _core.expand_dims(b, -1)
        rb = 2
    out_rank = max(ra, rb) - 2
    if da is not None:
        a = _pad_after_front(a, out_rank - (ra - 2))
    if db is not None:
        b = _pad_after_front(b, out_rank - (rb - 2))
    out = solve_p.bind(a, b)
    return (_core.squeeze(out, axis=-1) if vector else out), 0


def _pad_after_front(x, pad: int):
    s = shape_of(x)
    return x if pad == 0 else _core.reshape(x, s[:1] + (1,) * pad + s[1:])


solve_p.defbatch(_solve_batch)


@implements(_np.linalg.solve)
def solve(a, b):
    """Solution of ``A x = b`` (``b`` a vector if 1-D, else a stack of matrices);
    ``dx = A⁻¹(db − dA x)``."""
    return solve_p.bind(a, b)


# ---------------------------------------------------------------------------------
# det, slogdet


def _near_singular_impl(a):
    s = _np.linalg.svd(a, compute_uv=False)
    return s[..., -1] <= s[..., 0] * (a.shape[-1] * _np.finfo(s.dtype).eps)


_near_singular_p = _unary("near_singular", _near_singular_impl, nondiff=True)
_det_sign_p = _unary("det_sign", lambda a: _np.sign(_np.linalg.det(a)), nondiff=True)


def _cofactor(a, d):
    """The cofactor matrix ``adj(A)ᵀ`` (``∂ det A / ∂A``): ``det(A)·A⁻ᵀ`` for regular
    matrices; from the SVD ``A = U S Vᵀ`` as ``±U diag(∏_{j≠i} s_j) Vᵀ`` when some
    matrix is (near-)singular."""
    if not _np.any(full_lower(_near_singular_p.bind(a))):
        return _core.expand_dims(_core.expand_dims(d, -1), -1) * _mT(inv(a))
    u, s, vt = svd(a)
    n = shape_of(s)[-1]
    eye = _eye(n, s)
    others = _core.expand_dims(s, -2) * (1.0 - eye) + eye  # row i: s_j, with 1 at j = i
    p = _core.getitem(others, (Ellipsis, 0))
    for j in range(1, n):
        p = p * _core.getitem(others, (Ellipsis, j))
    sign = _det_sign_p.bind(u) * _det_sign_p.bind(vt)
    cof = matmul(u * _core.expand_dims(p, -2), vt)
    return _core.expand_dims(_core.expand_dims(sign, -1), -1) * cof


det_p = _unary("det", _np.linalg.det)
det_p.defjvp(lambda t, ans, a: _core.sum(_cofactor(a, ans) * t, axis=(-2, -1)))
det_p.defvjp(
    lambda g, ans, a: _core.expand_dims(_core.expand_dims(g, -1), -1) * _cofactor(a, ans)
)


@implements(_np.linalg.det)
def det(a):
    """Determinant; ``∂ det A / ∂A = adj(A)ᵀ`` (the cofactor matrix, also at singular
    matrices, where it is computed from the SVD)."""
    return det_p.bind(a)


slogdet_p = _unary("slogdet", lambda a: tuple(_np.linalg.slogdet(a)), multiple_results=True)


def _slogdet_jvp(tangents, ans, a):
    return None, _core.sum(_mT(inv(a)) * tangents[0], axis=(-2, -1))


def _slogdet_vjp(g, ans, needs, a):
    if g[1] is None:
        return [None]
    return [_core.expand_dims(_core.expand_dims(g[1], -1), -1) * _mT(inv(a))]


slogdet_p.defjvp_all(_slogdet_jvp)
slogdet_p.defvjp_all(_slogdet_vjp)


@implements(_np.linalg.slogdet)
def slogdet(a):
    """``(sign, log|det A|)``; ``∂ log|det A| / ∂A = A⁻ᵀ``, the sign has no
    derivative."""
    return SlogdetResult(*slogdet_p.bind(a))


# ---------------------------------------------------------------------------------
# cholesky


def _phi(x):
    """Lower triangle with half the diagonal."""
    n = shape_of(x)[-1]
    return x * (_tril_mask(n, -1, x) + 0.5 * _eye(n, x))


def _cholesky_jvp(t, ans, a):
    # dL = L Φ(L⁻¹ dA L⁻ᵀ)  (Murray 2016)
    y = solve(ans, _sym(t))
    return matmul(ans, _phi(_mT(solve(ans, _mT(y)))))


def _cholesky_vjp(g, ans, a):
    # Ā = sym(L⁻ᵀ Φ(Lᵀ L̄) L⁻¹)
    lt = _mT(ans)
    z = solve(lt, _phi(matmul(lt, g)))
    return _sym(_mT(solve(lt, _mT(z))))


cholesky_p = _unary("cholesky", _np.linalg.cholesky)
cholesky_p.defjvp(_cholesky_jvp)
cholesky_p.defvjp(_cholesky_vjp)


@implements(_np.linalg.cholesky)
def cholesky(a, /, *, upper=False):
    """Cholesky factor ``A = L Lᵀ`` (``Lᵀ`` if ``upper``) of a symmetric positive
    definite matrix; derivative with respect to symmetric perturbations."""
    lower = cholesky_p.bind(a)
    return _mT(lower) if upper else lower


# ---------------------------------------------------------------------------------
# eigh, eigvalsh


eigh_p = _unary("eigh", lambda a, UPLO: tuple(_np.linalg.eigh(a, UPLO)), multiple_results=True)


def _eigh_jvp(tangents, ans, a, UPLO):
    w, v = ans
    m = matmul(_mT(v), matmul(_sym(tangents[0]), v))
    return _diag_part(m), matmul(v, _pair_inverse(w) * m)


def _eigh_vjp(g, ans, needs, a, UPLO):
    w, v = ans
    gw, gv = g
    inner = None
    if gw is not None:
        inner = _diag_embed(gw)
    if gv is not None:
        term = _pair_inverse(w) * matmul(_mT(v), gv)
        inner = term if inner is None else inner + term
    if inner is None:
        return [None]
    return [_sym(matmul(v, matmul(inner, _mT(v))))]


eigh_p.defjvp_all(_eigh_jvp)
eigh_p.defvjp_all(_eigh_vjp)


@implements(_np.linalg.eigh)
def eigh(a, UPLO="L"):
    """Eigenvalues (ascending) and eigenvectors of a symmetric matrix.
    ``dλ = diag(Vᵀ dA V)``, ``dV = V (F ∘ Vᵀ dA V)`` with ``F_ij = 1/(λ_j − λ_i)``;
    undefined (inf/nan) for the eigenvectors of repeated eigenvalues."""
    return EighResult(*eigh_p.bind(a, UPLO=UPLO))


eigvalsh_p = _unary("eigvalsh", lambda a, UPLO: _np.linalg.eigvalsh(a, UPLO))


def _eigvalsh_jvp(t, ans, a, UPLO):
    v = eigh(a, UPLO)[1]
    return _core.sum(v * matmul(_sym(t), v), axis=-2)


def _eigvalsh_vjp(g, ans, a, UPLO):
    v = eigh(a, UPLO)[1]
    return matmul(v * _core.expand_dims(g, -2), _mT(v))


eigvalsh_p.defjvp(_eigvalsh_jvp)
eigvalsh_p.defvjp(_eigvalsh_vjp)


@implements(_np.linalg.eigvalsh)
def eigvalsh(a, UPLO="L"):
    """Eigenvalues (ascending) of a symmetric matrix; ``dλ_i = v_iᵀ dA v_i``."""
    return eigvalsh_p.bind(a, UPLO=UPLO)


# ---------------------------------------------------------------------------------
# svd, svdvals


def _svd_impl(a, full_matrices):
    return tuple(_np.linalg.svd(a, full_matrices=full_matrices))


svd_p = _unary("svd", _svd_impl, multiple_results=True)


def _check_svd_shape(a, full_matrices):
    m, n = shape_of(a)[-2:]
    if full_matrices and m != n:
        raise NotDifferentiableError(
            "The derivative of svd with full_matrices=True is not unique for a non-square "
            "matrix; use full_matrices=False."
        )
    return m, n


def _svd_jvp(tangents, ans, a, full_matrices):
    m, n = _check_svd_shape(a, full_matrices)
    u, s, vt = ans
    t = tangents[0]
    v = _mT(vt)
    ds_mat = matmul(_mT(u), matmul(t, v))
    f = _pair_inverse(s * s)
    s_row = _core.expand_dims(s, -2)
    dss = ds_mat * s_row
    sds = _mT(s_row) * ds_mat
    du = matmul(u, f * (dss + _mT(dss)))
    dv = matmul(v, f * (sds + _mT(sds)))
    if m > n:
        dav = matmul(t, v)
        du = du + (dav - matmul(u, matmul(_mT(u), dav))) / s_row
    if n > m:
        datu = matmul(_mT(t), u)
        dv = dv + (datu - matmul(v, matmul(vt, datu))) / s_row
    return du, _diag_part(ds_mat), _mT(dv)


def _svd_vjp(g, ans, needs, a, full_matrices):
    m, n = _check_svd_shape(a, full_matrices)
    u, s, vt = ans
    gu, gs, gvt = g
    s_row = _core.expand_dims(s, -2)
    f = _pair_inverse(s * s)
    mid = _diag_embed(gs) if gs is not None else _np.zeros((), dtype=_eye(1, s).dtype)
    extra = None
    if gu is not None:
        j = f * matmul(_mT(u), gu)
        mid = mid + (j + _mT(j)) * s_row
        if m > n:
            extra = matmul((gu - matmul(u, matmul(_mT(u), gu))) / s_row, vt)
    if gvt is not None:
        gv = _mT(gvt)
        v = _mT(vt)
        k = f * matmul(vt, gv)
        mid = mid + _mT(s_row) * (k + _mT(k))
        if n > m:
            term = matmul(u, _mT((gv - matmul(v, matmul(vt, gv))) / s_row))
            extra = term if extra is None else extra + term
    out = matmul(u, matmul(mid, vt)) if ndim_of(mid) else None
    if extra is not None:
        out = extra if out is None else out + extra
    return [out]


svd_p.defjvp_all(_svd_jvp)
svd_p.defvjp_all(_svd_vjp)

svdvals_p = _unary("svdvals", lambda a: _np.linalg.svd(a, compute_uv=False))


def _svdvals_jvp(t, ans, a):
    u, _, vt = svd(a, full_matrices=False)
    return _core.sum(u * matmul(t, _mT(vt)), axis=-2)


def _svdvals_vjp(g, ans, a):
    u, _, vt = svd(a, full_matrices=False)
    return matmul(u * _core.expand_dims(g, -2), vt)


svdvals_p.defjvp(_svdvals_jvp)
svdvals_p.defvjp(_svdvals_vjp)


@implements(_np.linalg.svd)
def svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    """Singular value decomposition ``A = U diag(s) Vh``. Differentiable with
    ``full_matrices=False`` (or square matrices) while the singular values are
    distinct and nonzero; ``compute_uv=False`` gives the singular values, with
    ``ds_i = u_iᵀ dA v_i`` (cotangent ``U diag(ḡ) Vᵀ``)."""
    if hermitian:
        raise NotImplementedError("mlcalc.numpy.linalg.svd: hermitian=True is not supported.")
    if not compute_uv:
        return svdvals_p.bind(a)
    return SVDResult(*svd_p.bind(a, full_matrices=bool(full_matrices)))


def svdvals(x, /):
    """Singular values (descending); see :func:`svd`."""
    return svdvals_p.bind(x)


# ---------------------------------------------------------------------------------
# qr


qr_p = _unary("qr", lambda a: tuple(_np.linalg.qr(a, mode="reduced")), multiple_results=True)


def _check_qr_shape(a):
    m, n = shape_of(a)[-2:]
    if m < n:
        raise NotDifferentiableError(
            "The derivative of qr is implemented for matrices with at least as many rows "
            "as columns (m >= n)."
        )
    return n


def _qr_jvp(tangents, ans, a):
    n = _check_qr_shape(a)
    q, r = ans
    x = _mT(solve(_mT(r), _mT(tangents[0])))  # dA R⁻¹
    c = matmul(_mT(q), x)
    low = c * _tril_mask(n, -1, c)
    omega = low - _mT(low)
    return matmul(q, omega - c) + x, matmul(c - omega, r)


def _qr_vjp(g, ans, needs, a):
    n = _check_qr_shape(a)
    q, r = ans
    gq, gr = g
    b = matmul(_mT(q), gq) if gq is not None else None
    if gr is not None:
        rr = matmul(gr, _mT(r))
        b = negative(rr) if b is None else b - rr
    cbar = (b - _mT(b)) * _tril_mask(n, -1, b) - b
    xbar = matmul(q, cbar) if gq is None else gq + matmul(q, cbar)
    return [_mT(solve(r, _mT(xbar)))]


qr_p.defjvp_all(_qr_jvp)
qr_p.defvjp_all(_qr_vjp)


@implements(_np.linalg.qr)
def qr(a, mode="reduced"):
    """QR decomposition, modes ``'reduced'`` and ``'r'`` (and ``'complete'`` where it
    equals ``'reduced'``). Differentiable for ``m >= n``: with ``X = dA R⁻¹``,
    ``C = QᵀX`` and ``Ω`` the skew part built from the strict lower triangle of ``C``,
    ``dQ = Q(Ω − C) + X`` and ``dR = (C − Ω) R``."""
    m, n = shape_of(a)[-2:]
    if mode not in ("reduced", "r", "complete") or (mode == "complete" and m > n):
        if _any_traced(a):
            raise NotDifferentiableError(f"mlcalc.numpy.linalg.qr: mode={mode!r} on a traced "
                                         "value is not supported.")
        return _np.linalg.qr(a, mode=mode)
    q, r = qr_p.bind(a)
    return r if mode == "r" else QRResult(q, r)


# ---------------------------------------------------------------------------------
# pinv


def _pinv_impl(a, rcond, rtol):
    kwargs = {k: v for k, v in (("rcond", rcond), ("rtol", rtol)) if v is not None}
    return _np.linalg.pinv(a, **kwargs)


pinv_p = _unary("pinv", _pinv_impl)


def _pinv_jvp(t, ans, a, rcond, rtol):
    x, tt = ans, _mT(t)
    xxt_tt = matmul(matmul(x, _mT(x)), tt)
    tt_xtx = matmul(tt, matmul(_mT(x), x))
    return (
        negative(matmul(x, matmul(t, x)))
        + xxt_tt - matmul(matmul(xxt_tt, a), x)
        + tt_xtx - matmul(x, matmul(a, tt_xtx))
    )


def _pinv_vjp(g, ans, a, rcond, rtol):
    x, xt, gt = ans, _mT(ans), _mT(g)
    y = matmul(gt, matmul(x, xt))
    z = matmul(matmul(xt, x), gt)
    return (
        negative(matmul(xt, matmul(g, xt)))
        + y - matmul(a, matmul(x, y))
        + z - matmul(matmul(z, x), a)
    )


pinv_p.defjvp(_pinv_jvp)
pinv_p.defvjp(_pinv_vjp)


@implements(_np.linalg.pinv)
def pinv(a, rcond=None, hermitian=False, *, rtol=None):
    """Moore–Penrose pseudo-inverse; derivative of Golub & Pereyra (valid where the
    rank is locally constant): ``dA⁺ = −A⁺dA A⁺ + A⁺A⁺ᵀdAᵀ(I − AA⁺) +
    (I − A⁺A)dAᵀA⁺ᵀA⁺``."""
    if hermitian:
        raise NotImplementedError("mlcalc.numpy.linalg.pinv: hermitian=True is not supported.")
    return pinv_p.bind(a, rcond=rcond, rtol=rtol)


# ---------------------------------------------------------------------------------
# norm


def _norm2_impl(x, axis, keepdims):
    if axis is None:
        return _np.linalg.norm(x, keepdims=keepdims)
    return _np.sqrt(_np.add.reduce(x * x, axis=axis, keepdims=keepdims))


norm2_p = Primitive("norm2", _norm2_impl)


def _norm2_keep(v, x, axis, keepdims):
    """``v`` (reduced over ``axis``) with the reduced axes kept, ready to broadcast."""
    if keepdims:
        return v
    axes = range(ndim_of(x)) if axis is None else axis
    return _core.reshape(v, tuple(1 if i in axes else s for i, s in enumerate(shape_of(x))))


def _safe_norm(n):
    return _core.where(n == 0, 1.0, n)


def _norm2_jvp(t, ans, x, axis, keepdims):
    axes = tuple(range(ndim_of(x))) if axis is None else axis
    return _core.sum(x * t, axis=axes, keepdims=keepdims) / _safe_norm(ans)


def _norm2_vjp(g, ans, x, axis, keepdims):
    n = _norm2_keep(ans, x, axis, keepdims)
    return _norm2_keep(g, x, axis, keepdims) * x / _safe_norm(n)


def _norm2_batch(args, dims, axis, keepdims):
    x = move_bdim_to_front(args[0], dims[0])
    axes = tuple(range(ndim_of(x) - 1)) if axis is None else axis
    return norm2_p.bind(x, axis=tuple(i + 1 for i in axes), keepdims=keepdims), 0


norm2_p.defjvp(_norm2_jvp)
norm2_p.defvjp(_norm2_vjp)
norm2_p.defbatch(_norm2_batch)


def _extreme_weights_impl(x, axis, largest):
    m = (_np.max if largest else _np.min)(x, axis=axis, keepdims=True)
    w = (x == m).astype(x.dtype)
    return w / _np.sum(w, axis=axis, keepdims=True)


_extreme_weights_p = Primitive("extreme_weights", _extreme_weights_impl, nondiff=True)
_extreme_weights_p.defbatch(
    lambda args, dims, axis, largest: (
        _extreme_weights_p.bind(move_bdim_to_front(args[0], dims[0]), axis=axis + 1,
                                largest=largest),
        0,
    )
)


def _extreme(x, axis: int, largest: bool, keepdims: bool = False):
    """Max (or min) over one axis; ties share the derivative equally."""
    w = _extreme_weights_p.bind(x, axis=axis, largest=largest)
    return _core.sum(_core.where(w > 0, x * w, 0.0), axis=axis, keepdims=keepdims)


def _abs(x):
    """``|x|`` as ``x·sign(x)`` (derivative ``sign(x)``, 0 at 0)."""
    one = _np.ones((), dtype=dtype_of(x))
    return x * _core.where(x > 0, one, _core.where(x < 0, -one, 0 * one))


def _vector_norm(x, ord, axis: int, keepdims: bool):
    if ord is None or ord == 2:
        return norm2_p.bind(x, axis=(axis,), keepdims=keepdims)
    if isinstance(ord, str):
        raise ValueError(f"Invalid norm order '{ord}' for vectors")
    if ord == _np.inf or ord == -_np.inf:
        return _extreme(_abs(x), axis, ord > 0, keepdims)
    if ord == 0:
        return _core.sum(_core.astype(x != 0, dtype_of(x)), axis=axis, keepdims=keepdims)
    if ord == 1:
        return _core.sum(_abs(x), axis=axis, keepdims=keepdims)
    total = _core.sum(power(_abs(x), ord), axis=axis, keepdims=keepdims)
    return power(total, _np.reciprocal(_np.asarray(ord, dtype=dtype_of(total))))


def _matrix_norm(x, ord, row: int, col: int, keepdims: bool):
    if ord in (None, "fro", "f"):
        ret = norm2_p.bind(x, axis=(row, col), keepdims=False)
    elif ord in (2, -2, "nuc"):
        s = svdvals(_core.moveaxis(x, (row, col), (-2, -1)))
        ret = _core.sum(s, axis=-1) if ord == "nuc" else _extreme(s, -1 % ndim_of(s), ord == 2)
    elif ord in (1, -1):
        ret = _extreme(_core.sum(_abs(x), axis=row), col - (col > row), ord == 1)
    elif ord in (_np.inf, -_np.inf):
        ret = _extreme(_core.sum(_abs(x), axis=col), row - (row > col), ord > 0)
    else:
        raise ValueError("Invalid norm order for matrices.")
    if keepdims:
        shape = list(shape_of(x))
        shape[row] = shape[col] = 1
        ret = _core.reshape(ret, tuple(shape))
    return ret


@implements(_np.linalg.norm)
def norm(x, ord=None, axis=None, keepdims=False):
    """Vector or matrix norm, as ``numpy.linalg.norm``: vectors ``ord`` in
    {None, 2, 1, inf, -inf, 0, p}; matrices ``ord`` in {None/'fro', 'nuc', 2, -2, 1, -1,
    inf, -inf}. Built from elementwise, reduction and ``svd`` pieces; the derivative of
    the 2-norm and Frobenius norm at zero is 0, see the module notes for the others."""
    if not _any_traced(x):
        return _np.linalg.norm(x, ord=ord, axis=axis, keepdims=keepdims)
    nd = ndim_of(x)
    if axis is None:
        if ord is None or (ord in ("f", "fro") and nd == 2) or (ord == 2 and nd == 1):
            return norm2_p.bind(x, axis=None, keepdims=bool(keepdims))
        axis = tuple(range(nd))
    elif not isinstance(axis, tuple):
        axis = (axis,)
    if len(axis) == 1:
        return _vector_norm(x, ord, normalize_axis(axis[0], nd), bool(keepdims))
    if len(axis) == 2:
        row, col = (normalize_axis(a, nd) for a in axis)
        if row == col:
            raise ValueError("Duplicate axes given.")
        return _matrix_norm(x, ord, row, col, bool(keepdims))
    raise ValueError("Improper number of dimensions to norm.")


# ---------------------------------------------------------------------------------
# matrix_power, multi_dot (NumPy's own multiplication orders)


@implements(_np.linalg.matrix_power)
def matrix_power(a, n):
    """``A`` raised to the integer power ``n`` (``n < 0``: of ``A⁻¹``; ``n = 0``: the
    identity, a constant), by NumPy's binary decomposition."""
    n = int(n)
    shape = shape_of(a)
    if n == 0:
        return _np.broadcast_to(_eye(shape[-1], a), shape).copy()
    if n < 0:
        a, n = inv(a), -n
    if n == 1:
        return a
    if n == 2:
        return matmul(a, a)
    if n == 3:
        return matmul(matmul(a, a), a)
    z = result = None
    while n > 0:
        z = a if z is None else matmul(z, z)
        n, bit = divmod(n, 2)
        if bit:
            result = z if result is None else matmul(result, z)
    return result


def _chain_order(shapes):
    """NumPy's optimal parenthesisation (Cormen's matrix-chain algorithm)."""
    n = len(shapes)
    p = [s[0] for s in shapes] + [shapes[-1][1]]
    cost = _np.zeros((n, n))
    split = _np.empty((n, n), dtype=_np.intp)
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i, j] = _np.inf
            for k in range(i, j):
                q = cost[i, k] + cost[k + 1, j] + p[i] * p[k + 1] * p[j + 1]
                if q < cost[i, j]:
                    cost[i, j] = q
                    split[i, j] = k
    return split


def _chain(arrays, split, i, j):
    if i == j:
        return arrays[i]
    k = split[i, j]
    return dot(_chain(arrays, split, i, k), _chain(arrays, split, k + 1, j))


@implements(_np.linalg.multi_dot)
def multi_dot(arrays, *, out=None):
    """Product of a chain of matrices in NumPy's cost-optimal order (the first and last
    may be vectors)."""
    if out is not None:
        raise TypeError("mlcalc.numpy.linalg.multi_dot: out= is not supported.")
    arrays = list(arrays)
    if len(arrays) < 2:
        raise ValueError("Expecting at least two arrays.")
    if len(arrays) == 2:
        return dot(arrays[0], arrays[1])
    first, last = ndim_of(arrays[0]), ndim_of(arrays[-1])
    if first == 1:
        arrays[0] = _core.reshape(arrays[0], (1, -1))
    if last == 1:
        arrays[-1] = _core.reshape(arrays[-1], (-1, 1))
    shapes = [shape_of(a) for a in arrays]
    if any(len(s) != 2 for s in shapes):
        raise _np.linalg.LinAlgError("multi_dot: all arrays must be 2-dimensional")
    if len(arrays) == 3:
        (a0, a1b0), (b1c0, c1) = shapes[0], shapes[2]
        a, b, c = arrays
        if a0 * b1c0 * (a1b0 + c1) < a1b0 * c1 * (a0 + b1c0):
            result = dot(dot(a, b), c)
        else:
            result = dot(a, dot(b, c))
    else:
        result = _chain(arrays, _chain_order(shapes), 0, len(arrays) - 1)
    if first == 1 and last == 1:
        return _core.getitem(result, (0, 0))
    if first == 1 or last == 1:
        return _core.ravel(result)
    return result


implements(_np.linalg.matmul)(matmul)
implements(_np.linalg.tensordot)(tensordot)
implements(_np.linalg.outer)(outer)
implements(_np.linalg.cross)(cross)
implements(_np.linalg.svdvals)(svdvals)


def __getattr__(name):
    try:
        return getattr(_np.linalg, name)
    except AttributeError:
        raise AttributeError(f"module 'mlcalc.numpy.linalg' has no attribute {name!r}") from None
