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

Where the batches run: in this thread, on ``n_jobs`` threads, or, given a dask.distributed
``Client``, as tasks on its cluster (:func:`run_on_cluster`, also used by
:func:`csisem.fit_groups`); always with one BLAS thread, so all three give the same digits.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

import numpy as np
import pandas as pd

from .._typing import BoolArray, FloatArray
from ..errors import OptionError
from .pls_batch import BatchResult, Moments, moments_from_counts

__all__ = ["BootstrapResult", "SharedContext", "Statistic", "SummaryTables", "check_client",
           "map_batches", "one_blas_thread", "run_bootstrap", "run_on_cluster",
           "summarise_draws", "summarise_many"]

BATCH = 250  # resamples per batch: the unit of seeding and of parallel work
T = TypeVar("T")


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
    tables: Mapping[str, pd.DataFrame]
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
    if not ok.all():  # an identity in place of a meaningless matrix; left out afterwards
        S_safe = np.where(ok[:, None, None], moments.S, np.eye(moments.S.shape[1]))
        moments = Moments(S=S_safe, mean=moments.mean, sd=moments.sd)
    batch = fit_batch(moments.S)
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
    client: Any = None,
) -> tuple[dict[str, FloatArray], dict[str, int], int, int]:
    """Draw resamples of the rows of ``X`` (N×J) and evaluate ``statistics`` on each.

    Returns the valid draws per statistic, failure counts by reason, the number of valid
    resamples and the seed actually used (drawn from the OS when ``seed`` is None, and
    reported so the run can be repeated). With a dask.distributed ``client`` the batches run
    on its cluster (see :func:`map_batches`).

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
    used_seed = (int(cast(int, np.random.SeedSequence().entropy)) if seed is None
                 else int(seed))
    bar = _Progress(n_resamples, progress)

    def work(seed_seq: np.random.SeedSequence, size: int) -> BatchOutput:
        return _run_batch(X, case_weights, seed_seq, size, fit_batch, statistics)

    values, ok, valid = map_batches(work, statistics, n_resamples=n_resamples,
                                    seed=used_seed, n_jobs=n_jobs, client=client,
                                    on_done=bar.update)
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
                n_jobs: int, client: Any = None,
                on_done: Callable[[int], None] | None = None,
                ) -> tuple[dict[str, FloatArray], BoolArray, BoolArray]:
    """Run ``work(seed_sequence, size)`` on fixed-size batches and join the valid values.

    Batches have BATCH resamples and each gets its own child of ``SeedSequence(seed)``, so
    the result is the same for any ``n_jobs`` (-1: all cores), and on a dask cluster
    (``client``, a ``distributed.Client``; ``n_jobs`` is then not used) the same as
    locally: batches run with one BLAS thread here and on the workers (a multi-threaded BLAS
    sums in another order, which changes the last digits; the matrices are small, so it is
    not slower either). ``on_done(size)`` is called as each batch completes (the progress
    bar). Shared by the bootstrap and the group comparisons.
    """
    children = np.random.SeedSequence(seed).spawn(-(-n_resamples // BATCH))
    sizes = [min(BATCH, n_resamples - i * BATCH) for i in range(len(children))]
    calls = list(zip(children, sizes, strict=True))
    workers = (os.cpu_count() or 1) if n_jobs < 0 else n_jobs

    def tracked(child: np.random.SeedSequence, size: int) -> BatchOutput:
        out = work(child, size)
        if on_done is not None:
            on_done(size)
        return out

    if client is not None:
        results = run_on_cluster(client, work, calls,
                                 on_done=None if on_done is None else
                                 (lambda i: on_done(sizes[i])))
    elif workers > 1 and len(children) > 1:
        # Threads, not processes: they share the data without pickling it, and they pay
        # off where parallelism matters, on large data, whose batches are dominated by the
        # moments' matrix products (BLAS, without the GIL; N=10000: 1.6x on 2 cores). On
        # small data a batch is many short numpy calls that hand the GIL back and forth,
        # and a second thread gains little (mobi, 4000 resamples: 0.35 s either way).
        # Results come back in batch order, so output does not depend on the workers.
        from joblib import Parallel, delayed

        with one_blas_thread:
            results = Parallel(n_jobs=workers, prefer="threads")(
                delayed(tracked)(child, size) for child, size in calls)
    else:
        with one_blas_thread:
            results = [tracked(child, size) for child, size in calls]
    values = {st.name: np.concatenate([r[0][k][r[2]] for r in results])
              for k, st in enumerate(statistics)}
    ok = np.concatenate([r[1] for r in results])
    valid = np.concatenate([r[2] for r in results])
    return values, ok, valid


# ---- dask.distributed -----------------------------------------------------------------------
def check_client(client: object) -> Any:
    """``client`` when it is a ``distributed.Client``, None for None.

    dask is imported here, and only when a client is given, so that it stays optional.

    Raises
    ------
    OptionError
        If ``client`` is not a ``distributed.Client``, or dask.distributed is not installed.
    """
    if client is None:
        return None
    try:
        from distributed import Client
    except ImportError as exc:
        raise OptionError(f"client={client!r} needs dask.distributed, which is not "
                          "installed; install it with pip install 'csisem[dask]', or pass "
                          "client=None to run locally.") from exc
    if not isinstance(client, Client):
        raise OptionError(f"client={client!r} is not a dask.distributed Client; pass "
                          "distributed.Client(...) (e.g. Client(LocalCluster())), or None to "
                          "run locally.")
    return client


def run_on_cluster(client: Any, function: Callable[..., T], calls: Sequence[tuple[Any, ...]],
                   *, on_done: Callable[[int], None] | None = None) -> list[T]:
    """``[function(*args) for args in calls]``, each call a task on ``client``'s cluster.

    Results come back in the order of ``calls``, whatever order the tasks finish in, so the
    output is the local one. ``function`` (for the bootstrap a closure holding the data) is
    sent to the cluster once, not with every task. ``on_done(i)`` runs here as call i
    finishes. A task's error is raised here after the other tasks are cancelled.

    Notes
    -----
    ``client.submit`` rather than joblib's dask backend: the client is an explicit argument
    (no global backend configuration to set and restore around every call), the function
    and data are scattered once, and tasks report back as they finish.
    """
    from distributed import as_completed

    remote = client.scatter(function, hash=False)
    futures = [client.submit(_call, remote, *args, pure=False) for args in calls]
    position = {future.key: i for i, future in enumerate(futures)}
    results: list[Any] = [None] * len(futures)
    try:
        for future in as_completed(futures):  # type: ignore[no-untyped-call]
            i = position[future.key]
            results[i] = future.result()
            if on_done is not None:
                on_done(i)
    except BaseException:
        client.cancel(futures)
        raise
    return results


def _call(function: Callable[..., T], *args: Any) -> T:
    """``function(*args)`` as a task (the scattered function arrives as its first argument),
    with one BLAS thread, as locally."""
    with one_blas_thread:
        return function(*args)


class SharedContext:
    """A process-wide context entered by many threads at once (batches or group fits on
    worker threads, here or on a dask worker): the first entry enters ``factory()``'s
    context, the last exit leaves it. Used for contexts that change process state, which
    nesting per thread would restore while other threads still rely on it."""

    def __init__(self, factory: Callable[[], AbstractContextManager[None]]) -> None:
        self._factory = factory
        self._lock = threading.Lock()
        self._count = 0
        self._entered: AbstractContextManager[None] | None = None

    def __enter__(self) -> None:
        with self._lock:
            if self._count == 0:
                entered = self._factory()
                entered.__enter__()
                self._entered = entered
            self._count += 1

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._count -= 1
            if self._count == 0 and self._entered is not None:
                entered, self._entered = self._entered, None
                entered.__exit__(None, None, None)


@contextmanager
def _blas_limit() -> Iterator[None]:
    """One BLAS thread (threadpoolctl, when installed; without it BLAS keeps its threads)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


