"""Differentiable ``scipy.special``."""

from __future__ import annotations

import scipy.special as _sp

__all__: list[str] = []


def __getattr__(name):
    try:
        return getattr(_sp, name)
    except AttributeError:
        raise AttributeError(f"module 'mlcalc.scipy.special' has no attribute {name!r}") from None
