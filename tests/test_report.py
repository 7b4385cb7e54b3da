"""mlcalc.report: self-contained HTML (well-formed, escaped, no external resource),
data.npz and summary.json, the JSON schema validator; a headless-browser screenshot
where Chromium is installed."""

import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from mlcalc import plot  # noqa: E402
from mlcalc.report import SCHEMAS, Report, figure_to_svg, schema_for, validate  # noqa: E402

SVG = "{http://www.w3.org/2000/svg}"
XHTML = "{http://www.w3.org/1999/xhtml}"
DRAWING = {"path", "use", "image", "polyline", "polygon", "line", "rect", "circle"}


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def check_report(out_dir, figure_ids=()) -> dict:
    """Check a report directory the way a browser and an auditor would, independently of
    mlcalc's writer: index.html is well-formed (strict XML parse), has a title and a UTF-8
    charset, loads nothing from outside (every src/href is a fragment or a data: URI, no
    script/link/iframe/object, no url() or @import to a network address), has unique
    ids, and every figure holds an <svg> with drawing elements and text. Returns
    {"summary": dict, "data": NpzFile, "figures": {id: svg element}}."""
    out = Path(out_dir)
    for name in ("index.html", "data.npz", "summary.json"):
        assert (out / name).is_file(), f"{name} missing from {out}"
    text = (out / "index.html").read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    root = ET.fromstring(text[len("<!DOCTYPE html>"):])  # raises on malformed markup
    assert _local(root.tag) == "html"
    head = root.find(f"{XHTML}head")
    assert head is not None and head.find(f"{XHTML}title").text
    assert any(m.get("charset", "").lower() == "utf-8" for m in head.iter(f"{XHTML}meta"))
    ids = []
    for el in root.iter():
        tag = _local(el.tag)
        assert tag not in ("script", "link", "iframe", "object", "embed", "base"), tag
        for key, value in el.attrib.items():
            k = _local(key)
            if k in ("src", "href"):
                assert value.startswith("#") or value.startswith("data:"), (tag, k, value[:60])
            if k == "id":
                ids.append(value)
            if k == "style":
                assert "url(" not in value or "url(#" in value, value
        if tag == "style":
            assert "@import" not in el.text and not re.search(r"url\((?!#)", el.text)
    assert len(ids) == len(set(ids)), "duplicate ids"
    figures = {}
    for fig in root.iter(f"{XHTML}figure"):
        svg = fig.find(f"{SVG}svg")
        assert svg is not None, f"figure {fig.get('id')} has no inline svg"
        drawn = [el for el in svg.iter() if _local(el.tag) in DRAWING]
        paths = [el for el in svg.iter(f"{SVG}path") if len(el.get("d", "")) > 20]
        texts = [el for el in svg.iter(f"{SVG}text") if "".join(el.itertext()).strip()]
        assert len(drawn) >= 10 and len(paths) >= 5, f"figure {fig.get('id')} looks empty"
        assert texts, f"figure {fig.get('id')} has no text (axis labels)"
        figures[fig.get("id")] = svg
    for fid in figure_ids:
        assert fid in figures, f"figure {fid!r} missing; have {sorted(figures)}"
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    return {"summary": summary, "data": np.load(out / "data.npz"), "figures": figures,
            "html": text}


def _figure():
    return plot.training_curve(np.exp(-np.linspace(0, 5, 50)))


def test_report_is_self_contained_escaped_and_well_formed(tmp_path):
    rep = Report("Title <script>alert(1)</script> & co", subtitle='a "quoted" subtitle')
    rep.section("Section <b>").text("x < y & y > z").code("if a < b: print('&')")
    rep.table(["name", "value <"], [["<img src=http://evil>", "1 & 2"]], caption="cap <i>")
    rep.figure(_figure(), "Loss <curve>", caption="the <caption>")
    rep.figure(_figure(), "Loss <curve>")  # same title: a distinct id
    index = rep.write(tmp_path, summary={"a": [1, 2]}, arrays={"loss": np.arange(3.0)})
    assert index == tmp_path / "index.html"
    r = check_report(tmp_path, ["loss-curve", "loss-curve-2"])
    html = r["html"]
    assert "<script>" not in html and "<img" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in html
    assert "x &lt; y &amp; y &gt; z" in html
    assert r["summary"] == {"a": [1, 2]}
    np.testing.assert_array_equal(r["data"]["loss"], [0.0, 1.0, 2.0])


