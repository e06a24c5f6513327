"""PLS on many correlation matrices at once: the engine of the bootstrap and the jackknife.

A resample differs from the original data only in its indicator correlation matrix, so a
bootstrap is ``R`` PLS fits on a stack of matrices ``S`` (R×J×J). This module runs Wold's
algorithm on the whole stack together: every step of :func:`csisem.estimation.pls.estimate_pls`
becomes a batched matrix product or a batched solve, and Python loops run only over constructs,
never over resamples. Symbols follow the legend in :mod:`csisem.estimation.pls`, with a leading
resample axis R.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._typing import BoolArray, FloatArray, IntArray
from ..options import InnerScheme
from .design import PLSDesign

__all__ = ["BatchResult", "Moments", "correlations_from_counts", "estimate_paths_batch",
           "estimate_pls_batch", "moments_from_counts"]


@dataclass(frozen=True)
class BatchResult:
    """Stacked estimates for R resamples; ``valid[r]`` is False where resample r failed."""

    W: FloatArray        # (R, J, K)
    C: FloatArray        # (R, K, K)
    L: FloatArray        # (R, J, K)
    B: FloatArray        # (R, K, K)
    r_squared: FloatArray  # (R, K)
    converged: BoolArray   # (R,)
    valid: BoolArray       # (R,) converged and finite


@dataclass(frozen=True)
class Moments:
    """First and second moments of many weighted versions of one data set.

    ``S`` (R, J, J) correlation matrices; ``mean`` (R, J) weighted means of the data passed
    (centred data give the shift from the original means); ``sd`` (R, J) weighted standard
    deviations (denominator: the sum of the weights).
    """

    S: FloatArray
    mean: FloatArray
    sd: FloatArray


def correlations_from_counts(
    X: FloatArray, counts: FloatArray, *, chunk: int = 4096
) -> tuple[FloatArray, BoolArray]:
    """Weighted correlation matrices of ``X`` for many weight vectors; see
    :func:`moments_from_counts`, of which this returns ``(moments.S, ok)``."""
    moments, ok = moments_from_counts(X, counts, chunk=chunk)
    return moments.S, ok


def moments_from_counts(
    X: FloatArray, counts: FloatArray, *, chunk: int = 4096
) -> tuple[Moments, BoolArray]:
    """Weighted means, SDs and correlation matrices of ``X`` for many weight vectors.

    Parameters
    ----------
    X : (N, J) data (centred or not; centring first improves accuracy).
    counts : (R, N) non-negative case weights per resample (bootstrap counts, possibly times
        survey weights).
    chunk : rows of X processed at a time (bounds the memory of the outer products).

    Returns
    -------
    moments : :class:`Moments` with S (R, J, J), mean and sd (R, J).
    ok : (R,) False where an indicator has zero variance in that resample (S is then
        meaningless and must not be used).

    Notes
    -----
    ``sum_n c_n x_n x_n'`` for all resamples is ``counts @ P`` with ``P`` the (N, J(J+1)/2)
    matrix of row outer products (upper triangle), so the moments of every resample come from
    one matrix product.
    """
    N, J = X.shape
    R = counts.shape[0]
    total = counts.sum(axis=1)
    sums = counts @ X                                     # (R, J)
    iu, ju = np.triu_indices(J)                           # symmetric: upper triangle only
    cross = np.zeros((R, iu.size))
    for start in range(0, N, chunk):
        rows = X[start:start + chunk]
        cross += counts[:, start:start + chunk] @ (rows[:, iu] * rows[:, ju])
    mean = sums / total[:, None]
    cov = cross / total[:, None] - mean[:, iu] * mean[:, ju]      # packed upper triangle
    diag = np.flatnonzero(iu == ju)
    var = cov[:, diag]
    scale = np.abs(X).max(axis=0) ** 2 + 1.0
    ok = np.all(var > 1e-12 * scale, axis=1)
    sd = np.sqrt(np.where(var > 0, var, 1.0))
    corr = cov / (sd[:, iu] * sd[:, ju])
    corr[:, diag] = 1.0
    unpack = np.empty((J, J), dtype=np.intp)
    unpack[iu, ju] = unpack[ju, iu] = np.arange(iu.size)
    S = corr[:, unpack.ravel()].reshape(R, J, J)
    return Moments(S=S, mean=mean, sd=sd), ok


def _solve_spd(A: FloatArray, b: FloatArray) -> FloatArray:
    """Solve stacked small symmetric positive definite systems A (R, p, p) x = b (R, p).

    Gauss-Jordan elimination vectorised across the stack: p numpy steps instead of R LAPACK
    calls (LAPACK's per-call overhead dominates for the 1-6 predictors of a construct). No
    pivoting is needed for positive definite matrices; a singular system yields non-finite
    values, which the caller marks invalid.
    """
    A = A.copy()
    x = b.copy()
    p = A.shape[1]
    for i in range(p):
        pivot = A[:, i, i].copy()
        A[:, i, :] /= pivot[:, None]
        x[:, i] /= pivot
        for j in range(p):
            if j != i:
                f = A[:, j, i].copy()
                A[:, j, :] -= f[:, None] * A[:, i, :]
                x[:, j] -= f * x[:, i]
    return x


def _cross(S: FloatArray, w: FloatArray, M: FloatArray) -> FloatArray:
    """(R, J, K) covariances of indicators with construct scores: S W for compact w (R, J).

    A stacked matmul: NumPy loops over the stack in C. (Folding the stack into one tall 2-D
    product looks cheaper but is several times slower: OpenBLAS spends more on threading a
    24-column product than on the arithmetic.)
    """
    return S @ (w[:, :, None] * M)


def _blocks(V: FloatArray, M: FloatArray, owner: IntArray) -> FloatArray:
    """(R, K, K) ``W' V`` for compact weights folded into ``V`` (R, J, K): sums within blocks."""
    R, J, K = V.shape
    return (M.T @ V.transpose(1, 0, 2).reshape(J, R * K)).reshape(K, R, K).transpose(1, 0, 2)


def estimate_paths_batch(C: FloatArray, D: BoolArray) -> tuple[FloatArray, FloatArray]:
    """OLS paths (R, K, K) and R² (R, K) for stacked construct correlations (R, K, K)."""
    R, K, _ = C.shape
    B = np.zeros((R, K, K))
    r2 = np.full((R, K), np.nan)
    for k in np.flatnonzero(D.any(axis=1)):
        pred = np.flatnonzero(D[k])
        rhs = C[:, pred, k]
        beta = _solve_spd(C[:, pred][:, :, pred], rhs)
        B[:, k, pred] = beta
        r2[:, k] = np.einsum("rp,rp->r", beta, rhs)
    return B, r2


def estimate_pls_batch(
    S: FloatArray,
    design: PLSDesign,
    scheme: InnerScheme,
    *,
    tol: float = 1e-7,
    max_iter: int = 300,
    start: FloatArray | None = None,
) -> BatchResult:
    """Wold's PLS algorithm on a stack of correlation matrices (R, J, J).

    Same algorithm, start values, stopping rule and sign rule as
    :func:`~csisem.estimation.pls.estimate_pls`, so a stack holding one matrix reproduces the
    single fit. ``start`` (J,) replaces the initial weights of 1, e.g. by the original fit's
    weights when bootstrapping: the fixed point is the same, it is only reached in fewer
    iterations. Resamples that do not converge within ``max_iter``, or whose matrices are
    singular (e.g. a Mode B block made collinear by resampling), are marked invalid, never
    raised: the caller counts and reports them.
    """
    D = design.D
    M = design.M.astype(float)
    owner = design.owner
    R, J, _ = S.shape
    adjacent = D | D.T
    rows = np.arange(J)

    def normalise(g: FloatArray, Ss: FloatArray) -> FloatArray:
        var = (g * _cross(Ss, g, M)[:, rows, owner]) @ M      # (R, K): w_k' S_kk w_k
        return g / np.sqrt(var[:, owner])

    initial = np.ones(J) if start is None else np.asarray(start, dtype=float)
    w = normalise(np.broadcast_to(initial, (R, J)).copy(), S)
    valid = np.ones(R, dtype=bool)
    converged = np.zeros(R, dtype=bool)
    blocks_b = [design.block(k) for k in np.flatnonzero(design.mode_b)]
    inverses = []
    for block in blocks_b:
        Sbb = S[:, block][:, :, block]
        cond = np.linalg.cond(Sbb)
        valid &= np.isfinite(cond) & (cond < 1e12)
        inverses.append(np.linalg.inv(np.where(valid[:, None, None], Sbb,
                                               np.eye(len(block)))))
    active = valid.copy()
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        for _ in range(max_iter):
            idx = np.flatnonzero(active)
            if idx.size == 0:
                break
            wa, Sa = w[idx], S[idx]
            SW = _cross(Sa, wa, M)                              # (r, J, K)
            C = _blocks(SW * wa[:, :, None], M, owner)          # (r, K, K)
            if scheme is InnerScheme.CENTROID:
                E = np.where(adjacent, np.sign(C), 0.0)
            elif scheme is InnerScheme.FACTORIAL:
                E = np.where(adjacent, C, 0.0)
            else:
                E = np.where(D.T, C, 0.0)
                for k in np.flatnonzero(D.any(axis=1)):
                    pred = np.flatnonzero(D[k])
                    E[:, k, pred] = _solve_spd(C[:, pred][:, :, pred], C[:, pred, k])
            g = (SW * E[:, owner, :]).sum(axis=2)                # cov(x_j, inner proxy)
            for block, inv in zip(blocks_b, inverses, strict=True):
                g[:, block] = np.einsum("rab,rb->ra", inv[idx], g[:, block])
            w_new = normalise(g, Sa)
            change = np.abs(w_new - wa).max(axis=1)
            w[idx] = w_new
            bad = ~np.isfinite(change)
            done = change < tol
            converged[idx[done]] = True
            valid[idx[bad]] = False
            active[idx[done | bad]] = False
        valid &= converged
        SW = _cross(S, w, M)
        flip = np.where((SW[:, rows, owner] @ M) < 0, -1.0, 1.0)   # (R, K) sign rule
        w = w * flip[:, owner]
        SW = SW * flip[:, None, :]
        C = _blocks(SW * w[:, :, None], M, owner)
        safe = np.where(valid[:, None, None], C, np.eye(C.shape[1]))
        B, r2 = estimate_paths_batch(safe, D)
    W = w[:, :, None] * M
    valid &= np.isfinite(B).all(axis=(1, 2)) & np.isfinite(w).all(axis=1)
    return BatchResult(W=W, C=C, L=SW, B=B, r_squared=r2, converged=converged, valid=valid)
