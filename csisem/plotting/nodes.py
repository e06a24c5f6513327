"""What the path diagram draws and where: numbers, node shapes, indicator boxes, positions.

Everything is measured in inches (one data unit per inch when the diagram makes its own
figure), so text sizes, known in points from the font metrics, size the ellipses and boxes.
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass
from typing import Any

from ..errors import OptionError
from ..models.model import Mode, Model
from ._common import text_size
from .layout import Extent, Node, PlacedLayout, order_layers, place

__all__ = ["Box", "NodeShape", "Numbers", "Plan", "layout", "make_plan"]

NAME_PT, LABEL_PT, R2_PT, COEF_PT, IND_PT = 10.0, 8.0, 8.0, 8.5, 7.0
BOX_GAP = 0.04     # between two indicator boxes
LEFT_GAP = 0.32    # between an exogenous construct and its column of indicator boxes
MAX_ROW = 8        # indicator boxes per row above or below a construct
LABEL_WRAP = 14    # characters per line of a construct label
Box = tuple[float, float, float, float]  # x0, y0, x1, y1 (inches)


@dataclass(frozen=True)
class Numbers:
    """What a result contributes to the drawing (all empty for a bare model)."""

    coefficients: dict[tuple[str, str], float]
    p_values: dict[tuple[str, str], float]
    r_squared: dict[str, float]
    outer: dict[str, float]
    n_resamples: int | None

    @classmethod
    def of(cls, model: Model, result: Any) -> Numbers:
        """The numbers of ``result`` (a fit of ``model``), or none for ``result=None``.

        Raises
        ------
        OptionError
            If ``result`` is the fit of another model.
        """
        if result is None:
            return cls({}, {}, {}, {}, None)
        fitted = getattr(result, "model", model)
        if fitted != model:
            raise OptionError(f"result= is a fit of model {fitted.name!r}, which differs from "
                              f"the model drawn ({model.name!r}); pass the result's own "
                              "model (result.model).")
        paths = result.paths
        keys = list(zip(paths["source"], paths["target"], strict=True))
        coefficients = dict(zip(keys, paths["estimate"].astype(float), strict=True))
        p_values = (dict(zip(keys, paths["p_value"].astype(float), strict=True))
                    if "p_value" in paths else {})
        outer: dict[str, float] = {}
        for table, modes in ((result.loadings, (Mode.REFLECTIVE, Mode.COMPOSITE_A)),
                             (result.weights, (Mode.COMPOSITE_B,))):
            for row in table.itertuples(index=False):
                if model.construct(str(row.construct)).mode in modes:
                    outer[str(row.indicator)] = float(row.estimate)
        boot = getattr(result, "bootstrap", None)
        return cls(coefficients, p_values, {str(k): float(v) for k, v in
                                            result.r_squared.items()},
                   outer, None if boot is None else int(boot.n_valid))


@dataclass(frozen=True)
class NodeShape:
    """A construct's drawing relative to its centre: ellipse, text lines, indicator boxes."""

    a: float
    b: float
    lines: tuple[tuple[str, float, bool], ...]   # text, size (pt), bold
    boxes: tuple[tuple[str, str, Box], ...]      # indicator, value text, relative box
    side: str                                    # where the boxes are: left, above, below

    def absolute_boxes(self, centre: tuple[float, float]) -> list[Box]:
        """The indicator boxes in diagram coordinates."""
        x, y = centre
        return [(x + b[0], y + b[1], x + b[2], y + b[3]) for _, _, b in self.boxes]

    @property
    def extent(self) -> Extent:
        return Extent(((-self.a, -self.b, self.a, self.b), *(b for _, _, b in self.boxes)))


def _wrap(text: str, width: int) -> list[str]:
    return textwrap.wrap(text, width) or [text]


def _lines(model: Model, name: str, numbers: Numbers, labels: bool, decimals: int
           ) -> tuple[tuple[str, float, bool], ...]:
    lines = [(name, NAME_PT, True)]
    label = model.construct(name).label
    if labels and label:
        lines.extend((line, LABEL_PT, False) for line in _wrap(label, LABEL_WRAP))
    if name in numbers.r_squared:
        lines.append((f"R² = {numbers.r_squared[name]:.{decimals}f}", R2_PT, False))
    return tuple(lines)


def _ellipses(lines: dict[str, tuple[tuple[str, float, bool], ...]]
              ) -> dict[str, tuple[float, float]]:
    """Semi-axes: one height for all constructs, each wide enough to hold its text."""
    half = {n: (max(text_size(t, s, bold)[0] for t, s, bold in ls) / 2 + 0.08,
                sum(text_size(t, s, bold)[1] for t, s, bold in ls) / 2 + 0.02)
            for n, ls in lines.items()}
    b = max(0.26, max(q for _, q in half.values()) * math.sqrt(2))
    return {n: (max(p / math.sqrt(1 - (q / b) ** 2), 1.35 * b), b) for n, (p, q) in half.items()}


