"""The typed text, prepared for ``ast.parse``, and positions mapped back onto it.

Preparation keeps a one-to-one map from the parsed code back to the typed text, so
every error points at what the user typed:

- whitespace characters (tab, newline...) become spaces, so the code is one line;
- leading spaces are dropped (``ast.parse`` would read them as an indent);
- ``^`` becomes ``**``: power, with power's precedence (``-y^2`` is ``-(y**2)`` and
  ``x^2 + 1`` is ``x**2 + 1``, unlike Python's ``^``). Strings are rejected later,
  so no ``^`` can be anything but an operator.
"""

from __future__ import annotations

import ast

from .errors import ExpressionError

__all__ = ["Source"]

_WHITESPACE = str.maketrans({c: " " for c in "\t\n\r\f\v"})
_OPENING = "([{"
_CLOSING = ")]}"


class Source:
    """The typed ``text``, its parsed ``tree`` and the map from code positions back
    to offsets in ``text``."""

    def __init__(self, text: str, max_length: int, max_nesting: int):
        self.text = text
        if len(text) > max_length:
            raise self.error(
                f"expression is {len(text)} characters long; the limit is {max_length}",
                max_length,
            )
        _check_characters(self, text)
        _check_nesting(self, text, max_nesting)
        normalized = text.translate(_WHITESPACE)
        body = normalized.lstrip(" ")
        shift = len(normalized) - len(body)
        if not body.strip():
            raise self.error("the expression is empty")
        origin = []
        for index, char in enumerate(body):
            origin.extend([shift + index] * (2 if char == "^" else 1))
        origin.append(len(text))
        self._origin = origin
        self.code = body.replace("^", "**")
        self._code_bytes = self.code.encode("utf-8")
        self.tree = self._parse()

    def error(self, reason: str, offset: int | None = None) -> ExpressionError:
        """An ExpressionError pointing at ``offset`` of the typed text."""
        return ExpressionError(reason, self.text, offset)

    def start(self, node: ast.AST) -> int:
        """Offset in the typed text where ``node`` begins."""
        return self._from_code(self._char(node.col_offset))

    def after(self, node: ast.AST) -> int:
        """Offset of the first character after ``node`` that is neither a space nor a
        closing bracket: the operator, dot or bracket that follows it."""
        index = self._char(node.end_col_offset)
        while index < len(self.code) and self.code[index] in " )":
            index += 1
        return self._from_code(index)

    def _char(self, byte_offset: int) -> int:
        if len(self._code_bytes) == len(self.code):
            return byte_offset
        return len(self._code_bytes[:byte_offset].decode("utf-8", errors="ignore"))

    def _from_code(self, index: int) -> int:
        return self._origin[min(max(index, 0), len(self._origin) - 1)]

    def _parse(self) -> ast.Expression:
        try:
            return ast.parse(self.code, mode="eval")
        except SyntaxError as exc:
            offset = len(self.code) if not exc.offset or exc.offset < 1 else exc.offset - 1
            raise self.error(f"syntax error: {exc.msg}", self._from_code(offset)) from None
        except (RecursionError, MemoryError, ValueError):
            raise self.error("the expression is too complex to parse") from None


def _check_characters(source: Source, text: str) -> None:
    for offset, char in enumerate(text):
        if not (char.isprintable() or char in "\t\n\r\f\v"):
            raise source.error(f"control character {char!r} is not allowed", offset)


def _check_nesting(source: Source, text: str, max_nesting: int) -> None:
    """Reject brackets nested deeper than ``max_nesting`` before the parser sees them."""
    depth = 0
    for offset, char in enumerate(text):
        if char in _OPENING:
            depth += 1
            if depth > max_nesting:
                raise source.error(f"brackets nested more than {max_nesting} deep", offset)
        elif char in _CLOSING:
            depth -= 1
