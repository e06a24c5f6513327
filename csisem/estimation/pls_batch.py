"""PLS on many correlation matrices at once: the engine of the bootstrap and the jackknife.

A resample differs from the original data only in its indicator correlation matrix, so a
bootstrap is ``R`` PLS fits on a stack of matrices ``S`` (R×J×J). This module runs Wold's
algorithm on the whole stack together: every step of :func:`csisem.estimation.pls.estimate_pls`
becomes a batched matrix product or a batched solve, and Python loops run only over constructs,
never over resamples. Symbols follow the legend in :mod:`csisem.estimation.pls`, with a leading
resample axis R.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, TypeVar, cast
from weakref import WeakKeyDictionary

import numpy as np

from .._typing import BoolArray, FloatArray, IntArray
from ..options import InnerScheme
from .design import PLSDesign

T = TypeVar("T")

__all__ = ["BatchResult", "Moments", "correlations_from_counts", "estimate_paths_batch",
           "estimate_pls_batch", "moments_from_counts", "moments_leaving_out"]


@dataclass(frozen=True, eq=False)
class BatchResult:
    """Stacked estimates for R resamples; ``valid[r]`` is False where resample r failed."""

    W: FloatArray        # (R, J, K)
    C: FloatArray        # (R, K, K)
    L: FloatArray        # (R, J, K)
    B: FloatArray        # (R, K, K)
    r_squared: FloatArray  # (R, K)
    converged: BoolArray   # (R,)
    valid: BoolArray       # (R,) converged and finite
    _memo: dict[str, Any] = field(default_factory=dict, init=False, repr=False)

    def memo(self, key: str, compute: Callable[[], T]) -> T:
        """``compute()``, evaluated once per batch and key: several bootstrapped statistics
        share derived arrays (total effects, the PLSc correction). Not part of ``replace``:
        a modified copy starts with an empty memo."""
        if key not in self._memo:
            self._memo[key] = compute()
        return cast(T, self._memo[key])


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
    iu, ju, _, _ = _packing(J)                            # symmetric: upper triangle only
    cross = np.zeros((R, iu.size))
    for start in range(0, N, chunk):
        rows = X[start:start + chunk]
        cross += counts[:, start:start + chunk] @ (rows[:, iu] * rows[:, ju])
    return _moments(X, total, sums, cross)


def moments_leaving_out(
    X: FloatArray, weights: FloatArray, groups: IntArray, n_groups: int, *,
    chunk: int = 4096,
) -> tuple[Moments, BoolArray]:
    """:func:`moments_from_counts` for the jackknife: the data without each group of rows.

    Parameters
    ----------
    X : (N, J) data; weights : (N,) case weights; groups : (N,) group of each row, in
    ``0 .. n_groups - 1``.

    Returns the moments (R = n_groups) of ``X`` weighted by ``weights`` with group g's rows
    left out, and ``ok`` as in :func:`moments_from_counts`.

    Notes
    -----
    Each is the weighted total minus the group's own sums: O(N J²) work instead of the
    O(n_groups N J²) of the product with 0/1 counts (which, for a leave-one-out jackknife,
    costs as much as a batch of bootstrap resamples).
    """
    N, J = X.shape
    iu, ju, _, _ = _packing(J)
    order = np.argsort(groups, kind="stable")
    part_w = np.bincount(groups, weights=weights, minlength=n_groups)
    part_s = np.zeros((n_groups, J))
    part_c = np.zeros((n_groups, iu.size))
    for start in range(0, N, chunk):
        at = order[start:start + chunk]
        rows, w, g = X[at], weights[at], groups[at]
        heads = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
        ids = g[heads]
        part_s[ids] += np.add.reduceat(w[:, None] * rows, heads, axis=0)
        part_c[ids] += np.add.reduceat(w[:, None] * (rows[:, iu] * rows[:, ju]), heads,
                                       axis=0)
    total = part_w.sum() - part_w
    return _moments(X, total, part_s.sum(axis=0) - part_s, part_c.sum(axis=0) - part_c)


def _moments(X: FloatArray, total: FloatArray, sums: FloatArray,
             cross: FloatArray) -> tuple[Moments, BoolArray]:
    """Moments from weight totals (R,), weighted sums (R, J) and weighted cross products
    (R, J(J+1)/2, packed upper triangle) of the rows of ``X``."""
    J = sums.shape[1]
    iu, ju, diag, unpack = _packing(J)
    # Packed (upper triangle) until the end: one (R, J, J) array is allocated, not several.
    # (i, j) and (j, i) share one packed value, so S is exactly symmetric.
    mean = sums / total[:, None]
    cov = cross / total[:, None]
    cov -= mean[:, iu] * mean[:, ju]
    var = cov[:, diag]
    scale = np.abs(X).max(axis=0) ** 2 + 1.0
    ok = np.all(var > 1e-12 * scale, axis=1)
    sd = np.sqrt(np.where(var > 0, var, 1.0))
    cov /= sd[:, iu] * sd[:, ju]
    cov[:, diag] = 1.0
    S = cov[:, unpack]
    return Moments(S=S, mean=mean, sd=sd), ok


@lru_cache(maxsize=16)
def _packing(J: int) -> tuple[IntArray, IntArray, IntArray, IntArray]:
    """Upper-triangle indices (iu, ju) of a J×J matrix, the positions of its diagonal in
    the packed vector, and the (J, J) map from a full matrix to packed positions."""
    iu, ju = np.triu_indices(J)
    unpack = np.empty((J, J), dtype=np.intp)
    unpack[iu, ju] = unpack[ju, iu] = np.arange(iu.size)
    diag = np.flatnonzero(iu == ju)
    for arr in (iu, ju, unpack, diag):
        arr.setflags(write=False)
    return iu, ju, diag, unpack


def _solve_spd(A: FloatArray, b: FloatArray, active: list[int] | None = None, *,
               overwrite: bool = False) -> FloatArray:
    """Solve small symmetric positive definite systems stacked along the LAST axis.

    ``A`` (p, p, n) and ``b`` (p, n) hold n systems; returns x (p, n). Gauss-Jordan
    elimination vectorised across the stack: p numpy steps (each eliminates one column from
    every other row at once) instead of one LAPACK call per system, whose overhead dominates
    for the 1-6 predictors of a construct; the stack goes last so that every step works on
    long contiguous rows (numpy is slow on many short inner loops of length p). No pivoting
    is needed for positive definite matrices; a singular system yields non-finite values,
    which the caller marks invalid.

    Padding a system with identity rows and zero right-hand sides leaves its solution
    unchanged (the padded unknowns are 0), which lets differently sized systems share one
    stack. ``active[i]``: step i only touches the first ``active[i]`` systems (order systems
    by decreasing size: a padded system is solved once its own columns are eliminated).
    Step i updates only the columns right of i, the only ones read afterwards. With
    ``overwrite`` A and b are used as work space (and x is b).
    """
    A = A if overwrite else A.copy()
    x = b if overwrite else b.copy()
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for i in range(A.shape[0]):
            n = A.shape[-1] if active is None else active[i]
            pivot = A[i, i, :n].copy()
            A[i, i + 1:, :n] /= pivot
            x[i, :n] /= pivot
            f = A[:, i, :n].copy()
            f[i] = 0.0                           # row i keeps its values
            A[:, i + 1:, :n] -= f[:, None, :] * A[i, i + 1:, :n][None]
            x[:, :n] -= f * x[i, :n]
    return x


class _Regressions:
    """The regression of every endogenous construct on its predecessors, as one padded stack.

    Construct ``endo[e]`` has predictors ``pred[:n_e, e]``; the remaining slots are padding
    (identity rows, zero right-hand side), so all regressions of a batch take one vectorised
    solve. Arrays put the resample axis last (see :func:`_solve_spd`); constructs are ordered
    by decreasing number of predictors.
    """

    def __init__(self, D: BoolArray) -> None:
        endo = np.flatnonzero(D.any(axis=1))
        sizes = D[endo].sum(axis=1)
        self.endo = endo[np.argsort(-sizes, kind="stable")]
        preds = [np.flatnonzero(D[k]) for k in self.endo]
        p = max((len(q) for q in preds), default=0)
        self.pred = np.zeros((p, len(preds)), dtype=np.intp)      # (p, n_endo)
        self.real = np.zeros((p, len(preds)), dtype=bool)
        for e, q in enumerate(preds):
            self.pred[:len(q), e] = q
            self.real[:len(q), e] = True
        self.n_active = [int(self.real[i].sum()) for i in range(p)]  # systems longer than i
        K = D.shape[0]
        # Positions in C (R, K, K) flattened to (K*K, R), plus a row of ones (K*K) and one
        # of zeros (K*K + 1): one gather then builds the padded systems, identity included.
        one, zero = K * K, K * K + 1
        square = self.real[:, None, :] & self.real[None, :, :]
        diagonal = np.eye(p, dtype=bool)[:, :, None]
        self.take_A = np.where(square, self.pred[:, None, :] * K + self.pred[None, :, :],
                               np.where(diagonal, one, zero))       # (p, p, n_endo)
        self.take_rhs = np.where(self.real, self.pred * K + self.endo[None, :], zero)
        # flat positions [target, source] in a (K, K) matrix, in the order of beta[real]
        self.flat = (self.endo[None, :] * K + self.pred)[self.real]

    def solve(self, C: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Coefficients and right-hand sides (p_max, n_endo, R) for correlations (R, K, K);
        zero in the padding."""
        R, K, _ = C.shape
        flat = np.empty((K * K + 2, R))
        flat[:K * K] = C.reshape(R, K * K).T
        flat[K * K] = 1.0
        flat[K * K + 1] = 0.0
        A = flat[self.take_A]                                     # (p, p, n_endo, R)
        rhs = flat[self.take_rhs]                                 # (p, n_endo, R)
        p, n_endo, _ = rhs.shape
        beta = _solve_spd(A.reshape(p, p, n_endo * R), rhs.reshape(p, n_endo * R).copy(),
                          [n * R for n in self.n_active], overwrite=True)
        return beta.reshape(p, n_endo, R), rhs

    def into(self, beta: FloatArray, out: FloatArray) -> None:
        """Write the coefficients ``beta`` into ``out`` (R, K, K, C-contiguous) at
        [target, source]."""
        R, K, _ = out.shape
        out.reshape(R, K * K)[:, self.flat] = beta[self.real].T


