"""Industry, sector and national indices from company indices (ACSI practice).

ACSI (theacsi.org, methodology): an industry's index is the mean of its companies' indices
weighted by company revenue; a sector's is the mean of its industries' indices weighted by
industry revenue; the national index is the mean of the sectors' indices weighted by each
sector's share of GDP. Here an industry's revenue is the sum of its (included) companies'
revenues, so a sector's index is also the revenue-weighted mean of its companies' indices.

Uncertainty:

- From bootstrap draws (:class:`~csisem.GroupFits`, or ``csisem fit --by ... --format json``):
  the companies' samples are independent, so their bootstrap draws are too; draw ``b`` of an
  aggregate is the weighted sum of draw ``b`` of its parts. Companies can have different
  numbers of valid resamples; every company contributes its first ``B`` draws, ``B`` the
  smallest number of valid resamples (``n_draws`` of the result). The standard error is the
  standard deviation of the aggregate's draws and the interval their percentile interval.
  Company rows keep the values of their own fit (all of their draws).
- From a plain table of company index and std_error (``csisem fit --by ... --format csv``):
  the company estimates are taken as independent and normal, so
  ``se(sum w_c x_c) = sqrt(sum w_c² se_c²)`` and the interval is ``estimate ± z se``.
- Without standard errors: estimates only (NaN uncertainty).

Companies whose fit failed (status other than ``ok``, or no index): ``failed="error"``
(default) refuses to aggregate and names them; ``failed="exclude"`` leaves them out with a
:class:`~csisem.errors.DataWarning`, their revenue too (the industry is the weighted mean of
the companies that remain; an industry or sector left without companies drops out and the
weights of its siblings are renormalised).
"""

from __future__ import annotations

import difflib
import json
import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path as FilePath
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd

from ._typing import FloatArray
from .errors import DataError, DataWarning, OptionError
from .groups import SATISFACTION_NAMES, GroupFits
from .options import coerce
from .results import _plain
from .summary import Section, Summary, SummaryMixin

__all__ = ["Aggregation", "FailedPolicy", "aggregate"]

LEVELS = ("company", "industry", "sector", "national")
WEIGHT_COLUMNS = ("company", "industry", "sector", "revenue")
TABLE_COLUMNS = ["level", "name", "parent", "index", "std_error", "ci_lower", "ci_upper",
                 "weight", "revenue", "n_parts"]


class FailedPolicy(str, Enum):
    """What to do with companies whose fit failed: refuse (``error``) or leave out with a
    warning (``exclude``)."""

    ERROR = "error"
    EXCLUDE = "exclude"


@dataclass(frozen=True)
class _Companies:
    """Company-level input, whatever its source. Arrays are aligned with ``names``."""

    names: list[str]
    ok: list[bool]
    status: list[str]
    estimate: FloatArray
    std_error: FloatArray
    ci_lower: FloatArray
    ci_upper: FloatArray
    draws: dict[str, FloatArray] | None
    construct: str


