"""mlcalc.adapters.torch: a PyTorch model as a problem.

The same small MLP is written twice, as a mlcalc ``Problem`` on plain NumPy
(differentiated by mlcalc's engine) and as a ``torch.nn.Module`` with the same weights
(differentiated by PyTorch); the two must agree in float64. Dense Hessians are checked
against ``torch.autograd.functional.hessian``.
"""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest

from adapter_fixtures import assert_filter_normalised, assert_problems_agree, np_mse
from mlcalc.adapters import TorchProblem
from mlcalc.models import Problem, cross_entropy

NEEDS = "PyTorch is an optional extra (pip install torch==2.13.0); CI does not install it"


@pytest.fixture(scope="module")
def torch():
    torch = pytest.importorskip("torch", reason=NEEDS)
    torch.manual_seed(0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny models: threads only add overhead on a shared machine
    yield torch
    torch.set_num_threads(threads)


# ----------------------------------------------------------------- the models
D, H, C, N = 3, 5, 3, 23


def np_mlp(params, X):
    """tanh MLP with weights in PyTorch's layout (out, in): X Wᵀ + b."""
    W0, b0, W1, b1 = params
    return np.tanh(X @ W0.T + b0) @ W1.T + b1


def make_data(loss):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(N, D))
    y = rng.integers(0, C, N) if loss == "ce" else rng.normal(size=(N, C))
    return X, y


def torch_mlp(torch, dtype=None):
    dtype = dtype or torch.float64
    m = torch.nn.Sequential(torch.nn.Linear(D, H), torch.nn.Tanh(), torch.nn.Linear(H, C))
    return m.to(dtype)


def np_params(module):
    return [p.detach().double().numpy().copy() for p in module.parameters()]


def both(torch, loss="ce", batch_size=None):
    module = torch_mlp(torch)
    X, y = make_data(loss)
    if loss == "ce":
        t_loss, n_loss = torch.nn.functional.cross_entropy, cross_entropy
    else:
        t_loss, n_loss = torch.nn.functional.mse_loss, np_mse
    tp = TorchProblem(module, t_loss, (torch.as_tensor(X), torch.as_tensor(y)), batch_size)
    npb = Problem(np_mlp, n_loss, (X, y), np_params(module), batch_size=batch_size)
    return tp, npb, module


# ----------------------------------------------------------------- agreement
@pytest.mark.parametrize("loss", ["ce", "mse"])
def test_matches_numpy_problem(torch, loss):
    tp, npb, _ = both(torch, loss, batch_size=10)
    assert tp.dim == D * H + H + H * C + C
    assert_problems_agree(tp, npb)


def test_dense_hessian_matches_autograd(torch):
    tp, _, module = both(torch, "ce")
    rng = np.random.default_rng(3)
    w = tp.flat_params + 0.3 * rng.normal(size=tp.dim)
    H_adapter = np.stack([tp.hvp(w, e) for e in np.eye(tp.dim)], axis=1)
    X, y = tp.X, tp.y

    def f(flat):
        params = tp._split(flat)
        out = torch.func.functional_call(module, params, (X,))
        return torch.nn.functional.cross_entropy(out, y)

    H_ref = torch.autograd.functional.hessian(f, torch.as_tensor(w)).numpy()
    np.testing.assert_allclose(H_adapter, H_ref, rtol=0, atol=1e-12)
    # Gauss-Newton and Fisher are positive semidefinite, the Hessian is not (here)
    G = np.stack([tp.ggn_vp(w, e) for e in np.eye(tp.dim)], axis=1)
    F = np.stack([tp.fisher_vp(w, e) for e in np.eye(tp.dim)], axis=1)
    assert np.linalg.eigvalsh((G + G.T) / 2).min() > -1e-12
    assert np.linalg.eigvalsh((F + F.T) / 2).min() > -1e-12
    np.testing.assert_allclose(G, G.T, atol=1e-12)


def test_gauss_newton_of_linear_model_is_hessian(torch):
    """For a model linear in w (logistic regression) the Hessian equals Jᵀ H_ℓ J."""
    module = torch.nn.Linear(D, C).double()
    X, y = make_data("ce")
    tp = TorchProblem(module, torch.nn.functional.cross_entropy, (X, y))
    v = np.random.default_rng(4).normal(size=tp.dim)
    np.testing.assert_allclose(tp.ggn_vp(None, v), tp.hvp(None, v), rtol=0, atol=1e-12)


