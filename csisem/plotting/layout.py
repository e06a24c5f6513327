"""Left-to-right layered layout of the structural model (Sugiyama, Tagawa & Toda 1981).

1. **Layers.** A construct's layer is the length of the longest path reaching it from an
   exogenous construct, so every path points to the right.
2. **Dummy nodes.** A path spanning several layers gets one bend point ("dummy") in each layer
   it crosses; the dummy takes a slot in that layer, so the path is routed *around* the
   constructs in between instead of through them.
3. **Order within layers.** Barycentre sweeps (down and up) followed by adjacent
   transpositions, keeping the order with the fewest crossings.
4. **Coordinates.** Each node is pulled towards the weighted mean height of its neighbours
   (weights 1, 2, 8 for real-real, real-dummy and dummy-dummy edges, as in Gansner et al.
   1993, so long paths run straight), subject to minimum separations inside a layer; each
   step is a weighted isotonic regression, solved exactly by pool-adjacent-violators.
   Layers are then placed left to right, each as close to the previous ones as the boxes
   allow.

Every step is deterministic: ties are broken by position, never by hashing. Coordinates are
in inches, so that the diagram can be drawn at one data unit per inch and text sizes (in
points) are known in data units.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..models.model import Model

__all__ = ["Extent", "Node", "PlacedLayout", "layer_ranks", "order_layers", "place"]

Node = str | tuple[str, str, int]
"""A construct name, or ``(source, target, k)``: the k-th bend point of a long path."""

ROW_GAP = 0.42    # vertical space between two constructs of a layer
DUMMY_GAP = 0.30  # ... between a construct and a passing path, or two passing paths
COLUMN_GAP = 0.9  # horizontal space between layers (room for coefficient labels)
MAX_SWEEPS = 24
COORD_ROUNDS = 60


@dataclass(frozen=True)
class Extent:
    """How far a node's drawing reaches from its centre (inches): one rectangle or more, the
    first being the node's own shape (the rest are attachments such as indicator boxes)."""

    boxes: tuple[tuple[float, float, float, float], ...]  # (x0, y0, x1, y1) relative

    @classmethod
    def box(cls, half_width: float, half_height: float) -> Extent:
        return cls(((-half_width, -half_height, half_width, half_height),))

    @property
    def left(self) -> float:
        return -min(b[0] for b in self.boxes)

    @property
    def right(self) -> float:
        return max(b[2] for b in self.boxes)

    @property
    def down(self) -> float:
        return -min(b[1] for b in self.boxes)

    @property
    def up(self) -> float:
        return max(b[3] for b in self.boxes)


POINT = Extent.box(0.0, 0.0)


@dataclass(frozen=True)
class PlacedLayout:
    """Node centres (inches) and the bend points of each path."""

    positions: dict[str, tuple[float, float]]
    routes: dict[tuple[str, str], tuple[tuple[float, float], ...]]
    layers: tuple[tuple[Node, ...], ...]


def layer_ranks(model: Model) -> dict[str, int]:
    """Layer of each construct: the longest path from an exogenous construct to it."""
    rank: dict[str, int] = {}
    for name in model.topological_order:
        preds = model.predecessors(name)
        rank[name] = 1 + max(rank[p] for p in preds) if preds else 0
    return rank


def _chains(model: Model, rank: Mapping[str, int]) -> list[list[Node]]:
    """Each path as the node sequence source, dummies..., target."""
    chains: list[list[Node]] = []
    for p in model.paths:
        span = rank[p.target] - rank[p.source]
        chains.append([p.source, *((p.source, p.target, k) for k in range(1, span)), p.target])
    return chains


def _crossings(upper: Sequence[Node], lower: Sequence[Node],
               edges: Sequence[tuple[Node, Node]]) -> int:
    pos_u = {v: i for i, v in enumerate(upper)}
    pos_l = {v: i for i, v in enumerate(lower)}
    pairs = [(pos_u[a], pos_l[b]) for a, b in edges if a in pos_u and b in pos_l]
    return sum(1 for i, (a1, b1) in enumerate(pairs) for a2, b2 in pairs[i + 1:]
               if (a1 - a2) * (b1 - b2) < 0)


