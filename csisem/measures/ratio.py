"""Satisfaction as the ratio of perceived to expected value, and as their difference.

The textbook disconfirmation reading of satisfaction: with ``a`` the expected and ``b`` the
perceived value (answers on the same positive scale)::

    c = b / a      c ~ 1 satisfied (expectations met), c < 1 dissatisfied, c > 1 delighted
    d = b - a      the difference form (SERVQUAL's gap)

"~ 1" is ``|c - 1| <= tolerance`` (default 0.05). Per respondent and pair; aggregated as the
mean of the respondents' ratios, the ratio of the means, the mean difference and the shares
of dissatisfied, satisfied and delighted respondents. With several pairs, ``overall`` is each
respondent's ratio of mean perceived to mean expected value over the pairs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, OptionError
from ..models.model import Model
from ..summary import Section, Summary, SummaryMixin
from ._common import as_frame, numeric_column, plain, records, require_columns

__all__ = ["RatioResult", "satisfaction_ratio"]

CATEGORY_ORDER = ("dissatisfied", "satisfied", "delighted")


@dataclass(frozen=True, repr=False)
class RatioResult(SummaryMixin):
    """Satisfaction ratios.

    - ``table``: pair, expected, perceived (columns), n, mean_expected, mean_perceived,
      mean_ratio, ratio_of_means, mean_difference, dissatisfied, satisfied, delighted
      (shares), category (of the mean ratio); an ``overall`` row with several pairs
    - ``respondents``: ``<pair>_ratio``, ``<pair>_difference``, ``<pair>_category``
    """

    table: pd.DataFrame
    respondents: pd.DataFrame
    tolerance: float

    def summary(self) -> Summary:
        """The aggregate table."""
        tol = self.tolerance
        return Summary(title="Satisfaction ratio c = perceived / expected", header={
            "Respondents": str(len(self.respondents)),
            "Reading": f"c < {1 - tol:g} dissatisfied, {1 - tol:g} to {1 + tol:g} satisfied, "
                       f"> {1 + tol:g} delighted"},
            sections=(Section("Pairs", self.table),))

    def __repr__(self) -> str:
        return f"<RatioResult: {len(self.table)} pair(s), {len(self.respondents)} respondents>"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-compatible dict (without respondent values)."""
        return {"kind": "csisem.satisfaction_ratio", "tolerance": self.tolerance,
                "n_respondents": len(self.respondents), "table": records(self.table)}

    def to_json(self, indent: int | None = 2) -> str:
        """:meth:`to_dict` as a JSON string."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)


def _pairs(pairs: Any) -> dict[str, tuple[str, str]]:
    """name -> (expected column, perceived column)."""
    if isinstance(pairs, Model) or (isinstance(pairs, str) and "=" not in pairs):
        from ..models.catalogue import load_model
        from .servqual import paired_items

        table = paired_items(load_model(pairs))
        return {str(r.item): (str(r.expectation), str(r.perception))
                for r in table.itertuples()}
    if isinstance(pairs, tuple | list) and len(pairs) == 2 and all(
            isinstance(c, str) for c in pairs):
        return {str(pairs[1]): (str(pairs[0]), str(pairs[1]))}
    if isinstance(pairs, Mapping) and pairs:
        out = {}
        for name, cols in pairs.items():
            if isinstance(cols, str) or not hasattr(cols, "__len__") or len(cols) != 2:
                raise OptionError(f"pairs[{name!r}] must be (expected column, perceived "
                                  f"column), not {cols!r}.")
            out[str(name)] = (str(cols[0]), str(cols[1]))
        return out
    raise OptionError("pairs= must be (expected, perceived) columns, a mapping name -> "
                      "(expected, perceived), or a spec with E/P item pairs (e.g. 'servqual').")


def _category(c: pd.Series, tolerance: float) -> pd.Series:
    out = pd.Series(np.where(c < 1 - tolerance, "dissatisfied",
                             np.where(c > 1 + tolerance, "delighted", "satisfied")),
                    index=c.index, dtype=object)
    return out.where(c.notna())


def satisfaction_ratio(data: Any, pairs: Any, *, tolerance: float = 0.05) -> RatioResult:
    """c = perceived / expected and d = perceived - expected, per respondent and aggregate.

    Parameters
    ----------
    data : DataFrame, bundled data set name or data file.
    pairs : ``(expected, perceived)`` column names, a mapping ``name -> (expected,
        perceived)``, or a spec with E/P item pairs (``"servqual"``).
    tolerance : ``|c - 1| <= tolerance`` reads as satisfied (default 0.05).

    Raises
    ------
    DataError
        For a missing or non-numeric column, or an expected value of 0 or less (the ratio is
        undefined), naming the column and row.
    OptionError
        For malformed pairs or a negative tolerance.
    """
    if not tolerance >= 0:
        raise OptionError(f"tolerance={tolerance!r} must be a number of at least 0.")
    named = _pairs(pairs)
    frame = as_frame(data)
    require_columns(frame, [c for pair in named.values() for c in pair], "Satisfaction ratio")
    respondents = pd.DataFrame(index=frame.index)
    rows = []
    expected_all, perceived_all = [], []
    for name, (acol, bcol) in named.items():
        a, b = numeric_column(frame, acol), numeric_column(frame, bcol)
        bad = a.notna() & (a <= 0)
        if bad.any():
            pos = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError(f"Expected-value column {acol!r}: row {plain(a.index[pos])!r} holds "
                            f"{a.iloc[pos]:g}; "
                            "c = perceived / expected needs expected values above 0 (use a "
                            "scale starting at 1, or the difference form).")
        ok = a.notna() & b.notna()
        a, b = a.where(ok), b.where(ok)
        expected_all.append(a)
        perceived_all.append(b)
        rows.append(_row(name, acol, bcol, a, b, respondents, tolerance))
    if len(named) > 1:
        a = pd.concat(expected_all, axis=1).mean(axis=1, skipna=False)
        b = pd.concat(perceived_all, axis=1).mean(axis=1, skipna=False)
        rows.append(_row("overall", "", "", a, b, respondents, tolerance))
    return RatioResult(table=pd.DataFrame(rows), respondents=respondents,
                       tolerance=float(tolerance))


def _row(name: str, acol: str, bcol: str, a: pd.Series, b: pd.Series,
         respondents: pd.DataFrame, tolerance: float) -> dict[str, Any]:
    """One aggregate row; adds the respondent columns of ``name`` to ``respondents``."""
    c, d = b / a, b - a
    cat = _category(c, tolerance)
    respondents[f"{name}_ratio"] = c
    respondents[f"{name}_difference"] = d
    respondents[f"{name}_category"] = cat
    n = int(c.notna().sum())
    shares = {k: (float((cat == k).sum()) / n if n else np.nan) for k in CATEGORY_ORDER}
    mean_ratio = float(c.mean())
    return {"pair": name, "expected": acol, "perceived": bcol, "n": n,
            "mean_expected": float(a.mean()), "mean_perceived": float(b.mean()),
            "mean_ratio": mean_ratio, "ratio_of_means": float(b.mean() / a.mean()),
            "mean_difference": float(d.mean()), **shares,
            "category": _category(pd.Series([mean_ratio]), tolerance).iloc[0]}
