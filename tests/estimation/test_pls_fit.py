"""Model fit of PLS/PLSc: implied correlations, SRMR, d_ULS, d_G.

Reference used: no published SRMR / d_ULS / d_G exists for ECSI on mobi that we could find
(seminr 0.2.1 computes SRMR for CB-SEM only; SmartPLS outputs in semPLS's test files hold no fit
measures). So the vectorised code is checked against an independent slow implementation
written here from the formulas (explicit loops over matrix elements; the implied construct
correlations by a fixed point on ``(I - B)^-1 Psi (I - B)^-T`` instead of the recursion),
and against hand-checkable cases: exact-moment samples from a population that satisfies the
model give SRMR = d_ULS = d_G = 0. Definitions: SRMR of Hu & Bentler (1998) as in cSEM's
``calculateSRMR`` (lower triangle with diagonal); d_ULS = 1/2 tr((S - Sigma)^2) and
d_G = 1/2 sum ln(eig(S^-1 Sigma))^2 of Dijkstra & Henseler (2015, CSDA 81).
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

import csisem
from csisem.data import prepare_data
from csisem.datasets import simulate
from csisem.errors import InadmissibleSolutionWarning
from csisem.estimation.design import PLSDesign
from csisem.estimation.pls import PLSKernelResult
from csisem.estimation.pls_fit import (
    d_g,
    d_uls,
    fit_indices,
    implied_construct_correlation,
    model_implied_correlation,
    srmr,
)
from csisem.estimation.plsc import PLScResult, consistent
from csisem.models import Construct, Mode, Model, Path

LOADINGS = [0.9, 0.6, 0.75, 0.85, 0.7]


def _fit(model: Model, data: pd.DataFrame, tol: float = 1e-7
         ) -> tuple[PLSDesign, np.ndarray, PLSKernelResult]:
    design = PLSDesign.from_model(model)
    S = prepare_data(model, data).correlation()
    return design, S, csisem.PLSEstimator(tol=tol).estimate(design, S)


def _plsc_quiet(design: PLSDesign, S: np.ndarray, kernel: PLSKernelResult) -> PLScResult:
    # PLSc on mobi is inadmissible (corrected construct correlations not positive
    # definite, see test_plsc.py); the fit measures are still defined.
    with pytest.warns(InadmissibleSolutionWarning):
        return consistent(design, S, kernel)


# ---- the slow, independent implementation ------------------------------------------------------
def _slow_construct_correlation(C: np.ndarray, B: np.ndarray, D: np.ndarray) -> np.ndarray:
    """Fixed point: Psi's endogenous variances adjusted until diag((I-B)^-1 Psi (I-B)^-T) = 1."""
    K = len(C)
    exo = [k for k in range(K) if not D[k].any()]
    Psi = np.zeros((K, K))
    for a in exo:
        for b in exo:
            Psi[a, b] = C[a, b]
    for k in range(K):
        if D[k].any():
            Psi[k, k] = 1.0
    inv = np.linalg.inv(np.eye(K) - B)
    for _ in range(200):
        P = inv @ Psi @ inv.T
        for k in range(K):
            if D[k].any():
                Psi[k, k] += 1.0 - P[k, k]
    return inv @ Psi @ inv.T


def _slow_implied(design: PLSDesign, S: np.ndarray, est: PLSKernelResult | PLScResult,
                  saturated: bool) -> np.ndarray:
    J, K = design.M.shape
    owner = design.owner
    a = np.zeros(J)
    if isinstance(est, PLScResult):
        factor = list(design.reflective)
        for j in range(J):
            a[j] = est.Lambda[j, owner[j]]
    else:
        factor = [False] * K
        for j in range(J):  # composite loading: (S w)_j for the indicator's own block
            a[j] = sum(S[j, m] * est.W[m, owner[j]] for m in range(J))
    P = est.C if saturated else _slow_construct_correlation(est.C, est.B, design.D)
    Sigma = np.empty((J, J))
    for i in range(J):
        for j in range(J):
            if i == j:
                Sigma[i, j] = 1.0
            elif owner[i] == owner[j]:
                Sigma[i, j] = a[i] * a[j] if factor[owner[i]] else S[i, j]
            else:
                Sigma[i, j] = a[i] * P[owner[i], owner[j]] * a[j]
    return Sigma


