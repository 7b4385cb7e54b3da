"""Layers, activations, losses and initialisers of mlcalc.models: derivatives against
finite differences (first and second order), closed forms, vmap-friendliness."""

import numpy as np
import pytest
import scipy.signal
import scipy.special
import scipy.stats

import mlcalc as mc
from mlcalc.models import (
    Activation,
    Conv2D,
    Dense,
    Flatten,
    LayerNorm,
    Residual,
    Sequential,
    conv2d,
    cross_entropy,
    fans,
    gelu,
    get_initializer,
    glorot_normal,
    glorot_uniform,
    he_normal,
    he_uniform,
    infer_layout,
    logistic,
    logistic_regression,
    mlp,
    mse,
    normal,
    orthogonal,
    relu,
    sigmoid,
    softplus,
    tanh,
)
from mlcalc.testing import check_grads

RNG = np.random.default_rng(1234)


# ----------------------------------------------------------------- activations
@pytest.mark.parametrize("act", [tanh, relu, gelu, softplus, sigmoid])
def test_activation_derivatives(act):
    x = RNG.normal(size=(3, 4)) + 0.05  # away from relu's kink
    check_grads(act, (x,), order=2)


def test_activation_closed_forms():
    x = np.linspace(-4, 4, 41)
    np.testing.assert_allclose(gelu(x), x * scipy.stats.norm.cdf(x), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(softplus(x), np.log1p(np.exp(x)), rtol=1e-13)
    np.testing.assert_allclose(sigmoid(x), 1 / (1 + np.exp(-x)), rtol=1e-13)
    # softplus' = sigmoid; gelu' = Φ(x) + x φ(x)
    np.testing.assert_allclose(mc.vmap(mc.grad(softplus))(x), sigmoid(x), rtol=1e-12)
    np.testing.assert_allclose(mc.vmap(mc.grad(gelu))(x),
                               scipy.stats.norm.cdf(x) + x * scipy.stats.norm.pdf(x),
                               rtol=1e-12, atol=1e-14)
    assert softplus(np.array(1000.0)) == 1000.0  # no overflow
    assert mc.grad(relu)(0.0) == 0.5  # documented tie convention
    with pytest.raises(ValueError, match="unknown activation"):
        Activation("swishy")


# ----------------------------------------------------------------- layers
def _init(layer, in_dim, seed=0):
    return layer.init(np.random.default_rng(seed), in_dim)


def test_dense_derivatives_and_shape():
    layer = Dense(3)
    params, out = _init(layer, 4)
    assert out == 3 and params["W"].shape == (4, 3) and params["b"].shape == (3,)
    x = RNG.normal(size=(5, 4))
    np.testing.assert_allclose(layer(params, x), x @ params["W"] + params["b"])
    check_grads(lambda W, b, x: np.sum(np.tanh(layer({"W": W, "b": b}, x))),
                (params["W"], params["b"], x), order=2)
    with pytest.raises(ValueError, match=r"has 5 features but W has shape \(4, 3\)"):
        layer(params, RNG.normal(size=(2, 5)))


def _conv_reference(x, W, stride, pad):
    x = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    N, C = x.shape[:2]
    O = W.shape[0]
    out = []
    for n in range(N):
        maps = []
        for o in range(O):
            acc = sum(scipy.signal.correlate(x[n, c], W[o, c], mode="valid") for c in range(C))
            maps.append(acc[::stride, ::stride])
        out.append(maps)
    return np.array(out)


@pytest.mark.parametrize("stride,pad", [(1, 0), (2, 1), (1, 2)])
def test_conv2d_matches_scipy_correlate(stride, pad):
    x = RNG.normal(size=(2, 3, 7, 6))
    W = RNG.normal(size=(4, 3, 3, 2))
    np.testing.assert_allclose(conv2d(x, W, stride, pad), _conv_reference(x, W, stride, pad),
                               rtol=1e-12, atol=1e-12)


def test_conv2d_same_padding_and_layer():
    x = RNG.normal(size=(1, 2, 6, 6))
    W = RNG.normal(size=(3, 2, 3, 3))
    out = conv2d(x, W, 1, "same")
    assert out.shape == (1, 3, 6, 6)
    ref = np.array([[sum(scipy.signal.correlate(x[0, c], W[o, c], mode="same")
                         for c in range(2)) for o in range(3)]])
    np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-12)
    layer = Conv2D(3, kernel_size=3, stride=2, padding=1)
    params, out_dim = _init(layer, (2, 6, 6))
    assert out_dim == (3, 3, 3) and params["W"].shape == (3, 2, 3, 3)
    assert layer(params, x).shape == (1,) + out_dim
    with pytest.raises(ValueError, match="same C"):
        conv2d(x, RNG.normal(size=(3, 4, 3, 3)))


def test_conv2d_derivatives():
    x = RNG.normal(size=(1, 2, 5, 4))
    W = RNG.normal(size=(2, 2, 3, 2))
    check_grads(lambda x, W: np.tanh(conv2d(x, W, 2, 1)), (x, W), order=2)


