"""Assemble every fit measure of a CB-SEM fit (formulas in :mod:`~.cbsem_fit`).

The baseline model is fitted here: the independence model of the indicators, by the same
estimator and on the same data (closed form for ML, where its estimates are the sample
variances and means, or their observed-case versions under FIML).

GLS, WLS and DWLS follow lavaan's conventions for estimators other than ML: they are fitted
to the unbiased covariance matrix (denominator n - 1), their statistic is ``(N - G)`` times
the minimised discrepancy (``N - G`` rather than N), and RMSEA, Hoelter's CN, MFI and ECVI
use ``N - G`` as the sample size (lavaan's ``lav_utils_get_ntotal``); residual-based
measures (SRMR, GFI) compare the implied covariances with that unbiased matrix.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._typing import FloatArray
from ..options import Method
from .cbsem_data import SampleData
from .cbsem_fit import (
    gfi,
    incremental,
    information_criteria,
    other_indices,
    residual_indices,
    rmsea,
    robust_indices,
    test_statistic,
    yuan_bentler_h1_trace,
)
from .cbsem_objective import LSObjective, MLObjective, minimize, numerical_hessian
from .cbsem_ram import RAMKernel
from .cbsem_spec import CBSEMSpec, build_independence_spec, build_saturated_spec
from .cbsem_wls import WLSObjective

__all__ = ["fit_measures"]


def fit_measures(method: Method, spec: CBSEMSpec, kernel: RAMKernel,
                 objective: MLObjective | LSObjective | WLSObjective, theta: FloatArray,
                 sample: SampleData, df: int, *,
                 vcov_parts: dict[str, FloatArray]) -> pd.Series:
    """lavaan's ``fitMeasures()`` for this fit, with ``_`` for ``.`` in the names."""
    N = sample.n_total
    G = len(sample.groups)
    npar = spec.n_free
    likelihood = method in (Method.ML, Method.MLR)
    # the sample size of RMSEA, CN, MFI and ECVI (see the module docstring)
    n_fit = N if likelihood or method is Method.ULS else N - G
    X2, logl = _statistic(method, objective, theta, sample)
    baseline = _baseline(method, spec, objective, sample)
    X2b, dfb = baseline["chisq"], baseline["df"]
    out: dict[str, float] = {"npar": npar, "fmin": X2 / (2 * N)}
    out.update(test_statistic(X2, df))
    robust: dict[str, float] = {}
    if method is Method.MLR:
        h1 = _h1_trace(spec, sample)
        h0 = float(np.trace(vcov_parts["first_order"] @ np.linalg.inv(
            vcov_parts["information"])))
        c = (h1 - h0) / df if df > 0 else float("nan")
        cb = (h1 - baseline["trace_h0"]) / dfb
        robust = robust_indices(X2, df, c, X2b, dfb, cb, N, G)
        if sample.fiml:
            # lavaan's robust CFI/TLI/RMSEA under FIML are Zhang & Savalei's (2023)
            # corrections, not these complete-data ones; not computed yet.
            robust = {k: v for k, v in robust.items() if not k.endswith("_robust")}
        robust["scaling_factor_h1"] = h1 / spec.n_moments()
        robust["scaling_factor_h0"] = h0 / npar
        out.update({k: robust[k] for k in ("chisq_scaled", "df_scaled", "pvalue_scaled",
                                           "chisq_scaling_factor")})
    out.update({"baseline_chisq": X2b, "baseline_df": dfb,
                "baseline_pvalue": test_statistic(X2b, dfb)["pvalue"]})
    out.update({k: v for k, v in robust.items() if k.startswith("baseline_")})
    inc = incremental(X2, df, X2b, dfb)
    out.update({k: inc[k] for k in ("cfi", "tli")})
    out.update({k: v for k, v in robust.items()
                if k in ("cfi_scaled", "tli_scaled", "cfi_robust", "tli_robust")})
    out.update({k: inc[k] for k in ("nnfi", "rfi", "nfi", "pnfi", "ifi", "rni")})
    out.update({k: v for k, v in robust.items()
                if k.endswith("_scaled") and k.split("_")[0] in
                ("nnfi", "rfi", "nfi", "pnfi", "ifi", "rni")})
    out.update({k: v for k, v in robust.items() if k in ("nnfi_robust", "rni_robust")})
    if likelihood:
        out.update(information_criteria(logl, sample.h1_logl, npar, N))
    else:
        out.update(dict.fromkeys(("logl", "unrestricted_logl", "aic", "bic", "bic2"),
                                 float("nan")))
    out["ntotal"] = N
    out["bic2"] = out.pop("bic2")
    out.update({k: v for k, v in robust.items() if k.startswith("scaling_factor")})
    out.update(rmsea(X2, df, n_fit, G))
    out.update({k: v for k, v in robust.items() if k.startswith("rmsea")})
    implied = kernel.implied(theta)
    sigmas = [imp.sigma for imp in implied]
    mus = [imp.mu for imp in implied]
    # the covariance matrices the model was fitted to (unbiased for GLS, WLS, DWLS)
    covs = ([b.cov for b in objective.blocks] if isinstance(objective, LSObjective | WLSObjective)
            else list(sample.covs))
    out.update(residual_indices(covs, sigmas, sample.means, mus, sample.n_obs,
                                meanstructure=spec.meanstructure))
    out.update(other_indices(X2, df, n_fit, npar))
    if isinstance(objective, WLSObjective):
        out.update(_gfi_wls(objective, theta, df))
    else:
        weights = _gfi_weights(method, covs, sigmas)
        out.update(gfi(covs, sigmas, sample.means, mus, weights, sample.n_obs,
                       meanstructure=spec.meanstructure, df=df))
    return pd.Series(out, dtype=float, name="value")


