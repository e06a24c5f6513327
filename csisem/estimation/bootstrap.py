"""Bootstrap inference for PLS: standard errors, t and p values, percentile and BCa intervals.

Design (see :mod:`csisem.estimation.pls_batch`): a resample is a vector of case counts, so the
correlation matrices of a whole batch of resamples come from one matrix product, and PLS runs
on the batch at once. Batches have a fixed size and each draws its counts from its own child
of ``SeedSequence(seed)``, so the output for a seed is identical whatever ``n_jobs`` is.

A resample that cannot be estimated (an indicator without variance in it, a singular Mode B
block, no convergence) is counted with its reason and left out; it never stops the run.

Sign changes: every resample is oriented by the rule used for the original fit (each
construct's loadings sum to a positive number), which is the construct-level sign change of
Tenenhaus et al. (2005, section 2.6) whenever the original loadings are positive.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._typing import BoolArray, FloatArray
from ..errors import OptionError
from .pls_batch import BatchResult, Moments, moments_from_counts

__all__ = ["BootstrapResult", "Statistic", "map_batches", "run_bootstrap", "summarise_draws"]

BATCH = 250  # resamples per batch: the unit of seeding and of parallel work


@dataclass(frozen=True)
class Statistic:
    """A family of bootstrapped quantities: labels (a key table) and a batch -> draws map."""

    name: str
    keys: pd.DataFrame                           # one row per quantity, e.g. source/target
    extract: Callable[[BatchResult, Moments], FloatArray]  # (batch, moments) -> (R, P)


@dataclass(frozen=True)
class BootstrapResult:
    """Bootstrap draws and their summaries.

    ``tables[name]`` has the key columns plus estimate, boot_mean, std_error, t_value, p_value,
    ci_lower, ci_upper (percentile) and bca_lower, bca_upper. ``draws[name]`` holds the valid
    resamples' values (resamples x quantities).
    """

    n_resamples: int
    n_valid: int
    failures: dict[str, int]
    seed: int
    ci_level: float
    tables: dict[str, pd.DataFrame]
    draws: dict[str, FloatArray] = field(repr=False)

    @property
    def n_failed(self) -> int:
        """Resamples left out (see ``failures`` for the reasons)."""
        return self.n_resamples - self.n_valid


def _counts(seed_seq: np.random.SeedSequence, size: int, N: int) -> FloatArray:
    rng = np.random.default_rng(seed_seq)
    return rng.multinomial(N, np.full(N, 1.0 / N), size=size).astype(float)


def _run_batch(X: FloatArray, case_weights: FloatArray | None, seed_seq: np.random.SeedSequence,
               size: int, fit_batch: Callable[[FloatArray], BatchResult],
               statistics: list[Statistic]) -> tuple[list[FloatArray], np.ndarray, np.ndarray]:
    counts = _counts(seed_seq, size, X.shape[0])
    if case_weights is not None:
        counts *= case_weights
    moments, ok = moments_from_counts(X, counts)
    S_safe = np.where(ok[:, None, None], moments.S, np.eye(moments.S.shape[1]))
    moments = Moments(S=S_safe, mean=moments.mean, sd=moments.sd)
    batch = fit_batch(S_safe)
    values = [st.extract(batch, moments) for st in statistics]
    finite = np.all([np.isfinite(v).all(axis=1) for v in values], axis=0)
    return values, ok, batch.valid & ok & finite


class _Progress:
    """A one-line progress report on stderr, shown only for a terminal (or when forced)."""

    def __init__(self, total: int, show: bool | None) -> None:
        self.total = total
        self.done = 0
        self.show = sys.stderr.isatty() and total >= 1000 if show is None else show

    def update(self, n: int) -> None:
        self.done += n
        if self.show:
            sys.stderr.write(f"\rcsisem bootstrap: {self.done}/{self.total} resamples")
            if self.done >= self.total:
                sys.stderr.write("\n")
            sys.stderr.flush()


def run_bootstrap(
    X: FloatArray,
    fit_batch: Callable[[FloatArray], BatchResult],
    statistics: list[Statistic],
    *,
    n_resamples: int,
    seed: int | None = None,
    n_jobs: int = 1,
    case_weights: FloatArray | None = None,
    progress: bool | None = None,
) -> tuple[dict[str, FloatArray], dict[str, int], int, int]:
    """Draw resamples of the rows of ``X`` (N×J) and evaluate ``statistics`` on each.

    Returns the valid draws per statistic, failure counts by reason, the number of valid
    resamples and the seed actually used (drawn from the OS when ``seed`` is None, and
    reported so the run can be repeated).

    Raises
    ------
    OptionError
        For a non-positive ``n_resamples`` or ``n_jobs`` of 0.
    """
    if not isinstance(n_resamples, int) or isinstance(n_resamples, bool) or n_resamples < 1:
        raise OptionError(f"bootstrap={n_resamples!r} must be a positive number of resamples.")
    if not isinstance(n_jobs, int) or n_jobs == 0:
        raise OptionError(f"n_jobs={n_jobs!r} must be a positive number of workers or -1 "
                          "(all cores).")
    used_seed = int(np.random.SeedSequence().entropy) if seed is None else int(seed)
    bar = _Progress(n_resamples, progress)

    def work(seed_seq: np.random.SeedSequence, size: int) -> BatchOutput:
        out = _run_batch(X, case_weights, seed_seq, size, fit_batch, statistics)
        bar.update(size)
        return out

    values, ok, valid = map_batches(work, statistics, n_resamples=n_resamples,
                                    seed=used_seed, n_jobs=n_jobs)
    failures = {}
    if (~ok).any():
        failures["an indicator has zero variance in the resample"] = int((~ok).sum())
    other = int((ok & ~valid).sum())
    if other:
        failures["no convergence or a singular matrix"] = other
    return values, failures, int(valid.sum()), used_seed


BatchOutput = tuple[list[FloatArray], BoolArray, BoolArray]  # values per statistic, ok, valid


def map_batches(work: Callable[[np.random.SeedSequence, int], BatchOutput],
                statistics: list[Statistic], *, n_resamples: int, seed: int,
                n_jobs: int) -> tuple[dict[str, FloatArray], BoolArray, BoolArray]:
    """Run ``work(seed_sequence, size)`` on fixed-size batches and join the valid values.

    Batches have BATCH resamples and each gets its own child of ``SeedSequence(seed)``, so
    the result is the same for any ``n_jobs`` (-1: all cores). Shared by the bootstrap and
    the group comparisons.
    """
    children = np.random.SeedSequence(seed).spawn(-(-n_resamples // BATCH))
    sizes = [min(BATCH, n_resamples - i * BATCH) for i in range(len(children))]
    workers = (os.cpu_count() or 1) if n_jobs < 0 else n_jobs
    if workers > 1 and len(children) > 1:
        # Threads, not processes: the work is NumPy releasing the GIL, and threads need no
        # pickling of the data; results come back in batch order, so output does not depend
        # on the number of workers.
        from joblib import Parallel, delayed

        results = Parallel(n_jobs=workers, prefer="threads")(
            delayed(work)(child, size) for child, size in zip(children, sizes, strict=True))
    else:
        results = [work(child, size) for child, size in zip(children, sizes, strict=True)]
    values = {st.name: np.concatenate([r[0][k][r[2]] for r in results])
              for k, st in enumerate(statistics)}
    ok = np.concatenate([r[1] for r in results])
    valid = np.concatenate([r[2] for r in results])
    return values, ok, valid


def _quantiles(ordered: FloatArray, q: FloatArray) -> FloatArray:
    """Column j's quantile ``q[j]`` of sorted columns, as ``np.quantile`` (linear method)."""
    pos = q * (ordered.shape[0] - 1)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, ordered.shape[0] - 1)
    cols = np.arange(ordered.shape[1])
    frac = pos - lo
    return ordered[lo, cols] * (1 - frac) + ordered[hi, cols] * frac


