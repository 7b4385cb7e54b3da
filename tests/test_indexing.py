"""Indexing: reading (every kind of NumPy index), item assignment on traced arrays (a
functional update), scatter-add; values, derivatives to second order, batching."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import mlcalc as mc
import mlcalc.numpy as mnp
from mlcalc.autodiff.core import TracerConversionWarning
from mlcalc.testing import check_grads, check_vmap

SHAPE = (4, 5, 6)
_MASK = np.random.default_rng(10).standard_normal(SHAPE) > 0

INDICES = {
    "int": 2,
    "negative_int": (-1, 3),
    "slice": slice(1, 3),
    "slice_step": (slice(None), slice(0, 5, 2)),
    "negative_step": (slice(None, None, -1), slice(4, 0, -2)),
    "ellipsis": (Ellipsis, 1),
    "ellipsis_middle": (0, Ellipsis, slice(1, None)),
    "newaxis": (None, slice(1, 3), None, 2),
    "int_array": np.array([0, 2, 3]),
    "repeats": np.array([1, 1, 0, 1]),
    "list": [3, 0, 3],
    "array_2d": (slice(None), np.array([[0, 1], [4, 4]])),
    "two_arrays": (np.array([0, 3, 3]), slice(None), np.array([5, 0, 5])),
    "adjacent_arrays": (slice(None), [1, 2], [0, 5]),
    "array_and_int": (1, slice(None), [0, 2, 2]),
    "array_int_adjacent": (slice(None), 1, [0, 2, 2]),
    "mask_full": _MASK,
    "mask_leading": _MASK[:, :, 0],
    "mask_middle": (slice(None), _MASK[0, :, 0]),
    "mask_and_int": (2, slice(None), _MASK[0, 0]),
    "mask_then_slice": (_MASK[:, 0, 0], slice(None, None, -1)),
    "mixed_newaxis": (Ellipsis, None, [1, 0]),
}


def _x(seed=0, shape=SHAPE):
    return np.random.default_rng(seed).standard_normal(shape)


@pytest.mark.parametrize("name", sorted(INDICES))
def test_getitem(name):
    idx = INDICES[name]
    x = _x()
    out, _ = mc.jvp(lambda a: a[idx], (x,), (x,))
    np.testing.assert_array_equal(out, x[idx])
    check_grads(lambda a: np.sin(a)[idx], [x], order=2)


@pytest.mark.parametrize("name", sorted(INDICES))
def test_getitem_vmap(name):
    idx = INDICES[name]
    x = np.random.default_rng(1).standard_normal((3,) + SHAPE)
    for axis in (0, 2, 3):
        check_vmap(lambda a: a[idx], [np.moveaxis(x, 0, axis)], in_axes=axis)
    grad = mc.grad(lambda a: np.sum(np.sin(a[idx]) ** 2))
    check_vmap(grad, [np.moveaxis(x, 0, 1)], in_axes=1)


def test_repeated_indices_accumulate():
    x = np.arange(4.0)
    g = mc.grad(lambda a: np.sum(a[[0, 0, 3, 0]]))(x)
    np.testing.assert_array_equal(g, [3, 0, 0, 1])
    g = mc.grad(lambda a: np.sum(a[np.array([[1, 1], [1, 2]])] ** 2))(x)
    np.testing.assert_array_equal(g, [0, 6, 4, 0])


def test_mask_gradient():
    x = np.array([1.0, -2.0, 3.0, -4.0])
    g = mc.grad(lambda a: np.sum(a[a > 0] ** 2))(x)
    np.testing.assert_array_equal(g, [2, 0, 6, 0])


# item assignment: name -> (update(y, v) applied to a copy of y, shape of v)
UPDATES = {
    "int": (lambda y, v: y.__setitem__(1, v), (5, 6)),
    "int_broadcast": (lambda y, v: y.__setitem__((0, 2), v), ()),
    "slice_step": (lambda y, v: y.__setitem__((slice(None), slice(None, None, -2)), v), (6,)),
    "ellipsis": (lambda y, v: y.__setitem__((Ellipsis, 0), v), (4, 5)),
    "int_array": (lambda y, v: y.__setitem__(([3, 0], slice(None), 1), v), (2, 5)),
    "repeats_last_wins": (lambda y, v: y.__setitem__(([0, 1, 0], 2, 3), v), (3,)),
    "mask": (lambda y, v: y.__setitem__(_MASK, v), ()),
    "mask_middle": (lambda y, v: y.__setitem__((slice(None), _MASK[0, :, 0]), v), (6,)),
    "non_adjacent": (lambda y, v: y.__setitem__(([1, 2], slice(None), [0, 5]), v), (2, 5)),
    "adjacent_after_slice": (lambda y, v: y.__setitem__((slice(None), [1, 2], [0, 5]), v), (4, 2)),
}


def _updated(update, traced_by_value=False):
    def f(y, v):
        z = y + 0.0 * np.sum(v) if traced_by_value else y * 1.0
        update(z, v)
        return z

    return f


@pytest.mark.parametrize("name", sorted(UPDATES))
def test_setitem(name):
    update, vshape = UPDATES[name]
    y, v = _x(2), _x(3, vshape)
    f = _updated(update)
    expected = y.copy()
    update(expected, v)
    out, _ = mc.jvp(f, (y, v), (y, v))
    np.testing.assert_array_equal(out, expected)
    check_grads(lambda a, b: np.sin(f(a, b)), [y, v], order=2)


@pytest.mark.parametrize("name", sorted(UPDATES))
def test_setitem_vmap(name):
    update, vshape = UPDATES[name]
    f = _updated(update)
    ys = np.random.default_rng(4).standard_normal((3,) + SHAPE)
    vs = np.random.default_rng(5).standard_normal((3,) + vshape)
    check_vmap(f, [ys, vs], in_axes=(0, 0))
    check_vmap(f, [np.moveaxis(ys, 0, 2), vs[0]], in_axes=(2, None))
    # an unbatched array updated with batched values (made traced first)
    g = _updated(update, traced_by_value=True)
    check_vmap(g, [ys[0], np.moveaxis(vs, 0, -1)], in_axes=(None, len(vshape)))
    grad = mc.grad(lambda a, b: np.sum(np.sin(f(a, b))), argnums=(0, 1))
    check_vmap(grad, [ys, vs], in_axes=(0, 0))


def test_setitem_last_write_wins_gradient():
    """Only the entry of v that ends up in the array receives its derivative."""
    y, v = np.zeros(3), np.array([1.0, 2.0, 3.0])
    gy, gv = mc.grad(lambda a, b: np.sum(_updated(lambda z, w: z.__setitem__([0, 0, 2], w))(
        a, b)), argnums=(0, 1))(y, v)
    np.testing.assert_array_equal(gy, [0, 1, 0])
    np.testing.assert_array_equal(gv, [0, 1, 1])


def test_augmented_assignment():
    def f(y, v):
        y = y * 1.0
        y[1:] += v
        y[0] *= v[0]
        return y

    y, v = _x(6, (4,)), _x(7, (3,))
    expected = y.copy()
    expected[1:] += v
    expected[0] *= v[0]
    np.testing.assert_array_equal(mc.jvp(f, (y, v), (y, v))[0], expected)
    check_grads(f, [y, v], order=2)
    check_vmap(f, [_x(8, (2, 4)), _x(9, (2, 3))])


def test_mask_assignment():
    def f(x):
        y = x * x
        y[x < 0] = 0.0
        return y

    x = np.array([1.5, -2.0, 3.0, -0.5])
    np.testing.assert_array_equal(mc.grad(lambda a: np.sum(f(a)))(x), [3, 0, 6, 0])
    check_grads(f, [x], order=2)
    check_vmap(f, [_x(11, (3, 4))])


def test_zeros_like_pattern():
    def f(x):
        y = np.zeros_like(x)
        y[0] = x[1] ** 2
        y[2:] = np.sin(x[:2])
        return y

    x = _x(12, (4,))
    np.testing.assert_array_equal(
        mc.jacrev(f)(x),
        [[0, 2 * x[1], 0, 0], [0, 0, 0, 0], [np.cos(x[0]), 0, 0, 0], [0, np.cos(x[1]), 0, 0]],
    )
    check_grads(f, [x], order=2)
    check_vmap(f, [_x(13, (3, 4))])
    check_vmap(mc.jacfwd(f), [_x(14, (3, 4))])


def test_third_order_indexing():
    check_grads(lambda a: a[[0, 0, 2]] ** 3 * a[1:][::-1][:3], [_x(15, (4,))], order=3)


def test_writing_traced_into_plain_array_raises():
    def scalar(x):
        a = np.zeros(3)
        a[0] = x[0]
        return a

    def block(x):
        a = np.zeros(3)
        a[:2] = x[:2]
        return a

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TracerConversionWarning)
        with pytest.raises(mc.TracerConversionError, match="zeros_like"):
            mc.grad(lambda x: np.sum(block(x)))(np.ones(3))
    # NumPy reports a 0-d value written into an element as a ValueError; the
    # TracerConversionError is its cause, announced first by a warning with the fix.
    with pytest.warns(TracerConversionWarning, match="zeros_like"):
        with pytest.raises((mc.TracerConversionError, ValueError)) as info:
            mc.grad(lambda x: np.sum(scalar(x)))(np.ones(3))
    err = info.value
    assert isinstance(err, mc.TracerConversionError) or isinstance(
        err.__cause__, mc.TracerConversionError
    )


def test_traced_index_raises():
    x = np.arange(3.0)
    with pytest.raises(TypeError, match="traced"):
        mc.grad(lambda a: a[a])(x)


def test_add_at():
    x, v = _x(16, (5,)), _x(17, (4,))
    idx = np.array([0, 2, 0, 4])
    expected = x.copy()
    np.add.at(expected, idx, v)
    np.testing.assert_array_equal(mnp.add_at(x, idx, v), expected)
    check_grads(lambda a, b: mnp.add_at(a, idx, b) ** 2, [x, v], order=2)
    check_vmap(lambda a, b: mnp.add_at(a, idx, b), [_x(18, (3, 5)), _x(19, (4, 3))],
               in_axes=(0, 1))
    check_vmap(lambda a, b: mnp.add_at(a, (slice(None), [1, 1]), b),
               [_x(20, (3, 2, 4)), _x(21, (2, 2))], in_axes=(0, None))
