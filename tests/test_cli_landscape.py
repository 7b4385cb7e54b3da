"""``mlcalc landscape`` end to end on tiny problems whose curvature is known: an
L2-regularised softmax regression is strictly convex, its Hessian's smallest
eigenvalues equal the weight decay λ exactly (the softmax is invariant under adding the
same vector to every class's weights, a 3-dimensional null space of the data term), and
the loss along any segment has no barrier."""

import json

import numpy as np
import pytest

pytest.importorskip("sympy")
pytest.importorskip("matplotlib")
pytest.importorskip("rich")

from mlcalc.cli import build_parser, main  # noqa: E402
from mlcalc.report import schema_for, validate  # noqa: E402
from test_cli import mlcalc  # noqa: E402
from test_report import check_report  # noqa: E402

TINY = ["--top", "3", "--trace-samples", "30", "--density-runs", "2", "--density-steps", "9",
        "--resolution", "11", "--resolution-2d", "5", "--interp-points", "11"]
CONVEX = ["--model", "logistic", "--data", "blobs", "--n", "60", "--weight-decay", "0.01",
          "--method", "lbfgs", "--steps", "200"]


def test_landscape_of_a_convex_problem_end_to_end(tmp_path):
    code, out, err = mlcalc("landscape", *CONVEX, *TINY, "--out", str(tmp_path / "r"),
                            "--json")
    assert code == 0, err
    assert "training (lbfgs)" in err  # the progress bar is on stderr
    doc = json.loads(out)
    assert validate(doc, schema_for("landscape")) == []
    res = doc["result"]
    assert res["missing"] == []
    assert res["problem"]["n_parameters"] == 9 and res["problem"]["n_examples"] == 60

    # the same problem, built independently, and its dense Hessian at the trained point
    # by central differences of the gradient (error O(h²))
    from mlcalc.models import make_problem

    r = check_report(tmp_path / "r", ["training", "decision-regions", "spectrum", "density",
                                      "slice-1d", "slice-2d", "interpolation"])
    data = r["data"]
    problem = make_problem(model="logistic", data="blobs", n=60, seed=0, weight_decay=0.01)
    np.testing.assert_allclose(data["w_init"], problem.flat_params)
    w = data["w_final"]
    h, eye = 1e-5, np.eye(w.size)
    H = np.stack([(problem.grad(w + h * e) - problem.grad(w - h * e)) / (2 * h) for e in eye])
    lam = np.linalg.eigvalsh(0.5 * (H + H.T))
    spec = res["spectrum"]
    np.testing.assert_allclose(spec["top"], lam[::-1][:3], rtol=1e-6)
    np.testing.assert_allclose(spec["bottom"], [0.01, 0.01], atol=1e-12)  # = λ exactly
    np.testing.assert_allclose(lam[:3], 0.01, atol=1e-7)
    # Hutch++ with 30 ≥ 3·9 products sketches the whole space: the exact trace
    assert spec["trace"]["estimate"] == pytest.approx(np.trace(H), rel=1e-6)
    assert res["critical_point"]["verdict"] == "minimum"
    assert res["critical_point"]["is_critical"] and res["critical_point"]["index"] == 0
    assert res["density"]["negative_mass"] == 0.0
    tr = res["training"]
    assert tr["initial_loss"] == pytest.approx(problem.loss(), rel=1e-12)
    assert tr["final_loss"] == pytest.approx(problem.loss(w), rel=1e-12)
    # the solution is the minimum along every line through it; no barrier on a segment
    assert res["slices"]["slice_1d"]["min"] == pytest.approx(tr["final_loss"], rel=1e-12)
    assert res["slices"]["slice_2d"]["shape"] == [5, 5]
    assert res["slices"]["slice_2d"]["min"] == pytest.approx(tr["final_loss"], rel=1e-12)
    it = res["interpolation"]
    assert it["barrier"] <= 1e-12
    assert it["loss_init"] == pytest.approx(tr["initial_loss"])
    losses = data["interp_losses"]
    ts = data["interp_ts"]
    chord = (1 - ts) * losses[0] + ts * losses[-1]
    assert np.all(losses <= chord + 1e-12)  # convexity along the segment


def test_default_configuration_is_the_documented_one():
    args = build_parser().parse_args(["landscape"])
    assert (args.model, args.data, args.hidden, args.steps, args.method) == (
        "mlp", "spirals", "24,24", 1500, "adam")
    assert args.out is None and args.seed == 0  # run() writes to mlcalc-landscape/


