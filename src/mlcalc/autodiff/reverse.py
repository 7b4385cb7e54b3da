"""Reverse mode: a trace that records a tape, and the backward pass over it.

Every primitive applied to a traced value appends one :class:`Node` to its trace's
tape. Creation order is a topological order, so the backward pass walks the tape from
the output back to the inputs, calling each primitive's VJP rule once and releasing the
node's residuals as soon as they are used (unless the tape is kept for another pass).
"""

from __future__ import annotations

import numpy as np

from .core import NotDifferentiableError, Primitive, Trace, Tracer

__all__ = ["ReverseTrace", "ReverseTracer", "Node", "backward", "forward_sweep"]

_new = object.__new__


class Node:
    """One recorded primitive application: residuals for its VJP rule."""

    __slots__ = ("prim", "args", "params", "out", "parents", "index")

    def __init__(self, prim, args, params, out, parents, index):
        self.prim = prim
        self.args = args
        self.params = params
        self.out = out
        self.parents = parents  # tuple of (argument position, parent node, output index)
        self.index = index


class ReverseTracer(Tracer):
    """A value recorded on a reverse trace's tape: output ``out_index`` of ``node``
    (``None`` for a single-output node)."""

    __slots__ = ("value", "node", "out_index")
    _state_slots = ("_trace", "value", "node", "out_index")

    def __init__(self, trace, value, node, out_index=None):
        self._trace = trace
        self.value = value
        self.node = node
        self.out_index = out_index

    def _primal(self):
        return self.value


class ReverseTrace(Trace):
    """Records primitive applications on a tape for the backward pass."""

    __slots__ = ("tape",)

    def __init__(self):
        super().__init__()
        self.tape = []

    def new_input(self, value) -> ReverseTracer:
        node = Node(None, None, None, value, (), len(self.tape))
        self.tape.append(node)
        return ReverseTracer(self, value, node)

    def constant(self, value) -> ReverseTracer:
        return ReverseTracer(self, value, None)

    def lower(self, x):
        if isinstance(x, ReverseTracer) and x._trace is self:
            return x.value
        return x

    def process(self, prim: Primitive, args, params):
        # The hot path of reverse mode: one pass over the arguments, NumPy called
        # directly when nothing below this level is traced, the node built inline.
        if prim.custom is not None:
            return prim.custom.process_reverse(self, args, params)
        vals = []
        parents = []
        deeper = False
        i = 0
        for a in args:
            if isinstance(a, Tracer):
                if a._trace is self:
                    v = a.value
                    node = a.node
                    if node is not None:
                        parents.append((i, node, a.out_index))
                    if isinstance(v, Tracer):
                        deeper = True
                    vals.append(v)
                else:
                    deeper = True
                    vals.append(a)
            else:
                vals.append(a)
            i += 1
        if deeper:
            out = prim.bind(*vals, **params)
        else:
            out = prim.impl(*vals, **params) if params else prim.impl(*vals)
        if not parents or prim.nondiff:
            return out
        if prim.multiple_results:
            return self.record(prim, vals, params, out, parents)
        try:
            if out.dtype.kind != "f":
                return out  # integer or boolean results carry no derivative
        except AttributeError:
            if not isinstance(out, float):
                return out
        if prim.vjp is None and prim.vjp_all is None:
            _no_vjp(prim)
        tape = self.tape
        # Slot stores on fresh objects: cheaper than two __init__ calls on this path.
        node = _new(Node)
        node.prim = prim
        node.args = vals
        node.params = params
        node.out = out
        node.parents = parents
        node.index = len(tape)
        tape.append(node)
        tracer = _new(ReverseTracer)
        tracer._trace = self
        tracer.value = out
        tracer.node = node
        tracer.out_index = None
        return tracer

    def lower_args(self, args):
        """Values one level down, and the (position, node, output index) of each
        argument recorded on this tape."""
        vals = []
        parents = []
        for i, a in enumerate(args):
            if isinstance(a, ReverseTracer) and a._trace is self:
                vals.append(a.value)
                if a.node is not None:
                    parents.append((i, a.node, a.out_index))
            else:
                vals.append(a)
        return vals, parents

    def record(self, prim, vals, params, out, parents):
        """Append a node for ``prim`` applied to ``vals`` and wrap its output(s)."""
        if prim.vjp is None and prim.vjp_all is None:
            _no_vjp(prim)
        node = Node(prim, vals, params, out, parents, len(self.tape))
        self.tape.append(node)
        if prim.multiple_results:
            return tuple(
                ReverseTracer(self, o, node, k) if _is_float(o) else o for k, o in enumerate(out)
            )
        if not _is_float(out):
            self.tape.pop()
            return out
        return ReverseTracer(self, out, node)


def _no_vjp(prim):
    raise NotDifferentiableError(
        f"{prim.name} has no reverse-mode (VJP) rule; it cannot be differentiated in "
        "reverse mode."
    )


def _is_float(x) -> bool:
    dt = getattr(x, "dtype", None)
    if dt is None:
        return isinstance(x, float)
    return dt.kind == "f" or dt.kind == "c"


def _accumulate(a, b):
    if a is None:
        return b
    if b is None:
        return a
    return a + b


