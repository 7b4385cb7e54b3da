"""The limits on a typed expression, checked on its syntax tree before anything is
computed or converted (iteratively: no recursion on an unchecked tree)."""

from __future__ import annotations

import ast

from .functions import CONSTANTS
from .source import Source

__all__ = [
    "MAX_LENGTH",
    "MAX_DEPTH",
    "MAX_NODES",
    "MAX_EXPONENT",
    "MAX_INTEGER_DIGITS",
    "MAX_CONSTANT_BITS",
    "same_chain",
    "call_functions",
    "check_structure",
    "check_constant_exponents",
]

MAX_LENGTH = 2000  # characters of text
MAX_DEPTH = 50  # nesting of sub-expressions (and of brackets)
MAX_NODES = 500  # sub-expressions (names, numbers, operations, calls)
MAX_EXPONENT = 100  # |constant exponent|
MAX_INTEGER_DIGITS = 50  # digits of an integer literal
MAX_CONSTANT_BITS = 1024  # bits of an exact rational (numerator or denominator)

_CHAINS = {ast.Add: "add", ast.Sub: "add", ast.Mult: "mul", ast.Div: "mul"}


def same_chain(parent: ast.AST, child: ast.AST) -> bool:
    """Whether ``child`` continues ``parent``'s chain of + − (or * /) on the left, as
    in ``a + b - c``; a chain counts as one level of nesting."""
    return (
        isinstance(parent, ast.BinOp)
        and isinstance(child, ast.BinOp)
        and child is parent.left
        and _CHAINS.get(type(child.op)) is not None
        and _CHAINS.get(type(child.op)) == _CHAINS.get(type(parent.op))
    )


def check_structure(source: Source, body: ast.expr) -> None:
    """Nesting depth ≤ MAX_DEPTH and at most MAX_NODES sub-expressions (iteratively:
    no recursion on an unchecked tree)."""
    stack: list[tuple[ast.AST, int]] = [(body, 1)]
    count = 0
    while stack:
        node, depth = stack.pop()
        if isinstance(node, ast.expr):
            count += 1
            if depth > MAX_DEPTH:
                raise source.error(
                    f"expression nested more than {MAX_DEPTH} deep", source.start(node)
                )
            if count > MAX_NODES:
                raise source.error(
                    f"expression has more than {MAX_NODES} parts", source.start(node)
                )
        for child in reversed(list(ast.iter_child_nodes(node))):  # visited left to right
            step = 0 if same_chain(node, child) or not isinstance(child, ast.expr) else 1
            stack.append((child, depth + step))


def _is_power(node: ast.AST) -> bool:
    return isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow)


def call_functions(node: ast.AST) -> set[int]:
    return {id(n.func) for n in ast.walk(node) if isinstance(n, ast.Call)}


def _is_constant(node: ast.AST) -> bool:
    """No variable in the subtree (only numbers, pi, e and function calls)."""
    functions = call_functions(node)
    return all(
        n.id in CONSTANTS
        for n in ast.walk(node)
        if isinstance(n, ast.Name) and id(n) not in functions
    )


def check_constant_exponents(source: Source, body: ast.expr) -> None:
    """Reject a power inside a constant exponent (``9**9**9``) before anything is
    computed; the exponent's size is checked once its value is known."""
    for node in ast.walk(body):
        if _is_power(node) and _is_constant(node.right):
            inner = next((n for n in ast.walk(node.right) if _is_power(n)), None)
            if inner is not None:
                raise source.error(
                    "powers nested in a constant exponent are not allowed",
                    source.after(inner.left),
                )
