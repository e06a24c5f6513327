"""What the PLS bootstrap estimates, and how one bootstrap run is put together.

Each :class:`~csisem.estimation.bootstrap.Statistic` maps a batch of PLS fits to one column per
quantity (paths, loadings, weights, total and indirect effects, R², HTMT). The same maps applied
to the original fit give the point estimates, so table and bootstrap can never disagree on
what a quantity is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from weakref import WeakKeyDictionary

import numpy as np
import pandas as pd

from .._typing import FloatArray, IntArray
from ..indices import impact_values, index_sd, index_values, normalised_weights
from .bootstrap import BootstrapResult, Statistic, SummaryTables, run_bootstrap
from .design import PLSDesign
from .pls_batch import BatchResult, Moments, moments_from_counts, moments_leaving_out
from .quality import htmt_stack

__all__ = ["bootstrap_pls", "pls_statistics", "reachable_pairs"]

JACKKNIFE_MAX = 1000  # above this many rows the BCa acceleration uses a grouped jackknife


def pls_statistics(design: PLSDesign, paths: list[tuple[str, str]],
                   reachable: list[tuple[str, str]],
                   transform: Callable[[BatchResult, FloatArray], BatchResult] | None = None,
                   *, scale: tuple[float, float] | None = None,
                   means: FloatArray | None = None) -> list[Statistic]:
    """The bootstrapped quantities of a PLS model.

    ``paths`` and ``reachable`` are (source, target) pairs: the model's paths and the pairs
    with a total effect. ``transform`` post-processes each batch (e.g. the PLSc correction).
    With the item ``scale`` and the indicators' raw ``means`` (the bootstrap data are
    centred), the 0-100 indices and the impacts are bootstrapped too.
    """
    names = design.names
    pos = {n: k for k, n in enumerate(names)}
    rows = np.arange(len(design.indicators))
    owner = design.owner
    src = np.array([pos[s] for s, _ in paths])
    tgt = np.array([pos[t] for _, t in paths])
    r_src = np.array([pos[s] for s, _ in reachable], dtype=int)
    r_tgt = np.array([pos[t] for _, t in reachable], dtype=int)
    endo = np.flatnonzero(design.D.any(axis=1))
    iu, ju = np.triu_indices(len(names), k=1)
    K = len(names)

    def prep(batch: BatchResult, m: Moments) -> BatchResult:
        if transform is None:
            return batch
        return batch.memo("transformed", lambda: transform(batch, m.S))

    def total(batch: BatchResult) -> FloatArray:
        def inverse() -> FloatArray:
            eye = np.eye(K)
            return np.linalg.inv(eye - batch.B) - eye
        return batch.memo("total_effects", inverse)

    def compact(batch: BatchResult) -> FloatArray:
        return batch.W[:, rows, owner]

    def index(b: BatchResult, m: Moments) -> FloatArray:
        assert scale is not None
        assert means is not None
        w_tilde, _ = normalised_weights(design, compact(b), m.sd)
        return index_values(design, w_tilde, means + m.mean, scale)

    def impacts(b: BatchResult, m: Moments) -> FloatArray:
        assert scale is not None
        _, sums = normalised_weights(design, compact(b), m.sd)
        return impact_values(total(prep(b, m)), index_sd(sums, scale), (r_src, r_tgt))

    keys = _key_frames(design, tuple(paths), tuple(reachable))
    extra = [] if scale is None or means is None else [
        Statistic("index", keys["constructs"], index),
        Statistic("impacts", keys["pairs"], impacts),
    ]
    return [*extra,
        Statistic("paths", keys["paths"], lambda b, m: prep(b, m).B[:, tgt, src]),
        Statistic("loadings", keys["outer"], lambda b, m: prep(b, m).L[:, rows, owner]),
        Statistic("weights", keys["outer"], lambda b, m: prep(b, m).W[:, rows, owner]),
        Statistic("total_effects", keys["pairs"],
                  lambda b, m: total(prep(b, m))[:, r_tgt, r_src]),
        Statistic("indirect_effects", keys["pairs"],
                  lambda b, m: (total(prep(b, m)) - prep(b, m).B)[:, r_tgt, r_src]),
        Statistic("r_squared", keys["endogenous"], lambda b, m: prep(b, m).r_squared[:, endo]),
        Statistic("htmt", keys["construct_pairs"],
                  lambda b, m: htmt_stack(m.S, design)[:, iu, ju]),
    ]


_KEY_FRAMES: WeakKeyDictionary[PLSDesign, dict[Any, dict[str, pd.DataFrame]]] = \
    WeakKeyDictionary()


def _key_frames(design: PLSDesign, paths: tuple[tuple[str, str], ...],
                reachable: tuple[tuple[str, str], ...]) -> dict[str, pd.DataFrame]:
    """The key columns of every statistic, built once per design (models are immutable and
    a design is shared by all fits of one model: fit_groups fits it hundreds of times)."""
    by_design = _KEY_FRAMES.setdefault(design, {})
    frames = by_design.get((paths, reachable))
    if frames is None:
        names = design.names
        iu, ju = np.triu_indices(len(names), k=1)
        frames = {
            "constructs": pd.DataFrame({"construct": list(names)}),
            "pairs": pd.DataFrame(list(reachable), columns=["source", "target"]),
            "paths": pd.DataFrame(list(paths), columns=["source", "target"]),
            "outer": pd.DataFrame({"construct": [names[o] for o in design.owner],
                                   "indicator": list(design.indicators)}),
            "endogenous": pd.DataFrame({"construct": [names[k] for k in
                                                      np.flatnonzero(design.D.any(axis=1))]}),
            "construct_pairs": pd.DataFrame({"construct_1": [names[i] for i in iu],
                                             "construct_2": [names[j] for j in ju]}),
        }
        by_design[(paths, reachable)] = frames
    return frames


def reachable_pairs(design: PLSDesign) -> list[tuple[str, str]]:
    """The (source, target) pairs joined by a directed path: the rows of
    :func:`~csisem.estimation.effects.effects_table`, in its order, without building it."""
    names = design.names
    reach = np.linalg.matrix_power(np.eye(len(names)) + design.D, len(names)) > 0
    return [(source, target) for s, source in enumerate(names)
            for t, target in enumerate(names) if s != t and reach[t, s]]


def _jackknife_groups(N: int, seed: int) -> tuple[IntArray, int]:
    """Leave-one-out groups (one row each), or JACKKNIFE_MAX random groups for more rows."""
    if N <= JACKKNIFE_MAX:
        return np.arange(N), N
    return np.random.default_rng(seed).permutation(N) % JACKKNIFE_MAX, JACKKNIFE_MAX


def bootstrap_pls(
    X: FloatArray,
    S: FloatArray,
    fit_batch: Callable[[FloatArray], BatchResult],
    statistics: list[Statistic],
    *,
    n_resamples: int,
    seed: int | None,
    n_jobs: int,
    ci_level: float,
    n_obs: int,
    case_weights: FloatArray | None = None,
    progress: bool | None = None,
    original: BatchResult | None = None,
    client: Any = None,
) -> BootstrapResult:
    """Bootstrap a PLS fit: draws, failures, and one summary table per statistic.

    ``X`` (N×J) is the centred indicator data the fit used, ``S`` its correlation matrix.
    ``original`` is the fit itself as a one-element batch; pass it when ``fit_batch`` is
    warm-started, so the point estimates in the tables are exactly the fit's (a warm start
    iterates a little further and would move them by ~1e-10). With a dask.distributed
    ``client`` the resamples run on its cluster (same numbers; the jackknife runs here).
    """
    draws, failures, n_valid, used_seed = run_bootstrap(
        X, fit_batch, statistics, n_resamples=n_resamples, seed=seed, n_jobs=n_jobs,
        case_weights=case_weights, progress=progress, client=client)
    if original is None:
        original = fit_batch(S[None])
    full = np.ones(X.shape[0]) if case_weights is None else case_weights
    groups, n_groups = _jackknife_groups(X.shape[0], used_seed)
    m_jk, ok_jk = moments_leaving_out(X, full, groups, n_groups)
    m_jk = Moments(S=np.where(ok_jk[:, None, None], m_jk.S, S[None]), mean=m_jk.mean,
                   sd=m_jk.sd)
    jk = fit_batch(m_jk.S)
    m_full, _ = moments_from_counts(X, full[None])
    m_orig = Moments(S=S[None], mean=m_full.mean, sd=m_full.sd)
    jk_keep = jk.valid & ok_jk
    parts = [(st.keys, st.extract(original, m_orig)[0], draws[st.name],
              st.extract(jk, m_jk)[jk_keep]) for st in statistics]
    tables = SummaryTables(parts, [st.name for st in statistics], ci_level=ci_level,
                           n_obs=n_obs)
    return BootstrapResult(n_resamples=n_resamples, n_valid=n_valid, failures=failures,
                           seed=used_seed, ci_level=ci_level, tables=tables, draws=draws)
