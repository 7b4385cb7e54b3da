"""Layers and the :class:`Sequential` model, written with differentiable NumPy.

A layer has ``init(rng, in_dim) -> (params, out_dim)`` and ``apply(params, x)``;
``in_dim``/``out_dim`` are the shape of one example (an int for feature vectors, a
tuple such as ``(C, H, W)`` for images). Parameters are pytrees: a dict of arrays, or
``{}`` for a parameterless layer. Batches carry the examples along axis 0.

=====================  ===========================================  ======================
layer                  computation                                  parameters
=====================  ===========================================  ======================
``Dense(units)``       x @ W + b                                    W (in, out), b (out,)
``Activation(f)``      f(x) elementwise                             none
``Conv2D(c, k)``       cross-correlation, NCHW (as PyTorch)          W (c, C, kh, kw),
                                                                    b (c,)
``Flatten()``          (n, ...) → (n, Π ...)                        none
``LayerNorm()``        γ ⊙ (x − μ)/√(σ² + ε) + β over the last axis  gamma, beta (d,)
``Residual(block)``    x + block(x)                                 the block's
=====================  ===========================================  ======================

LayerNorm's parameters are named ``gamma``/``beta`` so that
:func:`mlcalc.models.infer_layout` classifies them as normalisation parameters.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..autodiff import tree
from .activations import get_activation
from .initializers import Initializer, get_initializer

__all__ = [
    "Layer",
    "Dense",
    "Activation",
    "Conv2D",
    "Flatten",
    "LayerNorm",
    "Residual",
    "Sequential",
    "conv2d",
    "mlp",
    "logistic_regression",
]

Shape = int | tuple[int, ...]


def _as_shape(in_dim: Shape) -> tuple[int, ...]:
    if isinstance(in_dim, (int, np.integer)):
        return (int(in_dim),)
    return tuple(int(s) for s in in_dim)


def _out(shape: tuple[int, ...]) -> Shape:
    return shape[0] if len(shape) == 1 else shape


def _rng(seed) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


class Layer:
    """Base class: ``init(rng, in_dim) -> (params, out_dim)``, ``apply(params, x)``;
    calling the layer is ``apply``."""

    def init(self, rng: np.random.Generator, in_dim: Shape) -> tuple[Any, Shape]:
        raise NotImplementedError

    def apply(self, params: Any, x):
        raise NotImplementedError

    def __call__(self, params: Any, x):
        return self.apply(params, x)


@dataclasses.dataclass(frozen=True)
class Dense(Layer):
    """Affine map x @ W + b on the last axis; W (in, out) from ``init``, b zeros.
    Cost O(n · in · out)."""

    units: int
    init_fn: str | Initializer = "glorot"
    use_bias: bool = True

    def __post_init__(self):
        if int(self.units) != self.units or self.units < 1:
            raise ValueError(f"Dense: units must be a positive integer, got {self.units!r}")

    def init(self, rng, in_dim):
        shape = _as_shape(in_dim)
        W = np.asarray(get_initializer(self.init_fn)(rng, (shape[-1], int(self.units))),
                       dtype=float)
        params = {"W": W, "b": np.zeros(int(self.units))} if self.use_bias else {"W": W}
        return params, _out(shape[:-1] + (int(self.units),))

    def apply(self, params, x):
        W = params["W"]
        if np.shape(x)[-1] != np.shape(W)[0]:
            raise ValueError(
                f"Dense: input of shape {np.shape(x)} has {np.shape(x)[-1]} features but W "
                f"has shape {np.shape(W)} (expects {np.shape(W)[0]})"
            )
        out = x @ W
        return out + params["b"] if "b" in params else out


@dataclasses.dataclass(frozen=True)
class Activation(Layer):
    """An elementwise function: a name in ``ACTIVATIONS`` (tanh, relu, gelu, softplus,
    sigmoid, identity) or a callable written with NumPy."""

    fn: str | Callable = "tanh"

    def __post_init__(self):
        get_activation(self.fn)  # fail early on an unknown name

    def init(self, rng, in_dim):
        return {}, in_dim

    def apply(self, params, x):
        return get_activation(self.fn)(x)


def _pair(v, what: str) -> tuple[int, int]:
    if isinstance(v, (int, np.integer)):
        return int(v), int(v)
    t = tuple(int(a) for a in v)
    if len(t) != 2:
        raise ValueError(f"Conv2D: {what} must be an int or a pair, got {v!r}")
    return t


def _padding(padding, kernel: tuple[int, int]) -> tuple[tuple[int, int], tuple[int, int]]:
    if isinstance(padding, str):
        if padding.lower() == "valid":
            return (0, 0), (0, 0)
        if padding.lower() == "same":
            return tuple(((k - 1) // 2, k - 1 - (k - 1) // 2) for k in kernel)  # type: ignore
        raise ValueError(f"Conv2D: padding must be 'valid', 'same' or ints, got {padding!r}")
    ph, pw = _pair(padding, "padding")
    return (ph, ph), (pw, pw)


def conv2d(x, W, stride=1, padding=0):
    """2-D cross-correlation (no kernel flip), NCHW:
    out[n, o, i, j] = Σ_{c,p,q} x_pad[n, c, i·s_h + p, j·s_w + q] · W[o, c, p, q].

    ``x``: (N, C, H, W); ``W``: (O, C, kh, kw); ``stride`` an int or pair; ``padding``
    an int, a pair, ``"valid"`` or ``"same"`` (zeros; for odd stride-1 kernels the
    output keeps H×W). Built from kh·kw strided slices stacked into patches and one
    einsum, so every derivative comes from the engine. Cost O(N·O·C·kh·kw·Ho·Wo)."""
    xs, ws = np.shape(x), np.shape(W)
    if len(xs) != 4 or len(ws) != 4 or xs[1] != ws[1]:
        raise ValueError(
            f"conv2d: expects x (N, C, H, W) and W (O, C, kh, kw) with the same C; got x "
            f"{xs} and W {ws}"
        )
    kh, kw = ws[2], ws[3]
    sh, sw = _pair(stride, "stride")
    (pt, pb), (pl, pr) = _padding(padding, (kh, kw))
    if pt or pb or pl or pr:
        x = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)))
    H, Wd = xs[2] + pt + pb, xs[3] + pl + pr
    Ho, Wo = (H - kh) // sh + 1, (Wd - kw) // sw + 1
    if Ho < 1 or Wo < 1:
        raise ValueError(
            f"conv2d: a {kh}×{kw} kernel does not fit the padded {H}×{Wd} input; pad it or "
            "use a smaller kernel"
        )
    patches = np.stack(
        [
            x[:, :, p : p + sh * (Ho - 1) + 1 : sh, q : q + sw * (Wo - 1) + 1 : sw]
            for p in range(kh)
            for q in range(kw)
        ],
        axis=2,
    )  # (N, C, kh·kw, Ho, Wo)
    return np.einsum("nckhw,ock->nohw", patches, W.reshape(ws[0], ws[1], kh * kw))


@dataclasses.dataclass(frozen=True)
class Conv2D(Layer):
    """A small 2-D convolution (cross-correlation) on NCHW batches, see :func:`conv2d`;
    kernel W (out_channels, in_channels, kh, kw) from ``init`` (He by default), bias
    zeros. ``in_dim`` is (C, H, W)."""

    out_channels: int
    kernel_size: int | tuple[int, int] = 3
    stride: int | tuple[int, int] = 1
    padding: int | tuple[int, int] | str = 0
    init_fn: str | Initializer = "he"
    use_bias: bool = True

    def init(self, rng, in_dim):
        shape = _as_shape(in_dim)
        if len(shape) != 3:
            raise ValueError(f"Conv2D: needs in_dim (C, H, W), got {in_dim!r}")
        C, H, W = shape
        kh, kw = _pair(self.kernel_size, "kernel_size")
        sh, sw = _pair(self.stride, "stride")
        (pt, pb), (pl, pr) = _padding(self.padding, (kh, kw))
        Ho, Wo = (H + pt + pb - kh) // sh + 1, (W + pl + pr - kw) // sw + 1
        if Ho < 1 or Wo < 1:
            raise ValueError(f"Conv2D: a {kh}×{kw} kernel does not fit input {shape}")
        O = int(self.out_channels)
        K = np.asarray(get_initializer(self.init_fn)(rng, (O, C, kh, kw)), dtype=float)
        params = {"W": K, "b": np.zeros(O)} if self.use_bias else {"W": K}
        return params, (O, Ho, Wo)

    def apply(self, params, x):
        out = conv2d(x, params["W"], self.stride, self.padding)
        if "b" in params:
            out = out + params["b"].reshape(-1, 1, 1)
        return out


@dataclasses.dataclass(frozen=True)
class Flatten(Layer):
    """(n, d₁, d₂, ...) → (n, d₁·d₂·…)."""

    def init(self, rng, in_dim):
        return {}, int(np.prod(_as_shape(in_dim)))

    def apply(self, params, x):
        return x.reshape(np.shape(x)[0], -1)


@dataclasses.dataclass(frozen=True)
class LayerNorm(Layer):
    """Layer normalisation (Ba et al. 2016) over the last axis:
    γ ⊙ (x − μ)/√(σ² + ε) + β, μ and σ² the mean and (biased) variance of the features;
    γ (``gamma``) starts at ones, β (``beta``) at zeros."""

    eps: float = 1e-5

    def init(self, rng, in_dim):
        d = _as_shape(in_dim)[-1]
        return {"gamma": np.ones(d), "beta": np.zeros(d)}, in_dim

    def apply(self, params, x):
        mu = np.mean(x, axis=-1, keepdims=True)
        c = x - mu
        var = np.mean(c * c, axis=-1, keepdims=True)
        return c / np.sqrt(var + self.eps) * params["gamma"] + params["beta"]


def _init_layer(layer, rng, in_dim):
    if isinstance(layer, Sequential):
        return layer.init_layer(rng, in_dim)
    return layer.init(rng, in_dim)


@dataclasses.dataclass(frozen=True)
class Residual(Layer):
    """x + block(x) (He et al. 2016); ``block`` is a layer or a list of layers (run in
    sequence) whose output has the input's shape. Parameters: the block's."""

    block: Any

    def __post_init__(self):
        if isinstance(self.block, (list, tuple)):
            object.__setattr__(self, "block", Sequential(list(self.block)))

    def init(self, rng, in_dim):
        params, out_dim = _init_layer(self.block, rng, in_dim)
        if _as_shape(out_dim) != _as_shape(in_dim):
            raise ValueError(
                f"Residual: the block maps shape {in_dim} to {out_dim}; x + block(x) needs "
                "the same shape"
            )
        return params, in_dim

    def apply(self, params, x):
        return x + self.block.apply(params, x)


class Sequential(Layer):
    """Layers applied in order: f = f_L ∘ … ∘ f_1.

    ``model.init(seed)`` returns the parameters: a list with one entry per layer (a
    dict of arrays, ``{}`` for parameterless layers); ``model(params, X)`` the outputs
    for a batch X of shape (n, *input_shape); ``model.activations(params, X)`` the list
    [a₀ = X, a₁, …, a_L] of every layer's output. A Sequential is also a layer
    (``init_layer(rng, in_dim)``, ``apply``), so it nests, e.g. inside
    :class:`Residual`.
    """

    def __init__(self, layers: Sequence[Layer], input_shape: Shape | None = None):
        layers = list(layers)
        for i, layer in enumerate(layers):
            if not (hasattr(layer, "apply") and (hasattr(layer, "init")
                                                 or hasattr(layer, "init_layer"))):
                raise TypeError(
                    f"Sequential: entry {i} ({layer!r}) is not a layer; layers have "
                    "init(rng, in_dim) and apply(params, x)"
                )
        self.layers = layers
        self.input_shape = None if input_shape is None else _out(_as_shape(input_shape))

    # -- parameters ----------------------------------------------------------------
    def init_layer(self, rng: np.random.Generator, in_dim: Shape) -> tuple[list, Shape]:
        """The layer protocol: (params, out_dim) for inputs of shape ``in_dim``."""
        params = []
        dim = in_dim
        for layer in self.layers:
            p, dim = _init_layer(layer, rng, dim)
            params.append(p)
        return params, dim

    def init(self, seed: int | np.random.Generator = 0, input_shape: Shape | None = None):
        """Fresh parameters from ``seed`` (an int or a Generator): a list with one
        entry per layer. ``input_shape`` overrides the one given at construction."""
        shape = self.input_shape if input_shape is None else input_shape
        if shape is None:
            raise ValueError(
                "Sequential.init: the input shape is unknown; pass input_shape= here or to "
                "Sequential(layers, input_shape=...)"
            )
        return self.init_layer(_rng(seed), shape)[0]

    def output_shape(self, input_shape: Shape | None = None) -> Shape:
        """The shape of one output example."""
        shape = self.input_shape if input_shape is None else input_shape
        if shape is None:
            raise ValueError("Sequential.output_shape: pass input_shape")
        return self.init_layer(np.random.default_rng(0), shape)[1]

    def n_params(self, input_shape: Shape | None = None) -> int:
        """The number of scalar parameters."""
        params = self.init(0, input_shape)
        return int(sum(np.size(leaf) for leaf in tree.leaves(params)))

    # -- evaluation ----------------------------------------------------------------
    def _check(self, params):
        if not isinstance(params, (list, tuple)) or len(params) != len(self.layers):
            got = len(params) if isinstance(params, (list, tuple)) else type(params).__name__
            raise ValueError(
                f"Sequential: params must be a list with one entry per layer "
                f"({len(self.layers)}), got {got}; build them with model.init(seed)"
            )

    def apply(self, params, x):
        self._check(params)
        for layer, p in zip(self.layers, params):
            x = layer.apply(p, x)
        return x

    def __call__(self, params, X):
        return self.apply(params, X)

    def activations(self, params, X) -> list:
        """[a₀ = X, a₁, …, a_L], aₖ the output of layer k."""
        self._check(params)
        out = [X]
        for layer, p in zip(self.layers, params):
            out.append(layer.apply(p, out[-1]))
        return out

    def __len__(self) -> int:
        return len(self.layers)

    def __repr__(self) -> str:
        inner = ", ".join(repr(layer) for layer in self.layers)
        return f"Sequential([{inner}], input_shape={self.input_shape})"


def mlp(
    sizes: Sequence[int],
    activation: str | Callable = "tanh",
    init: str | Initializer = "glorot",
    residual: bool = False,
    layer_norm: bool = False,
) -> Sequential:
    """A multilayer perceptron with layer widths ``sizes = [d_in, h₁, …, d_out]``:
    Dense → (LayerNorm) → activation for each hidden layer, then a linear Dense
    output layer. With ``residual=True`` every hidden block whose width equals its
    input's becomes x + act(LN(Dense(x))). Parameters: Σ (hₖ₋₁ + 1) hₖ (+ 2hₖ per
    LayerNorm)."""
    sizes = [int(s) for s in sizes]
    if len(sizes) < 2 or min(sizes) < 1:
        raise ValueError(f"mlp: sizes must list ≥ 2 positive widths [d_in, ..., d_out], got "
                         f"{sizes}")
    get_activation(activation)
    layers: list[Layer] = []
    for a, b in zip(sizes[:-2], sizes[1:-1]):
        block: list[Layer] = [Dense(b, init)]
        if layer_norm:
            block.append(LayerNorm())
        block.append(Activation(activation))
        if residual and a == b:
            layers.append(Residual(block))
        else:
            layers.extend(block)
    layers.append(Dense(sizes[-1], init))
    return Sequential(layers, input_shape=sizes[0])


def logistic_regression(d: int, classes: int = 2, init: str | Initializer = "glorot"
                        ) -> Sequential:
    """Multinomial logistic regression: logits x @ W + b with W (d, classes); use
    ``classes=1`` for a single logit (the ``logistic`` loss)."""
    return Sequential([Dense(int(classes), init)], input_shape=int(d))
