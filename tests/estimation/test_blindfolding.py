"""Q² by blindfolding.

Reference used: we found no published blindfolding Q² for ECSI on mobi (or another data set we
ship); semPLS's ``qSquared`` omits random rows by default and SmartPLS 4 no longer has
blindfolding. So the vectorised implementation is checked against an independent brute-force
one written here from the procedure (plain loops over cells and rounds, each round a full
``csisem.PLSEstimator().fit`` on a modified DataFrame), plus sanity checks.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import csisem
from csisem.errors import DataError, OptionError
from csisem.estimation.blindfolding import omission_pattern, q_squared
from csisem.estimation.design import PLSDesign
from csisem.models import Model


def _brute_force_q_squared(model: Model, data: pd.DataFrame, D: int) -> pd.DataFrame:
    """Blindfolding written out cell by cell, with the public estimator on DataFrames."""
    N = len(data)
    full_mean = data.mean()
    full_sd = data.std(ddof=0)
    values = {c: data[c].to_numpy() for c in data.columns}
    rows = []
    for target in model.endogenous:
        block = list(model.construct(target).indicator_names)
        sse = sso = 0.0
        for d in range(D):
            omitted = []  # (row, indicator) pairs numbered down the columns of the block
            for j, indicator in enumerate(block):
                for i in range(N):
                    if (j * N + i) % D == d:
                        omitted.append((i, indicator))
            blinded = data.copy()
            for indicator in block:
                rows_out = [i for i, ind in omitted if ind == indicator]
                kept = data[indicator].drop(index=data.index[rows_out])
                blinded.loc[data.index[rows_out], indicator] = kept.mean()
            result = csisem.PLSEstimator().fit(model, blinded)
            paths = result.paths[result.paths.target == target]
            loadings = result.loadings.set_index("indicator")["estimate"]
            eta = sum(row.estimate * result.scores[row.source].to_numpy()
                      for row in paths.itertuples())
            for i, indicator in omitted:
                x_hat = (result.indicator_means[indicator]
                         + result.indicator_std[indicator] * loadings[indicator] * eta[i])
                x = values[indicator][i]
                sse += ((x - x_hat) / full_sd[indicator]) ** 2
                sso += ((x - full_mean[indicator]) / full_sd[indicator]) ** 2
        rows.append((target, sse, sso, 1 - sse / sso))
    return pd.DataFrame(rows, columns=["construct", "sse", "sso", "q_squared"])


def test_q_squared_equals_brute_force_blindfolding_on_mobi(ecsi: Model, mobi: pd.DataFrame) -> None:
    # Same procedure, two implementations: agreement to 1e-10 (floating point only).
    fast = q_squared(ecsi, mobi, omission_distance=7)
    slow = _brute_force_q_squared(ecsi, mobi.astype(float), 7)
    assert list(fast.construct) == list(slow.construct) == list(ecsi.endogenous)
    np.testing.assert_allclose(fast[["sse", "sso", "q_squared"]],
                               slow[["sse", "sso", "q_squared"]], rtol=1e-10, atol=1e-10)


def test_q_squared_is_positive_for_satisfaction_and_sso_counts_data_points(
        ecsi: Model, mobi: pd.DataFrame) -> None:
    table = q_squared(ecsi, mobi).set_index("construct")
    assert table.loc["CUSA", "q_squared"] > 0.3
    assert (table.q_squared > 0).all()
    # SSO over all rounds is N * J_b on the standardised (denominator N) data, as SmartPLS.
    sizes = {c: len(ecsi.construct(c).indicators) for c in table.index}
    np.testing.assert_allclose(table.sso, [250 * sizes[c] for c in table.index], rtol=1e-12)


def test_construct_with_noise_indicators_has_q_squared_near_zero_or_negative(
        ecsi: Model, mobi: pd.DataFrame) -> None:
    noisy = mobi.copy()
    rng = np.random.default_rng(3)
    for indicator in ("CUSL1", "CUSL2", "CUSL3"):
        noisy[indicator] = rng.integers(1, 11, len(noisy))
    table = q_squared(ecsi, noisy).set_index("construct")
    assert table.loc["CUSL", "q_squared"] < 0.02
    assert table.loc["CUSA", "q_squared"] > 0.3  # the other constructs are unaffected


def test_design_and_array_give_the_same_result_as_model_and_frame(
        ecsi: Model, mobi: pd.DataFrame) -> None:
    design = PLSDesign.from_model(ecsi)
    X = mobi[list(design.indicators)].to_numpy(float)
    estimator = csisem.PLSEstimator(scheme="factorial")
    pd.testing.assert_frame_equal(q_squared(design, X, estimator, omission_distance=9),
                                  q_squared(ecsi, mobi, estimator, omission_distance=9))


def test_omission_pattern_omits_each_point_once_and_never_a_whole_case() -> None:
    pattern = omission_pattern(250, 3, 7)
    assert pattern.shape == (250, 3)
    assert pattern[0].tolist() == [0, 250 % 7, 500 % 7]  # down the columns
    counts = np.bincount(pattern.ravel())
    assert counts.sum() == 750
    assert counts.max() - counts.min() <= 1
    for d in range(7):
        assert not (pattern == d).all(axis=1).any()


@pytest.mark.parametrize(("distance", "message"), [
    (5, r"omission_distance=5 divides the number of observations \(250\) evenly.*e\.g\. 6"),
    (1, r"omission_distance=1 must be an integer from 2 to N - 1 = 249"),
    (250, r"omission_distance=250 must be an integer"),
    (7.0, r"omission_distance=7\.0 must be an integer"),
    (True, r"omission_distance=True must be an integer"),
])
def test_invalid_omission_distance_raises_option_error(
        ecsi: Model, mobi: pd.DataFrame, distance: object, message: str) -> None:
    with pytest.raises(OptionError, match=message):
        q_squared(ecsi, mobi, omission_distance=distance)  # type: ignore[arg-type]


def test_bad_data_raise_data_error(ecsi: Model, mobi: pd.DataFrame) -> None:
    with pytest.raises(DataError, match=r"lack indicator column.*CUSL3"):
        q_squared(ecsi, mobi.drop(columns="CUSL3"))
    holes = mobi.astype(float)
    holes.iloc[3, 2] = np.nan
    with pytest.raises(DataError, match="missing or infinite"):
        q_squared(ecsi, holes)
    with pytest.raises(DataError, match=r"must be an \(N, 24\) table"):
        q_squared(ecsi, mobi.to_numpy()[:, :5])
    flat = mobi.copy()
    flat["IMAG1"] = 5
    with pytest.raises(DataError, match="IMAG1 do not vary"):
        q_squared(ecsi, flat)