@lru_cache(maxsize=64)
def _regressions(D_bytes: bytes, K: int) -> _Regressions:
    """:class:`_Regressions` of a structure, built once (the bootstrap calls the kernel on
    hundreds of batches of the same model)."""
    return _Regressions(np.frombuffer(D_bytes, dtype=bool).reshape(K, K))


class _Blocks:
    """The block structure of a design, as the kernel uses it in every iteration.

    Indicators of a construct are contiguous in a design built from a model (block by
    block), so a block is a slice and products with it are views, not copies.
    """

    def __init__(self, design: PLSDesign) -> None:
        self.M = design.M.astype(float)
        self.owner = design.owner
        self.rows = np.arange(len(design.indicators))
        members = [design.block(k) for k in range(len(design.names))]
        self.slices: list[slice | IntArray] = [
            slice(int(b[0]), int(b[-1]) + 1) if np.all(np.diff(b) == 1) else b
            for b in members]

    def scores_cross(self, S: FloatArray, w: FloatArray) -> FloatArray:
        """(R, K, J) covariances of construct scores with indicators, ``(S W)'``.

        Row k is ``w_k' S[block k, :]``: one stacked vector-matrix product per construct, a
        K-th of the work of the dense ``S @ W`` (W is zero outside the blocks). Uses rows
        of S for its columns, so S must be symmetric (a correlation matrix is).
        """
        R, J, _ = S.shape
        out = np.empty((R, len(self.slices), J))
        for k, b in enumerate(self.slices):
            np.matmul(w[:, None, b], S[:, b, :], out=out[:, k:k + 1, :])
        return out

    def own(self, V: FloatArray) -> FloatArray:
        """(R, J) each indicator's entry for its own construct from (R, K, J)."""
        return V[:, self.owner, self.rows]

    def within(self, V: FloatArray) -> FloatArray:
        """(..., K) sums of (..., J) values within each block (one 2-D product)."""
        sums: FloatArray = (V.reshape(-1, V.shape[-1]) @ self.M).reshape(*V.shape[:-1], -1)
        return sums


