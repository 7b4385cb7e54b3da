"""Name lookup shared by the model building blocks (activations, losses, initialisers)."""

from __future__ import annotations

from collections.abc import Callable, Mapping


def lookup(table: Mapping[str, Callable], key: str | Callable, what: str,
           alternative: str = "") -> Callable:
    """``key`` itself when it is callable, else ``table[key.lower()]``; an unknown name
    raises ValueError listing the known ones (and ``alternative``, what to pass
    instead)."""
    if callable(key):
        return key
    name = str(key).lower()
    if name not in table:
        raise ValueError(f"unknown {what} {key!r}; known: {', '.join(sorted(table))}"
                         + (f", or {alternative}" if alternative else ""))
    return table[name]
