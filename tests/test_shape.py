"""Shape manipulation, gathering and sorting: values equal NumPy's exactly, derivatives
to second order (forward and reverse), batching against a loop, the sort tie convention."""

from __future__ import annotations

import numpy as np
import pytest

import mlcalc as mc
import mlcalc.numpy as mnp
from mlcalc.testing import check_grads, check_vmap

I3 = np.array([[1, 0, 2], [2, 2, 0]])

# name -> (function written with plain NumPy, shapes of its arguments)
CASES = {
    "vstack_1d": (lambda a, b: np.vstack([a, b]), [(3,), (3,)]),
    "vstack_2d": (lambda a, b: np.vstack((a, b)), [(2, 3), (1, 3)]),
    "hstack_1d": (lambda a, b: np.hstack([a, b]), [(2,), (3,)]),
    "hstack_2d": (lambda a, b: np.hstack([a, b]), [(2, 3), (2, 1)]),
    "dstack": (lambda a, b: np.dstack([a, b]), [(2, 3), (2, 3)]),
    "column_stack": (lambda a, b: np.column_stack([a, b]), [(3,), (3, 2)]),
    "split_sections": (lambda a: np.split(a, 3, axis=1), [(2, 6)]),
    "split_indices": (lambda a: np.split(a, [1, 3]), [(5, 2)]),
    "array_split": (lambda a: np.array_split(a, 3), [(7,)]),
    "hsplit": (lambda a: np.hsplit(a, 2), [(2, 4, 6)]),
    "vsplit": (lambda a: np.vsplit(a, [1]), [(2, 4, 6)]),
    "dsplit": (lambda a: np.dsplit(a, 3), [(2, 4, 6)]),
    "tile_2d": (lambda a: np.tile(a, (2, 1, 2)), [(2, 3)]),
    "tile_int": (lambda a: np.tile(a, 2), [(3,)]),
    "repeat_flat": (lambda a: np.repeat(a, 2), [(2, 3)]),
    "repeat_axis": (lambda a: np.repeat(a, 3, axis=1), [(2, 3)]),
    "repeat_counts": (lambda a: np.repeat(a, [1, 0, 2], axis=0), [(3, 2)]),
    "repeat_method": (lambda a: a.repeat(2, axis=-1), [(2, 3)]),
    "flip_all": (lambda a: np.flip(a), [(2, 3, 4)]),
    "flip_axes": (lambda a: np.flip(a, (0, 2)), [(2, 3, 4)]),
    "fliplr": (lambda a: np.fliplr(a), [(2, 3)]),
    "flipud": (lambda a: np.flipud(a), [(2, 3)]),
    "roll_flat": (lambda a: np.roll(a, 2), [(2, 3)]),
    "roll_axis": (lambda a: np.roll(a, -1, axis=1), [(2, 3)]),
    "roll_tuple": (lambda a: np.roll(a, (1, 2), axis=(0, 1)), [(2, 3)]),
    "roll_same_axis": (lambda a: np.roll(a, (1, 3), axis=(1, 1)), [(2, 3)]),
    "rot90_1": (lambda a: np.rot90(a), [(2, 3, 4)]),
    "rot90_2": (lambda a: np.rot90(a, 2, axes=(1, 2)), [(2, 3, 4)]),
    "rot90_3": (lambda a: np.rot90(a, -1, axes=(2, 0)), [(2, 3, 4)]),
    "pad_constant": (lambda a: np.pad(a, (1, 2)), [(2, 3)]),
    "pad_constant_values": (
        lambda a: np.pad(a, ((1, 2), (0, 1)), constant_values=((1.5, 2.0), (3.0, -1.0))),
        [(2, 3)],
    ),
    "pad_edge": (lambda a: np.pad(a, ((2, 1), (1, 3)), mode="edge"), [(2, 3)]),
    "pad_reflect": (lambda a: np.pad(a, ((2, 3), (1, 0)), mode="reflect"), [(3, 3)]),
    "pad_symmetric": (lambda a: np.pad(a, 2, mode="symmetric"), [(3, 2)]),
    "pad_wrap": (lambda a: np.pad(a, ((5, 1), (0, 4)), mode="wrap"), [(3, 2)]),
    "atleast_1d": (lambda a, b: np.atleast_1d(a, b), [(), (3,)]),
    "atleast_2d": (lambda a, b, c: np.atleast_2d(a, b, c), [(), (3,), (2, 3)]),
    "atleast_3d": (lambda a, b, c: np.atleast_3d(a, b, c), [(), (3,), (2, 3)]),
    "diag_1d": (lambda a: np.diag(a), [(4,)]),
    "diag_1d_k": (lambda a: np.diag(a, 1), [(3,)]),
    "diag_1d_negk": (lambda a: np.diag(a, k=-2), [(3,)]),
    "diag_2d": (lambda a: np.diag(a, 1), [(3, 4)]),
    "diagonal": (lambda a: np.diagonal(a), [(3, 4)]),
    "diagonal_axes": (lambda a: np.diagonal(a, -1, 2, 0), [(3, 4, 5)]),
    "diagonal_method": (lambda a: a.diagonal(offset=1, axis1=1, axis2=2), [(2, 3, 4)]),
    "diagflat": (lambda a: np.diagflat(a, 1), [(2, 2)]),
    "tril": (lambda a: np.tril(a), [(4, 5)]),
    "tril_k": (lambda a: np.tril(a, -1), [(2, 3, 3)]),
    "triu": (lambda a: np.triu(a), [(4, 5)]),
    "triu_k": (lambda a: np.triu(a, 2), [(2, 3, 4)]),
    "take_flat": (lambda a: np.take(a, [0, 3, 3]), [(2, 3)]),
    "take_axis": (lambda a: np.take(a, I3, axis=1), [(2, 3)]),
    "take_wrap": (lambda a: np.take(a, [-1, 5], axis=0, mode="wrap"), [(3, 2)]),
    "take_clip": (lambda a: np.take(a, [-1, 5], axis=0, mode="clip"), [(3, 2)]),
    "take_method": (lambda a: a.take(1, axis=1), [(2, 3)]),
    "take_along_axis": (lambda a: np.take_along_axis(a, I3, axis=1), [(2, 3)]),
    "take_along_bcast": (lambda a: np.take_along_axis(a, I3[:1], axis=1), [(2, 3)]),
    "take_along_none": (lambda a: np.take_along_axis(a, np.array([5, 0, 0]), None), [(2, 3)]),
    "sort": (lambda a: np.sort(a), [(3, 4)]),
    "sort_axis0": (lambda a: np.sort(a, axis=0), [(3, 4)]),
    "sort_none": (lambda a: np.sort(a, axis=None), [(3, 4)]),
    "append_flat": (lambda a, b: np.append(a, b), [(2, 2), (3,)]),
    "append_axis": (lambda a, b: np.append(a, b, axis=1), [(2, 2), (2, 1)]),
    "insert_flat": (lambda a, b: np.insert(a, 2, b), [(2, 3), (2,)]),
    "insert_axis": (lambda a, b: np.insert(a, [0, 2, 2], b, axis=1), [(2, 3), (2, 3)]),
    "insert_scalar": (lambda a, b: np.insert(a, 1, b, axis=0), [(2, 3), ()]),
    "delete_flat": (lambda a: np.delete(a, [0, 4]), [(2, 3)]),
    "delete_axis": (lambda a: np.delete(a, slice(0, 3, 2), axis=1), [(2, 4)]),
    "meshgrid_xy": (lambda a, b: np.meshgrid(a, b), [(3,), (2,)]),
    "meshgrid_ij": (lambda a, b, c: np.meshgrid(a, b, c, indexing="ij"), [(3,), (2,), (2,)]),
    "meshgrid_sparse": (lambda a, b: np.meshgrid(a, b, sparse=True), [(3,), (2,)]),
    "broadcast_arrays": (lambda a, b: np.broadcast_arrays(a, b), [(2, 1), (3,)]),
}


