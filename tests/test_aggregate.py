"""csisem.aggregate: industry, sector and national indices from per-company fits.

Every aggregate is checked against an independent pandas computation of the revenue (and GDP)
weighted mean; these are sums of the same numbers in another order, hence rtol=1e-12.
"""

from __future__ import annotations

import copy
import json

import numpy as np
import pandas as pd
import pytest

import csisem
from csisem.datasets import simulate_companies
from csisem.errors import DataError, DataWarning, OptionError

RTOL = 1e-12


@pytest.fixture(scope="module")
def study(mini: csisem.Model) -> tuple[csisem.GroupFits, pd.DataFrame, pd.DataFrame]:
    data, weights, gdp = simulate_companies(mini, n_companies=12, n_industries=4, n_sectors=2,
                                            n_per_company=120, seed=3)
    fits = csisem.fit_groups(mini, data, "company", bootstrap=200, seed=5, n_jobs=2)
    return fits, weights, gdp


def independent_levels(companies: pd.DataFrame, weights: pd.DataFrame,
                       gdp: pd.DataFrame) -> dict[str, pd.Series]:
    """Revenue-weighted means by pandas groupby, written without csisem.aggregate."""
    frame = companies.merge(weights, on="company")
    frame["weighted"] = frame["index"] * frame["revenue"]
    industry = frame.groupby("industry").agg(weighted=("weighted", "sum"),
                                             revenue=("revenue", "sum"),
                                             sector=("sector", "first"))
    industry["index"] = industry["weighted"] / industry["revenue"]
    industry["weighted"] = industry["index"] * industry["revenue"]
    sector = industry.groupby("sector").agg(weighted=("weighted", "sum"),
                                            revenue=("revenue", "sum"))
    sector["index"] = sector["weighted"] / sector["revenue"]
    shares = gdp.set_index("sector")["gdp_share"]
    national = (sector["index"] * shares).sum() / shares.sum()
    return {"company": frame.set_index("company")["index"], "industry": industry["index"],
            "sector": sector["index"], "national": pd.Series({"national": national})}


def test_every_level_equals_an_independent_revenue_weighted_mean(study):
    fits, weights, gdp = study
    result = csisem.aggregate(fits, weights, gdp)
    assert result.construct == "CUSA"
    assert result.uncertainty == "bootstrap"
    companies = fits.table[fits.table["construct"] == "CUSA"][["company", "index"]]
    expected = independent_levels(companies, weights, gdp)
    for level, values in expected.items():
        got = result.level(level).set_index("name")["index"]
        assert sorted(got.index) == sorted(values.index)
        np.testing.assert_allclose(got.loc[values.index], values, rtol=RTOL, err_msg=level)
    assert result.level("industry")["n_parts"].tolist() == [3, 3, 3, 3]
    assert result.level("national")["n_parts"].tolist() == [2]
    # Weights within each parent sum to 1.
    sums = result.table[result.table["level"] != "national"].groupby(["level", "parent"])[
        "weight"].sum()
    np.testing.assert_allclose(sums, 1.0, rtol=RTOL)


def test_national_weights_sectors_by_normalised_gdp_shares(study):
    fits, weights, gdp = study
    base = csisem.aggregate(fits, weights, gdp).level("national")["index"].iloc[0]
    percent = dict(zip(gdp["sector"], 100 * gdp["gdp_share"], strict=True))
    as_percent = csisem.aggregate(fits, weights, percent).level("national")["index"].iloc[0]
    assert as_percent == pytest.approx(base, rel=RTOL)
    series = gdp.set_index("sector")["gdp_share"]
    as_series = csisem.aggregate(fits, weights, series).level("national")["index"].iloc[0]
    assert as_series == pytest.approx(base, rel=RTOL)
    sectors = csisem.aggregate(fits, weights, {"S1": 3.0, "S2": 1.0}).level("sector")
    national = csisem.aggregate(fits, weights, {"S1": 3.0, "S2": 1.0}).level("national")
    s = sectors.set_index("name")["index"]
    assert national["index"].iloc[0] == pytest.approx(0.75 * s["S1"] + 0.25 * s["S2"],
                                                      rel=RTOL)
    assert sectors["weight"].tolist() == [0.75, 0.25]
    assert not (csisem.aggregate(fits, weights).table["level"] == "national").any()


