"""Contractions: values equal NumPy's, derivatives to second (and third) order, vmap."""

import numpy as np
import pytest

import mlcalc as mc
import mlcalc.numpy as mnp
from mlcalc.testing import check_grads, check_vmap

rng = np.random.default_rng(0)


def rand(*shape):
    return rng.standard_normal(shape)


MATMUL_SHAPES = [
    ((3,), (3,)),
    ((2, 3), (3,)),
    ((3,), (3, 4)),
    ((2, 3), (3, 4)),
    ((4, 2, 3), (3, 5)),
    ((3,), (4, 3, 2)),
    ((4, 2, 3), (3,)),
    ((2, 3), (4, 3, 5)),
    ((4, 1, 2, 3), (5, 3, 2)),
    ((4, 2, 3), (4, 3, 5)),
]


@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES)
@pytest.mark.parametrize(
    "fn", [lambda a, b: a @ b, np.matmul, mnp.matmul, np.dot, mnp.dot], ids=str
)
def test_matmul_dot_grads(sa, sb, fn):
    check_grads(fn, (rand(*sa), rand(*sb)), order=2)


@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES)
def test_values_equal_numpy(sa, sb):
    a, b = rand(*sa), rand(*sb)
    np.testing.assert_array_equal(mnp.matmul(a, b), np.matmul(a, b))
    np.testing.assert_array_equal(mnp.dot(a, b), np.dot(a, b))
    if sa[-1] == sb[-1]:
        np.testing.assert_array_equal(mnp.inner(a, b), np.inner(a, b))


@pytest.mark.parametrize("sa,sb", [((2, 3, 4), (2, 4, 2)), ((4,), (2, 4, 3)), ((3, 4), (4,))])
@pytest.mark.parametrize("in_axes", [(0, 0), (1, None), (None, 1), (0, 1), (None, 0)])
@pytest.mark.parametrize("fn", [np.matmul, np.dot], ids=["matmul", "dot"])
def test_matmul_dot_vmap(sa, sb, in_axes, fn):
    def batched(x, ax):
        return x if ax is None else np.stack([rand(*x.shape) for _ in range(3)], axis=ax)

    a, b = batched(rand(*sa), in_axes[0]), batched(rand(*sb), in_axes[1])
    check_vmap(fn, (a, b), in_axes=in_axes)


def test_vmap_of_grad_matmul():
    w = rand(3, 2)
    f = mc.vmap(mc.grad(lambda x: np.sum(np.tanh(x @ w))))
    x = rand(5, 3)
    expected = np.stack([mc.grad(lambda x: np.sum(np.tanh(x @ w)))(xi) for xi in x])
    np.testing.assert_allclose(f(x), expected, rtol=1e-12)


def test_matmul_closed_form():
    a, b = rand(3, 4), rand(4, 2)
    g = mc.grad(lambda a: np.sum(a @ b))(a)
    np.testing.assert_allclose(g, np.ones((3, 2)) @ b.T)


def test_matmul_chain_third_order():
    a, b, c = rand(2, 3), rand(3, 3), rand(3, 2)
    check_grads(lambda a, b, c: np.tanh(a @ b) @ (b @ c), (a, b, c), order=3)


OTHERS = [
    ("vdot", lambda a, b: np.vdot(a, b), ((2, 3), (3, 2))),
    ("inner_vec", lambda a, b: np.inner(a, b), ((3,), (3,))),
    ("inner_nd", lambda a, b: np.inner(a, b), ((2, 3), (4, 2, 3))),
    ("inner_scalar", lambda a, b: np.inner(a, b), ((), (2, 3))),
    ("outer", lambda a, b: np.outer(a, b), ((3,), (2, 2))),
    ("tensordot2", lambda a, b: np.tensordot(a, b), ((3, 4, 5), (4, 5, 2))),
    ("tensordot_pairs", lambda a, b: np.tensordot(a, b, axes=([0, 2], [2, 0])),
     ((3, 4, 5), (5, 2, 3))),
    ("tensordot_int", lambda a, b: np.tensordot(a, b, axes=1), ((3, 4), (4, 2))),
    ("tensordot0", lambda a, b: np.tensordot(a, b, axes=0), ((3,), (2,))),
    ("kron", lambda a, b: np.kron(a, b), ((2, 3), (3, 2))),
    ("kron_ranks", lambda a, b: np.kron(a, b), ((2,), (3, 2))),
    ("cross3", lambda a, b: np.cross(a, b), ((4, 3), (3,))),
    ("cross_axes", lambda a, b: np.cross(a, b, axisa=0, axisb=1, axisc=0), ((3, 4), (4, 3))),
    ("cross_axis", lambda a, b: np.cross(a, b, axis=0), ((3, 2), (3, 2))),
    ("dot_scalar", lambda a, b: np.dot(a, b), ((), (2, 3))),
    ("dot_nd", lambda a, b: np.dot(a, b), ((2, 3, 4), (5, 4, 2))),
]