def _args(shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) for s in shapes]


def _nonlinear(fn):
    """The function applied to sin of its inputs (so that second derivatives are not
    all zero)."""
    return lambda *xs: fn(*(np.sin(x) for x in xs))


def _leaves(out):
    return list(out) if isinstance(out, (list, tuple)) else [out]


@pytest.mark.parametrize("name", sorted(CASES))
def test_values_match_numpy(name):
    fn, shapes = CASES[name]
    args = _args(shapes)
    expected = fn(*args)
    primal, _ = mc.jvp(fn, tuple(args), tuple(np.ones_like(a) for a in args))
    got, exp = _leaves(primal), _leaves(expected)
    assert len(got) == len(exp)
    for g, e in zip(got, exp, strict=True):
        assert np.shape(g) == np.shape(e) and np.result_type(g) == np.result_type(e)
        np.testing.assert_array_equal(g, e)


@pytest.mark.parametrize("name", sorted(CASES))
def test_grads(name):
    fn, shapes = CASES[name]
    check_grads(_nonlinear(fn), _args(shapes, seed=1), order=2)


@pytest.mark.parametrize("name", sorted(CASES))
def test_vmap(name):
    fn, shapes = CASES[name]
    rng = np.random.default_rng(2)
    batched = [rng.standard_normal((3,) + s) for s in shapes]
    check_vmap(fn, batched, in_axes=0)
    # batch axis last for the first argument, the others unbatched
    moved = [np.moveaxis(batched[0], 0, -1)] + [b[0] for b in batched[1:]]
    check_vmap(fn, moved, in_axes=(len(shapes[0]),) + (None,) * (len(shapes) - 1))


