"""Vector fields: divergence, curl, Laplacian and Jacobian at points or batches; the
conservative test and potentials; line, surface and flux integrals over parametrised
curves and surfaces; Green's, Stokes' and the divergence theorem with both sides."""

from .conservative import ConservativeTest, is_conservative, potential
from .integrals import flux, line_integral, line_integral_scalar, surface_integral
from .operators import at_points, curl, divergence, field_jacobian, laplacian_field
from .quadrature import QuadratureResult, gauss_legendre
from .theorems import Curve, Patch, TheoremCheck, divergence_theorem, green, stokes

__all__ = [
    "field_jacobian",
    "divergence",
    "curl",
    "laplacian_field",
    "at_points",
    "is_conservative",
    "potential",
    "ConservativeTest",
    "line_integral",
    "line_integral_scalar",
    "surface_integral",
    "flux",
    "QuadratureResult",
    "gauss_legendre",
    "Curve",
    "Patch",
    "TheoremCheck",
    "green",
    "stokes",
    "divergence_theorem",
]
