"""Vector fields: divergence, curl, Laplacian and Jacobian at a point or a batch of
points; the conservative test and potentials; line, surface and flux integrals over
parametrised curves and surfaces; Green's, Stokes' and the divergence theorem with
both sides computed.

Convention: fields are written for one point (a vector field maps (d,) to (d,), a
scalar field (d,) to a scalar), curves for one scalar t, surfaces for one (u, v); the
operators and integrals vmap them over a batch (n, d) or over the quadrature nodes.
Derivatives (Jacobians, curls, r'(t), normals, volume elements) come from the engine;
integrals use adaptive tensor Gauss–Legendre rules with an error estimate from two
orders.
"""

from .conservative import ConservativeTest, Potential, is_conservative, potential
from .integrals import flux, line_integral, line_integral_scalar, surface_integral
from .operators import at_points, curl, divergence, field_jacobian, laplacian_field
from .quadrature import QuadratureResult, gauss_legendre
from .theorems import (
    Curve,
    Patch,
    TheoremCheck,
    divergence_theorem,
    green,
    polygon,
    segment,
    stokes,
    triangle,
)

__all__ = [
    "field_jacobian",
    "divergence",
    "curl",
    "laplacian_field",
    "at_points",
    "is_conservative",
    "potential",
    "ConservativeTest",
    "Potential",
    "line_integral",
    "line_integral_scalar",
    "surface_integral",
    "flux",
    "QuadratureResult",
    "gauss_legendre",
    "Curve",
    "Patch",
    "TheoremCheck",
    "segment",
    "polygon",
    "triangle",
    "green",
    "stokes",
    "divergence_theorem",
]
