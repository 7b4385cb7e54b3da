"""Small differentiable building blocks for models: layers, activations, losses,
initialisers, built-in data sets, and the ``Problem`` that bundles them for the
landscape instruments; ``make_problem`` and ``train`` build and fit one."""

from .activations import ACTIVATIONS, gelu, get_activation, identity, relu, sigmoid, softplus, tanh
from .data import DATASETS, blobs, load_arrays, standardize, teacher_student, two_moons, two_spirals
from .initializers import (
    INITIALIZERS,
    fans,
    get_initializer,
    glorot_normal,
    glorot_uniform,
    he_normal,
    he_uniform,
    kaiming_normal,
    kaiming_uniform,
    lecun_normal,
    normal,
    ones,
    orthogonal,
    xavier_normal,
    xavier_uniform,
    zeros,
)
from .layers import (
    Activation,
    Conv2D,
    Dense,
    Flatten,
    Layer,
    LayerNorm,
    Residual,
    Sequential,
    conv2d,
    logistic_regression,
    mlp,
)
from .losses import LOSSES, cross_entropy, get_loss, log_softmax, logistic, mse
from .problem import ParamInfo, Problem, infer_layout
from .training import DEFAULT_HIDDEN, TRANSFORM_METHODS, TrainResult, make_problem, train

__all__ = [
    # problem
    "Problem", "ParamInfo", "infer_layout", "make_problem", "train", "TrainResult",
    "DEFAULT_HIDDEN", "TRANSFORM_METHODS",
    # layers and models
    "Layer", "Dense", "Activation", "Conv2D", "Flatten", "LayerNorm", "Residual",
    "Sequential", "conv2d", "mlp", "logistic_regression",
    # activations
    "tanh", "relu", "gelu", "softplus", "sigmoid", "identity", "ACTIVATIONS",
    "get_activation",
    # losses
    "cross_entropy", "mse", "logistic", "log_softmax", "LOSSES", "get_loss",
    # initialisers
    "glorot_uniform", "glorot_normal", "xavier_uniform", "xavier_normal", "he_normal",
    "he_uniform", "kaiming_normal", "kaiming_uniform", "lecun_normal", "orthogonal",
    "normal", "zeros", "ones", "fans", "get_initializer", "INITIALIZERS",
    # data
    "two_spirals", "two_moons", "blobs", "teacher_student", "load_arrays", "standardize",
    "DATASETS",
]
