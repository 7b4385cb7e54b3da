"""Pytrees: ``mc.tree.register``, ``flatten``, ``unflatten``, ``map``, ``leaves``,
``ravel`` (one flat vector and the map back)."""

from .autodiff.tree import (
    TreeDef,
    flatten,
    leaves,
    map,
    ravel,
    register,
    structure,
    unflatten,
)

__all__ = ["register", "flatten", "unflatten", "leaves", "map", "structure", "ravel", "TreeDef"]
