"""Missing-value codes (e.g. 99 = don't know) and their reporting."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import csisem
from csisem.errors import DataWarning, OptionError


@pytest.fixture
def coded(mobi: pd.DataFrame) -> pd.DataFrame:
    data = mobi.copy()
    data.loc[[0, 1, 2], "CUSL2"] = 99
    data.loc[[2, 3], "PERQ4"] = 98
    return data


def test_codes_become_missing_and_are_counted(coded: pd.DataFrame,
                                              mobi: pd.DataFrame) -> None:
    with pytest.warns(DataWarning, match=r"4 of 250 rows have missing indicator values"):
        result = csisem.fit("ecsi", coded, missing_codes=[98, 99])
    info = result.data_info
    assert (info.n_coded_missing, info.n_missing_cells, info.n_dropped) == (5, 5, 4)
    assert result.n_obs == 246
    expected = csisem.fit("ecsi", mobi.drop(index=[0, 1, 2, 3]))
    np.testing.assert_allclose(result.paths["estimate"], expected.paths["estimate"], atol=1e-12)
    assert result.to_dict()["data"]["n_coded_missing"] == 5


def test_codes_per_column(coded: pd.DataFrame) -> None:
    with pytest.warns(DataWarning, match=r"3 of 250 rows"):
        result = csisem.fit("ecsi", coded.replace({"PERQ4": {98: 5}}),
                            missing_codes={"CUSL2": [99]})
    assert result.data_info.n_coded_missing == 3


def test_mean_replacement_of_coded_cells(coded: pd.DataFrame) -> None:
    with pytest.warns(DataWarning, match=r"5 missing cells in 4 of 250 rows"):
        result = csisem.fit("ecsi", coded, missing_codes=[98, 99], missing="mean")
    manual = coded.replace({98: np.nan, 99: np.nan})
    manual = manual.fillna(manual.mean())
    np.testing.assert_allclose(result.paths["estimate"],
                               csisem.fit("ecsi", manual).paths["estimate"], atol=1e-12)
    assert result.data_info.n_imputed_cells == 5


def test_uncoded_out_of_scale_values_warn(coded: pd.DataFrame) -> None:
    with pytest.warns(DataWarning, match=r"outside the spec's item scale \[1, 10\]"):
        csisem.fit("ecsi", coded)


@pytest.mark.parametrize(("codes", "message"), [
    ({"NOPE": [9]}, r"missing_codes= names 'NOPE', which are not indicators"),
    (["x"], r"missing_codes= must be numbers, e.g. \[98, 99\]"),
])
def test_bad_missing_codes(mobi: pd.DataFrame, codes: object, message: str) -> None:
    with pytest.raises(OptionError, match=message):
        csisem.fit("ecsi", mobi, missing_codes=codes)
