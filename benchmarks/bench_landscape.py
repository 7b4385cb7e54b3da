"""Curvature instruments on an MLP 784-256-256-10 (tanh, softmax cross-entropy, float64)
over 1024 examples, one thread.

(a) One Hessian-vector product of the full-data loss: ``HessianOperator(problem) @ v``
    (mlcalc's forward-over-reverse, through the operator and its product counter)
    against PyTorch's double-backward HVP (``autograd.grad`` of ⟨∇L, v⟩ with
    ``create_graph=True``), both taking and returning a flat NumPy vector. Target:
    mlcalc / torch ≤ 1.2.
(b) The top Hessian eigenvalue to 1e-3 relative: Lanczos (full reorthogonalisation)
    against power iteration (PyHessian's method), both on the same operator. The
    reference λ_max is a Lanczos run to residual 1e-6·λ. For each method the table gives
    the products until the estimate first lies within 1e-3 of the reference, and the
    products at which its own stopping rule fires (power iteration: relative change
    ≤ 1e-3, PyHessian's rule; Lanczos: residual ≤ 1e-3·θ, which bounds the error by
    1e-3·θ). Target: Lanczos needs at most a third of power iteration's products.

    How many products power iteration needs depends on the spectrum (the gap between
    λ₁ and λ₂), so (b) runs three cases of the same network: "classes", inputs drawn
    around 10 class means (the structure of MNIST-like data, which gives the Hessian its
    C outliers, Papyan 2020), at initialisation and after 30 full-batch Adam steps
    (learning rate 1e-3; the trained network is where curvature is usually measured),
    and "teacher", isotropic Gaussian inputs labelled by a random teacher network, at
    initialisation (one well-separated top eigenvalue: power iteration's best case).

Weights: a Glorot-scaled random initialisation; data and weights seeded.

Run from the repository root: ``python benchmarks/bench_landscape.py [--examples N]``
(about three minutes on one core).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _common import pin_threads  # noqa: E402

pin_threads()

import numpy as np  # noqa: E402

import mlcalc.landscape as L  # noqa: E402
from _common import (  # noqa: E402
    load_peer,
    print_machine,
    print_table,
    ratio_line,
    settle_allocator,
    time_call,
)
from mlcalc import models  # noqa: E402
from mlcalc.models import Problem  # noqa: E402
from mlcalc.optimize import transforms  # noqa: E402

LAYERS = (784, 256, 256, 10)
REL = 1e-3
TRAIN_STEPS = 30
ROUNDS = 3
TARGETS = {"hvp: mlcalc / torch": 1.2, "top eigenvalue: lanczos / power": 1 / 3}


NET = models.mlp(LAYERS, activation="tanh", init="glorot_normal")


def make_problem(n_examples: int, data: str = "classes", seed: int = 0) -> Problem:
    rng = np.random.default_rng(seed)
    params = NET.init(rng)
    if data == "classes":
        means = rng.normal(size=(LAYERS[-1], LAYERS[0]))
        y = rng.integers(0, LAYERS[-1], size=n_examples)
        X = (means[y] + rng.normal(size=(n_examples, LAYERS[0]))) / np.sqrt(2.0)
    else:
        teacher = NET.init(rng)
        X = rng.normal(size=(n_examples, LAYERS[0]))
        noise = 0.5 * rng.normal(size=(n_examples, LAYERS[-1]))
        y = np.argmax(NET(teacher, X) + noise, axis=1)
    return Problem(NET, models.cross_entropy, (X, y), params,
                   name=f"mlp-784-256-256-10 ({data})")


def train(problem: Problem, steps: int) -> np.ndarray:
    """The flat parameters after ``steps`` full-batch Adam steps (learning rate 1e-3)."""
    w = problem.flat_params.copy()
    opt = transforms.adam(1e-3)
    state = opt.init(w)
    for _ in range(steps):
        _, g = problem.value_and_grad(w)
        updates, state = opt.update(g, state, w)
        w = transforms.apply_updates(w, updates)
    return w


def torch_hvp(torch, problem: Problem):
    """A flat-vector HVP by double backward, on the same weights and data."""
    leaves = [torch.tensor(np.asarray(layer[k]), requires_grad=True)
              for layer in problem.params if layer for k in ("W", "b")]  # dense layers
    X = torch.from_numpy(problem.X)
    y = torch.from_numpy(problem.y)
    shapes = [p.shape for p in leaves]
    sizes = [p.numel() for p in leaves]

    def loss():
        h = X
        n_layers = len(leaves) // 2
        for i in range(n_layers):
            h = h @ leaves[2 * i] + leaves[2 * i + 1]
            if i < n_layers - 1:
                h = torch.tanh(h)
        return torch.nn.functional.cross_entropy(h, y)

    def hvp(v: np.ndarray) -> np.ndarray:
        parts = torch.from_numpy(v).split(sizes)
        vs = [p.view(s) for p, s in zip(parts, shapes)]
        g = torch.autograd.grad(loss(), leaves, create_graph=True)
        dot = sum((gi * vi).sum() for gi, vi in zip(g, vs))
        hv = torch.autograd.grad(dot, leaves)
        return torch.cat([t.reshape(-1) for t in hv]).numpy()

    return hvp


def first_within(history: np.ndarray, ref: float) -> int | None:
    """1-based count of products after which the estimate is within REL of ref."""
    hit = np.flatnonzero(np.abs(history - ref) <= REL * abs(ref))
    return int(hit[0]) + 1 if hit.size else None


def power_stop(history: np.ndarray) -> int | None:
    """Products at which PyHessian's rule (relative change ≤ 1e-3) fires."""
    for j in range(1, history.size):
        if abs(history[j] - history[j - 1]) <= REL * abs(history[j]):
            return j + 1
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--examples", type=int, default=1024)
    parser.add_argument("--max-power", type=int, default=200,
                        help="products allowed to power iteration")
    args = parser.parse_args()
    torch = load_peer("torch")
    print_machine({"torch": torch})
    print(settle_allocator())
    problem = make_problem(args.examples, "classes")
    op = L.HessianOperator(problem)
    print(f"{problem.name}: {problem.dim} parameters, {problem.n_examples} examples\n")

    # (a) one Hessian-vector product
    v = np.random.default_rng(1).normal(size=problem.dim)
    rows, ratios = [], {}
    thvp = None
    if torch is not None:
        thvp = torch_hvp(torch, problem)
        np.testing.assert_allclose(thvp(v), op @ v, rtol=1e-8, atol=1e-10)
    # alternate the two sides over several rounds, keep each side's best, so that a
    # burst of load on the machine does not land on one side only
    t_ml = t_pt = float("inf")
    for _ in range(ROUNDS):
        t_ml = min(t_ml, time_call(lambda: op @ v, repeats=3, warmup=1))
        if thvp is not None:
            t_pt = min(t_pt, time_call(lambda: thvp(v), repeats=3, warmup=1))
    rows.append(["mlcalc HessianOperator @ v", t_ml * 1e3])
    if thvp is not None:
        rows.append(["torch double backward", t_pt * 1e3])
        ratios["hvp: mlcalc / torch"] = t_ml / t_pt
    print("(a) one Hessian-vector product")
    print_table(["", "ms"], rows)
    print()

    # (b) top eigenvalue, Lanczos against power iteration, on the same operator
    print(f"(b) top eigenvalue to {REL:g} relative")
    rows = []
    for data, steps in (("classes", 0), ("classes", TRAIN_STEPS), ("teacher", 0)):
        case_problem = make_problem(args.examples, data)
        label = f"{data}, trained" if steps else f"{data}, init"
        case = L.HessianOperator(case_problem, params=train(case_problem, steps))
        ref_run = L.eigenvalues(case, k=1, tol=1e-6, max_steps=200, residuals="estimate")
        ref = float(ref_run.values[0])
        lz = L.eigenvalues(case, k=1, tol=REL, max_steps=200, residuals="estimate")
        pw = L.power_iteration(case, k=1, tol=1e-7, max_iter=args.max_power,
                               residuals="estimate")
        pw_hist = np.asarray(pw.history)[:, 0]
        lz_hit = first_within(np.asarray(ref_run.history)[:, 0], ref)
        pw_hit = first_within(pw_hist, ref)
        pw_rule = power_stop(pw_hist)
        pw_err = abs(pw_hist[pw_rule - 1] - ref) / abs(ref) if pw_rule else float("nan")
        rows.append([f"{label}: lanczos", f"{ref:.6g}", lz_hit, lz.n_products,
                     abs(float(lz.values[0]) - ref) / abs(ref)])
        rows.append([f"{label}: power iteration", "", pw_hit or f">{pw.n_products}",
                     pw_rule or "-", pw_err])
        if lz_hit:
            name = f"top eigenvalue ({label}): lanczos / power"
            TARGETS[name] = TARGETS["top eigenvalue: lanczos / power"]
            ratios[name] = lz_hit / (pw_hit or pw.n_products)
    print_table(["case", "λ_max", f"HVPs to {REL:g}", "HVPs at own stop",
                 "rel. error at own stop"], rows)
    print("(λ_max: Lanczos to residual 1e-6·λ; '>N': not within 1e-3 after N products, "
          "so the ratio is an upper bound)")
    print()
    for name, value in ratios.items():
        print(ratio_line(name, value, TARGETS[name]))


if __name__ == "__main__":
    main()
