"""The public transforms: grad, value_and_grad, vjp, jvp, linearize, jacfwd, jacrev,
jacobian, hessian, hvp, stop_gradient. Signatures follow JAX's.

Arguments and results may be pytrees (see :mod:`mlcalc.tree`). Derivatives are taken
with respect to real floating-point leaves; an integer or boolean leaf in a
differentiated argument is a TypeError that names it, a complex one a
NotImplementedError.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import tree
from .core import Primitive, Tracer
from .forward import ForwardTrace, ForwardTracer
from .reverse import ReverseTrace, ReverseTracer, backward, forward_sweep, zeros_like_value

__all__ = [
    "grad",
    "value_and_grad",
    "vjp",
    "jvp",
    "linearize",
    "jacfwd",
    "jacrev",
    "jacobian",
    "hessian",
    "hvp",
    "stop_gradient",
]


# ---------------------------------------------------------------------------------
# helpers


def _fun_name(fun) -> str:
    return getattr(fun, "__name__", type(fun).__name__)


def _argnums(argnums, nargs: int, fun) -> tuple[int, ...]:
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    if not nums:
        raise ValueError("argnums is empty: say which argument(s) to differentiate.")
    for i in nums:
        if not isinstance(i, (int, np.integer)):
            raise TypeError(f"argnums must be an int or a tuple of ints, got {argnums!r}.")
        if not -nargs <= i < nargs:
            raise ValueError(
                f"argnums={argnums!r} but {_fun_name(fun)} was called with {nargs} "
                "positional argument(s)."
            )
    return tuple(int(i) % nargs for i in nums)


def _leaf_dtype(x):
    dt = getattr(x, "dtype", None)
    if dt is not None:
        return dt
    if isinstance(x, bool):
        return np.dtype(bool)
    if isinstance(x, int):
        return np.dtype(np.int64)
    if isinstance(x, float):
        return np.dtype(np.float64)
    if isinstance(x, complex):
        return np.dtype(np.complex128)
    return np.asarray(x).dtype


def _check_leaf(x, what: str, transform: str):
    dt = _leaf_dtype(x)
    if dt.kind == "f":
        return x if isinstance(x, (Tracer, np.ndarray, np.floating, float)) else np.asarray(x)
    if dt.kind == "c":
        raise NotImplementedError(
            f"{transform}: {what} is complex ({dt}); mlcalc differentiates real-valued "
            "functions of real inputs for now. Split it into real and imaginary parts."
        )
    kind = "boolean" if dt.kind == "b" else "integer"
    raise TypeError(
        f"{transform}: {what} has {kind} dtype {dt}, and a derivative needs real "
        "floating-point inputs (an integer has no infinitesimal change). Pass it as a "
        f"float array, e.g. np.asarray(x, dtype=float), or leave it out of the "
        "differentiated arguments (argnums)."
    )


def _describe_arg(i: int, path: str, fun) -> str:
    return f"argument {i}{path} of {_fun_name(fun)}"


def _flatten_args(args, nums, fun, transform):
    """Flatten the differentiated arguments; check their dtypes."""
    flat = []
    defs = []
    for i in nums:
        leaves, td = tree.flatten(args[i])
        checked = []
        for j, leaf in enumerate(leaves):
            path = "" if td.kind is None else f" (leaf {j})"
            checked.append(_check_leaf(leaf, _describe_arg(i, path, fun), transform))
        flat.append(checked)
        defs.append(td)
    return flat, defs


def _cast_like(g, x):
    """Give a cotangent/tangent the dtype of the value it belongs to (float32 stays
    float32)."""
    dt = _leaf_dtype(x)
    gdt = _leaf_dtype(g)
    if gdt == dt:
        return g
    if isinstance(g, Tracer):
        from .core import OPS

        return OPS["astype"](g, dt)
    return np.asarray(g).astype(dt)


def _split_aux(out, fun):
    if not (isinstance(out, (tuple, list)) and len(out) == 2):
        raise TypeError(
            f"has_aux=True requires {_fun_name(fun)} to return a pair (output, aux); it "
            f"returned {type(out).__name__}."
        )
    return out[0], out[1]


def _lower_tree(trace, t):
    return tree.map(trace.lower, t)


def _shape_of(x) -> tuple:
    if isinstance(x, (Tracer, np.ndarray, np.generic)):
        return x.shape
    if isinstance(x, (float, int)):
        return ()
    return np.shape(x)


def _ones_like(x):
    dt = _leaf_dtype(x)
    if dt.kind != "f":
        dt = np.dtype(np.float64)
    shape = _shape_of(x)
    return dt.type(1.0) if shape == () else np.ones(shape, dtype=dt)


# ---------------------------------------------------------------------------------
# reverse mode


def value_and_grad(fun: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False):
    """``fun``'s value and gradient, by one reverse pass.

    ``fun`` must return a real scalar. With ``has_aux`` it returns ``(scalar, aux)`` and
    the result is ``((value, aux), grad)``. The gradient has the structure of the
    argument(s) in ``argnums`` (a tuple of them when ``argnums`` is a tuple).
    Cost: about 2-4 evaluations of ``fun``; memory: every residual of the forward pass.
    """

    nums_for: dict[int, tuple[int, ...]] = {}  # argnums resolved per argument count

    @functools.wraps(fun)
    def value_and_grad_fun(*args, **kwargs):
        nums = nums_for.get(len(args))
        if nums is None:
            nums = nums_for[len(args)] = _argnums(argnums, len(args), fun)
        flat, defs = _flatten_args(args, nums, fun, "grad")
        trace = ReverseTrace()
        new_args = list(args)
        inputs = []
        for i, leaves, td in zip(nums, flat, defs):
            ts = [trace.new_input(leaf) for leaf in leaves]
            inputs.append(ts)
            new_args[i] = tree.unflatten(td, ts)
        # Read the input nodes before running fun: fun may update its inputs in place.
        in_nodes = [t.node for ts in inputs for t in ts]
        with trace:
            out = fun(*new_args, **kwargs)
        aux = None
        if has_aux:
            out, aux = _split_aux(out, fun)
            aux = _lower_tree(trace, aux)
        shape = _shape_of(out)
        if isinstance(out, (tuple, list, dict)) or shape != ():
            got = type(out).__name__ if isinstance(out, (tuple, list, dict)) else shape
            raise TypeError(
                f"grad requires {_fun_name(fun)} to return a scalar, but it returned "
                f"{got!r}. For a vector output use mc.jacrev or mc.vjp; for a loss, "
                "reduce it first (e.g. .sum() or .mean())."
            )
        value = trace.lower(out)
        if isinstance(out, ReverseTracer) and out._trace is trace and out.node is not None:
            seeds = [(out.node, out.out_index, _ones_like(value))]
        else:
            seeds = []
        cts = backward(trace, seeds, in_nodes)
        grads = []
        k = 0
        for leaves, td in zip(flat, defs):
            gl = []
            for leaf in leaves:
                c = cts[k]
                k += 1
                gl.append(zeros_like_value(leaf) if c is None else _cast_like(c, leaf))
            grads.append(tree.unflatten(td, gl))
        g = grads[0] if isinstance(argnums, int) else tuple(grads)
        if has_aux:
            return (value, aux), g
        return value, g

    return value_and_grad_fun


def grad(fun: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False):
    """The gradient of a scalar function, ∇f, by reverse mode (one backward pass).

    ``grad(f)(x)`` has the shape (and pytree structure) of ``x``. ``argnums`` picks the
    differentiated argument(s); with a tuple, a tuple of gradients is returned. With
    ``has_aux`` ``fun`` returns ``(value, aux)`` and ``grad`` returns ``(g, aux)``.
    """
    vg = value_and_grad(fun, argnums, has_aux)

    @functools.wraps(fun)
    def grad_fun(*args, **kwargs):
        if has_aux:
            (_, aux), g = vg(*args, **kwargs)
            return g, aux
        return vg(*args, **kwargs)[1]

    return grad_fun


class _Recording:
    """A function evaluated once on a reverse trace, with its tape kept: backward
    passes (VJPs) and forward sweeps (JVPs) can then be run on it any number of times."""

    def __init__(self, fun, primals, transform, has_aux=False):
        leaves, self.in_def = tree.flatten(tuple(primals))
        self.in_leaves = [
            _check_leaf(x, f"input leaf {j} of {_fun_name(fun)}", transform)
            for j, x in enumerate(leaves)
        ]
        trace = ReverseTrace()
        ts = [trace.new_input(x) for x in self.in_leaves]
        self.in_nodes = [t.node for t in ts]  # before fun, which may update its inputs
        with trace:
            out = fun(*tree.unflatten(self.in_def, ts))
        self.aux = None
        if has_aux:
            out, aux = _split_aux(out, fun)
            self.aux = _lower_tree(trace, aux)
        out_leaves, self.out_def = tree.flatten(out)
        self.trace = trace
        self.out_values = [trace.lower(o) for o in out_leaves]
        self.out_refs = [
            (o.node, o.out_index)
            if isinstance(o, ReverseTracer) and o._trace is trace and o.node is not None
            else (None, None)
            for o in out_leaves
        ]
        self.out = tree.unflatten(self.out_def, self.out_values)

    def pullback(self, ct, retain=True):
        ct_leaves, ct_def = tree.flatten(ct)
        if ct_def != self.out_def:
            raise ValueError(
                "vjp: the cotangent's structure must match the output's; output "
                f"structure {self.out_def}, cotangent structure {ct_def}."
            )
        seeds = []
        for (node, k), c, o in zip(self.out_refs, ct_leaves, self.out_values):
            if _shape_of(c) != _shape_of(o):
                raise ValueError(
                    f"vjp: cotangent shape {_shape_of(c)} does not match the output shape "
                    f"{_shape_of(o)}."
                )
            if node is not None:
                seeds.append((node, k, c))
        cts = backward(self.trace, seeds, self.in_nodes, retain=retain)
        out = [
            zeros_like_value(x) if c is None else _cast_like(c, x)
            for c, x in zip(cts, self.in_leaves)
        ]
        return tree.unflatten(self.in_def, out)

    def pushforward(self, tangents):
        t_leaves, t_def = tree.flatten(tuple(tangents))
        if t_def != self.in_def:
            raise ValueError(
                "linearize: the tangents' structure must match the primals'; primals "
                f"{self.in_def}, tangents {t_def}."
            )
        for t, x in zip(t_leaves, self.in_leaves):
            if _shape_of(t) != _shape_of(x):
                raise ValueError(
                    f"linearize: tangent shape {_shape_of(t)} does not match the primal "
                    f"shape {_shape_of(x)}."
                )
        outs = forward_sweep(self.trace, self.in_nodes, t_leaves, self.out_refs)
        res = [
            zeros_like_value(o) if t is None else _cast_like(t, o)
            for t, o in zip(outs, self.out_values)
        ]
        return tree.unflatten(self.out_def, res)


def vjp(fun: Callable, *primals, has_aux: bool = False):
    """Evaluate ``fun`` and return ``(out, vjp_fn)``: ``vjp_fn(ct)`` is ctᵀ J, the
    vector-Jacobian product, as a tuple with one entry per primal.

    The tape is kept while ``vjp_fn`` lives, so it may be called many times; each call
    costs about one to three evaluations of ``fun``.
    """
    rec = _Recording(fun, primals, "vjp", has_aux)

    def vjp_fn(ct):
        return rec.pullback(ct)

    if has_aux:
        return rec.out, vjp_fn, rec.aux
    return rec.out, vjp_fn


def linearize(fun: Callable, *primals):
    """Evaluate ``fun`` once and return ``(out, jvp_fn)`` with ``jvp_fn(*tangents)`` =
    J·t, computed by a forward sweep over the recorded tape (``fun``'s Python code is
    not run again)."""
    rec = _Recording(fun, primals, "linearize")

    def jvp_fn(*tangents):
        return rec.pushforward(tangents)

    return rec.out, jvp_fn


# ---------------------------------------------------------------------------------
# forward mode


def jvp(fun: Callable, primals: Sequence, tangents: Sequence, has_aux: bool = False):
    """Forward mode: ``(fun(*primals), J·tangents)`` in one pass.

    ``primals`` and ``tangents`` are tuples (or lists) of the same structure and shapes.
    Cost: about 2-3 evaluations of ``fun``; memory: that of one evaluation.
    """
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError(
            "jvp expects primals and tangents as tuples (or lists), e.g. "
            "jvp(f, (x,), (v,)); got "
            f"{type(primals).__name__} and {type(tangents).__name__}."
        )
    p_leaves, p_def = tree.flatten(tuple(primals))
    t_leaves, t_def = tree.flatten(tuple(tangents))
    if p_def != t_def:
        raise ValueError(
            f"jvp: primals and tangents must have the same structure; primals {p_def}, "
            f"tangents {t_def}."
        )
    trace = ForwardTrace()
    ins = []
    for j, (p, t) in enumerate(zip(p_leaves, t_leaves)):
        p = _check_leaf(p, f"primal leaf {j} of {_fun_name(fun)}", "jvp")
        if _shape_of(t) != _shape_of(p):
            raise ValueError(
                f"jvp: tangent {j} has shape {_shape_of(t)} but its primal has shape "
                f"{_shape_of(p)}; they must match."
            )
        ins.append(ForwardTracer(trace, p, _cast_like(t, p)))
    with trace:
        out = fun(*tree.unflatten(p_def, ins))
    aux = None
    if has_aux:
        out, aux = _split_aux(out, fun)
        aux = _lower_tree(trace, aux)
    o_leaves, o_def = tree.flatten(out)
    primal_out = []
    tangent_out = []
    for o in o_leaves:
        if isinstance(o, ForwardTracer) and o._trace is trace:
            primal_out.append(o.primal)
            tangent_out.append(zeros_like_value(o.primal) if o.tangent is None else o.tangent)
        else:
            primal_out.append(o)
            tangent_out.append(zeros_like_value(o))
    res = tree.unflatten(o_def, primal_out), tree.unflatten(o_def, tangent_out)
    if has_aux:
        return res[0], res[1], aux
    return res


# ---------------------------------------------------------------------------------
# Jacobians and Hessians


def _size(x) -> int:
    return math.prod(_shape_of(x))


def _float_dtype(x):
    dt = _leaf_dtype(x)
    return dt if dt.kind == "f" else np.dtype(np.float64)


def _basis_chunks(leaves, chunk_size):
    """The standard basis of the flattened leaves, in chunks of at most ``chunk_size``
    vectors: yields (start, stop, [array of shape (k,) + leaf.shape per leaf])."""
    sizes = [_size(x) for x in leaves]
    n = sum(sizes)
    step = n if not chunk_size else int(chunk_size)
    if step <= 0:
        step = max(n, 1)
    for start in range(0, n, step):
        stop = min(n, start + step)
        chunk = []
        offset = 0
        for x, size in zip(leaves, sizes):
            e = np.zeros((stop - start, size), dtype=_float_dtype(x))
            rows = np.arange(start, stop)
            hit = (rows >= offset) & (rows < offset + size)
            e[np.nonzero(hit)[0], rows[hit] - offset] = 1
            chunk.append(e.reshape((stop - start,) + tuple(_shape_of(x))))
            offset += size
        yield start, stop, chunk


def _map_basis(fn, in_def, leaves, chunk_size):
    """Apply the linear map ``fn`` (a pytree with ``in_def`` -> a pytree) to every
    basis vector at once with vmap (in chunks); returns the output leaves, each with a
    leading axis of length ``n`` (the number of basis vectors).

    Plain results are written chunk by chunk into preallocated arrays, so the peak
    memory is the result plus one chunk's work; traced results (a Jacobian being
    differentiated) are concatenated."""
    from .core import OPS
    from .vmap import vmap

    batched = vmap(lambda *leaves_: tree.leaves(fn(tree.unflatten(in_def, leaves_))))
    n = sum(_size(x) for x in leaves)
    out = None
    pieces: list = []
    for start, stop, chunk in _basis_chunks(leaves, chunk_size):
        part = batched(*chunk)
        if start == 0 and stop == n:
            return part
        plain = all(type(p) is np.ndarray for p in part)
        if start == 0 and plain:
            out = [np.empty((n,) + p.shape[1:], dtype=p.dtype) for p in part]
        if out is not None and plain:
            for o, p in zip(out, part):
                o[start:stop] = p
            continue
        if out is not None:  # a traced chunk after plain ones: concatenate from here on
            pieces = [[o[:start] for o in out]]
            out = None
        pieces.append(part)
    if out is not None:
        return out
    if not pieces:
        return None
    return [OPS["concatenate"](list(parts), axis=0) for parts in zip(*pieces)]


def _blocks(stacked, basis_leaves, other_leaves, basis_is_input):
    """Cut stacked derivative leaves into Jacobian blocks of shape out.shape + in.shape.

    ``stacked[j]`` has shape (n_basis,) + other_leaves[j].shape. Returns blocks[o][i].
    """
    from .core import OPS

    sizes = [_size(x) for x in basis_leaves]
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
    blocks = []
    if basis_is_input:  # forward mode: columns; other leaves are the outputs
        for o, y in enumerate(other_leaves):
            row = []
            for i, x in enumerate(basis_leaves):
                shape = tuple(_shape_of(y)) + tuple(_shape_of(x))
                if stacked is None or sizes[i] == 0:
                    row.append(np.zeros(shape, dtype=_float_dtype(y)))
                    continue
                part = OPS["_getitem"](stacked[o], slice(offsets[i], offsets[i + 1]))
                part = OPS["moveaxis"](part, 0, -1)
                row.append(OPS["reshape"](part, shape))
            blocks.append(row)
        return blocks
    for o, y in enumerate(basis_leaves):  # reverse mode: rows; other leaves are inputs
        row = []
        for i, x in enumerate(other_leaves):
            shape = tuple(_shape_of(y)) + tuple(_shape_of(x))
            if stacked is None or sizes[o] == 0:
                row.append(np.zeros(shape, dtype=_float_dtype(x)))
                continue
            part = OPS["_getitem"](stacked[i], slice(offsets[o], offsets[o + 1]))
            row.append(OPS["reshape"](part, shape))
        blocks.append(row)
    return blocks


def _jac_tree(blocks, out_def, in_defs, single_arg):
    """Nest blocks as out_tree of (in_tree per argnum)."""
    per_out = []
    for row in blocks:
        k = 0
        per_arg = []
        for td in in_defs:
            n = td.num_leaves
            per_arg.append(tree.unflatten(td, row[k : k + n]))
            k += n
        per_out.append(per_arg[0] if single_arg else tuple(per_arg))
    return tree.unflatten(out_def, per_out)


def _partial_fun(fun, args, nums, kwargs):
    """fun as a function of the differentiated arguments only."""

    def f(*diff_args):
        full = list(args)
        for i, a in zip(nums, diff_args):
            full[i] = a
        return fun(*full, **kwargs)

    return f


def _rev_jacobian(rec: _Recording, single_arg: bool, chunk_size):
    """All rows of the Jacobian: one batched backward pass over the output basis."""
    stacked = _map_basis(lambda ct: rec.pullback(ct), rec.out_def, rec.out_values, chunk_size)
    blocks = _blocks(stacked, rec.out_values, rec.in_leaves, basis_is_input=False)
    return _jac_tree(blocks, rec.out_def, list(rec.in_def.children), single_arg)


def _fwd_jacobian(rec: _Recording, single_arg: bool, chunk_size):
    """All columns of the Jacobian: one batched forward sweep over the input basis."""
    stacked = _map_basis(
        lambda t: rec.pushforward(tuple(t)), rec.in_def, rec.in_leaves, chunk_size
    )
    blocks = _blocks(stacked, rec.in_leaves, rec.out_values, basis_is_input=True)
    return _jac_tree(blocks, rec.out_def, list(rec.in_def.children), single_arg)


def jacrev(
    fun: Callable,
    argnums: int | Sequence[int] = 0,
    has_aux: bool = False,
    *,
    chunk_size: int | None = None,
):
    """The Jacobian by reverse mode: VJPs with every output basis vector, batched into
    one backward pass by vmap (``chunk_size`` basis vectors at a time, to bound memory).

    Cost O(m · cost f) for m outputs; best when outputs are fewer than inputs.
    Result shape ``out.shape + in.shape`` (pytrees: output structure of input structure).
    """

    @functools.wraps(fun)
    def jacrev_fun(*args, **kwargs):
        nums = _argnums(argnums, len(args), fun)
        f = _partial_fun(fun, args, nums, kwargs)
        rec = _Recording(f, [args[i] for i in nums], "jacrev", has_aux)
        jac = _rev_jacobian(rec, isinstance(argnums, int), chunk_size)
        return (jac, rec.aux) if has_aux else jac

    return jacrev_fun


def jacfwd(
    fun: Callable,
    argnums: int | Sequence[int] = 0,
    has_aux: bool = False,
    *,
    chunk_size: int | None = None,
):
    """The Jacobian by forward mode: JVPs with every input basis vector, batched into
    one forward pass by vmap (``chunk_size`` basis vectors at a time).

    Cost O(n · cost f) for n inputs; best when inputs are fewer than outputs.
    Result shape ``out.shape + in.shape``.
    """

    @functools.wraps(fun)
    def jacfwd_fun(*args, **kwargs):
        nums = _argnums(argnums, len(args), fun)
        f = _partial_fun(fun, args, nums, kwargs)
        primals = tuple(args[i] for i in nums)
        p_leaves, p_def = tree.flatten(primals)
        p_leaves = [
            _check_leaf(p, f"input leaf {j} of {_fun_name(fun)}", "jacfwd")
            for j, p in enumerate(p_leaves)
        ]
        primals = tree.unflatten(p_def, p_leaves)
        seen = {}

        def push(t):
            res = jvp(f, primals, tuple(t), has_aux=has_aux)
            seen["out"] = res[0]  # the primal output does not vary over the basis
            if has_aux:
                seen["aux"] = res[2]
            return res[1]

        stacked = _map_basis(push, p_def, p_leaves, chunk_size)
        if "out" not in seen:  # no input components: evaluate once for the structure
            out = f(*primals)
            seen["out"], seen["aux"] = _split_aux(out, fun) if has_aux else (out, None)
        o_leaves, o_def = tree.flatten(seen["out"])
        aux = seen.get("aux")
        blocks = _blocks(stacked, p_leaves, o_leaves, basis_is_input=True)
        jac = _jac_tree(blocks, o_def, list(p_def.children), isinstance(argnums, int))
        return (jac, aux) if has_aux else jac

    return jacfwd_fun


def jacobian(
    fun: Callable,
    argnums: int | Sequence[int] = 0,
    mode: str = "auto",
    has_aux: bool = False,
    *,
    chunk_size: int | None = None,
):
    """The Jacobian ∂f/∂x, shape ``out.shape + in.shape``.

    ``mode="forward"`` costs O(n · cost f) (one JVP per input), ``mode="reverse"``
    O(m · cost f) (one VJP per output); ``"auto"`` records ``fun`` once and then
    takes a batched forward sweep when inputs are fewer than outputs (n < m), a batched
    backward pass otherwise, on the same tape. ``chunk_size`` bounds how many basis
    vectors are pushed through at once (memory).
    """
    if mode not in ("auto", "forward", "reverse"):
        raise ValueError(f"jacobian: mode must be 'auto', 'forward' or 'reverse', not {mode!r}.")
    if mode == "forward":
        return jacfwd(fun, argnums, has_aux, chunk_size=chunk_size)
    if mode == "reverse":
        return jacrev(fun, argnums, has_aux, chunk_size=chunk_size)

    @functools.wraps(fun)
    def jacobian_fun(*args, **kwargs):
        nums = _argnums(argnums, len(args), fun)
        f = _partial_fun(fun, args, nums, kwargs)
        rec = _Recording(f, [args[i] for i in nums], "jacobian", has_aux)
        n = sum(_size(x) for x in rec.in_leaves)
        m = sum(_size(y) for y in rec.out_values)
        single = isinstance(argnums, int)
        if n < m:
            jac = _fwd_jacobian(rec, single, chunk_size)
        else:
            jac = _rev_jacobian(rec, single, chunk_size)
        return (jac, rec.aux) if has_aux else jac

    return jacobian_fun


def hessian(
    fun: Callable,
    argnums: int | Sequence[int] = 0,
    has_aux: bool = False,
    *,
    chunk_size: int | None = None,
):
    """The Hessian ∇²f of a scalar function, forward-over-reverse: jacfwd of grad, so
    all n Hessian-vector products run as one batched pass (vmap over the n basis
    tangents; ``chunk_size`` at a time to bound memory).

    Shape ``in.shape + in.shape``. Cost ≈ 4 evaluations of ``fun`` on an n-batch.
    """
    return jacfwd(grad(fun, argnums, has_aux=has_aux), argnums, has_aux=has_aux,
                  chunk_size=chunk_size)


def hvp(fun: Callable, primals: Sequence, tangents: Sequence):
    """The Hessian-vector product ∇²f(x)·v in one forward-over-reverse pass
    (``jvp(grad(fun), primals, tangents)[1]``); the Hessian is never formed.

    As in JAX's recipe the gradient is taken with respect to the first primal; the
    result has its structure. Cost ≈ 4 evaluations of ``fun``.
    """
    return jvp(grad(fun), tuple(primals), tuple(tangents))[1]


# ---------------------------------------------------------------------------------
# stop_gradient

stop_gradient_p = Primitive("stop_gradient", lambda x: x, nondiff=True)


def _stop_gradient_batch(args, dims):
    return args[0], dims[0]


stop_gradient_p.defbatch(_stop_gradient_batch)


def stop_gradient(x: Any) -> Any:
    """The identity, with a zero derivative: ``x`` is treated as a constant by every
    transform. Works leafwise on pytrees."""
    return tree.map(lambda leaf: stop_gradient_p.bind(leaf), x)
