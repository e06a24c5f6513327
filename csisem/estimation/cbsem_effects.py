"""Direct, indirect and total effects of a CB-SEM structural model, with delta-method
standard errors (and bootstrap ones when the fit was bootstrapped).

Symbols and shapes (per group; m constructs, K free parameters):

- ``B`` (m × m): the construct block of the RAM matrix ``A``, ``B[target, source]`` the path
  coefficient (unstandardised);
- ``M = (I - B)^-1`` (m × m); total effects ``T = M - I`` (Bollen 1987), indirect effects
  ``T - B``;
- ``J`` (P × K): derivatives of the P reported effects by ``theta``. Since
  ``dM = M dB M``, the derivative of ``T[t, s]`` by the path ``B[i, j]`` is
  ``M[t, i] M[j, s]``; a free parameter held equal across groups or by a label sums its
  slots.

Delta-method covariance ``J V J'`` with ``V`` the covariance matrix of the estimates: what
lavaan reports for defined parameters such as ``ind := a*b`` (Sobel 1982 for one mediator).
Standardised effects (``*_std_all``) multiply by ``sd(source) / sd(target)``, the
model-implied standard deviations (lavaan's ``std.all`` of a defined parameter).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .._typing import FloatArray
from .cbsem_ram import RAMKernel
from .cbsem_spec import CBSEMSpec

__all__ = ["EffectStructure", "effect_draws", "effect_structure", "effects_table"]


@dataclass(frozen=True)
class EffectStructure:
    """The source -> target pairs connected by a directed path of the model, per group:
    ``pairs`` (P,) as (group, source index, target index) into the constructs, and
    ``indirect`` (P,) True where a path of length >= 2 exists."""

    pairs: tuple[tuple[int, int, int], ...]
    indirect: np.ndarray


def effect_structure(spec: CBSEMSpec, kernel: RAMKernel) -> EffectStructure:
    """Pairs with an effect: where the structural model has a directed path (fixed or free),
    whatever the estimates."""
    p, m = spec.n_observed, len(spec.latent)
    D = np.zeros((m, m), dtype=bool)
    for r in spec.rows():
        if r.kind == "path" and r.group == 0:
            D[r.row - p, r.col - p] = True
    reach1 = D.astype(int)
    reach_any = np.linalg.matrix_power(np.eye(m, dtype=int) + reach1, max(m, 1)) > 0
    longer = (reach1 @ reach1 @ reach_any.astype(int)) > 0  # paths of length >= 2
    pairs, indirect = [], []
    for g in range(spec.n_groups):
        for s in range(m):
            for t in range(m):
                if s != t and reach_any[t, s]:
                    pairs.append((g, s, t))
                    indirect.append(bool(longer[t, s]))
    return EffectStructure(tuple(pairs), np.array(indirect, dtype=bool))


def _structural(kernel: RAMKernel, theta: FloatArray) -> FloatArray:
    """``B`` (G × m × m) at ``theta``."""
    A, _, _ = kernel.matrices(theta)
    p = kernel.n_observed
    return A[:, p:, p:]


def effect_values(kernel: RAMKernel, structure: EffectStructure,
                  theta: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Indirect and total effects (P,) of the pairs of ``structure`` at ``theta``."""
    B = _structural(kernel, theta)
    m = B.shape[1]
    T = np.linalg.inv(np.eye(m) - B) - np.eye(m)
    g, s, t = (np.array(x, dtype=int) for x in zip(*structure.pairs, strict=True)) \
        if structure.pairs else (np.zeros(0, int),) * 3
    direct = B[g, t, s]
    # exactly 0 (not rounding error) where the model has no indirect route
    total = np.where(structure.indirect, T[g, t, s], direct)
    return total - direct, total


def _jacobian(kernel: RAMKernel, structure: EffectStructure,
              theta: FloatArray) -> FloatArray:
    """``J`` (P × K) of the total effects (the direct part of an indirect effect is a
    parameter, so ``J`` of the indirect effects is this minus the path's own row)."""
    B = _structural(kernel, theta)
    m = B.shape[1]
    M = np.linalg.inv(np.eye(m)[None] - B)
    p = kernel.n_observed
    slots = np.flatnonzero((kernel.slot_matrix == 0) & (kernel.slot_row >= p)
                           & (kernel.slot_col >= p))
    J = np.zeros((len(structure.pairs), kernel.n_free))
    for k, (g, s, t) in enumerate(structure.pairs):
        for slot in slots:
            if kernel.slot_group[slot] != g:
                continue
            i, j = kernel.slot_row[slot] - p, kernel.slot_col[slot] - p
            J[k, kernel.slot_free[slot]] += M[g, t, i] * M[g, j, s]
    return J


