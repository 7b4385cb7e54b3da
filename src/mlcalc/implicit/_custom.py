"""The one mechanism behind every implicit transform: a function with an explicit
forward rule *and* an explicit reverse rule, whose body runs on plain values only.

``implicit_function(raw, jvp_rule, fwd, bwd)`` nests the engine's two decorators,
``custom_vjp(custom_jvp(raw))``:

- reverse mode meets the outer ``custom_vjp`` and uses ``fwd``/``bwd``;
- forward mode passes through it to the ``custom_jvp`` rule (``custom_vjp`` alone would
  differentiate ``raw`` itself, i.e. unroll the solver);
- with no traced argument, ``raw`` runs on plain NumPy values, so nothing of the solver
  is ever recorded.

The rules call the outer function again (on lower-level values), so a rule that is
itself traced by an enclosing transform uses the rules once more: every order works.

Under ``vmap`` the function is applied example by example (the solver has loops and
convergence tests that cannot run on a whole batch at once); each example still goes
through the rules for enclosing transforms.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .. import numpy as mnp
from ..autodiff import tree
from ..autodiff.core import is_tracer
from ..autodiff.custom import custom_jvp, custom_vjp
from ..autodiff.tree import ravel

__all__ = ["implicit_function", "ravel", "tree_add", "tree_neg", "tree_sub", "DiffArgs",
           "check_untraced"]


def implicit_function(raw: Callable, tangent: Callable, fwd: Callable, bwd: Callable,
                      name: str) -> Callable:
    """``raw`` (plain values in, plain values out) with the forward rule
    ``tangent(out, primals, tangents) -> tangent_out`` (given the output already
    computed) and the reverse rules ``fwd(*args) -> (out, residuals)``,
    ``bwd(residuals, cotangent) -> tuple`` (one cotangent per positional argument,
    ``None`` for zero). See the module docstring."""
    outer = None

    def jvp_rule(primals, tangents):
        out = outer(*primals)
        return out, tangent(out, tuple(primals), tuple(tangents))

    inner = custom_jvp(raw, vmap="loop")  # the solver runs once per example
    inner.defjvp(jvp_rule)
    inner.prim.name = f"{name}.jvp"

    def call(*args):
        return inner(*args)

    call.__name__ = name
    outer = custom_vjp(call, vmap="loop")
    outer.defvjp(fwd, bwd)
    outer.prim.name = name

    def sweep_rule(tangents, out, *vals, in_def, store, **_):
        # forward sweep over a recorded tape (linearize, jacobian(mode="auto")): the
        # node holds the output, so no solve is repeated
        ts = [zeros_like(v) if t is None else t for t, v in zip(tangents, vals)]
        t_out = tangent(tree.unflatten(store.out_def, list(out)),
                        tuple(tree.unflatten(in_def, list(vals))),
                        tuple(tree.unflatten(in_def, ts)))
        return tuple(tree.leaves(t_out))

    outer.prim.defjvp_all(sweep_rule)
    return outer


def zeros_like(x):
    """Zeros with the shape and dtype of a plain or traced value."""
    return mnp.zeros_like(x) if hasattr(x, "shape") else 0.0 * x


def tree_add(a, b):
    return tree.map(lambda x, y: x + y, a, b)


def tree_sub(a, b):
    return tree.map(lambda x, y: x - y, a, b)


def tree_neg(a):
    return tree.map(lambda x: -x, a)


def _is_float(x) -> bool:
    dt = getattr(x, "dtype", None)
    if dt is None:
        return isinstance(x, float)
    return np.dtype(dt).kind == "f"


class DiffArgs:
    """The floating-point leaves of a tuple of arguments (the ones with derivatives),
    and the way back: integer, boolean or other settings among the arguments are held
    fixed instead of being handed to ``jvp``/``vjp`` (which would refuse them)."""

    def __init__(self, args: tuple):
        self.leaves, self.treedef = tree.flatten(tuple(args))
        self.index = [i for i, x in enumerate(self.leaves) if _is_float(x)]
        self.diff = tuple(self.leaves[i] for i in self.index)

    def rebuild(self, diff) -> tuple:
        """The arguments with the floating-point leaves replaced by ``diff``."""
        out = list(self.leaves)
        for i, v in zip(self.index, diff):
            out[i] = v
        return tuple(tree.unflatten(self.treedef, out))

    def select(self, tangents: tuple) -> tuple:
        """The entries of a structure-matching ``tangents`` at the floating leaves."""
        t = tree.leaves(tuple(tangents))
        return tuple(t[i] for i in self.index)

    def expand(self, cotangents) -> tuple:
        """Per-argument cotangents: ``cotangents`` at the floating leaves, zeros else."""
        out = [mnp.zeros_like(x) for x in self.leaves]
        for i, c in zip(self.index, cotangents):
            out[i] = c
        return tuple(tree.unflatten(self.treedef, out))


def check_untraced(value, what: str, name: str) -> None:
    """Refuse a traced value where only plain values can appear: the function that made
    it closed over a value of an enclosing transform, whose derivative the implicit
    rules cannot see."""
    if any(is_tracer(v) for v in tree.leaves(value)):
        raise TypeError(
            f"{name}: {what} returned a traced value although every argument was plain: "
            "it closes over a value that is being differentiated (or vmapped). Pass that "
            "value as an argument instead (solver(init, *args), F(x, *args), "
            "matvec(v, *operands)), so that the implicit derivative sees it."
        )
