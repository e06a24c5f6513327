"""Frozen result objects: tidy pandas tables, a text/HTML summary and a JSON view."""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._typing import FloatArray, IntArray
from .errors import ConvergenceWarning, OptionError
from .models.model import Model
from .summary import Section, Summary, SummaryMixin

if TYPE_CHECKING:
    from .data import PreparedData
    from .estimation.bootstrap import BootstrapResult
    from .estimation.design import PLSDesign
    from .estimation.pls import PLSKernelResult
    from .estimation.plsc import PLScResult
    from .indices import IPMAResult

__all__ = ["DataInfo", "PLSResult"]

BOOTSTRAP_COLUMNS = ["std_error", "t_value", "p_value", "ci_lower", "ci_upper"]


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


def _square(table: pd.DataFrame) -> dict[str, dict[str, Any]]:
    return {str(r): {str(c): _plain(v) for c, v in row.items()} for r, row in table.iterrows()}


def _plain(v: Any) -> Any:
    """A JSON-safe Python scalar (NaN -> None)."""
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


@dataclass(frozen=True)
class _TableLayout:
    """The label columns of a model's estimate tables, built once per model object.

    Building string columns is most of the cost of a small table in pandas, so the tables of
    every fit of a model share these (copy-on-write keeps them unchanged) and only the
    estimate column is new.
    """

    paths: pd.DataFrame            # source, target, estimate (0: filled per fit)
    path_cells: tuple[IntArray, IntArray]   # (target, source) positions in B
    outer: pd.DataFrame            # construct, indicator, estimate (0: filled per fit)
    outer_cells: tuple[IntArray, IntArray]  # (indicator, construct) positions in W and L
    endogenous: IntArray
    endogenous_index: pd.Index

    @classmethod
    def of(cls, model: Model) -> _TableLayout:
        """The layout of ``model``'s tables, built once per model object."""
        return model.derived("pls_table_layout", cls._build)

    @classmethod
    def _build(cls, model: Model) -> _TableLayout:
        from .estimation.design import PLSDesign

        design = PLSDesign.of(model)
        names = design.names
        paths = pd.DataFrame({"source": [p.source for p in model.paths],
                              "target": [p.target for p in model.paths],
                              "estimate": np.zeros(len(model.paths))})
        outer = pd.DataFrame({"construct": [names[o] for o in design.owner],
                              "indicator": list(design.indicators),
                              "estimate": np.zeros(len(design.indicators))})
        layout = cls(
            paths=paths,
            path_cells=(np.array([names.index(p.target) for p in model.paths], dtype=np.intp),
                        np.array([names.index(p.source) for p in model.paths], dtype=np.intp)),
            outer=outer, outer_cells=(np.arange(len(design.indicators)), design.owner),
            endogenous=np.array([names.index(c) for c in model.endogenous], dtype=np.intp),
            endogenous_index=pd.Index(list(model.endogenous)))
        return layout


