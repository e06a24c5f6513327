"""Modification indices: score tests of the parameters a CB-SEM model fixes (Sörbom 1989).

For each candidate parameter c (a cross-loading ``=~``, an error covariance between two
indicators, a covariance between constructs, or a path between constructs that the model
does not have), at the estimates of the fitted model:

.. math::

    MI_c = N g_c^2 / V_{cc}, \\quad
    V = I_{cc} - I_{cf} I_{ff}^{-1} I_{fc}, \\quad
    EPC_c = -g_c / V_{cc}

with ``g`` the gradient of lavaan's ``fmin`` and ``I`` the unit information (expected, or
observed under FIML/MLR as in the fit) of the model extended by all candidates; MI is a
one-degree-of-freedom chi-square (the drop in chi-square if c were freed), EPC the expected
parameter change (Saris, Satorra & Sörbom 1987) and ``sepc_all`` the EPC standardised as
``std_all``. Equivalent to lavaan's ``modindices()``.
"""

from __future__ import annotations

from itertools import combinations
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .cbsem_objective import MLObjective, numerical_hessian
from .cbsem_ram import RAMKernel

if TYPE_CHECKING:
    from .cbsem import CBSEMState

__all__ = ["modification_indices"]


def _candidates(state: CBSEMState) -> list[tuple[int, str, str, str, str, int, int]]:
    """(group, lhs, op, rhs, matrix, row, col) of every parameter the model fixes."""
    spec, model = state.spec, state.model
    p = spec.n_observed
    rows = spec.rows()
    out = []
    for g in range(spec.n_groups):
        taken = {(r.matrix, min(r.row, r.col), max(r.row, r.col)) if r.matrix == "S"
                 else (r.matrix, r.row, r.col) for r in rows if r.group == g}
        for k, c in enumerate(model.constructs):
            for j, ind in enumerate(spec.observed):
                if ("A", j, p + k) not in taken and ind not in c.indicator_names:
                    out.append((g, c.name, "=~", ind, "A", j, p + k))
        for i, j in combinations(range(p), 2):
            if ("S", i, j) not in taken:
                out.append((g, spec.observed[i], "~~", spec.observed[j], "S", j, i))
        paths = {(x.source, x.target) for x in model.paths}
        for a, b in combinations(range(len(spec.latent)), 2):
            na, nb = spec.latent[a], spec.latent[b]
            if ("S", p + a, p + b) not in taken and (na, nb) not in paths \
                    and (nb, na) not in paths:
                out.append((g, na, "~~", nb, "S", p + b, p + a))
    return out


def modification_indices(state: CBSEMState) -> pd.DataFrame:
    """Modification indices of the fitted model in ``state`` (see the module docstring).

    Returns a table with columns [group], lhs, op, rhs, mi, epc, sepc_all, one row per
    candidate parameter (group by group).
    """
    objective = state.objective
    if not isinstance(objective, MLObjective):
        raise NotImplementedError("modification indices are available for ML fits")
    kernel = state.kernel
    cands = _candidates(state)
    K = kernel.n_free
    n_c = len(cands)
    code = {"A": 0, "S": 1}
    ext = RAMKernel(
        n_observed=kernel.n_observed, n_variables=kernel.n_variables,
        n_groups=kernel.n_groups, n_free=K + n_c, A0=kernel.A0, S0=kernel.S0, m0=kernel.m0,
        slot_group=np.concatenate([kernel.slot_group, [c[0] for c in cands]]).astype(int),
        slot_matrix=np.concatenate([kernel.slot_matrix,
                                    [code[c[4]] for c in cands]]).astype(int),
        slot_row=np.concatenate([kernel.slot_row, [c[5] for c in cands]]).astype(int),
        slot_col=np.concatenate([kernel.slot_col, [c[6] for c in cands]]).astype(int),
        slot_free=np.concatenate([kernel.slot_free, K + np.arange(n_c)]).astype(int))
    ext_obj = MLObjective(ext, objective.blocks, use_means=objective.use_means,
                          n_total=objective.n_total)
    theta = np.concatenate([state.theta, np.zeros(n_c)])
    grad = ext_obj.gradient(theta)
    if state.sample.fiml:
        info = numerical_hessian(ext_obj.gradient, theta)
    else:
        info = ext_obj.expected_information(theta)
    I_ff = info[:K, :K]
    I_cf = info[K:, :K]
    V = np.diag(info[K:, K:]) - np.einsum("ck,ck->c", I_cf @ np.linalg.pinv(I_ff), I_cf)
    g = grad[K:]
    N = objective.n_total
    with np.errstate(divide="ignore", invalid="ignore"):
        mi = np.where(V > 1e-12, N * g ** 2 / V, np.nan)
        epc = np.where(V > 1e-12, -g / V, np.nan)
    implied = kernel.implied(state.theta)
    sepc = []
    for (grp, *_rest, matrix, row, col), e in zip(cands, epc, strict=True):
        imp = implied[grp]
        var = np.diag(imp.sigma_all)
        with np.errstate(divide="ignore", invalid="ignore"):
            if matrix == "A":
                sepc.append(float(e * np.sqrt(var[col]) / np.sqrt(var[row])))
            else:
                a, b = imp.S[row, row], imp.S[col, col]
                sepc.append(float(e / np.sqrt(a * b)) if a > 0 and b > 0 else float("nan"))
    table = pd.DataFrame({
        "group": [state.spec.groups[c[0]] for c in cands],
        "lhs": [c[1] for c in cands], "op": [c[2] for c in cands],
        "rhs": [c[3] for c in cands], "mi": mi, "epc": epc, "sepc_all": sepc})
    if state.spec.n_groups == 1:
        table = table.drop(columns="group")
    return table
