"""mlcalc.diagnostics: gradient flow on networks whose Jacobian products are known, the
cross-check with a Problem's gradient, the depth experiment's textbook facts, and the
clipping transformations."""

import numpy as np
import pytest

import mlcalc.optimize.transforms as T
from mlcalc.diagnostics import (
    DEFAULT_THRESHOLDS,
    clip_by_global_norm,
    clip_by_value,
    depth_experiment,
    global_norm,
    gradient_flow,
)
from mlcalc.models import Activation, Dense, Problem, Sequential, mlp, mse


def _half_mse(out, y):
    return 0.5 * np.sum((out - y) ** 2) / out.shape[0]


def _linear_chain(scale, L=12, d=4, n=8, seed=0):
    rng = np.random.default_rng(seed)
    model = Sequential([Dense(d) for _ in range(L)], input_shape=d)
    params = [{"W": scale * np.eye(d), "b": np.zeros(d)} for _ in range(L)]
    X, y = rng.normal(size=(n, d)), rng.normal(size=(n, d))
    return model, params, X, y


@pytest.mark.parametrize("scale", [0.5, 2.0])
def test_linear_chain_gains_jacobians_and_gradients_are_exact(scale):
    L, n = 12, 8
    model, params, X, y = _linear_chain(scale, L=L, n=n)
    rep = gradient_flow(model, params, (X, y), loss=_half_mse)
    gL = (scale**L * X - y) / n                                # ∂L/∂a_L
    for l, lf in enumerate(rep.layers, start=1):
        assert lf.gain == pytest.approx(scale ** (L - l), rel=1e-12)       # Π of J's above l
        assert lf.jacobian_norm == pytest.approx(scale, rel=1e-12)
        assert lf.jacobian_rms == pytest.approx(scale, rel=1e-12)
        a_prev, g_l = scale ** (l - 1) * X, scale ** (L - l) * gL
        exact = np.sqrt(np.sum((a_prev.T @ g_l) ** 2) + np.sum(g_l.sum(0) ** 2))
        assert lf.grad_norm == pytest.approx(exact, rel=1e-12)
        assert lf.update_ratio == pytest.approx(1e-2 * exact / lf.param_norm, rel=1e-12)
    np.testing.assert_allclose(rep.singular_values, scale**L, rtol=1e-12)
    # verdicts: gain scale^(L−l) against (1e-3, 1e3): 10 or more layers above → beyond
    far = [lf.index for lf in rep.layers if L - lf.index >= 10]
    expected = "vanishing" if scale < 1 else "exploding"
    assert [lf.verdict for lf in rep.layers if lf.index in far] == [expected] * len(far)
    assert all(lf.verdict == "healthy" for lf in rep.layers if lf.index not in far)
    assert rep.thresholds == DEFAULT_THRESHOLDS


def test_thresholds_move_the_verdicts():
    model, params, X, y = _linear_chain(0.5, L=6)
    rep = gradient_flow(model, params, (X, y), loss=_half_mse, thresholds=(0.1, 10.0))
    assert rep.verdicts == ["vanishing"] * 2 + ["healthy"] * 4   # 0.5⁵, 0.5⁴ < 0.1
    with pytest.raises(ValueError, match="thresholds"):
        gradient_flow(model, params, X, thresholds=(1.0, 0.5))


def test_orthogonal_linear_chain_is_an_isometry():
    d, L = 6, 8
    rng = np.random.default_rng(1)
    Qs = [np.linalg.qr(rng.normal(size=(d, d)))[0] for _ in range(L)]
    model = Sequential([Dense(d) for _ in range(L)], input_shape=d)
    params = [{"W": Q, "b": rng.normal(size=d)} for Q in Qs]
    rep = gradient_flow(model, params, rng.normal(size=(5, d)))
    np.testing.assert_allclose(rep.singular_values, 1.0, rtol=1e-12)
    assert rep.isometry["std"] < 1e-12
    assert all(v == "healthy" for v in rep.verdicts)
    assert all(abs(lf.gain - 1) < 1e-12 for lf in rep.layers)  # orthogonal Jᵀ keeps norms


def test_tanh_layer_jacobian_norm():
    # J = diag(1 − tanh²(x)) per example: ‖J‖₂ = max_j (1 − tanh² x_j)
    X = np.array([[0.0, 1.0, -2.0], [0.5, 3.0, 0.2]])
    model = Sequential([Activation("tanh")], input_shape=3)
    rep = gradient_flow(model, [{}], X)
    d = 1 - np.tanh(X) ** 2
    assert rep.layers[0].jacobian_norm == pytest.approx(np.mean(d.max(axis=1)), rel=1e-12)
    assert rep.layers[0].jacobian_rms == pytest.approx(np.mean(np.sqrt((d**2).mean(1))), rel=1e-12)
    assert rep.layers[0].n_params == 0 and np.isnan(rep.layers[0].update_ratio)


