"""Engine overhead and MLP gradients: mlcalc against autograd and PyTorch (CPU, eager).

Every library runs in this one process, pinned to one thread, in float64.

(a) ``grad`` of a chain of 80 elementwise operations (sin, tanh, multiply, add, cycling)
    on a 10-vector: the cost is almost all per-operation bookkeeping.
(b) ``grad`` of an MLP 784-256-256-10 (tanh hidden layers) with a softmax cross-entropy
    loss on a batch of 128, with respect to every weight and bias (a list of (W, b)
    tuples): the cost is mostly BLAS, plus the engine's per-operation overhead.

Run from the repository root: ``python benchmarks/bench_engine.py``.
"""

from __future__ import annotations

from _common import pin_threads

pin_threads()

import numpy as np  # noqa: E402

import mlcalc as mc  # noqa: E402
from _common import (  # noqa: E402
    load_peer,
    print_machine,
    print_table,
    ratio_line,
    settle_allocator,
    time_call,
)

N_OPS = 80
CHAIN_SIZE = 10
LAYERS = (784, 256, 256, 10)
BATCH = 128

TARGETS = {
    "chain: mlcalc / autograd": 0.5,
    "chain: mlcalc / torch": 0.7,
    "mlp: mlcalc / torch": 1.1,
}


# ---------------------------------------------------------------------------------
# (a) chain of elementwise operations


def chain_loss(x, xp=np):
    """sum(y_80) with y_0 = x and y_{k+1} = sin, tanh, (· * x), (· + x) of y_k in turn.

    Plain NumPy code; ``xp`` swaps in autograd.numpy or torch (same function names)."""
    y = x
    for k in range(N_OPS):
        step = k % 4
        if step == 0:
            y = xp.sin(y)
        elif step == 1:
            y = xp.tanh(y)
        elif step == 2:
            y = y * x
        else:
            y = y + x
    return xp.sum(y)


def chain_case(peers):
    x = np.random.default_rng(0).uniform(-1.0, 1.0, CHAIN_SIZE)
    runners = {"mlcalc": mc.grad(chain_loss)}
    if peers["autograd"] is not None:
        anp = peers["autograd"].numpy
        runners["autograd"] = peers["autograd"].grad(lambda v: chain_loss(v, anp))
    if peers["torch"] is not None:
        runners["torch"] = _torch_grad(peers["torch"], lambda v: chain_loss(v, peers["torch"]))
    grads = {name: run(x) for name, run in runners.items()}
    for name, g in grads.items():
        np.testing.assert_allclose(g, grads["mlcalc"], rtol=1e-10, atol=1e-12,
                                   err_msg=f"chain gradient: {name} differs from mlcalc")
    t_numpy = time_call(lambda: chain_loss(x))
    times = {name: time_call(lambda run=run: run(x)) for name, run in runners.items()}

    print(f"\n(a) grad of a chain of {N_OPS} elementwise ops (sin, tanh, *, +) on a "
          f"{CHAIN_SIZE}-vector, float64")
    rows = [["numpy forward (no grad)", t_numpy * 1e6, t_numpy * 1e6 / N_OPS, 1.0]]
    rows += [[f"{name} grad", t * 1e6, t * 1e6 / N_OPS, t / t_numpy] for name, t in times.items()]
    print_table(["library", "us/call", "us/op", "x numpy fwd"], rows)
    return times


def _torch_grad(torch, loss):
    """A grad function for torch: NumPy array in, NumPy gradient out."""

    def run(x):
        xt = torch.from_numpy(x).requires_grad_()
        (g,) = torch.autograd.grad(loss(xt), xt)
        return g.numpy()

    return run


# ---------------------------------------------------------------------------------
# (b) MLP with softmax cross-entropy


def mlp_loss(params, x, onehot, xp=np):
    """Mean softmax cross-entropy of a tanh MLP; ``params`` is a list of (W, b).

    Plain NumPy code (``xp`` swaps in autograd.numpy), with the usual max shift of the
    log-sum-exp."""
    h = x
    for w, b in params[:-1]:
        h = xp.tanh(h @ w + b)
    w, b = params[-1]
    logits = h @ w + b
    z = logits - xp.max(logits, axis=1, keepdims=True)
    log_probs = z - xp.log(xp.sum(xp.exp(z), axis=1, keepdims=True))
    return -xp.sum(onehot * log_probs) / x.shape[0]


