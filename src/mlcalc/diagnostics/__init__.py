"""Diagnostics of training: gradient flow through depth (vanishing and exploding
gradients, dynamical isometry, update ratios), the depth experiment that reproduces the
textbook facts about initialisation, residual connections and normalisation, and the
gradient-clipping transformations (those of :mod:`mlcalc.optimize.transforms`)."""

from ..optimize.transforms import clip_by_global_norm, clip_by_value, global_norm
from .experiments import CONFIGS, DepthExperiment, DepthRow, depth_experiment
from .flow import DEFAULT_THRESHOLDS, GradientFlowReport, LayerFlow, gradient_flow

__all__ = [
    "gradient_flow",
    "GradientFlowReport",
    "LayerFlow",
    "DEFAULT_THRESHOLDS",
    "depth_experiment",
    "DepthExperiment",
    "DepthRow",
    "CONFIGS",
    "clip_by_global_norm",
    "clip_by_value",
    "global_norm",
]
