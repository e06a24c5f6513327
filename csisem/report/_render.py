"""HTML building blocks of the report: escaped tables, inline SVG figures, notes and the CSS.

Every string that can come from a user (model, construct and indicator names, labels,
wording, citations, titles, messages) passes through :func:`html.escape` here, so the
document-level code only assembles these pieces.
"""

from __future__ import annotations

import html
import io
import re
from collections.abc import Callable, Mapping
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

__all__ = ["CSS", "Flag", "collapsed", "figure_svg", "key_values", "note", "notice", "row",
           "table"]

esc = html.escape

#: ``flag(column, value) -> True`` marks a cell (e.g. a loading below 0.7) with a tint.
Flag = Callable[[str, Any], bool]

CSS = """
:root { --ink: #1d2733; --muted: #5f6b7a; --line: #d8dee6; --band: #f4f7fa;
        --accent: #1f5a96; --flag: #fde6c4; --alert-bg: #fff4e0; --alert: #b35c00; }
* { box-sizing: border-box; }
html { background: #eef1f5; }
body { margin: 0 auto; max-width: 1120px; padding: 28px 40px 48px; background: #ffffff;
       color: var(--ink); font: 14px/1.5 -apple-system, "Segoe UI", Roboto, "Helvetica Neue",
       Arial, "Noto Sans", "Liberation Sans", sans-serif; }
header { border-bottom: 3px solid var(--accent); padding-bottom: 12px; margin-bottom: 8px; }
h1 { font-size: 26px; margin: 0 0 4px; color: var(--accent); }
.subtitle { color: var(--muted); margin: 0; font-size: 15px; }
h2 { font-size: 20px; margin: 36px 0 10px; padding-top: 10px; border-top: 1px solid var(--line);
     color: var(--accent); }
h3 { font-size: 15px; margin: 22px 0 6px; }
p { margin: 6px 0; }
nav ol { columns: 2; margin: 8px 0 0; padding-left: 22px; }
nav a { color: var(--accent); text-decoration: none; }
nav a:hover { text-decoration: underline; }
table { border-collapse: collapse; margin: 6px 0 4px; font-size: 13px; }
th, td { padding: 3px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
thead th { background: var(--band); border-bottom: 2px solid #b9c3cf; text-align: left;
           font-weight: 600; white-space: nowrap; }
tbody tr:nth-child(even) { background: #fafbfc; }
tbody th { text-align: left; font-weight: 600; white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.text { max-width: 460px; }
td.flag { background: var(--flag); }
td.stars { color: var(--accent); font-weight: 600; padding-left: 2px; }
table.kv th { background: none; width: 190px; color: var(--muted); font-weight: 600;
              white-space: normal; }
table.kv td { max-width: 820px; }
.scroll { overflow-x: auto; }
.note { color: var(--muted); font-size: 12.5px; max-width: 900px; }
.notice { background: var(--alert-bg); border-left: 4px solid var(--alert); padding: 8px 12px;
          margin: 10px 0; max-width: 900px; }
.notice strong { color: var(--alert); }
.row { display: flex; flex-wrap: wrap; gap: 8px 40px; align-items: flex-start; }
.row > div { min-width: 0; }
.row .note { max-width: 440px; }
details { margin: 10px 0; }
summary { cursor: pointer; color: var(--accent); font-weight: 600; }
figure { margin: 12px 0 6px; }
figure svg { display: block; max-width: 100%; height: auto; }
figcaption { color: var(--muted); font-size: 12.5px; margin-top: 2px; }
footer { margin-top: 40px; padding-top: 10px; border-top: 1px solid var(--line);
         color: var(--muted); font-size: 12px; }
@media print { html { background: none; } body { max-width: none; padding: 0; }
               h2 { break-before: auto; } figure, table { break-inside: avoid; } }
"""


