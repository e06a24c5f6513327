"""The frozen result of a covariance-based SEM fit: tidy tables, a summary and a JSON view."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .models.model import Model
from .options import Method
from .results import DataInfo, _plain, _records, _square
from .summary import Section, Summary, SummaryMixin

if TYPE_CHECKING:
    from .estimation.cbsem import CBSEMState
    from .estimation.cbsem_bootstrap import CBSEMBootstrap
    from .estimation.cbsem_data import SampleData
    from .estimation.cbsem_objective import OptimResult
    from .estimation.cbsem_ram import GroupImplied
    from .estimation.cbsem_spec import CBSEMSpec
    from .estimation.cbsem_tables import Admissibility

__all__ = ["CBSEMResult"]

INFERENCE = ["estimate", "std_error", "z_value", "p_value", "ci_lower", "ci_upper", "std_all"]

METHOD_TEXT = {
    "ml": "Maximum likelihood (ML); standard errors from the expected information",
    "mlr": "Maximum likelihood, robust (MLR): Huber-White standard errors (observed "
           "information), Yuan-Bentler scaled chi-square",
    "gls": "Generalised least squares (GLS)",
    "uls": "Unweighted least squares (ULS); normal-theory sandwich standard errors",
    "wls": "Weighted least squares (WLS, asymptotically distribution free): weight the "
           "inverse asymptotic covariance matrix of the sample (co)variances",
    "dwls": "Diagonally weighted least squares (DWLS); standard errors from its own "
            "information (lavaan's se = \"standard\", not robust)",
}

FIT_ROWS = [("chisq", "Chi-square"), ("df", "Degrees of freedom"), ("pvalue", "P-value"),
            ("cfi", "CFI"), ("tli", "TLI"), ("nfi", "NFI"), ("rmsea", "RMSEA"),
            ("rmsea_ci_lower", "RMSEA 90% CI lower"), ("rmsea_ci_upper", "RMSEA 90% CI upper"),
            ("rmsea_pvalue", "P(RMSEA <= 0.05)"), ("srmr", "SRMR"), ("gfi", "GFI"),
            ("agfi", "AGFI"), ("logl", "Log-likelihood"), ("aic", "AIC"), ("bic", "BIC")]


def _number(key: str, value: float) -> str:
    """A fit measure as text: whole numbers for counts, three decimals otherwise."""
    if not np.isfinite(value):
        return ""
    return f"{value:.0f}" if key in ("df", "npar", "ntotal") else f"{value:.3f}"


def _rows(table: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON records of a parameter table, ``std_all`` written as ``std_estimate``."""
    return _records(table.rename(columns={"std_all": "std_estimate"}))


