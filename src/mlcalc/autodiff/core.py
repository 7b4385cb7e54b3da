"""Primitives, tracers and the trace stack: the core of the engine.

A :class:`Primitive` is a named NumPy operation with its rules. Calling
``prim.bind(*args, **params)`` either runs plain NumPy (no traced argument: the fast
path) or hands the call to the trace of the highest level among its traced arguments.
That trace lowers its own tracers one level (to their values) and binds the primitive
again, then wraps the result with whatever it tracks (a tape node, a tangent, a batch
dimension). Because every rule is itself written with bound primitives, the derivative
of a derivative is just another trace, and transforms nest to any depth.

Levels are handed out by a global counter that only grows, so a trace created inside
another one always has the higher level: no perturbation confusion.
"""

from __future__ import annotations

import itertools
import math
import sys
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = [
    "NotDifferentiableError",
    "TracerConversionError",
    "Primitive",
    "Tracer",
    "Trace",
    "new_level",
    "active_traces",
    "is_tracer",
    "full_lower",
    "OPS",
]


class NotDifferentiableError(TypeError):
    """A NumPy or SciPy function with no differentiation rule met a traced value."""


class TracerConversionError(TypeError):
    """A traced value was converted to a plain array or Python number (its derivative
    would be lost)."""


class TracerConversionWarning(UserWarning):
    """A traced value is about to be converted where NumPy swallows the error."""


_CONVERSION_MESSAGE = (
    "A traced value was converted to a plain NumPy array (np.asarray, np.array, or "
    "writing it into a plain ndarray such as `a[i] = x`); its derivative would be lost. "
    "Fixes: use mlcalc.numpy.asarray / mlcalc.numpy.array, which pass traced values "
    "through; build arrays with np.stack([...]) or np.concatenate instead of "
    "np.array([...]); or start from np.zeros_like(x) of a traced x, whose item "
    "assignment mlcalc differentiates. To drop the derivative on purpose, use "
    "mlcalc.stop_gradient."
)


# Functions of the differentiable NumPy namespace that tracer methods and operators
# call (filled in by mlcalc.numpy when it is imported: the engine knows nothing above it).
OPS: dict[str, Callable[..., Any]] = {}

# ufunc -> implementation, and NumPy function -> implementation, for __array_ufunc__ and
# __array_function__ (filled in by mlcalc.numpy and mlcalc.scipy).
UFUNC_TABLE: dict[Any, Callable[..., Any]] = {}
FUNCTION_TABLE: dict[Any, Callable[..., Any]] = {}
# ufuncs implemented by a single primitive (so a one-argument call can skip bind).
UFUNC_PRIMITIVES: dict[Any, Primitive] = {}
# operator names (keys of OPS) implemented by a single primitive.
OP_PRIMITIVES: dict[str, Primitive] = {}
_NO_PARAMS: dict[str, Any] = {}

# Known replacements for SciPy functions that convert their input with np.asarray.
ASARRAY_REPLACEMENTS: dict[str, str] = {}