@dataclass(frozen=True, repr=False)
class Aggregation(SummaryMixin):
    """Company, industry, sector and national indices.

    ``table``: level (company, industry, sector, national), name, parent (the unit it is
    aggregated into), index, std_error, ci_lower, ci_upper, weight (its share of the parent:
    revenue share, or normalised GDP share for a sector), revenue, n_parts (parts aggregated;
    NA for a company). ``uncertainty`` is ``"bootstrap"``, ``"normal"`` or ``"none"`` (see
    the module notes); ``n_draws`` the common number of bootstrap draws; ``excluded`` the
    companies left out.
    """

    table: pd.DataFrame
    construct: str
    uncertainty: str
    ci_level: float
    n_draws: int | None
    excluded: tuple[str, ...]

    def level(self, name: str) -> pd.DataFrame:
        """The rows of one level (``"company"``, ``"industry"``, ``"sector"``, ``"national"``)."""
        if name not in LEVELS:
            raise OptionError(f"level={name!r} is not a level; choose one of "
                              f"{', '.join(map(repr, LEVELS))}.")
        return self.table[self.table["level"] == name].reset_index(drop=True)

    def summary(self) -> Summary:
        """One section per level, top down."""
        how = {"bootstrap": f"bootstrap draws propagated ({self.n_draws} per company)",
               "normal": "independent normal company estimates (no draws)",
               "none": "none (no standard errors in the input)"}[self.uncertainty]
        header = {"Construct": self.construct, "Uncertainty": how,
                  "Interval": f"{self.ci_level:.0%}"}
        if self.excluded:
            header["Excluded"] = ", ".join(self.excluded)
        sections = tuple(
            Section(f"{lvl.capitalize()} index", self.level(lvl).drop(columns=["level"]))
            for lvl in reversed(LEVELS) if (self.table["level"] == lvl).any())
        return Summary(title="csisem — aggregated indices (revenue and GDP weighted)",
                       header=header, sections=sections)

    def __repr__(self) -> str:
        counts = self.table["level"].value_counts()
        parts = ", ".join(f"{int(counts.get(lvl, 0))} {lvl}" for lvl in LEVELS)
        return f"<Aggregation {self.construct}: {parts}; uncertainty {self.uncertainty}>"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-compatible dict."""
        records = [{k: (None if v is pd.NA else _plain(v)) for k, v in row.items()}
                   for row in self.table.to_dict(orient="records")]
        return {"kind": "csisem.aggregation", "construct": self.construct,
                "uncertainty": self.uncertainty, "ci_level": self.ci_level,
                "n_draws": self.n_draws, "excluded": list(self.excluded), "table": records}

    def to_json(self, indent: int | None = 2) -> str:
        """:meth:`to_dict` as a JSON string."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    def to_csv(self, path: str | FilePath | None = None) -> str | None:
        """``table`` as CSV: returned as text, or written to ``path``."""
        if path is None:
            return str(self.table.to_csv(index=False))
        self.table.to_csv(path, index=False)
        return None


