"""Slices of the loss landscape, filter-normalised directions and the resumable scan."""

import numpy as np
import pytest

from mlcalc.landscape.directions import (
    filter_norms,
    normalize_direction,
    random_direction,
    random_directions,
)
from mlcalc.landscape.scan import ScanMismatchError, scan_grid
from mlcalc.landscape.slices import slice_1d, slice_2d
from mlcalc.models.problem import Problem

DIM = 6


def _identity(p, X):
    return p["w"]


def quadratic(H, w0=None, counter=None, fail_after=None):
    """L(w) = ½ wᵀ H w as a Problem; ``counter`` (a list) counts loss evaluations and
    ``fail_after`` raises KeyboardInterrupt once that many have been made."""

    def loss(out, y):
        if counter is not None:
            if fail_after is not None and len(counter) >= fail_after:
                raise KeyboardInterrupt("simulated interruption")
            counter.append(1)
        return 0.5 * out @ H @ out

    w0 = np.zeros(H.shape[0]) if w0 is None else w0
    return Problem(_identity, loss, (np.zeros((1, 1)), np.zeros(1)), {"w": w0})


@pytest.fixture(scope="module")
def H():
    rng = np.random.default_rng(1)
    A = rng.normal(size=(DIM, DIM))
    return A @ A.T + np.eye(DIM)


def _orthonormal(k, seed=2):
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(DIM, k)))
    return q.T


# ---------------------------------------------------------------- closed forms
def test_slice_2d_of_quadratic_is_the_projected_quadratic_form(H):
    D = _orthonormal(2)
    s = slice_2d(quadratic(H), directions=D, span=(-1.5, 2.0), resolution=(7, 5))
    M = D @ H @ D.T  # Dᵀ H D in the column convention
    for i, a in enumerate(s.alphas):
        for j, b in enumerate(s.betas):
            x = np.array([a, b])
            assert s.losses[i, j] == pytest.approx(0.5 * x @ M @ x, rel=1e-12, abs=1e-13)
    assert s.losses.shape == (7, 5)
    assert s.alphas[0] == -1.5 and s.betas[-1] == 2.0
    assert abs(s.cosine) < 1e-12


def test_slice_1d_away_from_the_minimum_is_the_taylor_polynomial(H):
    w0 = np.arange(1.0, DIM + 1) / DIM
    d = _orthonormal(1)[0]
    s = slice_1d(quadratic(H, w0), direction=d, span=2.0, resolution=9)
    # L(θ + αd) = L(θ) + α (Hθ)·d + ½ α² dᵀHd, exactly for a quadratic
    expected = 0.5 * w0 @ H @ w0 + s.alphas * (H @ w0 @ d) + 0.5 * s.alphas**2 * (d @ H @ d)
    np.testing.assert_allclose(s.losses, expected, rtol=1e-12)


def test_eigenvector_directions_from_an_eigen_result(H):
    values, vectors = np.linalg.eigh(H)
    top = vectors[:, ::-1]  # (dim, k) columns, largest first

    class Eigenpairs:  # the shape of a spectral result: values and vectors as columns
        def __init__(self, values, vectors):
            self.values, self.vectors = values, vectors

    s = slice_2d(quadratic(H), directions=Eigenpairs(values[::-1], top), span=1.0,
                 resolution=5)
    A, B = np.meshgrid(s.alphas, s.betas, indexing="ij")
    np.testing.assert_allclose(s.losses, 0.5 * (values[-1] * A**2 + values[-2] * B**2),
                               rtol=1e-12, atol=1e-14)


# ---------------------------------------------------------------- filter normalisation
def _layered_problem():
    rng = np.random.default_rng(3)
    params = [
        {"W": rng.normal(size=(3, 4)), "b": rng.normal(size=4)},
        {"scale": 1.0 + rng.normal(size=4)},
        {"W": rng.normal(size=(4, 2)), "b": rng.normal(size=2)},
        {"K": rng.normal(size=(5, 2, 3, 3))},
    ]
    return Problem(lambda p, X: X, lambda o, y: np.sum(o), (np.zeros((1, 1)), np.zeros(1)),
                   params)


