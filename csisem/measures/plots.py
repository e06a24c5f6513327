"""Figures of the classic measures: the SERVQUAL gap chart and the Kano better/worse diagram.

Built on :class:`matplotlib.figure.Figure` without pyplot, like :mod:`csisem.plotting`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..errors import OptionError
from ..plotting._common import ACCENT, ALERT, MUTED, escape, new_figure

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from .kano import KanoResult
    from .servqual import ServqualResult

__all__ = ["gap_chart", "kano_plot"]

KANO_COLOURS = {"M": ALERT, "O": ACCENT, "A": "#2e8b57", "I": MUTED, "R": "#7b3f99",
                "Q": "#000000", "": MUTED}


def gap_chart(result: ServqualResult, *, level: str = "items", ax: Axes | None = None
              ) -> Figure:
    """Horizontal bars of the mean gap per item (grouped by dimension) or per dimension.

    Negative gaps (perceptions below expectations) are red, the others blue; a vertical line
    marks zero.
    """
    if level not in ("items", "dimensions"):
        raise OptionError(f"level={level!r} is not supported; choose 'items' or 'dimensions'.")
    if level == "items":
        table = result.items
        labels = [f"{r.dimension} {r.perception}" for r in table.itertuples()]
    else:
        table = result.dimensions
        labels = [str(r.label) for r in table.itertuples()]
    gaps = table["gap"].to_numpy(dtype=float)
    fig, ax = new_figure(ax, (6.4, max(2.4, 0.28 * len(gaps) + 1.2)))
    y = np.arange(len(gaps))[::-1]
    colours = [ALERT if g < 0 else ACCENT for g in gaps]
    ax.barh(y, gaps, color=colours, height=0.7, zorder=3)
    ax.axvline(0.0, color="black", linewidth=0.8)
    ax.set_yticks(y, [escape(s) for s in labels], fontsize=8 if level == "items" else 10)
    ax.set_xlabel("Gap: perception - expectation")
    ax.set_title(f"SERVQUAL gaps ({result.model_name}, {level})")
    ax.grid(True, axis="x", alpha=0.3)
    return fig


def kano_plot(result: KanoResult, *, ax: Axes | None = None) -> Figure:
    """Better (y) against |worse| (x), one labelled point per attribute.

    Dashed lines at 0.5 split the usual quadrants: attractive (top left), one-dimensional
    (top right), must-be (bottom right), indifferent (bottom left). Points are coloured by
    the attribute's Kano category.
    """
    table = result.attributes
    fig, ax = new_figure(ax, (6.0, 5.4))
    x = -table["worse"].to_numpy(dtype=float)
    y = table["better"].to_numpy(dtype=float)
    colours = [KANO_COLOURS.get(str(c), MUTED) for c in table["category"]]
    ax.scatter(x, y, c=colours, zorder=3)
    for name, xi, yi in zip(table["attribute"], x, y, strict=True):
        if np.isfinite(xi) and np.isfinite(yi):
            ax.annotate(escape(name), (xi, yi), textcoords="offset points", xytext=(5, 4),
                        fontsize=9)
    ax.axvline(0.5, color="grey", linestyle="--", linewidth=0.8)
    ax.axhline(0.5, color="grey", linestyle="--", linewidth=0.8)
    for (qx, qy, text) in ((0.02, 0.98, "attractive"), (0.98, 0.98, "one-dimensional"),
                           (0.98, 0.02, "must-be"), (0.02, 0.02, "indifferent")):
        ax.text(qx, qy, text, transform=ax.transAxes, fontsize=8, color=MUTED,
                ha="left" if qx < 0.5 else "right", va="top" if qy > 0.5 else "bottom")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("Dissatisfaction if absent |worse|")
    ax.set_ylabel("Satisfaction if present (better)")
    ax.set_title("Kano better/worse diagram")
    ax.grid(True, alpha=0.3)
    return fig
