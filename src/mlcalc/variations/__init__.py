"""The calculus of variations: the Euler–Lagrange residual of a trajectory for a
Lagrangian L(t, q, q̇), and boundary-value problems for functionals ∫ L dt solved by
discretise-and-optimise (with integral constraints)."""

from .bvp import BVPResult, solve_bvp_functional
from .lagrangian import euler_lagrange_residual

__all__ = ["euler_lagrange_residual", "solve_bvp_functional", "BVPResult"]
