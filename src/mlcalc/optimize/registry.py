"""The table of methods ``minimize`` dispatches to."""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["METHODS", "register_method"]

# name -> solver(objective, x0, run, *, bounds, constraints, **options) -> OptimizeResult
METHODS: dict[str, Callable] = {}


def register_method(*names: str) -> Callable:
    """Register a solver under one or more method names (lower case)."""

    def deco(solver: Callable) -> Callable:
        for name in names:
            METHODS[name.lower()] = solver
        return solver

    return deco