@pytest.mark.parametrize("name,fn,shapes", OTHERS, ids=[o[0] for o in OTHERS])
def test_other_contractions(name, fn, shapes):
    args = [rand(*s) for s in shapes]
    np.testing.assert_array_equal(
        fn(*[mnp.asarray(a) for a in args]), fn(*args)
    )
    check_grads(fn, args, order=2)
    check_vmap(fn, [np.stack([args[0], args[0] + 1.0])] + args[1:],
               in_axes=(0,) + (None,) * (len(args) - 1))
    check_vmap(fn, args[:1] + [np.stack([args[1], 2.0 * args[1]], axis=-1)],
               in_axes=(None, -1))


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_cross_2d_vectors():
    a, b = rand(4, 2), rand(4, 2)
    np.testing.assert_array_equal(mnp.cross(a, b), np.cross(a, b))
    check_grads(lambda a, b: np.cross(a, b), (a, b))
    check_grads(lambda a, b: np.cross(a, b), (rand(2), rand(3)))
    check_grads(lambda a, b: np.cross(a, b), (rand(3), rand(2)))


def test_values_equal_numpy_others():
    a, b = rand(3, 4, 5), rand(4, 5, 2)
    np.testing.assert_array_equal(mnp.tensordot(a, b), np.tensordot(a, b))
    np.testing.assert_array_equal(mnp.kron(a, b), np.kron(a, b))
    np.testing.assert_array_equal(mnp.vdot(a, a), np.vdot(a, a))
    np.testing.assert_array_equal(mnp.outer(a, b), np.outer(a, b))
    x, y = rand(5, 3), rand(3)
    np.testing.assert_array_equal(mnp.cross(x, y), np.cross(x, y))


EINSUMS = [
    ("ij,jk->ik", (2, 3), (3, 4)),
    ("ij,jk", (2, 3), (3, 4)),
    ("ii->i", (3, 3)),
    ("ii", (3, 3)),
    ("iij->ij", (3, 3, 2)),
    ("ij->", (2, 3)),
    ("ji", (2, 3)),
    ("i,i->i", (1,), (3,)),
    ("...ij,...jk->...ik", (5, 2, 3), (3, 4)),
    ("i...->...", (3, 2, 2)),
    ("bij,bjk,kl->bil", (2, 3, 4), (2, 4, 2), (2, 5)),
    ("ij,k->ijk", (2, 3), (4,)),
    ("i,j,k", (2,), (3,), (2,)),
    ("ij,ij->i", (3, 4), (3, 4)),
]


@pytest.mark.parametrize("case", EINSUMS, ids=[c[0] for c in EINSUMS])
def test_einsum(case):
    subs, shapes = case[0], case[1:]
    ops = [rand(*s) for s in shapes]
    np.testing.assert_array_equal(mnp.einsum(subs, *ops), np.einsum(subs, *ops))

    def f(*o):
        return np.einsum(subs, *o)

    check_grads(f, ops, order=2)
    check_vmap(f, [np.stack([o, o + 1.0]) for o in ops])
    rest = (None,) * (len(ops) - 1)
    check_vmap(f, [np.stack([ops[0], -ops[0]], axis=-1)] + ops[1:], in_axes=(-1,) + rest)


def test_einsum_operand_lists_and_optimize():
    x, y, z = rand(2, 3, 4), rand(5, 6, 4), rand(6, 2)
    np.testing.assert_array_equal(
        mnp.einsum(x, [0, 1, 2], y, [3, 4, 2]), np.einsum(x, [0, 1, 2], y, [3, 4, 2])
    )
    np.testing.assert_array_equal(
        mnp.einsum(x, [0, 1, 2], y, [3, 4, 2], [1, 3]),
        np.einsum(x, [0, 1, 2], y, [3, 4, 2], [1, 3]),
    )
    path = np.einsum_path("ijk,lmk,mi", x, y, z, optimize="optimal")[0]
    for opt in (True, "greedy", "optimal", path):
        np.testing.assert_array_equal(
            mnp.einsum("ijk,lmk,mi", x, y, z, optimize=opt),
            np.einsum("ijk,lmk,mi", x, y, z, optimize=opt),
        )

        def f(x, y, z, opt=opt):
            return np.einsum("ijk,lmk,mi", x, y, z, optimize=opt)

        check_grads(f, (x, y, z))
        check_vmap(f, (np.stack([x, 2 * x]), y, z), in_axes=(0, None, None))


def test_einsum_closed_form_trace():
    a = rand(4, 4)
    np.testing.assert_allclose(mc.grad(lambda a: np.einsum("ii", a))(a), np.eye(4))


def test_einsum_third_order():
    check_grads(lambda a, b: np.einsum("ij,jk,ik->", a, b, a), (rand(2, 3), rand(3, 3)), order=3)


def test_float32_preserved():
    a, b = rand(2, 3).astype(np.float32), rand(3, 2).astype(np.float32)
    g = mc.grad(lambda a: np.sum(a @ b))(a)
    assert g.dtype == np.float32