one_blas_thread = SharedContext(_blas_limit)
"""Enter (``with one_blas_thread:``) to run with one BLAS thread; re-entrant across threads."""


def _quantiles(ordered: FloatArray, q: FloatArray) -> FloatArray:
    """Column j's quantile ``q[j]`` of sorted columns, as ``np.quantile`` (linear method)."""
    pos = q * (ordered.shape[0] - 1)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, ordered.shape[0] - 1)
    cols = np.arange(ordered.shape[1])
    frac = pos - lo
    values: FloatArray = ordered[lo, cols] * (1 - frac) + ordered[hi, cols] * frac
    return values


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
    return summarise_many([(keys, estimate, draws, jackknife)], ci_level=ci_level,
                          n_obs=n_obs)[0]


Summand = tuple[pd.DataFrame, FloatArray, FloatArray, FloatArray | None]
"""keys, estimate (P,), draws (R, P), jackknife values (n, P) or None: one statistic."""


def summarise_many(parts: Sequence[Summand], *, ci_level: float,
                   n_obs: int) -> list[pd.DataFrame]:
    """:func:`summarise_draws` for several statistics, computed in one pass over all columns.

    Every column is summarised on its own, so the tables are those of separate calls; but
    with a few hundred quantities the cost is the per-call overhead of numpy, scipy and
    pandas, which one pass pays once instead of once per statistic.
    """
    return [_table(keys, columns) for (keys, *_), columns in
            zip(parts, _summarise_columns(parts, ci_level=ci_level, n_obs=n_obs), strict=True)]


