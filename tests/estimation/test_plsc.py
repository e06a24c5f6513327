"""Consistent PLS: agreement with seminr 0.2.1, population recovery, admissibility reporting."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path as FilePath

import numpy as np
import pandas as pd
import pytest

import csisem
from csisem.data import prepare_data
from csisem.datasets import population, simulate
from csisem.errors import EstimationError, InadmissibleSolutionWarning
from csisem.estimation.design import PLSDesign
from csisem.estimation.plsc import PLScResult, calculate_rho_a, consistent
from csisem.models import Construct, Indicator, Mode, Model, Path

REFERENCE = FilePath(__file__).resolve().parents[1] / "reference" / "data"
# Unequal population loadings, so that recovering them is a real test.
LOADINGS = [0.9, 0.6, 0.75, 0.85, 0.7]


def _fit(model: Model, data: pd.DataFrame, scheme: str = "path",
         tol: float = 1e-7) -> tuple[PLSDesign, np.ndarray, csisem.estimation.pls.PLSKernelResult]:
    design = PLSDesign.from_model(model)
    S = prepare_data(model, data).correlation()
    return design, S, csisem.PLSEstimator(scheme=scheme, tol=tol).estimate(design, S)


def _tiny(modes: tuple[Mode, Mode] = (Mode.REFLECTIVE, Mode.REFLECTIVE)) -> Model:
    return Model(name="tiny", constructs=(
        Construct("A", (Indicator("a1"), Indicator("a2")), modes[0]),
        Construct("B", (Indicator("b1"), Indicator("b2")), modes[1])),
        paths=(Path("A", "B"),))


def _plsc_on(S: np.ndarray, model: Model) -> PLScResult:
    design = PLSDesign.from_model(model)
    return consistent(design, S, csisem.PLSEstimator().estimate(design, S))


# ---- reference: seminr 0.2.1 (tests/reference/generate_seminr_plsc.py) ----------------------
@pytest.mark.parametrize("scheme", ["path", "factorial"])
def test_plsc_matches_seminr_paths_loadings_r_squared_rho_a_to_1e_5(
        ecsi: Model, mobi: pd.DataFrame, scheme: str) -> None:
    # Tolerance 1e-5 (the for PLSc against external software; the stop rules differ:
    # seminr sums |ΔW| < 1e-7, csisem takes max |ΔW| < 1e-7). Observed: < 3e-9.
    design, S, kernel = _fit(ecsi, mobi, scheme)
    # On mobi the corrected construct correlations are not positive definite (smallest
    # eigenvalue about -0.003 path / -0.006 factorial); seminr does not check this.
    with pytest.warns(InadmissibleSolutionWarning, match="not positive definite"):
        plsc = consistent(design, S, kernel)
    names, indicators = list(design.names), list(design.indicators)
    ref = pd.read_csv(REFERENCE / "seminr_ecsi_plsc_paths.csv").query("scheme == @scheme")
    assert len(ref) == 12
    got = [plsc.B[names.index(t), names.index(s)]
           for s, t in zip(ref.source, ref.target, strict=True)]
    np.testing.assert_allclose(got, ref.estimate, rtol=0, atol=1e-5)
    ref = pd.read_csv(REFERENCE / "seminr_ecsi_plsc_loadings.csv").query("scheme == @scheme")
    assert len(ref) == 24
    got = [plsc.Lambda[indicators.index(i), names.index(c)]
           for c, i in zip(ref.construct, ref.indicator, strict=True)]
    np.testing.assert_allclose(got, ref.estimate, rtol=0, atol=1e-5)
    ref = pd.read_csv(REFERENCE / "seminr_ecsi_plsc_r_squared.csv").query("scheme == @scheme")
    assert len(ref) == 6
    np.testing.assert_allclose([plsc.r_squared[names.index(c)] for c in ref.construct],
                               ref.r_squared, rtol=0, atol=1e-5)
    ref = pd.read_csv(REFERENCE / "seminr_ecsi_plsc_rho_a.csv").query("scheme == @scheme")
    assert len(ref) == 7
    np.testing.assert_allclose([plsc.rho_a[names.index(c)] for c in ref.construct],
                               ref.rho_a, rtol=0, atol=1e-5)


# ---- population recovery ---------------------------------------------------------------------
def test_plsc_recovers_reflective_population_exactly_and_plain_pls_does_not(ecsi: Model) -> None:
    # PLSc is consistent for the common-factor model and an exact-moment sample has S equal
    # to the population Sigma, so PLSc returns the population values; PLS Mode A weights are
    # proportional to the loadings after one iteration here, so only rounding remains.
    model = replace(ecsi, scale=None)  # simulated indicators are standardised, not 1-10
    loadings = {i: LOADINGS[k % len(LOADINGS)] for k, i in enumerate(model.indicator_names)}
    # PLSc takes a single indicator as error-free (rho_A = 1), so the population must too;
    # simulate() requires |loading| < 1, hence 1 - 1e-12.
    loadings["CUSCO"] = 1 - 1e-12
    pop = population(model, loadings=loadings)
    data = simulate(model, 400, seed=7, exact=True, loadings=loadings)
    design, S, kernel = _fit(model, data, tol=1e-10)
    plsc = consistent(design, S, kernel)
    assert plsc.admissible
    names, indicators = list(design.names), list(design.indicators)
    true_paths = [plsc.B[names.index(t), names.index(s)]
                  for s, t in zip(pop.paths.source, pop.paths.target, strict=True)]
    np.testing.assert_allclose(true_paths, pop.paths.value, rtol=0, atol=1e-6)
    got = [plsc.Lambda[indicators.index(i), names.index(c)]
           for c, i in zip(pop.outer.construct, pop.outer.indicator, strict=True)]
    np.testing.assert_allclose(got, pop.outer.loading, rtol=0, atol=1e-6)
    np.testing.assert_allclose(plsc.C, pop.construct_correlations.loc[names, names],
                               rtol=0, atol=1e-6)
    r2 = [plsc.r_squared[names.index(c)] for c in pop.r_squared.index]
    np.testing.assert_allclose(r2, pop.r_squared, rtol=0, atol=1e-6)
    # Plain PLS is biased: paths attenuated, loadings inflated, by far more than 1e-6.
    pls_paths = [kernel.B[names.index(t), names.index(s)]
                 for s, t in zip(pop.paths.source, pop.paths.target, strict=True)]
    assert np.max(np.abs(np.subtract(pls_paths, pop.paths.value))) > 0.05
    pls_loadings = [kernel.L[indicators.index(i), names.index(c)]
                    for c, i in zip(pop.outer.construct, pop.outer.indicator, strict=True)]
    assert np.max(np.abs(np.subtract(pls_loadings, pop.outer.loading))) > 0.05


# ---- pieces of the correction ----------------------------------------------------------------
def test_rho_a_equals_explicit_loop_over_the_formula(ecsi: Model, mobi: pd.DataFrame) -> None:
    # rho_A = (w'w)^2 * sum_{i!=j} w_i s_ij w_j / sum_{i!=j} w_i^2 w_j^2 (Dijkstra & Henseler
    # 2015, MISQ), written here with plain loops; closed form vs loops: 1e-12.
    design, S, kernel = _fit(ecsi, mobi)
    rho = calculate_rho_a(design, S, kernel.W)
    for k in range(len(design.names)):
        block = design.block(k)
        w = kernel.W[block, k]
        num = den = 0.0
        for a in range(len(block)):
            for b in range(len(block)):
                if a != b:
                    num += w[a] * S[block[a], block[b]] * w[b]
                    den += w[a] ** 2 * w[b] ** 2
        expected = 1.0 if len(block) == 1 else sum(w**2) ** 2 * num / den
        assert rho[k] == pytest.approx(expected, abs=1e-12)


def test_single_indicator_construct_has_rho_a_one_and_loading_one(
        ecsi: Model, mobi: pd.DataFrame) -> None:
    design, S, kernel = _fit(ecsi, mobi)
    with pytest.warns(InadmissibleSolutionWarning):
        plsc = consistent(design, S, kernel)
    k = design.names.index("CUSCO")
    assert plsc.rho_a[k] == 1.0
    assert plsc.Lambda[design.block(k)[0], k] == pytest.approx(1.0, abs=1e-12)


def test_composites_are_not_corrected(ecsi: Model, mobi: pd.DataFrame) -> None:
    composite = {"CUEX", "PERQ", "CUSL"}
    model = replace(ecsi, constructs=tuple(
        replace(c, mode=Mode.COMPOSITE_A) if c.name in composite else c
        for c in ecsi.constructs))
    design, S, kernel = _fit(model, mobi)
    plsc = consistent(design, S, kernel)
    comp = np.array([n in composite for n in design.names])
    assert np.all(np.isnan(plsc.rho_a[comp]))
    assert np.all(plsc.rho_a[~comp] > 0)
    # composite-composite correlations and composite loadings are the PLS ones;
    # a reflective-composite correlation is divided by sqrt(rho_A) of the reflective one only
    np.testing.assert_allclose(plsc.C[np.ix_(comp, comp)], kernel.C[np.ix_(comp, comp)],
                               rtol=0, atol=1e-15)
    blocks = design.M[:, comp]
    np.testing.assert_allclose(plsc.Lambda[:, comp][blocks], kernel.L[:, comp][blocks],
                               rtol=0, atol=1e-15)
    i, j = design.names.index("IMAG"), design.names.index("CUEX")
    assert plsc.C[i, j] == pytest.approx(kernel.C[i, j] / np.sqrt(plsc.rho_a[i]), abs=1e-15)


# ---- inadmissible solutions are reported, not hidden -------------------------------------------
def test_correlation_above_one_is_reported_and_kept() -> None:
    # Two parallel pairs with within-block r = 0.2 and between-block r = 0.4: rho_A = 1/3 for
    # both, the PLS construct correlation is 2/3, so the corrected correlation is 2.
    S = np.array([[1, .2, .4, .4], [.2, 1, .4, .4], [.4, .4, 1, .2], [.4, .4, .2, 1]])
    with pytest.warns(InadmissibleSolutionWarning,
                      match=r"correlation of A and B is 2 \(\|r\| > 1\).*not positive definite"
                            r".*R² of B is 4") as record:
        plsc = _plsc_on(S, _tiny())
    assert len(record) == 1
    np.testing.assert_allclose(plsc.rho_a, [1 / 3, 1 / 3], atol=1e-12)
    assert plsc.C[0, 1] == pytest.approx(2.0, abs=1e-12)
    assert plsc.B[1, 0] == pytest.approx(2.0, abs=1e-12)
    assert not plsc.admissible
    assert len(plsc.problems) == 3


def test_heywood_loading_and_rho_a_above_one_are_reported() -> None:
    # a1 correlates 0.6 with B's indicators, a2 only 0.1, within A r = 0.2: the Mode A
    # weights are 6:1, rho_A(A) = 1.158 and the corrected loading of a1 is sqrt(1.2) = 1.095.
    S = np.array([[1, .2, .6, .6], [.2, 1, .1, .1], [.6, .1, 1, .5], [.6, .1, .5, 1]])
    with pytest.warns(InadmissibleSolutionWarning,
                      match=r"rho_A of A is 1\.158 > 1.*loading of a1 on A is 1\.095"):
        plsc = _plsc_on(S, _tiny())
    assert plsc.Lambda[0, 0] == pytest.approx(np.sqrt(1.2), abs=1e-9)
    assert plsc.rho_a[0] > 1


def test_non_positive_rho_a_makes_the_construct_nan_with_a_warning() -> None:
    S = np.array([[1, -.2, .4, .4], [-.2, 1, .4, .4], [.4, .4, 1, .5], [.4, .4, .5, 1]])
    with pytest.warns(InadmissibleSolutionWarning,
                      match=r"rho_A of A is -0\.5 \(not positive\), so its correction is "
                            "undefined"):
        plsc = _plsc_on(S, _tiny())
    assert plsc.rho_a[0] == pytest.approx(-0.5, abs=1e-12)
    assert np.all(np.isnan(plsc.Lambda[:2, 0]))
    assert np.isnan(plsc.B[1, 0])
    assert np.isnan(plsc.r_squared[1])
    assert plsc.C[1, 1] == 1.0
    assert np.isnan(plsc.C[0, 1])


def test_singular_corrected_predictors_raise_estimation_error() -> None:
    # P1 = (p1, p2) with r = 0.25 (rho_A = 0.4), P2 = x correlating 0.5 with both: the
    # corrected P1-P2 correlation is 0.5 / sqrt(0.25) = 1, so P1 and P2 cannot both predict T.
    model = Model(name="collinear", constructs=(
        Construct("P1", (Indicator("p1"), Indicator("p2"))),
        Construct("P2", (Indicator("x"),)),
        Construct("T", (Indicator("y1"), Indicator("y2")))),
        paths=(Path("P1", "T"), Path("P2", "T")))
    S = np.array([[1, .25, .5, .3, .3], [.25, 1, .5, .3, .3], [.5, .5, 1, .3, .3],
                  [.3, .3, .3, 1, .5], [.3, .3, .3, .5, 1]])
    assert np.linalg.eigvalsh(S).min() > 0
    with pytest.raises(EstimationError, match=r"predictors of T \(P1, P2\) are perfectly "
                                              "collinear"):
        _plsc_on(S, model)


def test_result_arrays_are_read_only(ecsi: Model, mobi: pd.DataFrame) -> None:
    design, S, kernel = _fit(ecsi, mobi)
    with pytest.warns(InadmissibleSolutionWarning):
        plsc = consistent(design, S, kernel)
    with pytest.raises(ValueError, match="read-only"):
        plsc.B[0, 0] = 1.0
