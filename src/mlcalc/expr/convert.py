"""Conversion of a checked syntax tree: each node becomes a SymPy expression (built
from SymPy constructors) and a NumPy evaluator, together; anything outside the
allowlist raises :class:`ExpressionError` with a caret at the offending character."""

from __future__ import annotations

import ast
import dataclasses
import math
import operator
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from .errors import ExpressionError
from .functions import CONSTANTS, FUNCTIONS, Function
from .limits import MAX_CONSTANT_BITS, MAX_EXPONENT, MAX_INTEGER_DIGITS, same_chain
from .source import Source

__all__ = ["Term", "Converter"]

_ARITHMETIC: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}
_OPERATOR_TEXT = {
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.MatMult: "@",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitOr: "|",
    ast.BitAnd: "&",
    ast.BitXor: "^",
    ast.Not: "not",
    ast.Invert: "~",
}
# Rejected constructs: the message, and where the caret goes ("start" of the node or
# "after" one of its children: the operator, dot or bracket that follows it).
_REJECTED: dict[type, tuple[str, str, str | None]] = {
    ast.Attribute: ("attribute access is not allowed", "after", "value"),
    ast.Subscript: ("subscripts (indexing) are not allowed", "after", "value"),
    ast.Compare: ("comparisons are not allowed", "after", "left"),
    ast.BoolOp: ("boolean operators (and, or) are not allowed", "after", "values"),
    ast.IfExp: ("conditional expressions (a if c else b) are not allowed", "after", "body"),
    ast.NamedExpr: ("assignment expressions (:=) are not allowed", "after", "target"),
    ast.Lambda: ("lambda expressions are not allowed", "start", None),
    ast.ListComp: ("comprehensions are not allowed", "start", None),
    ast.SetComp: ("comprehensions are not allowed", "start", None),
    ast.DictComp: ("comprehensions are not allowed", "start", None),
    ast.GeneratorExp: ("comprehensions are not allowed", "start", None),
    ast.JoinedStr: ("f-strings are not allowed", "start", None),
    ast.FormattedValue: ("f-strings are not allowed", "start", None),
    ast.Starred: ("starred expressions are not allowed", "start", None),
    ast.Tuple: ("tuples are not allowed", "start", None),
    ast.List: ("lists are not allowed", "start", None),
    ast.Set: ("sets are not allowed", "start", None),
    ast.Dict: ("dicts are not allowed", "start", None),
}


@dataclasses.dataclass(frozen=True)
class Term:
    """A converted sub-expression: SymPy expression, NumPy evaluator of the tuple of
    variable columns, and its float64 value when it has no variable."""

    sym: Any
    num: Callable[[tuple], Any]
    value: np.float64 | None = None


def _constant(value: np.float64) -> Callable[[tuple], Any]:
    return lambda columns: value


def _fold(fn: Callable, values: Iterable[np.float64]) -> np.float64:
    with np.errstate(all="ignore"):
        return np.float64(fn(*values))


def _rational_bits(sp, expr) -> int:
    """Bits of the largest numerator or denominator of an exact rational in ``expr``."""
    rationals = expr.atoms(sp.Rational)
    return max((max(abs(r.p).bit_length(), r.q.bit_length()) for r in rationals), default=0)


