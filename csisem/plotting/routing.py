"""The paths of the diagram: curves between ellipse borders, detours around indicator boxes
and the places of the coefficient labels.

A path is a Catmull-Rom curve through the source's centre, the bend points the layout gave it
and the target's centre, cut where it leaves the source and reaches the target ellipse. When
that curve runs through an indicator box, the lines to the boxes, or another construct, it is
sent through a *port*: a point just outside the ellipse on its left (arrivals) or right
(departures), where it meets the border along the normal. Among the ports, the one with the
fewest collisions and no crowding of other paths' ends wins.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._common import text_size
from .nodes import COEF_PT, Box, NodeShape, Plan

__all__ = ["Key", "edge_lines", "place_labels"]

Key = tuple[str, str]
Ports = dict[tuple[str, str, str], tuple[np.ndarray, np.ndarray]]  # (s, t, end) -> (out, on)
PORT_OUT = 0.25          # how far outside the border a port lies (inches)
PORT_DEGREES = (0, 15, 30, 45, -15)
CLEARANCE = 0.03         # how close a path may pass an obstacle (inches)
CROWDED = 0.12           # two path ends closer than this on one border are crowded
FAN_END_HITS = 5         # collisions a path end among the lines to indicator boxes counts as
LABEL_FRACTIONS = (0.5, 0.45, 0.55, 0.4, 0.6, 0.35, 0.65, 0.3, 0.7, 0.25, 0.75)


def inside(p: np.ndarray, c: tuple[float, float], a: float, b: float) -> bool:
    """Whether point ``p`` lies inside the ellipse with centre ``c`` and semi-axes a, b."""
    return bool(((p[0] - c[0]) / a) ** 2 + ((p[1] - c[1]) / b) ** 2 < 1.0)


def cross(p: np.ndarray, q: np.ndarray, c: tuple[float, float], a: float, b: float
          ) -> np.ndarray:
    """Where the segment from ``p`` (inside the ellipse) to ``q`` (outside) leaves it."""
    lo, hi = 0.0, 1.0
    for _ in range(40):
        mid = (lo + hi) / 2
        if inside(p + mid * (q - p), c, a, b):
            lo = mid
        else:
            hi = mid
    return p + hi * (q - p)


def fan(node: NodeShape) -> list[tuple[np.ndarray, np.ndarray]]:
    """The lines between a construct and its indicator boxes as (on the ellipse, at the box),
    relative to the construct's centre."""
    out = []
    for _, _, (bx0, by0, bx1, by1) in node.boxes:
        if node.side == "left":
            end = np.array([bx1, (by0 + by1) / 2])
        else:
            end = np.array([(bx0 + bx1) / 2, by0 if node.side == "above" else by1])
        out.append((cross(np.zeros(2), end, (0.0, 0.0), node.a, node.b), end))
    return out


def _spline(points: list[np.ndarray], n: int = 24) -> np.ndarray:
    """A smooth curve through ``points``: a centripetal Catmull-Rom spline (no loops or cusps
    where points are unevenly spaced; Yuksel, Schaefer & Keyser 2011) drawn as Béziers."""
    p = np.asarray(points, dtype=float)
    if len(p) == 2:
        return p
    ext = np.vstack([2 * p[0] - p[1], p, 2 * p[-1] - p[-2]])  # mirrored end points
    knots = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(ext, axis=0).T) ** 0.5)])
    t = np.linspace(0.0, 1.0, n + 1)[1:, None]
    out = [p[:1]]
    for k in range(1, len(ext) - 2):
        p0, p1, p2, p3 = ext[k - 1:k + 3]
        t0, t1, t2, t3 = knots[k - 1:k + 3]
        m1 = (p1 - p0) / (t1 - t0) - (p2 - p0) / (t2 - t0) + (p2 - p1) / (t2 - t1)
        m2 = (p2 - p1) / (t2 - t1) - (p3 - p1) / (t3 - t1) + (p3 - p2) / (t3 - t2)
        c1, c2 = p1 + m1 * (t2 - t1) / 3, p2 - m2 * (t2 - t1) / 3
        out.append((1 - t) ** 3 * p1 + 3 * (1 - t) ** 2 * t * c1 + 3 * (1 - t) * t ** 2 * c2
                   + t ** 3 * p2)
    return np.vstack(out)


def resample(line: np.ndarray, n: int) -> np.ndarray:
    """``n`` points evenly spaced along the polyline ``line``."""
    seg = np.hypot(*np.diff(line, axis=0).T)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    at = np.linspace(0.0, cum[-1], n)
    return np.column_stack([np.interp(at, cum, line[:, 0]), np.interp(at, cum, line[:, 1])])