@dataclass(frozen=True, repr=False)
class CBSEMResult(SummaryMixin):
    """The result of a covariance-based SEM fit (:class:`~csisem.CBSEMEstimator`).

    Tables are plain DataFrames with snake_case columns (with several groups each has a
    ``group`` column first):

    - ``parameters``: every parameter, lavaan style: lhs, op, rhs, kind, label, free,
      estimate, std_error, z_value, p_value, ci_lower, ci_upper, std_all
    - ``paths``: source, target and the inference columns
    - ``loadings``: construct, indicator and the inference columns
    - ``r_squared``: Series by endogenous construct (by group and construct)
    - ``effects``: direct, indirect and total effects of every source -> target pair with a
      directed path, with delta-method standard errors, z, p and Wald intervals for the
      indirect and total effects, and their standardised values (``*_std_all``); see
      :mod:`~csisem.estimation.cbsem_effects`. With a bootstrap, ``bootstrap.effects`` has
      their bootstrap standard errors and percentile intervals.
    - ``fit``: Series of fit measures named as lavaan's ``fitMeasures()`` with ``_`` for
      ``.`` (chisq, df, pvalue, cfi, tli, nfi, rmsea, rmsea_ci_lower, rmsea_ci_upper,
      rmsea_pvalue, srmr, gfi, agfi, logl, aic, bic, ...; for MLR also the ``*_scaled`` and
      ``*_robust`` ones)
    - ``vcov``: covariance matrix of the free parameters

    Flags: ``converged`` (csisem's own convergence check), ``admissible`` (no Heywood case,
    no construct correlation beyond ±1) and ``near_singular`` (a construct correlation beyond
    ±0.95); ``warnings`` holds the messages. ``bootstrap`` (when requested) holds bootstrap
    standard errors and percentile intervals per free parameter. ``backend`` is the
    ``semopy.Model`` whose
    estimates started csisem's optimiser (an escape hatch; its numbers are semopy's, not
    these); semopy models cannot be pickled, so a pickled result comes back without it.
    """

    model: Model
    method: str
    n_obs: int
    groups: tuple[str, ...]
    group_sizes: tuple[int, ...]
    converged: bool
    n_iter: int
    admissible: bool
    near_singular: bool
    warnings: tuple[str, ...]
    parameters: pd.DataFrame
    paths: pd.DataFrame
    loadings: pd.DataFrame
    r_squared: pd.Series
    effects: pd.DataFrame
    fit: pd.Series
    vcov: pd.DataFrame
    data_info: DataInfo
    group_equal: tuple[str, ...]
    tol: float
    max_iter: int
    ci_level: float
    optimizer_message: str
    bootstrap: CBSEMBootstrap | None = field(default=None, repr=False, compare=False)
    backend: Any = field(default=None, repr=False, compare=False)
    implied: tuple[GroupImplied, ...] = field(default=(), repr=False, compare=False)
    state: CBSEMState | None = field(default=None, repr=False, compare=False)

    @classmethod
    def build(cls, *, model: Model, method: Method, spec: CBSEMSpec, sample: SampleData,
              state: CBSEMState, parameters: pd.DataFrame, implied: list[GroupImplied],
              vcov: np.ndarray, fit: pd.Series, optim: OptimResult,
              admissibility: Admissibility, notes: tuple[str, ...], backend: Any, tol: float,
              max_iter: int, ci_level: float, group_equal: tuple[str, ...],
              bootstrap: CBSEMBootstrap | None = None) -> CBSEMResult:
        """Assemble the result from the pieces of :meth:`CBSEMEstimator.fit`."""
        from .estimation.cbsem_effects import effects_table
        from .estimation.cbsem_tables import r_squared

        lead = ["group"] if spec.n_groups > 1 else []
        paths = parameters[parameters["kind"] == "path"].rename(
            columns={"lhs": "target", "rhs": "source"})[[*lead, "source", "target", *INFERENCE]]
        loadings = parameters[parameters["kind"] == "loading"].rename(
            columns={"lhs": "construct", "rhs": "indicator"})[
            [*lead, "construct", "indicator", *INFERENCE]]
        names = [f"{r.lhs} {r.op} {r.rhs}".strip() + (f" [{spec.groups[r.group]}]"
                                                       if spec.n_groups > 1 else "")
                 for r in spec.free_parameters()]
        info = DataInfo(n_total=sample.n_total_rows, n_obs=sample.n_total,
                        n_dropped=sample.n_dropped, n_missing_cells=sample.n_missing_cells,
                        n_imputed_cells=0, missing=sample.missing,
                        n_coded_missing=sample.n_coded_missing, weighted=False)
        p = spec.n_observed
        sd_all = [np.sqrt(np.clip(np.diag(imp.sigma_all), 0, None))[p:] for imp in implied]
        effects = effects_table(spec, state.kernel, state.theta, vcov, sd_all, ci_level)
        return cls(
            model=model, method=method.value, n_obs=sample.n_total, groups=sample.groups,
            group_sizes=sample.n_obs, converged=optim.converged, n_iter=optim.n_iter,
            admissible=not admissibility.inadmissible,
            near_singular=bool(admissibility.near_singular), warnings=notes,
            parameters=parameters, paths=paths.reset_index(drop=True),
            loadings=loadings.reset_index(drop=True),
            r_squared=r_squared(spec, model.endogenous, implied), effects=effects, fit=fit,
            vcov=pd.DataFrame(vcov, index=names, columns=names), data_info=info,
            group_equal=group_equal, tol=tol, max_iter=max_iter, ci_level=ci_level,
            optimizer_message=optim.message, bootstrap=bootstrap, backend=backend,
            implied=tuple(implied),
            state=state)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["backend"] = None  # a semopy.Model holds lambdas: not picklable
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    # ---- derived tables ------------------------------------------------------------------
    @cached_property
    def construct_correlations(self) -> pd.DataFrame:
        """Model-implied construct correlations (constructs × constructs; with several groups
        the rows are indexed by (group, construct))."""
        from .estimation.cbsem_tables import construct_correlations

        assert self.state is not None
        tables = [construct_correlations(self.state.spec, imp) for imp in self.implied]
        if len(tables) == 1:
            return tables[0]
        return pd.concat(tables, keys=list(self.groups), names=["group", "construct"])

    @cached_property
    def implied_covariance(self) -> pd.DataFrame:
        """Model-implied indicator covariance matrix (indexed like
        :attr:`construct_correlations`)."""
        names = list(self.model.indicator_names)
        tables = [pd.DataFrame(imp.sigma, index=names, columns=names) for imp in self.implied]
        if len(tables) == 1:
            return tables[0]
        return pd.concat(tables, keys=list(self.groups), names=["group", "indicator"])

    def modification_indices(self, *, minimum: float = 0.0) -> pd.DataFrame:
        """Modification indices (score tests) of the parameters the model fixes; see
        :func:`csisem.estimation.cbsem_modindices.modification_indices`."""
        from .estimation.cbsem_modindices import modification_indices

        assert self.state is not None
        table = modification_indices(self.state)
        return table[table["mi"] >= minimum].reset_index(drop=True)

    # ---- views ---------------------------------------------------------------------------
    def summary(self) -> Summary:
        """Sections: fit, paths, R², loadings, (co)variances (and intercepts)."""
        m = self.model
        obs = f"{self.n_obs}"
        if len(self.groups) > 1:
            obs += " (" + ", ".join(f"{g}: {n}" for g, n in
                                    zip(self.groups, self.group_sizes, strict=True)) + ")"
        di = self.data_info
        if di.n_dropped and di.missing == "listwise":
            obs += f"; {di.n_dropped} of {di.n_total} rows dropped (missing values)"
        elif di.missing == "fiml" and di.n_missing_cells:
            obs += f"; {di.n_missing_cells} missing cells handled by FIML"
        header = {
            "Model": f"{m.name}" + (f" — {m.title}" if m.title else ""),
            "Method": METHOD_TEXT[self.method]
                      + (" (FIML for missing data)" if di.missing == "fiml" else ""),
            "Observations": obs,
            "Converged": f"{'yes' if self.converged else 'NO'} after {self.n_iter} iterations",
            "Admissible": "yes" if self.admissible else "NO (see the warnings below)",
        }
        if self.group_equal:
            header["Equal across groups"] = ", ".join(self.group_equal)
        fit = pd.DataFrame({"measure": [label for _, label in FIT_ROWS],
                            "value": [_number(key, self.fit.get(key, np.nan))
                                      for key, _ in FIT_ROWS]})
        if self.method == "mlr":
            fit["robust"] = [_number(k, self.fit.get(f"{k}_robust",
                                                     self.fit.get(f"{k}_scaled", np.nan)))
                             if k not in ("logl", "aic", "bic", "srmr", "gfi", "agfi") else ""
                             for k, _ in FIT_ROWS]
        lead = ["group"] if len(self.groups) > 1 else []
        cols = ["estimate", "std_error", "z_value", "p_value", "std_all"]
        paths = self.paths[[*lead, "source", "target", *cols]]
        loadings = self.loadings[[*lead, "construct", "indicator", *cols]]
        r2 = self.r_squared.reset_index()
        effects = self.effects[self.effects["indirect_std_error"].notna()][
            [*lead, "source", "target", "direct", "indirect", "indirect_std_error",
             "indirect_p_value", "total", "total_std_error", "total_p_value"]]
        other = self.parameters[self.parameters["op"].isin(["~~", "~1"])]
        other = other[[*lead, "lhs", "op", "rhs", "kind", *cols]]
        sections: tuple[Section, ...] = (
            Section("Model fit", fit,
                    note="Chi-square test of exact fit; CFI/TLI >= 0.95, RMSEA <= 0.06 and "
                         "SRMR <= 0.08 are common cut-offs (Hu & Bentler 1999)."
                         + (" 'robust': Yuan-Bentler scaled / robust versions." if
                            self.method == "mlr" else "")),
            Section("Paths", paths),
            Section("R²", r2),
            Section("Indirect and total effects", effects,
                    note="Unstandardised; delta-method standard errors. Pairs with a direct "
                         "effect only are in result.effects."),
            Section("Loadings", loadings, note="std_all: completely standardised solution."),
            Section("Variances, covariances and means", other),
        )
        if self.bootstrap is not None:
            b = self.bootstrap
            sections += (Section(
                "Bootstrap", b.table.drop(columns="kind"),
                note=f"{b.n_valid} of {b.n_resamples} resamples (seed {b.seed}); standard "
                     f"deviation of the draws and {b.ci_level:.0%} percentile intervals."),)
            if b.effects is not None:
                boot_effects = b.effects[b.effects["indirect_std_error"].notna()]
                sections += (Section("Bootstrap: indirect and total effects", boot_effects),)
        footer = "\n".join(f"WARNING: {w}" for w in self.warnings) or None
        return Summary(title="csisem — covariance-based SEM", header=header,
                       sections=sections, footer=footer)

    def __repr__(self) -> str:
        state = "converged" if self.converged else "NOT converged"
        admissible = "" if self.admissible else ", inadmissible"
        return (f"<CBSEMResult {self.model.name}: {self.method}, n={self.n_obs}, {state} in "
                f"{self.n_iter} iterations{admissible}; chisq={self.fit['chisq']:.3f}, "
                f"df={self.fit['df']:.0f}>")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-compatible dict; the keys shared with :class:`PLSResult` mean the same.

        Keys: ``model``, ``method``, ``n_obs``, ``converged`` and ``paths``, ``loadings``,
        ``r_squared`` as in PLS; ``fit`` with lavaan's measures (``_`` for ``.``) and
        ``loglik`` (the same as ``logl``); ``covariances`` (every ``~~`` row: variances,
        covariances, residual ones), ``intercepts`` (with a mean structure), ``effects``
        and ``parameters``. Every parameter row carries ``estimate`` (unstandardised),
        ``std_error``, ``z_value``, ``p_value``, ``ci_lower``, ``ci_upper`` and
        ``std_estimate`` (the ``std_all`` column of the tables); fixed parameters (a marker
        loading fixed at 1) have null ``std_error``, ``z_value`` and ``p_value``.
        """
        r2 = self.r_squared
        if isinstance(r2.index, pd.MultiIndex):
            r2_out: dict[str, Any] = {}
            for (g, c), v in zip(r2.index.tolist(), r2.to_numpy(), strict=True):
                r2_out.setdefault(str(g), {})[str(c)] = _plain(v)
        else:
            r2_out = {str(k): _plain(v) for k, v in r2.items()}
        fit = {str(k): _plain(v) for k, v in self.fit.items()}
        fit["loglik"] = fit.get("logl")
        correlations = (_square(self.construct_correlations) if len(self.groups) == 1 else
                        {g: _square(pd.DataFrame(self.construct_correlations.loc[g]))
                         for g in self.groups})
        return {
            "model": self.model.name,
            "method": self.method,
            "n_obs": self.n_obs,
            "converged": self.converged,
            "n_iter": self.n_iter,
            "admissible": self.admissible,
            "near_singular": self.near_singular,
            "warnings": list(self.warnings),
            "groups": ([{"group": g, "n_obs": n} for g, n in
                        zip(self.groups, self.group_sizes, strict=True)]
                       if len(self.groups) > 1 else None),
            "group_equal": list(self.group_equal),
            "paths": _rows(self.paths),
            "loadings": _rows(self.loadings),
            "r_squared": r2_out,
            "fit": fit,
            "covariances": _rows(self._other("~~")),
            "intercepts": _rows(self._other("~1")) if (self.parameters["op"] == "~1").any()
            else None,
            "effects": _records(self.effects),
            "parameters": _rows(self.parameters),
            "construct_correlations": correlations,
            "bootstrap": (None if self.bootstrap is None else {
                "n_resamples": self.bootstrap.n_resamples, "n_valid": self.bootstrap.n_valid,
                "seed": self.bootstrap.seed, "ci_level": self.bootstrap.ci_level,
                "parameters": _records(self.bootstrap.table),
                "effects": (None if self.bootstrap.effects is None
                            else _records(self.bootstrap.effects))}),
            "data": {
                "n_total": self.data_info.n_total,
                "n_dropped": self.data_info.n_dropped,
                "n_missing_cells": self.data_info.n_missing_cells,
                "missing": self.data_info.missing,
                "n_coded_missing": self.data_info.n_coded_missing,
            },
        }

    def _other(self, op: str) -> pd.DataFrame:
        """The ``~~`` or ``~1`` rows of :attr:`parameters` (lhs, rhs, kind, inference)."""
        lead = ["group"] if len(self.groups) > 1 else []
        rows = self.parameters[self.parameters["op"] == op]
        cols = ["lhs", "rhs"] if op == "~~" else ["lhs"]
        return rows[[*lead, *cols, "kind", "free", *INFERENCE]]

    def to_json(self, indent: int | None = 2) -> str:
        """:meth:`to_dict` as a JSON string."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)
