"""The mlcalc command line, end to end: one subprocess per subcommand on real
computations (values against closed forms and published facts), the report it writes,
the --json schema; then usage errors, failures, help, version and colour in process."""

import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("sympy")
pytest.importorskip("matplotlib")
pytest.importorskip("rich")

from mlcalc.cli import main  # noqa: E402
from mlcalc.report import schema_for, validate  # noqa: E402
from test_report import check_report  # noqa: E402


def mlcalc(*args, env=None):
    """Run ``python -m mlcalc ARGS``; returns (exit status, stdout, stderr)."""
    e = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    e.pop("NO_COLOR", None)
    e.pop("FORCE_COLOR", None)
    e.update(env or {})
    p = subprocess.run([sys.executable, "-m", "mlcalc", *args], capture_output=True,
                       text=True, env=e, timeout=300)
    return p.returncode, p.stdout, p.stderr


def run_json(command, *args, out=None):
    """Subprocess with --json (and --out): the parsed document, validated against the
    documented schema, identical to summary.json."""
    extra = ["--out", str(out)] if out is not None else []
    code, stdout, stderr = mlcalc(command, *args, "--json", *extra)
    assert code == 0, stderr
    doc = json.loads(stdout)  # stdout holds the JSON document only
    assert validate(doc, schema_for(command)) == []
    assert doc["command"] == command and doc["schema_version"] == 1
    if out is not None:
        assert doc["report"] == os.path.join(str(out), "index.html")
        with open(os.path.join(out, "summary.json"), encoding="utf-8") as fh:
            assert json.load(fh) == doc
    return doc, stderr


# --------------------------------------------------------------------------- e2e


def test_inspect_at_a_point_exact_and_ad_agree(tmp_path):
    # f = e^x sin y at 0: ∇f = (0, 1), ∇²f = [[0, 1], [1, 0]] (eigenvalues ±1), and the
    # Taylor remainder along u = (1, 1)/√2 is x²y/2 − y³/6 + O(h⁴) = h³/(6√2) + O(h⁴)
    doc, stderr = run_json("inspect", "exp(x)*sin(y)", "--at", "0,0", out=tmp_path / "r")
    assert "automatic differentiation" in stderr  # progress goes to stderr
    p = doc["result"]["point"]
    assert doc["result"]["critical_points"] is None
    assert p["gradient"]["symbolic"] == ["exp(x)*sin(y)", "exp(x)*cos(y)"]
    np.testing.assert_allclose(p["gradient"]["ad"], [0.0, 1.0], atol=1e-15)
    np.testing.assert_allclose(p["hessian"]["ad"], [[0, 1], [1, 0]], atol=1e-15)
    np.testing.assert_allclose(p["hessian"]["exact"], [[0, 1], [1, 0]], atol=0)
    assert p["gradient"]["max_abs_diff"] < 1e-15 and p["hessian"]["max_abs_diff"] < 1e-15
    np.testing.assert_allclose(p["eigenvalues"], [-1.0, 1.0], atol=1e-14)
    c = p["classification"]
    assert c["kind"] == "saddle" and c["index"] == 1 and not c["is_critical"]
    assert c["grad_norm"] == pytest.approx(1.0)
    assert p["taylor"]["polynomial"] == "x*y + y"
    for check in p["taylor"]["check"]:
        h = check["h"]
        assert check["error"] == pytest.approx(h**3 / (6 * math.sqrt(2)), rel=0.1)
    r = check_report(tmp_path / "r", ["contour", "taylor", "surface"])
    np.testing.assert_allclose(r["data"]["hessian_ad"], [[0, 1], [1, 0]], atol=1e-15)


def test_inspect_critical_points_of_himmelblau(tmp_path):
    # published: 4 minima with f = 0, 4 saddles, 1 maximum at (−0.270845, −0.923039)
    # with f = 181.617
    doc, _ = run_json("inspect", "(x^2 + y - 11)^2 + (x + y^2 - 7)^2", "--bounds=-5,5",
                      "--starts", "128", out=tmp_path / "h")
    cp = doc["result"]["critical_points"]
    assert cp["counts"] == {"minimum": 4, "maximum": 1, "saddle": 4, "degenerate": 0}
    minima = sorted(tuple(np.round(p["x"], 6)) for p in cp["points"]
                     if p["kind"] == "minimum")
    np.testing.assert_allclose(minima, sorted([(3.0, 2.0), (-2.805118, 3.131312),
                                               (-3.779310, -3.283186),
                                               (3.584428, -1.848127)]), atol=1e-6)
    (mx,) = [p for p in cp["points"] if p["kind"] == "maximum"]
    np.testing.assert_allclose(mx["x"], [-0.270845, -0.923039], atol=1e-6)
    assert mx["value"] == pytest.approx(181.617, abs=1e-3)
    assert all(p["index"] == 1 for p in cp["points"] if p["kind"] == "saddle")
    r = check_report(tmp_path / "h", ["critical-points", "surface"])
    assert r["data"]["critical_x"].shape == (9, 2)


