"""Net Promoter Score from a 0-10 likelihood-to-recommend question.

Reichheld (2003): promoters answer 9-10, passives 7-8, detractors 0-6, and::

    NPS = 100 (p_P - p_D)                       (percentage points, -100 to 100)

with ``p_P``, ``p_D`` the shares of promoters and detractors among the ``n`` answers. Its
standard error follows from the multinomial distribution of the three groups
(``Var(p_P - p_D) = (p_P + p_D - (p_P - p_D)^2) / n``)::

    SE = 100 sqrt((p_P + p_D - (p_P - p_D)^2) / n)

and the confidence interval is the normal approximation ``NPS +- z SE``, cut at -100 and
100. Missing answers are left out (and counted); any other value than an integer 0-10 is an
error naming the column.

Reference: Reichheld, F. F. (2003). The one number you need to grow. *Harvard Business
Review*, 81(12), 46-54.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError
from ..summary import Section, Summary, SummaryMixin
from ._common import (
    as_frame,
    check_level,
    numeric_column,
    plain,
    records,
    require_columns,
    z_quantile,
)

__all__ = ["NPSResult", "nps"]


@dataclass(frozen=True, repr=False)
class NPSResult(SummaryMixin):
    """Net Promoter Score.

    ``table``: (group,) n, n_missing, promoters, passives, detractors (counts),
    pct_promoters, pct_passives, pct_detractors, nps, std_error, ci_lower, ci_upper; the
    first row is all respondents (group ``"all"`` when grouped).
    """

    column: str
    table: pd.DataFrame
    ci_level: float
    by: str | None = None

    @property
    def score(self) -> float:
        """The NPS of all respondents."""
        return float(self.table["nps"].iloc[0])

    @property
    def ci(self) -> tuple[float, float]:
        """Its confidence interval."""
        first = self.table.iloc[0]
        return float(first["ci_lower"]), float(first["ci_upper"])

    def summary(self) -> Summary:
        """Score, interval and the three groups."""
        lo, hi = self.ci
        header = {"Question": self.column,
                  "NPS": f"{self.score:.1f} ({self.ci_level:.0%} CI {lo:.1f} to {hi:.1f})",
                  "Respondents": str(int(self.table["n"].iloc[0]))}
        if self.by:
            header["Groups"] = self.by
        return Summary(title="Net Promoter Score", header=header,
                       sections=(Section("Promoters (9-10), passives (7-8), detractors (0-6)",
                                         self.table),),
                       footer="Interval: normal approximation with the multinomial "
                              "variance (p_P + p_D - (p_P - p_D)^2) / n.")

    def __repr__(self) -> str:
        lo, hi = self.ci
        return f"<NPSResult {self.column}: NPS={self.score:.1f} [{lo:.1f}, {hi:.1f}]>"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-compatible dict."""
        return {"kind": "csisem.nps", "column": self.column, "by": self.by,
                "ci_level": self.ci_level, "nps": self.score, "ci": list(self.ci),
                "table": records(self.table)}

    def to_json(self, indent: int | None = 2) -> str:
        """:meth:`to_dict` as a JSON string."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)


def _scores(frame: pd.DataFrame, column: str) -> pd.Series:
    """The answers as floats, checked to be integers 0-10 (NaN kept)."""
    x = numeric_column(frame, column)
    bad = x.notna() & ((x != np.round(x)) | (x < 0) | (x > 10))
    if bad.any():
        pos = int(np.flatnonzero(bad.to_numpy())[0])
        value = x.iloc[pos]
        what = "is not a whole number" if value == value and value != round(value) else \
            "is outside 0-10"
        row = plain(x.index[pos])
        raise DataError(f"NPS column {column!r}: row {row!r} holds {value:g}, which "
                        f"{what} ({int(bad.sum())} such value(s)); the recommendation "
                        "question is answered with an integer from 0 to 10.")
    return x


def _row(x: pd.Series, z: float) -> dict[str, Any]:
    answered = x.dropna()
    n = len(answered)
    promoters = int((answered >= 9).sum())
    detractors = int((answered <= 6).sum())
    passives = n - promoters - detractors
    if n == 0:
        p_p = p_d = score = se = lo = hi = np.nan
    else:
        p_p, p_d = promoters / n, detractors / n
        score = 100.0 * (p_p - p_d)
        se = 100.0 * np.sqrt(max(p_p + p_d - (p_p - p_d) ** 2, 0.0) / n)
        lo, hi = max(score - z * se, -100.0), min(score + z * se, 100.0)
    return {"n": n, "n_missing": int(x.isna().sum()), "promoters": promoters,
            "passives": passives, "detractors": detractors,
            "pct_promoters": 100.0 * p_p, "pct_passives": 100.0 * (1 - p_p - p_d),
            "pct_detractors": 100.0 * p_d, "nps": score, "std_error": se,
            "ci_lower": lo, "ci_upper": hi}


def nps(data: Any, column: str, *, by: str | None = None, ci_level: float = 0.95
        ) -> NPSResult:
    """Net Promoter Score of ``column`` (0-10), with a confidence interval.

    Parameters
    ----------
    data : DataFrame, bundled data set name or data file.
    column : the likelihood-to-recommend question.
    by : optional grouping column (e.g. company): one row per group after the overall one.
    ci_level : confidence level of the interval (default 0.95).

    Raises
    ------
    DataError
        If the column is missing, or holds a value that is not an integer from 0 to 10
        (naming the column and row).
    OptionError
        For a ``ci_level`` outside (0, 1).
    """
    level = check_level(ci_level)
    z = z_quantile(level)
    frame = as_frame(data)
    require_columns(frame, [column] + ([by] if by else []), "NPS")
    x = _scores(frame, column)
    rows = [{"group": "all", **_row(x, z)}]
    if by:
        for group, part in x.groupby(frame[by], sort=True):
            rows.append({"group": group, **_row(part, z)})
    table = pd.DataFrame(rows)
    if not by:
        table = table.drop(columns="group")
    return NPSResult(column=column, table=table, ci_level=level, by=by)