def _gfi_wls(objective: WLSObjective, theta: FloatArray, df: int) -> dict[str, float]:
    """GFI, AGFI, PGFI with the WLS/DWLS weight: ``1 - e'We / s'Ws`` per group."""
    residuals = objective.residuals(theta)
    assert residuals is not None
    value = 0.0
    nel = 0
    for b, s, e, W in zip(objective.blocks, objective.s, residuals, objective.W, strict=True):
        value += b.n / objective.n_total * (1 - float(e @ W @ e) / float(s @ W @ s))
        nel += len(s)
    agfi = 1 - (nel / df) * (1 - value) if df > 0 else 1.0
    return {"gfi": value, "agfi": agfi, "pgfi": (df / nel) * value}


def _statistic(method: Method, objective: MLObjective | LSObjective | WLSObjective,
               theta: FloatArray, sample: SampleData) -> tuple[float, float]:
    """The test statistic and the log-likelihood (NaN for GLS/ULS/WLS/DWLS)."""
    N = sample.n_total
    f = objective.value(theta)
    n_ls = N - len(sample.groups)
    if isinstance(objective, WLSObjective):
        return 2 * n_ls * f, float("nan")
    if method in (Method.ML, Method.MLR):
        if sample.fiml:
            logl = -N * f
            return 2 * (sample.h1_logl - logl), logl
        return 2 * N * f, sample.h1_logl - N * f
    if method is Method.GLS:
        return n_ls * f, float("nan")
    assert isinstance(objective, LSObjective)
    return browne_residual(objective, theta), float("nan")


def browne_residual(objective: LSObjective, theta: FloatArray) -> float:
    """Browne's (1984) residual-based statistic (normal theory, weight from the sample
    covariances): ``N [e'We - (D'We)'(D'WD)^-1 (D'We)]`` with ``W = Gamma_NT^-1``."""
    implied = objective.kernel.implied(theta)
    jac = objective.kernel.jacobian(implied)
    K = objective.kernel.n_free
    a = 0.0
    b = np.zeros(K)
    H = np.zeros((K, K))
    for blk in objective.blocks:
        w = blk.n / objective.n_total
        Ci = np.linalg.inv(blk.cov)
        E = blk.cov - implied[blk.group].sigma
        R = E @ Ci
        a += w * 0.5 * float(np.sum(R * R.T))
        T = np.einsum("ab,kbc->kac", Ci, jac[blk.group][0])
        b += w * 0.5 * np.einsum("kab,ba->k", T, Ci @ E)
        H += w * 0.5 * np.einsum("kab,lba->kl", T, T)
    return objective.n_total * (a - float(b @ np.linalg.solve(H, b)))