def test_optimize_rosenbrock_table_paths_and_rates(tmp_path):
    doc, _ = run_json("optimize", "100*(y - x^2)^2 + (1 - x)^2", "--from=-1.2,1",
                      "--methods", "gd,momentum,newton,lbfgs", "--lr", "1e-3",
                      "--maxiter", "300", out=tmp_path / "o")
    res = doc["result"]
    np.testing.assert_allclose(res["minimum"]["x"], [1.0, 1.0], atol=1e-10)
    assert res["minimum"]["f"] < 1e-20 and res["minimum"]["kind"] == "minimum"
    rows = {m["method"]: m for m in res["methods"]}
    assert list(rows) == ["gd", "momentum", "newton", "lbfgs"]
    for m in ("newton", "lbfgs"):
        assert rows[m]["success"] and rows[m]["grad_norm"] <= 1e-6
        np.testing.assert_allclose(rows[m]["x"], [1, 1], atol=1e-5)
    assert rows["newton"]["rate"]["order"] == "quadratic"
    assert rows["newton"]["hessian_evaluations"] > 0
    assert rows["gd"]["iterations"] == 300 and not rows["gd"]["success"]
    assert rows["gd"]["f_gap"] == pytest.approx(rows["gd"]["final_f"] - res["minimum"]["f"])
    r = check_report(tmp_path / "o", ["paths", "convergence", "surface"])
    np.testing.assert_allclose(r["data"]["lbfgs_x"][0], [-1.2, 1.0])
    assert len(r["data"]["gd_f"]) == 301
    # the bounding box of the plot holds the start and the minimum
    b = np.array(res["bounds"])
    assert np.all(b[:, 0] < [-1.2, 1]) and np.all(b[:, 1] > [1, 1])


def test_field_conservative_with_potential(tmp_path):
    # F = ∇(x²y + y) = (2xy, x² + 1): div F = 2y, curl F = 0
    doc, _ = run_json("field", "2*x*y, x^2 + 1", "--at", "1,2", out=tmp_path / "f")
    res = doc["result"]
    assert res["divergence"] == "2*y" and res["curl"] == "0"
    assert res["conservative"] and res["symbolic_curl_zero"]
    assert res["potential"]["symbolic"] in ("y*(x**2 + 1)", "x**2*y + y")
    assert res["potential"]["max_abs_diff"] < 1e-10
    at = res["at"]
    np.testing.assert_allclose(at["F"], [4.0, 2.0])
    assert at["divergence"] == pytest.approx(4.0) and at["curl"] == pytest.approx(0.0)
    r = check_report(tmp_path / "f", ["field"])
    ex, num = r["data"]["potential_exact"], r["data"]["potential_numeric"]
    np.testing.assert_allclose(num, ex, atol=1e-10)


def test_integrate_regions_against_closed_forms(tmp_path):
    doc, _ = run_json("integrate", "x*y", "--over", "box:0,1,0,1", out=tmp_path / "i")
    res = doc["result"]
    assert res["value"] == pytest.approx(0.25, abs=1e-12)
    assert res["method"] == "adaptive" and res["success"] and res["nfev"] > 0
    assert 0 <= res["error"] < 1e-8
    check_report(tmp_path / "i", ["integrand"])


# --------------------------------------------------------------------------- in process


