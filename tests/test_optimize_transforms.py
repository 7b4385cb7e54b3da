"""Gradient transformations and schedules: closed forms of the update rules, clipping,
schedules, decoupled weight decay, and a training loop over pytree parameters."""

import numpy as np
import pytest

import mlcalc as mc
from mlcalc.optimize import transforms as T


def tree_allclose(a, b, **kw):
    la, ta = mc.tree.flatten(a)
    lb, tb = mc.tree.flatten(b)
    assert ta == tb
    for x, y in zip(la, lb):
        np.testing.assert_allclose(x, y, **kw)


PARAMS = {"w": np.array([[0.5, -1.0], [2.0, 0.1]]), "b": np.array([0.3, -0.2])}
GRADS = {"w": np.array([[0.2, -3.0], [0.5, -0.1]]), "b": np.array([1.5, -0.25])}


def constant_gradient_updates(tx, k, grads=GRADS, params=PARAMS):
    """The first k updates of tx under a constant gradient."""
    state = tx.init(params)
    out = []
    for _ in range(k):
        u, state = tx.update(grads, state, params)
        out.append(u)
    return out


# -- update rules in closed form ---------------------------------------------------------
def test_adam_first_update_is_minus_lr_sign_g():
    (u,) = constant_gradient_updates(T.adam(0.01), 1)
    tree_allclose(u, mc.tree.map(lambda g: -0.01 * np.sign(g), GRADS), rtol=1e-7)


def test_adam_under_constant_gradient_keeps_stepping_by_lr_sign_g():
    # bias correction makes m̂ = g and v̂ = g² at every step
    for u in constant_gradient_updates(T.adam(0.01, b1=0.8, b2=0.99), 5):
        tree_allclose(u, mc.tree.map(lambda g: -0.01 * np.sign(g), GRADS), rtol=1e-7)


def test_sgd_momentum_under_constant_gradient():
    # t_k = Σ_{j<k} β^j g = g(1 − β^k)/(1 − β)
    lr, beta = 0.1, 0.9
    for k, u in enumerate(constant_gradient_updates(T.sgd(lr, momentum=beta), 6), start=1):
        tree_allclose(u, mc.tree.map(lambda g, k=k: -lr * g * (1 - beta**k) / (1 - beta), GRADS),
                      rtol=1e-12)


def test_nesterov_momentum_under_constant_gradient():
    # u_k = −η (g + β t_k)
    lr, beta = 0.1, 0.9
    ups = constant_gradient_updates(T.sgd(lr, momentum=beta, nesterov=True), 4)
    for k, u in enumerate(ups, start=1):
        t = (1 - beta**k) / (1 - beta)
        tree_allclose(u, mc.tree.map(lambda g, t=t: -lr * g * (1 + beta * t), GRADS),
                      rtol=1e-12)


def test_adagrad_under_constant_gradient():
    # G_k = k g², u_k = −η g/(√k |g|) = −η sign(g)/√k
    for k, u in enumerate(constant_gradient_updates(T.adagrad(0.5), 5), start=1):
        tree_allclose(u, mc.tree.map(lambda g, k=k: -0.5 * np.sign(g) / np.sqrt(k), GRADS),
                      rtol=1e-9)


def test_rmsprop_under_constant_gradient():
    # v_k = (1 − ρ^k) g², u_k = −η g/(|g|√(1 − ρ^k) + ε)
    rho, eps = 0.9, 1e-8
    for k, u in enumerate(constant_gradient_updates(T.rmsprop(0.01, decay=rho), 5), start=1):
        expected = mc.tree.map(
            lambda g, k=k: -0.01 * g / (np.abs(g) * np.sqrt(1 - rho**k) + eps), GRADS)
        tree_allclose(u, expected, rtol=1e-12)


