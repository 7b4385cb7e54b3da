"""User-defined derivative rules (custom_jvp, custom_vjp) and checkpointing.

Each decorated function becomes a primitive of its own whose arguments are the leaves
of its pytree arguments. The plain function runs wherever no trace needs its rule.

- ``custom_jvp``: forward mode uses the user's rule; reverse mode transposes it with
  the engine (the rule's tangent output is linear in the tangents, so its VJP with
  respect to the tangents is exactly Jᵀ·g). Higher orders differentiate the rule.
- ``custom_vjp``: reverse mode uses the user's ``fwd``/``bwd`` pair; forward mode
  differentiates the original function (so ``hessian`` works, where JAX refuses).
- ``checkpoint``: a custom_vjp that stores only the inputs and recomputes the function
  during the backward pass.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from . import tree
from .batching import BatchTracer
from .core import OPS, Primitive, Tracer
from .forward import ForwardTracer
from .reverse import Node, ReverseTracer, zeros_like_value

__all__ = ["custom_jvp", "custom_vjp", "checkpoint"]


class _OutDef:
    """Where a call records its output structure (learned when the function runs)."""

    __slots__ = ("out_def",)

    def __init__(self):
        self.out_def = None


class _CustomBase:
    """Shared machinery: flatten the call, bind a per-function primitive."""

    def __init__(self, fun: Callable, kind: str, vmap: str = "batched"):
        if vmap not in ("batched", "loop"):
            raise ValueError(f"{kind}: vmap must be 'batched' or 'loop', got {vmap!r}")
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.vmap_method = vmap
        self.prim = Primitive(f"{kind}({getattr(fun, '__name__', 'fun')})", self._impl,
                              multiple_results=True)
        self.prim.custom = self
        self._batched_cache: dict = {}

    def _impl(self, *leaves, in_def, store):
        out = self.fun(*tree.unflatten(in_def, leaves))
        o_leaves, store.out_def = tree.flatten(out)
        return tuple(o_leaves)

    def __call__(self, *args):
        leaves, in_def = tree.flatten(args)
        if not any(isinstance(x, Tracer) for x in leaves):
            return self.fun(*args)
        store = _OutDef()
        outs = self.prim.bind(*leaves, in_def=in_def, store=store)
        return tree.unflatten(store.out_def, outs)

    def process_batch(self, trace, args, params):
        """Under vmap: bind a custom function of the same kind whose function and
        rules are the vmapped originals (so the rule keeps serving outer transforms);
        with ``vmap="loop"``, call the function once per example and stack."""
        vals, dims = trace.lower_args(args)
        in_def, store = params["in_def"], params["store"]
        if self.vmap_method == "loop":
            return self._loop_batch(trace, vals, dims, in_def, store)
        key = (in_def, tuple(dims), trace.axis_size)
        batched = self._batched_cache.get(key)
        if batched is None:
            batched = self._batched(in_def, tuple(dims), trace.axis_size)
            self._batched_cache[key] = batched
        inner = _OutDef()
        outs = batched.prim.bind(*vals, in_def=tree.structure(tuple(vals)), store=inner)
        store.out_def = inner.out_def
        return tuple(BatchTracer(trace, o, 0) for o in outs)

    def _loop_batch(self, trace, vals, dims, in_def, store):
        per_example = []
        for k in range(trace.axis_size):
            leaves = [v if d is None else OPS["_getitem"](v, (slice(None),) * d + (k,))
                      for v, d in zip(vals, dims)]
            out_leaves, store.out_def = tree.flatten(self(*tree.unflatten(in_def, leaves)))
            per_example.append(out_leaves)
        n_out = len(per_example[0]) if per_example else 0
        return tuple(BatchTracer(trace, OPS["stack"]([ex[j] for ex in per_example]), 0)
                     for j in range(n_out))

    def _flat(self, fn, in_def):
        """``fn`` as a function of the flat leaves of the original arguments."""

        def flat(*leaves):
            return fn(*tree.unflatten(in_def, leaves))

        return flat


class custom_jvp(_CustomBase):
    """Decorator giving a function its own forward-mode rule, in JAX's style::

        @mc.custom_jvp
        def f(x): ...

        @f.defjvp
        def f_jvp(primals, tangents):
            (x,), (t,) = primals, tangents
            return f(x), <tangent of the output>

    The rule must be written with differentiable operations; reverse mode and higher
    orders are derived from it.

    ``vmap``: ``"batched"`` (default) vmaps the function and its rule as they are;
    ``"loop"`` calls them once per example and stacks the results, for functions that
    cannot run on a batch (an iterative solver with data-dependent control flow):
    ``functools.partial(mc.custom_jvp, vmap="loop")`` as the decorator.
    """

    def __init__(self, fun: Callable, vmap: str = "batched"):
        super().__init__(fun, "custom_jvp", vmap)
        self.jvp_rule = None
        self.prim.defvjp_all(self._vjp_from_jvp)
        self.prim.defjvp_all(self._jvp_on_tape)

    def defjvp(self, rule: Callable) -> Callable:
        self.jvp_rule = rule
        self._batched_cache.clear()
        return rule

    def _batched(self, in_def, dims, size):
        from .vmap import vmap

        rule = self._rule()
        new = custom_jvp(vmap(self._flat(self.fun, in_def), in_axes=dims, axis_size=size))

        def flat_rule(p_leaves, t_leaves):
            return rule(tuple(tree.unflatten(in_def, p_leaves)),
                        tuple(tree.unflatten(in_def, t_leaves)))

        vrule = vmap(flat_rule, in_axes=(dims, dims), axis_size=size)
        new.defjvp(lambda primals, tangents: vrule(tuple(primals), tuple(tangents)))
        new.prim.name = f"vmap({self.prim.name})"
        return new

    def _rule(self):
        if self.jvp_rule is None:
            raise TypeError(
                f"custom_jvp function {self.prim.name} has no rule: define one with "
                "@f.defjvp."
            )
        return self.jvp_rule

    def process_forward(self, trace, args, params):
        rule = self._rule()
        in_def, store = params["in_def"], params["store"]
        primals = [trace.lower(a) for a in args]
        tangents = [
            a.tangent if isinstance(a, ForwardTracer) and a._trace is trace else None
            for a in args
        ]
        tangents = [zeros_like_value(p) if t is None else t for p, t in zip(primals, tangents)]
        out, t_out = rule(tuple(tree.unflatten(in_def, primals)),
                          tuple(tree.unflatten(in_def, tangents)))
        o_leaves, store.out_def = tree.flatten(out)
        t_leaves, t_def = tree.flatten(t_out)
        if t_def != store.out_def:
            raise TypeError(
                f"{self.prim.name}: the JVP rule's tangent output has structure {t_def}, "
                f"but its primal output has {store.out_def}."
            )
        return tuple(ForwardTracer(trace, o, t) for o, t in zip(o_leaves, t_leaves))

    def _jvp_on_tape(self, tangents, out, *vals, in_def, store):
        """The user's rule as the primitive's JVP, for forward sweeps over a recorded
        tape (``linearize``, ``jacobian(mode="auto")``)."""
        rule = self._rule()
        ts = [zeros_like_value(v) if t is None else t for t, v in zip(tangents, vals)]
        _, t_out = rule(tuple(tree.unflatten(in_def, vals)), tuple(tree.unflatten(in_def, ts)))
        return tuple(tree.leaves(t_out))

    def process_reverse(self, trace, args, params):
        vals, parents = trace.lower_args(args)
        out = self.prim.bind(*vals, **params)
        if not parents:
            return out
        return trace.record(self.prim, vals, params, out, parents)

    def _vjp_from_jvp(self, g, out, needs, *vals, in_def, store):
        from .api import vjp

        rule = self._rule()
        primals = tuple(tree.unflatten(in_def, vals))

        def tangent_map(*ts):
            return tree.leaves(rule(primals, tuple(tree.unflatten(in_def, ts)))[1])

        zero_t = [zeros_like_value(v) for v in vals]
        _, pull = vjp(tangent_map, *zero_t)
        cts = [zeros_like_value(o) if c is None else c for c, o in zip(g, out)]
        return pull(cts)


class custom_vjp(_CustomBase):
    """Decorator giving a function its own reverse-mode rule, in JAX's style::

        @mc.custom_vjp
        def f(x): ...

        def f_fwd(x):
            return f(x), residuals
        def f_bwd(residuals, g):
            return (cotangent of x,)   # one entry per positional argument

        f.defvjp(f_fwd, f_bwd)

    Forward mode (and so ``hessian``, forward-over-reverse) differentiates the original
    function. ``vmap``: as for :class:`custom_jvp` (``"loop"``: once per example).
    """

    def __init__(self, fun: Callable, vmap: str = "batched"):
        super().__init__(fun, "custom_vjp", vmap)
        self.fwd = None
        self.bwd = None
        self.prim.defvjp_all(self._vjp)
        self.prim.defjvp_all(self._jvp_on_tape)

    def defvjp(self, fwd: Callable, bwd: Callable) -> None:
        self.fwd = fwd
        self.bwd = bwd
        self._batched_cache.clear()

    def _batched(self, in_def, dims, size):
        from .vmap import vmap

        new = custom_vjp(vmap(self._flat(self.fun, in_def), in_axes=dims, axis_size=size))
        if self.fwd is None:
            return new
        vfwd = vmap(self._flat(self.fwd, in_def), in_axes=dims, axis_size=size)
        vbwd = vmap(self.bwd, in_axes=(0, 0), axis_size=size)

        def bwd(res, g):
            cts = vbwd(res, g)
            flat = []
            for c, a in zip(cts, tree.unflatten(in_def, [0] * in_def.num_leaves)):
                n = len(tree.leaves(a))
                flat.extend([None] * n if c is None else tree.leaves(c))
            out = []
            for c, d in zip(flat, dims):
                if c is None:
                    out.append(None)
                elif d is None:  # an argument shared by the batch: sum its cotangents
                    out.append(OPS["sum"](c, axis=0))
                else:
                    out.append(c if d == 0 else OPS["moveaxis"](c, 0, d))
            return tuple(out)

        new.defvjp(vfwd, bwd)
        new.prim.name = f"vmap({self.prim.name})"
        return new

    def process_forward(self, trace, args, params):
        in_def, store = params["in_def"], params["store"]
        out = self.fun(*tree.unflatten(in_def, list(args)))
        o_leaves, store.out_def = tree.flatten(out)
        return tuple(o_leaves)

    def process_reverse(self, trace, args, params):
        if self.fwd is None:
            raise TypeError(
                f"custom_vjp function {self.prim.name} has no rule: define one with "
                "f.defvjp(fwd, bwd)."
            )
        in_def, store = params["in_def"], params["store"]
        vals, parents = trace.lower_args(args)
        if not parents:
            return self.prim.bind(*vals, **params)
        result = self.fwd(*tree.unflatten(in_def, vals))
        if not (isinstance(result, tuple) and len(result) == 2):
            raise TypeError(
                f"{self.prim.name}: fwd must return a pair (output, residuals)."
            )
        out, res = result
        o_leaves, store.out_def = tree.flatten(out)
        node_params = dict(params, res=res)
        node = Node(self.prim, vals, node_params, tuple(o_leaves), tuple(parents),
                    len(trace.tape))
        trace.tape.append(node)
        return tuple(ReverseTracer(trace, o, node, k) for k, o in enumerate(o_leaves))

    def _jvp_on_tape(self, tangents, out, *vals, in_def, store, res=None):
        """Forward sweeps over a recorded tape (``linearize``, ``jacobian(mode="auto")``)
        differentiate the original function, as forward mode does."""
        from .api import jvp

        ts = [zeros_like_value(v) if t is None else t for t, v in zip(tangents, vals)]
        _, t_out = jvp(self._flat(self.fun, in_def), tuple(vals), tuple(ts))
        return tuple(tree.leaves(t_out))

    def _vjp(self, g, out, needs, *vals, in_def, store, res):
        cts_leaves = [zeros_like_value(o) if c is None else c for c, o in zip(g, out)]
        ct = tree.unflatten(store.out_def, cts_leaves)
        cts = self.bwd(res, ct)
        args = tree.unflatten(in_def, vals)
        if not isinstance(cts, (tuple, list)) or len(cts) != len(args):
            raise TypeError(
                f"{self.prim.name}: bwd must return a tuple with one cotangent per "
                f"positional argument ({len(args)}), got {type(cts).__name__}"
                + (f" of length {len(cts)}" if isinstance(cts, (tuple, list)) else "")
                + "."
            )
        flat = []
        for c, a in zip(cts, args):
            a_leaves, a_def = tree.flatten(a)
            if c is None:
                flat.extend([None] * len(a_leaves))
                continue
            c_leaves, c_def = tree.flatten(c)
            if c_def != a_def:
                raise TypeError(
                    f"{self.prim.name}: a cotangent from bwd has structure {c_def}, its "
                    f"argument {a_def}."
                )
            flat.extend(c_leaves)
        return flat


def checkpoint(fun: Callable) -> Callable[..., Any]:
    """Rematerialisation: the reverse pass stores only ``fun``'s inputs and recomputes
    ``fun`` (recording its tape) when the backward pass reaches it. Peak memory of a
    chain of checkpointed blocks is one block's residuals plus the block inputs, for
    about one extra evaluation of each block."""
    from .api import vjp

    wrapped = custom_vjp(fun)

    def fwd(*args):
        return fun(*args), args

    def bwd(args, g):
        _, pull = vjp(fun, *args)
        return pull(g)

    wrapped.defvjp(fwd, bwd)
    wrapped.prim.name = f"checkpoint({getattr(fun, '__name__', 'fun')})"
    return wrapped