def _side(layer: tuple[Node, ...], name: str, exogenous: bool) -> str:
    """Where a construct's indicator boxes go: left of an exogenous construct; above the
    topmost construct of a layer and below the bottom one; otherwise on the side with fewer
    nodes of the layer (constructs and passing paths)."""
    if exogenous:
        return "left"
    real = [v for v in layer if isinstance(v, str)]
    if len(real) > 1 and name in (real[0], real[-1]):
        return "above" if name == real[0] else "below"
    k = layer.index(name)
    above, below = k, len(layer) - 1 - k
    return "above" if above < below or (above == below and 2 * k < len(layer)) else "below"


def _boxes(model: Model, name: str, a: float, b: float, side: str, numbers: Numbers,
           size: tuple[float, float], decimals: int) -> tuple[tuple[str, str, Box], ...]:
    construct = model.construct(name)
    bw, bh = size
    texts = [(i, f"{numbers.outer[i]:.{decimals}f}" if i in numbers.outer else "")
             for i in construct.indicator_names]
    out: list[tuple[str, str, Box]] = []
    if side == "left":
        n = len(texts)
        top = (n * bh + (n - 1) * BOX_GAP) / 2
        x1 = -a - LEFT_GAP
        for k, (ind, val) in enumerate(texts):
            y1 = top - k * (bh + BOX_GAP)
            out.append((ind, val, (x1 - bw, y1 - bh, x1, y1)))
        return tuple(out)
    rows = [texts[k:k + MAX_ROW] for k in range(0, len(texts), MAX_ROW)]
    widest = max(len(r) for r in rows) * (bw + BOX_GAP) - BOX_GAP
    # Lines to far boxes would be nearly flat with a fixed gap: widen it with the row.
    gap = max(0.3, 0.22 * widest / 2)
    sign = 1.0 if side == "above" else -1.0
    for r, row in enumerate(rows):
        width = len(row) * (bw + BOX_GAP) - BOX_GAP
        near = b + gap + r * (bh + BOX_GAP)
        for k, (ind, val) in enumerate(row):
            x0 = -width / 2 + k * (bw + BOX_GAP)
            y0, y1 = (near, near + bh) if sign > 0 else (-near - bh, -near)
            out.append((ind, val, (x0, y0, x0 + bw, y1)))
    return tuple(out)


@dataclass(frozen=True)
class Plan:
    """Every construct's shape and the layout that places them."""

    nodes: dict[str, NodeShape]
    placed: PlacedLayout


def make_plan(model: Model, numbers: Numbers, *, indicators: bool, labels: bool,
              decimals: int) -> Plan:
    """Shapes and positions of every construct."""
    lines = {n: _lines(model, n, numbers, labels, decimals) for n in model.construct_names}
    axes = _ellipses(lines)
    layers = order_layers(model)
    layer_of = {v: layer for layer in layers for v in layer if isinstance(v, str)}
    size = (0.0, 0.0)
    if indicators:
        has_values = bool(numbers.outer)
        widths = [text_size(i, IND_PT)[0] for i in model.indicator_names]
        widths += [text_size(f"{v:.{decimals}f}", IND_PT)[0] for v in numbers.outer.values()]
        size = (max(widths) + 0.1, text_size("X", IND_PT)[1] * (2 if has_values else 1) + 0.06)
    nodes: dict[str, NodeShape] = {}
    for n in model.construct_names:
        a, b = axes[n]
        side = _side(layer_of[n], n, n in model.exogenous)
        boxes = _boxes(model, n, a, b, side, numbers, size, decimals) if indicators else ()
        nodes[n] = NodeShape(a=a, b=b, lines=lines[n], boxes=boxes, side=side)
    placed = place(model, layers, {n: node.extent for n, node in nodes.items()})
    return Plan(nodes=nodes, placed=placed)


def layout(model: Model) -> dict[str, tuple[float, float]]:
    """Centre (x, y) of each construct, in inches (y upwards), for the diagram of a bare
    model.

    Constructs are in layers from left to right (a construct's layer is the longest path
    reaching it from an exogenous construct), ordered within layers to reduce crossings and
    spaced so that their ellipses never overlap. Deterministic.
    """
    plan = make_plan(model, Numbers.of(model, None), indicators=False, labels=False, decimals=3)
    return dict(plan.placed.positions)


