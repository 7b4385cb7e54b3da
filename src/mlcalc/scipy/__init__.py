"""Differentiable SciPy: ``mlcalc.scipy.special`` mirrors ``scipy.special``."""

from . import special

__all__ = ["special"]