def test_bootstrap_uncertainty_is_the_weighted_sum_of_company_draws(study):
    fits, weights, gdp = study
    result = csisem.aggregate(fits, weights, gdp)
    draws = fits.draws("CUSA")
    B = min(len(d) for d in draws.values())
    assert result.n_draws == B
    w = weights.set_index("company")
    industry = result.level("industry").set_index("name")
    members = w[w["industry"] == "I2"]
    d = sum(draws[c][:B] * r / members["revenue"].sum()
            for c, r in members["revenue"].items())
    assert industry.loc["I2", "std_error"] == pytest.approx(d.std(ddof=1), rel=1e-10)
    assert industry.loc["I2", "ci_lower"] == pytest.approx(np.quantile(d, 0.025), rel=1e-10)
    # Averaging independent companies shrinks the standard error.
    company_se = result.level("company")["std_error"]
    assert (industry["std_error"] < company_se.max()).all()
    assert result.level("national")["std_error"].iloc[0] < industry["std_error"].min()
    aggregated = result.table[result.table["level"] != "company"]
    assert (aggregated["ci_lower"] < aggregated["index"]).all()
    assert (aggregated["index"] < aggregated["ci_upper"]).all()


def test_json_of_the_fits_gives_the_same_aggregation(study):
    fits, weights, gdp = study
    payload = json.loads(fits.to_json())
    pd.testing.assert_frame_equal(csisem.aggregate(payload, weights, gdp).table,
                                  csisem.aggregate(fits, weights, gdp).table)


def test_unequal_numbers_of_valid_resamples_use_the_common_minimum(study):
    fits, weights, gdp = study
    payload = copy.deepcopy(fits.to_dict())
    payload["groups"][0]["draws"]["CUSA"] = payload["groups"][0]["draws"]["CUSA"][:150]
    result = csisem.aggregate(payload, weights, gdp)
    assert result.n_draws == 150


def test_a_plain_table_propagates_independent_normal_errors(study):
    fits, weights, gdp = study
    table = fits.table[fits.table["construct"] == "CUSA"][["company", "index", "std_error"]]
    result = csisem.aggregate(table, weights, gdp)
    assert result.uncertainty == "normal"
    assert result.n_draws is None
    frame = table.merge(weights, on="company")
    frame["share"] = frame["revenue"] / frame.groupby("industry")["revenue"].transform("sum")
    se = np.sqrt((frame["share"] ** 2 * frame["std_error"] ** 2).groupby(frame["industry"])
                 .sum())
    got = result.level("industry").set_index("name")
    np.testing.assert_allclose(got.loc[se.index, "std_error"], se, rtol=RTOL)
    np.testing.assert_allclose(got["ci_upper"] - got["index"], 1.959963984540054
                               * got["std_error"], rtol=1e-9)
    no_se = csisem.aggregate(table.drop(columns="std_error"), weights, gdp)
    assert no_se.uncertainty == "none"
    assert no_se.table["std_error"].isna().all()


def test_failed_company_is_refused_or_excluded_with_a_warning(study):
    fits, weights, gdp = study
    table = fits.table[fits.table["construct"] == "CUSA"].copy()
    table.loc[table["company"] == "C05", ["status", "index"]] = ["too_small", np.nan]
    with pytest.raises(DataError, match=r"The fit of company 'C05' \(too_small\) did not "
                                        r"succeed.*failed='exclude'"):
        csisem.aggregate(table, weights, gdp)
    with pytest.warns(DataWarning, match=r"Left out of the aggregates \(fit not ok\): 'C05' "
                                         r"\(too_small\)"):
        result = csisem.aggregate(table, weights, gdp, failed="exclude")
    assert result.excluded == ("C05",)
    assert "C05" not in set(result.table["name"])
    kept = table[table["company"] != "C05"][["company", "index"]]
    expected = independent_levels(kept, weights[weights["company"] != "C05"], gdp)
    np.testing.assert_allclose(result.level("national")["index"], expected["national"],
                               rtol=RTOL)


def bad_weights(weights: pd.DataFrame, kind: str) -> pd.DataFrame:
    w = weights.copy()
    if kind == "zero":
        w.loc[w["company"] == "C03", "revenue"] = 0.0
    elif kind == "negative":
        w.loc[w["company"] == "C04", "revenue"] = -5.0
    elif kind == "duplicate":
        w = pd.concat([w, w[w["company"] == "C02"]])
    elif kind == "unfitted":
        w = pd.concat([w, pd.DataFrame({"company": ["C99"], "industry": ["I1"],
                                        "sector": ["S1"], "revenue": [10.0]})])
    elif kind == "unweighted":
        w = w[w["company"] != "C07"]
    elif kind == "two_sectors":
        w.loc[w["company"] == "C01", "sector"] = "S2"
    elif kind == "columns":
        w = w.rename(columns={"revenue": "sales"})
    return w