def test_problem_input_matches_the_problems_gradient():
    rng = np.random.default_rng(2)
    model = mlp([3, 8, 8, 2], activation="tanh", init="glorot", layer_norm=True)
    params = model.init(0)
    X, y = rng.normal(size=(20, 3)), rng.normal(size=(20, 2))
    problem = Problem(model, mse, (X, y), params)
    rep = gradient_flow(problem)
    g = problem.grad()
    # per-layer norms of ∂L/∂θ_l agree with the slices of the flat gradient
    flat_norms = [np.linalg.norm(problem.unravel(g)[i]["W"]) for i in range(len(params))
                  if "W" in params[i]]
    dense = [lf.grad_norm for lf in rep.layers if lf.name == "Dense"]
    b_norms = [np.linalg.norm(problem.unravel(g)[i]["b"]) for i in range(len(params))
               if "W" in params[i]]
    np.testing.assert_allclose(dense, np.hypot(flat_norms, b_norms), rtol=1e-10)
    assert rep.loss == pytest.approx(problem.loss(), rel=1e-12)
    rep2 = gradient_flow(problem, problem.flat_params)   # the flat vector works too
    assert rep2.grad_norms == pytest.approx(rep.grad_norms)


def test_given_updates_and_skipped_jacobians():
    model, params, X, y = _linear_chain(1.0, L=3, d=4)
    updates = [{"W": 0.1 * np.ones((4, 4)), "b": np.zeros(4)} for _ in range(3)]
    rep = gradient_flow(model, params, (X, y), loss=_half_mse, updates=updates,
                        max_jacobian_entries=4 * 4 * 8 - 1)
    # ‖ΔW‖/‖(W, b)‖ = 0.4/2 for W = I (4×4), b = 0
    assert all(lf.update_ratio == pytest.approx(0.2, rel=1e-12) for lf in rep.layers)
    assert all(np.isnan(lf.jacobian_norm) for lf in rep.layers)
    assert np.isnan(rep.isometry["mean"])
    assert all(lf.gain == pytest.approx(1.0) for lf in rep.layers)  # gains need no Jacobian
    with pytest.raises(ValueError, match="updates"):
        gradient_flow(model, params, X, updates=updates[:1])


def test_bad_inputs_say_what_to_do():
    model, params, X, _ = _linear_chain(1.0, L=3)
    with pytest.raises(ValueError, match="one entry per layer"):
        gradient_flow(model, params[:2], X)
    with pytest.raises(ValueError, match="data"):
        gradient_flow(model, params)
    with pytest.raises(TypeError, match="Sequential"):
        gradient_flow(lambda p, x: x, params, X)


def test_depth_experiment_reproduces_the_textbook_facts():
    exp = depth_experiment(depths=(10, 20), width=16, n_examples=16,
                           configs=("tanh/naive", "tanh/xavier", "tanh/orthogonal", "relu/he",
                                    "relu/he+layernorm", "tanh/naive+residual",
                                    "relu/he+residual"))
    naive10, naive20 = exp.row("tanh/naive", 10), exp.row("tanh/naive", 20)
    # naive N(0, 0.01²): each layer multiplies the gradient by ≈ 0.01·√16 → geometric decay
    assert naive10.ratio < 1e-8 and naive20.ratio < naive10.ratio * 1e-8
    assert naive20.n_vanishing > 0
    per_layer = np.exp(np.mean(np.diff(np.log(naive20.grad_norms[:-1]))))
    assert 5 < per_layer < 100       # the gradient grows ×(5..100) per layer towards the output
    for cfg in ("tanh/xavier", "tanh/orthogonal", "relu/he", "relu/he+layernorm",
                "tanh/naive+residual"):
        for depth in (10, 20):
            r = exp.row(cfg, depth)
            assert 0.1 < r.ratio < 10, (cfg, depth, r.ratio)
            assert r.n_vanishing == 0 and r.n_exploding == 0
    # unnormalised residual ReLU blocks: E‖(I + DW)v‖² ≈ 2‖v‖² per block with He weights,
    # so the backward gain grows geometrically with depth (≈ √2 per block) and explodes
    res10, res20 = exp.row("relu/he+residual", 10), exp.row("relu/he+residual", 20)
    assert res10.n_vanishing == res20.n_vanishing == 0
    assert res20.max_gain > 10 * res10.max_gain and res20.n_exploding > 0
    assert "tanh/naive" in exp.table()
    with pytest.raises(ValueError, match="unknown configs"):
        depth_experiment(configs=("sigmoid/whatever",))


def test_clipping_is_the_optimize_transform_and_tames_an_exploding_gradient():
    assert clip_by_global_norm is T.clip_by_global_norm and clip_by_value is T.clip_by_value
    model, params, X, y = _linear_chain(2.0, L=10)
    import mlcalc as mc
    grads = mc.grad(lambda p: _half_mse(model(p, X), y))(params)
    assert global_norm(grads) > 1e3
    tx = clip_by_global_norm(1.0)
    clipped, _ = tx.update(grads, tx.init(params))
    assert global_norm(clipped) == pytest.approx(1.0, rel=1e-12)
    ratio = clipped[0]["W"] / grads[0]["W"]
    np.testing.assert_allclose(ratio, ratio.flat[0], rtol=1e-12)   # direction kept
    tv = clip_by_value(-0.1, 0.1)
    cv, _ = tv.update(grads, tv.init(params))
    assert max(np.max(np.abs(v)) for v in mc.tree.leaves(cv)) <= 0.1
