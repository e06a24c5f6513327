"""0-100 index scores, impacts and IPMA (csisem.indices)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import csisem
from csisem.errors import DataWarning, EstimationError, OptionError

REFERENCE = Path(__file__).parent / "reference" / "data"


@pytest.fixture(scope="module")
def boot() -> csisem.PLSResult:
    return csisem.fit("ecsi", "mobi", bootstrap=1000, seed=7)


def test_cusa_index_is_the_acsi_formula_applied_by_hand_to_smartpls_weights(
        boot: csisem.PLSResult) -> None:
    # Fornell et al. (1996): unstandardise the standardised outer weights (divide by the
    # indicator SD), normalise them to sum to 1, apply them to the item means, rescale 1-10
    # to 0-100. Weights: SmartPLS 2.0.M3, path scheme (tests/reference/data/smartpls_*).
    mobi = csisem.datasets.load_mobi()
    w = {"CUSA1": 0.36486486, "CUSA2": 0.38315604, "CUSA3": 0.4509612}
    unstd = {i: w[i] / mobi[i].std(ddof=1) for i in w}
    total = sum(unstd.values())
    weighted_mean = sum(unstd[i] / total * mobi[i].mean() for i in w)
    by_hand = 100 * (weighted_mean - 1) / (10 - 1)
    index = boot.index.set_index("construct")
    # SmartPLS prints 8 decimals; an error of 5e-9 in a weight moves the index by < 1e-6.
    assert index.loc["CUSA", "estimate"] == pytest.approx(by_hand, abs=1e-5)
    assert index.loc["CUSA", "ci_lower"] < by_hand < index.loc["CUSA", "ci_upper"]
    # The same weights from the reference file, for every construct.
    ref = pd.read_csv(REFERENCE / "smartpls_ecsi_weights.csv").query("scheme == 'path'")
    sd = mobi[ref["indicator"]].std(ddof=1).to_numpy()
    means = mobi[ref["indicator"]].mean().to_numpy()
    ref = ref.assign(u=ref["estimate"].to_numpy() / sd, m=means)
    expected = ref.groupby("construct").apply(
        lambda b: 100 * ((b.u * b.m).sum() / b.u.sum() - 1) / 9, include_groups=False)
    np.testing.assert_allclose(index.loc[expected.index, "estimate"], expected, atol=1e-5)


def test_rescaled_respondent_scores_average_to_the_index(boot: csisem.PLSResult) -> None:
    # plspm's rescale(): normalised unstandardised weights applied to each respondent's raw
    # answers; their mean is the index, and their SD the slope used for impacts.
    scores = boot.index_scores
    index = boot.index.set_index("construct")["estimate"]
    np.testing.assert_allclose(scores.mean(), index[scores.columns], atol=1e-10)
    assert scores.min().min() >= 0
    assert scores.max().max() <= 100
    # A single-indicator construct's index is its rescaled item mean.
    cusco = csisem.datasets.load_mobi()["CUSCO"]
    assert index["CUSCO"] == pytest.approx(100 * (cusco.mean() - 1) / 9, abs=1e-12)


def test_impact_is_five_points_times_the_unstandardised_total_effect(
        boot: csisem.PLSResult) -> None:
    # Unstandardised on the index metric: total effect * sd(target index) / sd(driver index).
    scores = boot.index_scores
    impacts = boot.impacts.set_index(["source", "target"])
    effects = boot.effects.set_index(["source", "target"])["total"]
    for source, target in [("PERQ", "CUSA"), ("CUSA", "CUSL"), ("IMAG", "CUSL")]:
        expected = 5 * effects[(source, target)] * scores[target].std() / scores[source].std()
        assert impacts.loc[(source, target), "impact"] == pytest.approx(expected, rel=1e-10)
        row = impacts.loc[(source, target)]
        assert row["ci_lower"] < row["impact"] < row["ci_upper"]


def test_ci_width_flag(boot: csisem.PLSResult) -> None:
    index = boot.index.set_index("construct")
    np.testing.assert_allclose(index["ci_width"], index["ci_upper"] - index["ci_lower"])
    assert (index["wide_ci"] == (index["ci_width"] > 4.0)).all()
    strict = csisem.fit("ecsi", "mobi", bootstrap=300, seed=7, max_ci_width=1.0)
    assert strict.index["wide_ci"].all()
    assert "Interval wider than 1 points" in str(strict)


def test_negative_weight_refuses_the_index_and_names_the_indicator(mobi: pd.DataFrame) -> None:
    data = mobi.assign(CUSL2=11 - mobi["CUSL2"])  # reversed item: negative weight
    result = csisem.fit("ecsi", data)
    with pytest.raises(EstimationError, match=r"Negative outer weight\(s\): CUSL2 of CUSL"):
        _ = result.index
    assert "Negative outer weight" in result.to_dict()["index_error"]
    assert "Negative outer weight" in str(result)
    lenient = csisem.fit("ecsi", data, negative_weights="warn")
    with pytest.warns(DataWarning, match=r"CUSL2 of CUSL"):
        assert lenient.index["estimate"].notna().all()


def test_index_needs_a_scale(mobi: pd.DataFrame) -> None:
    model = replace(csisem.load_model("ecsi"), scale=None)
    result = csisem.fit(model, mobi)
    with pytest.raises(OptionError, match=r"has no item scale; add 'scale: \[lowest, highest\]'"):
        _ = result.index
    assert result.to_dict()["index"] is None


def test_ipma_tables_and_plot(boot: csisem.PLSResult, tmp_path: Path) -> None:
    ipma = boot.ipma("CUSL")
    constructs = ipma.constructs.set_index("construct")
    impacts = boot.impacts.set_index(["source", "target"])
    assert constructs.loc["CUSA", "importance"] == pytest.approx(
        impacts.loc[("CUSA", "CUSL"), "impact"] / 5)
    assert set(constructs.index) == {"IMAG", "CUEX", "PERQ", "PERV", "CUSA", "CUSCO"}
    indicators = ipma.indicators
    # Indicator importances of a block add up to the construct's importance.
    sums = indicators.groupby("construct")["importance"].sum()
    np.testing.assert_allclose(sums[constructs.index], constructs["importance"], rtol=1e-12)
    fig = ipma.plot()
    path = tmp_path / "ipma.png"
    fig.savefig(path)
    assert path.stat().st_size > 10_000
    assert ipma.plot(level="indicators").axes[0].get_xlabel().startswith("Importance")
    with pytest.raises(OptionError, match=r"target='IMAG' has no drivers"):
        boot.ipma("IMAG")
    with pytest.raises(OptionError, match=r"target='NOPE' is not a construct"):
        boot.ipma("NOPE")


def test_json_index_and_impacts(boot: csisem.PLSResult) -> None:
    d = boot.to_dict()
    assert set(d["index"]["CUSA"]) >= {"estimate", "ci_lower", "ci_upper"}
    first = d["impacts"][0]
    assert set(first) >= {"source", "target", "impact"}
