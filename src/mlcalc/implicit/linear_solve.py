"""A differentiable matrix-free linear solve: x = A(p)⁻¹ b with A v = matvec(v, *p).

The solve itself runs on plain values with one of the Krylov solvers of
:mod:`mlcalc.implicit.krylov`; its derivatives are linear solves again (JAX's
``custom_linear_solve``):

    forward:  ẋ = A⁻¹ (ḃ − Ȧ x),            Ȧ x = ∂/∂p [matvec(x, p)] · ṗ
    reverse:  b̄ = A⁻ᵀ x̄,   p̄ = −(∂/∂p [matvec(x, p)])ᵀ b̄

and the transposed solve has the same rules with Aᵀ, so derivatives of any order work
and nothing of the iterations is ever recorded.
"""

from __future__ import annotations

from collections.abc import Callable

from .. import numpy as mnp
from ..autodiff import tree
from ..autodiff.api import jvp, vjp
from ._custom import DiffArgs, check_untraced, implicit_function, ravel, tree_neg, tree_sub
from .krylov import as_linear_solver

__all__ = ["linear_solve", "LinearSystem"]


def _transpose_matvec(matvec: Callable) -> Callable:
    """w ↦ Aᵀ w for a linear ``matvec``: its VJP at zero (reverse mode of the matvec)."""

    def rmatvec(w, *operands):
        _, pull = vjp(lambda v: matvec(v, *operands), tree.map(mnp.zeros_like, w))
        return pull(w)[0]

    return rmatvec


class LinearSystem:
    """The family of systems A(p) x = b for one operator ``matvec(v, *p)`` (linear in
    v; every quantity it depends on passed in ``p``, not closed over, so that
    derivatives with respect to it are seen). ``solve(b, *p)`` is differentiable with
    respect to b and p; ``T`` is the transposed family (``rmatvec`` if given, A itself
    when ``symmetric``, otherwise reverse mode of the matvec)."""

    def __init__(self, matvec: Callable, solver: Callable, *, rmatvec: Callable | None = None,
                 symmetric: bool = False, name: str = "linear_solve"):
        self.matvec = matvec
        self.rmatvec = rmatvec
        self.solver = solver
        self.symmetric = bool(symmetric)
        self.name = name
        self._transposed: LinearSystem | None = None
        self.solve = implicit_function(self._raw, self._tangent, self._fwd, self._bwd, name)

    @property
    def T(self) -> LinearSystem:
        if self.symmetric:
            return self
        if self._transposed is None:
            rm = self.rmatvec if self.rmatvec is not None else _transpose_matvec(self.matvec)
            t = LinearSystem(rm, self.solver, rmatvec=self.matvec, name=f"{self.name}ᵀ")
            t._transposed = self
            self._transposed = t
        return self._transposed

    # -- the solve on plain values -------------------------------------------------
    def _raw(self, b, *operands):
        b_flat, unravel = ravel(b)
        n = b_flat.size
        b_def = tree.structure(b)

        def mv(v):
            out = self.matvec(unravel(v), *operands)
            check_untraced(out, "the operator", self.name)
            out_flat, _ = ravel(out)
            if tree.structure(out) != b_def or out_flat.size != n:
                raise ValueError(
                    f"{self.name}: the operator must map the unknowns to the structure "
                    f"of the right-hand side ({n} numbers, {b_def}); it returned "
                    f"{out_flat.size} numbers with structure {tree.structure(out)}."
                )
            return out_flat

        return unravel(self.solver(mv, b_flat))

    # -- forward rule ------------------------------------------------------------------
    def _tangent(self, x, primals, tangents):
        b, *ops = primals
        b_dot, *ops_dot = tangents
        rhs = b_dot
        d = DiffArgs(tuple(ops))
        if d.diff:
            _, a_dot_x = jvp(lambda *p: self.matvec(x, *d.rebuild(p)), d.diff,
                             d.select(tuple(ops_dot)))
            rhs = tree_sub(b_dot, a_dot_x)
        return self.solve(rhs, *ops)

    # -- reverse rule ------------------------------------------------------------------
    def _fwd(self, b, *ops):
        x = self.solve(b, *ops)
        return x, (x, ops)

    def _bwd(self, res, x_bar):
        x, ops = res
        b_bar = self.T.solve(x_bar, *ops)
        d = DiffArgs(tuple(ops))
        if not d.diff:
            return (b_bar, *d.expand(()))
        _, pull = vjp(lambda *p: self.matvec(x, *d.rebuild(p)), *d.diff)
        return (b_bar, *d.expand(tree_neg(tuple(pull(b_bar)))))


def linear_solve(matvec: Callable, b, *operands, solve=None, rmatvec: Callable | None = None,
                 symmetric: bool = False):
    """x solving ``matvec(x, *operands) = b``, differentiable with respect to ``b`` and
    ``operands`` in forward and reverse mode, to any order.

    ``matvec(v, *operands)`` must be linear in v and map the structure of ``b`` (a
    pytree) to itself; everything it depends on that should be differentiated must be
    passed in ``operands`` rather than closed over. ``solve``: None (CG if
    ``symmetric`` else GMRES), a method name ("cg", "gmres", "bicgstab", "dense"), a
    :class:`~mlcalc.implicit.LinearSolver` or a callable ``solve(matvec, b) -> x`` on
    1-D vectors. ``rmatvec(w, *operands)`` (Aᵀw) is used by reverse mode; without it,
    Aᵀw comes from reverse mode through ``matvec`` (or A itself when ``symmetric``).
    Derivatives cost one further solve (with A in forward mode, Aᵀ in reverse mode)."""
    solver = as_linear_solver(solve, symmetric=symmetric)
    symmetric = symmetric or getattr(solver, "symmetric", False)
    system = LinearSystem(matvec, solver, rmatvec=rmatvec, symmetric=symmetric)
    return system.solve(b, *operands)
