"""Overall model fit of a PLS path model: model-implied correlations, SRMR, d_ULS and d_G.

A PLS fit implies an indicator correlation matrix Sigma; the fit measures compare it with the
sample correlation matrix S (Dijkstra & Henseler 2015b; Henseler et al. 2014). Shapes follow the
legend in :mod:`csisem.estimation.pls`.

Two implied matrices, named as in SmartPLS and cSEM (``fit(.saturated = TRUE/FALSE)``):

* **saturated model** -- the structural model is ignored: the constructs correlate as
  estimated (``C``: ``W'SW`` for PLS, the corrected correlations for PLSc);
* **estimated model** -- the construct correlations are the ones the structural model implies
  from the estimated path coefficients, with exogenous constructs correlating as estimated and
  uncorrelated structural errors.

The measurement part is the same in both. A composite block keeps its sample correlations
(``Sigma_bb = S_bb``, the composite model of Dijkstra 2017); a common-factor block (a reflective
construct estimated by PLSc) implies ``lambda lambda'`` off the diagonal. Between blocks
``Sigma_bc = a_b rho_bc a_c'``, with ``a`` the loadings (for a composite, ``S_bb w_b``).
"""

from __future__ import annotations

import warnings
from collections import deque

import numpy as np
import pandas as pd
import scipy.linalg

from .._typing import BoolArray, FloatArray
from ..errors import EstimationError, InadmissibleSolutionWarning
from .design import PLSDesign
from .pls import PLSKernelResult
from .plsc import PLScResult

__all__ = ["d_g", "d_uls", "fit_indices", "implied_construct_correlation",
           "model_implied_correlation", "srmr"]


def implied_construct_correlation(C: FloatArray, B: FloatArray, D: BoolArray,
                                  names: tuple[str, ...] | None = None) -> FloatArray:
    """Construct correlations implied by a recursive structural model.

    Parameters
    ----------
    C : (K, K) estimated construct correlations; only the block of exogenous constructs is
        used.
    B : (K, K) path coefficients, ``B[target, source]``.
    D : (K, K) boolean structure, ``D[target, source]``.
    names : construct names, for messages.

    Returns
    -------
    (K, K) correlation matrix P.

    Raises
    ------
    EstimationError
        If the structural model has a cycle (non-recursive models are not supported).

    Warns
    -----
    InadmissibleSolutionWarning
        If the paths into a construct explain all of its variance or more (implied R² >= 1).

    Notes
    -----
    Each endogenous construct is ``eta_k = sum_p B[k, p] eta_p + zeta_k`` with ``zeta_k``
    uncorrelated with the exogenous constructs and the other errors, and the variance of
    ``zeta_k`` chosen so that ``var(eta_k) = 1``. Visiting constructs in topological order,

    .. math::

        P_{km} = \\sum_p B_{kp} P_{pm} \\quad (m \\text{ visited before } k), \\qquad
        \\psi_k = 1 - b_k' P_{pp} b_k .

    cSEM (``fit()``) instead sets ``psi_k`` to one minus the *estimated* R² and then overwrites
    the diagonal with ones; the two agree when each construct's predecessors correlate in
    ``P`` as estimated (e.g. all exogenous), and otherwise cSEM's ``P`` is not a correlation
    matrix of the model (cSEM's source notes this as "not yet fully correct").
    """
    K = C.shape[0]
    names = names or tuple(f"#{k}" for k in range(K))
    P = np.eye(K)
    exo = np.flatnonzero(~D.any(axis=1))
    P[np.ix_(exo, exo)] = C[np.ix_(exo, exo)]
    done = [int(k) for k in exo]
    for k in _topological_endogenous(D):
        pred = np.flatnonzero(D[k])
        b = B[k, pred]
        explained = float(b @ P[np.ix_(pred, pred)] @ b)
        if explained >= 1:
            warnings.warn(
                f"The paths into construct {names[k]} explain {explained:.4g} of its variance "
                "(>= 1) in the implied construct correlations of the estimated model; the "
                "implied matrix is not a valid correlation matrix.",
                InadmissibleSolutionWarning, stacklevel=2)
        before = np.array(done)
        row = b @ P[np.ix_(pred, before)]
        P[k, before] = row
        P[before, k] = row
        done.append(k)
    return P


def _topological_endogenous(D: BoolArray) -> list[int]:
    """Endogenous constructs, each after all of its predecessors (Kahn's algorithm)."""
    remaining = D.sum(axis=1).astype(int)
    queue = deque(int(k) for k in np.flatnonzero(remaining == 0))
    order: list[int] = []
    while queue:
        k = queue.popleft()
        order.append(k)
        for t in np.flatnonzero(D[:, k]):
            remaining[t] -= 1
            if remaining[t] == 0:
                queue.append(int(t))
    if len(order) < D.shape[0]:
        raise EstimationError("The structural model has a cycle; the model-implied "
                              "correlations are only implemented for recursive models.")
    return [k for k in order if D[k].any()]