def order_layers(model: Model) -> tuple[tuple[Node, ...], ...]:
    """Nodes of each layer, top to bottom, ordered to reduce edge crossings."""
    rank = layer_ranks(model)
    n_layers = 1 + max(rank.values(), default=0)
    layers: list[list[Node]] = [[] for _ in range(n_layers)]
    for name in model.construct_names:
        layers[rank[name]].append(name)
    edges: list[tuple[Node, Node]] = []
    for chain in _chains(model, rank):
        for k, node in enumerate(chain[1:-1], start=1):
            layers[rank[chain[0]] + k].append(node)
        edges.extend(itertools.pairwise(chain))
    up = {v: [a for a, b in edges if b == v] for layer in layers for v in layer}
    down = {v: [b for a, b in edges if a == v] for layer in layers for v in layer}

    def total(ls: list[list[Node]]) -> int:
        return sum(_crossings(ls[i], ls[i + 1], edges) for i in range(len(ls) - 1))

    def sweep(ls: list[list[Node]], i: int, ref: list[Node], nbrs: dict[Node, list[Node]]
              ) -> None:
        pos = {v: k for k, v in enumerate(ref)}

        def key(item: tuple[int, Node]) -> tuple[float, int]:
            k, v = item
            ns = [pos[u] for u in nbrs[v]]
            return (sum(ns) / len(ns) if ns else float(k), k)

        ls[i] = [v for _, v in sorted(enumerate(ls[i]), key=key)]

    def transpose(ls: list[list[Node]]) -> None:
        improved = True
        while improved:
            improved = False
            for i, layer in enumerate(ls):
                for k in range(len(layer) - 1):
                    before = _local(ls, i, edges)
                    layer[k], layer[k + 1] = layer[k + 1], layer[k]
                    if _local(ls, i, edges) < before:
                        improved = True
                    else:
                        layer[k], layer[k + 1] = layer[k + 1], layer[k]

    for i in range(1, n_layers):  # initial order: one downward barycentre pass
        sweep(layers, i, layers[i - 1], up)
    best = [list(layer) for layer in layers]
    best_count = total(layers)
    stale = 0
    for _ in range(MAX_SWEEPS):
        if best_count == 0 or stale >= 4:
            break
        for i in range(1, n_layers):
            sweep(layers, i, layers[i - 1], up)
        for i in range(n_layers - 2, -1, -1):
            sweep(layers, i, layers[i + 1], down)
        transpose(layers)
        count = total(layers)
        if count < best_count:
            best, best_count, stale = [list(layer) for layer in layers], count, 0
        else:
            stale += 1
    return tuple(tuple(layer) for layer in best)


def _local(ls: list[list[Node]], i: int, edges: Sequence[tuple[Node, Node]]) -> int:
    c = 0
    if i > 0:
        c += _crossings(ls[i - 1], ls[i], edges)
    if i + 1 < len(ls):
        c += _crossings(ls[i], ls[i + 1], edges)
    return c


def _isotonic_decreasing(values: Sequence[float], weights: Sequence[float]) -> list[float]:
    """Weighted least-squares fit to ``values`` that is non-increasing (pool adjacent
    violators)."""
    blocks: list[list[float]] = []  # [mean, weight, count]
    for v, w in zip(values, weights, strict=True):
        blocks.append([v, w, 1])
        while len(blocks) > 1 and blocks[-2][0] < blocks[-1][0]:
            m2, w2, n2 = blocks.pop()
            m1, w1, n1 = blocks.pop()
            blocks.append([(m1 * w1 + m2 * w2) / (w1 + w2), w1 + w2, n1 + n2])
    out: list[float] = []
    for m, _, n in blocks:
        out.extend([m] * int(n))
    return out


def _separation(a: Node, b: Node, extents: Mapping[Node, Extent]) -> float:
    """Minimum centre distance between ``a`` (above) and ``b`` (below) in one layer."""
    gap = ROW_GAP if isinstance(a, str) and isinstance(b, str) else DUMMY_GAP
    return extents[a].down + gap + extents[b].up


