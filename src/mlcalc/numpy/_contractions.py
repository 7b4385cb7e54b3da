"""Contractions: matmul, dot, vdot, inner, outer, tensordot, einsum, kron, cross.

``matmul``, ``dot`` and ``einsum`` are primitives (their values come from NumPy's own
routines, bit for bit); the others are composed from them and from the structural and
elementwise primitives exactly as NumPy composes them, so their values match NumPy's
and their derivatives come for free.

Rules, with ``C = A @ B`` and cotangent ``G``: ``Ā = G Bᵀ``, ``B̄ = Aᵀ G`` (summed over
broadcast batch axes); ``einsum`` is linear in each operand, so the cotangent of an
operand is another ``einsum`` of the cotangent with the other operands.
"""

from __future__ import annotations

import math
import string

import numpy as np

from . import _core
from ._base import (
    Primitive,
    implements,
    move_bdim_to_front,
    ndim_of,
    normalize_axis,
    register_op,
    register_ufunc,
    shape_of,
    unbroadcast,
)
from ._elementwise import multiply, negative, subtract

__all__ = [
    "matmul",
    "dot",
    "vdot",
    "inner",
    "outer",
    "tensordot",
    "einsum",
    "kron",
    "cross",
]

_LABELS = string.ascii_uppercase + string.ascii_lowercase


def _mT(x):
    return _core.swapaxes(x, -1, -2)


# ---------------------------------------------------------------------------------
# matmul

matmul_p = Primitive("matmul", np.matmul)


def _matmul_vjp_a(g, ans, a, b):
    na, nb = ndim_of(a), ndim_of(b)
    if nb == 1:
        return multiply(g, b) if na == 1 else multiply(_core.expand_dims(g, -1), b)
    if na == 1:
        ga = matmul_p.bind(b, _core.expand_dims(g, -1))  # (..., k, 1)
        return _core.sum(ga, axis=tuple(range(nb - 2)) + (nb - 1,))
    return unbroadcast(matmul_p.bind(g, _mT(b)), shape_of(a))


def _matmul_vjp_b(g, ans, a, b):
    na, nb = ndim_of(a), ndim_of(b)
    if na == 1:
        return multiply(g, a) if nb == 1 else multiply(
            _core.expand_dims(a, -1), _core.expand_dims(g, -2)
        )
    if nb == 1:
        k = shape_of(a)[-1]
        return matmul_p.bind(_core.reshape(g, (-1,)), _core.reshape(a, (-1, k)))
    if nb == 2 and na > 2:
        # One GEMM over all batch rows rather than a batched product and a sum.
        k, n = shape_of(b)
        return matmul_p.bind(_mT(_core.reshape(a, (-1, k))), _core.reshape(g, (-1, n)))
    return unbroadcast(matmul_p.bind(_mT(a), g), shape_of(b))


matmul_p.defjvp(
    lambda t, ans, a, b: matmul_p.bind(t, b),
    lambda t, ans, a, b: matmul_p.bind(a, t),
)
matmul_p.defvjp(_matmul_vjp_a, _matmul_vjp_b)


def _pad_batched(x, rank, out_rank):
    """Insert unit axes after the leading batch axis so ``x`` (logical rank ``rank``)
    broadcasts against operands with ``out_rank`` matrix-batch axes."""
    s = shape_of(x)
    pad = out_rank - (rank - 2)
    return x if pad == 0 else _core.reshape(x, s[:1] + (1,) * pad + s[1:])


