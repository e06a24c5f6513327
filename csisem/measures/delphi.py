"""Delphi rounds: aggregate expert weights, their spread, and convergence between rounds.

Each expert gives a weight (or an importance score) to every item in each round. With
``normalise=True`` (default) an expert's weights in a round are divided by their sum, so
points, percentages and 1-10 importance ratings all become weights summing to one. Per round
and item csisem reports the mean, median, standard deviation (n - 1), interquartile range
(linear interpolation) and coefficient of variation ``CV = sd / mean``; the item weight is the
mean (or median) normalised to sum to one over the items of the round.

Between successive rounds: the change in mean, median and CV, and the relative change of the
aggregate weight ``|w_r - w_(r-1)| / w_(r-1)``; an item is *stable* when that is at most
``stability`` (15% by default, the rule of thumb of Scheibe, Skutsch & Schofer 1975).

Agreement within a round: Kendall's coefficient of concordance of the experts' rankings of
the items (m experts, n items, rank sums ``R_i``, average ranks for ties)::

    W = 12 S / (m^2 (n^3 - n) - m sum_j T_j),   S = sum_i (R_i - m (n + 1) / 2)^2,
    T_j = sum over tie groups of expert j of (t^3 - t),

tested with ``chi2 = m (n - 1) W`` on ``n - 1`` degrees of freedom (Kendall & Babington Smith
1939). W = 1 is complete agreement, 0 none.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path as FilePath
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, OptionError
from ..summary import Section, Summary, SummaryMixin
from ._common import numeric_column, plain, records, require_columns

__all__ = ["DelphiResult", "delphi", "kendall_w"]

COLUMNS = ("round", "expert", "item", "weight")


@dataclass(frozen=True, repr=False)
class DelphiResult(SummaryMixin):
    """Aggregated Delphi weights.

    - ``rounds``: round, item, n_experts, mean, median, sd, iqr, cv, weight
    - ``convergence``: round, item, delta_mean, delta_median, delta_cv, rel_change, stable
      (one row per item and round after the first)
    - ``agreement``: round, n_experts, n_items, kendall_w, chi2, df, p_value
    - ``weights``: the last round's weights (item -> weight, summing to one)
    """

    rounds: pd.DataFrame
    convergence: pd.DataFrame
    agreement: pd.DataFrame
    weights: pd.Series
    aggregate: str
    normalised: bool
    stability: float

    @property
    def stable(self) -> bool | None:
        """Every item stable between the last two rounds (None with a single round)."""
        if self.convergence.empty:
            return None
        last = self.convergence[self.convergence["round"] == self.convergence["round"].iloc[-1]]
        return bool(last["stable"].all())

    def as_weights(self) -> dict[str, float]:
        """The final weights as a plain ``{item: weight}`` dict."""
        return {str(k): float(v) for k, v in self.weights.items()}

    def summary(self) -> Summary:
        """Final weights, per-round statistics, convergence and agreement."""
        last = self.rounds["round"].iloc[-1]
        final = self.rounds[self.rounds["round"] == last].drop(columns="round")
        stable = self.stable
        header = {"Rounds": ", ".join(str(r) for r in self.rounds["round"].unique()),
                  "Aggregate": f"{self.aggregate} of "
                               f"{'normalised weights' if self.normalised else 'weights'}",
                  "Stable": ("single round" if stable is None else
                             f"{'yes' if stable else 'no'} (relative change <= "
                             f"{self.stability:g} for every item)")}
        return Summary(title="Delphi weights", header=header, sections=(
            Section(f"Final weights (round {last})", final),
            Section("All rounds", self.rounds),
            Section("Convergence between rounds", self.convergence),
            Section("Agreement (Kendall's W)", self.agreement)))

    def __repr__(self) -> str:
        n_rounds = self.rounds["round"].nunique()
        return f"<DelphiResult: {n_rounds} round(s), {len(self.weights)} items>"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-compatible dict."""
        return {"kind": "csisem.delphi", "aggregate": self.aggregate,
                "normalised": self.normalised, "stability": self.stability,
                "stable": self.stable, "weights": self.as_weights(),
                "rounds": records(self.rounds), "convergence": records(self.convergence),
                "agreement": records(self.agreement)}

    def to_json(self, indent: int | None = 2) -> str:
        """:meth:`to_dict` as a JSON string."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)


def _long_table(ratings: Any) -> pd.DataFrame:
    """round, expert, item, weight from a long table, a nested mapping or a file."""
    if isinstance(ratings, str | FilePath):
        from ..data import read_data

        ratings = read_data(ratings)
    if isinstance(ratings, Mapping):
        rows = []
        for rnd, experts in ratings.items():
            if not isinstance(experts, Mapping):
                raise DataError(f"Delphi round {plain(rnd)!r}: expected a mapping expert -> "
                                "{item: weight}.")
            for expert, items in experts.items():
                if not isinstance(items, Mapping):
                    raise DataError(f"Delphi round {plain(rnd)!r}, expert {plain(expert)!r}: "
                                    "expected a mapping item -> weight.")
                rows += [(rnd, expert, item, w) for item, w in items.items()]
        ratings = pd.DataFrame(rows, columns=list(COLUMNS))
    if not isinstance(ratings, pd.DataFrame):
        raise DataError("Delphi ratings must be a long table (columns round, expert, item, "
                        "weight), a mapping {round: {expert: {item: weight}}} or a file, not "
                        f"{type(ratings).__name__}.")
    require_columns(ratings, COLUMNS, "Delphi ratings")
    table = ratings[list(COLUMNS)].copy()
    table["weight"] = numeric_column(table, "weight")
    table["item"] = table["item"].astype(str)
    if table.empty:
        raise DataError("Delphi ratings are empty.")
    bad = table[~np.isfinite(table["weight"]) | (table["weight"] < 0)]
    if not bad.empty:
        rnd, expert, item, weight = (plain(v) for v in bad.iloc[0])
        raise DataError(f"Delphi ratings: round {rnd!r}, expert {expert!r}, item {item!r} has "
                        f"weight {weight}; weights must be numbers of at least 0.")
    dup = table.duplicated(["round", "expert", "item"], keep=False)
    if dup.any():
        rnd, expert, item, _ = (plain(v) for v in table[dup].iloc[0])
        raise DataError(f"Delphi ratings: expert {expert!r} rates item {item!r} more than once "
                        f"in round {rnd!r}.")
    return table


def _check_complete(table: pd.DataFrame) -> list[str]:
    """The items; every expert of a round rates every item, and every round the same ones."""
    items = list(dict.fromkeys(table["item"]))
    for rnd, part in table.groupby("round", sort=False):
        if set(part["item"]) != set(items):
            missing = [i for i in items if i not in set(part["item"])]
            raise DataError(f"Delphi round {plain(rnd)!r} does not rate the same items as the "
                            f"others (missing: {', '.join(missing) or '-'}; every round must "
                            "rate every item).")
        for expert, rated in part.groupby("expert", sort=False):
            missing = [i for i in items if i not in set(rated["item"])]
            if missing:
                raise DataError(f"Delphi round {plain(rnd)!r}: expert {plain(expert)!r} gives "
                                f"no weight for {', '.join(missing)}.")
    return items


def kendall_w(ranks_by_expert: pd.DataFrame) -> tuple[float, float, int, float]:
    """Kendall's W of an experts x items table of scores: (W, chi2, df, p_value).

    Scores are ranked within each expert (average ranks for ties); NaN with fewer than two
    experts or items, or when every expert ties every item.
    """
    from scipy.special import chdtrc

    m, n = ranks_by_expert.shape
    if m < 2 or n < 2:
        return float("nan"), float("nan"), max(n - 1, 0), float("nan")
    ranks = ranks_by_expert.rank(axis=1, method="average").to_numpy()
    s = float(((ranks.sum(axis=0) - m * (n + 1) / 2.0) ** 2).sum())
    ties = 0.0
    for row in ranks:
        _, counts = np.unique(row, return_counts=True)
        ties += float((counts ** 3 - counts).sum())
    denominator = m ** 2 * (n ** 3 - n) - m * ties
    if denominator <= 0:
        return float("nan"), float("nan"), n - 1, float("nan")
    w = 12.0 * s / denominator
    chi2 = m * (n - 1) * w
    return w, chi2, n - 1, float(chdtrc(n - 1, chi2))


def delphi(ratings: Any, *, aggregate: str = "mean", normalise: bool = True,
           stability: float = 0.15) -> DelphiResult:
    """Aggregate expert weights over Delphi rounds.

    Parameters
    ----------
    ratings : a long table with columns ``round, expert, item, weight`` (a DataFrame or a
        data file), or a mapping ``{round: {expert: {item: weight}}}``. Rounds are taken in
        sorted order.
    aggregate : ``"mean"`` (default) or ``"median"``: the item weight of a round (normalised
        to sum to one).
    normalise : divide each expert's weights in a round by their sum first (default True).
    stability : largest relative change of an item's weight between rounds that counts as
        stable (default 0.15).

    Raises
    ------
    DataError
        For missing columns, non-numeric or negative weights, duplicated or missing ratings,
        or an expert whose weights sum to zero.
    OptionError
        For an unknown ``aggregate`` or a negative ``stability``.
    """
    if aggregate not in ("mean", "median"):
        raise OptionError(f"aggregate={aggregate!r} is not supported; choose 'mean' or "
                          "'median'.")
    if not stability >= 0:
        raise OptionError(f"stability={stability!r} must be a number of at least 0.")
    table = _long_table(ratings)
    items = _check_complete(table)
    if normalise:
        sums = table.groupby(["round", "expert"], sort=False)["weight"].transform("sum")
        zero = table[sums <= 0]
        if not zero.empty:
            r = zero.iloc[0]
            raise DataError(f"Delphi round {plain(r['round'])!r}: the weights of expert "
                            f"{plain(r['expert'])!r} sum to 0, so they cannot be normalised.")
        table = table.assign(weight=table["weight"] / sums)
    try:
        order = sorted(table["round"].unique())
    except TypeError:  # mixed types: keep the order of first appearance
        order = list(dict.fromkeys(table["round"]))
    rows, agreement = [], []
    for rnd in order:
        part = table[table["round"] == rnd]
        wide = part.pivot(index="expert", columns="item", values="weight")[items]
        values = wide.to_numpy()
        mean = values.mean(axis=0)
        sd = values.std(axis=0, ddof=1) if len(values) > 1 else np.full(len(items), np.nan)
        median = np.median(values, axis=0)
        q75, q25 = np.quantile(values, [0.75, 0.25], axis=0)
        centre = mean if aggregate == "mean" else median
        total = centre.sum()
        weight = centre / total if total > 0 else np.full(len(items), np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            cv = np.where(mean > 0, sd / mean, np.nan)
        rows.append(pd.DataFrame({"round": rnd, "item": items, "n_experts": len(values),
                                  "mean": mean, "median": median, "sd": sd, "iqr": q75 - q25,
                                  "cv": cv, "weight": weight}))
        w, chi2, df, p = kendall_w(wide)
        agreement.append({"round": rnd, "n_experts": len(values), "n_items": len(items),
                          "kendall_w": w, "chi2": chi2, "df": df, "p_value": p})
    per_round = pd.concat(rows, ignore_index=True)
    changes = []
    for prev, cur in itertools.pairwise(order):
        a = per_round[per_round["round"] == prev].set_index("item").loc[items]
        b = per_round[per_round["round"] == cur].set_index("item").loc[items]
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = (b["weight"] - a["weight"]).abs() / a["weight"]
        changes.append(pd.DataFrame({
            "round": cur, "item": items,
            "delta_mean": (b["mean"] - a["mean"]).to_numpy(),
            "delta_median": (b["median"] - a["median"]).to_numpy(),
            "delta_cv": (b["cv"] - a["cv"]).to_numpy(),
            "rel_change": rel.to_numpy(),
            "stable": (rel <= stability).to_numpy()}))
    convergence = (pd.concat(changes, ignore_index=True) if changes else
                   pd.DataFrame(columns=["round", "item", "delta_mean", "delta_median",
                                         "delta_cv", "rel_change", "stable"]))
    final = per_round[per_round["round"] == order[-1]]
    return DelphiResult(rounds=per_round, convergence=convergence,
                        agreement=pd.DataFrame(agreement),
                        weights=pd.Series(final["weight"].to_numpy(), index=items,
                                          name="weight"),
                        aggregate=aggregate, normalised=normalise, stability=float(stability))
