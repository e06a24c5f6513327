"""Consistent PLS (PLSc): PLS estimates corrected for the common-factor model.

Plain PLS treats every construct as a composite of its indicators. When a construct is a common
factor (``mode: reflective``) its composite contains measurement error, so PLS loadings are
too high and construct correlations (hence path coefficients) too low, even in the population.
Dijkstra & Henseler (2015a) correct both with a reliability, rho_A, computed from the PLS
Mode A weights. The correction is a pure post-processing of the PLS kernel's arrays; shapes
follow the legend in :mod:`csisem.estimation.pls`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace

import numpy as np

from .._typing import BoolArray, FloatArray
from ..errors import EstimationError, InadmissibleSolutionWarning
from .design import PLSDesign
from .pls import PLSKernelResult, estimate_paths
from .pls_batch import BatchResult, estimate_paths_batch

__all__ = ["PLScResult", "calculate_rho_a", "consistent", "consistent_batch"]

# Corrected values are flagged only beyond rounding noise of the correction itself.
_TOL = 1e-10
# Predictor correlation matrices with a larger condition number are treated as singular
# (the same bound the PLS kernel uses for Mode B blocks).
_MAX_COND = 1e12


@dataclass(frozen=True)
class PLScResult:
    """Arrays produced by :func:`consistent` (shapes as in the legend of ``pls.py``).

    ``rho_a`` (K,): the reliability used in the correction -- Dijkstra-Henseler rho_A for a
    reflective construct with two or more indicators, 1 for a single-indicator reflective
    construct, NaN for a composite (not corrected). ``C`` (K×K): corrected construct
    correlations. ``Lambda`` (J×K): loadings, zero outside each block (corrected for reflective
    constructs, the PLS loadings for composites). ``B`` (K×K) and ``r_squared`` (K,): path
    coefficients and R² from ``C``. ``problems``: one sentence per inadmissible value (empty
    when the solution is admissible).
    """

    rho_a: FloatArray
    C: FloatArray
    Lambda: FloatArray
    B: FloatArray
    r_squared: FloatArray
    problems: tuple[str, ...]

    @property
    def admissible(self) -> bool:
        """True when no correction produced an inadmissible value."""
        return not self.problems


def calculate_rho_a(design: PLSDesign, S: FloatArray, W: FloatArray) -> FloatArray:
    """Dijkstra-Henseler reliability rho_A of every construct from its weights.

    Parameters
    ----------
    design : the model's design (block membership ``M``).
    S : (J, J) indicator correlation matrix.
    W : (J, K) outer weights, zero outside each block (Mode A weights for rho_A to be the
        PLSc reliability).

    Returns
    -------
    (K,) rho_A; exactly 1 for a single-indicator block.

    Notes
    -----
    Dijkstra & Henseler (2015a, eq. 9-10): with ``w`` the weights of a block and ``S`` its
    indicator correlations,

    .. math::

        \\hat c^2 = \\frac{w'(S - \\operatorname{diag} S)\\,w}
                         {w'(w w' - \\operatorname{diag}(w w'))\\,w},
        \\qquad
        \\rho_A = \\hat c^2 (w'w)^2 ,

    so that ``rho_A = (w'lambda)^2`` for the corrected loadings ``lambda = c w``. Both
    quadratic forms leave out the diagonal, the only place where the indicators' unique
    variances enter ``S``. The denominator is ``(w'w)^2 - sum(w^4)``, which is zero for a
    single indicator: rho_A is then 1 by definition.
    """
    ww = np.einsum("jk,jk->k", W, W)
    off_s = np.einsum("jk,jl,lk->k", W, S, W) - np.einsum("jk,j,jk->k", W, np.diag(S), W)
    off_ww = ww**2 - np.einsum("jk->k", W**4)
    single = design.M.sum(axis=0) == 1
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = np.where(single, 1.0, ww**2 * off_s / np.where(single, 1.0, off_ww))
    return rho


def consistent(design: PLSDesign, S: FloatArray, kernel: PLSKernelResult) -> PLScResult:
    """Correct a PLS fit for the common-factor model (consistent PLS).

    Parameters
    ----------
    design : the model's design; ``design.reflective`` marks the constructs to correct.
    S : (J, J) indicator correlation matrix the kernel was run on.
    kernel : the PLS fit of ``design`` on ``S`` (reflective constructs have Mode A weights).

    Returns
    -------
    PLScResult
        Inadmissible values are kept (not clipped) and listed in ``problems``.

    Warns
    -----
    InadmissibleSolutionWarning
        Once, listing every problem found: rho_A > 1 or not positive (the correction is then
        undefined and the construct's corrected values are NaN), a corrected construct
        correlation with |r| > 1, a corrected loading with |loading| > 1 (Heywood case), a
        corrected construct correlation matrix that is not positive definite, an R² outside
        [0, 1].

    Raises
    ------
    EstimationError
        If the corrected correlations of a construct's predictors are singular, so that its
        path coefficients are not identified.

    Notes
    -----
    Dijkstra & Henseler (2015a), "Consistent partial least squares path modeling", MIS
    Quarterly 39(2), 297-316, section "Consistent PLS". With ``q_k = rho_A,k`` for a
    reflective construct and ``q_k = 1`` for a composite (its score is the construct itself):

    .. math::

        \\hat\\rho(\\eta_i, \\eta_j) = \\frac{r(\\hat\\eta_i, \\hat\\eta_j)}{\\sqrt{q_i q_j}}
        \\quad (i \\ne j), \\qquad
        \\hat\\lambda_k = \\hat c_k w_k, \\quad \\hat c_k = \\frac{\\sqrt{\\rho_{A,k}}}{w_k' w_k},

    where ``r`` are the PLS construct correlations ``W'SW`` and ``w_k`` the Mode A weights.
    Path coefficients and R² are the OLS solutions on the corrected correlations
    (:func:`~csisem.estimation.pls.estimate_paths`). rho_A of a single indicator is 1, so
    such a construct is the indicator itself (no measurement error is assumed). Only
    ``design.reflective`` constructs are corrected; seminr 0.2.1 also corrects Mode A
    composites when a model contains any reflective construct, csisem does not.
    """
    names = design.names
    refl = design.reflective
    rho_all = calculate_rho_a(design, S, kernel.W)
    rho = np.where(refl, rho_all, np.nan)
    q = np.where(refl, rho_all, 1.0)
    problems: list[str] = []
    bad = refl & ~(q > 0)  # also catches NaN
    for k in np.flatnonzero(bad):
        problems.append(f"rho_A of {names[k]} is {rho[k]:.4g} (not positive), so its "
                        "correction is undefined; its corrected values are NaN")
    for k in np.flatnonzero(refl & (q > 1 + _TOL)):
        problems.append(f"rho_A of {names[k]} is {rho[k]:.4g} > 1")
    q = np.where(bad, np.nan, q)

    C = kernel.C / np.sqrt(np.outer(q, q))  # NaN rows and columns where q is NaN
    np.fill_diagonal(C, np.where(bad, np.nan, 1.0))

    ww = np.einsum("jk,jk->k", kernel.W, kernel.W)
    c = np.sqrt(q) / ww
    member = design.M
    Lambda = np.where(member, np.where(refl, kernel.W * c, kernel.L), 0.0)

    B, r2 = _paths(C, design, bad)

    for i, j in zip(*np.nonzero(np.triu(np.abs(C) > 1 + _TOL, k=1)), strict=True):
        problems.append(f"the corrected correlation of {names[i]} and {names[j]} is "
                        f"{C[i, j]:.4g} (|r| > 1)")
    heywood = member & refl & (np.abs(Lambda) > 1 + _TOL)
    for j, k in zip(*np.nonzero(heywood), strict=True):
        problems.append(f"the corrected loading of {design.indicators[j]} on {names[k]} is "
                        f"{Lambda[j, k]:.4g} (|loading| > 1, Heywood case)")
    ok = ~np.isnan(np.diag(C))
    if ok.sum() > 0:
        smallest = float(np.linalg.eigvalsh(C[np.ix_(ok, ok)]).min())
        if smallest <= 0:
            problems.append("the corrected construct correlation matrix is not positive "
                            f"definite (smallest eigenvalue {smallest:.4g})")
    for k in np.flatnonzero((r2 > 1 + _TOL) | (r2 < -_TOL)):
        problems.append(f"R² of {names[k]} is {r2[k]:.4g} (outside [0, 1])")

    if problems:
        warnings.warn(
            "Consistent PLS gives an inadmissible solution: " + "; ".join(problems) + ". "
            "Check that each reflective block measures one common factor (indicators with "
            "weak or negative correlations), or estimate the flagged constructs as composites.",
            InadmissibleSolutionWarning, stacklevel=2)
    for arr in (rho, C, Lambda, B, r2):
        arr.setflags(write=False)
    return PLScResult(rho_a=rho, C=C, Lambda=Lambda, B=B, r_squared=r2,
                      problems=tuple(problems))


def _paths(C: FloatArray, design: PLSDesign, bad: BoolArray) -> tuple[FloatArray, FloatArray]:
    """Paths and R² from corrected correlations; NaN where a construct's correction failed."""
    D = design.D
    involved_bad = (D & bad[None, :]).any(axis=1) | (bad & D.any(axis=1))
    D_ok = D & ~involved_bad[:, None]
    for k in np.flatnonzero(D_ok.any(axis=1)):
        pred = np.flatnonzero(D_ok[k])
        if np.linalg.cond(C[np.ix_(pred, pred)]) > _MAX_COND:
            raise EstimationError(
                f"After the PLSc correction the predictors of {design.names[k]} "
                f"({', '.join(design.names[p] for p in pred)}) are perfectly collinear, so "
                "their path coefficients are not identified; check the reliabilities (rho_A) "
                "of these constructs or merge them.")
    B, r2 = estimate_paths(np.nan_to_num(C), D_ok)
    B = np.where(D & involved_bad[:, None], np.nan, B)
    r2 = np.where(involved_bad, np.nan, r2)
    return B, r2


def consistent_batch(design: PLSDesign, S: FloatArray, batch: BatchResult) -> BatchResult:
    """The PLSc correction of :func:`consistent` for a stack of fits (the bootstrap).

    Same formulas, vectorised over resamples; no warnings (a resample's inadmissible values
    are kept, as in the single fit), and a resample whose correction is undefined (rho_A not
    positive, singular corrected predictors) is marked invalid.
    """
    W = batch.W
    refl = design.reflective
    single = design.M.sum(axis=0) == 1
    diag_s = np.diagonal(S, axis1=1, axis2=2)
    ww = np.einsum("rjk,rjk->rk", W, W)
    off_s = np.einsum("rjk,rjl,rlk->rk", W, S, W) - np.einsum("rjk,rj,rjk->rk", W, diag_s, W)
    off_ww = ww**2 - (W**4).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = np.where(single, 1.0, ww**2 * off_s / np.where(single, 1.0, off_ww))
        q = np.where(refl, rho, 1.0)
        valid = batch.valid & np.all(q > 0, axis=1)
        q = np.where(valid[:, None], q, 1.0)
        C = batch.C / np.sqrt(q[:, :, None] * q[:, None, :])
        K = C.shape[1]
        C[:, np.arange(K), np.arange(K)] = 1.0
        c = np.sqrt(q) / ww
        Lambda = np.where(design.M & refl, W * c[:, None, :], batch.L)
        B, r2 = estimate_paths_batch(C, design.D)
    valid &= np.isfinite(B).all(axis=(1, 2))
    return replace(batch, C=C, L=Lambda, B=B, r_squared=r2, valid=valid)
