"""Optimization with trajectories and convergence diagnostics: ``minimize`` with
scipy.optimize's interface over mlcalc's methods (first-order, adaptive, second-order,
quasi-Newton, constrained, proximal), derivatives from the engine."""

from . import (  # noqa: F401  (register their methods)
    constrained,
    first_order,
    natural_gradient,
    proximal,
    quasi_newton,
    second_order,
    stochastic,
    transforms,
)
from .constrained import (
    project_box,
    project_l1_ball,
    project_l2_ball,
    project_nonnegative,
    project_simplex,
)
from .least_squares import least_squares
from .minimax import MinimaxTrajectory, minimax
from .minimize import minimize
from .natural_gradient import (
    fisher_information,
    natural_gradient,  # noqa: F811  (the function, over the module)
)
from .proximal import prox_box, prox_elastic_net, prox_l1, prox_l2, prox_nonnegative
from .registry import METHODS
from .result import ConvergenceRate, OptimizeResult, Trajectory, estimate_rate
from .stochastic import StochasticObjective

__all__ = [
    "minimize",
    "METHODS",
    "OptimizeResult",
    "Trajectory",
    "ConvergenceRate",
    "estimate_rate",
    "StochasticObjective",
    "transforms",
    "least_squares",
    "minimax",
    "MinimaxTrajectory",
    "natural_gradient",
    "fisher_information",
    "project_box",
    "project_simplex",
    "project_l1_ball",
    "project_l2_ball",
    "project_nonnegative",
    "prox_l1",
    "prox_l2",
    "prox_elastic_net",
    "prox_box",
    "prox_nonnegative",
]
