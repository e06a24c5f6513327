"""Measurement invariance across groups: configural, metric and scalar CB-SEM fits and their
chi-square difference tests (lavaan's ``lavTestLRT``).

The three models are nested multi-group fits of the same model (Meredith 1993; Vandenberg
& Lance 2000):

- ``configural``: the same model in every group, every parameter free per group;
- ``metric``: loadings equal across groups (``group_equal=["loadings"]``);
- ``scalar``: loadings and indicator intercepts equal; construct means free in the groups
  after the first (``group_equal=["loadings", "intercepts"]``).

Each row is compared with the row above it: ``delta_chisq`` and ``delta_df`` with the
p-value of the chi-square difference test (ML), or for MLR the scaled difference of Satorra
& Bentler (2001), ``(T0 - T1) / c_d`` with ``c_d = (d0 c0 - d1 c1) / (d0 - d1)`` from the
standard statistics T, degrees of freedom d and scaling factors c of the two models (what
lavaan's ``lavTestLRT`` does for MLR fits). ``delta_cfi`` and ``delta_rmsea`` are the changes
in CFI and RMSEA (a drop in CFI of more than 0.01 is a common sign of non-invariance,
Cheung & Rensvold 2002; Chen 2007).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import OptionError
from ..options import GroupEqual, Method, MissingPolicy, coerce

if TYPE_CHECKING:
    from ..cbsem_results import CBSEMResult
    from ..models.model import Model

__all__ = ["LEVELS", "measurement_invariance"]

LEVELS: dict[str, tuple[GroupEqual, ...]] = {
    "configural": (),
    "metric": (GroupEqual.LOADINGS,),
    "scalar": (GroupEqual.LOADINGS, GroupEqual.INTERCEPTS),
}


def measurement_invariance(model: str | Path | Model, data: Any, group: str, *,
                           method: Method | str = Method.ML,
                           columns: Mapping[str, str] | None = None,
                           missing: MissingPolicy | str = MissingPolicy.LISTWISE,
                           missing_codes: Sequence[float] | Mapping[str, Sequence[float]]
                           | None = None,
                           tol: float = 1e-12, max_iter: int = 500) -> pd.DataFrame:
    """Fit the configural, metric and scalar models and compare them (module docstring).

    Parameters
    ----------
    model : a catalogue name, a spec path or a :class:`~csisem.models.Model`.
    data : a DataFrame, a bundled data set name or a file path, with the ``group`` column.
    group : the column that defines the groups.
    method : ``"ml"`` (default), ``"mlr"`` or ``"fiml"``.
    columns, missing, missing_codes, tol, max_iter : as in :func:`csisem.fit`.

    Returns
    -------
    pandas.DataFrame
        One row per model (``configural``, ``metric``, ``scalar``) with columns model,
        npar, chisq, df, cfi, tli, rmsea, srmr, aic, bic, delta_chisq, delta_df, p_value,
        delta_cfi, delta_rmsea (the deltas NaN on the first row); for MLR also
        chisq_scaled, chisq_scaling_factor, cfi_robust, rmsea_robust, delta_cfi_robust and
        delta_rmsea_robust.

    Raises
    ------
    OptionError
        For a method other than ``ml``, ``mlr`` or ``fiml``.
    SpecError, DataError, EstimationError
        As :func:`csisem.fit`.
    """
    from ..api import resolve_data
    from ..models.catalogue import load_model
    from .cbsem import CBSEMEstimator

    chosen = coerce(Method, method, arg="method")
    if chosen not in (Method.ML, Method.MLR, Method.FIML):
        raise OptionError(f"measurement_invariance() compares likelihood fits: use "
                          f"method='ml', 'mlr' or 'fiml', not {chosen.value!r}.")
    spec = load_model(model)
    frame = resolve_data(data)
    fits: dict[str, CBSEMResult] = {}
    for name, equal in LEVELS.items():
        estimator = CBSEMEstimator(method=chosen, tol=tol, max_iter=max_iter,
                                   group_equal=equal)
        fits[name] = estimator.fit(spec, frame, columns=columns, missing=missing,
                                   missing_codes=missing_codes, group=group)
    return invariance_table(fits, robust=chosen is Method.MLR)


def invariance_table(fits: Mapping[str, CBSEMResult], *, robust: bool) -> pd.DataFrame:
    """The comparison table of nested fits given from the least to the most constrained."""
    measures = ["npar", "chisq", "df", "cfi", "tli", "rmsea", "srmr", "aic", "bic"]
    if robust:
        measures += ["chisq_scaled", "chisq_scaling_factor", "cfi_robust", "rmsea_robust"]
    rows = []
    previous = None
    for name, result in fits.items():
        f = result.fit
        row: dict[str, float | str] = {"model": name}
        row.update({m: float(f.get(m, np.nan)) for m in measures})
        delta = {"delta_chisq": np.nan, "delta_df": np.nan, "p_value": np.nan,
                 "delta_cfi": np.nan, "delta_rmsea": np.nan}
        if robust:
            delta.update(delta_cfi_robust=np.nan, delta_rmsea_robust=np.nan)
        if previous is not None:
            d_df = f["df"] - previous["df"]
            d_chisq = f["chisq"] - previous["chisq"]
            if robust:
                c_d = ((f["df"] * f["chisq_scaling_factor"]
                        - previous["df"] * previous["chisq_scaling_factor"]) / d_df
                       if d_df > 0 else np.nan)
                d_chisq = d_chisq / c_d if c_d > 0 else np.nan
            delta.update(delta_chisq=d_chisq, delta_df=d_df,
                         p_value=float(stats.chi2.sf(d_chisq, d_df)) if d_df > 0 else np.nan,
                         delta_cfi=f["cfi"] - previous["cfi"],
                         delta_rmsea=f["rmsea"] - previous["rmsea"])
            if robust:
                delta.update(delta_cfi_robust=f["cfi_robust"] - previous["cfi_robust"],
                             delta_rmsea_robust=f["rmsea_robust"] - previous["rmsea_robust"])
        row.update(delta)
        rows.append(row)
        previous = f
    return pd.DataFrame(rows)
