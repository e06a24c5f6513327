"""Covariance-based SEM: options in, a frozen :class:`~csisem.cbsem_results.CBSEMResult` out.

The pipeline of :meth:`CBSEMEstimator.fit`:

1. the spec is checked (reflective constructs only) and the data validated
   (:mod:`~csisem.estimation.cbsem_data`: groups, FIML patterns, positive definite
   covariance matrices);
2. the parameter table is built with lavaan's defaults (:mod:`~.cbsem_spec`), and a model
   with more free parameters than sample moments is rejected;
3. semopy fits the model (:mod:`~.cbsem_semopy`); its estimates start csisem's Fisher
   scoring on lavaan's objective (:mod:`~.cbsem_objective`), which converges to a tolerance
   scaled by N and is checked by csisem, not semopy;
4. standard errors come from the expected information (ML), the observed information
   (FIML), a Huber-White sandwich with observed information (MLR, lavaan's default), the
   least-squares sandwich (ULS) or the estimator's own information (GLS, WLS, DWLS:
   lavaan's ``se = "standard"``); a singular information matrix means the model is not
   identified (:class:`~csisem.errors.EstimationError`);
5. fit indices as lavaan defines them (:mod:`~.cbsem_fit`), and the checks for Heywood
   cases and near-singular construct correlations (typed warnings, flags on the result).
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Iterable, Mapping, Sequence
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._typing import FloatArray
from ..errors import ConvergenceWarning, EstimationError, InadmissibleSolutionWarning, OptionError
from ..models.model import Model
from ..options import GroupEqual, Method, MissingPolicy, coerce
from .cbsem_data import SampleData, sample_data
from .cbsem_measures import fit_measures
from .cbsem_objective import Block, LSObjective, MLObjective, minimize, numerical_hessian
from .cbsem_ram import RAMKernel
from .cbsem_semopy import semopy_start
from .cbsem_spec import CBSEMSpec, build_spec, start_values
from .cbsem_syntax import check_cbsem_structure
from .cbsem_tables import check_admissibility, parameter_table
from .cbsem_wls import WLSObjective

if TYPE_CHECKING:
    from ..cbsem_results import CBSEMResult

__all__ = ["CBSEMEstimator", "CBSEMState"]

# The information matrix (scaled to unit diagonal) counts as singular below this smallest
# eigenvalue. Structurally unidentified models give ~1e-15; ECSI on mobi, nearly
# unidentified but estimable (lavaan too), gives ~1e-6.
SINGULAR = 1e-10

LIKELIHOOD_METHODS = (Method.ML, Method.MLR)
# lavaan fits these to the unbiased covariance matrix (denominator n - 1) and uses N - G in
# the test statistic, the standard errors and the RMSEA (lav_utils_get_ntotal).
UNBIASED_METHODS = (Method.GLS, Method.WLS, Method.DWLS)
Objective = MLObjective | LSObjective | WLSObjective


class CBSEMState:
    """What a fit leaves behind for later statistics (modification indices): the
    parameter table, the kernel, the objective and the estimates. Not part of the API."""

    def __init__(self, spec: CBSEMSpec, kernel: RAMKernel, objective: Objective,
                 theta: FloatArray, sample: SampleData, model: Model) -> None:
        self.spec = spec
        self.kernel = kernel
        self.objective = objective
        self.theta = theta
        self.sample = sample
        self.model = model


class CBSEMEstimator:
    """Covariance-based SEM by maximum likelihood (and GLS/ULS/WLS/DWLS), with lavaan's
    numbers.

    Parameters
    ----------
    method : ``"ml"`` (default; standard errors from the expected information, or the
        observed one with FIML), ``"mlr"`` (ML estimates, Huber-White standard errors with
        observed information and the Yuan-Bentler scaled chi-square, as lavaan's MLR),
        ``"gls"``, ``"uls"``, ``"wls"`` (weight: the inverse of the asymptotic covariance
        matrix of the sample (co)variances, lavaan's ``estimator = "WLS"`` for continuous
        data, also called ADF), ``"dwls"`` (its diagonal; lavaan's ``"DWLS"`` with its
        standard errors ``se = "standard"``) or ``"fiml"`` (``"ml"`` with full-information
        ML for missing data; the same as ``missing="fiml"`` in :meth:`fit`).
    tol : convergence tolerance on ``N g' I^-1 g`` (the squared length of the next Fisher
        scoring step in standard-error units); default 1e-12.
    max_iter : iteration limit of csisem's optimiser (default 500).
    ci_level : level of the Wald confidence intervals (default 0.95).
    group_equal : with ``group=`` in :meth:`fit`, parameter kinds held equal across groups
        (``"loadings"``, ``"intercepts"``, ``"means"``, ``"residuals"``,
        ``"residual_covariances"``, ``"lv_variances"``, ``"lv_covariances"``,
        ``"regressions"``; lavaan's ``group.equal``).
    bootstrap : number of bootstrap resamples (0: none; ``ml``/``mlr``): bootstrap standard
        errors and percentile intervals in ``result.bootstrap``
        (:mod:`~csisem.estimation.cbsem_bootstrap`), in addition to the analytic ones.
    seed : seed of the bootstrap.

    ``fit`` changes neither the estimator, the model nor the data: it returns a new result.
    """

    def __init__(self, *, method: Method | str = Method.ML, tol: float = 1e-12,
                 max_iter: int = 500, ci_level: float = 0.95,
                 group_equal: Iterable[GroupEqual | str] = (), bootstrap: int = 0,
                 seed: int | None = None) -> None:
        method = coerce(Method, method, arg="method")
        # "fiml" is ML with missing="fiml" (lavaan: estimator "ML", missing "ml").
        self.full_information = method is Method.FIML
        self.method = Method.ML if self.full_information else method
        if not self.method.is_cbsem:
            choices = ", ".join(repr(m.value) for m in Method if m.is_cbsem)
            raise OptionError(f"method={self.method.value!r} is not a CB-SEM method; "
                              f"CBSEMEstimator takes {choices} (use PLSEstimator for PLS).")
        if isinstance(tol, bool) or not (isinstance(tol, int | float) and 0 < tol < 1):
            raise OptionError(f"tol={tol!r} must be a number between 0 and 1, e.g. 1e-10.")
        if isinstance(max_iter, bool) or not isinstance(max_iter, int | np.integer) \
                or max_iter < 1:
            raise OptionError(f"max_iter={max_iter!r} must be a positive integer.")
        if isinstance(ci_level, bool) or not (isinstance(ci_level, int | float)
                                              and 0 < ci_level < 1):
            raise OptionError(f"ci_level={ci_level!r} must be between 0 and 1, e.g. 0.95.")
        if isinstance(group_equal, str | GroupEqual):
            group_equal = [group_equal]
        if isinstance(bootstrap, bool) or not isinstance(bootstrap, int | np.integer) \
                or bootstrap < 0:
            raise OptionError(f"bootstrap={bootstrap!r} must be a non-negative integer.")
        if bootstrap and self.method not in LIKELIHOOD_METHODS:
            raise OptionError(f"bootstrap= is available with method='ml' or 'mlr', not "
                              f"{self.method.value!r}.")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int | np.integer)
                                 or seed < 0):
            raise OptionError(f"seed={seed!r} must be a non-negative integer.")
        self.bootstrap = int(bootstrap)
        self.seed = seed
        self.tol = float(tol)
        self.max_iter = int(max_iter)
        self.ci_level = float(ci_level)
        self.group_equal = tuple(dict.fromkeys(coerce(GroupEqual, g, arg="group_equal")
                                               for g in group_equal))

    def __repr__(self) -> str:
        equal = (f", group_equal={[g.value for g in self.group_equal]}"
                 if self.group_equal else "")
        boot = f", bootstrap={self.bootstrap}, seed={self.seed}" if self.bootstrap else ""
        name = "fiml" if self.full_information else self.method.value
        return (f"CBSEMEstimator(method={name!r}, tol={self.tol:g}, "
                f"max_iter={self.max_iter}{equal}{boot})")

    def fit(self, model: Model, data: Any, *, columns: Mapping[str, str] | None = None,
            missing: MissingPolicy | str = MissingPolicy.LISTWISE,
            missing_codes: Sequence[float] | Mapping[str, Sequence[float]] | None = None,
            group: str | None = None) -> CBSEMResult:
        """Estimate ``model`` on ``data`` (a DataFrame with one column per indicator).

        ``missing`` is ``"listwise"`` or ``"fiml"`` (full-information ML; methods ``ml``
        and ``mlr``; ``method="fiml"`` implies it). ``group`` names a data column: one model
        per group, with the parameters in ``group_equal`` held equal. ``columns`` and
        ``missing_codes`` are as in :func:`csisem.data.prepare_data`.

        Returns
        -------
        CBSEMResult

        Raises
        ------
        SpecError
            If a construct is a composite.
        DataError
            For bad data, or a covariance matrix that is not positive definite.
        OptionError
            For an option that does not apply (e.g. ``missing="mean"``).
        EstimationError
            If the model is not identified.
        """
        check_cbsem_structure(model)
        policy = coerce(MissingPolicy, missing, arg="missing")
        if self.full_information and policy is not MissingPolicy.MEAN:
            policy = MissingPolicy.FIML
        if policy is MissingPolicy.MEAN:
            raise OptionError("missing='mean' is not available for CB-SEM: mean imputation "
                              "shrinks the covariances. Use missing='listwise' or 'fiml'.")
        if policy is MissingPolicy.FIML and self.method not in LIKELIHOOD_METHODS:
            raise OptionError(f"missing='fiml' needs a likelihood: use method='ml' or 'mlr', "
                              f"not {self.method.value!r}.")
        if self.group_equal and group is None:
            raise OptionError("group_equal= holds parameters equal across groups; it needs "
                              "group= (the column that defines the groups).")
        if group is not None and self.method not in LIKELIHOOD_METHODS:
            raise OptionError(f"group= (multi-group) is available with method='ml' or 'mlr', "
                              f"not {self.method.value!r}.")
        sample = sample_data(model, data, group=group, columns=columns, missing=policy,
                             missing_codes=missing_codes)
        meanstructure = sample.fiml or len(sample.groups) > 1
        spec = build_spec(model, groups=sample.groups, meanstructure=meanstructure,
                          group_equal=self.group_equal)
        df = spec.n_moments() - spec.n_free
        if df < 0:
            raise EstimationError(
                f"Model {model.name!r} is not identified: it has {spec.n_free} free "
                f"parameters but the data give only {spec.n_moments()} sample moments "
                f"(df = {df}). Fix parameters (e.g. loadings or covariances) or add "
                "indicators.")
        with _one_blas_thread():
            result: CBSEMResult = self._estimate(model, spec, sample, df)
        return result

    def _estimate(self, model: Model, spec: CBSEMSpec, sample: SampleData,
                  df: int) -> CBSEMResult:
        from ..cbsem_results import CBSEMResult

        kernel = RAMKernel.from_spec(spec)
        N = sample.n_total
        objective: Objective
        blocks = list(sample.blocks)
        if self.method in UNBIASED_METHODS:
            blocks = [_unbiased(b) for b in blocks]
        if self.method in (Method.GLS, Method.ULS):
            objective = LSObjective(kernel, blocks, weight=self.method.value, n_total=N)
        elif self.method in (Method.WLS, Method.DWLS):
            objective = WLSObjective(kernel, blocks, diagonal=self.method is Method.DWLS,
                                     n_total=N)
        else:
            objective = MLObjective(kernel, list(sample.blocks), use_means=spec.meanstructure,
                                    n_total=N)
        start = semopy_start(model, spec, _pooled_covariance(sample), N)
        default = start_values(spec, list(sample.covs), list(sample.means))
        theta0 = np.where(np.isfinite(start.estimates), start.estimates, default)
        if not np.isfinite(objective.value(theta0)):
            theta0 = default
        opt = minimize(objective, theta0, n_obs=N, tol=self.tol, max_iter=self.max_iter)
        if not np.isfinite(opt.value):
            raise EstimationError(f"Could not estimate model {model.name!r}: "
                                  f"{opt.message}.")
        notes: list[str] = []
        if start.message:
            notes.append(start.message)
        if not opt.converged:
            text = (f"The CB-SEM fit of model {model.name!r} did not converge: {opt.message} "
                    f"(criterion N g'I^-1 g = {opt.criterion:.3g}, tol={self.tol:g}); the "
                    "estimates are not a maximum of the likelihood. Raise max_iter=, or "
                    "simplify the model.")
            warnings.warn(text, ConvergenceWarning, stacklevel=4)
            notes.append(text)
        vcov, information = _vcov(self.method, objective, opt.theta, N, sample.fiml,
                                  len(sample.groups))
        _check_identified(model, spec, information)
        implied = kernel.implied(opt.theta)
        parameters = parameter_table(spec, opt.theta, vcov, implied, self.ci_level)
        admissibility = check_admissibility(spec, parameters, implied)
        if admissibility.inadmissible:
            text = (f"The solution of model {model.name!r} is inadmissible: "
                    + "; ".join(admissibility.inadmissible)
                    + ". Do not interpret it; the model may be misspecified or the sample "
                      "too small.")
            warnings.warn(text, InadmissibleSolutionWarning, stacklevel=4)
            notes.append(text)
        if admissibility.near_singular:
            text = (f"Near-singular construct correlations in model {model.name!r} (|r| > "
                    f"0.95): {', '.join(admissibility.near_singular)}. These constructs are "
                    "barely distinguishable in the data, so the paths among them are "
                    "unstable (large standard errors); consider merging them.")
            warnings.warn(text, InadmissibleSolutionWarning, stacklevel=4)
            notes.append(text)
        fit = fit_measures(self.method, spec, kernel, objective, opt.theta, sample, df,
                           vcov_parts=information)
        state = CBSEMState(spec, kernel, objective, opt.theta, sample, model)
        boot = None
        if self.bootstrap:
            from .cbsem_bootstrap import bootstrap_cbsem

            boot = bootstrap_cbsem(state, n_resamples=self.bootstrap, seed=self.seed,
                                   ci_level=self.ci_level)
            if boot.n_failed:
                text = (f"{boot.n_failed} of {boot.n_resamples} bootstrap resamples could not "
                        "be fitted and were left out.")
                warnings.warn(text, ConvergenceWarning, stacklevel=4)
                notes.append(text)
        return CBSEMResult.build(
            model=model, method=self.method, spec=spec, sample=sample, state=state,
            parameters=parameters, implied=implied, vcov=vcov, fit=fit, optim=opt,
            admissibility=admissibility, notes=tuple(notes), backend=start.backend,
            tol=self.tol, max_iter=self.max_iter, ci_level=self.ci_level,
            group_equal=tuple(g.value for g in self.group_equal), bootstrap=boot)


def _pooled_covariance(sample: SampleData) -> pd.DataFrame:
    """The within-group covariance matrix (EM under FIML), pooled over groups: what semopy
    fits to find start values."""
    C = sum(n / sample.n_total * c for n, c in zip(sample.n_obs, sample.covs, strict=True))
    names = list(sample.indicators)
    return pd.DataFrame(C, index=names, columns=names)


def _one_blas_thread() -> Any:
    """Limit BLAS to one thread: the matrices are small, and on a busy machine two OpenBLAS
    threads made one fit five times slower."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - optional
        return nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _unbiased(block: Block) -> Block:
    """``block`` with its covariance matrix on denominator n - 1 (complete data)."""
    return dataclasses.replace(block, cov=block.cov * block.n / (block.n - 1))


def _vcov(method: Method, objective: Objective, theta: FloatArray, N: int,
          fiml: bool, n_groups: int) -> tuple[FloatArray, dict[str, FloatArray]]:
    """Covariance matrix of the estimates (K × K) and the information matrices used."""
    parts: dict[str, FloatArray] = {}
    if isinstance(objective, WLSObjective):
        info = objective.expected_information(theta)
        parts["information"] = info
        return _inverse(info) / (N - n_groups), parts
    if method is Method.ML:
        if fiml:
            info = numerical_hessian(objective.gradient, theta)
        else:
            info = objective.expected_information(theta)
        parts["information"] = info
        return _inverse(info) / N, parts
    if method is Method.MLR:
        assert isinstance(objective, MLObjective)
        E = numerical_hessian(objective.gradient, theta)
        scores = objective.casewise_scores(theta)
        B0 = scores.T @ scores / N
        parts.update(information=E, first_order=B0)
        E_inv = _inverse(E)
        return E_inv @ B0 @ E_inv / N, parts
    assert isinstance(objective, LSObjective)
    H = objective.expected_information(theta)
    parts["information"] = H
    H_inv = _inverse(H)
    if method is Method.GLS:
        return 2 * H_inv / (N - n_groups), parts
    meat = _uls_meat(objective, theta)
    return H_inv @ meat @ H_inv / N, parts


def _uls_meat(objective: LSObjective, theta: FloatArray) -> FloatArray:
    """Normal-theory variance of sqrt(N) times the ULS gradient (K × K):
    ``sum_g w_g 2 tr(V dS_k V Sigma V dS_l V Sigma)``."""
    implied = objective.kernel.implied(theta)
    jac = objective.kernel.jacobian(implied)
    K = objective.kernel.n_free
    meat = np.zeros((K, K))
    for b, V in zip(objective.blocks, objective.V, strict=True):
        sig = implied[b.group].sigma
        T = np.einsum("ab,kbc,cd,de->kae", V, jac[b.group][0], V, sig)
        meat += b.n / objective.n_total * 2 * np.einsum("kab,lba->kl", T, T)
    return meat


def _inverse(M: FloatArray) -> FloatArray:
    try:
        return np.asarray(np.linalg.inv(M), dtype=float)
    except np.linalg.LinAlgError:
        return np.asarray(np.linalg.pinv(M), dtype=float)


def _check_identified(model: Model, spec: CBSEMSpec, parts: dict[str, FloatArray]) -> None:
    """Raise :class:`EstimationError` if the information matrix is singular."""
    info = parts["information"]
    if info.size == 0:
        return
    d = np.sqrt(np.abs(np.diag(info)))
    names = [f"{r.lhs} {r.op} {r.rhs}" + (f" (group {spec.groups[r.group]})"
                                          if spec.n_groups > 1 else "")
             for r in spec.free_parameters()]
    zero = [names[k] for k in np.flatnonzero(~(d > 0))]
    if zero:
        raise EstimationError(
            f"Model {model.name!r} is not identified: the data carry no information on "
            f"{', '.join(zero)}. Fix these parameters or change the model.")
    scaled = info / np.outer(d, d)
    eig, vec = np.linalg.eigh(0.5 * (scaled + scaled.T))
    if eig[0] < SINGULAR * max(1.0, eig[-1]):
        v = vec[:, 0]
        involved = [names[k] for k in np.argsort(-np.abs(v)) if abs(v[k]) > 0.1 * abs(v).max()]
        raise EstimationError(
            f"Model {model.name!r} is not identified: the information matrix is singular "
            f"(smallest scaled eigenvalue {eig[0]:.2g}), so these parameters cannot be "
            f"estimated separately: {', '.join(involved)}. Fix one of them (for example a "
            "loading to 1 or a variance), add indicators, or link the construct to others.")
