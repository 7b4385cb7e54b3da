"""Forward mode: a trace whose tracers carry a tangent beside their primal value.

A zero tangent is symbolic (``None``) and costs nothing: a primitive whose arguments
all have zero tangents returns its plain output.
"""

from __future__ import annotations

from .core import NotDifferentiableError, Primitive, Trace, Tracer
from .reverse import apply_jvp

__all__ = ["ForwardTrace", "ForwardTracer"]


class ForwardTracer(Tracer):
    """A primal value with its tangent (``None`` for a symbolic zero)."""

    __slots__ = ("primal", "tangent")
    _state_slots = ("_trace", "primal", "tangent")

    def __init__(self, trace, primal, tangent):
        self._trace = trace
        self.primal = primal
        self.tangent = tangent

    def _primal(self):
        return self.primal


class ForwardTrace(Trace):
    """Propagates tangents alongside primal values."""

    __slots__ = ()

    def new_input(self, primal, tangent) -> ForwardTracer:
        return ForwardTracer(self, primal, tangent)

    def constant(self, value) -> ForwardTracer:
        return ForwardTracer(self, value, None)

    def lower(self, x):
        if isinstance(x, ForwardTracer) and x._trace is self:
            return x.primal
        return x

    def process(self, prim: Primitive, args, params):
        if prim.custom is not None:
            return prim.custom.process_forward(self, args, params)
        primals = []
        tangents = []
        any_t = False
        for a in args:
            if isinstance(a, ForwardTracer) and a._trace is self:
                primals.append(a.primal)
                t = a.tangent
                tangents.append(t)
                if t is not None:
                    any_t = True
            else:
                primals.append(a)
                tangents.append(None)
        if not any_t or prim.nondiff:
            return prim.bind(*primals, **params)
        if prim.jvp is None and prim.jvp_all is None:
            raise NotDifferentiableError(
                f"{prim.name} has no forward-mode (JVP) rule; it cannot be differentiated "
                "in forward mode."
            )
        out = prim.bind(*primals, **params)
        t_out = apply_jvp(prim, tangents, out, primals, params)
        if prim.multiple_results:
            if t_out is None:
                return out
            return tuple(
                o if t is None else ForwardTracer(self, o, t) for o, t in zip(out, t_out)
            )
        if t_out is None:
            return out
        dt = getattr(out, "dtype", None)
        if dt is not None and dt.kind not in "fc":
            return out
        return ForwardTracer(self, out, t_out)
