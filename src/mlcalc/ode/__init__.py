"""Ordinary differential equations: explicit Runge–Kutta solvers (Euler, Heun, RK4,
adaptive Dormand–Prince) differentiable through their steps or by the adjoint method,
and the change-of-variables formula for maps and continuous flows."""

from .flows import FlowLogDet, LogDet, log_det_jacobian, log_det_jacobian_flow
from .runge_kutta import METHODS, dormand_prince_step
from .solvers import odeint

__all__ = [
    "odeint",
    "METHODS",
    "dormand_prince_step",
    "log_det_jacobian",
    "log_det_jacobian_flow",
    "LogDet",
    "FlowLogDet",
]