def test_filter_normalisation_matches_each_filter_norm_of_theta():
    prob = _layered_problem()
    kinds = {info.name: (info.kind, info.filter_axis) for info in prob.layout}
    assert kinds["[0].W"] == ("weight", 1) and kinds["[0].b"] == ("bias", None)
    assert kinds["[1].scale"] == ("norm", None) and kinds["[3].K"] == ("weight", 0)
    theta = prob.flat_params
    d = random_direction(prob, seed=7)
    P, D = prob.unravel(theta), prob.unravel(d)
    # Dense (in, out): filters are the columns
    for layer in (0, 2):
        np.testing.assert_allclose(np.linalg.norm(D[layer]["W"], axis=0),
                                   np.linalg.norm(P[layer]["W"], axis=0), rtol=1e-9)
        # the direction is random, not a rescaled copy of θ
        assert abs(np.corrcoef(D[layer]["W"].ravel(), P[layer]["W"].ravel())[0, 1]) < 0.9
    # convolution kernels (out, in, kh, kw): filters along axis 0
    np.testing.assert_allclose(np.linalg.norm(D[3]["K"].reshape(5, -1), axis=1),
                               np.linalg.norm(P[3]["K"].reshape(5, -1), axis=1), rtol=1e-9)
    # ignore="biasbn": biases and normalisation parameters do not move
    assert not np.any(D[0]["b"]) and not np.any(D[2]["b"]) and not np.any(D[1]["scale"])
    # filter_norms reports the same thing
    fn_d, fn_t = filter_norms(prob, d), filter_norms(prob, theta)
    np.testing.assert_allclose(fn_d["[2].W"], fn_t["[2].W"], rtol=1e-9)


def test_ignore_none_keeps_biases_normalised_as_a_whole():
    prob = _layered_problem()
    d = random_direction(prob, ignore=None, seed=7)
    P, D = prob.unravel(prob.flat_params), prob.unravel(d)
    for leaf in (D[0]["b"], D[2]["b"], D[1]["scale"]):
        assert np.all(leaf != 0)
    assert np.linalg.norm(D[0]["b"]) == pytest.approx(np.linalg.norm(P[0]["b"]), rel=1e-9)
    assert np.linalg.norm(D[1]["scale"]) == pytest.approx(np.linalg.norm(P[1]["scale"]),
                                                          rel=1e-9)
    # the weights are normalised exactly as with ignore="biasbn" (same draw)
    d_bn = random_direction(prob, ignore="biasbn", seed=7)
    np.testing.assert_array_equal(D[0]["W"], prob.unravel(d_bn)[0]["W"])


def test_layer_and_unit_normalisations():
    prob = _layered_problem()
    P = prob.unravel(prob.flat_params)
    D = prob.unravel(random_direction(prob, normalization="layer", seed=1))
    assert np.linalg.norm(D[3]["K"]) == pytest.approx(np.linalg.norm(P[3]["K"]), rel=1e-9)
    u = random_direction(prob, normalization="unit", seed=1)
    assert np.linalg.norm(u) == pytest.approx(1.0, rel=1e-12)
    assert not np.any(prob.unravel(u)[0]["b"])


def test_orthogonalised_directions_are_orthogonal_and_keep_their_norms():
    prob = _layered_problem()
    raw = random_directions(prob, n=2, seed=4)
    ortho = random_directions(prob, n=2, orthogonalize=True, seed=4)
    assert abs(ortho[0] @ ortho[1]) < 1e-12 * np.linalg.norm(ortho[0]) * np.linalg.norm(
        ortho[1])
    np.testing.assert_array_equal(ortho[0], raw[0])
    assert np.linalg.norm(ortho[1]) == pytest.approx(np.linalg.norm(raw[1]), rel=1e-12)