def _trace(plan: Plan, key: Key, ports: Ports) -> np.ndarray:
    """The polyline of a path from the source's border to the target's border."""
    source, target = key
    pos = plan.placed.positions
    s, t = plan.nodes[source], plan.nodes[target]
    points = [np.asarray(pos[source], float),
              *(np.asarray(b, float) for b in plan.placed.routes[key]),
              np.asarray(pos[target], float)]
    # A port replaces the centre by a point just inside the border, so that the curve meets
    # the border where the port says, along the normal.
    if (source, target, "source") in ports:
        out, on = ports[(source, target, "source")]
        points[0:1] = [points[0] + 0.9 * (on - points[0]), out]
    if (source, target, "target") in ports:
        out, on = ports[(source, target, "target")]
        points[-1:] = [out, points[-1] + 0.9 * (on - points[-1])]
    pts = _spline(points)
    k = next(i for i in range(len(pts)) if not inside(pts[i], pos[source], s.a, s.b))
    start = cross(pts[k - 1], pts[k], pos[source], s.a, s.b)
    pad = 0.03  # the arrow tip stops just short of the border
    j = next(i for i in range(len(pts) - 1, -1, -1)
             if not inside(pts[i], pos[target], t.a + pad, t.b + pad))
    end = cross(pts[j + 1], pts[j], pos[target], t.a + pad, t.b + pad)
    return np.vstack([start, pts[k:j + 1], end])


@dataclass(frozen=True)
class _Obstacles:
    """Everything a path must not run through."""

    boxes: np.ndarray      # (m, 4) indicator boxes, x0 y0 x1 y1
    segments: np.ndarray   # (f, 4) lines to the indicator boxes
    plan: Plan

    @classmethod
    def of(cls, plan: Plan) -> _Obstacles:
        boxes: list[Box] = []
        segments: list[tuple[float, float, float, float]] = []
        for name, node in plan.nodes.items():
            c = np.asarray(plan.placed.positions[name], float)
            boxes.extend(node.absolute_boxes(plan.placed.positions[name]))
            segments.extend((*(c + p), *(c + q)) for p, q in fan(node))
        return cls(np.asarray(boxes, float).reshape(-1, 4),
                   np.asarray(segments, float).reshape(-1, 4), plan)

    def hits(self, line: np.ndarray, key: Key) -> int:
        """How many points (every ~0.03 inch) of ``line`` collide with something."""
        length = float(np.sum(np.hypot(*np.diff(line, axis=0).T)))
        pts = resample(line, max(2, int(length / 0.03)))
        x, y = pts[:, :1], pts[:, 1:]
        b, m = self.boxes, CLEARANCE
        hit = np.any((x > b[:, 0] - m) & (x < b[:, 2] + m) & (y > b[:, 1] - m)
                     & (y < b[:, 3] + m), axis=1) if len(b) else np.zeros(len(pts), bool)
        if len(self.segments):
            p0, p1 = self.segments[:, :2], self.segments[:, 2:]
            d = p1 - p0
            t = np.clip(((pts[:, None, :] - p0) * d).sum(-1) / (d * d).sum(-1), 0.0, 1.0)
            dist = np.hypot(*(pts[:, None, :] - (p0 + t[..., None] * d)).transpose(2, 0, 1))
            hit |= np.any(dist < m, axis=1)
        for name, node in self.plan.nodes.items():
            if name in key:
                continue
            cx, cy = self.plan.placed.positions[name]
            hit |= ((pts[:, 0] - cx) / (node.a + m)) ** 2 + (
                (pts[:, 1] - cy) / (node.b + m)) ** 2 < 1.0
        ends = sum(FAN_END_HITS for end, name in ((line[0], key[0]), (line[-1], key[1]))
                   if self._among_fan(name, end))
        return int(hit.sum()) + ends

    def _among_fan(self, name: str, point: np.ndarray) -> bool:
        """Whether a path end at ``point`` (on ``name``'s border) sits among the starts of
        the lines to its indicator boxes, where the lines would bundle with the path."""
        node = self.plan.nodes[name]
        if node.side not in ("above", "below") or not node.boxes:
            return False
        rel = point - np.asarray(self.plan.placed.positions[name], float)
        sign = 1.0 if node.side == "above" else -1.0
        xs = [start[0] for start, _ in fan(node)]
        return bool(sign * rel[1] > 0.25 * node.b and min(xs) - 0.1 < rel[0] < max(xs) + 0.1)


def _turning(line: np.ndarray) -> float:
    """Total turning of a polyline (radians): a detour with a hook costs more."""
    d = np.diff(line, axis=0)
    d = d[np.hypot(*d.T) > 1e-9]
    heading = np.unwrap(np.arctan2(d[:, 1], d[:, 0]))
    return float(np.abs(np.diff(heading)).sum())


def _port(node: NodeShape, centre: np.ndarray, degrees: float, right: bool, sign: float
          ) -> tuple[np.ndarray, np.ndarray]:
    """(outside, on the border) at ``degrees`` from the horizontal, towards ``sign``."""
    theta = math.radians(sign * degrees if right else 180.0 - sign * degrees)
    on = np.array([node.a * math.cos(theta), node.b * math.sin(theta)])
    normal = np.array([on[0] / node.a ** 2, on[1] / node.b ** 2])
    return centre + on + PORT_OUT * normal / np.hypot(*normal), centre + on


