"""Frozen result objects: tidy pandas tables, a text/HTML summary and a JSON view."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._typing import FloatArray
from .models.model import Model
from .summary import Section, Summary, SummaryMixin

if TYPE_CHECKING:
    from .estimation.bootstrap import BootstrapResult
    from .estimation.design import PLSDesign
    from .estimation.pls import PLSKernelResult

__all__ = ["DataInfo", "PLSResult"]


@dataclass(frozen=True)
class DataInfo:
    """What happened to the data before estimation."""

    n_total: int
    n_obs: int
    n_dropped: int
    n_missing_cells: int
    n_imputed_cells: int
    missing: str
    n_coded_missing: int = 0
    weighted: bool = False


def _records(table: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for row in table.to_dict(orient="records"):
        out.append({k: _plain(v) for k, v in row.items()})
    return out


def _plain(v: Any) -> Any:
    """A JSON-safe Python scalar (NaN -> None)."""
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


@dataclass(frozen=True, repr=False)
class PLSResult(SummaryMixin):
    """The result of a PLS path model fit.

    Tables are plain DataFrames with snake_case columns:

    - ``paths``: source, target, estimate
    - ``loadings`` / ``weights``: construct, indicator, estimate (standardised indicators)
    - ``cross_loadings``: indicators x constructs correlation matrix
    - ``effects``: source, target, direct, indirect, total
    - ``r_squared`` / ``adj_r_squared``: Series indexed by endogenous construct
    - ``construct_correlations``: constructs x constructs
    - ``scores``: construct scores (rows of the data x constructs), standardised

    ``design``, ``correlation`` (the indicator correlation matrix S) and ``kernel`` (the raw
    arrays W, C, L, B) are what the statistics below are computed from.

    Treat the tables as read-only: they are the record of the fit.
    """

    model: Model
    method: str
    scheme: str
    n_obs: int
    converged: bool
    n_iter: int
    tol: float
    max_iter: int
    paths: pd.DataFrame
    loadings: pd.DataFrame
    weights: pd.DataFrame
    cross_loadings: pd.DataFrame
    effects: pd.DataFrame
    r_squared: pd.Series
    adj_r_squared: pd.Series
    construct_correlations: pd.DataFrame
    indicator_means: pd.Series
    indicator_std: pd.Series
    scores: pd.DataFrame
    data_info: DataInfo
    design: PLSDesign
    correlation: FloatArray
    kernel: PLSKernelResult
    bootstrap: BootstrapResult | None = None

    # ---- views ---------------------------------------------------------------------------
    def summary(self) -> Summary:
        """Sections: paths, R², loadings and weights, total effects."""
        m = self.model
        header = {
            "Model": f"{m.name}" + (f" — {m.title}" if m.title else ""),
            "Method": f"{self.method.upper()} path modelling, {self.scheme} weighting scheme",
            "Observations": f"{self.n_obs}" + (
                f" ({self.data_info.n_dropped} of {self.data_info.n_total} dropped: missing "
                "values)" if self.data_info.n_dropped else ""),
            "Converged": f"{'yes' if self.converged else 'NO'} after {self.n_iter} iterations "
                         f"(tol={self.tol:g})",
        }
        paths = self.paths.rename(columns={"estimate": "coefficient"})
        r2 = pd.DataFrame({"construct": self.r_squared.index,
                           "r_squared": self.r_squared.to_numpy(),
                           "adj_r_squared": self.adj_r_squared.to_numpy()})
        outer = self.loadings.rename(columns={"estimate": "loading"}).assign(
            weight=self.weights["estimate"].to_numpy())
        effects = self.effects[self.effects["indirect"].abs() > 0]
        sections = (
            Section("Path coefficients", paths),
            Section("R²", r2),
            Section("Outer loadings and weights", outer),
            Section("Total effects (where an indirect effect exists)", effects),
        )
        footer = None if self.converged else (
            "WARNING: the algorithm did not converge; do not interpret these numbers.")
        return Summary(title="csisem — PLS path model", header=header, sections=sections,
                       footer=footer)

    def __repr__(self) -> str:
        state = "converged" if self.converged else "NOT converged"
        return (f"<PLSResult {self.model.name}: {self.method} ({self.scheme}), n={self.n_obs}, "
                f"{state} in {self.n_iter} iterations>")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-compatible dict; the keys are a stable interface (the CLI prints it)."""
        return {
            "model": self.model.name,
            "method": self.method,
            "scheme": self.scheme,
            "n_obs": self.n_obs,
            "converged": self.converged,
            "n_iter": self.n_iter,
            "paths": _records(self.paths),
            "loadings": _records(self.loadings),
            "weights": _records(self.weights),
            "r_squared": {k: _plain(v) for k, v in self.r_squared.items()},
            "adj_r_squared": {k: _plain(v) for k, v in self.adj_r_squared.items()},
            "effects": _records(self.effects),
            "construct_correlations": {
                r: {c: _plain(v) for c, v in row.items()}
                for r, row in self.construct_correlations.iterrows()},
            "data": {
                "n_total": self.data_info.n_total,
                "n_dropped": self.data_info.n_dropped,
                "n_missing_cells": self.data_info.n_missing_cells,
                "n_imputed_cells": self.data_info.n_imputed_cells,
                "missing": self.data_info.missing,
                "n_coded_missing": self.data_info.n_coded_missing,
                "weighted": self.data_info.weighted,
            },
        }

    def to_json(self, indent: int | None = 2) -> str:
        """:meth:`to_dict` as a JSON string."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)