def _slow_srmr(S: np.ndarray, Sigma: np.ndarray) -> float:
    J, total, count = len(S), 0.0, 0
    for i in range(J):
        for j in range(i + 1):
            r_s = S[i, j] / math.sqrt(S[i, i] * S[j, j])
            r_m = Sigma[i, j] / math.sqrt(Sigma[i, i] * Sigma[j, j])
            total += (r_s - r_m) ** 2
            count += 1
    return math.sqrt(total / count)


def _slow_d_uls(S: np.ndarray, Sigma: np.ndarray) -> float:
    return 0.5 * sum((S[i, j] - Sigma[i, j]) ** 2 for i in range(len(S)) for j in range(len(S)))


def _slow_d_g(S: np.ndarray, Sigma: np.ndarray) -> float:
    phi = np.linalg.eigvals(np.linalg.solve(S, Sigma))
    assert np.max(np.abs(phi.imag)) < 1e-10
    return 0.5 * sum(math.log(p) ** 2 for p in phi.real)


# ---- ECSI on mobi against the slow implementation ----------------------------------------------
@pytest.mark.parametrize("method", ["pls", "plsc"])
@pytest.mark.parametrize("saturated", [True, False])
def test_implied_correlation_and_fit_measures_match_elementwise_loops(
        ecsi: Model, mobi: pd.DataFrame, method: str, saturated: bool) -> None:
    # Closed form vs loops over the same definitions: 1e-10 (floating point only).
    design, S, kernel = _fit(ecsi, mobi)
    est = kernel if method == "pls" else _plsc_quiet(design, S, kernel)
    Sigma = model_implied_correlation(design, S, est, saturated=saturated)
    np.testing.assert_allclose(Sigma, _slow_implied(design, S, est, saturated),
                               rtol=0, atol=1e-10)
    np.testing.assert_allclose(Sigma, Sigma.T, rtol=0, atol=1e-15)
    assert srmr(S, Sigma) == pytest.approx(_slow_srmr(S, Sigma), abs=1e-10)
    assert d_uls(S, Sigma) == pytest.approx(_slow_d_uls(S, Sigma), abs=1e-10)
    assert d_g(S, Sigma) == pytest.approx(_slow_d_g(S, Sigma), abs=1e-10)


def test_fit_indices_table_lists_saturated_and_estimated(ecsi: Model, mobi: pd.DataFrame) -> None:
    design, S, kernel = _fit(ecsi, mobi)
    table = fit_indices(design, S, kernel)
    assert list(table.index) == ["saturated", "estimated"]
    assert list(table.columns) == ["srmr", "d_uls", "d_g"]
    Sigma = model_implied_correlation(design, S, kernel, saturated=False)
    assert table.loc["estimated", "srmr"] == srmr(S, Sigma)
    # ECSI is not structurally saturated, so the estimated model fits worse than the saturated.
    assert (table.loc["estimated"] > table.loc["saturated"]).all()