@pytest.mark.parametrize("name", ["tile_2d", "pad_reflect", "sort", "diag_1d", "insert_axis"])
def test_vmap_of_grad(name):
    fn, shapes = CASES[name]

    def loss(*xs):
        return sum(np.sum(np.sin(o) * o) for o in _leaves(fn(*xs)))

    rng = np.random.default_rng(3)
    batched = [rng.standard_normal((3,) + s) for s in shapes]
    check_vmap(mc.grad(loss, argnums=tuple(range(len(shapes)))), batched, in_axes=0)


@pytest.mark.parametrize("name", ["roll_tuple", "pad_wrap", "sort_axis0", "take_axis"])
def test_third_order(name):
    fn, shapes = CASES[name]
    check_grads(_nonlinear(fn), _args(shapes, seed=4), order=3)


MNP_CASES = {
    "pad": (lambda a: mnp.pad(a, 1, mode="edge"), lambda a: np.pad(a, 1, mode="edge")),
    "sort": (lambda a: mnp.sort(a, axis=0), lambda a: np.sort(a, axis=0)),
    "roll": (lambda a: mnp.roll(a, 1, axis=0), lambda a: np.roll(a, 1, axis=0)),
    "tril": (lambda a: mnp.tril(a, 1), lambda a: np.tril(a, 1)),
    "diagonal": (lambda a: mnp.diagonal(a, 1), lambda a: np.diagonal(a, 1)),
    "take": (lambda a: mnp.take(a, [2, 0], axis=1), lambda a: np.take(a, [2, 0], axis=1)),
    "vstack": (lambda a: mnp.vstack([a, a]), lambda a: np.vstack([a, a])),
}


@pytest.mark.parametrize("name", sorted(MNP_CASES))
def test_mnp_spelling(name):
    fn, np_fn = MNP_CASES[name]
    x = _args([(3, 3)], seed=5)[0]
    np.testing.assert_array_equal(fn(x), np_fn(x))
    check_grads(_nonlinear(fn), [x], order=2)