def test_layernorm_closed_form_and_derivatives():
    layer = LayerNorm()
    params, out = _init(layer, 6)
    x = 3.0 + 2.0 * RNG.normal(size=(4, 6))
    y = layer(params, x)
    np.testing.assert_allclose(y.mean(axis=1), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=1), x.var(axis=1) / (x.var(axis=1) + 1e-5),
                               rtol=1e-12)
    g, b = RNG.normal(size=6), RNG.normal(size=6)
    check_grads(lambda g, b, x: layer({"gamma": g, "beta": b}, x), (g, b, x), order=2)


def test_residual_flatten_and_shape_errors():
    block = Residual([Dense(3), Activation("tanh")])
    params, out = _init(block, 3)
    x = RNG.normal(size=(2, 3))
    inner = np.tanh(x @ params[0]["W"] + params[0]["b"])
    np.testing.assert_allclose(block(params, x), x + inner)
    check_grads(lambda W, x: block([{"W": W, "b": params[0]["b"]}, {}], x),
                (params[0]["W"], x), order=2)
    with pytest.raises(ValueError, match="maps shape 3 to 4"):
        _init(Residual(Dense(4)), 3)
    p, d = _init(Flatten(), (2, 3, 4))
    assert d == 24 and Flatten()({}, np.zeros((5, 2, 3, 4))).shape == (5, 24)


def test_sequential_params_activations_and_layout():
    model = mlp([2, 5, 5, 3], activation="relu", residual=True, layer_norm=True)
    params = model.init(0)
    assert len(params) == len(model)
    X = RNG.normal(size=(7, 2))
    acts = model.activations(params, X)
    assert len(acts) == len(model) + 1 and acts[0] is X
    np.testing.assert_allclose(acts[-1], model(params, X))
    kinds = {info.name: info.kind for info in infer_layout(params)}
    assert kinds["[3][1].gamma"] == "norm" and kinds["[3][1].beta"] == "norm"
    assert kinds["[0].W"] == "weight" and kinds["[0].b"] == "bias"
    np.testing.assert_allclose(model.init(0)[0]["W"], params[0]["W"])  # deterministic
    assert not np.allclose(model.init(1)[0]["W"], params[0]["W"])
    with pytest.raises(ValueError, match="one entry per layer"):
        model(params[:-1], X)
    with pytest.raises(ValueError, match="input shape is unknown"):
        Sequential([Dense(2)]).init(0)


def test_mlp_parameter_count_and_derivatives():
    assert mlp([2, 24, 24, 2]).n_params() == 3 * 24 + 25 * 24 + 25 * 2
    assert logistic_regression(4, 3).n_params() == 5 * 3
    model = mlp([3, 4, 2], activation="gelu")
    params = model.init(3)
    X = RNG.normal(size=(5, 3))
    check_grads(lambda p: model(p, X), (params,), order=2)
    conv = Sequential([Conv2D(2, 3, padding=1), Activation("softplus"), Flatten(), Dense(2)],
                      input_shape=(1, 4, 4))
    cparams = conv.init(0)
    images = RNG.normal(size=(2, 1, 4, 4))
    check_grads(lambda p: conv(p, images), (cparams,), order=1)


# ----------------------------------------------------------------- losses
def test_cross_entropy_closed_forms():
    n, C = 6, 5
    y = np.arange(n) % C
    assert np.isclose(cross_entropy(np.zeros((n, C)), y), np.log(C), rtol=1e-14)
    z = RNG.normal(size=(n, C))
    p = scipy.special.softmax(z, axis=1)
    expected = -np.mean(np.log(p[np.arange(n), y]))
    assert np.isclose(cross_entropy(z, y), expected, rtol=1e-13)
    onehot = np.eye(C)[y]
    np.testing.assert_allclose(mc.grad(cross_entropy)(z, y), (p - onehot) / n, atol=1e-14)
    assert np.isclose(cross_entropy(z, onehot), expected, rtol=1e-13)  # targets as probabilities
    big = z + 1e4  # log-softmax is shift invariant and stays finite
    assert np.isclose(cross_entropy(big, y), expected, rtol=1e-9)
    check_grads(lambda z: cross_entropy(z, y), (z,), order=2)


def test_logistic_and_mse_closed_forms():
    z = RNG.normal(size=8)
    y = (RNG.random(8) > 0.5).astype(int)
    assert np.isclose(logistic(np.zeros(8), y), np.log(2), rtol=1e-14)
    np.testing.assert_allclose(mc.grad(logistic)(z, y), (sigmoid(z) - y) / 8, atol=1e-15)
    assert np.isclose(logistic(np.array([1000.0, -1000.0]), np.array([0, 1])), 1000.0)
    assert logistic(np.array([1000.0]), np.array([1])) == 0.0
    check_grads(lambda z: logistic(z, y), (z,), order=2)
    check_grads(lambda z: logistic(z, y), (z[:, None],), order=1)  # (n, 1) logits
    pred, t = RNG.normal(size=(5, 3)), RNG.normal(size=(5, 3))
    assert np.isclose(mse(pred, t), np.sum((pred - t) ** 2) / 5)
    np.testing.assert_allclose(mc.grad(mse)(pred, t), 2 * (pred - t) / 5, atol=1e-15)
    check_grads(lambda p: mse(p, t), (pred,), order=2)
    assert np.isclose(mse(pred[:, :1], t[:, 0]), np.sum((pred[:, 0] - t[:, 0]) ** 2) / 5)


