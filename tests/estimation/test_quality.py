"""Quality statistics: seminr reference values, independent recomputations, populations."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path as FilePath

import numpy as np
import pandas as pd
import pytest

import csisem
from csisem.datasets import population, simulate
from csisem.errors import OptionError
from csisem.estimation import PLSEstimator
from csisem.estimation.quality import (
    f_squared,
    fornell_larcker,
    gof,
    htmt,
    inner_vif,
    mediated_effects,
    outer_vif,
    reliability,
)
from csisem.models import Construct, Indicator, Mode, Model, Path

REFERENCE = FilePath(__file__).parents[1] / "reference" / "data"
SCHEMES = ("path", "centroid", "factorial")
# Reference values: tests/reference/data/seminr_ecsi_*.csv, written by PyPI seminr 0.2.1
# (see the README there). Both programs stop the PLS iterations at a weight change of 1e-7
# (seminr: summed over all weights), so statistics of the weights and loadings can differ by
# up to about that much; 1e-7 is the tolerance. Statistics of S alone (alpha, HTMT, item VIF)
# are closed-form and are compared at 1e-12.
ATOL_PLS = 1e-7
ATOL_CLOSED = 1e-12


def _reference(name: str) -> pd.DataFrame:
    return pd.read_csv(REFERENCE / f"seminr_ecsi_{name}.csv")


@pytest.fixture(scope="module")
def fits() -> dict[str, csisem.PLSResult]:
    return {s: csisem.fit("ecsi", "mobi", scheme=s) for s in SCHEMES}


# ---- seminr reference values -----------------------------------------------------------------

@pytest.mark.parametrize("scheme", SCHEMES)
def test_reliability_matches_seminr(fits: dict[str, csisem.PLSResult], scheme: str) -> None:
    r = fits[scheme]
    ours = reliability(r.design, r.correlation, r.kernel)
    ref = _reference("quality").query("scheme == @scheme")
    both = ours.merge(ref, on="construct", suffixes=("", "_ref"), validate="1:1")
    assert len(both) == len(ref) == 7
    np.testing.assert_allclose(both["alpha"], both["alpha_ref"], rtol=0, atol=ATOL_CLOSED)
    for col in ("rho_a", "rho_c", "ave"):
        np.testing.assert_allclose(both[col], both[f"{col}_ref"], rtol=0, atol=ATOL_PLS)
    assert (ours["mode"] == "reflective").all()


def test_single_indicator_construct_has_reliability_one(fits: dict[str, csisem.PLSResult]) -> None:
    r = fits["path"]
    cusco = reliability(r.design, r.correlation, r.kernel).set_index("construct").loc["CUSCO"]
    assert cusco[["alpha", "rho_a", "rho_c", "ave"]].tolist() == [1.0, 1.0, 1.0, 1.0]


def test_htmt_matches_seminr_and_is_symmetric(fits: dict[str, csisem.PLSResult]) -> None:
    r = fits["path"]
    table = htmt(r.design, r.correlation)
    ref = _reference("htmt")
    assert len(ref) == 21  # every pair, including the single-indicator CUSCO
    ours = [table.loc[a, b] for a, b in zip(ref["construct_1"], ref["construct_2"], strict=True)]
    np.testing.assert_allclose(ours, ref["htmt"], rtol=0, atol=ATOL_CLOSED)
    np.testing.assert_array_equal(table.to_numpy(), table.to_numpy().T)
    assert np.isnan(np.diag(table.to_numpy())).all()


def test_outer_vif_matches_seminr(fits: dict[str, csisem.PLSResult]) -> None:
    r = fits["path"]
    both = outer_vif(r.design, r.correlation).merge(
        _reference("vif_items"), on=["construct", "indicator"], suffixes=("", "_ref"),
        validate="1:1")
    assert len(both) == 24
    np.testing.assert_allclose(both["vif"], both["vif_ref"], rtol=0, atol=ATOL_CLOSED)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_inner_vif_matches_seminr_with_nan_for_single_predictor(
        fits: dict[str, csisem.PLSResult], scheme: str) -> None:
    r = fits[scheme]
    ref = _reference("vif_constructs").query("scheme == @scheme")
    both = inner_vif(r.design, r.kernel).merge(ref, on=["source", "target"],
                                               suffixes=("", "_ref"), validate="1:1")
    assert len(both) == len(ref) == 12
    np.testing.assert_array_equal(both["vif"].isna(), both["vif_ref"].isna())
    assert set(both.loc[both["vif"].isna(), "target"]) == {"CUEX", "PERQ", "CUSCO"}
    np.testing.assert_allclose(both["vif"], both["vif_ref"], rtol=0, atol=ATOL_PLS)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_f_squared_reestimated_matches_seminr(fits: dict[str, csisem.PLSResult],
                                              scheme: str) -> None:
    r = fits[scheme]
    ours = f_squared(r.design, r.correlation, r.kernel, PLSEstimator(scheme=scheme))
    ref = _reference("f_squared").query("scheme == @scheme")
    both = ours.merge(ref, on=["source", "target"], validate="1:1")
    assert len(both) == len(ref) == 12
    np.testing.assert_allclose(both["f_squared"], both["estimate"], rtol=0, atol=ATOL_PLS)


# ---- f² without re-estimation, and reduced models -------------------------------------------

def test_f_squared_without_reestimation_uses_the_fitted_scores(
        fits: dict[str, csisem.PLSResult]) -> None:
    r = fits["path"]
    table = f_squared(r.design, r.correlation, r.kernel, reestimate=False).set_index(
        ["source", "target"])["f_squared"]
    r2, C = r.r_squared, r.construct_correlations
    # Sole antecedent: R²_excl = 0, so f² = R² / (1 - R²) under both conventions.
    assert table["CUSA", "CUSCO"] == pytest.approx(r2["CUSCO"] / (1 - r2["CUSCO"]), abs=1e-12)
    # PERV has two predictors; without CUEX its R² is the squared correlation with PERQ.
    expected = (r2["PERV"] - C.loc["PERV", "PERQ"] ** 2) / (1 - r2["PERV"])
    assert table["CUEX", "PERV"] == pytest.approx(expected, abs=1e-12)


def _two_item(name: str) -> Construct:
    return Construct(name, (Indicator(f"{name.lower()}1"), Indicator(f"{name.lower()}2")))


def test_f_squared_drops_a_source_left_without_paths() -> None:
    # Removing X -> Y leaves X unconnected: the reduced model is Z -> Y alone.
    model = Model(name="xzy", constructs=tuple(_two_item(c) for c in "XZY"),
                  paths=(Path("X", "Y"), Path("Z", "Y")))
    data = simulate(model, 200, seed=3)
    est = PLSEstimator(tol=1e-10)
    full = est.fit(model, data)
    table = f_squared(full.design, full.correlation, full.kernel, est).set_index("source")
    r2 = full.r_squared["Y"]
    for dropped, kept in (("X", "Z"), ("Z", "X")):
        reduced = Model(name="reduced", constructs=(_two_item(kept), _two_item("Y")),
                        paths=(Path(kept, "Y"),))
        r2_excl = est.fit(reduced, data[[*reduced.indicator_names]]).r_squared["Y"]
        assert table.loc[dropped, "f_squared"] == pytest.approx((r2 - r2_excl) / (1 - r2),
                                                                abs=1e-9)


def test_f_squared_needs_an_estimator_to_reestimate(fits: dict[str, csisem.PLSResult]) -> None:
    r = fits["path"]
    with pytest.raises(OptionError, match=r"needs estimator="):
        f_squared(r.design, r.correlation, r.kernel)


# ---- HTMT2 against an independent computation ------------------------------------------------

def test_htmt2_equals_geometric_mean_ratio_from_raw_data(ecsi: Model,
                                                         mobi: pd.DataFrame) -> None:
    # Roemer, Schuberth & Henseler (2021), eq. (3): HTMT2 is the geometric mean of the
    # heterotrait correlations over the geometric mean of the two monotrait geometric means.
    # Absolute correlations, as in our HTMT; a single indicator's monotrait mean is 1.
    corr = mobi[list(ecsi.indicator_names)].corr()
    blocks = {c.name: c.indicator_names for c in ecsi.constructs}

    def geomean(values: list[float]) -> float:
        return math.exp(sum(math.log(abs(v)) for v in values) / len(values))

    def mono(name: str) -> float:
        items = blocks[name]
        pairs = [corr.loc[a, b] for i, a in enumerate(items) for b in items[i + 1:]]
        return geomean(pairs) if pairs else 1.0

    r = csisem.fit(ecsi, mobi)
    table = htmt(r.design, r.correlation, kind="htmt2")
    for a in blocks:
        for b in blocks:
            if a == b:
                continue
            hetero = geomean([corr.loc[x, y] for x in blocks[a] for y in blocks[b]])
            expected = hetero / math.sqrt(mono(a) * mono(b))
            assert table.loc[a, b] == pytest.approx(expected, abs=1e-12)


def test_htmt_rejects_an_unknown_kind(fits: dict[str, csisem.PLSResult]) -> None:
    r = fits["path"]
    with pytest.raises(OptionError, match=r"kind='htmt3' is not supported"):
        htmt(r.design, r.correlation, kind="htmt3")


# ---- Fornell-Larcker, GoF ---------------------------------------------------------------------

def test_fornell_larcker_has_sqrt_ave_diagonal_and_correlations_below(
        fits: dict[str, csisem.PLSResult]) -> None:
    r = fits["path"]
    rel = reliability(r.design, r.correlation, r.kernel)
    table = fornell_larcker(r.design, r.kernel, rel)
    np.testing.assert_allclose(np.diag(table), np.sqrt(rel["ave"]), rtol=1e-12)
    below = np.tril(np.ones(table.shape, dtype=bool), -1)
    np.testing.assert_allclose(table.to_numpy()[below],
                               r.construct_correlations.to_numpy()[below], rtol=1e-12)
    assert np.isnan(table.to_numpy()[below.T]).all()
    same = fornell_larcker(r.design, r.kernel, rel.set_index("construct")["ave"])
    pd.testing.assert_frame_equal(table, same)
    with pytest.raises(OptionError, match=r"one value per construct \(7\)"):
        fornell_larcker(r.design, r.kernel, np.ones(3))


def test_gof_is_sqrt_of_mean_communality_times_mean_r_squared(
        fits: dict[str, csisem.PLSResult]) -> None:
    r = fits["path"]
    multi = r.loadings[r.loadings["construct"] != "CUSCO"]  # single indicator excluded
    expected = math.sqrt((multi["estimate"] ** 2).mean() * r.r_squared.mean())
    assert gof(r.design, r.kernel) == pytest.approx(expected, abs=1e-12)
    rel = reliability(r.design, r.correlation, r.kernel)
    assert gof(r.design, r.kernel, rel) == pytest.approx(expected, abs=1e-12)


def test_composite_blocks_are_marked_in_the_mode_column(ecsi: Model,
                                                        mobi: pd.DataFrame) -> None:
    constructs = tuple(replace(c, mode=Mode.COMPOSITE_B) if c.name == "PERV" else c
                       for c in ecsi.constructs)
    r = csisem.fit(replace(ecsi, constructs=constructs), mobi)
    rel = reliability(r.design, r.correlation, r.kernel).set_index("construct")
    assert rel.loc["PERV", "mode"] == "composite_b"
    assert rel.loc["IMAG", "mode"] == "reflective"
    assert np.isfinite(rel.loc["PERV", ["alpha", "rho_a", "rho_c", "ave"]].astype(float)).all()


# ---- mediated effects -------------------------------------------------------------------------

def test_mediated_effects_of_a_chain_with_a_shortcut() -> None:
    # A -> B -> C plus A -> C: the only path with a mediator is A -> B -> C.
    model = Model(name="chain", constructs=tuple(_two_item(c) for c in "ABC"),
                  paths=(Path("A", "B"), Path("B", "C"), Path("A", "C")))
    r = PLSEstimator().fit(model, simulate(model, 100, seed=5))
    table = mediated_effects(r.design, r.kernel)
    assert table[["source", "target", "path", "mediators"]].values.tolist() == [
        ["A", "C", "A -> B -> C", 1]]
    coef = r.paths.set_index(["source", "target"])["estimate"]
    assert table["effect"].iloc[0] == pytest.approx(coef["A", "B"] * coef["B", "C"],
                                                    rel=1e-14)


def test_ecsi_mediated_paths_sum_to_the_indirect_effects(
        fits: dict[str, csisem.PLSResult]) -> None:
    r = fits["path"]
    table = mediated_effects(r.design, r.kernel)
    # Paths of length >= 1 leaving each construct, P(x) = sum over successors s of 1 + P(s):
    # CUSL 0, CUSCO 1, CUSA 3, PERV 4, PERQ 9, CUEX 19, IMAG 25; total 61, minus 12 direct.
    assert len(table) == 49
    # IMAG reaches CUSA in 5 ways (direct, and 4 via CUEX), CUSA reaches CUSL in 2 ways.
    imag_cusl = set(table.query("source == 'IMAG' and target == 'CUSL'")["path"])
    to_cusa = ["IMAG", "IMAG -> CUEX", "IMAG -> CUEX -> PERQ", "IMAG -> CUEX -> PERV",
               "IMAG -> CUEX -> PERQ -> PERV"]
    assert imag_cusl == {f"{head} -> CUSA{tail} -> CUSL" for head in to_cusa
                         for tail in ("", " -> CUSCO")}
    assert len(imag_cusl) == 10
    sums = table.groupby(["source", "target"])["effect"].sum()
    indirect = r.effects.set_index(["source", "target"])["indirect"]
    np.testing.assert_allclose(sums, indirect[sums.index], rtol=0, atol=1e-14)
    assert (indirect.drop(sums.index) == 0).all()  # pairs joined by the direct path only


# ---- population values from exact-moment data ----------------------------------------------

def _population_fit(ecsi: Model, loadings: float | dict[str, float]
                    ) -> tuple[csisem.PLSResult, pd.DataFrame, pd.DataFrame]:
    model = replace(ecsi, scale=None)  # simulated indicators are standardised, not 1-10
    pop = population(model, loadings=loadings)
    data = simulate(model, 300, seed=11, exact=True, loadings=loadings)
    return PLSEstimator(tol=1e-12).fit(model, data), pop.outer, pop.sigma


def _with_loadings(r: csisem.PLSResult, outer: pd.DataFrame) -> pd.DataFrame:
    """reliability() with the kernel's loadings replaced by the population loadings."""
    lam = outer.set_index("indicator").loc[list(r.design.indicators), "loading"].to_numpy()
    L = np.zeros_like(r.kernel.L)
    L[np.arange(len(lam)), r.design.owner] = lam
    return reliability(r.design, r.correlation, replace(r.kernel, L=L)).set_index("construct")


