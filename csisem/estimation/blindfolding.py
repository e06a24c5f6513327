"""Stone-Geisser Q² by blindfolding (cross-validated redundancy).

Blindfolding (Wold 1982; Chin 1998, "The partial least squares approach to structural equation
modeling", in Marcoulides (ed.), Modern Methods for Business Research, 295-336; Hair et al.
2017, "A Primer on PLS-SEM", 2nd ed., ch. 6; SmartPLS 3 documentation, "Blindfolding") omits
part of an endogenous construct's indicator data, re-estimates the model without it and
predicts the omitted values from the structural model. Shapes follow the legend in
:mod:`csisem.estimation.pls`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .._typing import FloatArray, IntArray
from ..errors import DataError, OptionError
from ..models.model import Model
from .design import PLSDesign
from .pls_estimator import PLSEstimator

__all__ = ["omission_pattern", "q_squared"]


def q_squared(model: Model | PLSDesign, data: Any, estimator: PLSEstimator | None = None, *,
              omission_distance: int = 7) -> pd.DataFrame:
    """Q² (cross-validated redundancy) of every endogenous construct by blindfolding.

    Parameters
    ----------
    model : the model, or its :class:`PLSDesign`.
    data : raw indicator data, (N, J): a DataFrame with a column per indicator, or an array
        whose columns are in the design's indicator order. No missing values.
    estimator : the PLS estimator whose options are used in every re-estimation (default
        ``PLSEstimator()``).
    omission_distance : D, the number of blindfolding rounds; every D-th data point is
        omitted in a round. Must be at least 2, below N, and must not divide N.

    Returns
    -------
    DataFrame with one row per endogenous construct (model order) and columns
    ``construct``, ``sse``, ``sso``, ``q_squared``.

    Raises
    ------
    OptionError
        For an invalid ``omission_distance``.
    DataError
        If ``data`` is not an (N, J) table of finite numbers.
    EstimationError, ConvergenceWarning
        From the re-estimations, as :class:`PLSEstimator`.

    Notes
    -----
    For each endogenous construct ``b`` with indicator block ``X_b`` (N × J_b):

    1. Number the data points of ``X_b`` down the columns, ``t = j N + i`` (case ``i`` of
       indicator ``j``: all N cases of the first indicator, then those of the next). In round
       ``d = 0, ..., D-1`` the points with ``t mod D = d`` are omitted. Because D does not
       divide N, the omitted cells shift from one indicator to the next (the "diagonal"
       pattern of Chin 2010, "How to write up and report PLS analyses", Handbook of PLS,
       655-690), so no case loses all of its indicators in the same round -- the reason for
       the SmartPLS / Hair et al. (2017) rule that N/D must not be an integer. semPLS
       (``qSquared(dlines=FALSE)``) and matrixpls (``matrixpls.crossvalidate(blindfold=
       TRUE)``) number the points the same way.
    2. An omitted point is replaced by the mean of its column's remaining values (mean
       replacement, as SmartPLS treats the omitted points as missing), and the model is
       re-estimated on the altered data (only its correlation matrix is needed).
    3. The omitted points are predicted from the structural model (redundancy approach):
       with the re-estimated weights, scores ``Y`` of the altered data, paths ``B`` and
       loadings ``lambda``, ``x̂_ij = lambda_j sum_p B[b, p] Y_ip`` in the standardised metric
       of the altered data, converted back with that data's column mean and SD (as semPLS's
       ``qSquared``).
    4. ``SSE = sum (z_ij - ẑ_ij)^2`` and ``SSO = sum z_ij^2`` over the omitted points, with
       ``z`` the indicators standardised on the full data (mean 0, SD with denominator N,
       so that over all rounds ``SSO = N J_b`` as SmartPLS reports).

    .. math:: Q^2 = 1 - \\frac{\\sum_d SSE_d}{\\sum_d SSO_d}

    Q² > 0 means the model predicts the construct's indicators better than their means.
    Hair et al. (2017) apply Q² only to reflective and single-item endogenous constructs; it is
    computed here for every endogenous construct.
    """
    design = model if isinstance(model, PLSDesign) else PLSDesign.from_model(model)
    estimator = estimator or PLSEstimator()
    X = _as_matrix(data, design)
    N = X.shape[0]
    endogenous = np.flatnonzero(design.D.any(axis=1))
    D = _check_omission_distance(omission_distance, N)

    mean = X.mean(axis=0)
    Z = (X - mean) / X.std(axis=0)
    rows = []
    for b in endogenous:
        block = design.block(int(b))
        pred = design.predecessors(int(b))
        points = omission_pattern(N, len(block), D)
        sse = sso = 0.0
        for d in range(D):
            omit = points == d
            Zb = Z[:, block]
            kept_mean = np.where(omit, 0.0, Zb).sum(axis=0) / (~omit).sum(axis=0)
            Zd = Z.copy()
            Zd[:, block] = np.where(omit, kept_mean, Zb)
            md, sd = Zd.mean(axis=0), Zd.std(axis=0, ddof=1)
            kernel = estimator.estimate(design, np.corrcoef(Zd, rowvar=False))
            Y = ((Zd - md) / sd) @ kernel.W[:, pred]
            eta = Y @ kernel.B[b, pred]
            z_hat = md[block] + sd[block] * np.outer(eta, kernel.L[block, b])
            sse += float(np.sum(((Zb - z_hat) ** 2)[omit]))
            sso += float(np.sum((Zb**2)[omit]))
        rows.append((design.names[b], sse, sso, 1.0 - sse / sso))
    return pd.DataFrame(rows, columns=["construct", "sse", "sso", "q_squared"])


def omission_pattern(n_obs: int, n_indicators: int, omission_distance: int) -> IntArray:
    """The blindfolding round (0 to D - 1) in which each data point of a block is omitted.

    Returns
    -------
    (n_obs, n_indicators) integer array: ``(j * n_obs + i) mod D`` for case ``i`` of
    indicator ``j`` (points numbered down the columns; see :func:`q_squared`).
    """
    t = np.arange(n_obs * n_indicators).reshape(n_indicators, n_obs).T
    return t % omission_distance


def _as_matrix(data: Any, design: PLSDesign) -> FloatArray:
    J = len(design.indicators)
    if isinstance(data, pd.DataFrame):
        absent = [i for i in design.indicators if i not in data.columns]
        if absent:
            raise DataError(f"The data lack indicator column(s) {', '.join(absent)}.")
        data = data.loc[:, list(design.indicators)]
    try:
        X = np.asarray(data, dtype=float)
    except (TypeError, ValueError) as exc:
        raise DataError(f"The data= argument must be numeric: {exc}.") from exc
    if X.ndim != 2 or X.shape[1] != J:
        raise DataError(f"The data= argument must be an (N, {J}) table, one column per "
                        f"indicator; got shape {X.shape}.")
    if not np.all(np.isfinite(X)):
        raise DataError("The data contain missing or infinite values; blindfolding needs a "
                        "complete data matrix (impute or drop incomplete rows first).")
    constant = [design.indicators[j] for j in np.flatnonzero(~(X.std(axis=0) > 0))]
    if constant:
        raise DataError(f"Indicator(s) {', '.join(constant)} do not vary.")
    return X


def _check_omission_distance(D: Any, N: int) -> int:
    if not isinstance(D, int | np.integer) or isinstance(D, bool) or not 2 <= D < N:
        raise OptionError(f"omission_distance={D!r} must be an integer from 2 to N - 1 = "
                          f"{N - 1} (5 to 12 is usual; default 7).")
    distance = int(D)
    if N % distance == 0:
        raise OptionError(
            f"omission_distance={distance} divides the number of observations ({N}) evenly; the "
            "omission distance must not be a divisor of N (SmartPLS rule), choose e.g. "
            f"{next(d for d in range(distance + 1, N) if N % d)}.")
    return distance