def test_normalize_a_given_direction_and_bad_options():
    prob = _layered_problem()
    g = np.ones(prob.dim)
    d = normalize_direction(prob, g)
    np.testing.assert_allclose(filter_norms(prob, d)["[0].W"],
                               filter_norms(prob, prob.flat_params)["[0].W"], rtol=1e-9)
    with pytest.raises(ValueError, match="normalization"):
        random_direction(prob, normalization="weights")
    with pytest.raises(ValueError, match="ignore"):
        random_direction(prob, ignore="bias")
    with pytest.raises(ValueError, match=r"shape \(" + str(prob.dim)):
        normalize_direction(prob, np.ones(prob.dim + 1))


def test_all_bias_problem_gives_a_clear_error():
    prob = Problem(_identity, lambda o, y: o @ o, (np.zeros((1, 1)), np.zeros(1)),
                   {"w": np.ones(3)})
    with pytest.raises(ValueError, match="ignore=None"):
        random_direction(prob)
    assert np.any(random_direction(prob, ignore=None))


# ---------------------------------------------------------------- reproducibility
def test_a_seed_makes_random_slices_reproducible():
    rng = np.random.default_rng(5)
    W = rng.normal(size=(3, 2))
    X, y = rng.normal(size=(20, 3)), rng.normal(size=(20, 2))
    prob = Problem(lambda p, X: np.tanh(X @ p["W"]), lambda o, t: np.mean((o - t) ** 2),
                   (X, y), {"W": W})
    s1 = slice_2d(prob, resolution=4, seed=11)
    s2 = slice_2d(prob, resolution=4, seed=11)
    s3 = slice_2d(prob, resolution=4, seed=12)
    np.testing.assert_array_equal(s1.directions, s2.directions)
    np.testing.assert_array_equal(s1.losses, s2.losses)
    assert not np.allclose(s1.directions, s3.directions)
    # the centre of a symmetric grid is the loss at θ
    c = slice_1d(prob, resolution=5, seed=11)
    assert c.losses[2] == prob.loss()
    assert c.alphas[c.losses.argmin()] == c.argmin


def test_accuracy_is_recorded_along_the_slice():
    # a linear classifier that separates its data at θ, and fails when the weights flip
    X = np.array([[1.0, 0.0], [2.0, 1.0], [-1.0, 0.5], [-2.0, -1.0]])
    y = np.array([1, 1, 0, 0])
    W = np.array([[-1.0, 1.0], [0.0, 0.0]])

    def xent(logits, t):
        z = logits - np.max(logits, axis=1, keepdims=True)
        logp = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
        return -np.mean(np.take_along_axis(logp, t[:, None], axis=1))

    prob = Problem(lambda p, X: X @ p["W"], xent, (X, y), {"W": W})
    s = slice_1d(prob, direction=-W.ravel(), span=(0.0, 2.0), resolution=3, accuracy=True)
    # θ separates; at α = 1 the logits vanish and argmax picks class 0 (half right); −θ
    np.testing.assert_array_equal(s.accuracies, [1.0, 0.5, 0.0])


# ---------------------------------------------------------------- resumable scans
def test_killed_2d_scan_resumes_without_recomputing_and_matches(H, tmp_path):
    D = _orthonormal(2)
    kwargs = dict(directions=D, span=1.0, resolution=(6, 5))
    full_count: list = []
    full = slice_2d(quadratic(H, counter=full_count), **kwargs)
    assert len(full_count) == 30

    out = tmp_path / "scan.npz"
    first: list = []
    with pytest.raises(KeyboardInterrupt):
        slice_2d(quadratic(H, counter=first, fail_after=13), out=out, save_every=4, **kwargs)
    assert len(first) == 13
    with np.load(out) as z:  # nothing finished was lost, though 13 is not a multiple of 4
        assert z["done"].sum() == 13

    second: list = []
    resumed = slice_2d(quadratic(H, counter=second), out=out, save_every=4, **kwargs)
    assert len(second) == 30 - 13  # not a single finished point recomputed
    assert resumed.n_loaded == 13 and resumed.n_evaluated == 17
    np.testing.assert_array_equal(resumed.losses, full.losses)

    third: list = []  # a finished file: nothing to do
    again = slice_2d(quadratic(H, counter=third), out=out, **kwargs)
    assert third == [] and again.n_evaluated == 0
    np.testing.assert_array_equal(again.losses, full.losses)