def edge_lines(plan: Plan, keys: list[Key]) -> dict[Key, np.ndarray]:
    """The polyline of every path (see the module docstring for the detours)."""
    lines = {k: _trace(plan, k, {}) for k in keys}
    obstacles = _Obstacles.of(plan)
    pos = {n: np.asarray(p, float) for n, p in plan.placed.positions.items()}

    def crowding(line: np.ndarray, key: Key) -> int:
        """Other arrowheads on the same target closer than ``CROWDED`` to this one."""
        return sum(float(np.hypot(*(line[-1] - o[-1]))) < CROWDED
                   for other, o in lines.items() if other != key and other[1] == key[1])

    for key in keys:
        hits = obstacles.hits(lines[key], key)
        if hits == 0 and crowding(lines[key], key) == 0:
            continue
        source, target = key
        route = [pos[source], *(np.asarray(b, float) for b in plan.placed.routes[key]),
                 pos[target]]
        up_at_source = 1.0 if route[1][1] >= pos[source][1] else -1.0
        up_at_target = 1.0 if route[-2][1] >= pos[target][1] else -1.0
        at_target = [{(*key, "target"): _port(plan.nodes[target], pos[target], d, False,
                                              up_at_target)} for d in PORT_DEGREES]
        options: list[Ports] = [{}, *at_target]
        if hits:  # departures may move too, but only to get around something
            at_source = [{(*key, "source"): _port(plan.nodes[source], pos[source], d, True,
                                                  up_at_source)} for d in PORT_DEGREES]
            options += at_source + [a | b for a in at_source for b in at_target]
        best: tuple[float, np.ndarray] | None = None
        for option in options:
            line = _trace(plan, key, option) if option else lines[key]
            cost = (10.0 * obstacles.hits(line, key) + crowding(line, key)
                    + 0.5 * len(option) + 0.3 * _turning(line))
            if best is None or cost < best[0]:
                best = (cost, line)
        assert best is not None
        lines[key] = best[1]
    return lines


def _overlap(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _box_hits_ellipse(box: Box, c: tuple[float, float], a: float, b: float) -> bool:
    # Scaling x by 1/a and y by 1/b turns the ellipse into the unit circle and keeps the
    # box a box, so the test is the distance from the origin to the scaled box.
    x0, x1 = (box[0] - c[0]) / a, (box[2] - c[0]) / a
    y0, y1 = (box[1] - c[1]) / b, (box[3] - c[1]) / b
    dx = max(x0, 0.0, -x1)
    dy = max(y0, 0.0, -y1)
    return dx * dx + dy * dy < 1.0


def label_box(text: str, at: np.ndarray) -> Box:
    """The space a coefficient label centred at ``at`` takes, with its white background."""
    w, h = text_size(text, COEF_PT)
    w, h = w + 0.1, h + 0.04
    return (at[0] - w / 2, at[1] - h / 2, at[0] + w / 2, at[1] + h / 2)


def place_labels(plan: Plan, lines: dict[Key, np.ndarray], texts: dict[Key, str]
                 ) -> dict[Key, np.ndarray]:
    """A point on each path for its label: near the middle (25-75% of the way), off the
    constructs, the indicator boxes and the labels placed before (shorter paths first, as
    they have fewer choices), and covering as little of the other paths as possible."""
    pos = plan.placed.positions
    boxes = [b for n, node in plan.nodes.items() for b in node.absolute_boxes(pos[n])]
    samples = {k: resample(v, 80) for k, v in lines.items()}
    placed: list[Box] = []
    chosen: dict[Key, np.ndarray] = {}
    order = sorted(texts, key=lambda k: (float(np.hypot(*np.ptp(lines[k], axis=0))), k))
    for key in order:
        pts = resample(lines[key], 201)
        best: tuple[float, np.ndarray] | None = None
        for f in LABEL_FRACTIONS:
            p = pts[round(f * 200)]
            box = label_box(texts[key], p)
            cost = 2.0 * abs(f - 0.5)
            cost += 1000.0 * any(_box_hits_ellipse(box, pos[n], nd.a, nd.b)
                                 for n, nd in plan.nodes.items())
            cost += 1000.0 * any(_overlap(box, o) for o in boxes)
            cost += 100.0 * sum(_overlap(box, o) for o in placed)
            cost += 0.5 * sum(int(np.sum((s[:, 0] > box[0]) & (s[:, 0] < box[2])
                                         & (s[:, 1] > box[1]) & (s[:, 1] < box[3])))
                              for k, s in samples.items() if k != key)
            if best is None or cost < best[0] - 1e-9:
                best = (cost, p)
        assert best is not None
        chosen[key] = best[1]
        placed.append(label_box(texts[key], best[1]))
    return chosen
