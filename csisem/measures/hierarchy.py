"""A hierarchical, expert-weighted satisfaction index: index <- constructs <- indicators (<-
questions), with weights from AHP, Delphi or given directly, on 0-100.

This is the multi-level CSI indicator system of the textbooks: the index is a weighted mean of
the constructs, each construct a weighted mean of its indicators, and (optionally) each
indicator a weighted mean of its questionnaire questions. Weights are normalised within each
parent, so a leaf's global weight is the product of the local weights on its path and the
global weights sum to one. A respondent's score of a node is the ACSI rescaling of the
weighted mean of its answers (:func:`csisem.indices.index_values`)::

    score = 100 (sum_j g_j x_j - lo) / (hi - lo)

with ``[lo, hi]`` the spec's item scale and ``g_j`` the leaves' weights relative to the node;
the overall index is the mean over respondents. A respondent with a missing answer under a
node has no score for it (and the nodes above); means are over the respondents with a score.

:meth:`WeightedIndex.compare_pls` sets the expert weights beside what a PLS fit of the same
model implies: at indicator level the ACSI index weights (unstandardised outer weights,
normalised within each construct; :func:`csisem.indices.normalised_weights`), at construct
level each construct's importance for the target construct (the IPMA importance, total effect
per index point; :func:`csisem.indices.ipma`), normalised over the target's drivers.
"""

from __future__ import annotations

import difflib
import json
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import DataError, OptionError, OutOfScaleWarning
from ..models.model import Model
from ..summary import Section, Summary, SummaryMixin
from ._common import as_frame, numeric_column, records, require_columns

if TYPE_CHECKING:
    from ..results import PLSResult

__all__ = ["Hierarchy", "WeightedIndex", "weighted_index"]

MODEL_LEVELS = ("index", "construct", "indicator", "question")