class SummaryTables(Mapping[str, pd.DataFrame]):
    """The summary tables of a bootstrap by statistic name (``BootstrapResult.tables``).

    The numbers are computed at once (:func:`summarise_many`), the DataFrames on first access:
    building a DataFrame costs more than summarising its draws, and most callers read one or
    two of the tables (fit_groups only the index).
    """

    def __init__(self, parts: Sequence[Summand], names: list[str], *, ci_level: float,
                 n_obs: int) -> None:
        columns = _summarise_columns(parts, ci_level=ci_level, n_obs=n_obs)
        self._parts = {name: (part[0], cols)
                       for name, part, cols in zip(names, parts, columns, strict=True)}
        self._built: dict[str, pd.DataFrame] = {}

    def __getitem__(self, name: str) -> pd.DataFrame:
        table = self._built.get(name)
        if table is None:
            table = self._built[name] = _table(*self._parts[name])
        return table

    def __iter__(self) -> Iterator[str]:
        return iter(self._parts)

    def __len__(self) -> int:
        return len(self._parts)

    def __repr__(self) -> str:
        return f"SummaryTables({', '.join(self._parts)})"

    def __getstate__(self) -> dict[str, Any]:
        # Key columns as lists, tables not at all: results travel between processes
        # (fit_groups' workers, dask), and DataFrames cost more to pickle than their values.
        return {"parts": {name: ({col: keys[col].tolist() for col in keys.columns}, cols)
                          for name, (keys, cols) in self._parts.items()}}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._parts = state["parts"]   # keys as {column: list}: made a DataFrame on access
        self._built = {}


def _table(keys: pd.DataFrame | dict[str, list[Any]],
           columns: dict[str, FloatArray]) -> pd.DataFrame:
    """Key columns (a DataFrame, or lists by column) plus the summary columns."""
    frame = ({name: keys[name].array for name in keys.columns}
             if isinstance(keys, pd.DataFrame) else dict(keys))
    return pd.DataFrame(frame | columns)


