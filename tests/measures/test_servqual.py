"""SERVQUAL gaps on the catalogue template, by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import csisem
from csisem.errors import DataError, OptionError, OutOfScaleWarning
from csisem.measures import servqual
from csisem.measures.servqual import paired_items


def survey() -> pd.DataFrame:
    """Two respondents answering 5 everywhere except three cells.

    Respondent 1: P1 = 7 (tangibles gap +2) and P5 = 3 (reliability gap -2).
    Respondent 2: E18 = 7 (empathy gap 5 - 7 = -2).
    """
    data = pd.DataFrame({f"{kind}{k}": [5, 5] for kind in "EP" for k in range(1, 23)})
    data.loc[0, "P1"] = 7
    data.loc[0, "P5"] = 3
    data.loc[1, "E18"] = 7
    return data


def test_template_pairs() -> None:
    pairs = paired_items(csisem.load_model("servqual"))
    assert len(pairs) == 22
    assert pairs.groupby("dimension", sort=False).size().to_dict() == {
        "TAN": 4, "REL": 5, "RES": 4, "ASS": 4, "EMP": 5}
    assert list(pairs.loc[pairs["item"] == "18", ["expectation", "perception"]].iloc[0]) == [
        "E18", "P18"]


def test_gaps_by_hand() -> None:
    # Item gaps (mean over the two respondents): item 1 (+2 + 0) / 2 = 1,
    # item 5 (-2 + 0) / 2 = -1, item 18 (0 - 2) / 2 = -1, every other item 0.
    # Dimension gaps per respondent (mean of the item gaps):
    #   TAN: r1 2/4 = .5, r2 0 -> .25;  REL: r1 -2/5 = -.4, r2 0 -> -.2
    #   EMP: r1 0, r2 -2/5 = -.4 -> -.2;  RES, ASS: 0
    # Unweighted SERVQUAL score = mean of the five dimension gaps:
    #   r1 (.5 - .4) / 5 = .02, r2 -.4 / 5 = -.08 -> overall -.03
    #   (= (.25 - .2 + 0 + 0 - .2) / 5)
    result = servqual(survey())
    items = result.items.set_index("item")["gap"]
    assert (items["1"], items["5"], items["18"]) == (1.0, -1.0, -1.0)
    assert items.drop(["1", "5", "18"]).eq(0).all()
    dims = result.dimensions.set_index("dimension")
    np.testing.assert_allclose(dims["gap"], [0.25, -0.2, 0.0, 0.0, -0.2], atol=1e-12)
    np.testing.assert_allclose(result.respondents["unweighted"], [0.02, -0.08], atol=1e-12)
    assert result.gap == pytest.approx(-0.03, abs=1e-12)
    assert result.weighted_gap is None
    assert dims.loc["EMP", "mean_expectation"] == pytest.approx((5 + 5.4) / 2)  # E18 = 7


def test_importance_weighted_gaps_by_hand() -> None:
    # Fixed weights TAN 10, REL 30, RES 20, ASS 20, EMP 20 points -> .1 .3 .2 .2 .2:
    #   .1 * .25 + .3 * (-.2) + .2 * 0 + .2 * 0 + .2 * (-.2) = .025 - .06 - .04 = -.075
    fixed = servqual(survey(), importance={"TAN": 10, "Reliability": 30, "res": 20,
                                           "ASS": 20, "EMP": 20})
    assert fixed.weighted_gap == pytest.approx(-0.075, abs=1e-12)
    np.testing.assert_allclose(fixed.dimensions["importance"], [0.1, 0.3, 0.2, 0.2, 0.2])
    # Points per respondent: r1 gives all 100 to reliability -> -.4; r2 50 tangibles and
    # 50 empathy -> .5 * 0 + .5 * (-.4) = -.2; mean -.3.
    data = survey().assign(w_tan=[0, 50], w_rel=[100, 0], w_res=0, w_ass=0, w_emp=[0, 50])
    points = servqual(data, importance={d: f"w_{d.lower()}" for d in
                                        ("TAN", "REL", "RES", "ASS", "EMP")})
    np.testing.assert_allclose(points.respondents["weighted"], [-0.4, -0.2], atol=1e-12)
    assert points.weighted_gap == pytest.approx(-0.3, abs=1e-12)
    assert "Weighted gap  -0.300 (importance-weighted)" in str(points)


def test_renamed_columns_and_json() -> None:
    data = survey().rename(columns={"P1": "perc_01"})
    result = servqual(data, columns={"perc_01": "P1"})
    payload = result.to_dict()
    assert payload["kind"] == "csisem.servqual"
    assert payload["gap"] == pytest.approx(-0.03)
    assert [d["dimension"] for d in payload["dimensions"]] == ["TAN", "REL", "RES", "ASS",
                                                               "EMP"]


def test_servqual_errors() -> None:
    with pytest.raises(DataError, match=r"The item pairs of spec 'SERVQUAL': column\(s\) "
                                        r"'E3', 'P9' not in the data; available: E1, E2, E4,"):
        servqual(survey().drop(columns=["E3", "P9"]))
    with pytest.raises(DataError, match=r"Column 'P2' is not numeric: row 1 holds 'good'"):
        servqual(survey().astype(object).assign(P2=[5, "good"]))
    with pytest.warns(OutOfScaleWarning, match=r"outside the item scale 1 to 7 in: P3 \(1\)"):
        servqual(survey().assign(P3=[5, 99]))
    with pytest.raises(OptionError, match=r"importance= must weigh every dimension "
                                          r"\(missing: ASS, EMP\)"):
        servqual(survey(), importance={"TAN": 1, "REL": 1, "RES": 1})
    with pytest.raises(OptionError, match=r"importance=: 'Price' is not a dimension"):
        servqual(survey(), importance={"Price": 1})
    with pytest.raises(OptionError, match=r"Model 'ECSI' has no paired expectation/perception "
                                          r"items"):
        servqual(csisem.datasets.load_mobi(), "ecsi")
