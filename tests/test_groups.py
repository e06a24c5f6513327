"""csisem.fit_groups: one PLS fit per group, every group reported, n_jobs-independent output;
and csisem.datasets.simulate_companies.

A three-construct model keeps the bootstrap runs short. Equality checks between two runs
of the same computation are exact (same seeds, same arithmetic).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import csisem
from csisem.datasets import simulate_companies
from csisem.errors import ConvergenceWarning, DataError, DataWarning, OptionError
from csisem.groups import GroupStatus, group_seed, satisfaction_construct


@pytest.fixture(scope="module")
def survey(mini: csisem.Model) -> pd.DataFrame:
    data, _, _ = simulate_companies(mini, n_companies=6, n_industries=3, n_sectors=2,
                                    n_per_company=80, seed=11)
    return data


def test_one_row_per_group_and_construct_with_index_n_r2_and_status(mini, survey):
    fits = csisem.fit_groups(mini, survey, "company")
    assert list(fits.table.columns) == ["company", "construct", "index", "std_error",
                                        "ci_lower", "ci_upper", "wide_ci", "n", "r_squared",
                                        "converged", "status"]
    assert len(fits.table) == 6 * 3
    assert (fits.table["status"] == "ok").all()
    assert (fits.table["n"] == 80).all()
    one = csisem.fit(mini, survey[survey["company"] == "C3"])
    rows = fits.table[fits.table["company"] == "C3"].set_index("construct")
    np.testing.assert_allclose(rows["index"], one.index.set_index("construct")["estimate"],
                               rtol=1e-12)
    assert rows.loc["CUSA", "r_squared"] == pytest.approx(one.r_squared["CUSA"], rel=1e-12)
    assert np.isnan(rows.loc["QUAL", "r_squared"])  # exogenous
    assert fits.table["std_error"].isna().all()  # no bootstrap asked
    assert fits.results["C3"] is not None
    assert fits.failures.empty


def test_too_small_group_is_reported_with_status_not_dropped(mini, survey):
    small = survey[(survey["company"] != "C2") | (survey.index % 80 < 12)]
    fits = csisem.fit_groups(mini, small, "company", min_n=30)
    rows = fits.table[fits.table["company"] == "C2"]
    assert len(rows) == 3
    assert (rows["status"] == GroupStatus.TOO_SMALL.value).all()
    assert rows["index"].isna().all()
    assert (rows["n"] == 12).all()
    assert rows["converged"].isna().all()
    assert fits.results["C2"] is None
    assert fits.failures["company"].tolist() == ["C2"]
    assert fits.failures["message"].iloc[0] == "12 rows, fewer than min_n=30."
    assert "too small" in str(fits)
    assert "C2" in str(fits)


def test_failed_fit_is_reported_with_the_error_message(mini, survey):
    broken = survey.copy()
    broken.loc[broken["company"] == "C4", "LOY2"] = 7.0  # constant within C4 only
    fits = csisem.fit_groups(mini, broken, "company")
    failed = fits.failures.set_index("company")
    assert failed.loc["C4", "status"] == GroupStatus.FAILED.value
    assert "'LOY2' (always 7)" in failed.loc["C4", "message"]
    assert (fits.groups["status"] == "ok").sum() == 5


def test_output_is_identical_for_any_n_jobs_and_independent_of_other_groups(mini, survey):
    four = survey[survey["company"].isin(["C1", "C2", "C3", "C4"])]
    serial = csisem.fit_groups(mini, four, "company", bootstrap=100, seed=7, n_jobs=1)
    parallel = csisem.fit_groups(mini, four, "company", bootstrap=100, seed=7, n_jobs=2)
    pd.testing.assert_frame_equal(serial.table, parallel.table)
    for key, draws in serial.draws("CUSA").items():
        np.testing.assert_array_equal(draws, parallel.draws("CUSA")[key])
    assert serial.table["std_error"].notna().all()
    # A group's seed comes from its key, so dropping other groups changes nothing.
    alone = csisem.fit_groups(mini, four[four["company"] == "C3"], "company", bootstrap=100,
                              seed=7)
    pd.testing.assert_frame_equal(
        alone.table, serial.table[serial.table["company"] == "C3"].reset_index(drop=True))
    # ... and csisem.fit with the reported seed repeats the group's fit.
    seed = int(serial.groups.set_index("company").loc["C3", "seed"])
    assert seed == group_seed(7, ("C3",))
    single = csisem.fit(mini, four[four["company"] == "C3"], bootstrap=100, seed=seed)
    np.testing.assert_array_equal(single.bootstrap.draws["index"][:, 1],
                                  serial.draws("CUSA")["C3"])


def test_by_list_fits_each_company_quarter_cell(mini, survey):
    data = survey[survey["company"].isin(["C1", "C2"])].copy()
    data["quarter"] = np.where(data.index % 80 < 40, "2024Q1", "2024Q2")
    fits = csisem.fit_groups(mini, data, ["company", "quarter"])
    assert list(fits.groups[["company", "quarter"]].itertuples(index=False, name=None)) == [
        ("C1", "2024Q1"), ("C1", "2024Q2"), ("C2", "2024Q1"), ("C2", "2024Q2")]
    assert list(fits.table.columns[:3]) == ["company", "quarter", "construct"]
    assert (fits.groups["n"] == 40).all()
    assert set(fits.results) == {("C1", "2024Q1"), ("C1", "2024Q2"), ("C2", "2024Q1"),
                                 ("C2", "2024Q2")}


def test_missing_by_column_names_close_columns(mini, survey):
    with pytest.raises(DataError, match=r"by='compnay' is not a column of the data\. Did you "
                                        r"mean 'company'\?"):
        csisem.fit_groups(mini, survey, "compnay")
    with pytest.raises(DataError, match=r"by='quarter' is not a column"):
        csisem.fit_groups(mini, survey, ["company", "quarter"])


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"by": "CUSA1"}, r"by='CUSA1' is an indicator of model 'mini'"),
    ({"by": []}, r"by=\[\] must be a column name or a list of column names"),
    ({"by": ["company", "company"]}, r"names a column twice"),
    ({"by": "company", "min_n": 0}, r"min_n=0 must be a positive integer"),
    ({"by": "company", "n_jobs": 0}, r"n_jobs=0 must be a positive number of workers"),
    ({"by": "company", "seed": -1}, r"seed=-1 must be a non-negative integer"),
    ({"by": "company", "method": "ml"}, r"method='ml': fit_groups computes 0-100 indices"),
    ({"by": "company", "bootsrap": 10}, r"unknown fit option\(s\) bootsrap; options of "
                                        r"csisem.fit: .*bootstrap"),
    ({"by": "company", "progress": True}, r"Pass progress to fit_groups itself"),
    ({"by": "company", "scheme": "nope"}, r"scheme='nope' is not supported"),
])
def test_bad_arguments_raise_before_any_fit(mini, survey, kwargs, message):
    with pytest.raises(OptionError, match=message):
        csisem.fit_groups(mini, survey, **kwargs)


def test_group_warnings_are_reissued_with_the_group_and_kept_in_its_message(mini, survey):
    data = survey.copy()
    data.loc[data.index[data["company"] == "C5"][:3], "CUSA2"] = np.nan
    data.loc[data.index[:2], "company"] = None
    with pytest.warns(DataWarning) as caught:
        fits = csisem.fit_groups(mini, data, "company")
    texts = [str(w.message) for w in caught]
    assert "2 of 480 rows have no value in company and belong to no group." in texts
    assert any(t.startswith("In 1 group(s) (company='C5'): 3 of 80 rows have missing")
               for t in texts)
    assert fits.n_unassigned == 2
    groups = fits.groups.set_index("company")
    assert groups.loc["C5", "message"].startswith("3 of 80 rows have missing")
    assert groups.loc["C5", "n"] == 77
    assert groups.loc["C5", "n_rows"] == 80
    assert groups.loc["C1", "n_rows"] == 78  # its first two rows have no company


def test_json_view_has_every_group_and_the_draws(mini, survey):
    two = survey[survey["company"].isin(["C1", "C2"])]
    fits = csisem.fit_groups(mini, two, "company", bootstrap=50, seed=1, min_n=81)
    payload = json.loads(fits.to_json())
    assert payload["by"] == ["company"]
    assert payload["satisfaction"] == "CUSA"
    assert [g["status"] for g in payload["groups"]] == ["too_small", "too_small"]
    assert payload["groups"][0]["index"]["CUSA"]["index"] is None
    fits = csisem.fit_groups(mini, two, "company", bootstrap=50, seed=1)
    payload = json.loads(fits.to_json())
    draws = payload["groups"][1]["draws"]["CUSA"]
    np.testing.assert_array_equal(draws, fits.draws("CUSA")["C2"])
    assert "wide_ci" in fits.to_csv().splitlines()[0]
    with pytest.raises(OptionError, match=r"construct='CUSAA' is not a construct of model "
                                          r"'mini'\. Did you mean 'CUSA'\?"):
        fits.draws("CUSAA")


def test_satisfaction_construct_of_the_catalogue_models():
    found = {name: satisfaction_construct(csisem.load_model(name))
             for name in ("acsi", "ecsi", "epsi", "scsb", "ncsb", "csi6", "ccsi")}
    assert found == {"acsi": "ACSI", "ecsi": "CUSA", "epsi": "CUSA", "scsb": "SAT",
                     "ncsb": "SAT", "csi6": "CUSA", "ccsi": "CUSA"}


def test_simulate_companies_tables(mini):
    data, weights, gdp = simulate_companies(mini, n_companies=9, n_industries=4, n_sectors=2,
                                            n_per_company=30, seed=2)
    assert data.shape == (9 * 30, 1 + 8)
    assert data["company"].nunique() == 9
    assert data[list(mini.indicator_names)].isin(range(1, 11)).all().all()
    assert list(weights.columns) == ["company", "industry", "sector", "revenue"]
    assert (weights["revenue"] > 0).all()
    assert weights.groupby("industry")["sector"].nunique().eq(1).all()
    assert weights["industry"].nunique() == 4
    assert weights["sector"].nunique() == 2
    assert list(gdp.columns) == ["sector", "gdp_share"]
    assert gdp["gdp_share"].sum() == pytest.approx(1.0)
    again = simulate_companies(mini, n_companies=9, n_industries=4, n_sectors=2,
                               n_per_company=30, seed=2)
    pd.testing.assert_frame_equal(data, again[0])
    # Company levels differ: the company means of an item are spread out.
    assert data.groupby("company")["CUSA1"].mean().std() > 0.1


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"n_sectors": 0}, r"n_sectors=0 must be an integer of at least 1"),
    ({"n_industries": 2, "n_sectors": 3}, r"n_industries=2 must be an integer of at least 3"),
    ({"n_companies": 3, "n_industries": 4}, r"n_companies=3 must be an integer of at least 4"),
    ({"company_sd": -1.0}, r"company_sd=-1.0 must be a non-negative number"),
])
def test_simulate_companies_rejects_bad_counts(mini, kwargs, message):
    with pytest.raises(OptionError, match=message):
        simulate_companies(mini, **kwargs)


def test_non_converged_group_is_flagged_and_warned(mini, survey):
    one = survey[survey["company"] == "C1"]
    with pytest.warns(ConvergenceWarning, match=r"In 1 group\(s\) \(company='C1'\): PLS did "
                                                r"not converge in 1 iteration "):
        fits = csisem.fit_groups(mini, one, "company", max_iter=1)
    assert fits.groups["status"].tolist() == [GroupStatus.NOT_CONVERGED.value]
    assert not fits.groups["converged"].iloc[0]
    assert fits.table["index"].notna().all()  # shown, but flagged
    assert fits.failures["company"].tolist() == ["C1"]