def test_loss_input_errors():
    with pytest.raises(ValueError, match=r"labels of shape \(3,\) do not match logits"):
        cross_entropy(np.zeros((4, 2)), np.zeros(3, int))
    with pytest.raises(ValueError, match="labels must lie in 0..1"):
        cross_entropy(np.zeros((2, 2)), np.array([0, 2]))
    with pytest.raises(ValueError, match="labels must be 0 or 1"):
        logistic(np.zeros(2), np.array([-1, 1]))
    with pytest.raises(ValueError, match="differ"):
        mse(np.zeros((3, 2)), np.zeros((3, 3)))


@pytest.mark.parametrize("loss,out,kind", [(cross_entropy, 3, "int"), (logistic, 1, "01"),
                                           (mse, 2, "real")])
def test_losses_are_vmap_friendly(loss, out, kind):
    """Per-example gradients by vmap(grad) equal a loop over the examples."""
    model = mlp([2, 4, out])
    params = model.init(0)
    X = RNG.normal(size=(6, 2))
    y = {"int": RNG.integers(0, 3, 6), "01": RNG.integers(0, 2, 6),
         "real": RNG.normal(size=(6, 2))}[kind]

    def single(p, x, t):
        return loss(model(p, x[None]), t[None])

    batched = mc.vmap(mc.grad(single), in_axes=(None, 0, 0))(params, X, y)
    for i in range(6):
        gi = mc.grad(single)(params, X[i], y[i])
        for layer_b, layer_i in zip(batched, gi):
            for k in layer_i:
                np.testing.assert_allclose(layer_b[k][i], layer_i[k], rtol=1e-12, atol=1e-14)


# ----------------------------------------------------------------- initialisers
def test_fans():
    assert fans((3, 5)) == (3, 5)
    assert fans((8, 4, 3, 3)) == (36, 72)


@pytest.mark.parametrize("init,var", [
    (glorot_uniform, lambda fi, fo: 2 / (fi + fo)),
    (glorot_normal, lambda fi, fo: 2 / (fi + fo)),
    (he_normal, lambda fi, fo: 2 / fi),
    (he_uniform, lambda fi, fo: 2 / fi),
])
def test_initialiser_variances(init, var):
    rng = np.random.default_rng(0)
    for shape in [(200, 300), (16, 8, 3, 3)]:
        W = init(rng, shape)
        assert W.shape == shape and W.dtype == np.float64
        # relative standard error of a sample variance: ≤ sqrt(2/N) ≈ 0.006 for N = 6e4
        # and 0.02 for N = 1152; the tolerance is > 5 of them
        tol = 5 * np.sqrt(2 / W.size) + 1e-3
        assert abs(W.var() / var(*fans(shape)) - 1) < tol
        assert abs(W.mean()) < 5 * np.sqrt(var(*fans(shape)) / W.size)
    if "uniform" in init.__name__:
        fi, fo = fans((200, 300))
        a = np.sqrt(3 * var(fi, fo))
        assert np.abs(init(rng, (200, 300))).max() <= a


def test_orthogonal():
    rng = np.random.default_rng(0)
    W = orthogonal(rng, (7, 4))
    np.testing.assert_allclose(W.T @ W, np.eye(4), atol=1e-13)
    W = orthogonal(rng, (3, 8), gain=2.0)
    np.testing.assert_allclose(W @ W.T, 4 * np.eye(3), atol=1e-13)
    K = orthogonal(rng, (4, 2, 3, 3)).reshape(4, -1)
    np.testing.assert_allclose(K @ K.T, np.eye(4), atol=1e-13)
    # sign fix: Q is Haar distributed, so E[Q₀₀] = 0 (plain Householder QR gives Q₀₀ < 0);
    # sd of Q₀₀ is 1/√3, so the mean of 600 draws has sd 0.024
    q00 = [orthogonal(rng, (3, 3))[0, 0] for _ in range(600)]
    assert abs(np.mean(q00)) < 0.1


def test_initialiser_lookup():
    assert get_initializer("xavier") is glorot_uniform
    assert get_initializer("kaiming") is he_normal
    W = normal(0.5)(np.random.default_rng(0), (400, 100))
    assert abs(W.std() - 0.5) < 0.01
    with pytest.raises(ValueError, match="unknown initialiser"):
        get_initializer("lsuv")
