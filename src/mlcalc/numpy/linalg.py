"""Differentiable ``numpy.linalg``: ``mlcalc.numpy.linalg``."""

from __future__ import annotations

import numpy as _np

__all__: list[str] = []


def __getattr__(name):
    try:
        return getattr(_np.linalg, name)
    except AttributeError:
        raise AttributeError(f"module 'mlcalc.numpy.linalg' has no attribute {name!r}") from None
