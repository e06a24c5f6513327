"""What the PLS bootstrap estimates, and how one bootstrap run is put together.

Each :class:`~csisem.estimation.bootstrap.Statistic` maps a batch of PLS fits to one column per
quantity (paths, loadings, weights, total and indirect effects, R², HTMT). The same maps applied
to the original fit give the point estimates, so table and bootstrap can never disagree on
what a quantity is.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from .._typing import FloatArray
from ..indices import impact_values, index_sd, index_values, normalised_weights
from .bootstrap import BootstrapResult, Statistic, run_bootstrap, summarise_draws
from .design import PLSDesign
from .pls_batch import BatchResult, Moments, moments_from_counts
from .quality import htmt_stack

__all__ = ["bootstrap_pls", "pls_statistics"]

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
        return transform(batch, m.S) if transform is not None else batch

    def total(batch: BatchResult) -> FloatArray:
        eye = np.eye(K)
        return np.linalg.inv(eye - batch.B) - eye

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

    outer_keys = pd.DataFrame({"construct": [names[o] for o in owner],
                               "indicator": list(design.indicators)})
    pair_keys = pd.DataFrame(reachable, columns=["source", "target"])
    extra = [] if scale is None or means is None else [
        Statistic("index", pd.DataFrame({"construct": list(names)}), index),
        Statistic("impacts", pair_keys, impacts),
    ]
    return [*extra,
        Statistic("paths", pd.DataFrame(paths, columns=["source", "target"]),
                  lambda b, m: prep(b, m).B[:, tgt, src]),
        Statistic("loadings", outer_keys, lambda b, m: prep(b, m).L[:, rows, owner]),
        Statistic("weights", outer_keys, lambda b, m: prep(b, m).W[:, rows, owner]),
        Statistic("total_effects", pair_keys,
                  lambda b, m: total(prep(b, m))[:, r_tgt, r_src]),
        Statistic("indirect_effects", pair_keys,
                  lambda b, m: (total(prep(b, m)) - prep(b, m).B)[:, r_tgt, r_src]),
        Statistic("r_squared", pd.DataFrame({"construct": [names[k] for k in endo]}),
                  lambda b, m: prep(b, m).r_squared[:, endo]),
        Statistic("htmt", pd.DataFrame({"construct_1": [names[i] for i in iu],
                                        "construct_2": [names[j] for j in ju]}),
                  lambda b, m: htmt_stack(m.S, design)[:, iu, ju]),
    ]


def _jackknife_counts(N: int, seed: int) -> FloatArray:
    """Leave-one-out count vectors, or leave-one-group-out for more than JACKKNIFE_MAX rows."""
    if N <= JACKKNIFE_MAX:
        return 1.0 - np.eye(N)
    groups = np.random.default_rng(seed).permutation(N) % JACKKNIFE_MAX
    return (groups[None, :] != np.arange(JACKKNIFE_MAX)[:, None]).astype(float)


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
) -> BootstrapResult:
    """Bootstrap a PLS fit: draws, failures, and one summary table per statistic.

    ``X`` (N×J) is the centred indicator data the fit used, ``S`` its correlation matrix.
    ``original`` is the fit itself as a one-element batch; pass it when ``fit_batch`` is
    warm-started, so the point estimates in the tables are exactly the fit's (a warm start
    iterates a little further and would move them by ~1e-10).
    """
    draws, failures, n_valid, used_seed = run_bootstrap(
        X, fit_batch, statistics, n_resamples=n_resamples, seed=seed, n_jobs=n_jobs,
        case_weights=case_weights, progress=progress)
    if original is None:
        original = fit_batch(S[None])
    jk_counts = _jackknife_counts(X.shape[0], used_seed)
    if case_weights is not None:
        jk_counts = jk_counts * case_weights
    m_jk, ok_jk = moments_from_counts(X, jk_counts)
    m_jk = Moments(S=np.where(ok_jk[:, None, None], m_jk.S, S[None]), mean=m_jk.mean,
                   sd=m_jk.sd)
    jk = fit_batch(m_jk.S)
    full = np.ones(X.shape[0]) if case_weights is None else case_weights
    m_full, _ = moments_from_counts(X, full[None])
    tables = {}
    for st in statistics:
        estimate = st.extract(original, Moments(S=S[None], mean=m_full.mean, sd=m_full.sd))[0]
        jack = st.extract(jk, m_jk)[jk.valid & ok_jk]
        tables[st.name] = summarise_draws(st.keys, estimate, draws[st.name], jack,
                                          ci_level=ci_level, n_obs=n_obs)
    return BootstrapResult(n_resamples=n_resamples, n_valid=n_valid, failures=failures,
                           seed=used_seed, ci_level=ci_level, tables=tables, draws=draws)
