"""Rendering results as text and HTML: one :class:`Summary`, two views.

Results build a :class:`Summary` (a header and titled tables); printing, ``str()`` and
Jupyter's ``_repr_html_`` are views of it, so text and HTML never disagree. No timestamps, so
text output is stable for golden tests.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import pandas as pd

__all__ = ["Section", "Summary", "SummaryMixin"]


@dataclass(frozen=True)
class Section:
    """A titled table, with an optional note printed under it."""

    title: str
    table: pd.DataFrame
    note: str | None = None
    show_index: bool = False


@dataclass(frozen=True)
class Summary:
    """A header (key -> value) and sections, renderable as text or HTML."""

    title: str
    header: dict[str, str]
    sections: tuple[Section, ...] = field(default_factory=tuple)
    footer: str | None = None
    digits: int = 3

    def _format(self, table: pd.DataFrame) -> pd.DataFrame:
        def cell(v: object) -> str:
            if isinstance(v, bool) or v is None:
                return "" if v is None else str(v)
            if isinstance(v, float):
                return "" if pd.isna(v) else f"{v:.{self.digits}f}"
            return str(v)

        return table.apply(lambda col: col.map(cell))

    def as_text(self) -> str:
        """Plain-text rendering, sections separated by rules."""
        width = 78
        lines = [self.title, "=" * width]
        keys = list(self.header)
        pad = max((len(k) for k in keys), default=0)
        lines += [f"{k:<{pad}}  {v}" for k, v in self.header.items()]
        for s in self.sections:
            lines += ["", s.title, "-" * width]
            if s.table.empty:
                lines.append("(none)")
            else:
                lines.append(self._format(s.table).to_string(index=s.show_index))
            if s.note:
                lines.append(s.note)
        if self.footer:
            lines += ["", self.footer]
        return "\n".join(lines)

    def as_html(self) -> str:
        """Self-contained HTML fragment (every string escaped)."""
        esc = html.escape
        parts = [f"<div class='csisem-summary'><h3>{esc(self.title)}</h3>",
                 "<table><tbody>"]
        parts += [f"<tr><th style='text-align:left'>{esc(k)}</th><td>{esc(v)}</td></tr>"
                  for k, v in self.header.items()]
        parts.append("</tbody></table>")
        for s in self.sections:
            parts.append(f"<h4>{esc(s.title)}</h4>")
            if s.table.empty:
                parts.append("<p>(none)</p>")
            else:
                parts.append(self._format(s.table).to_html(index=s.show_index, escape=True,
                                                           border=0))
            if s.note:
                parts.append(f"<p><em>{esc(s.note)}</em></p>")
        if self.footer:
            parts.append(f"<p>{esc(self.footer)}</p>")
        parts.append("</div>")
        return "\n".join(parts)

    def __str__(self) -> str:
        return self.as_text()

    def _repr_html_(self) -> str:
        return self.as_html()


class SummaryMixin:
    """``__str__`` and ``_repr_html_`` from one ``summary()``."""

    def summary(self) -> Summary:  # pragma: no cover - implemented by subclasses
        raise NotImplementedError

    def __str__(self) -> str:
        return self.summary().as_text()

    def _repr_html_(self) -> str:
        return self.summary().as_html()
