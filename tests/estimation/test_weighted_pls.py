"""Survey (case) weights: weighted PLS, weighted bootstrap, validation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import csisem
from csisem.errors import DataError

TABLES = ("paths", "weights", "loadings")


def _assert_same_fit(a: csisem.PLSResult, b: csisem.PLSResult, atol: float) -> None:
    for name in TABLES:
        np.testing.assert_allclose(getattr(a, name)["estimate"], getattr(b, name)["estimate"],
                                   atol=atol, err_msg=name)
    np.testing.assert_allclose(a.r_squared, b.r_squared, atol=atol)


def test_equal_weights_reproduce_the_unweighted_fit(mobi: pd.DataFrame) -> None:
    plain = csisem.fit("ecsi", mobi)
    weighted = csisem.fit("ecsi", mobi.assign(w=2.5), weights="w")
    _assert_same_fit(plain, weighted, atol=1e-12)
    np.testing.assert_allclose(plain.scores, weighted.scores, atol=1e-10)
    assert weighted.data_info.weighted


def test_integer_weights_equal_replicated_rows(mobi: pd.DataFrame) -> None:
    w = np.random.default_rng(0).integers(1, 4, len(mobi))
    weighted = csisem.fit("ecsi", mobi, weights=w)
    replicated = csisem.fit("ecsi", mobi.loc[mobi.index.repeat(w)].reset_index(drop=True))
    _assert_same_fit(weighted, replicated, atol=1e-12)
    np.testing.assert_allclose(weighted.indicator_means, replicated.indicator_means, atol=1e-12)
    # Weights are rescaled to mean 1, so standard deviations differ from the replicated data
    # only by the N - 1 correction: sqrt((N_rep - 1) / N_rep * N / (N - 1)).
    n, n_rep = len(w), int(w.sum())
    factor = np.sqrt((n_rep - 1) / n_rep * n / (n - 1))
    np.testing.assert_allclose(weighted.indicator_std / factor, replicated.indicator_std,
                               rtol=1e-12)


def test_unequal_weights_change_the_estimates(mobi: pd.DataFrame) -> None:
    w = np.where(mobi["CUSA1"] > 7, 3.0, 1.0)
    plain = csisem.fit("ecsi", mobi)
    weighted = csisem.fit("ecsi", mobi, weights=w)
    assert np.abs(plain.paths["estimate"] - weighted.paths["estimate"]).max() > 1e-3


def test_weighted_bootstrap_uses_the_weights(mobi: pd.DataFrame) -> None:
    w = np.where(mobi["CUSA1"] > 7, 3.0, 1.0)
    weighted = csisem.fit("ecsi", mobi, weights=w, bootstrap=300, seed=1)
    plain = csisem.fit("ecsi", mobi, bootstrap=300, seed=1)
    table = weighted.bootstrap.tables["paths"]
    np.testing.assert_allclose(table["estimate"], weighted.paths["estimate"], atol=1e-12)
    assert not np.allclose(weighted.paths["std_error"], plain.paths["std_error"])
    # Equal weights: the bootstrap is the unweighted one, resample for resample.
    equal = csisem.fit("ecsi", mobi.assign(w=1.0), weights="w", bootstrap=300, seed=1)
    np.testing.assert_allclose(equal.paths["std_error"], plain.paths["std_error"], atol=1e-10)


@pytest.mark.parametrize(("weights", "message"), [
    ("wgt", r"weights='wgt' is not a column of the data"),
    ("IMAG1", r"weights='IMAG1' is an indicator of model 'ECSI'"),
    ([1.0, 2.0], r"weights= has 2 values but the data have 250 rows"),
])
def test_bad_weight_arguments(mobi: pd.DataFrame, weights: object, message: str) -> None:
    with pytest.raises(DataError, match=message):
        csisem.fit("ecsi", mobi, weights=weights)


@pytest.mark.parametrize(("value", "message"), [
    (-1.0, r"Weight column 'w' is negative at row 6 \(index 5\)"),
    (np.nan, r"Weight column 'w' is missing at row 6 \(index 5\)"),
    (np.inf, r"Weight column 'w' is infinite at row 6"),
])
def test_bad_weight_values_are_located(mobi: pd.DataFrame, value: float, message: str) -> None:
    data = mobi.assign(w=1.0)
    data.loc[5, "w"] = value
    with pytest.raises(DataError, match=message):
        csisem.fit("ecsi", data, weights="w")


def test_all_zero_weights(mobi: pd.DataFrame) -> None:
    with pytest.raises(DataError, match=r"weights= are all zero"):
        csisem.fit("ecsi", mobi, weights=np.zeros(len(mobi)))
