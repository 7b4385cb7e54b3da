"""Property-based tests: random compositions of primitives, checked to second order in
forward and reverse mode against central differences and the dot-product identity,
and under vmap against a loop."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import mlcalc as mc
from mlcalc.testing import check_grads, check_vmap

UNARY = {
    "sin": np.sin,
    "cos": np.cos,
    "tanh": np.tanh,
    "exp_tanh": lambda x: np.exp(np.tanh(x)),
    "square": lambda x: x * x,
    "cube": lambda x: x**3,
    "rational": lambda x: x / (1.0 + x * x),
    "log_pos": lambda x: np.log(1.5 + np.sin(x)),
    "neg": lambda x: -x,
    "scaled": lambda x: 0.5 * x - 1.0,
}
BINARY = {
    "add": lambda x, y: x + y,
    "sub": lambda x, y: x - y,
    "mul": lambda x, y: x * y,
    "div": lambda x, y: x / (2.0 + np.cos(y)),
    "pow": lambda x, y: (1.5 + np.sin(x)) ** np.tanh(y),
}
STRUCT = {
    "rowsum": lambda x: np.sum(x, axis=0, keepdims=True) * np.ones_like(x),
    "transpose2": lambda x: np.transpose(x, (1, 0)) * 1.0 if x.shape[0] == x.shape[1] else x,
    "shift": lambda x: np.concatenate([x[1:], x[:1]], axis=0),
    "reshape": lambda x: np.reshape(np.reshape(x, (-1,)), x.shape),
    "flip_slice": lambda x: x[::-1] * 1.0,
}


@st.composite
def programs(draw):
    """A random program: a list of steps over a small register file."""
    n_steps = draw(st.integers(1, 6))
    steps = []
    for i in range(n_steps):
        kind = draw(st.sampled_from(["unary", "binary", "struct"]))
        a = draw(st.integers(0, i + 1))
        if kind == "unary":
            steps.append(("unary", draw(st.sampled_from(sorted(UNARY))), a, None))
        elif kind == "binary":
            b = draw(st.integers(0, i + 1))
            steps.append(("binary", draw(st.sampled_from(sorted(BINARY))), a, b))
        else:
            steps.append(("struct", draw(st.sampled_from(sorted(STRUCT))), a, None))
    return steps


def run(program, x, y):
    regs = [x, y]
    for kind, name, a, b in program:
        if kind == "unary":
            regs.append(UNARY[name](regs[a]))
        elif kind == "binary":
            regs.append(BINARY[name](regs[a], regs[b]))
        else:
            regs.append(STRUCT[name](regs[a]))
    return regs[-1]


points = st.integers(0, 2**31 - 1).map(lambda s: np.random.default_rng(s))


@given(programs(), points)
def test_random_compositions_second_order(program, rng):
    x = rng.uniform(-1.0, 1.0, (3, 3))
    y = rng.uniform(-1.0, 1.0, (3, 3))
    check_grads(lambda x, y: run(program, x, y), (x, y), order=2, rtol=1e-5, atol=1e-5)


@given(programs(), points)
def test_random_compositions_scalar_loss_hessian_symmetric(program, rng):
    x = rng.uniform(-1.0, 1.0, (3, 3))
    y = rng.uniform(-1.0, 1.0, (3, 3))
    loss = lambda x: np.sum(run(program, x, y) ** 2)  # noqa: E731
    H = mc.hessian(loss)(x).reshape(9, 9)
    np.testing.assert_allclose(H, H.T, rtol=1e-9, atol=1e-9)
    v = rng.standard_normal((3, 3))
    np.testing.assert_allclose(
        mc.hvp(loss, (x,), (v,)).ravel(), H @ v.ravel(), rtol=1e-9, atol=1e-9
    )


@given(programs(), points)
def test_random_compositions_vmap(program, rng):
    X = rng.uniform(-1.0, 1.0, (4, 3, 3))
    y = rng.uniform(-1.0, 1.0, (3, 3))
    check_vmap(lambda x, y: run(program, x, y), (X, y), in_axes=(0, None), rtol=1e-12,
               atol=1e-12)
    check_vmap(mc.grad(lambda x, y: np.sum(run(program, x, y))), (X, y), in_axes=(0, None),
               rtol=1e-12, atol=1e-12)