def backward(trace: ReverseTrace, seeds, wanted, *, retain: bool = False):
    """Run the backward pass.

    ``seeds`` is a list of ``(node, out_index, cotangent)``; ``wanted`` a list of input
    nodes. Returns the cotangent of each wanted node (``None`` where zero). With
    ``retain=False`` each node's residuals are released as soon as its rule has run.
    """
    tape = trace.tape
    if not seeds:
        return [None] * len(wanted)
    cts: dict[int, object] = {}
    start = -1
    for node, k, g in seeds:
        if k is not None:
            slot = cts.get(node.index)
            if slot is None:
                slot = [None] * len(node.out)
                cts[node.index] = slot
            slot[k] = _accumulate(slot[k], g)
        else:
            cts[node.index] = _accumulate(cts.get(node.index), g)
        start = max(start, node.index)
    stop = min([n.index for n in wanted]) if wanted else 0
    pop = cts.pop
    for i in range(start, stop - 1, -1):
        g = pop(i, None)
        if g is None:
            continue
        node = tape[i]
        prim = node.prim
        if prim is None:  # an input: its cotangent is a result
            cts[i] = g
            continue
        rules = prim.vjp
        if rules is not None and not prim.multiple_results:
            # The common case, inline: per-argument rules, single output.
            args = node.args
            params = node.params
            out = node.out
            for pos, parent, k in node.parents:
                rule = rules[pos]
                if rule is None:
                    _not_differentiable_in(prim, pos)
                c = rule(g, out, *args, **params) if params else rule(g, out, *args)
                if c is None:
                    continue
                if k is not None:  # one output of a multiple-results node
                    _store(cts, parent, k, c)
                    continue
                idx = parent.index
                prev = cts.get(idx)
                cts[idx] = c if prev is None else prev + c
        else:
            _apply_vjp(node, g, cts)
        if not retain:
            node.args = None
            tape[i] = None
    return [cts.get(n.index) for n in wanted]


def _not_differentiable_in(prim, pos):
    raise NotDifferentiableError(
        f"{prim.name} is not differentiable with respect to its argument {pos}."
    )


def _apply_vjp(node: Node, g, cts: dict):
    prim = node.prim
    args = node.args
    params = node.params
    parents = node.parents
    if prim.multiple_results and not isinstance(g, list):
        g = [g]
    if prim.vjp_all is not None:
        needs = [False] * len(args)
        for pos, _, _ in parents:
            needs[pos] = True
        grads = prim.vjp_all(g, node.out, needs, *args, **params)
        for pos, parent, k in parents:
            c = grads[pos]
            if c is not None:
                _store(cts, parent, k, c)
        return
    rules = prim.vjp
    for pos, parent, k in parents:
        rule = rules[pos]
        if rule is None:
            _not_differentiable_in(prim, pos)
        c = rule(g, node.out, *args, **params)
        if c is not None:
            _store(cts, parent, k, c)


def _store(cts: dict, parent: Node, k: int | None, c):
    idx = parent.index
    if k is not None:
        slot = cts.get(idx)
        if slot is None:
            slot = [None] * len(parent.out)
            cts[idx] = slot
        slot[k] = _accumulate(slot[k], c)
    else:
        prev = cts.get(idx)
        cts[idx] = c if prev is None else prev + c


def forward_sweep(trace: ReverseTrace, input_nodes, tangents, output_refs):
    """Push tangents forward along a recorded tape (the linearization of the traced
    function): returns the tangent of each ``(node, out_index)`` in ``output_refs``."""
    tans: dict[int, object] = {}
    for node, t in zip(input_nodes, tangents):
        if t is not None:
            tans[node.index] = t
    last = max((n.index for n, _ in output_refs if n is not None), default=-1)
    for i in range(last + 1):
        node = trace.tape[i]
        if node is None or node.prim is None:
            continue
        ts = [None] * len(node.args)
        any_t = False
        for pos, parent, k in node.parents:
            t = tans.get(parent.index)
            if t is not None and k is not None:
                t = t[k]
            if t is not None:
                ts[pos] = t if ts[pos] is None else ts[pos] + t
                any_t = True
        if not any_t:
            continue
        tans[i] = apply_jvp(node.prim, ts, node.out, node.args, node.params)
    out = []
    for node, k in output_refs:
        t = None if node is None else tans.get(node.index)
        if t is not None and k is not None:
            t = t[k]
        out.append(t)
    return out


def apply_jvp(prim: Primitive, tangents, out, primals, params):
    """Output tangent of ``prim`` given input tangents (``None`` = zero)."""
    if prim.jvp_all is not None:
        return prim.jvp_all(tangents, out, *primals, **params)
    rules = prim.jvp
    if rules is None:
        raise NotDifferentiableError(
            f"{prim.name} has no forward-mode (JVP) rule; it cannot be differentiated in "
            "forward mode."
        )
    t_out = None
    for i, t in enumerate(tangents):
        if t is None:
            continue
        rule = rules[i]
        if rule is None:
            raise NotDifferentiableError(
                f"{prim.name} is not differentiable with respect to its argument {i}."
            )
        c = rule(t, out, *primals, **params)
        if c is not None:
            t_out = c if t_out is None else t_out + c
    return t_out


def zeros_like_value(x):
    """A plain zero array with the shape and dtype of a (possibly traced) value."""
    if isinstance(x, Tracer):
        return np.zeros(x.shape, dtype=x.dtype)
    return np.zeros(np.shape(x), dtype=getattr(x, "dtype", np.float64))
