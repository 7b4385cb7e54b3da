"""Typed text → :class:`~mlcalc.expr.expression.Expression`, through a strict allowlist.

The text is read by ``ast.parse(..., mode="eval")`` only; nothing typed is ever
evaluated, compiled or handed to SymPy's parser. The tree is checked against the
limits first (before any number is computed), then walked once, building for each
node both its SymPy expression (from SymPy constructors) and its NumPy evaluator.
Everything not listed in the grammar (see :mod:`mlcalc.expr`) raises
:class:`ExpressionError` pointing at the offending character.
"""

from __future__ import annotations

import ast
import keyword
import re
import unicodedata
from collections.abc import Iterable

from .convert import Converter
from .errors import require_sympy
from .expression import Expression
from .functions import CONSTANTS, FUNCTIONS
from .limits import (
    MAX_DEPTH,
    MAX_LENGTH,
    call_functions,
    check_constant_exponents,
    check_structure,
)
from .source import Source

__all__ = ["parse"]


def parse(text: str, variables: Iterable[str] | str | None = None) -> Expression:
    """Parse a typed expression such as ``"x**2 + 3*y**2 - x*y"``.

    ``variables`` fixes the order of the variables (the coordinates of the point the
    function takes): a sequence of names, or one string of names separated by commas
    or spaces; names it lists but the text does not use are variables all the same.
    Without it, the variables are the names the text uses, sorted alphabetically
    (numeric suffixes by value: ``x2`` before ``x10``). The grammar and the limits are
    in :mod:`mlcalc.expr`. Raises :class:`ExpressionError` for any rejected text.
    """
    if not isinstance(text, str):
        raise TypeError(f"parse() takes the expression as a str, not {type(text).__name__}")
    sp = require_sympy()
    source = Source(text, MAX_LENGTH, MAX_DEPTH)
    body = source.tree.body
    check_structure(source, body)
    check_constant_exponents(source, body)
    names = _variables(variables) if variables is not None else _used_names(body)
    symbols = tuple(sp.Symbol(name, real=True) for name in names)
    term = Converter(source, sp, names, symbols).convert(body)
    return Expression(text, term.sym, names, symbols, term.num, term.value)


def _natural_key(name: str) -> list:
    return [
        int(part) if part.isascii() and part.isdigit() else part
        for part in re.split(r"([0-9]+)", name)
    ]


def _used_names(body: ast.expr) -> tuple[str, ...]:
    functions = call_functions(body)
    names = {
        n.id
        for n in ast.walk(body)
        if isinstance(n, ast.Name)
        and id(n) not in functions
        and not (n.id.startswith("_") or n.id in CONSTANTS or n.id in FUNCTIONS)
    }
    return tuple(sorted(names, key=_natural_key))


def _variables(variables: Iterable[str] | str) -> tuple[str, ...]:
    """Validate the ``variables`` argument (names as Python normalizes identifiers)."""
    if isinstance(variables, str):
        variables = variables.replace(",", " ").split()
    names = []
    for name in variables:
        if not isinstance(name, str):
            raise TypeError(f"variable names must be str, not {type(name).__name__}")
        name = unicodedata.normalize("NFKC", name)
        if not name.isidentifier() or keyword.iskeyword(name) or name.startswith("_"):
            raise ValueError(f"invalid variable name {name!r}")
        if name in FUNCTIONS or name in CONSTANTS:
            raise ValueError(f"{name!r} is a reserved name (a function or a constant)")
        if name in names:
            raise ValueError(f"variable {name!r} is listed twice")
        names.append(name)
    return tuple(names)