def mlp_loss_torch(torch, params, x, onehot):
    """The same loss written with torch operations."""
    h = x
    for w, b in params[:-1]:
        h = torch.tanh(h @ w + b)
    w, b = params[-1]
    logits = h @ w + b
    z = logits - torch.amax(logits, dim=1, keepdim=True)
    log_probs = z - torch.log(torch.sum(torch.exp(z), dim=1, keepdim=True))
    return -torch.sum(onehot * log_probs) / x.shape[0]


def mlp_data():
    rng = np.random.default_rng(1)
    params = [
        (rng.normal(0.0, 1.0 / np.sqrt(n_in), (n_in, n_out)), rng.normal(0.0, 0.1, n_out))
        for n_in, n_out in zip(LAYERS[:-1], LAYERS[1:], strict=True)
    ]
    x = rng.normal(size=(BATCH, LAYERS[0]))
    onehot = np.eye(LAYERS[-1])[rng.integers(0, LAYERS[-1], BATCH)]
    return params, x, onehot


def mlp_torch_grad(torch):
    def run(params, x, onehot):
        tparams = [
            (torch.from_numpy(w).requires_grad_(), torch.from_numpy(b).requires_grad_())
            for w, b in params
        ]
        loss = mlp_loss_torch(torch, tparams, torch.from_numpy(x), torch.from_numpy(onehot))
        leaves = [t for pair in tparams for t in pair]
        flat = torch.autograd.grad(loss, leaves)
        return [(flat[2 * i].numpy(), flat[2 * i + 1].numpy()) for i in range(len(tparams))]

    return run


def mlp_case(peers):
    params, x, onehot = mlp_data()
    runners = {"mlcalc": mc.grad(mlp_loss)}
    if peers["autograd"] is not None:
        anp = peers["autograd"].numpy
        runners["autograd"] = peers["autograd"].grad(lambda p, a, b: mlp_loss(p, a, b, anp))
    if peers["torch"] is not None:
        runners["torch"] = mlp_torch_grad(peers["torch"])
    try:
        grads = {name: run(params, x, onehot) for name, run in runners.items()}
    except mc.NotDifferentiableError as err:
        print(f"\n(b) MLP: skipped, mlcalc cannot differentiate it yet: {err}")
        return {}
    for name, g in grads.items():
        for (gw, gb), (rw, rb) in zip(g, grads["mlcalc"], strict=True):
            np.testing.assert_allclose(gw, rw, rtol=1e-9, atol=1e-12,
                                       err_msg=f"MLP weight gradient: {name} vs mlcalc")
            np.testing.assert_allclose(gb, rb, rtol=1e-9, atol=1e-12,
                                       err_msg=f"MLP bias gradient: {name} vs mlcalc")
    t_numpy = time_call(lambda: mlp_loss(params, x, onehot))
    times = {
        name: time_call(lambda run=run: run(params, x, onehot)) for name, run in runners.items()
    }

    sizes = "-".join(map(str, LAYERS))
    print(f"\n(b) grad of an MLP {sizes} (tanh), softmax cross-entropy, batch {BATCH}, "
          "float64, w.r.t. all (W, b)")
    rows = [["numpy forward (no grad)", t_numpy * 1e3, 1.0]]
    rows += [[f"{name} grad", t * 1e3, t / t_numpy] for name, t in times.items()]
    print_table(["library", "ms/call", "x numpy fwd"], rows)
    return times


# ---------------------------------------------------------------------------------


def main() -> None:
    peers = {"autograd": load_peer("autograd"), "torch": load_peer("torch")}
    if peers["autograd"] is not None:
        import autograd.numpy  # noqa: F401  (autograd's NumPy wrapper, as peers["autograd"].numpy)
    print_machine(peers)
    print(f"Allocator: {settle_allocator()} (the same for every library)")
    chain = chain_case(peers)
    mlp = mlp_case(peers)

    print("\nRatios (time of mlcalc / time of peer; lower is better)")
    ratios = {}
    for case, times in (("chain", chain), ("mlp", mlp)):
        for peer in ("autograd", "torch"):
            if "mlcalc" in times and peer in times:
                ratios[f"{case}: mlcalc / {peer}"] = times["mlcalc"] / times[peer]
    for name, value in ratios.items():
        target = TARGETS.get(name)
        if target is None:
            print(f"{name:<28} {value:6.2f}   (no target)")
        else:
            print(ratio_line(name, value, target))


if __name__ == "__main__":
    main()
