"""The error raised for every rejected expression, and SymPy's lazy import."""

from __future__ import annotations

__all__ = ["ExpressionError", "require_sympy"]

_WINDOW = 72


class ExpressionError(ValueError):
    """A typed expression was rejected.

    ``reason`` says what was rejected; ``text`` is the expression and ``offset`` the
    0-based index of the offending character in it (``None`` when the whole
    expression is at fault). The message names the column (1-based, as editors count)
    and draws the expression with a caret under that character::

        attribute access is not allowed (column 2)
          x.__class__
           ^
    """

    def __init__(self, reason: str, text: str | None = None, offset: int | None = None):
        self.reason = reason
        self.text = text
        self.offset = offset
        super().__init__(_format(reason, text, offset))


def _format(reason: str, text: str | None, offset: int | None) -> str:
    if text is None:
        return reason
    if offset is None:
        return f"{reason}\n  {_excerpt(text, 0)[0]}"
    offset = min(max(offset, 0), len(text))
    line, caret = _excerpt(text, offset)
    return f"{reason} (column {offset + 1})\n  {line}\n  {' ' * caret}^"


def _excerpt(text: str, offset: int) -> tuple[str, int]:
    """At most ``_WINDOW`` characters of ``text`` around ``offset``, on one line
    (whitespace shown as spaces, other unprintable characters as '?'), and the caret's
    position in them; cut ends are marked with '...'."""
    start = max(0, min(offset - _WINDOW // 2, len(text) - _WINDOW))
    end = start + _WINDOW
    head = "..." if start > 0 else ""
    tail = "..." if end < len(text) else ""
    shown = "".join(c if c.isprintable() else " " if c.isspace() else "?" for c in text[start:end])
    return head + shown + tail, len(head) + offset - start


def require_sympy():
    """Import SymPy, or raise an ImportError saying how to install it."""
    try:
        import sympy
    except ImportError as exc:  # pragma: no cover - exercised only without SymPy
        raise ImportError(
            "mlcalc.expr needs SymPy; install it with: pip install 'mlcalc[faces]'"
        ) from exc
    return sympy