def _cell(value: Any, digits: int) -> tuple[str, bool]:
    """(text, is_number) for one table cell."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "", True
    if isinstance(value, bool | np.bool_):
        return ("yes" if value else "no"), False
    if isinstance(value, int | np.integer):
        return str(int(value)), True
    if isinstance(value, float | np.floating):
        return f"{float(value):.{digits}f}", True
    return str(value), False


def table(frame: pd.DataFrame, *, digits: int | Mapping[str, int] = 3, index: bool = False,
          flag: Flag | None = None, stars: str | None = None) -> str:
    """``frame`` as an HTML table; every header and cell escaped.

    Numbers are right-aligned with ``digits`` decimals (a mapping gives them per column;
    default 3); cells for which ``flag(column, value)`` is true are tinted. With ``stars``
    naming a p-value column, a column of significance stars follows it.
    (Built by hand rather than with ``DataFrame.to_html`` to align numbers per cell.)
    """
    if frame.empty:
        return "<p class='note'>(none)</p>"
    per_col = digits if isinstance(digits, Mapping) else {}
    default = 3 if isinstance(digits, Mapping) else digits
    columns = [str(c) for c in frame.columns]
    head = ["<th></th>"] if index else []
    for c in columns:
        head.append(f"<th>{esc(c)}</th>")
        if c == stars:
            head.append("<th></th>")
    rows = []
    for label, row in zip(frame.index, frame.itertuples(index=False), strict=True):
        cells = [f"<th>{esc(str(label))}</th>"] if index else []
        for c, value in zip(columns, row, strict=True):
            text, numeric = _cell(value, per_col.get(c, default))
            classes = ["num" if numeric else "text"]
            if flag is not None and text and flag(c, value):
                classes.append("flag")
            cells.append(f"<td class='{' '.join(classes)}'>{esc(text)}</td>")
            if c == stars:
                cells.append(f"<td class='stars'>{esc(_stars(value))}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return ("<div class='scroll'><table><thead><tr>" + "".join(head) + "</tr></thead><tbody>"
            + "".join(rows) + "</tbody></table></div>")


def _stars(p: Any) -> str:
    if p is None or not isinstance(p, float | np.floating) or np.isnan(p):
        return ""
    return "***" if p < 0.001 else "**" if p < 0.01 else "*" if p < 0.05 else ""


def key_values(pairs: Mapping[str, str]) -> str:
    """A two-column table of labels and values (both escaped)."""
    rows = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in pairs.items())
    return f"<table class='kv'><tbody>{rows}</tbody></table>"


def row(*parts: str) -> str:
    """Blocks side by side (wrapping onto new lines when the window is narrow)."""
    return "<div class='row'>" + "".join(f"<div>{p}</div>" for p in parts) + "</div>"


def collapsed(title: str, content: str) -> str:
    """``content`` folded under a clickable ``title`` (native HTML, no script)."""
    return f"<details><summary>{esc(title)}</summary>{content}</details>"


def note(text: str) -> str:
    """A small grey paragraph under a table or figure."""
    return f"<p class='note'>{esc(text)}</p>"


def notice(title: str, text: str) -> str:
    """A highlighted box, for what stops a section (refused indices, no convergence)."""
    return f"<div class='notice'><strong>{esc(title)}</strong> {esc(text)}</div>"


_SVG_START = re.compile(r"<svg\b")
_DROP = (re.compile(r"<metadata>.*?</metadata>\s*", re.S),
         re.compile(r"<!--.*?-->\s*", re.S),
         re.compile(r'\s+xmlns(:\w+)?="[^"]*"'))


def figure_svg(fig: Figure, key: str, caption: str | None = None) -> str:
    """``fig`` as an inline ``<svg>`` inside ``<figure>``.

    Text is drawn as glyph outlines (``svg.fonttype='path'``), so the figure looks the same
    without the fonts installed; matplotlib's XML writer escapes any text it keeps. The
    metadata block, the comments (copies of the text) and the namespace URLs are dropped: an
    HTML5 parser needs none of them, and the file then names no external resource. ``id``
    attributes and the references to them get the prefix ``key`` so that several figures can
    share one document; a fixed hash salt keeps the output identical from run to run.
    """
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "path", "svg.hashsalt": "csisem"}):
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    start = _SVG_START.search(text)
    svg = text[start.start():] if start else text
    for pattern in _DROP:
        svg = pattern.sub("", svg)
    svg = (svg.replace(' id="', f' id="{key}-').replace('href="#', f'href="#{key}-')
           .replace("url(#", f"url(#{key}-"))
    svg = svg.replace("<svg ", f"<svg role='img' aria-label='{esc(caption or key)}' ", 1)
    cap = f"<figcaption>{esc(caption)}</figcaption>" if caption else ""
    return f"<figure>{svg.strip()}{cap}</figure>"