# ---- reading the company indices ------------------------------------------------------------
def _pick_construct(construct: str | None, available: list[str], satisfaction: str | None,
                    source: str) -> str:
    if construct is not None:
        if construct not in available:
            close = difflib.get_close_matches(construct, available, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise OptionError(f"construct={construct!r} is not in the {source}.{hint} "
                              f"Constructs: {', '.join(available)}.")
        return construct
    if satisfaction is not None and satisfaction in available:
        return satisfaction
    if len(available) == 1:
        return available[0]
    named = [c for c in available if c in SATISFACTION_NAMES]
    if len(named) == 1:
        return named[0]
    raise OptionError(f"Which construct should be aggregated? The {source} has "
                      f"{', '.join(available)} and none is clearly the satisfaction construct; "
                      "pass construct= (CLI: --construct).")


def _from_group_fits(fits: GroupFits, construct: str | None) -> _Companies:
    if len(fits.by) != 1:
        raise OptionError(f"The fits are grouped by {', '.join(fits.by)}; aggregation needs one "
                          "fit per company (group by the company column alone, e.g. one "
                          "fit_groups call per quarter).")
    construct = _pick_construct(construct, list(fits.constructs), fits.satisfaction, "model")
    rows = fits.table[fits.table["construct"] == construct].reset_index(drop=True)
    all_draws = fits.draws(construct)
    names = [str(_plain(k)) for k in fits.results]
    draws = ({str(_plain(k)): v for k, v in all_draws.items()} if all_draws else None)
    return _companies(names, rows["status"].tolist(), rows, draws, construct)


def _from_dict(data: Mapping[str, Any], construct: str | None) -> _Companies:
    if data.get("kind") != "csisem.group_fits" or not isinstance(data.get("groups"), list):
        raise DataError("The indices JSON is not the output of csisem fit --by (or "
                        "GroupFits.to_dict()): it has no 'groups' list.")
    by = data.get("by") or []
    if len(by) != 1:
        raise OptionError(f"The fits are grouped by {', '.join(map(str, by))}; aggregation "
                          "needs one fit per company (group by the company column alone).")
    constructs = [str(c) for c in data.get("constructs") or []]
    construct = _pick_construct(construct, constructs, data.get("satisfaction"), "fits")
    names, status, records, draws = [], [], [], {}
    for g in data["groups"]:
        name = str(g["key"][by[0]])
        names.append(name)
        status.append(str(g.get("status")))
        entry = (g.get("index") or {}).get(construct) or {}
        records.append({c: np.nan if entry.get(c) is None else float(entry[c])
                        for c in ("index", "std_error", "ci_lower", "ci_upper")})
        if g.get("draws") and construct in g["draws"]:
            draws[name] = np.asarray(g["draws"][construct], dtype=float)
    table = pd.DataFrame(records, columns=["index", "std_error", "ci_lower", "ci_upper"])
    return _companies(names, status, table, draws or None, construct)


def _from_table(table: pd.DataFrame, construct: str | None) -> _Companies:
    columns = [str(c) for c in table.columns]
    key = "company" if "company" in columns else None
    if key is None:
        raise DataError(f"The indices table needs a 'company' column (found: "
                        f"{', '.join(columns)}).")
    if "index" not in columns:
        raise DataError(f"The indices table needs an 'index' column with each company's "
                        f"0-100 index (found: {', '.join(columns)}).")
    if "construct" in columns:
        available = list(dict.fromkeys(table["construct"].astype(str)))
        construct = _pick_construct(construct, available, None, "indices table")
        table = table[table["construct"].astype(str) == construct]
    elif construct is None:
        construct = "index"
    names = table["company"].astype(str).tolist()
    status = (table["status"].astype(str).tolist() if "status" in columns
              else ["ok"] * len(names))
    values = pd.DataFrame({c: pd.to_numeric(table[c], errors="coerce").to_numpy(dtype=float)
                           if c in columns else np.full(len(names), np.nan)
                           for c in ("index", "std_error", "ci_lower", "ci_upper")})
    return _companies(names, status, values, None, construct)


def _companies(names: list[str], status: list[str], values: pd.DataFrame,
               draws: dict[str, FloatArray] | None, construct: str) -> _Companies:
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise DataError(f"Company {', '.join(map(repr, dup))} appears more than once in the "
                        "indices; give one row per company (and construct).")
    estimate = values["index"].to_numpy(dtype=float)
    ok = [s == "ok" and math.isfinite(e) for s, e in zip(status, estimate, strict=True)]
    return _Companies(names=names, ok=ok, status=status, estimate=estimate,
                      std_error=values["std_error"].to_numpy(dtype=float),
                      ci_lower=values["ci_lower"].to_numpy(dtype=float),
                      ci_upper=values["ci_upper"].to_numpy(dtype=float),
                      draws=draws, construct=construct)


# ---- the weights --------------------------------------------------------------------------
def _check_weights(weights: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(weights, pd.DataFrame):
        raise OptionError("weights= must be a DataFrame with columns company, industry, sector, "
                          f"revenue (got {type(weights).__name__}).")
    columns = [str(c) for c in weights.columns]
    absent = [c for c in WEIGHT_COLUMNS if c not in columns]
    if absent:
        raise DataError(f"The weights table lacks column(s) {', '.join(absent)}; it needs "
                        f"company, industry, sector, revenue (found: {', '.join(columns)}).")
    table = pd.DataFrame({c: weights[c].to_numpy() for c in WEIGHT_COLUMNS})
    for c in ("company", "industry", "sector"):
        empty = table[c].isna()
        if empty.any():
            raise DataError(f"The weights table has no {c} in row(s) "
                            f"{', '.join(str(i + 2) for i in np.flatnonzero(empty)[:5])} "
                            "(file lines, counting the header).")
        table[c] = table[c].map(lambda v: str(_plain(v)))
    dup = table["company"][table["company"].duplicated()].unique().tolist()
    if dup:
        raise DataError(f"Company {', '.join(map(repr, dup))} has more than one row in the "
                        "weights table; give one row (industry, sector, revenue) per company.")
    revenue = pd.to_numeric(table["revenue"], errors="coerce")
    bad = table["company"][~(revenue > 0) | ~np.isfinite(revenue)].tolist()
    if bad:
        shown = ", ".join(f"{c!r} ({table.loc[table['company'] == c, 'revenue'].iloc[0]})"
                          for c in bad[:5])
        raise DataError(f"Revenue must be a positive number; company {shown} "
                        f"{'has' if len(bad) == 1 else 'have'} a zero, negative, missing or "
                        "non-numeric revenue.")
    table["revenue"] = revenue.astype(float)
    sectors = table.groupby("industry")["sector"].unique()
    split = {i: s for i, s in sectors.items() if len(s) > 1}
    if split:
        i, s = next(iter(split.items()))
        raise DataError(f"Industry {i!r} is in more than one sector ({', '.join(sorted(s))}); "
                        "each industry belongs to one sector.")
    return table


def _check_gdp(gdp_shares: Any, sectors: list[str]) -> pd.Series:
    if isinstance(gdp_shares, pd.DataFrame):
        columns = [str(c) for c in gdp_shares.columns]
        if not {"sector", "gdp_share"} <= set(columns):
            raise DataError("The GDP shares table needs columns sector and gdp_share (found: "
                            f"{', '.join(columns)}).")
        names = gdp_shares["sector"].map(lambda v: str(_plain(v))).tolist()
        values = pd.to_numeric(gdp_shares["gdp_share"], errors="coerce").tolist()
    elif isinstance(gdp_shares, Mapping | pd.Series):
        pairs = list(gdp_shares.items())
        names = [str(_plain(k)) for k, _ in pairs]
        values = [pd.to_numeric(v, errors="coerce") for _, v in pairs]
    else:
        raise OptionError("gdp_shares= must be a mapping sector -> share, a Series indexed by "
                          "sector or a DataFrame with columns sector, gdp_share (got "
                          f"{type(gdp_shares).__name__}).")
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise DataError(f"Sector {', '.join(map(repr, dup))} has more than one GDP share.")
    shares = pd.Series(values, index=names, dtype=float)
    bad = [f"{s!r} ({v})" for s, v in shares.items() if not (math.isfinite(v) and v > 0)]
    if bad:
        raise DataError(f"GDP shares must be positive numbers; sector {', '.join(bad)} "
                        f"{'is' if len(bad) == 1 else 'are'} not.")
    missing = [s for s in sectors if s not in shares.index]
    if missing:
        hints = [difflib.get_close_matches(s, list(shares.index), n=1) for s in missing]
        hint = "".join(f" (did you mean {h[0]!r} for {s!r}?)" for s, h in
                       zip(missing, hints, strict=True) if h)
        raise DataError(f"Sector {', '.join(map(repr, missing))} has no GDP share{hint}; the "
                        "national index weights every sector by its share of GDP.")
    extra = [s for s in shares.index if s not in sectors]
    if extra:
        warnings.warn(f"GDP shares of sector(s) {', '.join(map(repr, extra))}, which have no "
                      "companies, are left out; the other shares are renormalised.",
                      DataWarning, stacklevel=3)
    return shares[sectors]


# ---- aggregate ----------------------------------------------------------------------------
def _match(companies: _Companies, weights: pd.DataFrame, failed: FailedPolicy
           ) -> tuple[pd.DataFrame, list[str]]:
    fitted = set(companies.names)
    weighted = set(weights["company"])
    unweighted = sorted(fitted - weighted)
    if unweighted:
        raise DataError(f"Company {', '.join(map(repr, unweighted[:10]))} "
                        f"{'is' if len(unweighted) == 1 else 'are'} in the indices but not in "
                        "the weights table; add their industry, sector and revenue.")
    unfitted = sorted(weighted - fitted)
    if unfitted:
        raise DataError(f"Company {', '.join(map(repr, unfitted[:10]))} "
                        f"{'is' if len(unfitted) == 1 else 'are'} in the weights table but has "
                        "no index; fit it, or remove its row from the weights table.")
    bad = [(n, s) for n, s, ok in zip(companies.names, companies.status, companies.ok,
                                      strict=True) if not ok]
    listing = ", ".join(f"{n!r} ({s})" for n, s in bad)
    if bad and failed is FailedPolicy.ERROR:
        raise DataError(f"The fit of company {listing} did not succeed, so the aggregates "
                        "cannot include it; pass failed='exclude' (CLI: --exclude-failed) to "
                        "leave it out, with its revenue.")
    excluded = [n for n, _ in bad]
    if bad:
        warnings.warn(f"Left out of the aggregates (fit not ok): {listing}.", DataWarning,
                      stacklevel=3)
    kept = weights[~weights["company"].isin(excluded)].reset_index(drop=True)
    if kept.empty:
        raise DataError("No company with a successful fit is left to aggregate.")
    return kept, excluded


def _weight_matrix(parts: list[str], parents: list[str], owner: Mapping[str, str],
                   size: Mapping[str, float]) -> FloatArray:
    """(P, Q) matrix: column q holds the normalised weights of the parts of parent q."""
    W = np.zeros((len(parts), len(parents)))
    col = {p: q for q, p in enumerate(parents)}
    for i, part in enumerate(parts):
        W[i, col[owner[part]]] = size[part]
    normalised: FloatArray = W / W.sum(axis=0, keepdims=True)
    return normalised


def aggregate(
    fits: GroupFits | pd.DataFrame | Mapping[str, Any],
    weights: pd.DataFrame,
    gdp_shares: Mapping[str, float] | pd.Series | pd.DataFrame | None = None,
    *,
    construct: str | None = None,
    failed: FailedPolicy | str = FailedPolicy.ERROR,
    ci_level: float = 0.95,
) -> Aggregation:
    """Industry, sector and national indices from company indices.

    Parameters
    ----------
    fits : per-company fits: a :class:`~csisem.GroupFits` grouped by one column, its
        ``to_dict()`` (the JSON of ``csisem fit --by``), or a table with columns company,
        index and optionally construct, std_error, ci_lower, ci_upper, status.
    weights : one row per company: company, industry, sector, revenue (positive). Companies
        are matched by their text form (``3`` and ``"3"`` are the same company).
    gdp_shares : each sector's share of GDP (normalised over the sectors with companies):
        ``{sector: share}``, a Series, or a DataFrame with columns sector, gdp_share. Without
        it there is no national row.
    construct : the construct to aggregate; default the model's satisfaction construct (a
        label containing "satisfaction", or CUSA/ACSI/SAT), required when that is ambiguous.
    failed : ``"error"`` (default) or ``"exclude"``: companies whose fit is not ``ok``.
    ci_level : level of the intervals of the aggregates.

    Returns
    -------
    Aggregation
        See the module notes for how uncertainty is propagated.

    Raises
    ------
    DataError
        A company in the indices but not the weights or the reverse, a duplicated company, a
        non-positive revenue, an industry in two sectors, a sector without (or with an
        invalid) GDP share, or a failed company fit with ``failed="error"``.
    OptionError
        For an unknown or ambiguous construct, invalid ``failed`` or ``ci_level``, or fits
        grouped by several columns.
    """
    policy = coerce(FailedPolicy, failed, arg="failed")
    if isinstance(ci_level, bool) or not (isinstance(ci_level, int | float)
                                          and 0 < ci_level < 1):
        raise OptionError(f"ci_level={ci_level!r} must be between 0 and 1, e.g. 0.95.")
    if isinstance(fits, GroupFits):
        companies = _from_group_fits(fits, construct)
    elif isinstance(fits, pd.DataFrame):
        companies = _from_table(fits, construct)
    elif isinstance(fits, Mapping):
        companies = _from_dict(fits, construct)
    else:
        raise OptionError("fits= must be a GroupFits, its to_dict() or a table of company "
                          f"indices (got {type(fits).__name__}).")
    table = _check_weights(weights)
    kept, excluded = _match(companies, table, policy)
    sectors = sorted(kept["sector"].unique())
    gdp = None if gdp_shares is None else _check_gdp(gdp_shares, sectors)
    return _compute(companies, kept, gdp, excluded, float(ci_level))


def _compute(companies: _Companies, kept: pd.DataFrame, gdp: pd.Series | None,
             excluded: list[str], ci_level: float) -> Aggregation:
    pos = {n: i for i, n in enumerate(companies.names)}
    names = sorted(kept["company"])
    rows = kept.set_index("company").loc[names]
    revenue = rows["revenue"]
    industries = sorted(rows["industry"].unique())
    sectors = sorted(rows["sector"].unique())
    ind_revenue = revenue.groupby(rows["industry"]).sum()
    ind_sector = rows.groupby("industry")["sector"].first()
    sec_revenue = revenue.groupby(rows["sector"]).sum()

    W_ci = _weight_matrix(names, industries, rows["industry"], revenue)
    W_is = _weight_matrix(industries, sectors, ind_sector, ind_revenue)
    idx = [pos[n] for n in names]
    x = companies.estimate[idx]
    x_ind = x @ W_ci
    x_sec = x_ind @ W_is
    w_nat = None if gdp is None else (gdp / gdp.sum()).loc[sectors].to_numpy()
    x_nat = None if w_nat is None else np.array([x_sec @ w_nat])

    draws = companies.draws
    has_draws = draws is not None and all(n in draws for n in names)
    se_c = companies.std_error[idx]
    alpha = (1 - ci_level) / 2
    n_draws = None
    if has_draws and draws is not None:
        uncertainty = "bootstrap"
        n_draws = min(len(draws[n]) for n in names)
        D = np.column_stack([draws[n][:n_draws] for n in names])   # (B, companies)
        D_ind = D @ W_ci
        D_sec = D_ind @ W_is

        def spread(d: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
            if len(d) < 2:
                nan = np.full(d.shape[1], np.nan)
                return nan, nan, nan
            lo, hi = np.quantile(d, [alpha, 1 - alpha], axis=0)
            return d.std(axis=0, ddof=1), lo, hi

        inference = [spread(D_ind), spread(D_sec)]
        if w_nat is not None:
            inference.append(spread((D_sec @ w_nat)[:, None]))
    else:
        uncertainty = "normal" if np.isfinite(se_c).all() else "none"
        z = NormalDist().inv_cdf(1 - alpha)
        var_ind = (se_c**2) @ W_ci**2
        var_sec = var_ind @ W_is**2
        variances = [var_ind, var_sec] + ([] if w_nat is None else [np.array([var_sec @ w_nat**2])])
        estimates = [x_ind, x_sec] + ([] if x_nat is None else [x_nat])
        inference = [(np.sqrt(v), e - z * np.sqrt(v), e + z * np.sqrt(v))
                     for v, e in zip(variances, estimates, strict=True)]
        if draws is not None and not has_draws:
            warnings.warn("Some companies have no bootstrap draws; the aggregates use their "
                          "standard errors as independent normal estimates.", DataWarning,
                          stacklevel=3)

    lo_c, hi_c = companies.ci_lower[idx], companies.ci_upper[idx]
    if uncertainty == "normal":
        z = NormalDist().inv_cdf(1 - alpha)
        lo_c = np.where(np.isfinite(lo_c), lo_c, x - z * se_c)
        hi_c = np.where(np.isfinite(hi_c), hi_c, x + z * se_c)
    ind_weight = (ind_revenue / ind_revenue.groupby(ind_sector).transform("sum"))
    frames = [
        _level("company", names, rows["industry"].tolist(), x, (se_c, lo_c, hi_c),
               W_ci.sum(axis=1), revenue.to_numpy(), None),
        _level("industry", industries, ind_sector.loc[industries].tolist(), x_ind,
               inference[0], ind_weight.loc[industries].to_numpy(),
               ind_revenue.loc[industries].to_numpy(),
               rows.groupby("industry").size().loc[industries].to_numpy()),
        _level("sector", sectors, ["national" if w_nat is not None else None] * len(sectors),
               x_sec, inference[1],
               w_nat if w_nat is not None else np.full(len(sectors), np.nan),
               sec_revenue.loc[sectors].to_numpy(),
               ind_sector.value_counts().loc[sectors].to_numpy()),
    ]
    if x_nat is not None:
        frames.append(_level("national", ["national"], [None], x_nat, inference[2],
                             np.array([1.0]), np.array([float(revenue.sum())]),
                             np.array([len(sectors)])))
    table = pd.concat(frames, ignore_index=True)
    table["n_parts"] = table["n_parts"].astype("Int64")
    return Aggregation(table=table, construct=companies.construct, uncertainty=uncertainty,
                       ci_level=ci_level, n_draws=n_draws, excluded=tuple(sorted(excluded)))


def _level(level: str, names: list[str], parents: list[str | None], estimate: FloatArray,
           inference: tuple[FloatArray, FloatArray, FloatArray], weight: FloatArray,
           revenue: FloatArray, n_parts: FloatArray | None) -> pd.DataFrame:
    se, lo, hi = inference
    return pd.DataFrame({
        "level": level, "name": names, "parent": parents, "index": estimate,
        "std_error": se, "ci_lower": lo, "ci_upper": hi, "weight": weight,
        "revenue": revenue,
        "n_parts": pd.array([pd.NA] * len(names) if n_parts is None else n_parts.tolist(),
                            dtype="Int64")}, columns=TABLE_COLUMNS)