def model_implied_correlation(design: PLSDesign, S: FloatArray,
                              estimates: PLSKernelResult | PLScResult, *,
                              saturated: bool = False) -> FloatArray:
    """Indicator correlation matrix implied by a PLS or PLSc fit.

    Parameters
    ----------
    design : the model's design.
    S : (J, J) sample indicator correlation matrix the model was estimated on.
    estimates : a :class:`PLSKernelResult` (plain PLS: every construct is a composite) or a
        :class:`PLScResult` (consistent PLS: reflective constructs are common factors,
        the others composites).
    saturated : True for the saturated model (construct correlations as estimated), False
        (default) for the estimated model (construct correlations implied by the paths; see
        :func:`implied_construct_correlation`).

    Returns
    -------
    (J, J) model-implied correlation matrix Sigma (unit diagonal).

    Notes
    -----
    With loadings ``A`` (J×K, zero outside each block; for a composite ``A_b = S_bb w_b``)
    and construct correlations ``P``:

    .. math::

        \\Sigma = A P A' \\text{ off the diagonal blocks}, \\quad
        \\Sigma_{bb} = S_{bb} \\text{ (composite)}, \\quad
        \\Sigma_{bb} = \\lambda_b \\lambda_b' + \\Theta_b \\text{ (common factor)},

    with ``Theta_b`` diagonal so that ``diag(Sigma) = 1``. This is cSEM's ``fit()`` for
    standardised indicators (Dijkstra & Henseler 2015b, section 2; Dijkstra 2017 for the
    composite model).
    """
    if isinstance(estimates, PLScResult):
        A, C, B = estimates.Lambda, estimates.C, estimates.B
        factor = design.reflective
    else:
        A, C, B = estimates.L * design.M, estimates.C, estimates.B
        factor = np.zeros(len(design.names), dtype=bool)
    P = C if saturated else implied_construct_correlation(C, B, design.D, design.names)
    Sigma = A @ P @ A.T
    owner = design.owner
    same_composite = (owner[:, None] == owner[None, :]) & ~factor[owner][:, None]
    Sigma = np.where(same_composite, S, Sigma)
    np.fill_diagonal(Sigma, 1.0)
    return Sigma


def srmr(S: FloatArray, Sigma: FloatArray) -> float:
    """Standardised root mean square residual.

    Notes
    -----
    Hu & Bentler (1998); Henseler et al. (2014, "Common beliefs and reality about PLS",
    Organizational Research Methods 17(2), 182-209). Both matrices are first scaled to
    correlation matrices; with ``J`` indicators,

    .. math:: \\mathrm{SRMR} = \\sqrt{\\frac{\\sum_{i \\le j} (s_{ij} - \\sigma_{ij})^2}
                                          {J (J + 1) / 2}} ,

    the lower triangle *including* the diagonal (whose residuals are zero for correlation
    matrices but still count in the denominator), as cSEM's ``calculateSRMR``.
    """
    R = _cov2cor(S) - _cov2cor(Sigma)
    lower = np.tril_indices(R.shape[0])
    return float(np.sqrt(np.mean(R[lower] ** 2)))


def d_uls(S: FloatArray, Sigma: FloatArray) -> float:
    """Unweighted least squares discrepancy (squared Euclidean distance).

    Notes
    -----
    Dijkstra & Henseler (2015b, "Consistent and asymptotically normal PLS estimators for
    linear structural equations", Computational Statistics & Data Analysis 81, 10-23):

    .. math:: d_{ULS} = \\tfrac12 \\operatorname{tr}\\big((S - \\Sigma)^2\\big)
                      = \\tfrac12 \\sum_{i,j} (s_{ij} - \\sigma_{ij})^2 ,

    the whole matrix, as cSEM's ``calculateDL``; for correlation matrices (zero diagonal
    residuals) this is the sum over the lower triangle *excluding* the diagonal.
    """
    R = S - Sigma
    return float(0.5 * np.sum(R * R))


def d_g(S: FloatArray, Sigma: FloatArray) -> float:
    """Geodesic discrepancy.

    Notes
    -----
    Dijkstra & Henseler (2015b): with ``phi_i`` the eigenvalues of ``S^{-1} Sigma``,

    .. math:: d_G = \\tfrac12 \\sum_i (\\ln \\phi_i)^2 ,

    natural logarithms. (cSEM's ``calculateDG`` uses base-10 logarithms -- its source says
    "not sure if logarithm naturalis is used" -- so its values are ours divided by
    ``ln(10)^2 = 5.30``.) The eigenvalues are those of the symmetric-definite pencil
    ``Sigma v = phi S v``.

    Returns NaN, with :class:`InadmissibleSolutionWarning`, when ``Sigma`` is not positive
    definite (some ``phi_i <= 0``).

    Raises
    ------
    EstimationError
        If ``S`` is not positive definite.
    """
    try:
        phi = scipy.linalg.eigh(Sigma, S, eigvals_only=True)
    except np.linalg.LinAlgError as exc:
        raise EstimationError("d_G needs a positive definite sample correlation matrix S; "
                              "S is singular (collinear indicators).") from exc
    if phi.min() <= 0:
        warnings.warn(f"The model-implied correlation matrix is not positive definite "
                      f"(eigenvalue of S^-1 Sigma {phi.min():.4g}); d_G is undefined (NaN).",
                      InadmissibleSolutionWarning, stacklevel=2)
        return float("nan")
    return float(0.5 * np.sum(np.log(phi) ** 2))


def fit_indices(design: PLSDesign, S: FloatArray,
                estimates: PLSKernelResult | PLScResult) -> pd.DataFrame:
    """SRMR, d_ULS and d_G of the saturated and the estimated model.

    Returns
    -------
    DataFrame with index ``["saturated", "estimated"]`` (name ``model``) and columns
    ``srmr``, ``d_uls``, ``d_g``.
    """
    rows = {}
    for label, saturated in (("saturated", True), ("estimated", False)):
        Sigma = model_implied_correlation(design, S, estimates, saturated=saturated)
        rows[label] = {"srmr": srmr(S, Sigma), "d_uls": d_uls(S, Sigma), "d_g": d_g(S, Sigma)}
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "model"
    return table


def _cov2cor(A: FloatArray) -> FloatArray:
    d = np.sqrt(np.diag(A))
    scaled: FloatArray = A / np.outer(d, d)
    return scaled