def _matmul_batch(args, dims):
    (a, b), (da, db) = args, dims
    a, b = move_bdim_to_front(a, da), move_bdim_to_front(b, db)
    ra, rb = ndim_of(a) - (da is not None), ndim_of(b) - (db is not None)
    if db is None and rb <= 2:
        # (B, ..., k) @ b: the batch axis is one more leading (or row) axis of a.
        return matmul_p.bind(a, b), 0
    if da is None and ra == 2 and rb == 1:
        # a @ v for a batch of vectors: one matrix product V @ aᵀ, rows = examples.
        return matmul_p.bind(b, _core.swapaxes(a, -1, -2)), 0
    if da is None and ra == 2 and rb == 2:
        # a @ B_i for a batch of matrices: one product a @ [B_1 … B_n] (columns side by
        # side), the batch axis ending up in the middle.
        size, k, n = shape_of(b)
        wide = _core.reshape(_core.transpose(b, (1, 0, 2)), (k, size * n))
        out = matmul_p.bind(a, wide)
        return _core.reshape(out, (shape_of(a)[0], size, n)), 1
    if ra == 1:
        a = _core.expand_dims(a, -2)
    if rb == 1:
        b = _core.expand_dims(b, -1)
    out_rank = max(ra, rb, 2) - 2
    if da is not None:
        a = _pad_batched(a, max(ra, 2), out_rank)
    if db is not None:
        b = _pad_batched(b, max(rb, 2), out_rank)
    out = matmul_p.bind(a, b)
    squeeze = ((-2,) if ra == 1 else ()) + ((-1,) if rb == 1 else ())
    if squeeze:
        out = _core.squeeze(out, axis=tuple(ndim_of(out) + i for i in squeeze))
    return out, 0


matmul_p.defbatch(_matmul_batch)


def matmul(x1, x2, /, **kwargs):
    """Matrix product with NumPy's ``matmul`` semantics: 1-D operands are promoted to a
    row (first) or column (second) vector and the promoted axis removed afterwards;
    leading axes broadcast as a stack of matrices."""
    if kwargs.get("axes") is not None or kwargs.get("axis") is not None:
        raise NotImplementedError("mlcalc.numpy.matmul: axes= is not supported.")
    if ndim_of(x1) == 0 or ndim_of(x2) == 0:
        raise ValueError("matmul: Input operand does not have enough dimensions")
    return matmul_p.bind(x1, x2)


register_ufunc(np.matmul, matmul)
register_op("matmul", matmul)


# ---------------------------------------------------------------------------------
# dot (operands of rank >= 1; scalars multiply)

dot_p = Primitive("dot", np.dot)


def _dot_vjp_a(g, ans, a, b):
    na, nb = ndim_of(a), ndim_of(b)
    if nb == 1:
        return multiply(_core.expand_dims(g, -1), b)
    g_axes = tuple(range(na - 1, na + nb - 2))
    return tensordot(g, b, axes=(g_axes, tuple(range(nb - 2)) + (nb - 1,)))


def _dot_vjp_b(g, ans, a, b):
    na, nb = ndim_of(a), ndim_of(b)
    lead = tuple(range(na - 1))
    t = tensordot(a, g, axes=(lead, lead))
    return t if nb == 1 else _core.moveaxis(t, 0, nb - 2)


dot_p.defjvp(lambda t, ans, a, b: dot_p.bind(t, b), lambda t, ans, a, b: dot_p.bind(a, t))
dot_p.defvjp(_dot_vjp_a, _dot_vjp_b)


def _dot_batch(args, dims):
    (a, b), (da, db) = args, dims
    if db is None:
        return dot_p.bind(move_bdim_to_front(a, da), b), 0
    na = ndim_of(a) - (da is not None)
    nb = ndim_of(b) - 1
    if da is None:
        b = _core.moveaxis(b, db, -1) if nb == 1 else move_bdim_to_front(b, db)
        return dot_p.bind(a, b), na - 1
    # Both batched: an einsum with the batch label in front.
    la, lb = _LABELS[1 : na + 1], _LABELS[na + 1 : na + nb + 1]
    lb = lb[:-1] + la[-1] if nb == 1 else lb[:-2] + la[-1] + lb[-1]
    out = la[:-1] + (lb[:-2] + lb[-1] if nb > 1 else "")
    subs = f"A{la},A{lb}->A{out}"
    return einsum_p.bind(move_bdim_to_front(a, da), move_bdim_to_front(b, db),
                         subscripts=subs, optimize=False), 0


dot_p.defbatch(_dot_batch)


