"""MICOM: measurement invariance of composites across two groups.

Henseler, Ringle & Sarstedt (2016), Testing measurement invariance of composites using partial
least squares, International Marketing Review 33(3), 405-431. Three steps:

1. **Configural invariance** holds by construction here: both groups use the same model,
   indicators, data preparation and algorithm settings.
2. **Compositional invariance.** Composite scores are computed on the pooled standardised
   data once with group 1's outer weights and once with group 2's; their correlation ``c`` per
   construct is ``w1' S w2 / sqrt(w1' S w1 · w2' S w2)`` (``S`` the pooled indicator
   correlations within the block). Group labels are permuted, both groups re-estimated and
   ``c`` recomputed; invariance holds when ``c`` is not below the ``alpha`` quantile of the
   permutation distribution. ``p_value = (1 + #{c* <= c}) / (1 + n)``.
3. **Equal composite means and variances.** Scores from the pooled fit (pooled weights,
   pooled standardised data, unit variance) are split by group; the difference of the group
   means and of the log variances (sample variances, n - 1) is compared with the
   ``alpha/2`` and ``1 - alpha/2`` quantiles of the same statistics under the permuted labels
   (equal when inside), with two-sided ``p_value = (1 + #{|d*| >= |d|}) / (1 + n)``.

Partial invariance (steps 1 and 2) allows comparing the groups' paths (multigroup analysis,
:func:`~csisem.estimation.mga.compare_groups`); full invariance (step 3 too) allows pooling
the data. Henseler et al. recommend 5000 permutations for a final analysis.

Vectorised as :mod:`csisem.estimation.mga`: every permutation is a pair of 0/1 case-weight
vectors, and the step-3 statistics come from the same per-group moments (a score is linear in
the indicators, so its group mean and variance are functions of the group's indicator means,
standard deviations and correlations), so one seeded pass of permutations serves both steps.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._typing import FloatArray
from ..errors import EstimationError, OptionError
from ..models.catalogue import load_model
from ..models.model import Model
from ..options import InnerScheme, MissingPolicy
from ..results import _plain, _records
from ..summary import Section, Summary, SummaryMixin
from .bootstrap import Statistic, check_client
from .mga import (
    check_resampling,
    evaluate_counts,
    observed_counts,
    permutation_draw,
    prepare_groups,
    run_group_resamples,
)
from .pls_batch import BatchResult, Moments, moments_from_counts
from .pls_estimator import PLSEstimator, check_pls_structure

__all__ = ["MICOMResult", "micom"]


@dataclass(frozen=True, repr=False)
class MICOMResult(SummaryMixin):
    """MICOM steps 2 and 3, one row per construct.

    - ``compositional``: construct, c, quantile (the ``alpha`` quantile of the permuted c),
      p_value, invariant
    - ``means``: construct, difference (group 1 - group 2, in pooled score SDs), ci_lower,
      ci_upper, p_value, equal
    - ``variances``: construct, log_ratio (log variance group 1 - group 2), ci_lower, ci_upper,
      p_value, equal
    - :attr:`invariance`: the conclusion per construct
    """

    model: Model
    scheme: str
    by: str | None
    groups: tuple[Any, Any]
    n_obs: tuple[int, int]
    n_permutations: int
    n_valid: int
    seed: int
    alpha: float
    failures: dict[str, int]
    compositional: pd.DataFrame
    means: pd.DataFrame
    variances: pd.DataFrame

    @property
    def invariance(self) -> pd.DataFrame:
        """construct, compositional, equal_means, equal_variances, invariance.

        ``invariance`` is ``"full"`` (steps 2 and 3 hold), ``"partial"`` (step 2 holds:
        groups may be compared by MGA) or ``"none"``.
        """
        comp = self.compositional["invariant"].to_numpy(dtype=bool)
        means = self.means["equal"].to_numpy(dtype=bool)
        variances = self.variances["equal"].to_numpy(dtype=bool)
        level = np.where(comp & means & variances, "full", np.where(comp, "partial", "none"))
        return pd.DataFrame({"construct": self.compositional["construct"].to_numpy(),
                             "compositional": comp, "equal_means": means,
                             "equal_variances": variances, "invariance": level})

    def summary(self) -> Summary:
        """Header, steps 2 and 3, and the conclusion."""
        (g1, g2), (n1, n2) = self.groups, self.n_obs
        by = f"by={self.by!r}: " if self.by is not None else ""
        runs = f"{self.n_valid} of {self.n_permutations} (seed {self.seed})"
        if self.failures:
            runs += "; left out: " + "; ".join(f"{v} ({k})" for k, v in self.failures.items())
        header = {"Model": self.model.name,
                  "Groups": f"{by}1 = {g1} (n = {n1}), 2 = {g2} (n = {n2})",
                  "Permutations": runs,
                  "Level": f"alpha = {self.alpha:g}"}
        sections = (
            Section("Step 2: compositional invariance", self.compositional,
                    note=f"Invariant when c is not below the {self.alpha:g} quantile of c under "
                         "permuted group labels."),
            Section("Step 3a: equal composite means", self.means,
                    note="Equal when the difference lies inside the permutation interval."),
            Section("Step 3b: equal composite variances", self.variances,
                    note="log_ratio = log(variance 1) - log(variance 2)."),
            Section("Measurement invariance", self.invariance),
        )
        return Summary(title="csisem — MICOM (Henseler, Ringle & Sarstedt 2016)",
                       header=header, sections=sections,
                       footer="Step 1 (configural invariance) holds by construction: same "
                              "model, indicators, data treatment and algorithm in both groups.")

    def __repr__(self) -> str:
        counts = self.invariance["invariance"].value_counts()
        found = ", ".join(f"{counts.get(k, 0)} {k}" for k in ("full", "partial", "none"))
        return f"<MICOMResult {self.model.name}: {self.groups[0]!r} vs {self.groups[1]!r}, {found}>"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-compatible dict; the keys are a stable interface."""
        return {
            "model": self.model.name, "scheme": self.scheme, "by": self.by,
            "groups": [_plain(g) for g in self.groups], "n_obs": list(self.n_obs),
            "n_permutations": self.n_permutations, "n_valid": self.n_valid,
            "seed": self.seed, "alpha": self.alpha, "failures": dict(self.failures),
            "compositional": _records(self.compositional), "means": _records(self.means),
            "variances": _records(self.variances),
            "invariance": _records(self.invariance),
        }