def _baseline(method: Method, spec: CBSEMSpec,
              objective: MLObjective | LSObjective | WLSObjective,
              sample: SampleData) -> dict[str, float]:
    """Chi-square, df (and for MLR the trace tr(E^-1 B0)) of the independence model."""
    bspec = build_independence_spec(spec.observed, groups=spec.groups,
                                    meanstructure=spec.meanstructure)
    bkernel = RAMKernel.from_spec(bspec)
    theta = np.zeros(bspec.n_free)
    for r in bspec.free_parameters():
        if sample.fiml:  # start from the observed cells of each indicator
            X = sample.values[r.group][:, r.row]
            X = X[~np.isnan(X)]
            theta[r.free] = X.var() if r.kind == "error_variance" else X.mean()
        else:  # complete data: the sample moments (denominator n), no pass over the rows
            theta[r.free] = (sample.covs[r.group][r.row, r.row] if r.kind == "error_variance"
                             else sample.means[r.group][r.row])
    N = sample.n_total
    dfb = bspec.n_moments() - bspec.n_free
    out: dict[str, float] = {"df": dfb}
    n_ls = N - len(sample.groups)
    if isinstance(objective, WLSObjective):
        wobj = objective.with_kernel(bkernel)
        theta = minimize(wobj, theta, n_obs=N, tol=1e-12, max_iter=200).theta
        out["chisq"] = 2 * n_ls * wobj.value(theta)
        return out
    if isinstance(objective, LSObjective):
        bobj = LSObjective(bkernel, objective.blocks, weight=method.value, n_total=N)
        theta = minimize(bobj, theta, n_obs=N, tol=1e-12, max_iter=200).theta
        out["chisq"] = (n_ls * bobj.value(theta) if method is Method.GLS
                        else browne_residual(bobj, theta))
        return out
    mobj = MLObjective(bkernel, objective.blocks, use_means=spec.meanstructure, n_total=N)
    out["chisq"] = (2 * (sample.h1_logl + N * mobj.value(theta)) if sample.fiml
                    else 2 * N * mobj.value(theta))
    if method is Method.MLR:
        E = numerical_hessian(mobj.gradient, theta)
        scores = mobj.casewise_scores(theta)
        out["trace_h0"] = float(np.trace(scores.T @ scores / N @ np.linalg.inv(E)))
    return out


def _h1_trace(spec: CBSEMSpec, sample: SampleData) -> float:
    """``sum_g tr(A1^-1 B1)`` of the saturated model (closed form for complete data; for
    FIML the observed and first-order information of the EM solution)."""
    if not sample.fiml:
        return yuan_bentler_h1_trace(sample.values, sample.covs,
                                     meanstructure=spec.meanstructure)
    sspec = build_saturated_spec(spec.observed, groups=spec.groups)
    skernel = RAMKernel.from_spec(sspec)
    theta = np.zeros(sspec.n_free)
    for r in sspec.free_parameters():
        theta[r.free] = (sample.means[r.group][r.row] if r.matrix == "m"
                         else sample.covs[r.group][r.row, r.col])
    N = sample.n_total
    sobj = MLObjective(skernel, list(sample.blocks), use_means=True, n_total=N)
    A1 = numerical_hessian(sobj.gradient, theta)
    scores = sobj.casewise_scores(theta)
    return float(np.trace(scores.T @ scores / N @ np.linalg.inv(A1)))


def _gfi_weights(method: Method, covs: list[FloatArray],
                 sigmas: list[FloatArray]) -> list[FloatArray]:
    if method is Method.GLS:
        return [np.asarray(np.linalg.inv(C), dtype=float) for C in covs]
    if method is Method.ULS:
        return [np.eye(C.shape[0]) for C in covs]
    return [np.asarray(np.linalg.inv(S), dtype=float) for S in sigmas]
