"""PLS path modelling: recovery of known populations, Mode B, signs, convergence, options."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

import csisem
from csisem.datasets import population, simulate
from csisem.errors import ConvergenceWarning, EstimationError, OptionError, SpecError
from csisem.estimation import PLSEstimator
from csisem.models import Construct, Indicator, Mode, Model, Path


def _composite_ecsi(ecsi: Model) -> Model:
    """ECSI with every multi-indicator block estimated as a Mode B composite."""
    constructs = tuple(Construct(c.name, c.indicators, Mode.COMPOSITE_B, c.label)
                       for c in ecsi.constructs)
    return Model(name="ecsi_b", constructs=constructs, paths=ecsi.paths)


def _weights_for(model: Model) -> dict[str, float]:
    # Unequal weights, so that recovering them is a real test (not the equal default).
    return {i: 1.0 + 0.5 * (k % 3) for k, i in enumerate(model.indicator_names)}


def _errors(result: csisem.PLSResult, pop: csisem.datasets.Population) -> tuple[float, float]:
    paths = result.paths.merge(pop.paths, on=["source", "target"])
    outer = result.weights.merge(pop.outer, on=["construct", "indicator"])
    return (float(np.max(np.abs(paths["estimate"] - paths["value"]))),
            float(np.max(np.abs(outer["estimate"] - outer["weight"]))))


def test_mode_b_recovers_composite_population_exactly(ecsi: Model) -> None:
    # Under the composite model PLS Mode B is consistent, and with an exact-moment sample the
    # population weights are a fixed point of the algorithm: error limited by tol only.
    model = _composite_ecsi(ecsi)
    args = dict(weights=_weights_for(model), indicator_correlation=0.4)
    pop = population(model, **args)
    data = simulate(model, 300, seed=1, exact=True, **args)
    result = PLSEstimator(tol=1e-12).fit(model, data)
    path_err, weight_err = _errors(result, pop)
    assert path_err < 1e-9
    assert weight_err < 1e-9
    r2 = result.r_squared[pop.r_squared.index]
    np.testing.assert_allclose(r2, pop.r_squared, atol=1e-9)


def test_mode_b_estimates_approach_population_as_n_grows(ecsi: Model) -> None:
    # Sampling error shrinks like 1/sqrt(n): with 200,000 rows the largest path or weight
    # error is about 3 standard errors of ~0.003, so 0.02 is a safe bound; and the error
    # at n = 200,000 must be well below the error at n = 500.
    model = _composite_ecsi(ecsi)
    args = dict(weights=_weights_for(model), indicator_correlation=0.4)
    pop = population(model, **args)
    errs = []
    for n in (500, 200_000):
        result = PLSEstimator().fit(model, simulate(model, n, seed=7, **args))
        errs.append(max(_errors(result, pop)))
    assert errs[1] < 0.02
    assert errs[1] < errs[0] / 4


def test_reflective_constructs_show_the_known_pls_bias(ecsi: Model) -> None:
    # PLS Mode A is not consistent for common factors (Dijkstra 1983; Dijkstra & Henseler
    # 2015): on the population matrix itself, loadings are overestimated and path
    # coefficients of correlated constructs underestimated. Large samples approach that
    # probability limit, not the population values; PLSc (a later issue) removes the bias.
    ecsi = replace(ecsi, scale=None)  # simulated indicators are standardised, not 1-10
    pop = population(ecsi, loadings=0.7)
    plim = PLSEstimator(tol=1e-12).fit(ecsi, simulate(ecsi, 200, seed=2, exact=True,
                                                      loadings=0.7))
    multi = plim.loadings.merge(pop.outer, on=["construct", "indicator"])
    multi = multi[multi["construct"] != "CUSCO"]
    assert (multi["estimate"] > multi["loading"]).all()
    paths = plim.paths.merge(pop.paths, on=["source", "target"])
    assert paths.loc[paths.source == "IMAG"].eval("estimate < value").all()
    big = PLSEstimator().fit(ecsi, simulate(ecsi, 200_000, seed=3, loadings=0.7))
    np.testing.assert_allclose(big.paths["estimate"], plim.paths["estimate"], atol=0.02)


def test_single_indicator_construct_has_unit_weight_and_loading(mobi: pd.DataFrame) -> None:
    result = csisem.fit("ecsi", mobi)
    cusco = result.weights.query("construct == 'CUSCO'")["estimate"]
    assert cusco.iloc[0] == pytest.approx(1.0, abs=1e-12)
    assert result.loadings.query("construct == 'CUSCO'")["estimate"].iloc[0] == \
        pytest.approx(1.0, abs=1e-12)


def test_reversed_block_keeps_weights_and_flips_paths(mobi: pd.DataFrame) -> None:
    # A construct's sign is not identified; csisem orients it so its loadings sum > 0.
    base = csisem.fit("ecsi", mobi)
    flipped = mobi.copy()
    imag = [f"IMAG{k}" for k in range(1, 6)]
    flipped[imag] = 11 - flipped[imag]
    result = csisem.fit("ecsi", flipped)
    np.testing.assert_allclose(result.weights["estimate"], base.weights["estimate"], atol=1e-9)
    sign = np.where(base.paths["source"] == "IMAG", -1.0, 1.0)
    np.testing.assert_allclose(result.paths["estimate"], sign * base.paths["estimate"],
                               atol=1e-9)


def test_construct_scores_are_standardised_and_consistent(mobi: pd.DataFrame) -> None:
    result = csisem.fit("ecsi", mobi)
    scores = result.scores
    np.testing.assert_allclose(scores.mean(), 0, atol=1e-12)
    np.testing.assert_allclose(scores.std(ddof=1), 1, atol=1e-12)
    np.testing.assert_allclose(scores.corr(), result.construct_correlations, atol=1e-12)
    # OLS of CUSA on its predictors' scores reproduces the path coefficients.
    pred = ["IMAG", "CUEX", "PERQ", "PERV"]
    beta, *_ = np.linalg.lstsq(scores[pred].to_numpy(), scores["CUSA"].to_numpy(), rcond=None)
    expected = result.paths.set_index(["source", "target"]).loc[
        [(p, "CUSA") for p in pred], "estimate"]
    np.testing.assert_allclose(beta, expected, atol=1e-12)


def test_effects_decompose_into_direct_and_indirect(mobi: pd.DataFrame) -> None:
    result = csisem.fit("ecsi", mobi)
    e = result.effects.set_index(["source", "target"])
    np.testing.assert_allclose(e["total"], e["direct"] + e["indirect"], atol=1e-14)
    b = result.paths.set_index(["source", "target"])["estimate"]
    # IMAG reaches PERQ only through CUEX: indirect = product of the two paths.
    assert e.loc[("IMAG", "PERQ"), "indirect"] == pytest.approx(
        b[("IMAG", "CUEX")] * b[("CUEX", "PERQ")], abs=1e-14)


def test_non_convergence_is_reported_not_hidden(mobi: pd.DataFrame) -> None:
    with pytest.warns(ConvergenceWarning, match=r"did not converge in 2 iterations"):
        result = csisem.fit("ecsi", mobi, max_iter=2)
    assert result.converged is False
    with pytest.warns(ConvergenceWarning):  # f² re-estimates with the same iteration limit
        assert "did not converge" in str(result)


def test_fit_is_deterministic_and_leaves_inputs_alone(mobi: pd.DataFrame,
                                                      ecsi: Model) -> None:
    before = mobi.copy()
    estimator = PLSEstimator(scheme="factorial")
    a = estimator.fit(ecsi, mobi)
    b = estimator.fit(ecsi, mobi)
    pd.testing.assert_frame_equal(mobi, before)
    pd.testing.assert_frame_equal(a.paths, b.paths)
    assert estimator.scheme.value == "factorial"


def test_row_order_does_not_matter(mobi: pd.DataFrame) -> None:
    a = csisem.fit("ecsi", mobi)
    b = csisem.fit("ecsi", mobi.sample(frac=1, random_state=0))
    np.testing.assert_allclose(a.paths["estimate"], b.paths["estimate"], atol=1e-12)


def test_mode_b_with_collinear_indicators_is_an_error(mobi: pd.DataFrame, ecsi: Model) -> None:
    constructs = tuple(
        Construct("IMAG", (*c.indicators, Indicator("IMAG_SUM")), Mode.COMPOSITE_B)
        if c.name == "IMAG" else c for c in ecsi.constructs)
    model = Model(name="collinear", constructs=constructs, paths=ecsi.paths)
    data = mobi.assign(IMAG_SUM=mobi[[f"IMAG{k}" for k in range(1, 6)]].sum(axis=1))
    with pytest.raises(EstimationError, match=r"Mode B construct 'IMAG' are perfectly collinear"):
        PLSEstimator().fit(model, data)


@pytest.mark.parametrize("scheme", ["path", "centroid"])
def test_perfectly_correlated_predictor_constructs_are_named(mobi: pd.DataFrame,
                                                             scheme: str) -> None:
    # Two constructs measured by the same column: the path scheme's inner regressions (and
    # the final path regressions) are not identified; the error names the constructs.
    model = Model(name="twins", constructs=(
        Construct("IMAG", (Indicator("IMAG1"),)), Construct("COPY", (Indicator("IMAG1_COPY"),)),
        Construct("CUSA", tuple(Indicator(f"CUSA{k}") for k in range(1, 4)))),
        paths=(Path("IMAG", "CUSA"), Path("COPY", "CUSA")))
    data = mobi.assign(IMAG1_COPY=mobi["IMAG1"])
    with pytest.raises(EstimationError, match=r"predictors of construct 'CUSA' \('IMAG', "
                                              r"'COPY'\) are perfectly correlated"):
        PLSEstimator(scheme=scheme).fit(model, data)


def test_isolated_construct_is_a_spec_error(mobi: pd.DataFrame) -> None:
    model = Model(name="island", constructs=(
        Construct("IMAG", tuple(Indicator(f"IMAG{k}") for k in range(1, 6))),
        Construct("CUEX", tuple(Indicator(f"CUEX{k}") for k in range(1, 4))),
        Construct("CUSA", tuple(Indicator(f"CUSA{k}") for k in range(1, 4)))),
        paths=(Path("IMAG", "CUEX"),))
    with pytest.raises(SpecError, match=r"Construct\(s\) CUSA of model 'island' have no "
                                        "structural path"):
        PLSEstimator().fit(model, mobi)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"scheme": "pathh"}, r"scheme='pathh' is not supported. Did you mean 'path'\? Choose one "
                          r"of 'path', 'centroid', 'factorial'\."),
    ({"tol": 0}, r"tol=0 must be a number between 0 and 1"),
    ({"max_iter": 0}, r"max_iter=0 must be a positive integer"),
])
def test_invalid_options_are_named(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(OptionError, match=message):
        PLSEstimator(**kwargs)  # type: ignore[arg-type]


def test_unknown_method_lists_the_valid_ones(mobi: pd.DataFrame) -> None:
    with pytest.raises(OptionError, match=r"method='lisrel' is not supported.*'pls'"):
        csisem.fit("ecsi", mobi, method="lisrel")


def test_summary_html_and_json_views(mobi: pd.DataFrame) -> None:
    result = csisem.fit("ecsi", mobi)
    text = str(result)
    for section in ("Path coefficients", "R²", "Outer loadings and weights", "Total effects"):
        assert section in text
    assert "<table" in result._repr_html_()
    d = result.to_dict()
    assert d["model"] == "ECSI"
    assert d["n_obs"] == 250
    assert d["paths"][0] == {"source": "IMAG", "target": "CUEX",
                             "estimate": pytest.approx(0.50491393, abs=1e-7)}
    assert d["r_squared"]["CUEX"] == pytest.approx(0.254938, abs=1e-6)
