"""make_problem and train: problems built from names agree with the engine's dense
derivatives; the default trains to the advertised accuracy."""

import numpy as np
import pytest

import mlcalc as mc
from mlcalc.models import (
    Activation,
    Conv2D,
    Dense,
    Flatten,
    Sequential,
    cross_entropy,
    logistic,
    make_problem,
    mse,
    train,
)

_IMAGES = np.random.default_rng(5).normal(size=(6, 1, 4, 4))
_CONV = Sequential([Conv2D(2, 3, stride=1, padding="same"), Activation("tanh"), Flatten(),
                    Dense(2)])


def _dense_hessian(problem):
    X, y = problem.X, problem.y

    def full(w):
        out = problem.loss_fn(problem.model(problem.unravel(w), X), y)
        return out if problem.regularizer is None else out + problem.regularizer(
            problem.unravel(w))

    return mc.hessian(full)(problem.flat_params)


@pytest.mark.parametrize("kwargs", [
    dict(data="spirals", hidden=4, n=30, batch_size=7),
    dict(data="moons", hidden=(3, 3), n=20, activation="gelu", loss="logistic"),
    dict(data="teacher", hidden=5, n=25, data_options={"d_in": 2}),
    dict(model="logistic", data="blobs", n=24, weight_decay=0.1),
    dict(model=_CONV, data=(_IMAGES, np.array([0, 1, 1, 0, 1, 0])), batch_size=4),
])
def test_problem_hvp_equals_dense_hessian(kwargs):
    p = make_problem(seed=1, **kwargs)
    H = _dense_hessian(p)
    np.testing.assert_allclose(H, H.T, atol=1e-10)
    rng = np.random.default_rng(0)
    for _ in range(2):
        v = rng.normal(size=p.dim)
        np.testing.assert_allclose(p.hvp(None, v), H @ v, rtol=1e-9, atol=1e-11)


def test_make_problem_choices():
    p = make_problem()
    assert p.dim == 722 and p.n_examples == 300 and p.loss_fn is cross_entropy
    assert p.model(p.params, p.X).shape == (300, 2)
    assert np.isclose(p.loss(), cross_entropy(p.model(p.params, p.X), p.y))
    assert make_problem(data="moons", loss="logistic").loss_fn is logistic
    t = make_problem(data="teacher", n=50)
    assert t.loss_fn is mse and t.accuracy() is None
    b = make_problem(model="logistic", data="blobs", data_options={"classes": 4, "dim": 3})
    assert b.dim == (3 + 1) * 4
    # convex: the Hessian of multinomial logistic regression is positive semidefinite
    assert np.linalg.eigvalsh(_dense_hessian(b)).min() > -1e-10
    # weight decay λ adds λ I to the Hessian
    p0, p1 = make_problem(n=40, hidden=3), make_problem(n=40, hidden=3, weight_decay=0.3)
    v = np.random.default_rng(0).normal(size=p0.dim)
    np.testing.assert_allclose(p1.hvp(None, v) - p0.hvp(None, v), 0.3 * v, atol=1e-12)
    kinds = {i.kind for i in make_problem(hidden=4, layer_norm=True).layout}
    assert kinds == {"weight", "bias", "norm"}
    with pytest.raises(ValueError, match="unknown data 'cifar'"):
        make_problem(data="cifar")
    with pytest.raises(ValueError, match="unknown model"):
        make_problem(model="transformer")


def test_make_problem_from_arrays_and_npz(tmp_path):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(20, 3)), rng.integers(0, 3, 20)
    np.savez(tmp_path / "mine.npz", X=X, y=y)
    p = make_problem(data=tmp_path / "mine.npz", hidden=4)
    assert p.name == "mlp-mine" and p.dim == (3 + 1) * 4 + (4 + 1) * 3
    q = make_problem(data=(X, y), hidden=4)
    assert np.isclose(p.loss(), q.loss())


def test_default_trains_to_high_accuracy():
    p = make_problem()
    r = train(p)
    assert r.accuracy >= 0.95
    assert r.losses.shape == (r.steps,) and r.losses[-1] < 0.2 * r.losses[0]
    assert r.trajectory.shape == (len(r.record_steps), p.dim)
    assert r.record_steps[0] == 0 and r.record_steps[-1] == r.steps
    np.testing.assert_array_equal(r.trajectory[0], p.flat_params)
    np.testing.assert_array_equal(r.trajectory[-1], r.flat_params)
    assert np.isclose(r.final_loss, r.problem.loss())
    assert np.isclose(r.accuracy, r.problem.accuracy())


def test_minibatch_training_and_callback():
    p = make_problem(data="moons", hidden=8, n=200)
    r = train(p, method="adam", steps=400, learning_rate=0.05, batch_size=25, record_every=50,
              seed=3)
    assert r.accuracy >= 0.95
    assert list(r.record_steps) == list(range(0, 401, 50))
    r2 = train(p, method="adam", steps=400, learning_rate=0.05, batch_size=25,
               record_every=50, seed=3)
    np.testing.assert_array_equal(r.flat_params, r2.flat_params)  # reproducible per seed
    seen = []

    def stop(step, w, loss):
        seen.append(step)
        if step == 5:
            raise StopIteration

    r3 = train(p, method="sgd", steps=100, callback=stop)
    assert seen == [1, 2, 3, 4, 5] and r3.steps == 5 and "callback" in r3.message
    assert r3.record_steps[-1] == 5


def test_full_batch_lbfgs_decreases_monotonically():
    p = make_problem(data="teacher", hidden=16, n=100)
    r = train(p, method="lbfgs", steps=150)
    assert np.all(np.diff(r.losses) <= 1e-12)  # a line search never goes up
    # the teacher's noise floor is noise² = 0.01; the student must get near it
    assert r.final_loss < 0.05
    with pytest.raises(ValueError, match="full-batch"):
        train(p, method="lbfgs", batch_size=10)
    with pytest.raises(ValueError, match="unknown method 'adamax'"):
        train(p, method="adamax")


def test_progress_bar_goes_to_stderr(capsys):
    p = make_problem(hidden=3, n=30)
    train(p, steps=20, progress=True)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "adam" in captured.err