# ----------------------------------------------------------------- data
def test_dataloader_gives_the_full_data_loss(torch):
    from torch.utils.data import DataLoader, TensorDataset

    tp, _, module = both(torch, "ce")
    ds = TensorDataset(tp.X, tp.y)
    loader = DataLoader(ds, batch_size=7, shuffle=True)
    lp = TorchProblem(module, torch.nn.functional.cross_entropy, loader)
    assert lp.n_examples == N
    weights = [wt for _, _, wt in lp.batches()]
    assert np.allclose(sorted(weights), sorted([7 / N] * 3 + [2 / N]))
    rng = np.random.default_rng(5)
    w = tp.flat_params + 0.2 * rng.normal(size=tp.dim)
    v = rng.normal(size=tp.dim)
    assert abs(lp.loss(w) - tp.loss(w)) < 1e-12
    np.testing.assert_allclose(lp.grad(w), tp.grad(w), rtol=0, atol=1e-12)
    np.testing.assert_allclose(lp.hvp(w, v), tp.hvp(w, v), rtol=0, atol=1e-12)
    np.testing.assert_allclose(lp.fisher_vp(w, v), tp.fisher_vp(w, v), rtol=0, atol=1e-12)
    # a plain list of (X_batch, y_batch) pairs works too, numpy included
    X, y = tp.X.numpy(), tp.y.numpy()
    lst = TorchProblem(module, torch.nn.functional.cross_entropy, [(X[:4], y[:4]), (X[4:], y[4:])])
    assert abs(lst.loss(w) - tp.loss(w)) < 1e-12


def test_batch_size_does_not_change_the_loss(torch):
    full, _, _ = both(torch, "mse")
    small, _, _ = both(torch, "mse", batch_size=4)
    w = full.flat_params * 1.1
    assert abs(full.loss(w) - small.loss(w)) < 1e-12
    assert len(list(small.batches())) == 6


# ----------------------------------------------------------------- module state
def test_eval_mode_with_warning_for_batchnorm_and_dropout(torch):
    nn = torch.nn
    module = nn.Sequential(
        nn.Linear(D, H), nn.BatchNorm1d(H), nn.ReLU(), nn.Dropout(0.5), nn.Linear(H, C)
    ).double()
    X, y = make_data("ce")
    module(torch.as_tensor(X))  # training-mode pass: running statistics move off 0/1
    assert module.training
    with pytest.warns(UserWarning, match="eval mode") as record:
        tp = TorchProblem(module, nn.functional.cross_entropy, (X, y))
    msg = str(record[0].message)
    assert "1 (BatchNorm1d)" in msg and "3 (Dropout)" in msg
    assert not module.training and not module[1].training
    with torch.no_grad():  # eval mode by hand: running statistics, no dropout
        ref = nn.functional.cross_entropy(module(torch.as_tensor(X)), torch.as_tensor(y))
    assert abs(tp.loss() - float(ref)) < 1e-12
    assert tp.loss() == tp.loss()  # deterministic: no dropout masks
    kinds = {p.name: (p.kind, p.filter_axis) for p in tp.layout}
    assert kinds == {
        "0.weight": ("weight", 0), "0.bias": ("bias", None),
        "1.weight": ("norm", None), "1.bias": ("norm", None),
        "4.weight": ("weight", 0), "4.bias": ("bias", None),
    }
    # a module already in eval mode (or without such layers) gives no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        TorchProblem(module, nn.functional.cross_entropy, (X, y))
        TorchProblem(torch_mlp(torch), nn.functional.cross_entropy, (X, y))


def test_per_example_grads_with_batchnorm_in_eval_mode(torch):
    """vmap over a model with (eval-mode) BatchNorm and Conv layers: each row equals
    the gradient of that example's loss computed on its own."""
    nn = torch.nn
    module = nn.Sequential(
        nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Tanh(), nn.Flatten(), nn.Linear(8, C)
    ).double().eval()
    rng = np.random.default_rng(6)
    X = torch.as_tensor(rng.normal(size=(5, 1, 4, 4)))
    y = torch.as_tensor(rng.integers(0, C, 5))
    tp = TorchProblem(module, nn.functional.cross_entropy, (X, y))
    G = tp.per_example_grads(None, X, y)
    for i in range(5):
        module.zero_grad()
        nn.functional.cross_entropy(module(X[i : i + 1]), y[i : i + 1]).backward()
        row = np.concatenate([p.grad.reshape(-1).numpy() for p in module.parameters()])
        np.testing.assert_allclose(G[i], row, rtol=0, atol=1e-12)
    v = rng.normal(size=tp.dim)
    np.testing.assert_allclose(tp.fisher_vp(None, v), G.T @ (G @ v) / 5, atol=1e-12)
    axes = {p.name: (p.kind, p.filter_axis) for p in tp.layout}
    assert axes["0.weight"] == ("weight", 0) and axes["1.weight"] == ("norm", None)