class Primitive:
    """A named operation with its rules.

    Attributes
    ----------
    impl : callable
        Plain NumPy implementation ``impl(*args, **params)``.
    jvp : tuple of callables or None
        Per-argument forward rules ``rule(t, ans, *args, **params)`` giving the tangent
        contribution of argument ``i`` (``None`` entries: that argument has no
        derivative). Set with :meth:`defjvp`; or ``jvp_all`` for a joint rule.
    vjp : tuple of callables or None
        Per-argument reverse rules ``rule(g, ans, *args, **params)`` giving the
        cotangent of argument ``i``. Set with :meth:`defvjp`; or ``vjp_all``.
    batch : callable or None
        ``rule(args, dims, **params) -> (out, out_dim)`` for vmap; ``dims[i]`` is the
        batch axis of argument ``i`` or ``None``.
    nondiff : bool
        The output has no derivative (comparisons, argmax, stop_gradient...).
    multiple_results : bool
        ``impl`` returns a tuple of arrays.
    """

    __slots__ = (
        "name",
        "impl",
        "jvp",
        "jvp_all",
        "vjp",
        "vjp_all",
        "batch",
        "nondiff",
        "multiple_results",
        "custom",
        "__weakref__",
        "__dict__",  # a published primitive carries its own __name__ and __doc__
    )

    def __init__(
        self,
        name: str,
        impl: Callable[..., Any] | None = None,
        *,
        nondiff: bool = False,
        multiple_results: bool = False,
    ):
        self.name = name
        self.impl = impl
        self.jvp = None
        self.jvp_all = None
        self.vjp = None
        self.vjp_all = None
        self.batch = None
        self.nondiff = nondiff
        self.multiple_results = multiple_results
        self.custom = None

    def __repr__(self) -> str:
        return f"Primitive({self.name})"

    def bind(self, *args, **params):
        """Apply the primitive: plain NumPy, or the highest-level trace among args."""
        top = None
        level = 0
        for a in args:
            if isinstance(a, Tracer):
                t = a._trace
                if t.level > level:
                    top = t
                    level = t.level
        if top is None:
            return self.impl(*args, **params) if params else self.impl(*args)
        return top.process(self, args, params)

    __call__ = bind

    # -- rule registration -------------------------------------------------------
    def defjvp(self, *rules):
        """Per-argument JVP rules ``rule(t, ans, *args, **params)``."""
        self.jvp = rules
        return self

    def defvjp(self, *rules):
        """Per-argument VJP rules ``rule(g, ans, *args, **params)``."""
        self.vjp = rules
        return self

    def defjvp_all(self, rule):
        """Joint JVP rule ``rule(tangents, ans, *args, **params)``; ``tangents[i]`` is
        ``None`` for a zero tangent. Returns the output tangent (tuple of tangents for a
        multiple-results primitive, with ``None`` for zero)."""
        self.jvp_all = rule
        return self

    def defvjp_all(self, rule):
        """Joint VJP rule ``rule(g, ans, needs, *args, **params)`` returning a sequence
        of cotangents (``None`` where zero or not needed; ``needs[i]`` says whether
        argument ``i`` needs one). For multiple results ``g`` is a list with ``None``
        for outputs that received no cotangent."""
        self.vjp_all = rule
        return self

    def defbatch(self, rule):
        self.batch = rule
        return self

    def has_vjp(self) -> bool:
        return self.vjp is not None or self.vjp_all is not None

    def has_jvp(self) -> bool:
        return self.jvp is not None or self.jvp_all is not None


# ---------------------------------------------------------------------------------
# Traces and levels

_level_counter = itertools.count(1)
_active: list[Trace] = []


def new_level() -> int:
    return next(_level_counter)


def active_traces() -> list[Trace]:
    return _active


class Trace:
    """Base class of the traces (reverse, forward, batch). A trace has a level."""

    __slots__ = ("level",)

    def __init__(self):
        self.level = new_level()

    def __enter__(self):
        _active.append(self)
        return self

    def __exit__(self, *exc):
        # Traces normally exit in order; tolerate out-of-order exits (generators).
        for i in range(len(_active) - 1, -1, -1):
            if _active[i] is self:
                del _active[i]
                break
        return False

    def process(self, prim: Primitive, args, params):  # pragma: no cover - abstract
        raise NotImplementedError

    def lower(self, x):
        """The value of ``x`` one level down (``x`` itself if not of this trace)."""
        raise NotImplementedError  # pragma: no cover - abstract


def is_tracer(x) -> bool:
    return isinstance(x, Tracer)


def full_lower(x):
    """Strip every level of tracing (values only; used for shapes, dtypes, printing)."""
    while isinstance(x, Tracer):
        x = x._primal()
    return x


def _describe_caller() -> str | None:
    """Name the SciPy function (if any) that converted a tracer with np.asarray.

    SciPy's internal helpers (``scipy._lib``: its array-API layer converts inputs in
    ``xp_promote``, ``array_namespace``...) are walked through to the public function
    that called them."""
    frame = sys._getframe(2)
    depth = 0
    while frame is not None and depth < 10:
        module = frame.f_globals.get("__name__", "")
        if module.startswith("scipy.") and not module.startswith("scipy._lib"):
            name = frame.f_code.co_name
            public = module.split("._")[0]
            return f"{public}.{name}"
        if not module.startswith(("numpy", "mlcalc", "scipy._lib")):
            return None
        frame = frame.f_back
        depth += 1
    return None