def run_main(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize(
    "over, vars_, exact",
    [
        ("box:-inf,inf,-inf,inf", None, math.pi),      # ∫ e^{−x²−y²} over ℝ²
        ("disk:0,0,2", None, 8 * math.pi),             # ∫ r² over the disk of radius 2
        ("annulus:0,0,1,2", None, 15 * math.pi / 2),   # ∫ r² = 2π (2⁴ − 1)/4
        ("triangle:0,0,1,0,0,1", None, 1 / 6),         # ∫ x² + y², each term 2!/4!
        ("ball", "x,y,z", 4 * math.pi / 5),            # ∫ r² over the unit ball
        ("simplex", "x,y,z", 1 / 20),                  # ∫ x² + y² + z², each term 2!/5!
    ],
)
def test_integrate_in_process(capsys, over, vars_, exact):
    e = "exp(-x^2 - y^2)" if over.startswith("box") else (
        "x^2 + y^2" if vars_ is None else "x^2 + y^2 + z^2")
    args = ["integrate", e, "--over", over, "--json"]
    if vars_:
        args += ["--vars", vars_]
    code, out, err = run_main(capsys, *args)
    assert code == 0, err
    doc = json.loads(out)
    assert validate(doc, schema_for("integrate")) == []
    assert doc["result"]["value"] == pytest.approx(exact, rel=1e-7)


def test_field_not_conservative_and_3d(capsys):
    code, out, _ = run_main(capsys, "field", "-y, x", "--json")
    res = json.loads(out)["result"]
    assert code == 0 and res["curl"] == "2" and res["divergence"] == "0"
    assert not res["conservative"] and res["potential"] is None
    assert res["test"]["max_asymmetry"] == pytest.approx(2.0)
    code, out, _ = run_main(capsys, "field", "y*z, x*z, x*y", "--at", "1,2,3", "--json")
    res = json.loads(out)["result"]
    assert res["dim"] == 3 and res["curl"] == ["0", "0", "0"]
    assert res["potential"]["symbolic"] == "x*y*z"
    np.testing.assert_allclose(res["at"]["F"], [6.0, 3.0, 2.0])


def test_inspect_degenerate_monkey_saddle_and_human_output(capsys):
    code, out, err = run_main(capsys, "inspect", "x^3 - 3*x*y^2", "--at", "0,0")
    assert code == 0
    assert "degenerate" in out and "Taylor model" in out and "∂²f/∂x∂y" in out
    assert out.strip() and "exact derivatives" in err


def test_seed_reproducibility(capsys):
    vals = []
    for seed in ("1", "1", "2"):
        code, out, _ = run_main(capsys, "integrate", "exp(x*y)", "--over", "box:0,1,0,1",
                                "--method", "mc", "--rtol", "1e-3", "--seed", seed, "--json")
        assert code == 0
        vals.append(json.loads(out)["result"]["value"])
    assert vals[0] == vals[1] != vals[2]
    assert vals[0] == pytest.approx(1.3179021514544, rel=1e-2)  # Σ 1/(k·k!)


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["inspect", "x + y", "--at", "1"], "--at: got 1 coordinate(s) [1.0] but the expression"
                                            " has 2 variable(s)"),
        (["inspect", "x + y", "--at", "1,a"], "'a' is not a number"),
        (["optimize", "x^2", "--from=1", "--methods", "gd,warp"], "unknown method(s) warp"),
        (["optimize", "x^2", "--from=1", "--methods", "ista"], "not usable without constraints"),
        (["integrate", "x", "--over", "cube:1"], "unknown region 'cube'"),
        (["integrate", "x", "--over", "disk"], "--over disk is 2-dimensional"),
        (["field", "x, y, z, w"], "2 or 3 components"),
        (["inspect", "x", "--bounds=1,0"], "lower bound must be below"),
    ],
)
def test_usage_errors_exit_2_with_one_line(capsys, argv, fragment):
    code, out, err = run_main(capsys, *argv)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"mlcalc {argv[0]}: error:")
    assert fragment in lines[0]


def test_rejected_expression_points_at_the_offending_part(capsys):
    code, _, err = run_main(capsys, "inspect", "x.__class__ + 1", "--at", "1")
    assert code == 2
    first, line, caret = err.rstrip("\n").splitlines()[-3:]
    assert "attribute access is not allowed (column 2)" in first
    assert line.strip() == "x.__class__ + 1"
    assert caret.index("^") == line.index(".")
    # in a field, the caret points into the whole text, not the component
    code, _, err = run_main(capsys, "field", "y, x, q.a")
    assert code == 2
    _, line, caret = err.rstrip("\n").splitlines()[-3:]
    assert "(column 8)" in err and caret.index("^") == line.index(".")


def test_failure_exits_1_with_one_line_reason(capsys):
    code, out, err = run_main(capsys, "optimize", "log(x)", "--from=-1", "--methods", "gd")
    assert code == 1 and out == ""
    lines = [ln for ln in err.strip().splitlines() if "error" in ln]
    assert len(lines) == 1 and "nan" in lines[0].lower()  # log(−1) at the start


def test_argparse_errors_help_and_version(capsys):
    code, _, err = run_main(capsys, "optimize", "x^2")  # --from is required
    assert code == 2 and "--from" in err
    code, _, err = run_main(capsys)
    assert code == 2 and "inspect" in err
    code, out, _ = run_main(capsys, "--help")
    assert code == 0 and out.startswith("examples:") and "mlcalc landscape" in out
    for cmd in ("inspect", "optimize", "landscape", "field", "integrate"):
        code, out, _ = run_main(capsys, cmd, "--help")
        assert code == 0 and out.startswith("examples:"), cmd
        assert f"mlcalc {cmd}" in out.splitlines()[1]


def test_version_and_colour(capsys, monkeypatch):
    from mlcalc import __version__

    code, out, _ = run_main(capsys, "--version")
    assert code == 0 and out.strip() == f"mlcalc {__version__}"
    # FORCE_COLOR makes rich colour a captured stream; NO_COLOR removes the colour again
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("FORCE_COLOR", "1")
    code, _, err = run_main(capsys, "inspect", "x +")
    assert code == 2 and "\x1b[" in err
    monkeypatch.setenv("NO_COLOR", "1")
    code, _, err = run_main(capsys, "inspect", "x +")
    assert code == 2 and "\x1b[" not in err and "error" in err
