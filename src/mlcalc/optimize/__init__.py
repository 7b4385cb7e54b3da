"""Optimization with trajectories and convergence diagnostics: ``minimize`` with
scipy.optimize's interface over mlcalc's methods (first-order, adaptive, second-order,
quasi-Newton, constrained, proximal), derivatives from the engine."""

from . import first_order, quasi_newton, second_order  # noqa: F401  (register their methods)
from .minimize import minimize
from .registry import METHODS
from .result import ConvergenceRate, OptimizeResult, Trajectory, estimate_rate

__all__ = [
    "minimize",
    "METHODS",
    "OptimizeResult",
    "Trajectory",
    "ConvergenceRate",
    "estimate_rate",
]