def test_layout_of_transposed_conv_and_layer_norm(torch):
    nn = torch.nn
    module = nn.Sequential(nn.ConvTranspose1d(2, 4, 3), nn.Flatten(), nn.LayerNorm(12))
    tp = TorchProblem(module, nn.functional.mse_loss, (torch.zeros(2, 2, 2), torch.zeros(2, 12)))
    info = {p.name: p for p in tp.layout}
    assert info["0.weight"].shape == (2, 4, 3) and info["0.weight"].filter_axis == 1
    assert info["2.weight"].kind == info["2.bias"].kind == "norm"
    assert [p.offset for p in tp.layout] == [0, 24, 28, 40] and tp.dim == 52


def test_module_parameters_untouched(torch):
    module = torch_mlp(torch, torch.float32)
    before = {k: v.clone() for k, v in module.state_dict().items()}
    X, y = make_data("ce")
    tp = TorchProblem(module, torch.nn.functional.cross_entropy, (X, y), dtype=torch.float64)
    rng = np.random.default_rng(7)
    w = rng.normal(size=tp.dim)
    v = rng.normal(size=tp.dim)
    tp.loss(w), tp.grad(w), tp.hvp(w, v), tp.ggn_vp(w, v), tp.fisher_vp(w, v), tp.accuracy(w)
    tp.with_params(w).loss()
    after = module.state_dict()
    for k in before:
        assert torch.equal(before[k], after[k]) and after[k].dtype == torch.float32
    assert all(p.grad is None for p in module.parameters())
    np.testing.assert_array_equal(tp.flat_params, np.concatenate(
        [p.detach().double().reshape(-1).numpy() for p in module.parameters()]))


def test_frozen_parameters_are_constants(torch):
    """Parameters with requires_grad=False stay out of w: the problem is the loss as a
    function of the trainable ones (here the last layer: a convex problem)."""
    module = torch_mlp(torch)
    module[0].requires_grad_(False)
    X, y = make_data("ce")
    tp = TorchProblem(module, torch.nn.functional.cross_entropy, (X, y))
    assert tp.dim == H * C + C and [p.name for p in tp.layout] == ["2.weight", "2.bias"]
    full, _, _ = both(torch, "ce")
    full = full.with_params(np.concatenate([a.ravel() for a in np_params(module)]))
    last = slice(D * H + H, None)
    rng = np.random.default_rng(10)
    w = tp.flat_params + 0.2 * rng.normal(size=tp.dim)
    v = rng.normal(size=tp.dim)
    w_full = full.flat_params.copy()
    w_full[last] = w
    v_full = np.zeros(full.dim)
    v_full[last] = v
    assert abs(tp.loss(w) - full.loss(w_full)) < 1e-12
    np.testing.assert_allclose(tp.grad(w), full.grad(w_full)[last], rtol=0, atol=1e-12)
    np.testing.assert_allclose(tp.hvp(w, v), full.hvp(w_full, v_full)[last], rtol=0, atol=1e-12)
    assert np.linalg.eigvalsh(np.stack([tp.hvp(w, e) for e in np.eye(tp.dim)])).min() > -1e-12


def test_float32_model_computes_in_float32(torch):
    module = torch_mlp(torch, torch.float32)
    X, y = make_data("ce")
    p32 = TorchProblem(module, torch.nn.functional.cross_entropy, (X, y))
    p64 = TorchProblem(module, torch.nn.functional.cross_entropy, (X, y), dtype="float64")
    assert p32.dtype == torch.float32 and p64.dtype == torch.float64
    assert p32.params["0.weight"].dtype == torch.float32
    v = np.random.default_rng(8).normal(size=p32.dim)
    h32, h64 = p32.hvp(None, v), p64.hvp(None, v)
    assert h32.dtype == np.float64
    err = np.abs(h32 - h64).max() / np.abs(h64).max()
    assert 1e-10 < err < 1e-5  # float32 rounding, not float64 and not garbage