def test_figure_ids_are_namespaced_per_figure():
    fig = plot.contour(lambda v: v[0] ** 2 + v[1] ** 2, [(-1, 1), (-1, 1)], resolution=20)
    svg = figure_to_svg(fig)
    assert svg.startswith("<svg") and "<?xml" not in svg and "DOCTYPE" not in svg
    assert "<metadata>" not in svg
    rep = Report("t")
    rep.figure(svg, "a").figure(svg, "b")
    html = rep.render()
    ids = re.findall(r'\bid="([^"]+)"', html)
    refs = set(re.findall(r'(?:href="#|url\(#)([^")]+)', html))
    assert len(ids) == len(set(ids))
    assert refs and refs <= set(ids)


def test_table_row_length_is_checked():
    with pytest.raises(ValueError, match="2 cells but there are 3 columns"):
        Report("t").table(["a", "b", "c"], [["1", "2"]])


def test_object_arrays_are_refused(tmp_path):
    with pytest.raises(ValueError, match="dtype object"):
        Report("t").write(tmp_path, arrays={"bad": np.array([{}, 1], dtype=object)})


def test_validator_accepts_and_rejects():
    schema = schema_for("integrate")
    good = {
        "schema_version": 1, "command": "integrate", "mlcalc_version": "0", "seed": 0,
        "elapsed_s": 0.1, "report": None, "warnings": [],
        "result": {"expression": "x", "sympy": "x", "variables": ["x"],
                   "region": {"kind": "box", "spec": "box:0,1"}, "value": 0.5, "error": None,
                   "method": "adaptive", "nfev": 15, "success": True, "message": "",
                   "rtol": 1e-8, "atol": 0.0},
    }
    assert validate(good, schema) == []
    bad = json.loads(json.dumps(good))
    bad["result"]["nfev"] = 1.5
    bad["result"]["method"] = "magic"
    del bad["result"]["value"]
    bad["seed"] = True  # a bool is not an integer
    errors = validate(bad, schema)
    assert any("$.result.nfev: expected integer" in e for e in errors)
    assert any("'magic' is not one of" in e for e in errors)
    assert any("missing required key 'value'" in e for e in errors)
    assert any("$.seed: expected integer" in e for e in errors)
    assert validate({"x": None}, {"anyOf": [{"type": "string"}, {"type": "array"}]}) == [
        "$: matches none of the allowed forms"
    ]


def test_every_command_has_a_schema_with_the_envelope():
    for command in ("inspect", "optimize", "landscape", "field", "integrate"):
        s = schema_for(command)
        assert s["properties"]["result"] == SCHEMAS[command]
        assert set(s["required"]) >= {"schema_version", "command", "result", "seed"}
    with pytest.raises(KeyError, match="no schema"):
        schema_for("nope")


def _browser():
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.mark.skipif(_browser() is None,
                    reason="no headless Chromium on PATH (chromium, chromium-browser, "
                    "google-chrome): the rendered report cannot be screenshot here")
def test_report_renders_to_a_non_blank_screenshot(tmp_path):
    rep = Report("Screenshot")
    rep.figure(plot.contour(lambda v: v[0] ** 2 - v[1] ** 2, [(-1, 1), (-1, 1)]), "Saddle")
    index = rep.write(tmp_path / "r")
    shot = tmp_path / "shot.png"
    subprocess.run([_browser(), "--headless", "--disable-gpu", "--no-sandbox",
                    f"--screenshot={shot}", "--window-size=1200,1600", index.resolve().as_uri()],
                   check=True, capture_output=True, timeout=120)
    mpl_image = pytest.importorskip("matplotlib.image")
    img = mpl_image.imread(shot)
    assert img.ndim == 3 and img.shape[0] > 100
    # not blank: many distinct colours, and some pixels far from the white background
    flat = img[..., :3].reshape(-1, 3)
    assert len(np.unique((flat * 255).astype(int), axis=0)) > 50
    assert np.mean(np.any(flat < 0.8, axis=1)) > 0.02