def test_resume_with_other_inputs_is_refused(H, tmp_path):
    out = tmp_path / "scan.npz"
    D = _orthonormal(2)
    slice_2d(quadratic(H), directions=D, resolution=3, out=out)
    with pytest.raises(ScanMismatchError, match="directions"):
        slice_2d(quadratic(H), directions=_orthonormal(2, seed=9), resolution=3, out=out)
    with pytest.raises(ScanMismatchError, match="axis 0"):
        slice_2d(quadratic(H), directions=D, resolution=3, span=2.0, out=out)
    with pytest.raises(ScanMismatchError, match="origin"):
        slice_2d(quadratic(H), params=np.ones(DIM), directions=D, resolution=3, out=out)
    with pytest.raises(ScanMismatchError, match="problem"):
        other_data = Problem(_identity, lambda o, y: 0.5 * o @ H @ o,
                             (np.ones((1, 1)), np.zeros(1)), {"w": np.zeros(DIM)})
        slice_2d(other_data, directions=D, resolution=3, out=out)


def test_scan_file_is_written_every_k_points(tmp_path):
    """A process killed outright loses at most the points since the last save."""
    out = tmp_path / "grid.npz"
    seen = []

    def evaluate(x, y):
        if out.exists():
            with np.load(out) as z:
                seen.append(int(z["done"].sum()))
        else:
            seen.append(0)
        return x + 10 * y

    scan = scan_grid(evaluate, [np.arange(3.0), np.arange(4.0)], out=out, save_every=5)
    # at the (k+1)-th evaluation the file holds the ⌊k/5⌋·5 points saved so far
    assert seen == [5 * (k // 5) for k in range(12)]
    np.testing.assert_array_equal(scan.field("loss"),
                                  np.arange(3.0)[:, None] + 10 * np.arange(4.0)[None])
    assert not list(tmp_path.glob("*.tmp"))  # no temporary file left behind


def test_scan_checks_its_inputs(tmp_path):
    with pytest.raises(ValueError, match="one per field"):
        scan_grid(lambda x: (x, x), [np.arange(2.0)])
    with pytest.raises(ValueError, match="axes"):
        scan_grid(lambda x: x, [[]])
    bad = tmp_path / "bad.npz"
    bad.write_text("not a scan")
    with pytest.raises(ValueError, match="not a readable"):
        scan_grid(lambda x: x, [np.arange(2.0)], out=bad)


def test_progress_bar_goes_to_stderr(H, capsys):
    slice_1d(quadratic(H), direction=_orthonormal(1)[0], resolution=3, progress=True)
    captured = capsys.readouterr()
    assert "slice_1d" in captured.err and captured.out == ""


def test_given_directions_in_every_layout(H, tmp_path):
    D = _orthonormal(2)
    M = D @ H @ D.T
    prob = quadratic(H)
    for given in (D, D.T, [{"w": D[0]}, {"w": D[1]}], (D[0], D[1])):
        s = slice_2d(prob, directions=given, resolution=3, span=1.0)
        np.testing.assert_allclose(s.losses[2, 0], 0.5 * np.array([1, -1]) @ M @ [1, -1],
                                   rtol=1e-12)
        np.testing.assert_array_equal(s.directions, D)
    # one direction shaped like a single matrix leaf
    W = np.arange(6.0).reshape(2, 3)
    mat = Problem(lambda p, X: p, lambda o, y: 0.5 * np.sum(o**2),
                  (np.zeros((1, 1)), np.zeros(1)), W)
    s = slice_1d(mat, direction=np.ones((2, 3)), span=1.0, resolution=3)
    np.testing.assert_allclose(s.losses, [0.5 * np.sum((W + a) ** 2) for a in (-1, 0, 1)])
    with pytest.raises(ValueError, match=r"shape \(6, m\)"):
        slice_2d(mat, directions=np.ones((3, 4)))
    with pytest.raises(FileNotFoundError, match="does not exist"):
        slice_1d(prob, direction=D[0], out=tmp_path / "missing" / "s.npz")