def summarise_draws(keys: pd.DataFrame, estimate: FloatArray, draws: FloatArray,
                    jackknife: FloatArray | None, *, ci_level: float,
                    n_obs: int) -> pd.DataFrame:
    """One row per quantity: estimate, bootstrap mean, SE, t, p, percentile and BCa bounds.

    Notes
    -----
    ``t = estimate / std_error`` (NaN for a quantity that does not vary across resamples,
    such as a single indicator's loading) and ``p`` is two-sided from Student's t with ``n_obs - 1``
    degrees of freedom. Percentile bounds are the ``(1 ± level)/2`` quantiles of the draws.
    BCa (Efron 1987): bias correction ``z0 = Φ⁻¹(share of draws below the estimate, ties
    counted half)``, acceleration ``a = Σ d³ / (6 (Σ d²)^1.5)`` with ``d`` the jackknife
    deviations from their mean; the bounds are the draws' quantiles at
    ``Φ(z0 + (z0 + z)/(1 - a (z0 + z)))`` for ``z = Φ⁻¹((1 ± level)/2)``.
    """
    from scipy import stats  # imported here: scipy.stats costs ~1 s at start-up

    alpha = (1 - ci_level) / 2
    se = draws.std(axis=0, ddof=1) if len(draws) > 1 else np.full(draws.shape[1], np.nan)
    # A quantity fixed by construction (the weight and loading of a single indicator are 1
    # in every resample) has no sampling variation: no t or p value rather than t = inf.
    fixed = se <= 1e-12 * np.maximum(1.0, np.abs(estimate))
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(fixed, np.nan, estimate / se)
    p = 2 * stats.t.sf(np.abs(t), df=max(n_obs - 1, 1))
    lower, upper = (np.quantile(draws, [alpha, 1 - alpha], axis=0) if len(draws)
                    else (np.full(draws.shape[1], np.nan),) * 2)
    table = keys.reset_index(drop=True).assign(
        estimate=estimate, boot_mean=draws.mean(axis=0) if len(draws) else np.nan,
        std_error=se, t_value=t, p_value=p, ci_lower=lower, ci_upper=upper)
    bca_lo = np.full(len(estimate), np.nan)
    bca_hi = np.full(len(estimate), np.nan)
    if jackknife is not None and len(draws):
        below = (draws < estimate).mean(axis=0) + 0.5 * (draws == estimate).mean(axis=0)
        z0 = stats.norm.ppf(below)
        d = jackknife.mean(axis=0) - jackknife
        with np.errstate(divide="ignore", invalid="ignore"):
            a = (d**3).sum(axis=0) / (6 * ((d**2).sum(axis=0)) ** 1.5)
        a = np.where(np.isfinite(a), a, 0.0)
        ordered = np.sort(draws, axis=0)
        for z, out in ((stats.norm.ppf(alpha), bca_lo), (stats.norm.ppf(1 - alpha), bca_hi)):
            with np.errstate(divide="ignore", invalid="ignore"):
                q = stats.norm.cdf(z0 + (z0 + z) / (1 - a * (z0 + z)))
            fine = np.isfinite(q)
            out[fine] = _quantiles(ordered[:, fine], q[fine])
    return table.assign(bca_lower=bca_lo, bca_upper=bca_hi)