def test_schedule_receives_the_step_count_from_zero():
    ups = constant_gradient_updates(T.sgd(lambda k: 0.1 / (k + 1)), 3)
    for k, u in enumerate(ups):
        tree_allclose(u, mc.tree.map(lambda g, k=k: -0.1 / (k + 1) * g, GRADS), rtol=1e-15)


# -- clipping ------------------------------------------------------------------------------
def test_chain_clip_by_global_norm_then_sgd_clips():
    grads = {"a": np.array([3.0, 0.0]), "b": np.array(4.0)}  # global norm 5
    tx = T.chain(T.clip_by_global_norm(1.0), T.sgd(0.1))
    u, _ = tx.update(grads, tx.init(grads))
    tree_allclose(u, mc.tree.map(lambda g: -0.1 * g / 5.0, grads), rtol=1e-15)
    assert T.global_norm(u) == pytest.approx(0.1)


def test_clip_by_global_norm_leaves_small_gradients_untouched():
    grads = {"a": np.array([0.3, 0.0]), "b": np.array(0.4)}  # norm 0.5
    tx = T.clip_by_global_norm(1.0)
    u, _ = tx.update(grads, tx.init(grads))
    assert u is grads


def test_clip_by_value():
    tx = T.clip_by_value(-0.5, 1.0)
    u, _ = tx.update(GRADS, tx.init(PARAMS))
    tree_allclose(u, mc.tree.map(lambda g: np.clip(g, -0.5, 1.0), GRADS), rtol=0)


# -- weight decay --------------------------------------------------------------------------
def test_adamw_decay_is_decoupled():
    lr, wd = 0.01, 0.1
    zeros = mc.tree.map(np.zeros_like, GRADS)
    tx = T.adamw(lr, weight_decay=wd)
    u, _ = tx.update(zeros, tx.init(PARAMS), PARAMS)
    tree_allclose(u, mc.tree.map(lambda p: -lr * wd * p, PARAMS), rtol=1e-12)
    new = T.apply_updates(PARAMS, u)
    tree_allclose(new, mc.tree.map(lambda p: (1 - lr * wd) * p, PARAMS), rtol=1e-12)
    # with a gradient: adam's step plus the decay, the decay not rescaled by 1/√v̂
    (ua,) = constant_gradient_updates(T.adam(lr), 1)
    (uw,) = constant_gradient_updates(tx, 1)
    tree_allclose(uw, mc.tree.map(lambda a, p: a - lr * wd * p, ua, PARAMS), rtol=1e-12)


def test_add_decayed_weights_needs_params():
    tx = T.add_decayed_weights(0.1)
    with pytest.raises(ValueError, match="needs params"):
        tx.update(GRADS, tx.init(PARAMS))


# -- schedules -----------------------------------------------------------------------------
def test_cosine_schedule_endpoints():
    s = T.cosine_decay_schedule(0.1, decay_steps=100, alpha=0.2)
    assert s(0) == pytest.approx(0.1)
    assert s(50) == pytest.approx(0.1 * (0.5 * 0.8 + 0.2))
    assert s(100) == pytest.approx(0.02)
    assert s(1000) == pytest.approx(0.02)


def test_linear_warmup_ramp():
    s = T.linear_warmup(1.0, warmup_steps=10)
    assert [s(k) for k in (0, 1, 5, 10, 50)] == pytest.approx([0.0, 0.1, 0.5, 1.0, 1.0])
    s = T.linear_warmup(2.0, warmup_steps=4, init_value=1.0, then=lambda k: 2.0 / (1 + k))
    assert [s(k) for k in (0, 2, 4, 5)] == pytest.approx([1.0, 1.5, 2.0, 1.0])


def test_warmup_cosine_decay_schedule():
    s = T.warmup_cosine_decay_schedule(0.0, 1.0, warmup_steps=10, decay_steps=110,
                                       end_value=0.1)
    assert [s(k) for k in (0, 5, 10)] == pytest.approx([0.0, 0.5, 1.0])
    assert s(60) == pytest.approx(0.55)  # half-way down the cosine
    assert s(110) == pytest.approx(0.1) and s(500) == pytest.approx(0.1)
    assert T.constant_schedule(0.3)(123) == 0.3