@implements(np.dot)
def dot(a, b, out=None):
    """Dot product with NumPy's semantics: scalars multiply; otherwise the last axis of
    ``a`` is contracted with the second-to-last axis of ``b`` (its only axis if 1-D)."""
    if out is not None:
        raise TypeError("mlcalc.numpy.dot: out= is not supported on traced values.")
    if ndim_of(a) == 0 or ndim_of(b) == 0:
        return multiply(a, b)
    return dot_p.bind(a, b)


register_op("dot", dot)


@implements(np.vdot)
def vdot(a, b, /):
    """Dot product of the flattened arrays (real inputs: no conjugation)."""
    return dot_p.bind(_core.ravel(a), _core.ravel(b))


@implements(np.inner)
def inner(a, b, /):
    """Inner product over the last axes: ``a[..., k] b[..., k]`` summed over ``k``."""
    if ndim_of(a) == 0 or ndim_of(b) == 0:
        return multiply(a, b)
    if ndim_of(b) >= 2:
        b = _mT(b)
    return dot_p.bind(a, b)


@implements(np.outer)
def outer(a, b, out=None):
    """Outer product of the flattened arrays: ``a[i] b[j]``."""
    if out is not None:
        raise TypeError("mlcalc.numpy.outer: out= is not supported on traced values.")
    return multiply(_core.reshape(_core.ravel(a), (-1, 1)), _core.reshape(_core.ravel(b), (1, -1)))


# ---------------------------------------------------------------------------------
# tensordot (NumPy's own composition: transpose, reshape, 2-D dot)


def _as_axis_list(axes) -> list[int]:
    if isinstance(axes, (int, np.integer)):
        return [int(axes)]
    return [int(i) for i in axes]


@implements(np.tensordot)
def tensordot(a, b, axes=2):
    """Sum of products over the given axes: ``axes=n`` contracts the last ``n`` axes
    of ``a`` with the first ``n`` of ``b``; ``axes=(axes_a, axes_b)`` names them."""
    if isinstance(axes, (int, np.integer)):
        axes_a, axes_b = list(range(-int(axes), 0)), list(range(int(axes)))
    else:
        axes_a, axes_b = _as_axis_list(axes[0]), _as_axis_list(axes[1])
    sa, sb = shape_of(a), shape_of(b)
    if len(axes_a) != len(axes_b) or any(sa[i] != sb[j] for i, j in zip(axes_a, axes_b)):
        raise ValueError("shape-mismatch for sum")
    axes_a = [normalize_axis(i, len(sa)) for i in axes_a]
    axes_b = [normalize_axis(i, len(sb)) for i in axes_b]
    free_a = [i for i in range(len(sa)) if i not in axes_a]
    free_b = [i for i in range(len(sb)) if i not in axes_b]
    n_sum = math.prod(sa[i] for i in axes_a)
    at = _core.reshape(_core.transpose(a, free_a + axes_a),
                       (math.prod(sa[i] for i in free_a), n_sum))
    bt = _core.reshape(_core.transpose(b, axes_b + free_b),
                       (n_sum, math.prod(sb[i] for i in free_b)))
    res = dot_p.bind(at, bt)
    return _core.reshape(res, tuple(sa[i] for i in free_a) + tuple(sb[i] for i in free_b))


# ---------------------------------------------------------------------------------
# einsum


def _einsum_impl(*operands, subscripts, optimize):
    return np.einsum(subscripts, *operands, optimize=optimize)


einsum_p = Primitive("einsum", _einsum_impl)


def _split(subscripts: str) -> tuple[list[str], str]:
    ins, out = subscripts.split("->")
    return ins.split(","), out


def _label_sizes(terms, operands) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for term, op in zip(terms, operands):
        for label, n in zip(term, shape_of(op)):
            sizes[label] = max(sizes.get(label, 1), n)
    return sizes


def _derived_optimize(optimize):
    """An optimize setting valid for a different list of operands."""
    return optimize if isinstance(optimize, (bool, str)) else "greedy"


def _einsum_jvp(tangents, ans, *operands, subscripts, optimize):
    out = None
    for k, t in enumerate(tangents):
        if t is None:
            continue
        ops = operands[:k] + (t,) + operands[k + 1 :]
        term = einsum_p.bind(*ops, subscripts=subscripts, optimize=optimize)
        out = term if out is None else out + term
    return out