class Converter:
    """Walks a checked tree, building each node's :class:`Term` (recursion depth is
    bounded by the nesting limit; chains of + − and * / are walked in a loop)."""

    def __init__(self, source: Source, sp, names: tuple[str, ...], symbols: tuple):
        self.source = source
        self.sp = sp
        self.index = {name: i for i, name in enumerate(names)}
        self.symbols = symbols
        self.names = names

    def reject(self, reason: str, offset: int | None) -> ExpressionError:
        return self.source.error(reason, offset)

    def convert(self, node: ast.AST) -> Term:
        if isinstance(node, ast.Constant):
            return self.number(node)
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.BinOp):
            return self.power(node) if isinstance(node.op, ast.Pow) else self.chain(node)
        if isinstance(node, ast.UnaryOp):
            return self.unary(node)
        if isinstance(node, ast.Call):
            return self.call(node)
        raise self.rejected(node)

    def rejected(self, node: ast.AST) -> ExpressionError:
        reason, where, child = _REJECTED.get(
            type(node), (f"{type(node).__name__} expressions are not allowed", "start", None)
        )
        if where == "start":
            return self.reject(reason, self.source.start(node))
        part = getattr(node, child)
        return self.reject(reason, self.source.after(part[0] if child == "values" else part))

    # -- leaves

    def number(self, node: ast.Constant) -> Term:
        value, at = node.value, self.source.start(node)
        if isinstance(value, bool) or value is None or value is Ellipsis:
            raise self.reject(f"{value!r} is not allowed", at)
        if isinstance(value, int):
            digits = len(str(abs(value)))
            if digits > MAX_INTEGER_DIGITS:
                raise self.reject(
                    f"integer literal has {digits} digits; the limit is {MAX_INTEGER_DIGITS}", at
                )
            return Term(self.sp.Integer(value), _constant(np.float64(value)), np.float64(value))
        if isinstance(value, float):
            if not math.isfinite(value):
                raise self.reject("number literal overflows float64", at)
            return Term(self.sp.Float(value), _constant(np.float64(value)), np.float64(value))
        kind = {complex: "complex numbers", str: "strings", bytes: "bytes literals"}
        raise self.reject(f"{kind.get(type(value), type(value).__name__)} are not allowed", at)

    def name(self, node: ast.Name) -> Term:
        name, at = node.id, self.source.start(node)
        if name.startswith("_"):
            raise self.reject(f"name {name!r}: names beginning with '_' are not allowed", at)
        if name in CONSTANTS:
            constant = CONSTANTS[name]
            value = np.float64(constant.value)
            return Term(constant.symbolic(self.sp), _constant(value), value)
        if name in FUNCTIONS:
            raise self.reject(f"function {name!r} must be called: {name}(...)", at)
        if name not in self.index:
            known = ", ".join(self.names) or "none"
            raise self.reject(f"unknown variable {name!r} (the variables are: {known})", at)
        i = self.index[name]
        return Term(self.symbols[i], lambda columns: columns[i])

    # -- operations

    def unary(self, node: ast.UnaryOp) -> Term:
        if isinstance(node.op, ast.UAdd):
            return self.convert(node.operand)
        if not isinstance(node.op, ast.USub):
            text = _OPERATOR_TEXT[type(node.op)]
            raise self.reject(f"operator {text!r} is not allowed", self.source.start(node))
        a = self.convert(node.operand)
        if a.value is not None:
            return Term(-a.sym, _constant(-a.value), -a.value)
        return Term(-a.sym, lambda columns: -a.num(columns))

    def chain(self, node: ast.BinOp) -> Term:
        """``a ∘ b ∘ c ...`` for a left-nested chain of + − or * /, in one loop."""
        steps = []
        while True:
            if type(node.op) not in _ARITHMETIC:
                text = _OPERATOR_TEXT.get(type(node.op), type(node.op).__name__)
                raise self.reject(
                    f"operator {text!r} is not allowed (use + - * / ** ^)",
                    self.source.after(node.left),
                )
            steps.append(node)
            if not same_chain(node, node.left):
                break
            node = node.left
        steps.reverse()
        first = self.convert(steps[0].left)
        sym, value = first.sym, first.value
        parts = []
        for step in steps:
            fn, b = _ARITHMETIC[type(step.op)], self.convert(step.right)
            at = self.source.after(step.left)
            sym = self.small(self.defined(fn(sym, b.sym), at), at)
            constant = value is not None and b.value is not None
            value = _fold(fn, (value, b.value)) if constant else None
            parts.append((fn, b.num))
        if value is not None:
            return Term(sym, _constant(value), value)
        start = first.num

        def evaluate(columns):
            acc = start(columns)
            for fn, num in parts:
                acc = fn(acc, num(columns))
            return acc

        return Term(sym, evaluate)

    def power(self, node: ast.BinOp) -> Term:
        base, exponent = self.convert(node.left), self.convert(node.right)
        if exponent.value is not None:
            self.check_exponent(base, exponent, node)
        at = self.source.after(node.left)
        return self.apply(operator.pow, (base, exponent), base.sym**exponent.sym, at)

    def check_exponent(self, base: Term, exponent: Term, node: ast.BinOp) -> None:
        """|constant exponent| ≤ MAX_EXPONENT, and no exact rational of the base raised
        beyond MAX_CONSTANT_BITS bits (checked before SymPy computes the power)."""
        size = abs(float(exponent.value))
        if not size <= MAX_EXPONENT:
            raise self.reject(
                f"exponent {float(exponent.value):g} is too large (the limit is ±{MAX_EXPONENT})",
                self.source.start(node.right),
            )
        bits = _rational_bits(self.sp, base.sym)
        if bits * size > MAX_CONSTANT_BITS:
            raise self.reject(
                f"the power of a constant would exceed {MAX_CONSTANT_BITS} bits",
                self.source.after(node.left),
            )

    def call(self, node: ast.Call) -> Term:
        function = self.function(node)
        if node.keywords:
            raise self.reject(
                "keyword arguments are not allowed", self.source.start(node.keywords[0])
            )
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise self.reject("starred arguments are not allowed", self.source.start(arg))
        if len(node.args) != function.arity:
            raise self.reject(
                f"{node.func.id}() takes {function.arity} argument ({len(node.args)} given)",
                self.source.start(node),
            )
        args = tuple(self.convert(arg) for arg in node.args)
        sym = function.symbolic(self.sp, *(a.sym for a in args))
        return self.apply(function.numeric, args, sym, self.source.start(node))

    def function(self, node: ast.Call) -> Function:
        """The allowlisted function ``node`` calls."""
        func = node.func
        if isinstance(func, ast.Attribute):
            raise self.rejected(func)
        if not isinstance(func, ast.Name):
            raise self.reject(
                "only allowlisted functions can be called, by name", self.source.after(func)
            )
        if func.id.startswith("_"):
            raise self.reject(
                f"name {func.id!r}: names beginning with '_' are not allowed",
                self.source.start(func),
            )
        if func.id not in FUNCTIONS:
            allowed = ", ".join(FUNCTIONS)
            raise self.reject(
                f"unknown function {func.id!r} (allowed: {allowed})", self.source.start(func)
            )
        return FUNCTIONS[func.id]

    def apply(self, fn: Callable, args: tuple[Term, ...], sym, at: int) -> Term:
        """The term ``fn(*args)`` with SymPy expression ``sym``; a constant result must
        be a real number (else the error points at offset ``at``)."""
        sym = self.defined(sym, at)
        if all(a.value is not None for a in args):
            value = _fold(fn, (a.value for a in args))
            if np.isnan(value):
                raise self.reject("this constant is not a real number", at)
            return Term(sym, _constant(value), value)
        nums = tuple(a.num for a in args)
        if len(nums) == 1:
            (a,) = nums
            return Term(sym, lambda columns: fn(a(columns)))
        a, b = nums
        return Term(sym, lambda columns: fn(a(columns), b(columns)))

    def small(self, sym, at: int):
        """``sym``, unless an exact rational in it has more than MAX_CONSTANT_BITS bits."""
        if _rational_bits(self.sp, sym) > MAX_CONSTANT_BITS:
            raise self.reject(f"a constant exceeds {MAX_CONSTANT_BITS} bits", at)
        return sym

    def defined(self, sym, at: int):
        """``sym``, unless SymPy found it undefined (a division by zero, log(0)...)."""
        if sym.has(self.sp.zoo, self.sp.nan):
            raise self.reject("undefined: division by zero (or log of 0)", at)
        return sym
