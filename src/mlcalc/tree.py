"""Pytrees: ``mc.tree.register``, ``flatten``, ``unflatten``, ``map``, ``leaves``."""

from .autodiff.tree import TreeDef, flatten, leaves, map, register, structure, unflatten

__all__ = ["register", "flatten", "unflatten", "leaves", "map", "structure", "TreeDef"]