def _binary_method(name: str, reflected: bool = False):
    """A tracer operator applying the primitive registered as ``name``."""

    def method(self, other):
        prim = OP_PRIMITIVES.get(name)
        if prim is not None and (
            not isinstance(other, Tracer) or other._trace.level <= self._trace.level
        ):
            return self._trace.process(prim, (other, self) if reflected else (self, other),
                                       _NO_PARAMS)
        return OPS[name](other, self) if reflected else OPS[name](self, other)

    method.__name__ = f"__{'r' if reflected else ''}{name}__"
    return method


class Tracer:
    """A traced array. Behaves like an ndarray: operators, NumPy functions and ufuncs,
    indexing (including item assignment, as a functional update), the usual methods.
    Subclasses say what they track (tape node, tangent, batch axis)."""

    __slots__ = ("_trace",)
    __array_priority__ = 1000

    # -- what a subclass provides ----------------------------------------------------
    def _primal(self):  # pragma: no cover - abstract
        """The value one level down (for a batch tracer, the batched value)."""
        raise NotImplementedError

    @property
    def shape(self) -> tuple[int, ...]:
        v = self._primal()
        return v.shape if isinstance(v, Tracer) else np.shape(v)

    @property
    def dtype(self):
        return _dtype_of(self._primal())

    # -- array-like attributes -------------------------------------------------------
    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def T(self):
        return OPS["transpose"](self)

    @property
    def mT(self):
        return OPS["swapaxes"](self, -1, -2)

    def __len__(self) -> int:
        shape = self.shape
        if not shape:
            raise TypeError("len() of unsized object (a traced 0-d array)")
        return shape[0]

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    # -- conversions -----------------------------------------------------------------
    def __array__(self, dtype=None, copy=None):
        caller = _describe_caller()
        if caller is not None:
            replacement = ASARRAY_REPLACEMENTS.get(caller.rsplit(".", 1)[-1])
            hint = (
                f"use {replacement} instead, which mlcalc differentiates"
                if replacement
                else "mlcalc has no differentiable version of it; write the computation "
                "with NumPy functions or mlcalc.numpy"
            )
            raise NotDifferentiableError(
                f"{caller} converts its input with np.asarray, which cannot carry a "
                f"derivative through it: {hint}."
            )
        raise TracerConversionError(_CONVERSION_MESSAGE)

    def __float__(self):
        # NumPy calls float() when a 0-d value is written into a plain array (`a[i] = x`)
        # and replaces the error with "setting an array element with a sequence": warn
        # first, so the user learns what happened and how to fix it.
        warnings.warn(_CONVERSION_MESSAGE, TracerConversionWarning, stacklevel=2)
        raise TracerConversionError(
            "float() of a traced value would lose its derivative; keep it as an array, "
            "or use mlcalc.stop_gradient(x) first if the derivative should be dropped."
        )

    def __int__(self):
        raise TracerConversionError(
            "int() of a traced value: a traced value is a real number being "
            "differentiated and has no integer value; use a plain array for indices and "
            "counts."
        )

    def __complex__(self):
        raise TracerConversionError("complex() of a traced value is not supported.")

    def __index__(self):
        raise TracerConversionError(
            "A traced value cannot be used as an index or size; use plain integers."
        )

    def __bool__(self):
        return bool(full_lower(self))

    def __hash__(self):
        return id(self)

    def item(self):
        raise TracerConversionError(
            ".item() of a traced value would lose its derivative; use "
            "mlcalc.stop_gradient(x).item() if that is intended."
        )

    def tolist(self):
        raise TracerConversionError(
            ".tolist() of a traced value would lose its derivative; iterate over it "
            "instead (each element stays traced)."
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({full_lower(self)!r})"

    __str__ = __repr__

    def __format__(self, spec):
        return format(full_lower(self), spec)

    # -- NumPy protocols -------------------------------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method == "__call__" and not kwargs:  # the common case, kept short
            if len(inputs) == 1:
                prim = UFUNC_PRIMITIVES.get(ufunc)
                if prim is not None:  # sole argument: its own trace is the top one
                    return self._trace.process(prim, inputs, _NO_PARAMS)
            impl = UFUNC_TABLE.get(ufunc)
            if impl is not None:
                return impl(*inputs)
        return OPS["__array_ufunc__"](ufunc, method, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        impl = FUNCTION_TABLE.get(func)
        if impl is None:
            return OPS["__array_function__"](func, args, kwargs)
        return impl(*args, **kwargs)

    # -- item assignment: a functional update under the hood ------------------------
    def __setitem__(self, index, value):
        new = OPS["_setitem"](self, index, value)
        self._become(new)

    def _become(self, new):
        """Take the identity of ``new`` (result of an in-place operation)."""
        if not isinstance(new, Tracer) or type(new) is not type(self) or (
            new._trace is not self._trace
        ):
            if isinstance(new, Tracer) and new._trace.level > self._trace.level:
                raise TracerConversionError(
                    "In-place update of a traced array with a value traced by an inner "
                    "transform: the array belongs to an enclosing transform. Build a new "
                    "array instead (e.g. y = x.copy(); y[i] = v inside the inner function)."
                )
            # The update made the array constant at this level (e.g. all entries
            # overwritten by plain values): represent it as a constant tracer.
            new = self._trace.constant(new)
        for level_trace in _active:
            if level_trace.level > self._trace.level:
                raise TracerConversionError(
                    "In-place update of a traced array that belongs to an enclosing "
                    "transform, from inside an inner one, is not supported: copy it first "
                    "(y = x.copy()) and update the copy."
                )
        for slot in type(self)._state_slots:
            setattr(self, slot, getattr(new, slot))

    # -- operators -------------------------------------------------------------------
    def __neg__(self):
        return OPS["negative"](self)

    def __pos__(self):
        return self

    def __abs__(self):
        return OPS["abs"](self)

    # Binary operators: with no higher-level tracer among the operands this tracer's
    # trace is the top one, so the primitive goes straight to it (no bind).
    __add__ = _binary_method("add")
    __radd__ = _binary_method("add", reflected=True)
    __sub__ = _binary_method("subtract")
    __rsub__ = _binary_method("subtract", reflected=True)
    __mul__ = _binary_method("multiply")
    __rmul__ = _binary_method("multiply", reflected=True)
    __truediv__ = _binary_method("divide")
    __rtruediv__ = _binary_method("divide", reflected=True)
    __floordiv__ = _binary_method("floor_divide")
    __rfloordiv__ = _binary_method("floor_divide", reflected=True)
    __mod__ = _binary_method("remainder")
    __rmod__ = _binary_method("remainder", reflected=True)
    __pow__ = _binary_method("power")
    __rpow__ = _binary_method("power", reflected=True)

    def __divmod__(self, other):
        return OPS["floor_divide"](self, other), OPS["remainder"](self, other)

    def __rdivmod__(self, other):
        return OPS["floor_divide"](other, self), OPS["remainder"](other, self)

    def __round__(self, ndigits=None):
        return OPS["round"](self, 0 if ndigits is None else ndigits)

    def __matmul__(self, other):
        return OPS["matmul"](self, other)

    def __rmatmul__(self, other):
        return OPS["matmul"](other, self)

    def _inplace(self, op, other):
        self._become(OPS[op](self, other))
        return self

    def __iadd__(self, other):
        return self._inplace("add", other)

    def __isub__(self, other):
        return self._inplace("subtract", other)

    def __imul__(self, other):
        return self._inplace("multiply", other)

    def __itruediv__(self, other):
        return self._inplace("divide", other)

    def __ipow__(self, other):
        return self._inplace("power", other)

    def __imatmul__(self, other):
        return self._inplace("matmul", other)

    def __ifloordiv__(self, other):
        return self._inplace("floor_divide", other)

    def __imod__(self, other):
        return self._inplace("remainder", other)

    def __lt__(self, other):
        return OPS["less"](self, other)

    def __le__(self, other):
        return OPS["less_equal"](self, other)

    def __gt__(self, other):
        return OPS["greater"](self, other)

    def __ge__(self, other):
        return OPS["greater_equal"](self, other)

    def __eq__(self, other):
        return OPS["equal"](self, other)

    def __ne__(self, other):
        return OPS["not_equal"](self, other)

    def __getitem__(self, index):
        return OPS["_getitem"](self, index)

    # -- methods ---------------------------------------------------------------------
    def sum(self, *args, **kwargs):
        return OPS["sum"](self, *args, **kwargs)

    def mean(self, *args, **kwargs):
        return OPS["mean"](self, *args, **kwargs)

    def prod(self, *args, **kwargs):
        return OPS["prod"](self, *args, **kwargs)

    def max(self, *args, **kwargs):
        return OPS["max"](self, *args, **kwargs)

    def min(self, *args, **kwargs):
        return OPS["min"](self, *args, **kwargs)

    def var(self, *args, **kwargs):
        return OPS["var"](self, *args, **kwargs)

    def std(self, *args, **kwargs):
        return OPS["std"](self, *args, **kwargs)

    def cumsum(self, *args, **kwargs):
        return OPS["cumsum"](self, *args, **kwargs)

    def cumprod(self, *args, **kwargs):
        return OPS["cumprod"](self, *args, **kwargs)

    def argmax(self, *args, **kwargs):
        return OPS["argmax"](self, *args, **kwargs)

    def argmin(self, *args, **kwargs):
        return OPS["argmin"](self, *args, **kwargs)

    def argsort(self, *args, **kwargs):
        return OPS["argsort"](self, *args, **kwargs)

    def any(self, *args, **kwargs):
        return OPS["any"](self, *args, **kwargs)

    def all(self, *args, **kwargs):
        return OPS["all"](self, *args, **kwargs)

    def reshape(self, *shape, **kwargs):
        if len(shape) == 1 and not isinstance(shape[0], int):
            shape = shape[0]
        return OPS["reshape"](self, shape, **kwargs)

    def ravel(self, *args, **kwargs):
        return OPS["ravel"](self, *args, **kwargs)

    def flatten(self, *args, **kwargs):
        return OPS["ravel"](self, *args, **kwargs)

    def transpose(self, *axes):
        if len(axes) == 1 and (axes[0] is None or not isinstance(axes[0], int)):
            axes = axes[0]
        elif not axes:
            axes = None
        return OPS["transpose"](self, axes)

    def swapaxes(self, axis1, axis2):
        return OPS["swapaxes"](self, axis1, axis2)

    def squeeze(self, *args, **kwargs):
        return OPS["squeeze"](self, *args, **kwargs)

    def dot(self, other):
        return OPS["dot"](self, other)

    def clip(self, *args, **kwargs):
        return OPS["clip"](self, *args, **kwargs)

    def astype(self, dtype, *args, **kwargs):
        return OPS["astype"](self, dtype)

    def copy(self, *args, **kwargs):
        return OPS["copy"](self)

    def conj(self):
        return self

    conjugate = conj

    @property
    def real(self):
        return self

    def diagonal(self, *args, **kwargs):
        return OPS["diagonal"](self, *args, **kwargs)

    def trace(self, *args, **kwargs):
        return OPS["trace"](self, *args, **kwargs)

    def take(self, *args, **kwargs):
        return OPS["take"](self, *args, **kwargs)

    def repeat(self, *args, **kwargs):
        return OPS["repeat"](self, *args, **kwargs)

    def sort(self, *args, **kwargs):
        raise TracerConversionError(
            "x.sort() sorts in place; on a traced value use y = np.sort(x) instead."
        )

    def fill(self, value):
        self[...] = value


def _dtype_of(x):
    dt = getattr(x, "dtype", None)
    if dt is not None:
        return dt
    return np.result_type(x)