_BLOCKS: WeakKeyDictionary[PLSDesign, _Blocks] = WeakKeyDictionary()


def _blocks(design: PLSDesign) -> _Blocks:
    """:class:`_Blocks` of a design, built once per design."""
    blk = _BLOCKS.get(design)
    if blk is None:
        blk = _BLOCKS[design] = _Blocks(design)
    return blk


def estimate_paths_batch(C: FloatArray, D: BoolArray) -> tuple[FloatArray, FloatArray]:
    """OLS paths (R, K, K) and R² (R, K) for stacked construct correlations (R, K, K)."""
    R, K, _ = C.shape
    B = np.zeros((R, K, K))
    r2 = np.full((R, K), np.nan)
    reg = _regressions(D.tobytes(), K)
    if reg.endo.size:
        beta, rhs = reg.solve(C)
        reg.into(beta, B)
        r2[:, reg.endo] = (beta * rhs).sum(axis=0).T
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
    raised: the caller counts and reports them. A resample's numbers do not depend on the
    other matrices in the stack (up to rounding: products folded across the stack may round
    differently in the last digit, so a batch's composition is fixed by its seed).

    Notes
    -----
    One product with S per iteration: the covariances ``P' = (S G)'`` (K×J) of the
    unnormalised new weights G give both their scale (``var_k = g_k' P_k``, so that
    ``w_k = g_k / sqrt(var_k)``) and the next iteration's ``(S W)' = P' / sqrt(var)``.
    Resamples leave the stack as they converge.
    """
    D = design.D
    blk = _blocks(design)
    owner = design.owner
    R, J, _ = S.shape
    adjacent = D | D.T
    reg = _regressions(D.tobytes(), D.shape[0])

    def scaled(g: FloatArray, Ss: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Weights g normalised to unit score variance, ``P' = (S G)'`` and the scales
        ``sd``; ``(S W)' = P' / sd``, applied where it is used (on K×K, not K×J)."""
        P = blk.scores_cross(Ss, g)
        sd = np.sqrt(blk.within(g * blk.own(P)))       # (R, K): sqrt(g_k' S_kk g_k)
        return g / sd[:, owner], P, sd

    initial = np.ones(J) if start is None else np.asarray(start, dtype=float)
    valid = np.ones(R, dtype=bool)
    converged = np.zeros(R, dtype=bool)
    blocks_b = [design.block(int(k)) for k in np.flatnonzero(design.mode_b)]
    inverses = []
    for block in blocks_b:
        Sbb = S[:, block][:, :, block]
        cond = np.linalg.cond(Sbb)
        valid &= np.isfinite(cond) & (cond < 1e12)
        inverses.append(np.linalg.inv(np.where(valid[:, None, None], Sbb,
                                               np.eye(len(block)))))
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        w, P, sd = scaled(np.broadcast_to(initial, (R, J)).copy(), S)
        ids = np.flatnonzero(valid)                   # resamples still iterating
        wa, Pa, sda = w[ids], P[ids], sd[ids]
        Sa, inv_a = S[ids], [inv[ids] for inv in inverses]
        for _ in range(max_iter):
            if ids.size == 0:
                break
            C = blk.within(Pa * wa[:, None, :]) / sda[:, :, None]   # (r, K, K): W' S W
            if scheme is InnerScheme.CENTROID:
                E = np.where(adjacent, np.sign(C), 0.0)
            elif scheme is InnerScheme.FACTORIAL:
                E = np.where(adjacent, C, 0.0)
            else:
                E = np.where(D.T, C, 0.0)
                if reg.endo.size:
                    reg.into(reg.solve(C)[0], E)
            g = blk.own((E / sda[:, None, :]) @ Pa)           # cov(x_j, inner proxy)
            for block, inv in zip(blocks_b, inv_a, strict=True):
                g[:, block] = np.einsum("rab,rb->ra", inv, g[:, block])
            w_new, P_new, sd_new = scaled(g, Sa)
            change = np.abs(w_new - wa).max(axis=1)
            bad = ~np.isfinite(change)
            done = change < tol
            converged[ids[done]] = True
            valid[ids[bad]] = False
            leave = done | bad
            if leave.any():
                out = ids[leave]
                w[out], P[out], sd[out] = w_new[leave], P_new[leave], sd_new[leave]
                keep = ~leave
                ids, Sa, inv_a = ids[keep], Sa[keep], [inv[keep] for inv in inv_a]
                wa, Pa, sda = w_new[keep], P_new[keep], sd_new[keep]
            else:
                wa, Pa, sda = w_new, P_new, sd_new
        w[ids], P[ids], sd[ids] = wa, Pa, sda         # not converged within max_iter
        SWt = P / sd[:, :, None]
        valid &= converged
        flip = np.where(blk.within(blk.own(SWt)) < 0, -1.0, 1.0)   # (R, K) sign rule
        w = w * flip[:, owner]
        SW = SWt.transpose(0, 2, 1) * flip[:, None, :]              # (R, J, K)
        C = blk.M.T @ (SW * w[:, :, None])
        safe = np.where(valid[:, None, None], C, np.eye(C.shape[1]))
        B, r2 = estimate_paths_batch(safe, D)
    W = w[:, :, None] * blk.M
    valid &= np.isfinite(B).all(axis=(1, 2)) & np.isfinite(w).all(axis=1)
    return BatchResult(W=W, C=C, L=SW, B=B, r_squared=r2, converged=converged, valid=valid)