def _direct_rows(kernel: RAMKernel, structure: EffectStructure) -> FloatArray:
    """(P × K) derivative of the direct effect ``B[t, s]`` of each pair."""
    p = kernel.n_observed
    D = np.zeros((len(structure.pairs), kernel.n_free))
    for k, (g, s, t) in enumerate(structure.pairs):
        hit = ((kernel.slot_matrix == 0) & (kernel.slot_group == g)
               & (kernel.slot_row == p + t) & (kernel.slot_col == p + s))
        for slot in np.flatnonzero(hit):
            D[k, kernel.slot_free[slot]] += 1.0
    return D


def effects_table(spec: CBSEMSpec, kernel: RAMKernel, theta: FloatArray, vcov: FloatArray,
                  sd_all: list[FloatArray], ci_level: float) -> pd.DataFrame:
    """One row per source -> target pair with a directed path (see the module docstring).

    Columns ([group], source, target, direct, indirect, indirect_std_error,
    indirect_z_value, indirect_p_value, indirect_ci_lower, indirect_ci_upper, total,
    total_std_error, total_z_value, total_p_value, total_ci_lower, total_ci_upper,
    indirect_std_all, total_std_all); the inference of an indirect effect is NaN where no
    path of length >= 2 exists (it is 0 by the model). ``sd_all`` holds per group the
    model-implied standard deviations of the constructs (m,).
    """
    structure = effect_structure(spec, kernel)
    indirect, total = effect_values(kernel, structure, theta)
    B = _structural(kernel, theta)
    J_total = _jacobian(kernel, structure, theta)
    J_indirect = J_total - _direct_rows(kernel, structure)
    q = stats.norm.ppf(0.5 + ci_level / 2)
    columns: dict[str, object] = {}
    if spec.n_groups > 1:
        columns["group"] = [spec.groups[g] for g, _, _ in structure.pairs]
    columns["source"] = [spec.latent[s] for _, s, _ in structure.pairs]
    columns["target"] = [spec.latent[t] for _, _, t in structure.pairs]
    columns["direct"] = [B[g, t, s] for g, s, t in structure.pairs]
    for name, value, J in (("indirect", indirect, J_indirect), ("total", total, J_total)):
        se = np.sqrt(np.clip(np.einsum("pk,kl,pl->p", J, vcov, J), 0, None))
        if name == "indirect":
            se = np.where(structure.indirect, se, np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = value / se
        columns[name] = value
        columns[f"{name}_std_error"] = se
        columns[f"{name}_z_value"] = z
        columns[f"{name}_p_value"] = 2 * stats.norm.sf(np.abs(z))
        columns[f"{name}_ci_lower"] = value - q * se
        columns[f"{name}_ci_upper"] = value + q * se
    ratio = np.array([sd_all[g][s] / sd_all[g][t] for g, s, t in structure.pairs])
    columns["indirect_std_all"] = indirect * ratio
    columns["total_std_all"] = total * ratio
    return pd.DataFrame(columns)


def effect_draws(spec: CBSEMSpec, kernel: RAMKernel, draws: FloatArray, estimates: FloatArray,
                 ci_level: float) -> pd.DataFrame:
    """Bootstrap standard errors and percentile intervals of the indirect and total effects
    from the resampled parameter vectors ``draws`` (R × K)."""
    structure = effect_structure(spec, kernel)
    indirect, total = effect_values(kernel, structure, estimates)
    R = len(draws)
    P = len(structure.pairs)
    ind = np.zeros((R, P))
    tot = np.zeros((R, P))
    for r, theta in enumerate(draws):
        ind[r], tot[r] = effect_values(kernel, structure, theta)
    alpha = (1 - ci_level) / 2
    columns: dict[str, object] = {}
    if spec.n_groups > 1:
        columns["group"] = [spec.groups[g] for g, _, _ in structure.pairs]
    columns["source"] = [spec.latent[s] for _, s, _ in structure.pairs]
    columns["target"] = [spec.latent[t] for _, _, t in structure.pairs]
    for name, value, D in (("indirect", indirect, ind), ("total", total, tot)):
        columns[name] = value
        columns[f"{name}_std_error"] = D.std(axis=0, ddof=1) if R > 1 else np.full(P, np.nan)
        columns[f"{name}_ci_lower"] = np.quantile(D, alpha, axis=0) if R else np.nan
        columns[f"{name}_ci_upper"] = np.quantile(D, 1 - alpha, axis=0) if R else np.nan
    table = pd.DataFrame(columns)
    no_indirect = ~structure.indirect
    for col in ("indirect_std_error", "indirect_ci_lower", "indirect_ci_upper"):
        table.loc[no_indirect, col] = np.nan
    return table