def test_with_params_and_unravel(torch):
    tp, _, _ = both(torch, "ce")
    w = tp.flat_params * 0.5
    moved = tp.with_params(w)
    assert moved.loss() == tp.loss(w)
    np.testing.assert_array_equal(moved.flat_params, w)
    d = tp.unravel(w)
    assert list(d) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert tuple(d["0.weight"].shape) == (H, D)
    again = tp.with_params({k: t * 1.0 for k, t in d.items()})
    np.testing.assert_array_equal(again.flat_params, w)
    assert tp.loss() != tp.loss(w)  # the original problem is unchanged


# ----------------------------------------------------------------- errors
def test_errors_say_what_happened(torch):
    tp, _, module = both(torch, "ce")
    with pytest.raises(ValueError, match=r"shape \(38,\), got shape \(5,\)"):
        tp.loss(np.zeros(5))
    with pytest.raises(ValueError, match=r"direction vector of shape \(38,\)"):
        tp.hvp(None, np.zeros(3))
    with pytest.raises(ValueError, match="X has 4 examples"):
        TorchProblem(module, torch.nn.functional.cross_entropy, (np.zeros((4, D)), np.zeros(3)))
    with pytest.raises(TypeError, match="torch.nn.Module"):
        TorchProblem(np_mlp, torch.nn.functional.cross_entropy, make_data("ce"))
    with pytest.raises(ValueError, match="batch_size applies to"):
        TorchProblem(module, torch.nn.functional.cross_entropy, [make_data("ce")], batch_size=3)
    with pytest.raises(TypeError, match="one-shot iterator"):
        TorchProblem(module, torch.nn.functional.cross_entropy, iter([make_data("ce")]))
    with pytest.raises(ValueError, match="floating torch dtype"):
        TorchProblem(module, torch.nn.functional.cross_entropy, make_data("ce"), dtype="int32")


def test_changing_dataset_is_detected(torch):
    tp, _, module = both(torch, "ce")
    batches = [(tp.X[:10], tp.y[:10]), (tp.X[10:], tp.y[10:])]
    lp = TorchProblem(module, torch.nn.functional.cross_entropy, batches)
    batches.pop()
    with pytest.raises(RuntimeError, match="10 examples in this pass but 23"):
        lp.loss()


def test_missing_torch_gives_install_hint(monkeypatch):
    """Runs without PyTorch too: the error names the package to install."""
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(ImportError, match=r"pip install torch==2\.13\.0"):
        TorchProblem(object(), None, (np.zeros((2, 1)), np.zeros(2)))


def test_cuda_device_matches_cpu(torch):
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device on this machine")
    tp, _, module = both(torch, "ce", batch_size=10)
    gp = TorchProblem(module, torch.nn.functional.cross_entropy, (tp.X, tp.y), 10, device="cuda")
    assert gp.params["0.weight"].device.type == "cuda" and gp.X.device.type == "cuda"
    v = np.random.default_rng(9).normal(size=tp.dim)
    assert abs(gp.loss() - tp.loss()) < 1e-12
    np.testing.assert_allclose(gp.hvp(None, v), tp.hvp(None, v), rtol=0, atol=1e-10)
    np.testing.assert_allclose(gp.ggn_vp(None, v), tp.ggn_vp(None, v), rtol=0, atol=1e-10)
    np.testing.assert_allclose(gp.fisher_vp(None, v), tp.fisher_vp(None, v), rtol=0, atol=1e-10)


# ----------------------------------------------------------------- instruments
def test_landscape_instruments_run_on_the_adapter(torch):
    from mlcalc import landscape
    from mlcalc.landscape.directions import random_direction

    tp, npb, _ = both(torch, "ce", batch_size=10)
    dense = np.linalg.eigvalsh(landscape.HessianOperator(npb).to_dense())
    for kind in ("hessian", "ggn"):
        ours = landscape.eigenvalues(landscape.HessianOperator(tp, kind=kind), k=4, which="both")
        ref = landscape.eigenvalues(landscape.HessianOperator(npb, kind=kind), k=4, which="both")
        np.testing.assert_allclose(np.sort(ours.values), np.sort(ref.values), rtol=0, atol=1e-9)
    top = landscape.eigenvalues(landscape.HessianOperator(tp), k=2, which="both").values
    np.testing.assert_allclose(np.sort(top), dense[[0, -1]], rtol=0, atol=1e-9)
    # filter normalisation reads the layout: each row (output unit) of a Linear weight
    # gets the norm of that row of θ; biases are left out
    assert_filter_normalised(tp, random_direction(tp, seed=1), filter_axis=1)