def test_equal_loadings_give_the_spearman_brown_reliability(ecsi: Model) -> None:
    # k tau-equivalent indicators with loading lam: alpha = rho_C = rho_A = k lam² /
    # (1 + (k - 1) lam²) and AVE = lam² (population loadings); exact data make S = Sigma.
    lam = 0.7
    r, outer, _ = _population_fit(ecsi, lam)
    pop = _with_loadings(r, outer)
    fitted = reliability(r.design, r.correlation, r.kernel).set_index("construct")
    for c in ecsi.constructs:
        k = len(c.indicators)
        if k == 1:
            continue
        expected = k * lam**2 / (1 + (k - 1) * lam**2)
        assert fitted.loc[c.name, "alpha"] == pytest.approx(expected, abs=1e-12)
        assert fitted.loc[c.name, "rho_a"] == pytest.approx(expected, abs=1e-10)
        assert pop.loc[c.name, "rho_c"] == pytest.approx(expected, abs=1e-12)
        assert pop.loc[c.name, "ave"] == pytest.approx(lam**2, abs=1e-12)
        # PLS Mode A overestimates loadings of common factors, hence AVE and rho_C.
        assert fitted.loc[c.name, "ave"] > lam**2
        assert fitted.loc[c.name, "rho_c"] > expected


