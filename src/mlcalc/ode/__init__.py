"""Ordinary differential equations: explicit Runge–Kutta solvers differentiable by the
engine."""

from .adjoint import odeint_adjoint
from .solvers import METHODS, odeint

__all__ = ["odeint", "odeint_adjoint", "METHODS"]
