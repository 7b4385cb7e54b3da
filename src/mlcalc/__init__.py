"""mlcalc: the multivariable calculus of machine learning.

Derivatives of unmodified NumPy code, of any order, in forward and reverse mode::

    import numpy as np
    import mlcalc as mc

    f = lambda x: np.sum(np.sin(x) ** 2)
    mc.grad(f)(np.ones(3))
    mc.hessian(f)(np.ones(3))
"""

from __future__ import annotations

from . import (  # noqa: F401  (fill the engine's dispatch tables)
    calculus,  # noqa: E402
    numpy,
    scipy,
    tree,
)
from .autodiff.api import (
    grad,
    hessian,
    hvp,
    jacfwd,
    jacobian,
    jacrev,
    jvp,
    linearize,
    stop_gradient,
    value_and_grad,
    vjp,
)
from .autodiff.core import NotDifferentiableError, TracerConversionError, TracerConversionWarning
from .autodiff.custom import checkpoint, custom_jvp, custom_vjp
from .autodiff.vmap import vmap
from .calculus import (  # noqa: E402  (the most used names of the calculus toolkit)
    check_grad,
    classify,
    critical_points,
    curvature,
    directional_derivative,
    gradient,
    jacobian_det,
    kkt_residuals,
    lagrange,
    laplacian,
    log_abs_det_jacobian,
    lstsq,
    partial,
    taylor,
    total_derivative,
)

__version__ = "0.1.0"

__all__ = [
    "grad",
    "value_and_grad",
    "vjp",
    "jvp",
    "linearize",
    "jacfwd",
    "jacrev",
    "jacobian",
    "hessian",
    "hvp",
    "stop_gradient",
    "vmap",
    "custom_jvp",
    "custom_vjp",
    "checkpoint",
    "tree",
    "calculus",
    "partial",
    "directional_derivative",
    "gradient",
    "jacobian_det",
    "log_abs_det_jacobian",
    "total_derivative",
    "curvature",
    "laplacian",
    "taylor",
    "classify",
    "critical_points",
    "lagrange",
    "kkt_residuals",
    "lstsq",
    "check_grad",
    "NotDifferentiableError",
    "TracerConversionError",
    "TracerConversionWarning",
]