@pytest.mark.parametrize(("kind", "message"), [
    ("zero", r"Revenue must be a positive number; company 'C03' \(0.0\) has a zero"),
    ("negative", r"company 'C04' \(-5.0\) has a zero, negative"),
    ("duplicate", r"Company 'C02' has more than one row in the weights table"),
    ("unfitted", r"Company 'C99' is in the weights table but has no index"),
    ("unweighted", r"Company 'C07' is in the indices but not in the weights table"),
    ("two_sectors", r"Industry 'I1' is in more than one sector \(S1, S2\)"),
    ("columns", r"The weights table lacks column\(s\) revenue; it needs company, industry, "
                r"sector, revenue \(found: company, industry, sector, sales\)"),
])
def test_bad_weights_tables_name_the_company_or_industry(study, kind, message):
    fits, weights, gdp = study
    with pytest.raises(DataError, match=message):
        csisem.aggregate(fits, bad_weights(weights, kind), gdp)


@pytest.mark.parametrize(("shares", "message"), [
    ({"S1": 0.6}, r"Sector 'S2' has no GDP share"),
    ({"S1": 0.6, "S2": -0.1}, r"GDP shares must be positive numbers; sector 'S2' \(-0.1\) is "
                              r"not"),
    ({"S1": 0.6, "S2": float("nan")}, r"sector 'S2' \(nan\) is not"),
    (pd.DataFrame({"sector": ["S1"], "share": [1.0]}), r"needs columns sector and gdp_share"),
    (pd.DataFrame({"sector": ["S1", "S1", "S2"], "gdp_share": [0.2, 0.3, 0.5]}),
     r"Sector 'S1' has more than one GDP share"),
])
def test_bad_gdp_shares_are_refused(study, shares, message):
    fits, weights, _ = study
    with pytest.raises(DataError, match=message):
        csisem.aggregate(fits, weights, shares)


def test_gdp_share_of_a_sector_without_companies_is_dropped_with_a_warning(study):
    fits, weights, gdp = study
    shares = {**dict(zip(gdp["sector"], gdp["gdp_share"], strict=True)), "S9": 0.5}
    with pytest.warns(DataWarning, match=r"GDP shares of sector\(s\) 'S9', which have no "
                                         r"companies, are left out"):
        result = csisem.aggregate(fits, weights, shares)
    expected = csisem.aggregate(fits, weights, gdp).level("national")["index"]
    np.testing.assert_allclose(result.level("national")["index"], expected, rtol=RTOL)


def test_bad_options_and_constructs(study):
    fits, weights, _gdp = study
    with pytest.raises(OptionError, match=r"failed='drop' is not supported.*"
                                          r"'error', 'exclude'"):
        csisem.aggregate(fits, weights, failed="drop")
    with pytest.raises(OptionError, match=r"construct='CUSAA' is not in the model\. Did you "
                                          r"mean 'CUSA'\?"):
        csisem.aggregate(fits, weights, construct="CUSAA")
    loyalty = csisem.aggregate(fits, weights, construct="LOY")
    assert loyalty.construct == "LOY"
    table = fits.table[fits.table["construct"] != "CUSA"]
    with pytest.raises(OptionError, match=r"Which construct should be aggregated\? The "
                                          r"indices table has QUAL, LOY"):
        csisem.aggregate(table, weights)
    with pytest.raises(OptionError, match=r"ci_level=2 must be between 0 and 1"):
        csisem.aggregate(fits, weights, ci_level=2)
    with pytest.raises(DataError, match=r"needs a 'company' column"):
        csisem.aggregate(table.rename(columns={"company": "firm"}), weights)


def test_fits_grouped_by_two_columns_are_refused(study):
    fits, weights, _ = study
    payload = fits.to_dict(draws=False)
    payload["by"] = ["company", "quarter"]
    with pytest.raises(OptionError, match=r"grouped by company, quarter; aggregation needs "
                                          r"one fit per company"):
        csisem.aggregate(payload, weights)


def test_summary_and_views(study):
    fits, weights, gdp = study
    result = csisem.aggregate(fits, weights, gdp)
    text = str(result)
    assert text.index("National index") < text.index("Sector index") < text.index(
        "Company index")
    assert "bootstrap draws propagated (200 per company)" in text
    payload = json.loads(result.to_json())
    assert payload["table"][0]["n_parts"] is None
    assert payload["construct"] == "CUSA"
    assert result.to_csv().splitlines()[0] == (
        "level,name,parent,index,std_error,ci_lower,ci_upper,weight,revenue,n_parts")
    with pytest.raises(OptionError, match=r"level='country' is not a level"):
        result.level("country")