def _summarise_columns(parts: Sequence[Summand], *, ci_level: float,
                       n_obs: int) -> list[dict[str, FloatArray]]:
    """The summary columns of each statistic; one pass when the statistics share the number
    of draws (the valid resamples) and of jackknife values, as in one bootstrap."""
    if not parts:
        return []
    rows = {p[2].shape[0] for p in parts}
    with_jack = {p[3] is None for p in parts}
    jack_rows = {p[3].shape[0] for p in parts if p[3] is not None}
    if len(rows) > 1 or len(with_jack) > 1 or len(jack_rows) > 1:
        return [_summarise_columns([p], ci_level=ci_level, n_obs=n_obs)[0] for p in parts]
    widths = np.cumsum([0] + [p[2].shape[1] for p in parts])
    estimate = np.concatenate([np.asarray(p[1], dtype=float) for p in parts])
    draws = np.concatenate([p[2] for p in parts], axis=1) if len(parts) > 1 else parts[0][2]
    jackknife = (None if parts[0][3] is None else
                 np.concatenate([p[3] for p in parts if p[3] is not None], axis=1))
    columns = _summary_columns(estimate, draws, jackknife, ci_level=ci_level, n_obs=n_obs)
    return [{name: values[widths[k]:widths[k + 1]] for name, values in columns.items()}
            for k in range(len(parts))]


def _summary_columns(estimate: FloatArray, draws: FloatArray, jackknife: FloatArray | None,
                     *, ci_level: float, n_obs: int) -> dict[str, FloatArray]:
    """The numeric columns of :func:`summarise_draws`, column by column of ``draws``."""
    from scipy import special  # the functions behind scipy.stats' t.sf and norm.ppf/cdf

    P = len(estimate)
    alpha = (1 - ci_level) / 2
    nan = np.full(P, np.nan)
    # Sums run along contiguous rows of the transposes: numpy then adds each quantity's
    # values in the same (pairwise) order however many quantities there are, so summarising
    # statistics together or one at a time gives the same digits.
    by_row = np.ascontiguousarray(draws.T)
    se = by_row.std(axis=1, ddof=1) if len(draws) > 1 else nan
    # A quantity fixed by construction (the weight and loading of a single indicator are 1
    # in every resample) has no sampling variation: no t or p value rather than t = inf.
    fixed = se <= 1e-12 * np.maximum(1.0, np.abs(estimate))
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(fixed, np.nan, estimate / se)
    p = 2 * special.stdtr(max(n_obs - 1, 1), -np.abs(t))
    ordered = np.sort(draws, axis=0)  # once, for the percentile and the BCa bounds
    lower, upper = ((_quantiles(ordered, np.full(P, alpha)),
                     _quantiles(ordered, np.full(P, 1 - alpha))) if len(draws) else (nan, nan))
    bca_lo = np.full(P, np.nan)
    bca_hi = np.full(P, np.nan)
    if jackknife is not None and len(draws):
        below = (draws < estimate).mean(axis=0) + 0.5 * (draws == estimate).mean(axis=0)
        z0 = special.ndtri(below)
        jack = np.ascontiguousarray(jackknife.T)
        d = jack.mean(axis=1, keepdims=True) - jack
        with np.errstate(divide="ignore", invalid="ignore"):
            a = (d**3).sum(axis=1) / (6 * ((d**2).sum(axis=1)) ** 1.5)
        a = np.where(np.isfinite(a), a, 0.0)
        for z, out in ((special.ndtri(alpha), bca_lo), (special.ndtri(1 - alpha), bca_hi)):
            with np.errstate(divide="ignore", invalid="ignore"):
                q = special.ndtr(z0 + (z0 + z) / (1 - a * (z0 + z)))
            fine = np.isfinite(q)
            out[fine] = _quantiles(ordered[:, fine], q[fine])
    return {"estimate": estimate, "boot_mean": by_row.mean(axis=1) if len(draws) else nan,
            "std_error": se, "t_value": t, "p_value": p, "ci_lower": lower,
            "ci_upper": upper, "bca_lower": bca_lo, "bca_upper": bca_hi}
