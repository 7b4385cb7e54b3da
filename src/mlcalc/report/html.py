"""A self-contained HTML report: one ``index.html`` with every figure inline as SVG,
``data.npz`` with the arrays behind them and ``summary.json`` with the results.

The page references nothing outside itself (no script, stylesheet, font or image is
fetched; raster parts of a figure are embedded as ``data:`` URIs), so it opens offline.
All text is escaped. The document is well-formed XML as well as HTML5 (polyglot
markup), so a strict XML parser can check it.
"""

from __future__ import annotations

import dataclasses
import datetime
import html
import io
import json
import re
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["Report", "figure_to_svg", "write_report"]

_CSS = """
body { font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; margin: 2rem auto;
       max-width: 1100px; padding: 0 1rem; color: #1d1d1f; background: #fff; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; }
h2 { font-size: 1.25rem; margin-top: 2rem; border-bottom: 1px solid #ddd; }
p.meta { color: #666; margin-top: 0; }
table { border-collapse: collapse; margin: 0.8rem 0; font-size: 0.92rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.6rem; text-align: right; }
th { background: #f3f3f3; }
td:first-child, th:first-child { text-align: left; }
code, pre { font-family: ui-monospace, 'SFMono-Regular', Menlo, monospace; font-size: 0.88rem; }
pre { background: #f6f6f6; padding: 0.6rem; overflow-x: auto; white-space: pre-wrap; }
figure { margin: 1rem 0; }
figure svg { max-width: 100%; height: auto; }
figcaption { color: #444; font-size: 0.9rem; }
"""


def figure_to_svg(fig) -> str:
    """A matplotlib Figure as an inline ``<svg>`` element: text kept as text
    (``svg.fonttype = none``), no XML declaration, DOCTYPE or metadata block, no date
    (reproducible output). Rasterized artists come as embedded ``data:`` PNGs."""
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "mlcalc"}):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    text = buf.getvalue()
    start = text.find("<svg")
    if start < 0:  # pragma: no cover - matplotlib always writes an svg element
        raise ValueError("matplotlib did not produce an <svg> element")
    text = text[start:]
    text = re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.S)
    return text.strip()


_REF = re.compile(r'(\bid="|href="#|url\(#)([^")]+)')


def _namespace_ids(svg: str, prefix: str) -> str:
    """Prefix every id of an SVG (and every reference to one), so that several
    figures in one page never share an id."""
    ids = set(re.findall(r'\bid="([^"]+)"', svg))

    def sub(m: re.Match) -> str:
        name = m.group(2)
        return m.group(1) + (f"{prefix}-{name}" if name in ids else name)

    return _REF.sub(sub, svg)


@dataclasses.dataclass
class _Block:
    kind: str
    payload: dict