def test_congeneric_reliabilities_equal_their_population_values(ecsi: Model) -> None:
    cycle = (0.6, 0.75, 0.9, 0.65, 0.85)
    loadings = {i: cycle[n % len(cycle)] for n, i in enumerate(ecsi.indicator_names)}
    r, outer, sigma = _population_fit(ecsi, loadings)
    pop = _with_loadings(r, outer)
    fitted = reliability(r.design, r.correlation, r.kernel).set_index("construct")
    for c in ecsi.constructs:
        if len(c.indicators) == 1:
            continue
        items = list(c.indicator_names)
        lam = np.array([loadings[i] for i in items])
        Sbb = sigma.loc[items, items].to_numpy()
        one = np.ones(len(items))
        # rho_C from population loadings: reliability of the unweighted sum score,
        # cor²(eta, 1'x) = (1'lam)² / 1'Sigma 1.
        assert pop.loc[c.name, "rho_c"] == pytest.approx((one @ lam) ** 2 / (one @ Sbb @ one),
                                                         abs=1e-12)
        assert pop.loc[c.name, "ave"] == pytest.approx(np.mean(lam**2), abs=1e-12)
        # Mode A weights are proportional to lam here, so rho_A is the reliability of the
        # proxy, (lam'lam)² / lam'Sigma lam (Dijkstra & Henseler 2015).
        assert fitted.loc[c.name, "rho_a"] == pytest.approx(
            (lam @ lam) ** 2 / (lam @ Sbb @ lam), abs=1e-10)
        # Alpha is a lower bound of the reliability for congeneric indicators.
        assert fitted.loc[c.name, "alpha"] < pop.loc[c.name, "rho_c"]
