"""Typed expressions, parsed safely into SymPy and into differentiable NumPy.

::

    from mlcalc import expr
    import mlcalc as mc

    f = expr.parse("x**2 + 3*y**2 - x*y")
    f.variables                    # ('x', 'y')
    f.sympy                        # x**2 - x*y + 3*y**2
    mc.hessian(f.function)([1.0, 2.0])
    expr.symbolic_derivatives(f, at=(1, 2)).hessian   # Matrix([[2, -1], [-1, 6]])

Grammar (a subset of Python expression syntax, read by ``ast.parse`` alone; nothing
typed is ever evaluated)::

    expr   := expr ('+' | '-' | '*' | '/') expr | expr ('**' | '^') expr
            | ('+' | '-') expr | '(' expr ')' | call | number | name
    call   := function '(' expr ')'
    number := integer or decimal literal (1, 2.5, 1e-3)
    name   := variable | 'pi' | 'e'

``^`` is power, with power's precedence and right associativity (``-y^2`` is
``-(y**2)``, ``x^2 + 1`` is ``x**2 + 1``, ``x^y^z`` is ``x^(y^z)``). Functions (one
argument each): sin cos tan exp log sqrt abs tanh sinh cosh arcsin arccos arctan
(aliases asin acos atan) log1p expm1 sigmoid softplus erf. Variables are any other
names (identifiers not beginning with ``_``); they are real SymPy symbols.

Limits (each violation raises :class:`ExpressionError`): text at most 2000
characters; sub-expressions nested at most 50 deep (brackets too; a chain
``a + b - c + ...`` or ``a * b / c ...`` counts as one level); at most 500
sub-expressions; integer literals at most 50 digits; finite float literals; a
constant exponent at most 100 in absolute value and containing no power
(``9**9**9`` is rejected before anything is computed); exact constants at most
10000 bits from a power; no constant division by zero, nor a constant that is not a
real number (``sqrt(-1)``).

Rejected, with the column and a caret under the offending character: attributes,
subscripts, names beginning with ``_``, calls of anything but an allowlisted
function name, keyword or starred arguments, lambdas, comprehensions, strings,
bytes, f-strings, complex numbers, True/False/None, comparisons, boolean operators,
conditional expressions, assignment expressions, tuples/lists/sets/dicts, and the
operators // % @ << >> & | ~ not.

SymPy is needed (``pip install 'mlcalc[faces]'``); it is imported on first use.
"""

from __future__ import annotations

from .errors import ExpressionError
from .expression import Expression
from .parser import parse
from .symbolic import SymbolicDerivatives, symbolic_derivatives, taylor_polynomial

__all__ = [
    "parse",
    "Expression",
    "ExpressionError",
    "symbolic_derivatives",
    "SymbolicDerivatives",
    "taylor_polynomial",
]
