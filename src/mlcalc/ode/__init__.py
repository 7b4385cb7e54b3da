"""Ordinary differential equations: explicit Runge–Kutta solvers differentiable by the
engine."""

from .solvers import METHODS, odeint

__all__ = ["odeint", "METHODS"]