def test_closed_forms():
    x = np.array([3.0, 1.0, 2.0])
    # d/dx sum(w * sort(x)) puts w[rank(x_i)] at x_i
    w = np.array([10.0, 20.0, 30.0])
    np.testing.assert_array_equal(mc.grad(lambda v: np.sum(w * np.sort(v)))(x), [30, 10, 20])
    # tile / repeat: the gradient counts the copies
    np.testing.assert_array_equal(mc.grad(lambda v: np.sum(np.tile(v, 3)))(x), [3, 3, 3])
    g = mc.grad(lambda v: np.sum(np.repeat(v, [2, 0, 1])))(x)
    np.testing.assert_array_equal(g, [2, 0, 1])
    # edge padding: the edge elements receive the padded copies
    g = mc.grad(lambda v: np.sum(np.pad(v, (2, 1), mode="edge")))(x)
    np.testing.assert_array_equal(g, [3, 1, 2])
    # trace via diagonal: the gradient is the identity
    m = np.arange(9.0).reshape(3, 3)
    np.testing.assert_array_equal(mc.grad(lambda a: np.sum(np.diagonal(a)))(m), np.eye(3))
    upper = np.triu(np.ones((3, 3)), 1)
    np.testing.assert_array_equal(mc.grad(lambda a: np.sum(np.triu(a, 1)))(m), upper)


def test_sort_tie_convention():
    """At ties the gradient follows the stable argsort: equal values keep their order."""
    x = np.array([1.0, 0.0, 1.0, 1.0])
    jac = mc.jacrev(np.sort)(x)
    order = np.argsort(x, kind="stable")
    np.testing.assert_array_equal(order, [1, 0, 2, 3])
    np.testing.assert_array_equal(jac, np.eye(4)[order])
    np.testing.assert_array_equal(mc.jacfwd(np.sort)(x), jac)


def test_sort_under_vmap_and_argsort():
    x = np.random.default_rng(6).standard_normal((4, 5))
    np.testing.assert_array_equal(mc.vmap(np.sort)(x), np.sort(x, axis=1))
    np.testing.assert_array_equal(mc.vmap(np.argsort, in_axes=1)(x), np.argsort(x.T, axis=1))
    np.testing.assert_array_equal(mc.vmap(lambda v: v.argsort())(x), np.argsort(x, axis=1))
    # argsort carries no derivative: a function of it is constant
    g = mc.grad(lambda v: np.sum(v * np.argsort(v)))(x[0])
    np.testing.assert_array_equal(g, np.argsort(x[0]))
    # take_along_axis with indices computed under vmap
    check_vmap(lambda v: np.take_along_axis(v, np.argsort(-v), axis=0), [x])


def test_take_along_axis_batched_indices_only():
    x = np.random.default_rng(7).standard_normal(5)
    idx = np.array([[0, 4, 4], [1, 2, 3]])
    check_vmap(lambda i: np.take_along_axis(x * 1.0, i, axis=0), [idx])
    check_vmap(lambda v, i: np.take_along_axis(np.sin(v), i, axis=0), [x, idx], in_axes=(None, 0))
    check_vmap(
        mc.grad(lambda v, i: np.sum(np.take_along_axis(np.sin(v), i, axis=0) ** 2)),
        [x, idx],
        in_axes=(None, 0),
    )


def test_float32_kept():
    x = np.ones((2, 3), dtype=np.float32)
    for fn in (lambda a: np.pad(a, 1), lambda a: np.sort(a), lambda a: np.diag(a[0])):
        out, _ = mc.jvp(fn, (x,), (x,))
        assert out.dtype == np.float32


def test_unsupported_pad_mode():
    with pytest.raises(NotImplementedError, match="pad supports"):
        mc.grad(lambda a: np.sum(np.pad(a, 1, mode="linear_ramp")))(np.ones(3))


@pytest.mark.skipif(not hasattr(np, "row_stack"), reason="np.row_stack was removed")
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_row_stack():
    a, b = _args([(3,), (3,)])
    fn = lambda u, v: np.row_stack([u, v])  # noqa: E731
    np.testing.assert_array_equal(mc.jvp(fn, (a, b), (a, b))[0], np.vstack([a, b]))
    check_grads(fn, [a, b], order=1)