@dataclass(frozen=True)
class Hierarchy:
    """A tree of named nodes whose lowest level is data columns.

    ``nodes`` are ``(parent, node)`` pairs of inner nodes, parents first; ``columns`` are
    ``(parent, data column)`` pairs; ``levels`` names the depths (the root is depth 0). A
    node's children are all inner nodes or all data columns. A data column may share its
    name with an inner node (a one-indicator construct such as ECSI's CUSCO).
    """

    root: str
    nodes: tuple[tuple[str, str], ...]
    columns: tuple[tuple[str, str], ...]
    levels: tuple[str, ...]

    def __post_init__(self) -> None:
        seen = {self.root}
        for parent, child in self.nodes:
            if child in seen:
                raise OptionError(f"Hierarchy node {child!r} appears more than once; every "
                                  "node must have a single parent.")
            if parent not in seen:
                raise OptionError(f"Hierarchy node {child!r}: its parent {parent!r} is not in "
                                  "the hierarchy above it.")
            seen.add(child)
        columns: set[str] = set()
        for parent, column in self.columns:
            if column in columns:
                raise OptionError(f"Data column {column!r} appears more than once in the "
                                  "hierarchy; every column must have a single parent.")
            if parent not in seen:
                raise OptionError(f"Data column {column!r}: its parent {parent!r} is not in "
                                  "the hierarchy.")
            columns.add(column)
        node_parents = {p for p, _ in self.nodes}
        column_parents = {p for p, _ in self.columns}
        for node in self.inner:
            if node in node_parents and node in column_parents:
                raise OptionError(f"Hierarchy node {node!r} mixes data columns and sub-nodes "
                                  "among its children; give each level one kind.")
            if node not in node_parents and node not in column_parents:
                raise OptionError(f"Hierarchy node {node!r} has no children.")
        depth = self.depth
        deepest = max(depth[p] + 1 for p, _ in self.columns) if self.columns else 0
        if len(self.levels) <= deepest:
            raise OptionError(f"The hierarchy has {deepest + 1} levels but {len(self.levels)} "
                              "level names.")

    @property
    def children(self) -> dict[str, list[str]]:
        """Inner node -> its children (inner nodes or data columns), in order."""
        out: dict[str, list[str]] = {}
        for parent, child in self.nodes + self.columns:
            out.setdefault(parent, []).append(child)
        return out

    @property
    def depth(self) -> dict[str, int]:
        """Inner node -> depth (root 0)."""
        out = {self.root: 0}
        for parent, child in self.nodes:
            out[child] = out[parent] + 1
        return out

    @property
    def inner(self) -> list[str]:
        """Inner nodes, root first, in order."""
        return [self.root] + [c for _, c in self.nodes]

    @property
    def leaves(self) -> list[str]:
        """The data columns, in order."""
        return [c for _, c in self.columns]

    def edges(self) -> list[tuple[str, str, bool]]:
        """``(parent, child, child_is_column)`` depth first from the root."""
        column_parents = {p for p, _ in self.columns}
        children = self.children
        out: list[tuple[str, str, bool]] = []

        def walk(node: str) -> None:
            leaf = node in column_parents
            for child in children[node]:
                out.append((node, child, leaf))
                if not leaf:
                    walk(child)

        walk(self.root)
        return out

    @classmethod
    def from_model(cls, model: Model, *, root: str = "index",
                   questions: Mapping[str, Sequence[str]] | None = None) -> Hierarchy:
        """index <- constructs <- indicators of ``model`` (<- questions per indicator).

        ``questions`` maps an indicator to the data columns (questions) that measure it.
        Within a construct, give questions for every indicator or for none (then the
        indicators are the data columns).
        """
        nodes: list[tuple[str, str]] = []
        columns: list[tuple[str, str]] = []
        questions = dict(questions or {})
        known = set(model.indicator_names)
        unknown = [k for k in questions if k not in known]
        if unknown:
            close = difflib.get_close_matches(unknown[0], sorted(known), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise OptionError(f"questions=: {unknown[0]!r} is not an indicator of model "
                              f"{model.name!r}.{hint}")
        for c in model.constructs:
            nodes.append((root, c.name))
            given = [i for i in c.indicator_names if i in questions]
            if not given:
                columns += [(c.name, i) for i in c.indicator_names]
                continue
            if len(given) < len(c.indicator_names):
                missing = [i for i in c.indicator_names if i not in questions]
                raise OptionError(f"questions=: give the questions of every indicator of "
                                  f"construct {c.name!r} or of none (missing: "
                                  f"{', '.join(missing)}).")
            for name in c.indicator_names:
                cols = [str(q) for q in questions[name]]
                if not cols:
                    raise OptionError(f"questions=: indicator {name!r} has no questions.")
                nodes.append((c.name, name))
                columns += [(name, q) for q in cols]
        levels = MODEL_LEVELS if questions else MODEL_LEVELS[:3]
        return cls(root=root, nodes=tuple(nodes), columns=tuple(columns), levels=levels)

    @classmethod
    def from_dict(cls, tree: Mapping[str, Any], *, root: str = "index",
                  levels: Sequence[str] | None = None) -> Hierarchy:
        """From nested mappings: ``{"QUAL": ["q1", "q2"], "SAT": {"S1": ["s1", "s2"]}}``.

        A mapping value holds sub-nodes, a list holds data columns.
        """
        nodes: list[tuple[str, str]] = []
        columns: list[tuple[str, str]] = []

        def walk(parent: str, spec: Any) -> int:
            if isinstance(spec, Mapping):
                if not spec:
                    raise OptionError(f"Hierarchy node {parent!r} has no children.")
                depth = 0
                for name, sub in spec.items():
                    nodes.append((parent, str(name)))
                    depth = max(depth, walk(str(name), sub))
                return depth + 1
            if isinstance(spec, str) or not isinstance(spec, Sequence) or not spec:
                raise OptionError(f"Hierarchy node {parent!r}: give its sub-nodes as a mapping "
                                  "or its data columns as a non-empty list.")
            columns.extend((parent, str(col)) for col in spec)
            return 1

        depth = walk(root, tree)
        names = tuple(levels) if levels is not None else (
            ("index", *(f"level_{k}" for k in range(1, depth + 1))))
        return cls(root=root, nodes=tuple(nodes), columns=tuple(columns), levels=names)


def _weights_of(source: Any) -> tuple[dict[str, float] | list[float], str]:
    """(weights, source kind) from an AHP or Delphi result, a mapping, Series or list."""
    from .ahp import AHPResult
    from .delphi import DelphiResult

    if isinstance(source, AHPResult):
        return source.as_weights(), "ahp"
    if isinstance(source, DelphiResult):
        return source.as_weights(), "delphi"
    try:
        if isinstance(source, pd.Series | Mapping):
            return {str(k): float(v) for k, v in source.items()}, "given"
        if isinstance(source, Sequence) and not isinstance(source, str):
            return [float(v) for v in source], "given"
    except (TypeError, ValueError):
        raise OptionError(f"weights=: {source!r} holds a weight that is not a number.") \
            from None
    raise OptionError(f"weights=: {type(source).__name__} is not a weight source; give an AHP "
                      "or Delphi result, a mapping child -> weight, or a list of weights.")


def _local_weights(hierarchy: Hierarchy, weights: Mapping[str, Any] | None
                   ) -> tuple[dict[tuple[str, str], float], dict[tuple[str, str], str]]:
    """Normalised local weight and source kind of every ``(parent, child)`` edge."""
    children = hierarchy.children
    weights = dict(weights or {})
    unknown = [k for k in weights if k not in children]
    if unknown:
        close = difflib.get_close_matches(unknown[0], list(children), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise OptionError(f"weights=: {unknown[0]!r} is not an inner node of the hierarchy "
                          f"(inner nodes: {', '.join(children)}).{hint}")
    local: dict[tuple[str, str], float] = {}
    kinds: dict[tuple[str, str], str] = {}
    for node, kids in children.items():
        if node not in weights:
            values, kind = np.full(len(kids), 1.0 / len(kids)), "equal"
        else:
            given, kind = _weights_of(weights[node])
            if isinstance(given, list):
                if len(given) != len(kids):
                    raise OptionError(f"weights[{node!r}] has {len(given)} weights for "
                                      f"{len(kids)} children ({', '.join(kids)}).")
                values = np.array(given)
            else:
                if set(given) != set(kids):
                    missing = [k for k in kids if k not in given]
                    extra = [k for k in given if k not in kids]
                    raise OptionError(f"weights[{node!r}] must weigh exactly the children of "
                                      f"{node!r} (missing: {', '.join(missing) or '-'}; not "
                                      f"children: {', '.join(extra) or '-'}).")
                values = np.array([given[k] for k in kids])
            if not np.all(np.isfinite(values)) or np.any(values < 0) or values.sum() <= 0:
                raise OptionError(f"weights[{node!r}]: weights must be numbers of at least 0 "
                                  "with a positive sum.")
            values = values / values.sum()
        for kid, v in zip(kids, values, strict=True):
            local[node, kid] = float(v)
            kinds[node, kid] = kind
    return local, kinds


@dataclass(frozen=True, repr=False)
class WeightedIndex(SummaryMixin):
    """The expert-weighted index.

    - ``weights``: level, parent, node, local_weight, global_weight, source (ahp, delphi,
      given or equal)
    - ``scores``: each respondent's 0-100 score of every inner node (root first)
    - ``overall``: node, level, n, mean, sd (the overall index is the root's mean)
    """

    hierarchy: Hierarchy
    weights: pd.DataFrame
    scores: pd.DataFrame
    overall: pd.DataFrame
    scale: tuple[float, float]
    model: Model | None = None
    data: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def index(self) -> float:
        """The overall index: the mean of the respondents' root scores."""
        return float(self.overall["mean"].iloc[0])

    def compare_pls(self, fit: PLSResult | None = None, *, target: str | None = None
                    ) -> pd.DataFrame:
        """Expert weights beside the weights a PLS fit of the same model implies.

        Parameters
        ----------
        fit : a PLS fit of the model (default: ``csisem.fit(model, data)`` on the index's
            data).
        target : the construct whose drivers weigh the constructs (default: the model's
            satisfaction construct). Constructs that do not drive it get no PLS weight.

        Returns
        -------
        DataFrame with columns level, parent, node, weight, pls_weight, difference.

        Raises
        ------
        OptionError
            If the index was not built from a model, has a question level, or the target is
            unknown.
        """
        from ..indices import normalised_weights

        if self.model is None or self.hierarchy.levels[1:3] != ("construct", "indicator") or \
                len(self.hierarchy.levels) != 3:
            raise OptionError("compare_pls() needs an index built from a model's constructs and "
                              "indicators (no question level): weighted_index(data, model).")
        if fit is None:
            from ..api import fit as fit_model
            from ..results import PLSResult

            fitted = fit_model(self.model, self.data)
            if not isinstance(fitted, PLSResult):  # pragma: no cover - PLS is the default
                raise OptionError("compare_pls() needs a PLS fit.")
            fit = fitted
        design = fit.design
        w = fit.weights.set_index("indicator")["estimate"].reindex(design.indicators)
        sd = fit.indicator_std.reindex(design.indicators)
        w_tilde, _ = normalised_weights(design, w.to_numpy(), sd.to_numpy())
        pls = {("indicator", i): float(v)
               for i, v in zip(design.indicators, w_tilde, strict=True)}
        if target is None:
            from ..groups import satisfaction_construct

            target = satisfaction_construct(self.model)
            if target is None:
                raise OptionError(f"Model {self.model.name!r} has no single satisfaction "
                                  "construct; pass target= (the construct the index stands "
                                  "for).")
        importance = fit.ipma(target).constructs.set_index("construct")["importance"]
        pls.update((("construct", str(c)), float(v))
                   for c, v in (importance / importance.sum()).items())
        table = self.weights[["level", "parent", "node"]].assign(
            weight=self.weights["local_weight"].to_numpy(),
            pls_weight=[pls.get((lv, n), np.nan) for lv, n in
                        zip(self.weights["level"], self.weights["node"], strict=True)])
        table["difference"] = table["weight"] - table["pls_weight"]
        return table

    def summary(self) -> Summary:
        """The index, the sub-indices and the weights."""
        lo, hi = self.scale
        header = {"Index": f"{self.index:.1f} (0-100)",
                  "Respondents": str(int(self.overall["n"].iloc[0])),
                  "Levels": " <- ".join(self.hierarchy.levels),
                  "Item scale": f"{lo:g} to {hi:g}"}
        return Summary(title=f"Weighted index: {self.hierarchy.root}", header=header,
                       sections=(Section("Index and sub-indices (0-100)", self.overall),
                                 Section("Weights", self.weights)))

    def __repr__(self) -> str:
        return (f"<WeightedIndex {self.hierarchy.root}={self.index:.1f}: "
                f"{len(self.hierarchy.leaves)} columns, {len(self.scores)} respondents>")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-compatible dict (without respondent scores)."""
        return {"kind": "csisem.weighted_index", "root": self.hierarchy.root,
                "index": self.index, "scale": list(self.scale),
                "levels": list(self.hierarchy.levels), "overall": records(self.overall),
                "weights": records(self.weights)}

    def to_json(self, indent: int | None = 2) -> str:
        """:meth:`to_dict` as a JSON string."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)


def weighted_index(data: Any, hierarchy: Hierarchy | Model | str,
                   weights: Mapping[str, Any] | None = None, *,
                   scale: tuple[float, float] | None = None, root: str = "index",
                   questions: Mapping[str, Sequence[str]] | None = None) -> WeightedIndex:
    """Each respondent's 0-100 index from an expert-weighted hierarchy, and the overall index.

    Parameters
    ----------
    data : DataFrame, bundled data set name or data file with one column per leaf.
    hierarchy : a :class:`Hierarchy`, or a model (catalogue name, spec file or
        :class:`~csisem.models.Model`): index <- constructs <- indicators (<- ``questions``).
    weights : inner node -> weights of its children: an AHP result (:func:`csisem.ahp`), a
        Delphi result (:func:`csisem.delphi`), a mapping child -> weight or a list in the
        children's order. Nodes not given weigh their children equally. The root is
        ``root`` ("index").
    scale : ``(lowest, highest)`` answer; default the model's ``scale``.
    questions : with a model, indicator -> the data columns (questions) measuring it.

    Raises
    ------
    OptionError
        For weights that do not match the hierarchy, or no item scale.
    DataError
        For missing or non-numeric columns.
    """
    model: Model | None = None
    if not isinstance(hierarchy, Hierarchy):
        from ..models.catalogue import load_model

        model = load_model(hierarchy)
        hierarchy = Hierarchy.from_model(model, root=root, questions=questions)
    elif questions is not None:
        raise OptionError("questions= applies when the hierarchy is a model; add the "
                          "questions to the Hierarchy itself.")
    if scale is None:
        if model is None or model.scale is None:
            raise OptionError("The item scale is unknown: pass scale=(lowest, highest) or use "
                              "a model with 'scale:' in its spec.")
        scale = model.scale
    lo, hi = float(scale[0]), float(scale[1])
    if not hi > lo:
        raise OptionError(f"scale={tuple(scale)!r}: the highest answer must exceed the lowest.")
    frame = as_frame(data)
    leaves = hierarchy.leaves
    require_columns(frame, leaves, "Weighted index")
    if frame.shape[0] == 0:
        raise DataError("Weighted index: the data have no rows.")
    x = pd.DataFrame({c: numeric_column(frame, c) for c in leaves}, index=frame.index)
    _warn_out_of_scale(x, lo, hi)
    local, kinds = _local_weights(hierarchy, weights)
    scores = _node_scores(hierarchy, local, x, (lo, hi))
    depth, edges = hierarchy.depth, hierarchy.edges()
    glob: dict[str, float] = {hierarchy.root: 1.0}
    global_weight = []
    for parent, child, is_column in edges:
        g = glob[parent] * local[parent, child]
        global_weight.append(g)
        if not is_column:
            glob[child] = g
    table = pd.DataFrame({
        "level": [hierarchy.levels[depth[p] + 1] for p, _, _ in edges],
        "parent": [p for p, _, _ in edges],
        "node": [c for _, c, _ in edges],
        "local_weight": [local[p, c] for p, c, _ in edges],
        "global_weight": global_weight,
        "source": [kinds[p, c] for p, c, _ in edges]})
    overall = pd.DataFrame({
        "node": list(scores.columns),
        "level": [hierarchy.levels[depth[n]] for n in scores.columns],
        "n": scores.notna().sum().to_numpy(),
        "mean": scores.mean().to_numpy(),
        "sd": scores.std(ddof=1).to_numpy()})
    return WeightedIndex(hierarchy=hierarchy, weights=table, scores=scores, overall=overall,
                         scale=(lo, hi), model=model, data=x)


def _node_scores(hierarchy: Hierarchy, local: dict[tuple[str, str], float], x: pd.DataFrame,
                 scale: tuple[float, float]) -> pd.DataFrame:
    """(N, inner nodes) 0-100 scores: the lowest inner level through the ACSI rescaling of
    :func:`csisem.indices.index_values`, the levels above as weighted means of those."""
    from ..estimation.design import PLSDesign
    from ..indices import index_values

    children = hierarchy.children
    leaves = hierarchy.leaves
    bottom = list(dict.fromkeys(p for p, _ in hierarchy.columns))
    owner = np.array([bottom.index(p) for p, _ in hierarchy.columns])
    M = np.zeros((len(leaves), len(bottom)), dtype=bool)
    M[np.arange(len(leaves)), owner] = True
    none = np.zeros(len(bottom), dtype=bool)
    design = PLSDesign(names=tuple(bottom), indicators=tuple(leaves), M=M,
                       D=np.zeros((len(bottom), len(bottom)), dtype=bool), mode_b=none,
                       reflective=none, owner=owner)
    w_tilde = np.array([local[p, c] for p, c in hierarchy.columns])
    values = index_values(design, w_tilde[None, :], x[leaves].to_numpy(), scale)
    scores = dict(zip(bottom, values.T, strict=True))
    for node in reversed(hierarchy.inner):
        if node not in scores:
            scores[node] = sum(local[node, c] * scores[c] for c in children[node])
    return pd.DataFrame({n: scores[n] for n in hierarchy.inner}, index=x.index)


def _warn_out_of_scale(x: pd.DataFrame, lo: float, hi: float) -> None:
    outside = (x < lo) | (x > hi)
    if outside.to_numpy().any():
        counts = outside.sum()
        listing = ", ".join(f"{c} ({int(k)})" for c, k in counts[counts > 0].items())
        warnings.warn(f"Values outside the item scale {lo:g} to {hi:g} in: {listing}. Are "
                      "they missing-value codes? Their scores leave the 0-100 range.",
                      OutOfScaleWarning, stacklevel=3)