def test_schedule_arguments_are_checked():
    with pytest.raises(ValueError, match="decay_steps"):
        T.cosine_decay_schedule(0.1, decay_steps=0)
    with pytest.raises(ValueError, match="decay_steps"):
        T.warmup_cosine_decay_schedule(0.0, 1.0, warmup_steps=10, decay_steps=10)


# -- pytrees, states, training ----------------------------------------------------------
def test_pytree_and_flat_vector_give_the_same_updates():
    flat_p = np.concatenate([PARAMS["b"].ravel(), PARAMS["w"].ravel()])  # sorted keys
    flat_g = np.concatenate([GRADS["b"].ravel(), GRADS["w"].ravel()])
    tx = T.chain(T.clip_by_global_norm(2.0), T.adamw(0.01, weight_decay=0.1))
    ut = constant_gradient_updates(tx, 3)[-1]
    uf = constant_gradient_updates(tx, 3, flat_g, flat_p)[-1]
    np.testing.assert_allclose(np.concatenate([ut["b"].ravel(), ut["w"].ravel()]), uf,
                               rtol=1e-14)


def test_states_are_pytrees_of_arrays_and_update_is_pure():
    tx = T.chain(T.clip_by_global_norm(1.0), T.adam(T.cosine_decay_schedule(0.1, 10)))
    state = tx.init(PARAMS)
    before = [np.copy(leaf) for leaf in mc.tree.leaves(state)]
    _, new_state = tx.update(GRADS, state, PARAMS)
    assert all(isinstance(leaf, np.ndarray) for leaf in mc.tree.leaves(new_state))
    for a, b in zip(before, mc.tree.leaves(state)):
        np.testing.assert_array_equal(a, b)  # the old state is unchanged


def test_float32_params_stay_float32():
    p = {"w": np.ones(3, dtype=np.float32)}
    tx = T.adam(0.1)
    state = tx.init(p)
    u, state = tx.update({"w": np.full(3, 0.5, dtype=np.float32)}, state, p)
    assert state[0].mu["w"].dtype == np.float32
    assert T.apply_updates(p, u)["w"].dtype == np.float32


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="b1"):
        T.adam(0.1, b1=1.0)
    with pytest.raises(ValueError, match="max_norm"):
        T.clip_by_global_norm(0.0)
    with pytest.raises(ValueError, match="learning_rate"):
        T.sgd(-1.0)
    with pytest.raises(TypeError, match="GradientTransformation"):
        T.chain(T.sgd(0.1), 0.1)


def mlp(params, x):
    h = np.tanh(x @ params["W1"] + params["b1"])
    return (h @ params["W2"] + params["b2"])[:, 0]


def test_training_an_mlp_with_grad_and_adam_reduces_the_loss():
    rng = np.random.default_rng(0)
    x = np.linspace(-2, 2, 64)[:, None]
    y = np.sin(2 * x[:, 0])
    params = {"W1": 0.5 * rng.standard_normal((1, 16)), "b1": np.zeros(16),
              "W2": 0.5 * rng.standard_normal((16, 1)), "b2": np.zeros(1)}

    def loss(p):
        return np.mean((mlp(p, x) - y) ** 2)

    tx = T.chain(T.clip_by_global_norm(5.0),
                 T.adam(T.warmup_cosine_decay_schedule(0.0, 0.03, 20, 400)))
    state = tx.init(params)
    vg = mc.value_and_grad(loss)
    first = loss(params)
    for _ in range(400):
        value, grads = vg(params)
        updates, state = tx.update(grads, state, params)
        params = T.apply_updates(params, updates)
    assert loss(params) < 0.05 * first
    assert set(params) == {"W1", "b1", "W2", "b2"} and params["W1"].shape == (1, 16)
