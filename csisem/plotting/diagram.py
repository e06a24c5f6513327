"""The path diagram: constructs as ellipses, paths as arrows labelled with coefficients.

:mod:`.nodes` decides what each construct looks like and :mod:`.layout` where it goes;
:mod:`.routing` draws the paths around everything and finds room for their labels. This
module only puts the pieces on a matplotlib axes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Ellipse, FancyArrowPatch, Rectangle
from matplotlib.path import Path as MplPath

from ..errors import OptionError
from ..models.model import Mode, Model
from ._common import ACCENT, MUTED, NODE_FACE, escape, root_figure, text_size
from ._common import stars as significance
from .nodes import COEF_PT, IND_PT, Box, NodeShape, Numbers, Plan, make_plan
from .routing import edge_lines, fan, label_box, place_labels

__all__ = ["path_diagram"]

MARGIN = 0.15


def path_diagram(model: Model, result: Any = None, *, indicators: bool = False,
                 labels: bool = False, stars: bool = True, decimals: int = 3,
                 title: str | None = None, ax: Axes | None = None) -> Figure:
    """The path diagram of ``model``, with the numbers of ``result`` when given.

    Parameters
    ----------
    model : Model
        The model to draw.
    result : PLSResult, optional
        A fit of ``model``: paths are labelled with their coefficients (and significance
        stars when bootstrapped), endogenous constructs show their R², indicator boxes their
        loadings (weights for ``composite_b`` constructs). Without it the bare structure is
        drawn.
    indicators : bool
        Draw a box per indicator: left of exogenous constructs, above or below the others.
    labels : bool
        Write each construct's label (e.g. "Customer satisfaction") under its name.
    stars : bool
        Append ``***`` (p < .001), ``**`` (p < .01) or ``*`` (p < .05) to bootstrapped
        coefficients; non-significant paths are drawn dashed and grey either way.
    decimals : int
        Decimals of coefficients, R² and loadings.
    title : str, optional
        A title above the diagram.
    ax : matplotlib Axes, optional
        Draw into this axes (its aspect is set to equal). By default a new figure is sized so
        that one data unit is one inch, which keeps the text clear of the shapes.

    Returns
    -------
    matplotlib.figure.Figure
        Patches carry ``gid`` values ``construct:<name>``, ``indicator:<name>`` and
        ``path:<source>-><target>``; coefficient texts ``label:<source>-><target>``.

    Raises
    ------
    OptionError
        If ``decimals`` is not between 0 and 6.
    """
    if isinstance(decimals, bool) or not isinstance(decimals, int) or not 0 <= decimals <= 6:
        raise OptionError(f"decimals={decimals!r} is not supported; use a whole number from 0 "
                          "to 6.")
    numbers = Numbers.of(model, result)
    plan = make_plan(model, numbers, indicators=indicators, labels=labels, decimals=decimals)
    pos = plan.placed.positions
    keys = [(p.source, p.target) for p in model.paths]
    lines = edge_lines(plan, keys)
    texts = {k: f"{numbers.coefficients[k]:.{decimals}f}"
                + (significance(numbers.p_values.get(k)) if stars else "")
             for k in keys if k in numbers.coefficients}
    spots = place_labels(plan, lines, texts)
    caption = _caption(numbers, stars)

    bounds = _bounds(plan, lines, spots, texts)
    x0, y0, x1, y1 = bounds[0] - MARGIN, bounds[1] - MARGIN, bounds[2] + MARGIN, \
        bounds[3] + MARGIN
    if caption:
        y0 -= 0.3
    if title:
        y1 += 0.4
    if ax is None:
        fig = Figure(figsize=(x1 - x0, y1 - y0))
        ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    else:
        fig = root_figure(ax)
    # Shapes are added with add_artist, not add_patch: the limits are set here once, and
    # updating them shape by shape would be the slowest step of the whole drawing.
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_axis_off()

    for k in keys:
        _draw_edge(ax, k, lines[k], numbers.p_values.get(k))
    for name, node in plan.nodes.items():
        _draw_node(ax, model, name, node, pos[name])
    for k, text in texts.items():
        dim = _is_weak(numbers.p_values.get(k))
        ax.text(*spots[k], escape(text), ha="center", va="center", fontsize=COEF_PT,
                color=MUTED if dim else "black", zorder=5, gid=f"label:{k[0]}->{k[1]}",
                bbox=dict(boxstyle="round,pad=0.12", facecolor="white", edgecolor="none",
                          alpha=0.92))
    if caption:
        ax.text(x0 + MARGIN, y0 + 0.12, caption, ha="left", va="bottom", fontsize=7.5,
                color="#444444")
    if title:
        ax.text((x0 + x1) / 2, y1 - 0.15, escape(title), ha="center", va="top", fontsize=12,
                fontweight="bold")
    return fig


def _is_weak(p: float | None) -> bool:
    return p is not None and p == p and p >= 0.05


def _caption(numbers: Numbers, with_stars: bool) -> str:
    if not numbers.p_values:
        return ""
    text = f"Bootstrap ({numbers.n_resamples} resamples): " if numbers.n_resamples else ""
    if with_stars:
        text += "*** p < .001, ** p < .01, * p < .05; "
    return text + "dashed grey: p ≥ .05."


def _bounds(plan: Plan, lines: dict[tuple[str, str], np.ndarray],
            spots: dict[tuple[str, str], np.ndarray], texts: dict[tuple[str, str], str]
            ) -> Box:
    pos = plan.placed.positions
    xs: list[float] = []
    ys: list[float] = []
    for n, node in plan.nodes.items():
        for b in node.extent.boxes:
            xs += [pos[n][0] + b[0], pos[n][0] + b[2]]
            ys += [pos[n][1] + b[1], pos[n][1] + b[3]]
    for line in lines.values():
        xs += list(line[:, 0])
        ys += list(line[:, 1])
    for k, p in spots.items():
        x0, y0, x1, y1 = label_box(texts[k], p)
        xs += [x0, x1]
        ys += [y0, y1]
    return min(xs), min(ys), max(xs), max(ys)


def _draw_edge(ax: Axes, key: tuple[str, str], line: np.ndarray, p: float | None) -> None:
    weak = _is_weak(p)
    arrow = FancyArrowPatch(path=MplPath(line), arrowstyle="-|>,head_length=0.6,head_width=0.3",
                            mutation_scale=12, linewidth=1.1, color=MUTED if weak else "#333333",
                            linestyle=(0, (4, 2)) if weak else "-", zorder=1,
                            gid=f"path:{key[0]}->{key[1]}")
    ax.add_artist(arrow)


def _draw_node(ax: Axes, model: Model, name: str, node: NodeShape, centre: tuple[float, float]
               ) -> None:
    cx, cy = centre
    ax.add_artist(Ellipse((cx, cy), 2 * node.a, 2 * node.b, facecolor=NODE_FACE,
                          edgecolor=ACCENT, linewidth=1.3, zorder=2, gid=f"construct:{name}"))
    heights = [text_size(t, s, bold)[1] for t, s, bold in node.lines]
    y = cy + sum(heights) / 2
    for (text, size, bold), h in zip(node.lines, heights, strict=True):
        ax.text(cx, y - h / 2, escape(text), ha="center", va="center", fontsize=size,
                fontweight="bold" if bold else "normal", zorder=3)
        y -= h
    inward = model.construct(name).mode is not Mode.REFLECTIVE
    for (ind, value, (bx0, by0, bx1, by1)), (start, end) in zip(node.boxes, fan(node),
                                                                   strict=True):
        ax.add_artist(Rectangle((cx + bx0, cy + by0), bx1 - bx0, by1 - by0,
                                facecolor="white", edgecolor="#555555", linewidth=0.8,
                                zorder=2, gid=f"indicator:{ind}"))
        mx = cx + (bx0 + bx1) / 2
        if value:
            ax.text(mx, cy + by0 + (by1 - by0) * 0.68, escape(ind), ha="center", va="center",
                    fontsize=IND_PT, zorder=3)
            ax.text(mx, cy + by0 + (by1 - by0) * 0.3, value, ha="center", va="center",
                    fontsize=IND_PT, color="#444444", zorder=3)
        else:
            ax.text(mx, cy + (by0 + by1) / 2, escape(ind), ha="center", va="center",
                    fontsize=IND_PT, zorder=3)
        tail, head = (end, start) if inward else (start, end)
        ax.add_artist(FancyArrowPatch(tuple(tail + centre), tuple(head + centre),
                                      arrowstyle="-|>,head_length=0.5,head_width=0.25",
                                      mutation_scale=8, linewidth=0.7, color="#555555",
                                      shrinkA=0, shrinkB=0, zorder=1))
