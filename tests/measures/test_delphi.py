"""Delphi rounds: aggregate weights, spread, convergence and Kendall's W, by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from csisem.errors import DataError, OptionError
from csisem.measures import delphi
from csisem.measures.delphi import kendall_w

# Three experts share 10 points among items x, y, z in two rounds.
ROUNDS = {
    1: {"e1": {"x": 5, "y": 3, "z": 2}, "e2": {"x": 4, "y": 4, "z": 2},
        "e3": {"x": 6, "y": 2, "z": 2}},
    2: {"e1": {"x": 5, "y": 3, "z": 2}, "e2": {"x": 5, "y": 3, "z": 2},
        "e3": {"x": 5, "y": 3, "z": 2}},
}


def test_round_statistics_by_hand() -> None:
    # Normalised (each expert's points / 10), round 1:
    #   x: .5 .4 .6 -> mean .5, median .5, sd sqrt((0 + .01 + .01) / 2) = .1,
    #      quartiles .45 and .55 (linear) -> IQR .1, CV .1 / .5 = .2
    #   y: .3 .4 .2 -> mean .3, sd .1, CV .1 / .3 = .333
    #   z: .2 .2 .2 -> sd 0, IQR 0, CV 0
    # The means sum to 1, so they are the weights: .5, .3, .2.
    result = delphi(ROUNDS)
    first = result.rounds[result.rounds["round"] == 1].set_index("item")
    np.testing.assert_allclose(first["mean"], [0.5, 0.3, 0.2], rtol=1e-12)
    np.testing.assert_allclose(first["median"], [0.5, 0.3, 0.2], rtol=1e-12)
    np.testing.assert_allclose(first["sd"], [0.1, 0.1, 0.0], atol=1e-12)
    np.testing.assert_allclose(first["iqr"], [0.1, 0.1, 0.0], atol=1e-12)
    np.testing.assert_allclose(first["cv"], [0.2, 1 / 3, 0.0], atol=1e-12)
    np.testing.assert_allclose(first["weight"], [0.5, 0.3, 0.2], rtol=1e-12)
    assert result.as_weights() == pytest.approx({"x": 0.5, "y": 0.3, "z": 0.2})


def test_convergence_between_rounds_by_hand() -> None:
    # Round 2: everyone says .5 .3 .2: means unchanged (relative change 0, stable), the
    # spread vanishes: delta_cv = 0 - .2 = -.2 for x and 0 - .333 for y.
    result = delphi(ROUNDS)
    conv = result.convergence.set_index("item")
    assert (conv["round"] == 2).all()
    np.testing.assert_allclose(conv["delta_mean"], 0.0, atol=1e-12)
    np.testing.assert_allclose(conv["delta_cv"], [-0.2, -1 / 3, 0.0], atol=1e-12)
    assert conv["stable"].all()
    assert result.stable is True


def test_kendall_w_with_ties_by_hand() -> None:
    # Round 1 ranks (ascending, ties averaged): e1 x3 y2 z1; e2 x2.5 y2.5 z1; e3 x3 y1.5 z1.5
    # Rank sums R = (8.5, 6, 3.5); mean m (n + 1) / 2 = 3 * 2 = 6; S = 2.5^2 + 0 + 2.5^2
    # = 12.5. Ties: e2 and e3 each have one pair, t^3 - t = 6, sum T = 12.
    # W = 12 S / (m^2 (n^3 - n) - m T) = 150 / (9 * 24 - 36) = 150 / 180 = 0.8333;
    # chi2 = m (n - 1) W = 5.0 on 2 df, p = exp(-5 / 2) = 0.0821.
    # Round 2: identical rankings, R = (9, 6, 3), S = 18, W = 216 / 216 = 1, chi2 = 6,
    # p = exp(-3).
    agreement = delphi(ROUNDS).agreement.set_index("round")
    assert agreement.loc[1, "kendall_w"] == pytest.approx(150 / 180, rel=1e-12)
    assert agreement.loc[1, "chi2"] == pytest.approx(5.0, rel=1e-12)
    assert agreement.loc[1, "p_value"] == pytest.approx(math.exp(-2.5), rel=1e-10)
    assert agreement.loc[2, "kendall_w"] == pytest.approx(1.0, rel=1e-12)
    assert agreement.loc[2, "p_value"] == pytest.approx(math.exp(-3.0), rel=1e-10)
    assert math.isnan(kendall_w(pd.DataFrame([[1.0, 2.0]]))[0])  # one expert: undefined


def test_unstable_round_median_and_long_table() -> None:
    # Round 1: a .6/.4 and .4/.6 -> medians .5 .5; round 2: both .7/.3 -> .7 .3.
    # Relative change of a: |.7 - .5| / .5 = .4 > .15 -> not stable.
    table = pd.DataFrame({"round": [1, 1, 1, 1, 2, 2, 2, 2],
                          "expert": ["p", "p", "q", "q"] * 2,
                          "item": ["a", "b"] * 4,
                          "weight": [60, 40, 40, 60, 70, 30, 70, 30]})
    result = delphi(table, aggregate="median")
    conv = result.convergence.set_index("item")
    np.testing.assert_allclose(conv["rel_change"], [0.4, 0.4], rtol=1e-12)
    assert not conv["stable"].any()
    assert result.stable is False
    assert result.as_weights() == pytest.approx({"a": 0.7, "b": 0.3})
    assert "Stable     no" in str(result)
    assert result.to_dict()["kind"] == "csisem.delphi"


def test_single_round_has_no_convergence() -> None:
    result = delphi({"final": ROUNDS[1]})
    assert result.convergence.empty
    assert result.stable is None


def test_delphi_errors() -> None:
    with pytest.raises(DataError, match=r"Delphi ratings: column\(s\) 'weight' not in the "
                                        r"data; available: round, expert, item, score\."):
        delphi(pd.DataFrame({"round": [1], "expert": ["a"], "item": ["x"], "score": [1]}))
    with pytest.raises(DataError, match=r"Delphi round 1: expert 'e2' gives no weight for z\."):
        delphi({1: {"e1": {"x": 1, "z": 1}, "e2": {"x": 1}}})
    with pytest.raises(DataError, match=r"expert 'e1', item 'x' has weight -1\.0; weights "
                                        r"must be numbers of at least 0\."):
        delphi({1: {"e1": {"x": -1, "y": 2}}})
    with pytest.raises(DataError, match=r"the weights of expert 'e1' sum to 0"):
        delphi({1: {"e1": {"x": 0, "y": 0}}})
    with pytest.raises(DataError, match=r"Delphi round 2 does not rate the same items as the "
                                        r"others \(missing: y"):
        delphi({1: {"e1": {"x": 1, "y": 1}}, 2: {"e1": {"x": 1}}})
    twice = pd.DataFrame({"round": [1, 1], "expert": ["a", "a"], "item": ["x", "x"],
                          "weight": [1, 2]})
    with pytest.raises(DataError, match=r"Delphi ratings: expert 'a' rates item 'x' more "
                                        r"than once in round 1\."):
        delphi(twice)
    with pytest.raises(OptionError, match=r"aggregate='mode' is not supported"):
        delphi(ROUNDS, aggregate="mode")
