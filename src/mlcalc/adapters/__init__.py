"""Framework adapters: PyTorch and JAX models as problems.

``TorchProblem(module, loss_fn, data, ...)`` and ``JaxProblem(apply_fn, params, loss_fn,
data, ...)`` have the attributes and methods of :class:`mlcalc.models.Problem` (the
problem protocol), with every gradient and curvature product computed by the
framework, so every landscape instrument runs on their models too. PyTorch and JAX are
optional: each is imported only when its adapter is built, with an error that says what
to install when it is missing.
"""

from .jax import JaxProblem
from .torch import TorchProblem

__all__ = ["TorchProblem", "JaxProblem"]
