"""The semopy stage of a CB-SEM fit: the first optimisation, whose estimates csisem polishes.

semopy (Meshcheryakov, Igolkina & Samsonova 2021) fits the model written by
:func:`~csisem.estimation.cbsem_syntax.to_semopy_syntax`; its estimates become the start
values of csisem's own Fisher scoring (:func:`~csisem.estimation.cbsem_objective.minimize`),
which converges to lavaan's tolerance and decides convergence itself. semopy's defaults
stop short of the optimum (on PoliticalDemocracy by 0.012, on ECSI/mobi by up to 2.5), bound
variances at 0 and report success on a repaired covariance matrix, so nothing but its
estimates is used, and a failed semopy fit only means default start values.

semopy is imported here, lazily (its import takes 1-2 s): ``import csisem`` does not import
it. Every fit builds a new ``semopy.Model``, because semopy keeps state on the model and in
class attributes shared by all instances.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._typing import FloatArray
from ..models.model import Model
from .cbsem_spec import CBSEMSpec
from .cbsem_syntax import latent_names, to_semopy_syntax

__all__ = ["SemopyStart", "semopy_start"]

CONSTRUCT_KINDS = {"variance", "covariance", "residual_variance", "residual_covariance"}


@dataclass(frozen=True)
class SemopyStart:
    """semopy's fit: the model (``backend``), its estimates mapped to csisem's free
    parameters (NaN where semopy has none) and what went wrong, if anything."""

    backend: Any
    estimates: FloatArray
    message: str


def semopy_start(model: Model, spec: CBSEMSpec, cov: pd.DataFrame, n_obs: int) -> SemopyStart:
    """Fit ``model`` with semopy to the covariance matrix ``cov`` (indicators × indicators;
    several groups pooled) and map its estimates onto ``spec``'s free parameters."""
    estimates = np.full(spec.n_free, np.nan)
    try:
        import semopy
    except ImportError as exc:  # pragma: no cover - semopy is a dependency
        return SemopyStart(None, estimates, f"semopy is not available ({exc})")
    sem = semopy.Model(to_semopy_syntax(model))
    disabled = logging.root.manager.disable
    try:
        # semopy reports through the root logger and warnings; csisem checks the result
        # itself, so these messages (about semopy's own estimates) are not shown.
        logging.disable(logging.WARNING)
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            result = sem.fit(cov=cov, n_samples=n_obs)
            table = sem.inspect(std_est=False)
    except Exception as exc:  # semopy raises bare Exceptions; any failure means default starts
        return SemopyStart(sem, estimates, f"semopy could not fit the model: "
                                           f"{type(exc).__name__}: {exc}")
    finally:
        logging.disable(disabled)
    found: dict[tuple[str, str, str], float] = {}
    for lval, op, rval, est in zip(*(table[c].to_numpy() for c in table.columns[:4]),
                                   strict=True):
        try:
            found[(str(lval), str(op), str(rval))] = float(est)
        except (TypeError, ValueError):
            continue
    lv = latent_names(model)
    for row in spec.free_parameters():
        key = _semopy_key(row.lhs, row.op, row.rhs, row.kind, lv)
        if key is None:
            continue
        value = found.get(key)
        if value is None and key[1] == "~~":
            value = found.get((key[2], key[1], key[0]))
        if value is not None and np.isfinite(value):
            estimates[row.free] = value
    message = "" if getattr(result, "success", True) else f"semopy: {result.message}"
    return SemopyStart(sem, estimates, message)


def _semopy_key(lhs: str, op: str, rhs: str, kind: str,
                lv: dict[str, str]) -> tuple[str, str, str] | None:
    if op == "=~":
        return (rhs, "~", lv[lhs])
    if op == "~":
        return (lv[lhs], "~", lv[rhs])
    if op == "~~":
        if kind in CONSTRUCT_KINDS:
            return (lv[lhs], "~~", lv[rhs])
        return (lhs, "~~", rhs)
    return None
