"""The PLS estimator: options in, a frozen :class:`~csisem.results.PLSResult` out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from .._typing import FloatArray
from ..data import PreparedData, prepare_data
from ..errors import OptionError, SpecError
from ..models.model import Model
from ..options import CIMethod, InnerScheme, MissingPolicy, coerce
from ..results import DataInfo, PLSResult
from .bootstrap import BootstrapResult, check_client
from .design import PLSDesign
from .pls import PLSKernelResult, estimate_pls
from .pls_batch import BatchResult, estimate_pls_batch
from .pls_inference import bootstrap_pls, pls_statistics, reachable_pairs
from .plsc import PLScResult, consistent, consistent_batch

__all__ = ["PLSEstimator", "check_pls_structure"]


def _positive_int(value: object, arg: str, *, allow_zero: bool = False) -> int:
    low = 0 if allow_zero else 1
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        kind = "a non-negative" if allow_zero else "a positive"
        raise OptionError(f"{arg}={value!r} must be {kind} integer.")
    return int(value)


class PLSEstimator:
    """PLS path modelling (Wold 1982; Lohmöller 1989) with Mode A/B outer estimation.

    Parameters
    ----------
    scheme : inner weighting scheme: ``"path"`` (default, as SmartPLS and seminr),
        ``"centroid"`` or ``"factorial"``.
    tol : convergence tolerance on the largest change of an outer weight (default 1e-7, the
        stop criterion of SmartPLS and seminr).
    max_iter : iteration limit (default 300).
    bootstrap : number of bootstrap resamples (0: none). Adds standard errors, t and p values
        and confidence intervals (see :mod:`csisem.estimation.bootstrap`).
    seed : seed of the bootstrap; the same seed gives the same output whatever ``n_jobs``.
    n_jobs : parallel workers for the bootstrap (-1: all cores).
    ci_level : confidence level of the intervals (default 0.95).
    ci_method : ``"percentile"`` (default) or ``"bca"``: which interval fills ``ci_lower`` and
        ``ci_upper`` of the result tables (both are in ``result.bootstrap.tables``).
    progress : show a progress bar on stderr (default: only for a terminal and long runs).
    consistent : apply consistent PLS (PLSc; Dijkstra & Henseler 2015) to the reflective
        constructs: construct correlations, loadings, paths and R² are corrected for
        measurement error (see :mod:`csisem.estimation.plsc`); bootstrap resamples too.
    negative_weights : ``"error"`` (default) refuses a 0-100 index when an outer weight is
        negative; ``"warn"`` computes it with a warning (see :mod:`csisem.indices`).
    max_ci_width : an index whose bootstrap interval is wider than this many points is
        flagged (``wide_ci``; EPSI uses 4).
    client : a ``dask.distributed.Client``: the bootstrap batches run on its cluster, with
        the same numbers as locally (``n_jobs`` is then not used). dask is imported only
        when a client is given.

    ``fit`` changes neither the estimator, the model nor the data: it returns a new result.
    """

    def __init__(self, *, scheme: InnerScheme | str = InnerScheme.PATH, tol: float = 1e-7,
                 max_iter: int = 300, bootstrap: int = 0, seed: int | None = None,
                 n_jobs: int = 1, ci_level: float = 0.95,
                 ci_method: CIMethod | str = CIMethod.PERCENTILE,
                 progress: bool | None = None, consistent: bool = False,
                 negative_weights: str = "error", max_ci_width: float = 4.0,
                 client: Any = None) -> None:
        self.scheme = coerce(InnerScheme, scheme, arg="scheme")
        if isinstance(tol, bool) or not (isinstance(tol, int | float) and 0 < tol < 1):
            raise OptionError(f"tol={tol!r} must be a number between 0 and 1, e.g. 1e-7.")
        self.tol = float(tol)
        self.max_iter = _positive_int(max_iter, "max_iter")
        self.bootstrap = _positive_int(bootstrap, "bootstrap", allow_zero=True)
        if seed is not None:
            _positive_int(seed, "seed", allow_zero=True)
        self.seed = seed
        if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs == 0 \
                or n_jobs < -1:
            raise OptionError(f"n_jobs={n_jobs!r} must be a positive number of workers or -1 "
                              "(all cores).")
        self.n_jobs = n_jobs
        if isinstance(ci_level, bool) or not (isinstance(ci_level, int | float)
                                              and 0 < ci_level < 1):
            raise OptionError(f"ci_level={ci_level!r} must be between 0 and 1, e.g. 0.95.")
        self.ci_level = float(ci_level)
        self.ci_method = coerce(CIMethod, ci_method, arg="ci_method")
        self.progress = progress
        self.consistent = bool(consistent)
        if negative_weights not in ("error", "warn"):
            raise OptionError(f"negative_weights={negative_weights!r} is not supported; "
                              "choose 'error' or 'warn'.")
        self.negative_weights = negative_weights
        if isinstance(max_ci_width, bool) or not (isinstance(max_ci_width, int | float)
                                                  and max_ci_width > 0):
            raise OptionError(f"max_ci_width={max_ci_width!r} must be a positive number of "
                              "index points, e.g. 4.")
        self.max_ci_width = float(max_ci_width)
        self.client = check_client(client)

    def settings(self) -> dict[str, Any]:
        """Every option of this estimator, as plain values (recorded in each result)."""
        return {"method": "plsc" if self.consistent else "pls", "scheme": self.scheme.value,
                "tol": self.tol, "max_iter": self.max_iter, "bootstrap": self.bootstrap,
                "seed": self.seed, "n_jobs": self.n_jobs, "ci_level": self.ci_level,
                "ci_method": self.ci_method.value, "negative_weights": self.negative_weights,
                "max_ci_width": self.max_ci_width,
                "client": None if self.client is None else "dask.distributed"}

    def __repr__(self) -> str:
        boot = f", bootstrap={self.bootstrap}, seed={self.seed}" if self.bootstrap else ""
        plsc = ", consistent=True" if self.consistent else ""
        return (f"PLSEstimator(scheme={self.scheme.value!r}, tol={self.tol:g}, "
                f"max_iter={self.max_iter}{plsc}{boot})")

    def fit(self, model: Model, data: Any, *, columns: Mapping[str, str] | None = None,
            missing: MissingPolicy | str = MissingPolicy.LISTWISE,
            missing_codes: Sequence[float] | Mapping[str, Sequence[float]] | None = None,
            weights: str | Sequence[float] | FloatArray | pd.Series | None = None,
            ) -> PLSResult:
        """Estimate ``model`` on ``data`` (a DataFrame with one column per indicator).

        ``columns``, ``missing``, ``missing_codes`` and ``weights`` (survey weights: a column
        name or one number per row) are passed to :func:`csisem.data.prepare_data`.

        Raises
        ------
        SpecError
            If a construct is not connected to the structural model (PLS needs an inner
            proxy for every construct).
        DataError
            If the data do not fit the model (see :func:`csisem.data.prepare_data`).
        EstimationError
            If the estimation cannot be carried out (collinear Mode B block, ...).
        """
        model.derived("pls_structure_checked", check_pls_structure)  # raises, or once per model
        prepared = prepare_data(model, data, columns=columns, missing=missing,
                                missing_codes=missing_codes, weights=weights)
        design = PLSDesign.of(model)
        S = prepared.correlation()
        kernel = self.estimate(design, S)
        plsc = None
        if self.consistent:
            plsc = consistent(design, S, kernel)
            # The corrected view: PLS weights, corrected correlations, loadings, paths, R²
            # (cross-loadings outside a block stay the PLS ones).
            view = replace(kernel, C=plsc.C, L=np.where(design.M, plsc.Lambda, kernel.L),
                           B=plsc.B, r_squared=plsc.r_squared)
        boot = (self._bootstrap(model, design, prepared, S, kernel) if self.bootstrap
                else None)
        return _build_result(model, prepared, design, S, view if plsc else kernel, self,
                             boot, plsc)

    def estimate(self, design: PLSDesign, S: FloatArray) -> PLSKernelResult:
        """Run the kernel with this estimator's options on a correlation matrix ``S``."""
        return estimate_pls(S, design.M, design.mode_b, design.D, self.scheme, tol=self.tol,
                            max_iter=self.max_iter, names=design.names, plan=design.plan)

    def estimate_batch(self, design: PLSDesign, S: FloatArray,
                       start: FloatArray | None = None) -> BatchResult:
        """The kernel on a stack of correlation matrices (R, J, J); see ``pls_batch``."""
        return estimate_pls_batch(S, design, self.scheme, tol=self.tol, max_iter=self.max_iter,
                                  start=start)

    def _bootstrap(self, model: Model, design: PLSDesign, prepared: PreparedData,
                   S: FloatArray, kernel: PLSKernelResult) -> BootstrapResult:
        paths = [(p.source, p.target) for p in model.paths]
        reachable = reachable_pairs(design)
        transform = ((lambda b, s: consistent_batch(design, s, b)) if self.consistent
                     else None)
        statistics = pls_statistics(
            design, paths, reachable, transform, means=prepared.means(),
            scale=None if model.scale is None else (float(model.scale[0]),
                                                    float(model.scale[1])))
        # Resamples start from the original weights: same fixed point, fewer iterations.
        start = kernel.W[np.arange(len(design.indicators)), design.owner]
        original = self.estimate_batch(design, S[None])  # same iterations as the fit
        # A plain function of S (not a method of self, which holds the client): it is sent
        # to the cluster with the data when there is a client.
        fit_batch = partial(estimate_pls_batch, design=design, scheme=self.scheme,
                            tol=self.tol, max_iter=self.max_iter, start=start)
        return bootstrap_pls(
            prepared.centred(), S, fit_batch, statistics,
            n_resamples=self.bootstrap, seed=self.seed, n_jobs=self.n_jobs,
            ci_level=self.ci_level, n_obs=prepared.n_obs, case_weights=prepared.case_weights,
            progress=self.progress, original=original, client=self.client)


