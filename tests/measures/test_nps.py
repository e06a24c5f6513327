"""Net Promoter Score: groups, score and interval by hand; out-of-range answers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from csisem.errors import DataError, OptionError
from csisem.measures import nps

Z95 = 1.959963984540054


def test_nps_by_hand() -> None:
    # Answers 10 9 9 8 7 6 5 0 10 3 (n = 10):
    #   promoters 10 9 9 10 -> 4; passives 8 7 -> 2; detractors 6 5 0 3 -> 4
    #   NPS = 100 (.4 - .4) = 0
    #   Var = (p_P + p_D - (p_P - p_D)^2) / n = (.4 + .4 - 0) / 10 = .08
    #   SE = 100 sqrt(.08) = 28.2843; CI = 0 -+ 1.95996 * 28.2843 = -+55.437
    result = nps(pd.DataFrame({"rec": [10, 9, 9, 8, 7, 6, 5, 0, 10, 3]}), "rec")
    row = result.table.iloc[0]
    assert [row["promoters"], row["passives"], row["detractors"]] == [4, 2, 4]
    assert [row["pct_promoters"], row["pct_passives"], row["pct_detractors"]] == \
        pytest.approx([40.0, 20.0, 40.0])
    assert result.score == pytest.approx(0.0, abs=1e-12)
    assert row["std_error"] == pytest.approx(100 * math.sqrt(0.08), rel=1e-12)
    assert result.ci == pytest.approx((-55.437, 55.437), abs=1e-3)
    assert result.ci == pytest.approx((-Z95 * 100 * math.sqrt(0.08),
                                       Z95 * 100 * math.sqrt(0.08)), rel=1e-12)


def test_interval_is_cut_at_100_and_missing_answers_are_counted() -> None:
    # 10 10 10 9 8 6 (and one missing): P 4, passive 1, D 1 of n = 6
    #   NPS = 100 (4/6 - 1/6) = 50; Var = (5/6 - (1/2)^2) / 6 = .097222; SE = 31.180
    #   CI = 50 -+ 61.112 -> (-11.112, 111.112), the upper end cut at 100
    data = pd.DataFrame({"rec": [10, 10, 10, 9, 8, 6, np.nan]})
    result = nps(data, "rec")
    se = 100 * math.sqrt((5 / 6 - 0.25) / 6)
    assert result.score == pytest.approx(50.0, rel=1e-12)
    assert result.table.iloc[0]["std_error"] == pytest.approx(se, rel=1e-12)
    assert result.ci == pytest.approx((50 - Z95 * se, 100.0), rel=1e-12)
    assert result.table.iloc[0]["n_missing"] == 1


def test_groups_and_level() -> None:
    data = pd.DataFrame({"rec": [10, 0, 9, 9], "company": ["b", "b", "a", "a"]})
    result = nps(data, "rec", by="company", ci_level=0.9)
    table = result.table.set_index("group")
    assert list(table.index) == ["all", "a", "b"]
    assert table.loc["a", "nps"] == 100.0
    assert table.loc["b", "nps"] == 0.0
    assert table.loc["all", "nps"] == pytest.approx(50.0)
    assert "NPS          50.0 (90% CI" in str(result)
    assert result.to_dict()["kind"] == "csisem.nps"


@pytest.mark.parametrize(("value", "what"), [(11, "is outside 0-10"),
                                             (-1, "is outside 0-10"),
                                             (7.5, "is not a whole number")])
def test_answers_outside_0_to_10_name_the_column(value: float, what: str) -> None:
    data = pd.DataFrame({"recommend": [10, value, 3]})
    with pytest.raises(DataError, match=rf"NPS column 'recommend': row 1 holds {value:g}, "
                                        rf"which {what} \(1 such value\(s\)\)"):
        nps(data, "recommend")


def test_nps_errors() -> None:
    with pytest.raises(DataError, match=r"NPS: column\(s\) 'recomend' not in the data \(did "
                                        r"you mean 'recommend' for 'recomend'\?\); available: "
                                        r"recommend\."):
        nps(pd.DataFrame({"recommend": [10]}), "recomend")
    with pytest.raises(DataError, match=r"Column 'recommend' is not numeric: row 0 holds "
                                        r"'ten'"):
        nps(pd.DataFrame({"recommend": ["ten", 9]}), "recommend")
    with pytest.raises(OptionError, match=r"ci_level=95 must be between 0 and 1"):
        nps(pd.DataFrame({"recommend": [10]}), "recommend", ci_level=95)
