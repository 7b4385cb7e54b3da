"""The integrals of probabilistic machine learning: the Laplace approximation of the
model evidence, Monte Carlo gradients of expectations (reparameterisation and score
function), and stochastic differential equations (Euler–Maruyama, the probability-flow
ODE, the Ornstein–Uhlenbeck process in closed form)."""

from .gradients import (
    DiagonalGaussian,
    Gaussian,
    GradientEstimate,
    reparameterization_gradient,
    score_function_gradient,
)
from .laplace import LaplaceResult, hessian_logdet, laplace_evidence
from .sde import OrnsteinUhlenbeck, SDEPaths, euler_maruyama, probability_flow

__all__ = [
    "laplace_evidence",
    "LaplaceResult",
    "hessian_logdet",
    "DiagonalGaussian",
    "Gaussian",
    "GradientEstimate",
    "reparameterization_gradient",
    "score_function_gradient",
    "euler_maruyama",
    "probability_flow",
    "OrnsteinUhlenbeck",
    "SDEPaths",
]
