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

import numpy as np

from .._typing import BoolArray, FloatArray
from ..errors import ConvergenceWarning, EstimationError
from ..options import InnerScheme

__all__ = ["PLSKernelResult", "estimate_paths", "estimate_pls"]


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


def estimate_paths(C: FloatArray, D: BoolArray) -> tuple[FloatArray, FloatArray]:
    """OLS path coefficients and R² from construct correlations.

    Parameters
    ----------
    C : (K, K) construct correlation matrix.
    D : (K, K) boolean structure, ``D[target, source]``.

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
            raise EstimationError(
                f"The predictors of construct #{k} are perfectly collinear; the path "
                "coefficients are not identified.") from None
        B[k, pred] = beta
        r2[k] = float(beta @ C[pred, k])
    return B, r2


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

    Raises
    ------
    EstimationError
        If a Mode B block's correlation matrix is singular (perfectly collinear indicators).
    """
    K = M.shape[1]
    names = names or tuple(f"#{k}" for k in range(K))
    W = M.astype(float)
    W = W / np.sqrt(np.einsum("jk,jl,lk->k", W, S, W))
    inverses: dict[int, FloatArray] = {}
    for k in np.flatnonzero(mode_b):
        block = np.flatnonzero(M[:, k])
        Sbb = S[np.ix_(block, block)]
        if np.linalg.cond(Sbb) > 1e12:
            raise EstimationError(
                f"The indicators of Mode B construct {names[k]!r} are perfectly collinear "
                "(their correlation matrix is singular); drop one of them or use Mode A.")
        inverses[int(k)] = np.linalg.inv(Sbb)

    converged = False
    change = np.inf
    n_iter = 0
    for n_iter in range(1, max_iter + 1):  # noqa: B007 - n_iter is reported after the loop
        C = W.T @ S @ W
        E = _inner_weights(C, D, scheme)
        G = (S @ W @ E.T) * M  # covariances of indicators with their block's inner proxy
        for k, inv in inverses.items():
            block = M[:, k]
            G[block, k] = inv @ G[block, k]
        scale = np.sqrt(np.einsum("jk,jl,lk->k", G, S, G))
        if np.any(scale <= 0) or not np.all(np.isfinite(scale)):
            bad = [names[k] for k in np.flatnonzero(~(scale > 0))]
            raise EstimationError(
                f"The inner proxy of construct(s) {', '.join(bad)} is zero or undefined; "
                "check that every construct is connected to the structural model.")
        W_new = G / scale
        change = float(np.max(np.abs(W_new - W)))
        W = W_new
        if change < tol:
            converged = True
            break
    if not converged:
        warnings.warn(
            f"PLS did not converge in {max_iter} iteration{'s' if max_iter != 1 else ''} "
            f"(largest weight change "
            f"{change:.3g} > tol={tol:g}); results are not reliable. Increase max_iter= or "
            "check the model.", ConvergenceWarning, stacklevel=3)

    L = S @ W
    flip = np.where((L * M).sum(axis=0) < 0, -1.0, 1.0)
    W = W * flip
    L = L * flip
    C = W.T @ S @ W
    B, r2 = estimate_paths(C, D)
    return PLSKernelResult(W=W, C=C, L=L, B=B, r_squared=r2, n_iter=n_iter,
                           converged=converged, max_change=change)