def composite_correlations(w1: FloatArray, w2: FloatArray, S: FloatArray,
                           M: FloatArray) -> FloatArray:
    """(..., K) correlation of composites ``X w1`` and ``X w2`` per block.

    Parameters
    ----------
    w1, w2 : (..., J) compact outer weights.
    S : (J, J) indicator correlation matrix of the data the scores are computed on.
    M : (J, K) block membership (float).
    """
    within = S * (M @ M.T)               # correlations inside a block only

    def quad(a: FloatArray, b: FloatArray) -> FloatArray:
        return ((a @ within) * b) @ M

    return quad(w1, w2) / np.sqrt(quad(w1, w1) * quad(w2, w2))


def micom(
    model: str | Model,
    data: Any,
    by: str | Sequence[Any] | pd.Series,
    *,
    groups: tuple[Any, Any] | None = None,
    n_permutations: int = 1000,
    seed: int | None = None,
    alpha: float = 0.05,
    scheme: InnerScheme | str = InnerScheme.PATH,
    tol: float = 1e-7,
    max_iter: int = 300,
    n_jobs: int = 1,
    columns: Mapping[str, str] | None = None,
    missing: MissingPolicy | str = MissingPolicy.LISTWISE,
    missing_codes: Sequence[float] | Mapping[str, Sequence[float]] | None = None,
    weights: str | Sequence[float] | FloatArray | pd.Series | None = None,
    client: Any = None,
) -> MICOMResult:
    """Measurement invariance of composites (MICOM) between two groups.

    Parameters are those of :func:`~csisem.estimation.mga.compare_groups` (``by``, ``groups``,
    data options, PLS options, ``seed``, ``n_jobs``, ``client``), plus ``n_permutations``
    and the test level ``alpha``.

    Returns
    -------
    MICOMResult

    Raises
    ------
    DataError, OptionError, EstimationError
        As :func:`~csisem.estimation.mga.compare_groups`; OptionError also for ``alpha``
        outside (0, 1).
    """
    estimator = PLSEstimator(scheme=scheme, tol=tol, max_iter=max_iter)
    check_resampling(n_permutations, "n_permutations", seed, n_jobs)
    client = check_client(client)
    if isinstance(alpha, bool) or not (isinstance(alpha, int | float) and 0 < alpha < 1):
        raise OptionError(f"alpha={alpha!r} must be between 0 and 1, e.g. 0.05.")
    model = load_model(model)
    check_pls_structure(model)
    grouped = prepare_groups(model, data, by, groups=groups, columns=columns, missing=missing,
                             missing_codes=missing_codes, weights=weights)
    design = grouped.design
    M = design.M.astype(float)
    rows = np.arange(len(design.indicators))
    X = grouped.prepared.centred()
    pooled_m, _ = moments_from_counts(X, grouped.case_weights[None, :].astype(float))
    pooled = estimator.estimate_batch(design, pooled_m.S)
    if not pooled.valid[0]:
        raise EstimationError("The model cannot be estimated on the pooled data of "
                              f"{grouped.describe()}.")
    w_pooled = pooled.W[0, rows, design.owner]
    # Pooled standardised scores: score_k = sum_j A[j, k] (x_j - pooled mean_j).
    A = (w_pooled / pooled_m.sd[0])[:, None] * M

    def score_means(_: BatchResult, m: Moments) -> FloatArray:
        means: FloatArray = m.mean @ A
        return means

    def score_variances(_: BatchResult, m: Moments) -> FloatArray:
        V = m.sd[:, :, None] * A                              # (R, J, K)
        variances: FloatArray = ((m.S @ V) * V).sum(axis=1)
        return variances

    keys = pd.DataFrame({"construct": list(design.names)})
    statistics = [
        Statistic("weights", keys, lambda b, m: b.W[:, rows, design.owner]),
        Statistic("score_means", keys, score_means),
        Statistic("score_variances", keys, score_variances),
    ]
    observed, _, valid = evaluate_counts(
        X, observed_counts(grouped), lambda S: estimator.estimate_batch(design, S), statistics)
    if not valid[0]:
        raise EstimationError(f"The model cannot be estimated in one of the groups "
                              f"{grouped.describe()}.")
    draws, failures, n_valid, used_seed = run_group_resamples(
        X, permutation_draw(grouped),
        lambda S: estimator.estimate_batch(design, S, w_pooled), statistics,
        n_resamples=int(n_permutations), seed=seed, n_jobs=n_jobs, client=client)
    S = pooled_m.S[0]
    n1, n2 = grouped.n_obs
    c = composite_correlations(observed[0][0, 0], observed[0][0, 1], S, M)
    c_perm = composite_correlations(draws["weights"][:, 0], draws["weights"][:, 1], S, M)
    q = np.quantile(c_perm, alpha, axis=0)
    compositional = keys.assign(c=c, quantile=q,
                                p_value=(1.0 + (c_perm <= c).sum(axis=0)) / (1.0 + n_valid),
                                invariant=c >= q)
    # Sample variances (n - 1): the factor is the same in every permutation (sizes are kept).
    ddof = np.log(n1 / (n1 - 1)) - np.log(n2 / (n2 - 1))
    means = _two_sided(keys, observed[1][0], draws["score_means"], alpha, "difference",
                       lambda v: v[..., 0, :] - v[..., 1, :])
    variances = _two_sided(keys, observed[2][0], draws["score_variances"], alpha, "log_ratio",
                           lambda v: np.log(v[..., 0, :]) - np.log(v[..., 1, :]) + ddof)
    return MICOMResult(
        model=model, scheme=estimator.scheme.value, by=grouped.by, groups=grouped.labels,
        n_obs=grouped.n_obs, n_permutations=int(n_permutations), n_valid=n_valid,
        seed=used_seed, alpha=float(alpha), failures=failures, compositional=compositional,
        means=means, variances=variances)


def _two_sided(keys: pd.DataFrame, observed: FloatArray, draws: FloatArray, alpha: float,
               name: str, statistic: Any) -> pd.DataFrame:
    """keys + the statistic, its permutation interval, p value and the decision."""
    d = statistic(observed)
    d_perm = statistic(draws)
    lower, upper = np.quantile(d_perm, [alpha / 2, 1 - alpha / 2], axis=0)
    p = (1.0 + (np.abs(d_perm) >= np.abs(d)).sum(axis=0)) / (1.0 + len(d_perm))
    return keys.assign(**{name: d}, ci_lower=lower, ci_upper=upper, p_value=p,
                       equal=(d >= lower) & (d <= upper))
