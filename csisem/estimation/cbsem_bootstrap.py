"""Nonparametric bootstrap of a CB-SEM fit (Bollen & Stine 1990's naive bootstrap).

Rows are resampled with replacement within each group (so group sizes stay fixed); each
resample is refitted by csisem's optimiser started at the original estimates (no semopy), and
the free parameters of the resamples give bootstrap standard errors (SD, n - 1) and
percentile intervals, also of the indirect and total effects
(:func:`~csisem.estimation.cbsem_effects.effect_draws`). A resample whose fit fails (a
covariance matrix that is not positive definite, no convergence) is left out and counted.
Under FIML the resampled rows keep their missing cells.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .._typing import FloatArray
from .cbsem_effects import effect_draws
from .cbsem_objective import LOG_2PI, Block, MLObjective, minimize

if TYPE_CHECKING:
    from .cbsem import CBSEMState

__all__ = ["CBSEMBootstrap", "bootstrap_cbsem"]


@dataclass(frozen=True)
class CBSEMBootstrap:
    """Bootstrap results: ``table`` has one row per free parameter (lhs, op, rhs[, group],
    estimate, boot_mean, std_error, ci_lower, ci_upper); ``effects`` one row per
    source -> target pair ([group], source, target, indirect, indirect_std_error,
    indirect_ci_lower, indirect_ci_upper and the same for total); ``draws`` (n_valid × K) the
    resampled estimates."""

    table: pd.DataFrame
    draws: FloatArray
    n_resamples: int
    n_valid: int
    n_failed: int
    seed: int | None
    ci_level: float
    effects: pd.DataFrame | None = None


def _complete_block(g: int, X: FloatArray) -> Block:
    mean = X.mean(axis=0)
    cov = (X - mean).T @ (X - mean) / X.shape[0]
    sign, logdet = np.linalg.slogdet(cov)
    if sign <= 0:
        raise np.linalg.LinAlgError("resampled covariance matrix is not positive definite")
    return Block(group=g, n=X.shape[0], observed=np.arange(X.shape[1]), mean=mean, cov=cov,
                 constant=-logdet - X.shape[1])


def _fiml_blocks(g: int, X: FloatArray) -> list[Block]:
    observed = ~np.isnan(X)
    patterns, inverse = np.unique(observed, axis=0, return_inverse=True)
    out = []
    for k, pattern in enumerate(patterns):
        rows = X[inverse.ravel() == k][:, pattern]
        mean = rows.mean(axis=0)
        out.append(Block(group=g, n=rows.shape[0], observed=np.flatnonzero(pattern),
                         mean=mean, cov=(rows - mean).T @ (rows - mean) / rows.shape[0],
                         constant=int(pattern.sum()) * LOG_2PI))
    return out


def bootstrap_cbsem(state: CBSEMState, *, n_resamples: int, seed: int | None,
                    ci_level: float) -> CBSEMBootstrap:
    """Refit the model of ``state`` (ML estimates; complete data or FIML) on ``n_resamples``
    resamples (see the module docstring)."""
    objective = state.objective
    if not isinstance(objective, MLObjective):
        raise NotImplementedError("the CB-SEM bootstrap is available for ML fits")
    rng = np.random.default_rng(seed)
    sample = state.sample
    draws = []
    failed = 0
    for _ in range(n_resamples):
        blocks: list[Block] = []
        try:
            for g, X in enumerate(sample.values):
                rows = X[rng.integers(0, X.shape[0], X.shape[0])]
                blocks += _fiml_blocks(g, rows) if sample.fiml else [_complete_block(g, rows)]
        except np.linalg.LinAlgError:
            failed += 1
            continue
        refit = MLObjective(state.kernel, blocks, use_means=objective.use_means,
                            n_total=objective.n_total)
        opt = minimize(refit, state.theta, n_obs=objective.n_total, tol=1e-9, max_iter=200)
        if opt.converged and np.all(np.isfinite(opt.theta)):
            draws.append(opt.theta)
        else:
            failed += 1
    D = np.array(draws).reshape(len(draws), len(state.theta))
    alpha = (1 - ci_level) / 2
    rows = state.spec.free_rows()
    table = pd.DataFrame({
        "lhs": rows["lhs"].to_numpy(), "op": rows["op"].to_numpy(),
        "rhs": rows["rhs"].to_numpy(), "kind": rows["kind"].to_numpy(),
        "estimate": state.theta,
        "boot_mean": D.mean(axis=0) if len(D) else np.nan,
        "std_error": D.std(axis=0, ddof=1) if len(D) > 1 else np.nan,
        "ci_lower": np.quantile(D, alpha, axis=0) if len(D) else np.nan,
        "ci_upper": np.quantile(D, 1 - alpha, axis=0) if len(D) else np.nan,
    })
    if state.spec.n_groups > 1:
        table.insert(0, "group", [state.spec.groups[int(g)] for g in rows["group"]])
    effects = effect_draws(state.spec, state.kernel, D, state.theta, ci_level)
    return CBSEMBootstrap(table=table, draws=D, n_resamples=n_resamples, n_valid=len(D),
                          n_failed=failed, seed=seed, ci_level=ci_level, effects=effects)