# ---- hand-checkable cases ----------------------------------------------------------------------
def test_distances_of_known_matrices() -> None:
    S = np.eye(4)
    Sigma = np.eye(4)
    assert srmr(S, Sigma) == d_uls(S, Sigma) == d_g(S, Sigma) == 0.0
    Sigma[0, 1] = Sigma[1, 0] = 0.3
    # one residual pair: d_ULS = 1/2 (0.3^2 + 0.3^2); SRMR over 4*5/2 = 10 lower-triangle cells
    assert d_uls(S, Sigma) == pytest.approx(0.09, abs=1e-15)
    assert srmr(S, Sigma) == pytest.approx(math.sqrt(0.09 / 10), abs=1e-15)
    # eigenvalues of I^-1 Sigma: 1.3, 0.7, 1, 1
    assert d_g(S, Sigma) == pytest.approx(0.5 * (math.log(1.3) ** 2 + math.log(0.7) ** 2),
                                          abs=1e-14)
    # Sigma = c S: every eigenvalue of S^-1 Sigma is c
    rng = np.random.default_rng(0)
    A = rng.standard_normal((50, 5))
    S = np.corrcoef(A, rowvar=False)
    assert d_g(S, 1.5 * S) == pytest.approx(0.5 * 5 * math.log(1.5) ** 2, abs=1e-12)


def test_d_g_is_nan_with_a_warning_when_sigma_is_not_positive_definite() -> None:
    Sigma = np.array([[1.0, 1.2], [1.2, 1.0]])
    with pytest.warns(InadmissibleSolutionWarning, match="not positive definite"):
        assert math.isnan(d_g(np.eye(2), Sigma))


def _composite_ecsi(ecsi: Model) -> Model:
    return replace(ecsi, scale=None, constructs=tuple(
        Construct(c.name, c.indicators, Mode.COMPOSITE_B, c.label) for c in ecsi.constructs))


def test_exact_composite_population_fits_perfectly_under_pls(ecsi: Model) -> None:
    # The population follows the composite model and the structural model (uncorrelated
    # structural errors); PLS Mode B recovers it exactly from exact moments, so both implied
    # matrices equal S and every distance is 0 up to the convergence tolerance.
    model = _composite_ecsi(ecsi)
    weights = {i: 1.0 + 0.5 * (k % 3) for k, i in enumerate(model.indicator_names)}
    data = simulate(model, 300, seed=3, exact=True, weights=weights, indicator_correlation=0.4)
    design, S, kernel = _fit(model, data, tol=1e-12)
    table = fit_indices(design, S, kernel)
    np.testing.assert_allclose(table.to_numpy(), 0.0, rtol=0, atol=1e-10)


def test_exact_reflective_population_fits_perfectly_under_plsc_only(ecsi: Model) -> None:
    model = replace(ecsi, scale=None)
    loadings = {i: LOADINGS[k % len(LOADINGS)] for k, i in enumerate(model.indicator_names)}
    loadings["CUSCO"] = 1 - 1e-12  # PLSc takes a single indicator as error-free
    data = simulate(model, 400, seed=7, exact=True, loadings=loadings)
    design, S, kernel = _fit(model, data)
    table = fit_indices(design, S, consistent(design, S, kernel))
    np.testing.assert_allclose(table.to_numpy(), 0.0, rtol=0, atol=1e-10)
    # the composite model (plain PLS) cannot reproduce common-factor correlations
    assert fit_indices(design, S, kernel).loc["saturated", "srmr"] > 1e-3


def test_structurally_saturated_model_implies_the_estimated_construct_correlations(
        ecsi: Model, mobi: pd.DataFrame) -> None:
    # IMAG -> CUEX, IMAG -> CUSA, CUEX -> CUSA links every pair: nothing is restricted.
    keep = ("IMAG", "CUEX", "CUSA")
    model = Model(name="triangle", constructs=tuple(ecsi.construct(c) for c in keep),
                  paths=(Path("IMAG", "CUEX"), Path("IMAG", "CUSA"), Path("CUEX", "CUSA")))
    design, S, kernel = _fit(model, mobi)
    P = implied_construct_correlation(kernel.C, kernel.B, design.D, design.names)
    np.testing.assert_allclose(P, kernel.C, rtol=0, atol=1e-12)
    table = fit_indices(design, S, kernel)
    np.testing.assert_allclose(table.loc["estimated"], table.loc["saturated"], rtol=1e-10)