def _einsum_cotangent(g, k, operands, subscripts, optimize):
    ins, out = _split(subscripts)
    sizes = _label_sizes(ins, operands)
    target = ins[k]
    unique = "".join(dict.fromkeys(target))
    terms = [out] + [t for j, t in enumerate(ins) if j != k]
    ops = [g] + [op for j, op in enumerate(operands) if j != k]
    present = set("".join(terms))
    for label in unique:  # labels only operand k has: the cotangent is constant along them
        if label not in present:
            terms.append(label)
            ops.append(np.ones(sizes[label], dtype=_float_dtype(g)))
    free = [c for c in _LABELS if c not in "".join(ins) + out]
    result_labels = ""
    seen: set[str] = set()
    for label in target:  # repeated labels: embed on the diagonal with delta tensors
        if label in seen:
            fresh = free.pop()
            terms.append(label + fresh)
            ops.append(np.eye(sizes[label], dtype=_float_dtype(g)))
            result_labels += fresh
        else:
            seen.add(label)
            result_labels += label
    opt = _derived_optimize(optimize)
    ct = einsum_p.bind(*ops, subscripts=",".join(terms) + "->" + result_labels, optimize=opt)
    return _sum_broadcast_axes(ct, shape_of(operands[k]))


def _float_dtype(x):
    dt = np.result_type(x.dtype if hasattr(x, "dtype") else x)
    return dt if dt.kind == "f" else np.float64


def _sum_broadcast_axes(ct, shape):
    """Sum over axes of size 1 in the operand that the einsum broadcast."""
    axes = tuple(i for i, (c, s) in enumerate(zip(shape_of(ct), shape)) if s == 1 and c != 1)
    return _core.sum(ct, axis=axes, keepdims=True) if axes else ct


def _einsum_vjp(g, ans, needs, *operands, subscripts, optimize):
    return [
        _einsum_cotangent(g, k, operands, subscripts, optimize) if need else None
        for k, need in enumerate(needs)
    ]


def _einsum_batch(args, dims, subscripts, optimize):
    ins, out = _split(subscripts)
    label = next(c for c in _LABELS if c not in subscripts)
    ops = [move_bdim_to_front(a, d) for a, d in zip(args, dims)]
    terms = [t if d is None else label + t for t, d in zip(ins, dims)]
    subs = ",".join(terms) + "->" + label + out
    return einsum_p.bind(*ops, subscripts=subs, optimize=optimize), 0


einsum_p.defjvp_all(_einsum_jvp)
einsum_p.defvjp_all(_einsum_vjp)
einsum_p.defbatch(_einsum_batch)


def _sublist_to_str(sub) -> str:
    return "".join("..." if s is Ellipsis else _LABELS[int(s)] for s in sub)


def _from_operand_lists(args):
    """``einsum(op0, sub0, op1, sub1, ..., [out])`` -> a subscripts string and operands."""
    args = list(args)
    out = _sublist_to_str(args.pop()) if len(args) % 2 else None
    operands, terms = args[0::2], [_sublist_to_str(s) for s in args[1::2]]
    subs = ",".join(terms) + ("" if out is None else "->" + out)
    return subs, operands


def _normalize_subscripts(subscripts: str, operands) -> str:
    """The explicit form ``'ab,bc->ac'`` of an einsum specification: ``'->'`` added
    (implicit output: labels used once, in order, after any broadcast axes) and every
    ``'...'`` expanded into explicit labels (right-aligned across operands)."""
    subscripts = subscripts.replace(" ", "")
    ins, _, out = subscripts.partition("->")
    explicit = "->" in subscripts
    terms = ins.split(",")
    if len(terms) != len(operands):
        raise ValueError("more operands provided to einstein sum function than specified")
    free = [c for c in _LABELS if c not in subscripts]
    n_ell = [ndim_of(op) - (len(t) - 3) if "..." in t else 0 for t, op in zip(terms, operands)]
    ell = "".join(free[: max(n_ell, default=0)])
    new_terms = []
    for t, n in zip(terms, n_ell):
        new_terms.append(t.replace("...", ell[len(ell) - n :] if n else ""))
    if explicit:
        if ell and "..." not in out:
            raise ValueError(
                "output has more dimensions than subscripts given in einstein sum, but no "
                "'...' ellipsis provided to broadcast the extra dimensions."
            )
        out = out.replace("...", ell)
    else:
        letters = "".join(terms).replace(".", "")
        out = ell + "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    return ",".join(new_terms) + "->" + out


