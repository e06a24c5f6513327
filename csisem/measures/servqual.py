"""SERVQUAL gap scores: perception minus expectation per item, dimension and overall.

Parasuraman, Zeithaml & Berry (1988) measure service quality on five dimensions (RATER:
reliability, assurance, tangibles, empathy, responsiveness) by 22 paired statements, each
asked twice: what customers expect of excellent firms (``Ek``) and what they perceive of
the rated firm (``Pk``). The item pairs and their dimensions come from a spec (the catalogue
template ``servqual``: ``Pk`` in constructs TAN, REL, RES, ASS, EMP, paired with ``Ek``).
Following Zeithaml, Parasuraman & Berry (1990, *Delivering Quality Service*, appendix)::

    gap_ik = P_ik - E_ik                              (respondent i, item k)
    gap_id = mean of gap_ik over the items of dimension d
    SQ_i   = mean of gap_id over the five dimensions  (unweighted)
    SQw_i  = sum_d w_id gap_id,  w_id = points_id / sum_d points_id   (importance-weighted)

and the reported scores are their means over respondents. Importance is either fixed
weights per dimension or, as in the 1991 questionnaire, columns where each respondent
allocates 100 points among the five dimensions. A negative gap means perceptions fall short
of expectations. A respondent's dimension gap averages the item gaps that are not missing.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import OptionError, OutOfScaleWarning
from ..models.model import Model
from ..summary import Section, Summary, SummaryMixin
from ._common import as_frame, numeric_column, plain, records, require_columns

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["ServqualResult", "paired_items", "servqual"]


def paired_items(model: Model, *, expectation_prefix: str = "E",
                 perception_prefix: str = "P") -> pd.DataFrame:
    """item, dimension, label, expectation, perception: the spec's E/P pairs.

    A perception indicator ``<perception_prefix>k`` is paired with the indicator
    ``<expectation_prefix>k`` of the same spec; its construct is the dimension.

    Raises
    ------
    OptionError
        If the spec has no such pairs.
    """
    names = set(model.indicator_names)
    rows = []
    for c in model.constructs:
        for item in c.indicator_names:
            if not item.startswith(perception_prefix):
                continue
            key = item[len(perception_prefix):]
            partner = expectation_prefix + key
            if key and partner in names:
                rows.append((key, c.name, c.label or c.name, partner, item))
    if not rows:
        raise OptionError(
            f"Model {model.name!r} has no paired expectation/perception items: a perception "
            f"indicator '{perception_prefix}k' needs an expectation indicator "
            f"'{expectation_prefix}k' in the same spec (see specs/servqual.yaml).")
    return pd.DataFrame(rows, columns=["item", "dimension", "label", "expectation",
                                       "perception"])


@dataclass(frozen=True, repr=False)
class ServqualResult(SummaryMixin):
    """SERVQUAL gaps (perception minus expectation).

    - ``items``: item, dimension, expectation, perception (column names), n,
      mean_expectation, mean_perception, gap, sd
    - ``dimensions``: dimension, label, n_items, mean_expectation, mean_perception, gap,
      sd, and with importance: importance (mean weight), weighted_gap
    - ``overall``: measure (unweighted, weighted), gap
    - ``respondents``: each respondent's gap per dimension, ``unweighted`` and ``weighted``
    """

    model_name: str
    items: pd.DataFrame
    dimensions: pd.DataFrame
    overall: pd.DataFrame
    respondents: pd.DataFrame
    scale: tuple[float, float] | None

    @property
    def gap(self) -> float:
        """The unweighted overall gap (mean of the dimension gaps)."""
        gaps = dict(zip(self.overall["measure"], self.overall["gap"], strict=True))
        return float(gaps["unweighted"])

    @property
    def weighted_gap(self) -> float | None:
        """The importance-weighted overall gap (None without importance weights)."""
        gaps = dict(zip(self.overall["measure"], self.overall["gap"], strict=True))
        return float(gaps["weighted"]) if "weighted" in gaps else None

    def summary(self) -> Summary:
        """Overall, dimension and item gaps."""
        header = {"Model": self.model_name,
                  "Respondents": str(len(self.respondents)),
                  "Overall gap": f"{self.gap:.3f} (mean of the dimension gaps)"}
        if self.weighted_gap is not None:
            header["Weighted gap"] = f"{self.weighted_gap:.3f} (importance-weighted)"
        return Summary(title="SERVQUAL gaps (perception - expectation)", header=header,
                       sections=(Section("Dimensions", self.dimensions),
                                 Section("Items", self.items)),
                       footer="A negative gap: perceptions fall short of expectations.")

    def __repr__(self) -> str:
        return (f"<ServqualResult {self.model_name}: gap={self.gap:.3f}, "
                f"{len(self.dimensions)} dimensions, {len(self.items)} items>")

    def plot(self, level: str = "items", ax: Axes | None = None) -> Figure:
        """Gap chart: one horizontal bar per item (or dimension), negative gaps in red."""
        from .plots import gap_chart

        return gap_chart(self, level=level, ax=ax)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-compatible dict (without respondent gaps)."""
        return {"kind": "csisem.servqual", "model": self.model_name,
                "n_respondents": len(self.respondents), "gap": self.gap,
                "weighted_gap": plain(self.weighted_gap),
                "dimensions": records(self.dimensions), "items": records(self.items)}

    def to_json(self, indent: int | None = 2) -> str:
        """:meth:`to_dict` as a JSON string."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)


def _importance(importance: Mapping[str, float | str], pairs: pd.DataFrame,
                frame: pd.DataFrame) -> pd.DataFrame:
    """(N, dimensions) weights summing to one per respondent."""
    dims = list(dict.fromkeys(pairs["dimension"]))
    labels = dict(zip(pairs["dimension"], pairs["label"], strict=False))
    lookup = {d.lower(): d for d in dims} | {str(labels[d]).lower(): d for d in dims}
    given: dict[str, float | str] = {}
    for key, value in importance.items():
        dim = lookup.get(str(key).lower())
        if dim is None:
            raise OptionError(f"importance=: {key!r} is not a dimension; dimensions: "
                              f"{', '.join(f'{d} ({labels[d]})' for d in dims)}.")
        given[dim] = value
    missing = [d for d in dims if d not in given]
    if missing:
        raise OptionError(f"importance= must weigh every dimension (missing: "
                          f"{', '.join(missing)}).")
    columns = [v for v in given.values() if isinstance(v, str)]
    require_columns(frame, columns, "SERVQUAL importance")
    points = pd.DataFrame(index=frame.index)
    for d in dims:
        v = given[d]
        points[d] = numeric_column(frame, v) if isinstance(v, str) else float(v)
    if (points < 0).to_numpy().any():
        raise OptionError("importance=: weights (points) must be at least 0.")
    total = points.sum(axis=1, min_count=len(dims))
    with np.errstate(invalid="ignore", divide="ignore"):
        return points.div(total.where(total > 0), axis=0)


def servqual(data: Any, spec: Any = "servqual", *,
             importance: Mapping[str, float | str] | None = None,
             columns: Mapping[str, str] | None = None, expectation_prefix: str = "E",
             perception_prefix: str = "P") -> ServqualResult:
    """SERVQUAL gap scores per item, dimension and overall.

    Parameters
    ----------
    data : DataFrame, bundled data set name or data file with the E and P columns.
    spec : the spec holding the item pairs (default the catalogue template ``servqual``:
        E1..E22, P1..P22).
    importance : dimension (name or label, e.g. ``"REL"`` or ``"Reliability"``) -> a fixed
        weight, or the name of a column of points each respondent gave that dimension.
        Weights are normalised to sum to one per respondent.
    columns : rename data columns first, ``{data_column: item}``.
    expectation_prefix, perception_prefix : how paired items are named (``E``/``P``).

    Raises
    ------
    DataError
        For missing or non-numeric item columns.
    OptionError
        For a spec without pairs, or importance weights that do not match the dimensions.
    """
    from ..models.catalogue import load_model

    model = load_model(spec)
    pairs = paired_items(model, expectation_prefix=expectation_prefix,
                         perception_prefix=perception_prefix)
    frame = as_frame(data)
    if columns:
        frame = frame.rename(columns=dict(columns))
    require_columns(frame, list(pairs["expectation"]) + list(pairs["perception"]),
                    f"The item pairs of spec {model.name!r}")
    e = pd.DataFrame({k: numeric_column(frame, c) for k, c in
                      zip(pairs["item"], pairs["expectation"], strict=True)}, index=frame.index)
    p = pd.DataFrame({k: numeric_column(frame, c) for k, c in
                      zip(pairs["item"], pairs["perception"], strict=True)}, index=frame.index)
    if model.scale is not None:
        _check_scale(pd.concat([e.set_axis(pairs["expectation"], axis=1),
                                p.set_axis(pairs["perception"], axis=1)], axis=1), model.scale)
    gaps = p - e
    item_table = pairs[["item", "dimension", "expectation", "perception"]].assign(
        n=gaps.notna().sum().to_numpy(),
        mean_expectation=e.where(gaps.notna()).mean().to_numpy(),
        mean_perception=p.where(gaps.notna()).mean().to_numpy(),
        gap=gaps.mean().to_numpy(), sd=gaps.std(ddof=1).to_numpy())
    dims = list(dict.fromkeys(pairs["dimension"]))
    members = {d: list(pairs.loc[pairs["dimension"] == d, "item"]) for d in dims}
    per_dim = pd.DataFrame({d: gaps[members[d]].mean(axis=1) for d in dims}, index=frame.index)
    labels = dict(zip(pairs["dimension"], pairs["label"], strict=False))
    dim_table = pd.DataFrame({
        "dimension": dims, "label": [labels[d] for d in dims],
        "n_items": [len(members[d]) for d in dims],
        "mean_expectation": [e[members[d]].mean(axis=1).mean() for d in dims],
        "mean_perception": [p[members[d]].mean(axis=1).mean() for d in dims],
        "gap": per_dim.mean().to_numpy(), "sd": per_dim.std(ddof=1).to_numpy()})
    respondents = per_dim.assign(unweighted=per_dim.mean(axis=1, skipna=False))
    overall = [("unweighted", float(respondents["unweighted"].mean()))]
    if importance is not None:
        w = _importance(importance, pairs, frame)
        respondents["weighted"] = (w * per_dim).sum(axis=1, min_count=len(dims))
        dim_table["importance"] = w.mean().to_numpy()
        dim_table["weighted_gap"] = (w * per_dim).mean().to_numpy()
        overall.append(("weighted", float(respondents["weighted"].mean())))
    return ServqualResult(model_name=model.name, items=item_table, dimensions=dim_table,
                          overall=pd.DataFrame(overall, columns=["measure", "gap"]),
                          respondents=respondents, scale=model.scale)


def _check_scale(values: pd.DataFrame, scale: tuple[float, float]) -> None:
    lo, hi = scale
    outside = ((values < lo) | (values > hi)).sum()
    outside = outside[outside > 0]
    if len(outside):
        listing = ", ".join(f"{c} ({int(k)})" for c, k in outside.items())
        warnings.warn(f"Values outside the item scale {lo:g} to {hi:g} in: {listing}. Are they "
                      "missing-value codes? Make them missing before computing gaps.",
                      OutOfScaleWarning, stacklevel=3)
