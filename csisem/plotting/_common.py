"""Shared helpers: colours, text escaping and measuring, figure creation, saving.

Figures are built on :class:`matplotlib.figure.Figure` directly, never through pyplot, so no
global state is touched: plotting works headless and from several threads at once.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path as FilePath
from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.textpath import TextToPath

from ..errors import OptionError

__all__ = ["ACCENT", "FORMATS", "escape", "new_figure", "root_figure", "save", "stars",
           "text_size"]

ACCENT = "#1f5a96"          # the IPMA map's colour (csisem.indices.IPMAResult.plot)
NODE_FACE = "#dce8f5"
MUTED = "#8c8c8c"
WARN = "#e08a00"            # HTMT above the liberal threshold
ALERT = "#c0392b"           # HTMT above the conservative threshold
FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}


def escape(text: object) -> str:
    r"""``text`` as a string matplotlib shows literally: ``$`` would start mathtext, so it
    becomes ``\$`` (rendered as a plain dollar sign)."""
    return str(text).replace("$", r"\$")


@lru_cache(maxsize=4096)
def text_size(text: str, size: float, bold: bool = False) -> tuple[float, float]:
    """Width and height (inches) of one line of ``text`` at ``size`` points, without a
    renderer (from the font's glyph metrics)."""
    prop = FontProperties(size=size, weight="bold" if bold else "normal")
    width, _, _ = TextToPath().get_text_width_height_descent(text, prop, ismath=False)
    return width / 72.0, 1.25 * size / 72.0


def stars(p_value: float | None) -> str:
    """``***`` below .001, ``**`` below .01, ``*`` below .05, else ``""``."""
    if p_value is None or p_value != p_value:  # None or NaN
        return ""
    return "***" if p_value < 0.001 else "**" if p_value < 0.01 else "*" if p_value < 0.05 \
        else ""


def root_figure(ax: Axes) -> Figure:
    """The figure ``ax`` belongs to; for an axes in a SubFigure, the Figure that can be
    saved."""
    fig: Any = ax.figure
    while not isinstance(fig, Figure):
        fig = fig.figure
    return fig


def new_figure(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    """``ax`` and its figure, or a new constrained-layout figure with one axes."""
    if ax is not None:
        return root_figure(ax), ax
    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def save(fig: Figure, path: str | FilePath, *, dpi: float = 150, **kwargs: Any) -> FilePath:
    """Write ``fig`` to ``path``; the format comes from the extension (.png, .svg or .pdf).

    Returns the path written. ``kwargs`` go to :meth:`matplotlib.figure.Figure.savefig`.

    Raises
    ------
    OptionError
        If the extension is not one of .png, .svg, .pdf.
    """
    path = FilePath(path)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise OptionError(f"Cannot save a figure as {path.name!r}: the file name must end in "
                          f"{', '.join(FORMATS)} (the extension chooses the format).")
    kwargs.setdefault("bbox_inches", "tight")
    fig.savefig(path, format=fmt, dpi=dpi, **kwargs)
    return path