def place(model: Model, layers: Sequence[Sequence[Node]],
          extents: Mapping[str, Extent]) -> PlacedLayout:
    """Coordinates (inches) for ordered ``layers`` and per-construct ``extents``."""
    ext: dict[Node, Extent] = {v: extents[v] if isinstance(v, str) else POINT
                               for layer in layers for v in layer}
    rank = {v: i for i, layer in enumerate(layers) for v in layer}
    weight_of = {(True, True): 1.0, (True, False): 2.0, (False, True): 2.0, (False, False): 8.0}
    nbrs: dict[Node, list[tuple[Node, float, int]]] = {v: [] for v in ext}  # (node, w, dir)
    for chain in _chains(model, {n: rank[n] for n in model.construct_names}):
        for a, b in itertools.pairwise(chain):
            w = weight_of[(isinstance(a, str), isinstance(b, str))]
            nbrs[a].append((b, w, +1))
            nbrs[b].append((a, w, -1))

    seps = [[_separation(layer[k], layer[k + 1], ext) for k in range(len(layer) - 1)]
            for layer in layers]
    y: dict[Node, float] = {}
    for layer, sep in zip(layers, seps, strict=True):
        offsets = [0.0]
        for s in sep:
            offsets.append(offsets[-1] - s)
        mid = (offsets[0] + offsets[-1]) / 2
        for v, off in zip(layer, offsets, strict=True):
            y[v] = off - mid

    def relax(i: int, direction: int) -> None:
        layer, sep = layers[i], seps[i]
        desired, weights = [], []
        for v in layer:
            ns = [(u, w) for u, w, d in nbrs[v] if direction == 0 or d == direction]
            if not ns:
                ns = [(u, w) for u, w, _ in nbrs[v]]
            total = sum(w for _, w in ns)
            desired.append(sum(y[u] * w for u, w in ns) / total if ns else y[v])
            weights.append(total if ns else 1e-3)
        cum = [0.0]
        for s in sep:
            cum.append(cum[-1] + s)
        # y_k - y_{k+1} >= sep_k  <=>  z_k = y_k + cum_k is non-increasing.
        z = _isotonic_decreasing([d + c for d, c in zip(desired, cum, strict=True)], weights)
        for v, zk, c in zip(layer, z, cum, strict=True):
            y[v] = zk - c

    n = len(layers)
    for r in range(COORD_ROUNDS):
        if r % 3 == 0:
            for i in range(1, n):
                relax(i, -1)
        elif r % 3 == 1:
            for i in range(n - 2, -1, -1):
                relax(i, +1)
        else:
            for i in range(n):
                relax(i, 0)

    x = _columns(layers, ext, y)
    positions = {v: (x[rank[v]], y[v]) for v in model.construct_names}
    routes: dict[tuple[str, str], tuple[tuple[float, float], ...]] = {}
    for chain in _chains(model, {n: rank[n] for n in model.construct_names}):
        src, tgt = chain[0], chain[-1]
        assert isinstance(src, str)
        assert isinstance(tgt, str)
        routes[(src, tgt)] = tuple((x[rank[v]], y[v]) for v in chain[1:-1])
    return PlacedLayout(positions=positions, routes=routes,
                        layers=tuple(tuple(layer) for layer in layers))


def _columns(layers: Sequence[Sequence[Node]], ext: Mapping[Node, Extent],
             y: Mapping[Node, float]) -> list[float]:
    """x of each layer: as far left as no box of it overlapping (in height) a box already
    placed allows, with at least ``COLUMN_GAP`` between the shapes of the constructs of this
    layer and the previous one (room for the coefficient labels)."""
    placed: list[tuple[float, float, float, float]] = []
    xs: list[float] = []
    for i, layer in enumerate(layers):
        if i == 0:
            x = 0.0
        else:
            prev = [v for v in layers[i - 1] if isinstance(v, str)]
            here = [v for v in layer if isinstance(v, str)]
            x = xs[-1] + max((ext[v].boxes[0][2] for v in prev), default=0.0) + COLUMN_GAP \
                - min((ext[v].boxes[0][0] for v in here), default=0.0)
            for v in layer:
                for bx0, by0, _, by1 in ext[v].boxes:
                    lo, hi = y[v] + by0 - DUMMY_GAP / 2, y[v] + by1 + DUMMY_GAP / 2
                    for _, py0, px1, py1 in placed:
                        if py0 < hi and lo < py1:
                            x = max(x, px1 + DUMMY_GAP - bx0)
        xs.append(x)
        for v in layer:
            for bx0, by0, bx1, by1 in ext[v].boxes:
                placed.append((x + bx0, y[v] + by0, x + bx1, y[v] + by1))
    return xs
