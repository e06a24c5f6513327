"""PLS path modelling: Wold's algorithm computed from the indicator correlation matrix.

PLS-PM on standardised indicators needs only their correlation matrix ``S``: construct scores
are linear in the indicators, so every covariance the algorithm uses is a quadratic form in
``S`` (Lohmöller 1989, ch. 2; Tenenhaus et al. 2005, section 2). Working on ``S`` makes a fit
independent of the number of rows once ``S`` is known (bootstrap resamples, weighted data and
out-of-core data then differ only in how ``S`` is computed).

For maintenance: symbols and shapes
-----------------------------------
N        observations            J   indicators            K   constructs
S (J×J)  indicator correlation matrix
M (J×K)  block membership, M[j, k] = 1 if indicator j measures construct k
W (J×K)  outer weights; column k is zero outside block k and scaled so that w_k' S w_k = 1
D (K×K)  structure, D[target, source] = 1 for a path source -> target
E (K×K)  inner weights; the inner proxy of construct k is Z_k = sum_l E[k, l] Y_l
C (K×K)  construct correlations, W' S W
L (J×K)  indicator-construct correlations S W: loadings inside a block, cross-loadings outside
B (K×K)  path coefficients, B[target, source]
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._typing import BoolArray, FloatArray, IntArray
from ..errors import ConvergenceWarning, EstimationError
from ..options import InnerScheme

__all__ = ["KernelPlan", "PLSKernelResult", "estimate_paths", "estimate_pls", "kernel_plan"]


@dataclass(frozen=True)
class PLSKernelResult:
    """Arrays produced by :func:`estimate_pls` (shapes as in the module legend)."""

    W: FloatArray
    C: FloatArray
    L: FloatArray
    B: FloatArray
    r_squared: FloatArray
    n_iter: int
    converged: bool
    max_change: float


def _inner_weights(C: FloatArray, D: BoolArray, scheme: InnerScheme) -> FloatArray:
    """Inner weight matrix E (K×K) for the current construct correlations C."""
    adjacent = D | D.T
    if scheme is InnerScheme.CENTROID:
        return np.where(adjacent, np.sign(C), 0.0)
    if scheme is InnerScheme.FACTORIAL:
        return np.where(adjacent, C, 0.0)
    # Path weighting: successors enter with their correlation, predecessors with their
    # multiple-regression coefficient in the regression of k on all its predecessors.
    E = np.where(D.T, C, 0.0)
    for k in np.flatnonzero(D.any(axis=1)):
        pred = np.flatnonzero(D[k])
        E[k, pred] = np.linalg.solve(C[np.ix_(pred, pred)], C[pred, k])
    return E


def estimate_paths(C: FloatArray, D: BoolArray,
                   names: tuple[str, ...] | None = None) -> tuple[FloatArray, FloatArray]:
    """OLS path coefficients and R² from construct correlations.

    Parameters
    ----------
    C : (K, K) construct correlation matrix.
    D : (K, K) boolean structure, ``D[target, source]``.
    names : construct names, for the error message.

    Returns
    -------
    B : (K, K) path coefficients, ``B[target, source]``; zero where there is no path.
    r_squared : (K,) R² of each construct (NaN for exogenous constructs).

    Raises
    ------
    EstimationError
        If the predictors of a construct are perfectly collinear.
    """
    K = C.shape[0]
    B = np.zeros((K, K))
    r2 = np.full(K, np.nan)
    for k in np.flatnonzero(D.any(axis=1)):
        pred = np.flatnonzero(D[k])
        Cpp = C[np.ix_(pred, pred)]
        try:
            beta = np.linalg.solve(Cpp, C[pred, k])
        except np.linalg.LinAlgError:
            raise _collinear(k, pred, names) from None
        B[k, pred] = beta
        r2[k] = float(beta @ C[pred, k])
    return B, r2


def _collinear(k: int, pred: IntArray, names: tuple[str, ...] | None) -> EstimationError:
    """The error for perfectly correlated predictor constructs of construct ``k``."""
    label = (lambda j: repr(names[j])) if names else (lambda j: f"#{j}")
    return EstimationError(
        f"The predictors of construct {label(k)} ({', '.join(label(j) for j in pred)}) are "
        "perfectly correlated, so their path coefficients are not identified; check for "
        "constructs measured by the same (or duplicated) indicator columns.")


def _check_predictors(C: FloatArray, D: BoolArray, names: tuple[str, ...] | None) -> None:
    """Raise :func:`_collinear`'s error for the first construct whose predictors' correlation
    matrix is not positive definite (after a failed block-diagonal solve)."""
    for k in np.flatnonzero(D.any(axis=1)):
        pred = np.flatnonzero(D[k])
        if not np.linalg.eigvalsh(C[np.ix_(pred, pred)])[0] > 1e-12:
            raise _collinear(int(k), pred, names)


@dataclass(frozen=True, eq=False)
class KernelPlan:
    """Index arrays that turn one PLS iteration into a fixed, short list of array operations.

    Built once per model structure (cached): the per-iteration cost of PLS on a small model
    is the number of NumPy calls, not the arithmetic. The regressions of the path scheme (and
    the final path coefficients) are solved as one block-diagonal system: block ``k`` holds
    ``C[P_k, P_k]`` for the predecessors ``P_k`` of construct ``k``.
    """

    Mf: FloatArray           # (J, K) block membership as 0/1
    successors: FloatArray   # (K, K) 1 where E[k, l] is the correlation (l follows k)
    adjacent: FloatArray     # (K, K) 1 for linked constructs
    endogenous: IntArray     # constructs with predecessors
    grid: IntArray           # (n, n) flat positions in C of the block-diagonal system
    block_mask: FloatArray   # (n, n) 1 inside the diagonal blocks
    rhs: tuple[IntArray, IntArray]    # (n,) C[pred, k] entries: the right-hand side
    rhs_flat: IntArray       # the same as flat positions in C
    scatter: IntArray        # (n,) flat positions E[k, pred] of the regression weights
    starts: IntArray         # first row of each block (for R² sums)
    mode_b: tuple[tuple[int, IntArray], ...]   # (construct, its indicator positions)

    @classmethod
    def build(cls, M: BoolArray, mode_b: BoolArray, D: BoolArray) -> KernelPlan:
        pred_rows: list[int] = []
        pred_of: list[int] = []
        starts: list[int] = []
        endogenous = np.flatnonzero(D.any(axis=1))
        for k in endogenous:
            starts.append(len(pred_rows))
            pred = np.flatnonzero(D[k])
            pred_rows.extend(int(p) for p in pred)
            pred_of.extend([int(k)] * len(pred))
        rows = np.array(pred_rows, dtype=np.intp)
        owner = np.array(pred_of, dtype=np.intp)
        same = (owner[:, None] == owner[None, :]).astype(float)
        K = D.shape[0]
        plan = cls(Mf=M.astype(float), successors=np.ascontiguousarray(D.T, dtype=float),
                   adjacent=(D | D.T).astype(float), endogenous=endogenous,
                   grid=rows[:, None] * K + rows[None, :],
                   block_mask=same, rhs=(rows, owner), rhs_flat=rows * K + owner,
                   scatter=owner * K + rows, starts=np.array(starts, dtype=np.intp),
                   mode_b=tuple((int(k), np.flatnonzero(M[:, k]))
                                for k in np.flatnonzero(mode_b)))
        for value in vars(plan).values():
            if isinstance(value, np.ndarray):
                value.setflags(write=False)
        return plan

    def regressions(self, C: FloatArray, *, strict: bool = False) -> FloatArray:
        """Coefficients of every endogenous construct on its predecessors (stacked).

        One Cholesky solve (LAPACK ``dposv``: a tenth of ``numpy.linalg.solve``'s call
        overhead); raises :class:`numpy.linalg.LinAlgError` if a block is not positive
        definite (collinear predictors). ``strict`` also refuses a block that is positive
        definite only by rounding: a squared pivot of the Cholesky factor (one minus the R²
        of a predictor on the ones before it) below 1e-12.
        """
        flat = C.ravel()
        factor, beta, info = _dposv(flat.take(self.grid) * self.block_mask,
                                    flat.take(self.rhs_flat))
        if info or (strict and not factor.diagonal().min() ** 2 > 1e-12):
            raise np.linalg.LinAlgError("predictor correlations not positive definite")
        return beta

    def inner_weights(self, C: FloatArray, scheme: InnerScheme) -> FloatArray:
        """Inner weight matrix E (K×K) for the construct correlations C."""
        if scheme is InnerScheme.CENTROID:
            return np.sign(C) * self.adjacent
        if scheme is InnerScheme.FACTORIAL:
            return C * self.adjacent
        # Path weighting: successors enter with their correlation, predecessors with their
        # multiple-regression coefficient in the regression of k on all its predecessors.
        E = C * self.successors
        if self.starts.size:
            E.flat[self.scatter] = self.regressions(C)
        return E


_PLANS: dict[bytes, KernelPlan] = {}
_dposv: Any = None


def _load_lapack() -> None:
    global _dposv
    if _dposv is None:  # scipy.linalg is imported on the first fit, not with csisem
        from scipy.linalg.lapack import dposv

        _dposv = dposv


def kernel_plan(M: BoolArray, mode_b: BoolArray, D: BoolArray) -> KernelPlan:
    """The (cached) :class:`KernelPlan` of a model structure."""
    key = b"|".join((M.shape[0].to_bytes(4, "little"), M.shape[1].to_bytes(4, "little"),
                     np.packbits(M).tobytes(), np.packbits(mode_b).tobytes(),
                     np.packbits(D).tobytes()))
    plan = _PLANS.get(key)
    if plan is None:
        _load_lapack()
        if len(_PLANS) > 256:
            _PLANS.clear()
        plan = _PLANS[key] = KernelPlan.build(M, mode_b, D)
    return plan


def estimate_pls(
    S: FloatArray,
    M: BoolArray,
    mode_b: BoolArray,
    D: BoolArray,
    scheme: InnerScheme = InnerScheme.PATH,
    *,
    tol: float = 1e-7,
    max_iter: int = 300,
    names: tuple[str, ...] | None = None,
    plan: KernelPlan | None = None,
) -> PLSKernelResult:
    """Wold's PLS algorithm on the indicator correlation matrix.

    Parameters
    ----------
    S : (J, J) indicator correlation matrix.
    M : (J, K) boolean block membership.
    mode_b : (K,) True where the construct is estimated in Mode B (regression weights).
    D : (K, K) boolean structure, ``D[target, source]``.
    scheme : inner weighting scheme.
    tol : the iterations stop when no outer weight changes by more than ``tol``.
    max_iter : iteration limit; reaching it emits :class:`ConvergenceWarning`.
    names : construct names, for error messages.
    plan : the :class:`KernelPlan` of ``(M, mode_b, D)`` if the caller keeps it (found in a
        cache otherwise).

    Returns
    -------
    PLSKernelResult

    Notes
    -----
    Initial weights are 1 for every indicator (as SmartPLS and seminr), scaled to unit score
    variance. Each iteration computes the inner proxies' covariances with the indicators,
    ``S W E'``, and sets Mode A weights to them and Mode B weights to
    ``S_bb^{-1} (S W E')_b``. After convergence the sign of each construct is chosen so that
    the sum of its loadings is positive (a construct's sign is not identified).

    Each iteration is about fifteen NumPy calls on J×K and K×K arrays (see
    :class:`KernelPlan`); ``S W`` is carried from one iteration to the next.

    Raises
    ------
    EstimationError
        If a Mode B block's correlation matrix is singular (perfectly collinear indicators).
    """
    if plan is None:
        plan = kernel_plan(M, mode_b, D)
    if _dposv is None:  # a plan unpickled in a fresh process (a cluster worker)
        _load_lapack()
    Mf = plan.Mf
    inverses: list[tuple[int, IntArray, FloatArray]] = []
    for k, block in plan.mode_b:
        Sbb = S[np.ix_(block, block)]
        if np.linalg.cond(Sbb) > 1e12:
            label = names[k] if names else f"#{k}"
            raise EstimationError(
                f"The indicators of Mode B construct {label!r} are perfectly collinear "
                "(their correlation matrix is singular); drop one of them or use Mode A.")
        inverses.append((k, block, np.linalg.inv(Sbb)))

    # Local names and in-place updates: on a small model each NumPy call costs about a
    # microsecond whatever its size, so the loop is written to make as few as possible.
    add, largest, sqrt, absolute = np.add.reduce, np.maximum.reduce, np.sqrt, np.abs
    path_scheme = scheme is InnerScheme.PATH
    successors, scatter, regressions = plan.successors, plan.scatter, plan.regressions
    regress = plan.starts.size > 0
    SW = S @ Mf
    scale = 1.0 / sqrt(add(Mf * SW, 0))
    W = Mf * scale
    SW *= scale
    converged = False
    change = np.inf
    n_iter = 0
    try:
        with np.errstate(all="ignore"):  # a zero or undefined proxy variance is caught below
            for n_iter in range(1, max_iter + 1):  # noqa: B007 - reported after the loop
                C = W.T @ SW
                if path_scheme:
                    E = C * successors
                    if regress:
                        E.put(scatter, regressions(C))  # E[k, predecessors of k]
                else:
                    E = plan.inner_weights(C, scheme)
                G = SW @ E.T
                G *= Mf  # covariances of indicators with their block's inner proxy
                for k, block, inv in inverses:
                    G[block, k] = inv @ G[block, k]
                SG = S @ G
                var = add(G * SG, 0)  # variance of each construct's new (unscaled) scores
                scale = 1.0 / sqrt(var)
                G *= scale  # the new weights
                W -= G
                change = float(largest(absolute(W, out=W), None))
                W = G
                SG *= scale
                SW = SG
                if change < tol:
                    converged = True
                    break
                if change != change:  # NaN: a proxy variance was zero, negative or NaN
                    _undefined_proxy(var, names)
    except np.linalg.LinAlgError:  # the path scheme's regressions: collinear predictors
        _check_predictors(C, D, names)
        raise EstimationError("The path-weighting regressions of the inner weights failed "
                              "(predictor constructs nearly perfectly correlated).") from None
    if not converged:
        warnings.warn(
            f"PLS did not converge in {max_iter} iteration{'s' if max_iter != 1 else ''} "
            f"(largest weight change "
            f"{change:.3g} > tol={tol:g}); results are not reliable. Increase max_iter= or "
            "check the model.", ConvergenceWarning, stacklevel=3)

    flip = np.copysign(1.0, add(SW * Mf, 0))  # -1 where a block's loadings sum below zero
    W = W * flip
    L = SW * flip
    C = W.T @ L
    B, r2 = _paths(plan, C, D, names)
    return PLSKernelResult(W=W, C=C, L=L, B=B, r_squared=r2, n_iter=n_iter,
                           converged=converged, max_change=change)


def _undefined_proxy(var: FloatArray, names: tuple[str, ...] | None) -> None:
    """Raise :class:`EstimationError` naming the constructs whose proxy variance is not
    positive (a construct cut off from the structural model, or an all-zero inner proxy)."""
    labels = names or tuple(f"#{j}" for j in range(var.size))
    bad = [labels[j] for j in np.flatnonzero(~(var > 0) | ~np.isfinite(var))]
    raise EstimationError(
        f"The inner proxy of construct(s) {', '.join(bad) or '?'} is zero or undefined; "
        "check that every construct is connected to the structural model.")


def _paths(plan: KernelPlan, C: FloatArray, D: BoolArray,
           names: tuple[str, ...] | None = None) -> tuple[FloatArray, FloatArray]:
    """Path coefficients and R² with the plan's one block-diagonal solve (see
    :func:`estimate_paths`, which names the construct when predictors are collinear)."""
    K = C.shape[0]
    B = np.zeros((K, K))
    r2 = np.full(K, np.nan)
    if not plan.starts.size:
        return B, r2
    try:
        beta = plan.regressions(C, strict=True)
    except np.linalg.LinAlgError:
        _check_predictors(C, D, names)
        return estimate_paths(C, D, names)
    if not np.isfinite(beta).all():
        return estimate_paths(C, D, names)
    B.put(plan.scatter, beta)  # B[k, predecessors of k], as E in the iterations
    r2[plan.endogenous] = np.add.reduceat(beta * C.ravel().take(plan.rhs_flat), plan.starts)
    return B, r2
