"""Small differentiable building blocks for models: layers, activations, losses,
initialisers, built-in data sets, and the ``Problem`` that bundles them for the
landscape instruments."""

from .problem import ParamInfo, Problem, infer_layout

__all__ = ["Problem", "ParamInfo", "infer_layout"]
