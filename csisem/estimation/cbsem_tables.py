"""Tidy tables of a CB-SEM fit: parameters with Wald inference, the standardised solution,
R², construct correlations, and the checks for inadmissible or near-singular solutions.

Standardised estimates (``std_all``, lavaan's ``std.all``) divide by the model-implied
standard deviations: a loading ``lambda sd(construct) / sd(indicator)``, a path
``beta sd(source) / sd(target)``, a (residual) variance by the total variance, intercepts
and means by the standard deviation. Covariances of residuals become residual correlations
(divided by the square roots of the two residual variances), as lavaan since 0.6.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .._typing import FloatArray
from .cbsem_ram import GroupImplied
from .cbsem_spec import CBSEMSpec

__all__ = ["Admissibility", "check_admissibility", "construct_correlations",
           "parameter_table", "r_squared"]

NEAR_SINGULAR = 0.95
VARIANCE_KINDS = ("error_variance", "variance", "residual_variance")


def _std_all(row: pd.Series, value: float, imp: GroupImplied, p: int) -> float:
    var = np.diag(imp.sigma_all)
    i, j = int(row["row"]), int(row["col"])
    with np.errstate(invalid="ignore", divide="ignore"):
        if row["matrix"] == "A":
            return float(value * np.sqrt(var[j]) / np.sqrt(var[i]))
        if row["matrix"] == "m":
            return float(value / np.sqrt(var[i]))
        if i == j:
            return float(value / var[i])
        a, b = imp.S[i, i], imp.S[j, j]
        if a <= 0 or b <= 0:
            return float("nan")
        return float(value / np.sqrt(a * b))


def parameter_table(spec: CBSEMSpec, theta: FloatArray, vcov: FloatArray,
                    implied: list[GroupImplied], ci_level: float) -> pd.DataFrame:
    """One row per parameter and group: group, lhs, op, rhs, kind, label, free, estimate,
    std_error, z_value, p_value, ci_lower, ci_upper, std_all (Wald z and normal intervals;
    NaN inference for fixed parameters)."""
    t = spec.table
    free = t["free"].to_numpy()
    estimate = np.where(free >= 0, theta[np.clip(free, 0, None)], t["value"].to_numpy(float))
    se_all = np.sqrt(np.clip(np.diag(vcov), 0, None)) if vcov.size else np.zeros(0)
    se = np.where(free >= 0, se_all[np.clip(free, 0, None)] if se_all.size else np.nan, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = estimate / se
    q = stats.norm.ppf(0.5 + ci_level / 2)
    std = [_std_all(row, est, implied[int(row["group"])], spec.n_observed)
           for (_, row), est in zip(t.iterrows(), estimate, strict=True)]
    out = pd.DataFrame({
        "group": [spec.groups[g] for g in t["group"]],
        "lhs": t["lhs"], "op": t["op"], "rhs": t["rhs"], "kind": t["kind"],
        "label": t["label"], "free": free >= 0, "estimate": estimate, "std_error": se,
        "z_value": z, "p_value": 2 * stats.norm.sf(np.abs(z)),
        "ci_lower": np.where(free >= 0, estimate - q * se, estimate),
        "ci_upper": np.where(free >= 0, estimate + q * se, estimate),
        "std_all": std,
    })
    if spec.n_groups == 1:
        out = out.drop(columns="group")
    return out.reset_index(drop=True)


def r_squared(spec: CBSEMSpec, endogenous: tuple[str, ...],
              implied: list[GroupImplied]) -> pd.Series:
    """R² of each endogenous construct, ``1 - residual variance / total variance`` (indexed
    by construct; by (group, construct) with several groups)."""
    p = spec.n_observed
    values, groups, names = [], [], []
    for g, imp in enumerate(implied):
        for name in endogenous:
            k = p + spec.latent.index(name)
            values.append(1 - imp.S[k, k] / imp.sigma_all[k, k])
            groups.append(spec.groups[g])
            names.append(name)
    index = (pd.MultiIndex.from_arrays([groups, names], names=["group", "construct"])
             if spec.n_groups > 1 else pd.Index(names, name="construct"))
    return pd.Series(values, index=index, name="r_squared", dtype=float)


def construct_correlations(spec: CBSEMSpec, imp: GroupImplied) -> pd.DataFrame:
    """Model-implied construct correlations (m × m) of one group."""
    p = spec.n_observed
    C = imp.sigma_all[p:, p:]
    with np.errstate(invalid="ignore", divide="ignore"):
        sd = np.sqrt(np.diag(C))
        R = C / np.outer(sd, sd)
    names = list(spec.latent)
    return pd.DataFrame(R, index=names, columns=names)


@dataclass(frozen=True)
class Admissibility:
    """Problems of a solution: ``inadmissible`` (Heywood cases, correlations beyond ±1, a
    construct covariance matrix that is not positive definite) and ``near_singular`` (a
    construct correlation beyond ±0.95)."""

    inadmissible: tuple[str, ...]
    near_singular: tuple[str, ...]


def check_admissibility(spec: CBSEMSpec, parameters: pd.DataFrame,
                        implied: list[GroupImplied]) -> Admissibility:
    """Inspect the estimates for inadmissible and near-singular solutions."""
    bad: list[str] = []
    near: list[str] = []
    p = spec.n_observed
    free = parameters[parameters["free"] & parameters["kind"].isin(VARIANCE_KINDS)]
    negative = free[free["estimate"] < 0]
    for g, imp in enumerate(implied):
        where = f" in group {spec.groups[g]!r}" if spec.n_groups > 1 else ""
        rows = negative if spec.n_groups == 1 else negative[negative["group"] ==
                                                                spec.groups[g]]
        if len(rows):
            listing = ", ".join(f"{lhs} ~~ {rhs} = {est:.4g}" for lhs, rhs, est in zip(
                rows["lhs"], rows["rhs"], rows["estimate"], strict=True))
            bad.append(f"negative variance estimate(s){where} (Heywood case): {listing}")
        C = imp.sigma_all[p:, p:]
        if C.size:
            if np.linalg.eigvalsh(C).min() <= 0:
                bad.append(f"the construct covariance matrix{where} is not positive definite")
            R = construct_correlations(spec, imp).to_numpy()
            for a in range(len(spec.latent)):
                for b in range(a):
                    r = R[a, b]
                    if not np.isfinite(r):
                        continue
                    pair = f"{spec.latent[b]}-{spec.latent[a]} = {r:.3f}"
                    if abs(r) > 1:
                        bad.append(f"construct correlation {pair}{where} is beyond ±1")
                    elif abs(r) > NEAR_SINGULAR:
                        near.append(f"{pair}{where}")
    return Admissibility(tuple(bad), tuple(near))