def test_missing_instruments_are_skipped_and_reported(tmp_path, capsys, monkeypatch):
    from mlcalc.cli import landscape

    monkeypatch.setitem(landscape.NEEDED, "slice_2d", ("mlcalc.no_such_module",))
    monkeypatch.setitem(landscape.NEEDED, "spectral_density", ("mlcalc.landscape.trace",))
    code = main(["landscape", *CONVEX, *TINY, "--out", str(tmp_path / "m"), "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    doc = json.loads(out)
    assert validate(doc, schema_for("landscape")) == []
    res = doc["result"]
    assert sorted(res["missing"]) == ["slice_2d", "spectral_density"]
    assert res["slices"]["slice_2d"] is None and res["density"] is None
    assert "slice_2d is not available" in err
    assert any("slice_2d" in w for w in doc["warnings"])
    r = check_report(tmp_path / "m", ["spectrum", "slice-1d", "interpolation"])
    assert "slice-2d" not in r["figures"] and "density" not in r["figures"]
    # without the core pieces the command fails with a one-line reason
    monkeypatch.setitem(landscape.NEEDED, "HessianOperator", ("mlcalc.no_such_module",))
    code = main(["landscape", *CONVEX, *TINY, "--out", str(tmp_path / "n")])
    err = capsys.readouterr().err
    assert code == 1 and "needs HessianOperator" in err


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["--data", "no_such_file.npz"], "no such file 'no_such_file.npz'"),
        (["--torch", "model.py"], "expected FILE.py:FACTORY"),
        (["--hidden", "4,x"], "--hidden: expected widths"),
        (["--steps", "0"], "--steps must be at least 1"),
        (["--no-report"], "--no-report and --out exclude each other"),
    ],
)
def test_landscape_usage_errors(capsys, tmp_path, argv, fragment):
    code = main(["landscape", *argv, "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and fragment in err


def test_landscape_of_a_torch_model(tmp_path, capsys):
    torch = pytest.importorskip("torch")
    src = tmp_path / "net.py"
    src.write_text(
        "import torch\n"
        "def build():\n"
        "    g = torch.Generator().manual_seed(0)\n"
        "    X = torch.randn(40, 3, generator=g, dtype=torch.float64)\n"
        "    y = X @ torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)\n"
        "    net = torch.nn.Linear(3, 1).double()\n"
        "    loss = lambda out, t: torch.mean((out[:, 0] - t) ** 2)\n"
        "    return net, loss, (X, y)\n"
    )
    code = main(["landscape", "--torch", f"{src}:build", *TINY, "--steps", "50",
                 "--out", str(tmp_path / "t"), "--json", "-q"])
    out, err = capsys.readouterr()
    assert code == 0, err
    res = json.loads(out)["result"]
    assert res["problem"]["n_parameters"] == 4
    # least squares: the Hessian is the constant 2·[X 1]ᵀ[X 1]/n, whatever the weights
    g = torch.Generator().manual_seed(0)
    X = torch.randn(40, 3, generator=g, dtype=torch.float64).numpy()
    A = np.hstack([X, np.ones((40, 1))])
    lam = np.linalg.eigvalsh(2 * A.T @ A / 40)
    np.testing.assert_allclose(res["spectrum"]["top"], lam[::-1][:3], rtol=1e-8)
    assert res["spectrum"]["trace"]["estimate"] == pytest.approx(lam.sum(), rel=1e-8)


def test_data_file_and_seed_reproducibility(tmp_path, capsys):
    from mlcalc.models import blobs

    X, y = blobs(n=40, classes=2, dim=3, seed=5)
    np.savez(tmp_path / "d.npz", X=X, y=y)
    results = []
    for seed in ("3", "3", "4"):
        code = main(["landscape", "--data", str(tmp_path / "d.npz"), "--hidden", "4",
                     "--steps", "30", *TINY, "--seed", seed, "--no-report", "--json", "-q"])
        out, err = capsys.readouterr()
        assert code == 0, err
        results.append(json.loads(out)["result"])
    assert results[0]["problem"]["n_examples"] == 40
    assert results[0]["problem"]["n_parameters"] == 3 * 4 + 4 + 4 * 2 + 2
    assert results[0] == results[1]  # the same seed: the same numbers, bit for bit
    assert not any(tmp_path.glob("*/index.html"))  # --no-report wrote nothing
    assert results[0]["training"]["initial_loss"] != results[2]["training"]["initial_loss"]


def test_the_main_job_ends_at_a_minimum_of_the_regularised_loss(capsys):
    # the default run (what `make run` does), without the report: trust-region Newton-CG
    # after Adam reaches a point where the gradient vanishes, and the second-derivative
    # test finds the Hessian positive definite there (weight decay gives true minima)
    code = main(["landscape", "--no-report", "--json", "-q"])
    out, err = capsys.readouterr()
    assert code == 0, err
    document = json.loads(out)
    assert validate(document, schema_for("landscape")) == []
    result = document["result"]
    assert result["training"]["polish"]["method"] == "trust_ncg"
    assert result["critical_point"]["is_critical"]
    assert result["critical_point"]["grad_norm"] < 1e-6
    assert result["critical_point"]["verdict"] == "minimum"
    assert min(result["spectrum"]["bottom"]) > 0
    assert result["training"]["accuracy"] > 0.95