class Report:
    """An HTML report assembled block by block, in order::

        rep = Report("Optimizers on Rosenbrock", subtitle="mlcalc optimize ...")
        rep.section("Results")
        rep.table(["method", "f"], [["lbfgs", "1e-20"]])
        rep.figure(fig, "Paths", caption="...")
        rep.write("out/")            # index.html, data.npz, summary.json

    Every text is escaped; figures are matplotlib Figures or ready SVG strings. A
    Figure is converted to SVG when the report is rendered (so nothing is drawn for a
    report that is never written); keep it unchanged until then.
    """

    def __init__(self, title: str, subtitle: str = "") -> None:
        self.title = title
        self.subtitle = subtitle
        self.blocks: list[_Block] = []
        self._figure_ids: set[str] = set()

    def section(self, heading: str) -> Report:
        self.blocks.append(_Block("section", {"heading": heading}))
        return self

    def text(self, paragraph: str) -> Report:
        self.blocks.append(_Block("text", {"text": paragraph}))
        return self

    def code(self, text: str) -> Report:
        self.blocks.append(_Block("code", {"text": text}))
        return self

    def table(self, columns: list[str], rows: list[list[Any]], caption: str = "") -> Report:
        rows = [[str(c) for c in row] for row in rows]
        for row in rows:
            if len(row) != len(columns):
                raise ValueError(
                    f"Report.table: a row has {len(row)} cells but there are {len(columns)} "
                    "columns"
                )
        self.blocks.append(_Block("table", {"columns": list(map(str, columns)), "rows": rows,
                                            "caption": caption}))
        return self

    def figure(self, fig, title: str, caption: str = "", id: str | None = None) -> Report:
        """Add a figure (a matplotlib Figure or an SVG string) with a title."""
        base = id or re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "figure"
        fid, k = base, 2
        while fid in self._figure_ids:
            fid, k = f"{base}-{k}", k + 1
        self._figure_ids.add(fid)
        self.blocks.append(_Block("figure", {"figure": fig, "title": title, "caption": caption,
                                             "id": fid}))
        return self

    @property
    def figure_ids(self) -> list[str]:
        return [b.payload["id"] for b in self.blocks if b.kind == "figure"]

    # ------------------------------------------------------------------ output
    def render(self, summary: dict | None = None) -> str:
        """The HTML document; ``summary`` (JSON-able) is shown at the end."""
        def esc(text: str) -> str:  # text content: & < > only (quotes are fine there)
            return html.escape(str(text), quote=False)

        now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        parts = [
            "<!DOCTYPE html>",
            '<html lang="en" xmlns="http://www.w3.org/1999/xhtml">',
            "<head>",
            '<meta charset="utf-8" />',
            '<meta name="viewport" content="width=device-width, initial-scale=1" />',
            f"<title>{esc(self.title)}</title>",
            f"<style>{_CSS}</style>",
            "</head>",
            "<body>",
            f"<h1>{esc(self.title)}</h1>",
            f'<p class="meta">{esc(self.subtitle)}{" — " if self.subtitle else ""}'
            f"written {esc(now)} by mlcalc</p>",
        ]
        for block in self.blocks:
            p = block.payload
            if block.kind == "section":
                parts.append(f"<h2>{esc(p['heading'])}</h2>")
            elif block.kind == "text":
                parts.append(f"<p>{esc(p['text'])}</p>")
            elif block.kind == "code":
                parts.append(f"<pre>{esc(p['text'])}</pre>")
            elif block.kind == "table":
                parts.append("<table>")
                if p["caption"]:
                    parts.append(f"<caption>{esc(p['caption'])}</caption>")
                parts.append(
                    "<thead><tr>" + "".join(f"<th>{esc(c)}</th>" for c in p["columns"])
                    + "</tr></thead>"
                )
                parts.append("<tbody>")
                for row in p["rows"]:
                    parts.append("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>")
                parts.append("</tbody></table>")
            elif block.kind == "figure":
                parts.append(f'<figure id="{html.escape(p["id"])}" class="plot">')
                parts.append(f"<h3>{esc(p['title'])}</h3>")
                fig = p["figure"]
                svg = fig if isinstance(fig, str) else figure_to_svg(fig)
                parts.append(_namespace_ids(svg, f"fig-{p['id']}"))
                if p["caption"]:
                    parts.append(f"<figcaption>{esc(p['caption'])}</figcaption>")
                parts.append("</figure>")
        if summary is not None:
            text = json.dumps(summary, indent=2, ensure_ascii=False, allow_nan=False)
            parts.append("<h2>Summary (summary.json)</h2>")
            parts.append(f'<pre id="summary">{esc(text)}</pre>')
        parts += ["</body>", "</html>", ""]
        return "\n".join(parts)

    def write(self, out_dir: str | Path, summary: dict | None = None,
              arrays: dict[str, np.ndarray] | None = None) -> Path:
        """Write ``index.html``, ``summary.json`` and ``data.npz`` into ``out_dir``
        (created if needed); returns the path of index.html."""
        return write_report(self, out_dir, summary, arrays)


def write_report(report: Report, out_dir: str | Path, summary: dict | None = None,
                 arrays: dict[str, np.ndarray] | None = None) -> Path:
    """See :meth:`Report.write`."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    summary = {} if summary is None else summary
    index = out / "index.html"
    index.write_text(report.render(summary), encoding="utf-8")
    (out / "summary.json").write_text(
        json.dumps(summary, indent=2, ensure_ascii=False, allow_nan=False) + "\n",
        encoding="utf-8",
    )
    clean = {}
    for k, v in (arrays or {}).items():
        a = np.asarray(v)
        if a.dtype == object:
            raise ValueError(f"write_report: array {k!r} has dtype object; give numeric arrays")
        clean[re.sub(r"[^A-Za-z0-9_]+", "_", str(k))] = a
    np.savez_compressed(out / "data.npz", **clean)
    return index