def _filled(template: pd.DataFrame, estimate: FloatArray) -> pd.DataFrame:
    """A new table: ``template``'s label columns (shared) and ``estimate`` as its last column
    (``isetitem`` always inserts a new array, never writes into the template's)."""
    table = template.copy(deep=False)
    table.isetitem(table.shape[1] - 1, estimate)
    return table


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
    arrays W, C, L, B) are what the tables and statistics are computed from, on first use:
    a fit itself computes only the arrays.

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
    data_info: DataInfo
    design: PLSDesign
    correlation: FloatArray
    kernel: PLSKernelResult
    bootstrap: BootstrapResult | None = None
    plsc: PLScResult | None = None
    data: PreparedData | None = field(default=None, repr=False)
    negative_weights: str = "error"
    max_ci_width: float = 4.0
    settings: dict[str, Any] = field(default_factory=dict)

    # ---- the estimates as tidy tables (built on first use: a fit computes only arrays) ----
    def _with_inference(self, table: pd.DataFrame, name: str, keys: list[str]) -> pd.DataFrame:
        boot = self.bootstrap
        if boot is None:
            return table
        inference = boot.tables[name]
        if self.settings.get("ci_method") == "bca":
            inference = inference.drop(columns=["ci_lower", "ci_upper"]).rename(
                columns={"bca_lower": "ci_lower", "bca_upper": "ci_upper"})
        return table.merge(inference[keys + BOOTSTRAP_COLUMNS], on=keys, how="left",
                           validate="one_to_one")

    @cached_property
    def _layout(self) -> _TableLayout:
        return _TableLayout.of(self.model)

    @cached_property
    def paths(self) -> pd.DataFrame:
        """Path coefficients: source, target, estimate (and bootstrap columns when run)."""
        layout = self._layout
        table = _filled(layout.paths, self.kernel.B[layout.path_cells])
        return self._with_inference(table, "paths", ["source", "target"])

    @cached_property
    def loadings(self) -> pd.DataFrame:
        """Outer loadings: construct, indicator, estimate (standardised indicators)."""
        layout = self._layout
        return self._with_inference(_filled(layout.outer, self.kernel.L[layout.outer_cells]),
                                    "loadings", ["construct", "indicator"])

    @cached_property
    def weights(self) -> pd.DataFrame:
        """Outer weights: construct, indicator, estimate (standardised indicators)."""
        layout = self._layout
        return self._with_inference(_filled(layout.outer, self.kernel.W[layout.outer_cells]),
                                    "weights", ["construct", "indicator"])

    @cached_property
    def cross_loadings(self) -> pd.DataFrame:
        """Correlations of every indicator with every construct."""
        return pd.DataFrame(self.kernel.L, index=list(self.design.indicators),
                            columns=list(self.design.names))

    @cached_property
    def effects(self) -> pd.DataFrame:
        """Direct, indirect and total effects: source, target, direct, indirect, total."""
        from .estimation.effects import effects_table

        return effects_table(self.kernel.B, self.design.D, self.design.names)

    @cached_property
    def r_squared(self) -> pd.Series:
        """R² of each endogenous construct."""
        layout = self._layout
        return pd.Series(self.kernel.r_squared[layout.endogenous], index=layout.endogenous_index,
                         name="r_squared")

    @cached_property
    def adj_r_squared(self) -> pd.Series:
        """R² adjusted for the number of predictors and rows."""
        layout = self._layout
        n_pred = self.design.D.sum(axis=1)[layout.endogenous]
        n = self.n_obs
        with np.errstate(divide="ignore", invalid="ignore"):
            adj = 1 - (1 - self.kernel.r_squared[layout.endogenous]) * (n - 1) / (n - n_pred - 1)
        return pd.Series(adj, index=layout.endogenous_index, name="adj_r_squared")

    @cached_property
    def construct_correlations(self) -> pd.DataFrame:
        """Correlations of the construct scores (corrected ones for PLSc)."""
        names = list(self.design.names)
        return pd.DataFrame(self.kernel.C, index=names, columns=names)

    @cached_property
    def indicator_means(self) -> pd.Series:
        """Indicator means (weighted with survey weights) on the item scale."""
        assert self.data is not None
        return pd.Series(self.data.means(), index=list(self.design.indicators))

    @cached_property
    def indicator_std(self) -> pd.Series:
        """Indicator standard deviations (N - 1 denominator)."""
        assert self.data is not None
        return pd.Series(self.data.std(), index=list(self.design.indicators))

    @cached_property
    def scores(self) -> pd.DataFrame:
        """Standardised construct scores, one row per row of the data used.

        Computed on first use; for data streamed from Parquet or Dask this reads the rows
        again (they must then fit in memory).
        """
        assert self.data is not None
        return pd.DataFrame(self.data.standardized() @ self.kernel.W, index=self.data.index,
                            columns=list(self.design.names))

    # ---- measurement and structural quality (computed on first use) -----------------------
    @cached_property
    def quality(self) -> pd.DataFrame:
        """Reliability and convergent validity per construct: alpha, rho_a, rho_c, AVE."""
        from .estimation.quality import reliability

        return reliability(self.design, self.correlation, self.kernel)

    @cached_property
    def indicator_reliability(self) -> pd.DataFrame:
        """Squared loadings: construct, indicator, loading, reliability."""
        return self.loadings[["construct", "indicator", "estimate"]].rename(
            columns={"estimate": "loading"}).assign(
            reliability=lambda t: t["loading"] ** 2)

    @cached_property
    def htmt(self) -> pd.DataFrame:
        """Heterotrait-monotrait ratios (constructs x constructs; Henseler et al. 2015)."""
        from .estimation.quality import htmt

        return htmt(self.design, self.correlation)

    @cached_property
    def htmt2(self) -> pd.DataFrame:
        """HTMT with geometric means (Roemer, Schuberth & Henseler 2021)."""
        from .estimation.quality import htmt

        return htmt(self.design, self.correlation, kind="htmt2")

    @cached_property
    def fornell_larcker(self) -> pd.DataFrame:
        """sqrt(AVE) on the diagonal, construct correlations below it."""
        from .estimation.quality import fornell_larcker

        return fornell_larcker(self.design, self.kernel, self.quality)

    @cached_property
    def outer_vif(self) -> pd.DataFrame:
        """Variance inflation factor of each indicator within its block."""
        from .estimation.quality import outer_vif

        return outer_vif(self.design, self.correlation)

    @cached_property
    def inner_vif(self) -> pd.DataFrame:
        """Variance inflation factor of each predictor of each endogenous construct."""
        from .estimation.quality import inner_vif

        return inner_vif(self.design, self.kernel)

    @cached_property
    def f_squared(self) -> pd.DataFrame:
        """Cohen's f² of each path (model re-estimated without the path, as seminr)."""
        from .estimation.pls_estimator import PLSEstimator
        from .estimation.quality import f_squared

        if self.plsc is not None:
            # PLSc: R² without the path from the corrected construct correlations.
            return f_squared(self.design, self.correlation, self.kernel, reestimate=False)
        estimator = PLSEstimator(scheme=self.scheme, tol=self.tol, max_iter=self.max_iter)
        # The reduced models re-run PLS; report their non-convergence once, not once each.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            table = f_squared(self.design, self.correlation, self.kernel, estimator)
        failed = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
        for w in caught:
            if not issubclass(w.category, ConvergenceWarning):
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        if failed:
            warnings.warn(f"f²: {len(failed)} of the reduced models (one per path) did not "
                          f"converge in max_iter={self.max_iter} iterations; their f² values "
                          "are not reliable.", ConvergenceWarning, stacklevel=2)
        return table

    @cached_property
    def fit(self) -> pd.DataFrame:
        """SRMR, d_ULS and d_G of the saturated and the estimated model.

        For PLS every construct is a composite; for PLSc reflective constructs are common
        factors (see :mod:`csisem.estimation.pls_fit`).
        """
        from .estimation.pls_fit import fit_indices

        estimates = self.plsc if self.plsc is not None else self.kernel
        return fit_indices(self.design, self.correlation, estimates)

    def q_squared(self, omission_distance: int = 7) -> pd.DataFrame:
        """Stone-Geisser Q² by blindfolding (cross-validated redundancy) per endogenous
        construct; see :func:`csisem.estimation.blindfolding.q_squared`.

        Raises
        ------
        OptionError
            If ``omission_distance`` is invalid (for example, it divides the number of rows).
        """
        from .estimation.blindfolding import q_squared
        from .estimation.pls_estimator import PLSEstimator

        if self.data is None:
            raise OptionError("This result holds no data, so Q² cannot be computed.")
        if omission_distance not in self._q2_cache:
            estimator = PLSEstimator(scheme=self.scheme, tol=self.tol, max_iter=self.max_iter)
            self._q2_cache[omission_distance] = q_squared(
                self.design, self.data.values, estimator, omission_distance=omission_distance)
        return self._q2_cache[omission_distance]

    @cached_property
    def _q2_cache(self) -> dict[int, pd.DataFrame]:
        return {}

    @cached_property
    def mediated_effects(self) -> pd.DataFrame:
        """Every directed path with at least one mediator, and its effect."""
        from .estimation.quality import mediated_effects

        return mediated_effects(self.design, self.kernel)

    @cached_property
    def gof(self) -> float:
        """Tenenhaus et al. (2004) GoF. Not a test of model fit (Henseler & Sarstedt 2013)."""
        from .estimation.quality import gof

        return gof(self.design, self.kernel)

    # ---- satisfaction-index outputs (see csisem.indices) ----------------------------------
    @cached_property
    def index(self) -> pd.DataFrame:
        """0-100 index per construct (ACSI method), with bootstrap intervals when run.

        Raises
        ------
        EstimationError
            If an outer weight is negative (unless fitted with ``negative_weights='warn'``).
        OptionError
            If the model has no item scale.
        """
        from .indices import index_table

        return index_table(self)

    @cached_property
    def index_scores(self) -> pd.DataFrame:
        """Each respondent's 0-100 index per construct."""
        from .indices import index_scores

        return index_scores(self)

    @cached_property
    def impacts(self) -> pd.DataFrame:
        """Change in each target index for a 5-point rise in each driver index."""
        from .indices import impacts_table

        return impacts_table(self)

    def ipma(self, target: str) -> IPMAResult:
        """Importance-performance map of the drivers of ``target`` (see csisem.indices)."""
        from .indices import ipma

        return ipma(self, target)

    def plot(self, *, indicators: bool = False, labels: bool = False, stars: bool = True,
             decimals: int = 3, title: str | None = None, ax: Any = None) -> Any:
        """Path diagram with coefficients, significance stars and R² (matplotlib Figure)."""
        from .plotting import path_diagram

        return path_diagram(self.model, self, indicators=indicators, labels=labels,
                            stars=stars, decimals=decimals, title=title, ax=ax)

    def _index_section(self) -> tuple[Section, ...]:
        if self.model.scale is None:
            return ()
        from .errors import CSIError

        try:
            index = self.index
            impacts = self.impacts
        except CSIError as exc:
            return (Section("Index scores (0-100)", pd.DataFrame(), note=str(exc)),)
        note = "ACSI method: unstandardised weights normalised to sum to 1, item means."
        if "wide_ci" in index and index["wide_ci"].any():
            wide = ", ".join(index.loc[index["wide_ci"], "construct"])
            note += (f" Interval wider than {self.max_ci_width:g} points: {wide}.")
        shown = impacts[impacts["target"].isin(self.model.endogenous)]
        return (Section("Index scores (0-100)", index, note=note),
                Section("Impacts (index change for a 5-point rise in the driver)", shown))

    # ---- views ---------------------------------------------------------------------------
    def summary(self) -> Summary:
        """Sections: paths, R², loadings and weights, total effects."""
        m = self.model
        header = {
            "Model": f"{m.name}" + (f" — {m.title}" if m.title else ""),
            "Method": ("Consistent PLS (PLSc)" if self.plsc is not None else "PLS path modelling")
                      + f", {self.scheme} weighting scheme",
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
        quality = self.quality[["construct", "alpha", "rho_a", "rho_c", "ave"]]
        htmt = self.htmt.reset_index(names="construct")
        f2 = self.f_squared.merge(self.inner_vif, on=["source", "target"], how="left")
        boot = self.bootstrap
        path_note = None
        if boot is not None:
            path_note = (f"Bootstrap: {boot.n_valid} of {boot.n_resamples} resamples "
                         f"(seed {boot.seed}); {boot.ci_level:.0%} intervals; two-sided "
                         "p from t with n - 1 df.")
            if boot.failures:
                path_note += " Left out: " + "; ".join(
                    f"{v} ({k})" for k, v in boot.failures.items()) + "."
        sections = (
            Section("Path coefficients", paths, note=path_note),
            Section("R²", r2),
            *self._index_section(),
            Section("Outer loadings and weights", outer),
            Section("Construct reliability and validity", quality,
                    note="alpha: Cronbach; rho_a: Dijkstra-Henseler; rho_c: composite "
                         "reliability; ave: average variance extracted."),
            Section("Discriminant validity (HTMT)", htmt,
                    note="Values above 0.85 (0.90 for similar constructs) suggest a lack of "
                         "discriminant validity (Henseler et al. 2015)."),
            Section("Effect sizes (f²) and collinearity (inner VIF)", f2),
            Section("Model fit", self.fit.reset_index(),
                    note="SRMR below 0.08 is commonly read as good fit (Henseler et al. "
                         "2016). GoF (Tenenhaus et al. 2004) = "
                         f"{self.gof:.3f}; GoF is not a test of fit (Henseler & Sarstedt "
                         "2013)."),
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
        from . import __version__

        return {
            "csisem_version": __version__,
            "settings": {k: _plain(v) for k, v in self.settings.items()},
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
            "quality": {row["construct"]: {k: _plain(row[k]) for k in
                                           ("alpha", "rho_c", "rho_a", "ave")}
                        for row in self.quality.to_dict(orient="records")},
            "htmt": _square(self.htmt),
            "htmt2": _square(self.htmt2),
            "f_squared": _records(self.f_squared),
            "inner_vif": _records(self.inner_vif),
            "outer_vif": _records(self.outer_vif),
            "gof": _plain(self.gof),
            "fit": {**{k: _plain(v) for k, v in self.fit.loc["saturated"].items()},
                    "model": "saturated",
                    "estimated": {k: _plain(v) for k, v in self.fit.loc["estimated"].items()}},
            "q_squared": self._q_squared_dict(),
            **self._index_dict(),
            "construct_correlations": _square(self.construct_correlations),
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

    def _index_dict(self) -> dict[str, Any]:
        """``index`` and ``impacts`` keys, or ``index_error`` when they are refused."""
        if self.model.scale is None:
            return {"index": None, "impacts": None}
        from .errors import CSIError

        try:
            index, impacts = self.index, self.impacts
        except CSIError as exc:
            return {"index": None, "impacts": None, "index_error": str(exc)}
        columns = [c for c in ("estimate", "std_error", "ci_lower", "ci_upper", "wide_ci")
                   if c in index]
        return {
            "index": {row["construct"]: {c: _plain(row[c]) for c in columns}
                      for row in index.to_dict(orient="records")},
            "impacts": _records(impacts.drop(columns=["total_effect"])),
        }

    def _q_squared_dict(self) -> dict[str, Any] | None:
        """Q² (omission distance 7) by construct, or None where 7 divides the sample size."""
        try:
            table = self.q_squared(7)
        except OptionError:
            return None
        return {row.construct: _plain(row.q_squared) for row in table.itertuples()}

    def to_json(self, indent: int | None = 2) -> str:
        """:meth:`to_dict` as a JSON string."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)