def check_pls_structure(model: Model) -> bool:
    """Raise :class:`SpecError` if a construct has no structural path (no inner proxy);
    True otherwise."""
    if len(model.constructs) < 2:
        raise SpecError(f"Model {model.name!r} has a single construct; PLS path modelling needs "
                        "at least two constructs linked by a path.")
    linked = {p.source for p in model.paths} | {p.target for p in model.paths}
    isolated = [c for c in model.construct_names if c not in linked]
    if isolated:
        raise SpecError(f"Construct(s) {', '.join(isolated)} of model {model.name!r} have no "
                        "structural path; PLS estimates a construct from its neighbours, so "
                        "connect each construct to at least one other.")
    return True


def _build_result(model: Model, prepared: PreparedData, design: PLSDesign, S: FloatArray,
                  k: PLSKernelResult, est: PLSEstimator, boot: BootstrapResult | None,
                  plsc: PLScResult | None) -> PLSResult:
    weighted = prepared.weighted
    return PLSResult(
        model=model, method="plsc" if plsc is not None else "pls",
        scheme=est.scheme.value, n_obs=prepared.n_obs,
        converged=k.converged, n_iter=k.n_iter, tol=est.tol, max_iter=est.max_iter,
        data_info=DataInfo(n_total=prepared.n_total, n_obs=prepared.n_obs,
                           n_dropped=prepared.n_dropped,
                           n_missing_cells=prepared.n_missing_cells,
                           n_imputed_cells=prepared.n_imputed_cells,
                           missing=prepared.missing.value,
                           n_coded_missing=prepared.n_coded_missing, weighted=weighted),
        design=design, correlation=S, kernel=k, bootstrap=boot, plsc=plsc, data=prepared,
        negative_weights=est.negative_weights, max_ci_width=est.max_ci_width,
        settings=est.settings() | {
            "seed": boot.seed if boot is not None else est.seed,
            "missing": prepared.missing.value, "weighted": weighted},
    )
