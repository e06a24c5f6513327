"""CB-SEM fit indices, information matrices and robust corrections, as lavaan 0.6 defines them.

Names follow lavaan's ``fitMeasures()`` with ``_`` for ``.`` (``rmsea_ci_lower``,
``chisq_scaling_factor``, ...). Conventions (lavaan ``R/lav_fit_*.R``):

- ``chisq = 2 N fmin`` with N, not N - 1 (ML, GLS); for FIML ``2 (logl_h1 - logl)``; for ULS
  Browne's residual-based statistic (normal theory).
- The baseline is the independence model of the indicators (free variances, and free means
  with a mean structure), fitted by the same estimator. It never contains a variance fixed
  at 0, so a single-indicator construct cannot make it infinite.
- CFI ``1 - max(X2 - df, 0) / max(X2 - df, X2_b - df_b, 0)``; TLI
  ``1 - (X2 - df) df_b / ((X2_b - df_b) df)`` (not capped); NFI, RFI, IFI, RNI, PNFI.
- RMSEA ``sqrt(max(X2 / N / df - 1 / N, 0)) sqrt(G)`` with N the total sample size, the 90%
  interval from the noncentral chi-square (Browne & Cudeck 1993) and the p-values of
  RMSEA <= 0.05 (close fit) and RMSEA >= 0.08 (not close fit).
- SRMR as lavaan's ``srmr`` (Bentler): residuals ``(s_ij - sigma_ij) / sqrt(s_ii s_jj)``
  over the lower triangle including the diagonal (and mean residuals ``(m_i - mu_i) /
  sqrt(s_ii)`` with a mean structure), root mean square, groups weighted by n_g / N.
- GFI ``1 - e' W e / s' W s`` with ``s`` the sample moments, ``e`` the residuals and ``W``
  the estimator's weight (ML: the expected information at the implied moments), groups
  weighted by n_g / N; AGFI ``1 - (nel / df)(1 - GFI)``.
- ``logl`` is the full normal log-likelihood; AIC ``-2 logl + 2 npar``; BIC with log N;
  ``bic2`` with log((N + 2) / 24).
- MLR (Yuan & Bentler 2000, Mplus variant): scaling factor
  ``c = [tr(A1^-1 B1) - tr(E^-1 B0)] / df``: A1, B1 the observed and first-order information
  of the saturated model, E the observed information of the model and B0 its first-order
  information; ``chisq_scaled = chisq / c``. ``*_scaled`` indices use the scaled statistics,
  ``*_robust`` ones the corrections of Brosseau-Liard & Savalei (2014) and Brosseau-Liard,
  Savalei & Li (2012).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import optimize, stats

from .._typing import FloatArray

__all__ = ["gfi", "incremental", "information_criteria", "residual_indices", "rmsea",
           "robust_indices"]


def _pvalue(X2: float, df: float) -> float:
    if not np.isfinite(X2) or df <= 0:
        return float("nan")
    return float(stats.chi2.sf(X2, df))


def test_statistic(X2: float, df: float) -> dict[str, float]:
    """``chisq``, ``df`` and ``pvalue``."""
    return {"chisq": X2, "df": df, "pvalue": _pvalue(X2, df)}


def incremental(X2: float, df: float, X2b: float, dfb: float, suffix: str = "",
                c: float = 1.0, cb: float = 1.0) -> dict[str, float]:
    """CFI, TLI (= NNFI), RNI and, without a robust correction, NFI, RFI, IFI, PNFI.

    ``c``/``cb`` are the scaling factors of the model and the baseline for the robust
    versions (Brosseau-Liard & Savalei 2014); then only CFI, TLI, NNFI and RNI are given.
    """
    out: dict[str, float] = {}
    if not all(np.isfinite([X2, df, X2b, dfb])):
        names = ["cfi", "tli", "nnfi", "rni"] + ([] if c != 1 else ["rfi", "nfi", "pnfi", "ifi"])
        return {f"{n}{suffix}": float("nan") for n in names}
    robust = df > 0 and c != 1.0 and cb != 1.0
    t_m = X2 - (c * df if robust else df)
    t_b = X2b - (cb * dfb if robust else dfb)
    t1, t2 = max(t_m, 0.0), max(t_m, t_b, 0.0)
    out[f"cfi{suffix}"] = 1.0 if np.isclose(t1, 0) and np.isclose(t2, 0) else 1 - t1 / t2
    tli = 1 - t_m * dfb / (t_b * df) if df > 0 and abs(t_b * df) > 0 else 1.0
    out[f"tli{suffix}"] = out[f"nnfi{suffix}"] = tli
    out[f"rni{suffix}"] = float("nan") if np.isclose(t_b, 0) else 1 - t_m / t_b
    if robust or suffix == "_robust":
        return out
    if df > dfb:
        out[f"rfi{suffix}"] = float("nan")
    elif df > 0 and dfb > 0:
        a, b = X2b / dfb - X2 / df, X2b / dfb
        out[f"rfi{suffix}"] = 1.0 if a < 0 or b < 0 else a / b
    else:
        out[f"rfi{suffix}"] = 1.0
    if df > dfb or np.isclose(X2b, 0):
        out[f"nfi{suffix}"] = float("nan")
    else:
        out[f"nfi{suffix}"] = (X2b - X2) / X2b if df > 0 else 1.0
    out[f"pnfi{suffix}"] = ((df / dfb) * (X2b - X2) / X2b if dfb > 0 and X2b > 0
                            else float("nan"))
    t = X2b - df
    out[f"ifi{suffix}"] = (1.0 if t < 0 else float("nan") if np.isclose(t, 0)
                           else (X2b - X2) / t)
    return out


def _ncp_root(X2: float, df: float, target: float, upper: float) -> float:
    def f(lam: float) -> float:
        return float(stats.ncx2.cdf(X2, df, lam) if lam > 0 else stats.chi2.cdf(X2, df)) \
            - target

    return float(optimize.brentq(f, 0.0, upper, xtol=1e-14, rtol=1e-14, maxiter=500))


def _cdf(X2: float, df: float, ncp: float) -> float:
    return float(stats.ncx2.cdf(X2, df, ncp) if ncp > 0 else stats.chi2.cdf(X2, df))


def rmsea(X2: float, df: float, N: int, G: int = 1, *, c: float = 1.0, X2_ci: float | None = None,
          suffix: str = "", level: float = 0.90) -> dict[str, float]:
    """RMSEA, its confidence interval and the close/not-close fit p-values.

    ``c`` is the robust scaling factor (Brosseau-Liard et al. 2012); for the robust version
    the interval and p-values use the scaled statistic ``X2_ci`` and the point estimate the
    unscaled ``X2``.
    """
    keys = ["rmsea", "rmsea_ci_lower", "rmsea_ci_upper", "rmsea_pvalue", "rmsea_notclose_pvalue"]
    if not (np.isfinite(X2) and np.isfinite(df) and df > 0):
        zero = dict.fromkeys(keys[:3], 0.0) if df == 0 else {k: float("nan") for k in keys[:3]}
        return {**{f"{k}{suffix}": v for k, v in zero.items()},
                f"rmsea_pvalue{suffix}": float("nan"),
                f"rmsea_notclose_pvalue{suffix}": float("nan")}
    out = {f"rmsea{suffix}": float(np.sqrt(max(X2 / N / df - c / N, 0.0)) * np.sqrt(G))}
    T = X2 if X2_ci is None else X2_ci
    hi_p, lo_p = 1 - (1 - level) / 2, (1 - level) / 2
    if df < 1 or _cdf(T, df, 0.0) < hi_p:
        lower = 0.0
    else:
        lam = _ncp_root(T, df, hi_p, T)
        lower = float(np.sqrt(c * lam / (N * df)) * np.sqrt(G))
    n_rmsea = max(N, 4 * T)
    if df < 1 or _cdf(T, df, n_rmsea) > lo_p or _cdf(T, df, 0.0) < lo_p:
        upper = 0.0
    else:
        lam = _ncp_root(T, df, lo_p, n_rmsea)
        upper = float(np.sqrt(c * lam / (N * df)) * np.sqrt(G))
    out[f"rmsea_ci_lower{suffix}"] = lower
    out[f"rmsea_ci_upper{suffix}"] = upper
    if not suffix:
        out["rmsea_ci_level"] = level
    out[f"rmsea_pvalue{suffix}"] = 1 - _cdf(T, df, N * df / c * 0.05 ** 2 / G)
    out[f"rmsea_notclose_pvalue{suffix}"] = _cdf(T, df, N * df / c * 0.08 ** 2 / G)
    return out


def information_criteria(logl: float, h1_logl: float, npar: int, N: int) -> dict[str, float]:
    """``logl``, ``unrestricted_logl``, AIC, BIC and sample-size adjusted BIC (``bic2``)."""
    return {"logl": logl, "unrestricted_logl": h1_logl, "aic": -2 * logl + 2 * npar,
            "bic": -2 * logl + npar * np.log(N), "bic2": -2 * logl + npar * np.log((N + 2) / 24)}


def residual_indices(covs: Sequence[FloatArray], sigmas: Sequence[FloatArray],
                     means: Sequence[FloatArray], mus: Sequence[FloatArray],
                     n_obs: Sequence[int], *, meanstructure: bool) -> dict[str, float]:
    """RMR, SRMR (Bentler; lavaan's ``srmr``), CRMR and Mplus's SRMR, with and without the
    mean residuals, groups weighted by n_g / N.

    ``covs``/``sigmas`` (p × p) are the sample (or EM) and implied covariances, ``means``/
    ``mus`` (p,) the means (used only with a mean structure). Residuals: raw ``s - sigma``
    (RMR); ``(s_ij - sigma_ij) / sqrt(s_ii s_jj)`` (SRMR, diagonal included); correlation
    residuals off the diagonal (CRMR); Mplus: correlation residuals off the diagonal plus
    relative variance residuals ``(s_ii - sigma_ii) / s_ii``. Mean residuals are divided by
    the sample standard deviations (Mplus: each mean by its own standard deviation).
    """
    N = float(sum(n_obs))
    out = dict.fromkeys(("rmr", "rmr_nomean", "srmr", "srmr_bentler", "srmr_bentler_nomean",
                         "crmr", "crmr_nomean", "srmr_mplus", "srmr_mplus_nomean"), 0.0)

    def rms(*parts: FloatArray) -> float:
        return float(np.sqrt(np.mean(np.concatenate(parts) ** 2)))

    for S, Sig, m, mu, n in zip(covs, sigmas, means, mus, n_obs, strict=True):
        p = S.shape[0]
        w = n / N
        low = np.tril_indices(p)
        strict_low = np.tril_indices(p, -1)
        sd = np.sqrt(np.diag(S))
        sd_hat = np.sqrt(np.diag(Sig))
        raw = (S - Sig)[low]
        bentler = ((S - Sig) / np.outer(sd, sd))[low]
        bollen = (S / np.outer(sd, sd) - Sig / np.outer(sd_hat, sd_hat))[strict_low]
        var_rel = (np.diag(S) - np.diag(Sig)) / np.diag(S)
        nomean = {"rmr_nomean": rms(raw), "srmr_bentler_nomean": rms(bentler),
                  "crmr_nomean": rms(bollen), "srmr_mplus_nomean": rms(bollen, var_rel)}
        if meanstructure:
            total = {"rmr": rms(raw, m - mu), "srmr_bentler": rms(bentler, (m - mu) / sd),
                     "crmr": rms(bollen, (m - mu) / sd),
                     "srmr_mplus": rms(bollen, var_rel, m / sd - mu / sd_hat)}
        else:
            total = {k.removesuffix("_nomean"): v for k, v in nomean.items()}
        for k, v in {**nomean, **total}.items():
            out[k] += w * v
    out["srmr"] = out["srmr_bentler"]
    return out


def gfi(covs: Sequence[FloatArray], sigmas: Sequence[FloatArray], means: Sequence[FloatArray],
        mus: Sequence[FloatArray], weights: Sequence[FloatArray], n_obs: Sequence[int], *,
        meanstructure: bool, df: float) -> dict[str, float]:
    """GFI, AGFI and PGFI (Jöreskog & Sörbom; lavaan's general weighted form).

    ``weights`` (p × p) per group is the estimator's weight matrix W: the cross-product of a
    moment vector is ``0.5 tr((A W)^2)`` for covariances plus ``a' W a`` for means.
    """
    N = float(sum(n_obs))
    value = 0.0
    nel = 0
    for S, Sig, m, mu, W, n in zip(covs, sigmas, means, mus, weights, n_obs, strict=True):
        R = (S - Sig) @ W
        O = S @ W
        t1 = 0.5 * float(np.sum(R * R.T))
        t2 = 0.5 * float(np.sum(O * O.T))
        p = S.shape[0]
        nel += p * (p + 1) // 2
        if meanstructure:
            t1 += float((m - mu) @ W @ (m - mu))
            t2 += float(m @ W @ m)
            nel += p
        value += n / N * (1 - t1 / t2)
    agfi = 1 - (nel / df) * (1 - value) if df > 0 else 1.0
    return {"gfi": value, "agfi": agfi, "pgfi": (df / nel) * value if nel else float("nan")}


def robust_indices(X2: float, df: float, c: float, X2b: float, dfb: float, cb: float, N: int,
                   G: int) -> dict[str, float]:
    """The ``*_scaled`` and ``*_robust`` measures of an MLR fit (see the module docstring)."""
    out: dict[str, float] = {}
    X2s, X2bs = X2 / c, X2b / cb
    out.update({"chisq_scaled": X2s, "df_scaled": df, "pvalue_scaled": _pvalue(X2s, df),
                "chisq_scaling_factor": c, "baseline_chisq_scaled": X2bs,
                "baseline_df_scaled": dfb, "baseline_pvalue_scaled": _pvalue(X2bs, dfb),
                "baseline_chisq_scaling_factor": cb})
    out.update(incremental(X2s, df, X2bs, dfb, suffix="_scaled"))
    out.update(incremental(X2, df, X2b, dfb, suffix="_robust", c=c, cb=cb))
    # lavaan's 'scaled' RMSEA: the unscaled statistic with df replaced by c df
    out.update(rmsea(X2, c * df, N, G, suffix="_scaled"))
    out.update(rmsea(X2, df, N, G, c=c, X2_ci=X2s, suffix="_robust"))
    return out


def other_indices(X2: float, df: float, N: int, npar: int) -> dict[str, float]:
    """Hoelter's critical N (``cn_05``, ``cn_01``), McDonald's MFI and ECVI."""
    if not np.isfinite(X2) or df <= 0:
        return {"cn_05": float("nan"), "cn_01": float("nan"),
                "mfi": float(np.exp(-0.5 * (X2 - df) / N)), "ecvi": X2 / N + 2 * npar / N}
    if X2 <= 0:  # a perfect fit (or one rounded below 0): any N is "critical" (lavaan: Inf)
        cn_05 = cn_01 = float("inf")
    else:
        cn_05 = float(stats.chi2.ppf(0.95, df) / (X2 / N) + 1)
        cn_01 = float(stats.chi2.ppf(0.99, df) / (X2 / N) + 1)
    return {"cn_05": cn_05, "cn_01": cn_01,
            "mfi": float(np.exp(-0.5 * (X2 - df) / N)), "ecvi": X2 / N + 2 * npar / N}


def yuan_bentler_h1_trace(values: Sequence[FloatArray], covs: Sequence[FloatArray],
                          *, meanstructure: bool) -> float:
    """``sum_g tr(A1^-1 B1)`` of the saturated model for complete data.

    For rows ``x_i`` (n × p) with mean ``m`` and covariance ``C`` (denominator n) and
    ``d_i = (x_i - m)' C^-1 (x_i - m)``: ``tr = (mean(d^2) - p) / 2`` (+ p with a mean
    structure), a multivariate-kurtosis term (Mardia 1970) that equals p(p+1)/2 under
    normality.
    """
    total = 0.0
    for X, C in zip(values, covs, strict=True):
        e = X - X.mean(axis=0)
        d = np.einsum("ia,ab,ib->i", e, np.linalg.inv(C), e)
        p = X.shape[1]
        total += 0.5 * (float(np.mean(d ** 2)) - p) + (p if meanstructure else 0)
    return total