@implements(np.einsum)
def einsum(*operands, out=None, optimize=False, dtype=None, order="K", casting="safe"):
    """Einstein summation (as ``numpy.einsum``; subscripts string or operand-list form).
    ``optimize`` is passed to NumPy for the values; derivatives are einsums too."""
    if out is not None:
        raise TypeError("mlcalc.numpy.einsum: out= is not supported on traced values.")
    if isinstance(operands[0], str):
        subscripts, ops = operands[0], list(operands[1:])
    else:
        subscripts, ops = _from_operand_lists(operands)
    subs = _normalize_subscripts(subscripts, ops)
    result = einsum_p.bind(*ops, subscripts=subs, optimize=optimize)
    return result if dtype is None else _core.astype(result, dtype)


# ---------------------------------------------------------------------------------
# kron and cross (NumPy's compositions)


@implements(np.kron)
def kron(a, b):
    """Kronecker product: blocks ``a[i, j] * b`` (any ranks, as ``numpy.kron``)."""
    nda, ndb = ndim_of(a), ndim_of(b)
    if nda == 0 or ndb == 0:
        return multiply(a, b)
    nd = max(nda, ndb)
    sa = (1,) * max(0, ndb - nda) + shape_of(a)
    sb = (1,) * max(0, nda - ndb) + shape_of(b)
    a_arr = _core.reshape(a, sa)
    b_arr = _core.reshape(b, sb)
    a_arr = _core.expand_dims(a_arr, tuple(range(1, nd * 2, 2)))
    b_arr = _core.expand_dims(b_arr, tuple(range(0, nd * 2, 2)))
    return _core.reshape(multiply(a_arr, b_arr), tuple(int(x) * int(y) for x, y in zip(sa, sb)))


@implements(np.cross)
def cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """Cross product of 3-vectors (or 2-vectors, whose missing component is 0; two
    2-vectors give the scalar z-component) along the given axes."""
    if axis is not None:
        axisa = axisb = axisc = axis
    if ndim_of(a) < 1 or ndim_of(b) < 1:
        raise ValueError("At least one array has zero dimension")
    a = _core.moveaxis(a, normalize_axis(axisa, ndim_of(a)), -1)
    b = _core.moveaxis(b, normalize_axis(axisb, ndim_of(b)), -1)
    na, nb = shape_of(a)[-1], shape_of(b)[-1]
    if na not in (2, 3) or nb not in (2, 3):
        raise ValueError("incompatible dimensions for cross product\n(dimension must be 2 or 3)")
    a_ = [_core.getitem(a, (Ellipsis, i)) for i in range(na)]
    b_ = [_core.getitem(b, (Ellipsis, i)) for i in range(nb)]
    z = subtract(multiply(a_[0], b_[1]), multiply(a_[1], b_[0]))
    if na == 2 and nb == 2:
        return z
    if na == 2:
        x, y = multiply(a_[1], b_[2]), negative(multiply(a_[0], b_[2]))
    elif nb == 2:
        x, y = negative(multiply(a_[2], b_[1])), multiply(a_[2], b_[0])
    else:
        x = subtract(multiply(a_[1], b_[2]), multiply(a_[2], b_[1]))
        y = subtract(multiply(a_[2], b_[0]), multiply(a_[0], b_[2]))
    shape = np.broadcast_shapes(shape_of(x), shape_of(y), shape_of(z))
    cp = _core.stack([_core.broadcast_to(c, shape) for c in (x, y, z)], axis=-1)
    return _core.moveaxis(cp, -1, normalize_axis(axisc, len(shape) + 1))
