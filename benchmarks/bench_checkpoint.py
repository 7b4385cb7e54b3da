"""Memory of reverse mode with and without ``mc.checkpoint``.

``grad`` with respect to the input ``x`` of ``sum(h_L ** 2)`` through a chain of
``L = 100`` layers ``h ↦ tanh(h @ W_l + b_l)`` (width 256, batch 64, float64). Plain
reverse mode keeps every layer's residuals until the backward pass; with each block of
10 layers wrapped in ``mc.checkpoint`` only the block inputs are kept, and a block's
residuals are recomputed when the backward pass reaches it. Prints the peak memory
(``tracemalloc``, which sees NumPy's allocations) and the time of both, after checking
that their gradients agree.

Run from the repository root: ``python benchmarks/bench_checkpoint.py``.
"""

from __future__ import annotations

from _common import pin_threads

pin_threads()


import numpy as np  # noqa: E402

import mlcalc as mc  # noqa: E402
from _common import peak_mb, print_machine, print_table, time_call  # noqa: E402

DEPTH = 100
WIDTH = 256
BATCH = 64
BLOCK = 10


def make_params(rng):
    """``DEPTH`` pairs (W, b); W scaled so that activations neither vanish nor saturate."""
    return [
        (rng.normal(0.0, 1.0 / np.sqrt(WIDTH), (WIDTH, WIDTH)), rng.normal(0.0, 0.1, WIDTH))
        for _ in range(DEPTH)
    ]


def make_block(params):
    """The layers ``params`` as one function of the activations (plain NumPy)."""

    def block(h):
        for w, b in params:
            h = np.tanh(h @ w + b)
        return h

    return block


def make_loss(params, checkpointed: bool):
    """``x ↦ sum(h_L ** 2)``; with ``checkpointed``, each block of ``BLOCK`` layers is
    wrapped in ``mc.checkpoint``."""
    blocks = [make_block(params[i:i + BLOCK]) for i in range(0, DEPTH, BLOCK)]
    if checkpointed:
        blocks = [mc.checkpoint(block) for block in blocks]

    def loss(x):
        h = x
        for block in blocks:
            h = block(h)
        return np.sum(h * h)

    return loss


def main() -> None:
    print_machine({})
    rng = np.random.default_rng(0)
    params = make_params(rng)
    x = rng.normal(size=(BATCH, WIDTH))
    plain = mc.grad(make_loss(params, checkpointed=False))
    ckpt = mc.grad(make_loss(params, checkpointed=True))
    forward = make_loss(params, checkpointed=False)
    try:
        g_plain = plain(x)
    except mc.NotDifferentiableError as err:
        print(f"skipped: mlcalc cannot differentiate the chain yet: {err}")
        return
    g_ckpt = ckpt(x)
    np.testing.assert_allclose(g_ckpt, g_plain, rtol=1e-12, atol=1e-14,
                               err_msg="checkpointed gradient differs from plain reverse mode")

    rows = []
    for name, fn in (("numpy forward (no grad)", forward), ("grad", plain),
                     (f"grad, checkpoint every {BLOCK} layers", ckpt)):
        rows.append([name, peak_mb(fn, x), time_call(lambda fn=fn: fn(x), repeats=5) * 1e3])
    activation_mb = BATCH * WIDTH * 8 / 1e6
    print(f"\ngrad w.r.t. x through {DEPTH} layers tanh(h @ W + b), width {WIDTH}, batch "
          f"{BATCH}, float64 (one activation = {activation_mb:.3f} MB)")
    print_table(["run", "peak MB", "ms/call"], rows)
    print(f"\ncheckpoint / plain: peak memory {rows[2][1] / rows[1][1]:.2f}, "
          f"time {rows[2][2] / rows[1][2]:.2f}")


if __name__ == "__main__":
    main()
