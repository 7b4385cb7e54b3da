"""Built-in data sets and the array loader of mlcalc.models."""

import numpy as np
import pytest

from mlcalc.models import blobs, load_arrays, teacher_student, two_moons, two_spirals

CLASSIFIERS = [
    lambda seed, n: two_spirals(n=n, seed=seed),
    lambda seed, n: two_moons(n=n, seed=seed),
    lambda seed, n: blobs(n=n, classes=4, dim=3, seed=seed),
]


@pytest.mark.parametrize("make", CLASSIFIERS)
def test_reproducible_balanced_standardised(make):
    X, y = make(0, 201)
    X2, y2 = make(0, 201)
    X3, _ = make(1, 201)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    assert not np.allclose(X, X3)
    assert X.dtype == np.float64 and y.dtype == np.int64
    assert X.shape[0] == 201 and y.shape == (201,)
    counts = np.bincount(y)
    assert counts.max() - counts.min() <= 1 and counts.sum() == 201
    np.testing.assert_allclose(X.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(X.std(axis=0), 1, rtol=1e-12)
    assert not np.all(np.diff(y) >= 0)  # shuffled


def _one_nn_accuracy(X, y):
    d = ((X[:, None, :] - X[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    return np.mean(y[d.argmin(axis=1)] == y)


def _linear_accuracy(X, y):
    A = np.hstack([X, np.ones((len(X), 1))])
    w = np.linalg.lstsq(A, 2.0 * y - 1, rcond=None)[0]
    return np.mean((A @ w > 0) == (y == 1))


def test_spirals_and_moons_are_locally_separable_but_not_linearly():
    X, y = two_spirals(n=400, noise=0.02, seed=0)
    assert _one_nn_accuracy(X, y) > 0.97
    assert _linear_accuracy(X, y) < 0.75
    X, y = two_moons(n=400, noise=0.05, seed=0)
    assert _one_nn_accuracy(X, y) > 0.97
    assert _linear_accuracy(X, y) < 0.92


def test_noiseless_spirals_lie_on_curves():
    # each noiseless arm is a curve: every point's nearest neighbour is on its own arm,
    # and the arms wind (a linear classifier stays near chance)
    X, y = two_spirals(n=1000, noise=0.0, seed=3)
    assert _one_nn_accuracy(X, y) == 1.0
    assert _linear_accuracy(X, y) < 0.7


def test_blobs_cluster_labels():
    X, y = blobs(n=300, classes=3, dim=5, spread=0.3, separation=5.0, seed=2)
    centres = np.stack([X[y == c].mean(axis=0) for c in range(3)])
    pred = ((X[:, None, :] - centres[None]) ** 2).sum(-1).argmin(axis=1)
    assert np.mean(pred == y) > 0.99


def test_teacher_student_noise_is_additive():
    X0, y0 = teacher_student(n=4000, d_in=3, d_hidden=5, noise=0.0, seed=4)
    X1, y1 = teacher_student(n=4000, d_in=3, d_hidden=5, noise=0.2, seed=4)
    np.testing.assert_array_equal(X0, X1)
    assert y0.shape == (4000, 1) and y0.dtype == np.float64
    assert abs((y1 - y0).std() / 0.2 - 1) < 0.05  # se of a sample sd: 1/√(2n) ≈ 0.011
    assert abs((y1 - y0).mean()) < 0.02


def test_load_arrays(tmp_path):
    X = np.arange(12.0).reshape(6, 2)
    y = np.array([0, 1, 0, 1, 1, 0], dtype=np.int32)
    path = tmp_path / "d.npz"
    np.savez(path, X=X, y=y)
    Xl, yl = load_arrays(path)
    np.testing.assert_array_equal(Xl, X)
    assert yl.dtype == np.int64 and Xl.dtype == np.float64
    Xs, ys = load_arrays((np.arange(5), np.linspace(0, 1, 5)), standardize_inputs=True)
    assert Xs.shape == (5, 1) and ys.dtype == np.float64
    np.testing.assert_allclose(Xs.std(), 1.0)
    np.savez(tmp_path / "bad.npz", inputs=X, y=y)
    with pytest.raises(ValueError, match=r"holds arrays \['inputs', 'y'\]"):
        load_arrays(tmp_path / "bad.npz")
    with pytest.raises(ValueError, match=r"X has 6 examples \(shape \(6, 2\)\) but y has 5"):
        load_arrays((X, y[:5]))
    with pytest.raises(FileNotFoundError):
        load_arrays(tmp_path / "missing.npz")
