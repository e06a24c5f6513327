"""Satisfaction ratio c = perceived / expected and the difference form, by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from csisem.errors import DataError, OptionError
from csisem.measures import satisfaction_ratio


def test_ratio_by_hand() -> None:
    # expected a = 5 4 5 2, perceived b = 5 5 3 2
    #   c = b / a = 1, 1.25, .6, 1 -> satisfied, delighted, dissatisfied, satisfied
    #   d = b - a = 0, 1, -2, 0
    # mean c = 3.85 / 4 = .9625 (within .05 of 1: satisfied); mean b / mean a = 3.75 / 4
    # = .9375; mean d = -.25; shares .25 dissatisfied, .5 satisfied, .25 delighted.
    data = pd.DataFrame({"a": [5, 4, 5, 2], "b": [5, 5, 3, 2]})
    result = satisfaction_ratio(data, ("a", "b"))
    np.testing.assert_allclose(result.respondents["b_ratio"], [1.0, 1.25, 0.6, 1.0])
    np.testing.assert_allclose(result.respondents["b_difference"], [0.0, 1.0, -2.0, 0.0])
    assert list(result.respondents["b_category"]) == ["satisfied", "delighted",
                                                      "dissatisfied", "satisfied"]
    row = result.table.iloc[0]
    assert row["mean_ratio"] == pytest.approx(0.9625, rel=1e-12)
    assert row["ratio_of_means"] == pytest.approx(0.9375, rel=1e-12)
    assert row["mean_difference"] == pytest.approx(-0.25, rel=1e-12)
    assert [row["dissatisfied"], row["satisfied"], row["delighted"]] == [0.25, 0.5, 0.25]
    assert row["category"] == "satisfied"


def test_several_pairs_have_an_overall_row() -> None:
    # Respondent: pair u (4 -> 5), pair v (6 -> 3): overall c = mean(5, 3) / mean(4, 6)
    # = 4 / 5 = .8 (dissatisfied); overall d = ((5 - 4) + (3 - 6)) / 2 = -1.
    data = pd.DataFrame({"u_e": [4], "u_p": [5], "v_e": [6], "v_p": [3]})
    result = satisfaction_ratio(data, {"u": ("u_e", "u_p"), "v": ("v_e", "v_p")},
                                tolerance=0.1)
    overall = result.table.set_index("pair").loc["overall"]
    assert overall["mean_ratio"] == pytest.approx(0.8)
    assert overall["mean_difference"] == pytest.approx(-1.0)
    assert overall["category"] == "dissatisfied"
    assert result.table.set_index("pair").loc["u", "category"] == "delighted"  # 1.25


def test_pairs_from_the_servqual_spec() -> None:
    data = pd.DataFrame({f"{kind}{k}": [4] for kind in "EP" for k in range(1, 23)})
    data["P1"] = 6  # c = 6 / 4 = 1.5
    result = satisfaction_ratio(data, "servqual")
    table = result.table.set_index("pair")
    assert len(table) == 23  # 22 items and overall
    assert table.loc["1", "mean_ratio"] == pytest.approx(1.5)
    assert table.loc["2", "mean_ratio"] == pytest.approx(1.0)
    # overall: mean perceived (6 + 21 * 4) / 22 over mean expected 4
    assert table.loc["overall", "mean_ratio"] == pytest.approx((6 + 84) / 22 / 4)


def test_ratio_errors() -> None:
    with pytest.raises(DataError, match=r"Expected-value column 'a': row 1 holds 0; c = "
                                        r"perceived / expected needs expected values above 0"):
        satisfaction_ratio(pd.DataFrame({"a": [3, 0], "b": [3, 3]}), ("a", "b"))
    with pytest.raises(DataError, match=r"Satisfaction ratio: column\(s\) 'c' not in the data"):
        satisfaction_ratio(pd.DataFrame({"a": [3], "b": [3]}), ("a", "c"))
    with pytest.raises(OptionError, match=r"tolerance=-0\.1 must be a number of at least 0"):
        satisfaction_ratio(pd.DataFrame({"a": [3], "b": [3]}), ("a", "b"), tolerance=-0.1)
    with pytest.raises(OptionError, match=r"pairs\['x'\] must be \(expected column, perceived "
                                          r"column\)"):
        satisfaction_ratio(pd.DataFrame({"a": [3], "b": [3]}), {"x": "a"})
