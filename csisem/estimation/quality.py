"""Measurement and structural quality statistics of a PLS fit.

Every function here is a pure function of the arrays a fit is made of (shapes as in the
legend of :mod:`csisem.estimation.pls`): the design (``M``, ``D``, modes), the indicator
correlation matrix ``S`` (J×J) and the kernel result (``W``, ``L``, ``C``, ``B``). They return
tidy DataFrames with snake_case columns (square matrices for HTMT and Fornell-Larcker).

Reference values: ``tests/reference/data/seminr_ecsi_*.csv`` (seminr 0.2.1), whose conventions
these functions follow unless a docstring says otherwise.
"""

from __future__ import annotations

from dataclasses import replace
from enum import Enum
from typing import Protocol

import numpy as np
import pandas as pd

from .._typing import BoolArray, FloatArray
from ..errors import OptionError
from ..options import coerce
from .design import PLSDesign
from .pls import PLSKernelResult, estimate_paths

__all__ = ["HTMTKind", "f_squared", "fornell_larcker", "gof", "htmt", "inner_vif",
           "mediated_effects", "outer_vif", "reliability"]

PerConstruct = pd.DataFrame | pd.Series | FloatArray


class _KernelEstimator(Protocol):
    """What :func:`f_squared` needs of an estimator (e.g. a ``PLSEstimator``)."""

    def estimate(self, design: PLSDesign, S: FloatArray) -> PLSKernelResult: ...


class HTMTKind(str, Enum):
    """Which heterotrait-monotrait ratio :func:`htmt` computes."""

    HTMT = "htmt"    # arithmetic means (Henseler, Ringle & Sarstedt 2015)
    HTMT2 = "htmt2"  # geometric means (Roemer, Schuberth & Henseler 2021)


def _modes(design: PLSDesign) -> list[str]:
    """The :class:`~csisem.models.Mode` value of each construct."""
    return ["reflective" if r else "composite_b" if b else "composite_a"
            for r, b in zip(design.reflective, design.mode_b, strict=True)]


def _block_sizes(design: PLSDesign) -> FloatArray:
    return design.M.sum(axis=0).astype(float)


def _own_loadings(design: PLSDesign, kernel: PLSKernelResult) -> FloatArray:
    """(J,) loading of each indicator on its own construct."""
    return kernel.L[np.arange(len(design.indicators)), design.owner]


def reliability(design: PLSDesign, S: FloatArray, kernel: PLSKernelResult) -> pd.DataFrame:
    r"""Internal consistency reliability and average variance extracted of every construct.

    Parameters
    ----------
    design : the model's :class:`PLSDesign`.
    S : (J, J) indicator correlation matrix.
    kernel : the fit (uses the weights ``W`` and loadings ``L``, shapes J×K).

    Returns
    -------
    DataFrame
        One row per construct: ``construct, mode, n_indicators, alpha, rho_a, rho_c, ave``.

    Notes
    -----
    For block :math:`b` with :math:`k` standardised indicators, correlation matrix
    :math:`S_{bb}`, loadings :math:`\lambda` and weights :math:`w` scaled to
    :math:`w'S_{bb}w = 1`:

    .. math::

        \alpha = \frac{k}{k-1}\Big(1 - \frac{k}{1'S_{bb}1}\Big), \qquad
        \rho_C = \frac{(\sum\lambda_j)^2}{(\sum\lambda_j)^2 + \sum(1-\lambda_j^2)},
        \qquad \mathrm{AVE} = \frac{1}{k}\sum\lambda_j^2,

    .. math::

        \rho_A = (w'w)^2\,
        \frac{w'(S_{bb} - \mathrm{diag}\,S_{bb})w}{w'(ww' - \mathrm{diag}\,ww')w}.

    Sources: Cronbach (1951), *Psychometrika* 16, 297-334 (alpha, here on standardised
    indicators); Jöreskog (1971), *Psychometrika* 36, 109-133 and Werts, Linn & Jöreskog
    (1974) (composite reliability); Fornell & Larcker (1981), *J. Marketing Research* 18,
    39-50 (AVE); Dijkstra & Henseler (2015), *MIS Quarterly* 39(2), 297-316
    (:math:`\rho_A`; the formula needs the scaling :math:`w'S_{bb}w = 1`, and its
    denominator is not squared). With Mode A weights :math:`w \propto \lambda` in a
    common-factor population, :math:`\rho_A = (\lambda'\lambda)^2/\lambda'S_{bb}\lambda`,
    the squared correlation between the construct and its proxy.

    A single-indicator construct gets 1.0 for all four statistics (its indicator is taken to
    be error-free, as seminr does); the formulas are undefined there (``k - 1 = 0``).

    All four assume a common factor behind the block. For composites (``mode``
    ``composite_a``/``composite_b``, notably Mode B) they are computed alike but are not
    meaningful: a composite's indicators need not correlate at all.
    """
    M = design.M.astype(float)
    k = _block_sizes(design)
    lam = _own_loadings(design, kernel)
    W = kernel.W
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = k / (k - 1) * (1 - k / np.einsum("jk,jl,lk->k", M, S, M))
        sum_lam = M.T @ lam
        rho_c = sum_lam**2 / (sum_lam**2 + M.T @ (1 - lam**2))
        ave = (M.T @ lam**2) / k
        ww = (W**2).sum(axis=0)
        off = np.einsum("jk,jl,lk->k", W, S - np.diag(np.diag(S)), W)
        rho_a = ww**2 * off / (ww**2 - (W**4).sum(axis=0))
    single = k == 1
    for values in (alpha, rho_c, ave, rho_a):
        values[single] = 1.0
    return pd.DataFrame({"construct": design.names, "mode": _modes(design),
                         "n_indicators": k.astype(int), "alpha": alpha, "rho_a": rho_a,
                         "rho_c": rho_c, "ave": ave})


def htmt(design: PLSDesign, S: FloatArray, *,
         kind: HTMTKind | str = HTMTKind.HTMT) -> pd.DataFrame:
    r"""Heterotrait-monotrait ratio of correlations between every pair of constructs.

    Parameters
    ----------
    design : the model's :class:`PLSDesign`.
    S : (J, J) indicator correlation matrix.
    kind : ``"htmt"`` (arithmetic means) or ``"htmt2"`` (geometric means).

    Returns
    -------
    DataFrame
        Square (K × K), index and columns the construct names; symmetric, NaN diagonal.

    Raises
    ------
    OptionError
        If ``kind`` is not ``"htmt"`` or ``"htmt2"``.

    Notes
    -----
    With :math:`\bar r_{kl}` the mean of the correlations between the indicators of
    constructs *k* and *l* (heterotrait) and :math:`\bar r_{kk}` the mean of the correlations
    between different indicators of *k* (monotrait),

    .. math:: \mathrm{HTMT}_{kl} = \bar r_{kl} / \sqrt{\bar r_{kk}\,\bar r_{ll}}.

    HTMT (Henseler, Ringle & Sarstedt 2015, *J. Academy of Marketing Science* 43, 115-135)
    uses arithmetic means; HTMT2 (Roemer, Schuberth & Henseler 2021, *Industrial Management
    & Data Systems* 121(12), 2637-2650) geometric means, which relaxes the assumption of
    tau-equivalent indicators to congeneric ones.

    Both use **absolute** correlations, as seminr does: the ratio assumes items coded to
    correlate positively with their construct, and a negative correlation (mobi: CUSL2 with
    PERQ2, -0.128) would cancel positive ones in the arithmetic mean and has no logarithm in
    the geometric mean. Recode reverse-worded items before reading HTMT as evidence.
    A single-indicator construct has no monotrait correlation; its monotrait mean is taken
    to be 1 (a perfectly reliable indicator), as in seminr.
    """
    ratio = htmt_stack(np.asarray(S, dtype=float)[None], design, kind=kind)[0]
    return pd.DataFrame(ratio, index=list(design.names), columns=list(design.names))


def htmt_stack(S: FloatArray, design: PLSDesign, *,
               kind: HTMTKind | str = HTMTKind.HTMT) -> FloatArray:
    """HTMT (or HTMT2) for stacked correlation matrices (R, J, J) -> (R, K, K).

    The kernel behind :func:`htmt`, batched for the bootstrap; see there for the formula.
    """
    kind = coerce(HTMTKind, kind, arg="kind")
    M = design.M.astype(float)
    n = _block_sizes(design)
    J = M.shape[0]
    off = ~np.eye(J, dtype=bool)
    pairs = np.outer(n, n) - np.diag(n)  # off-diagonal indicator pairs per block pair
    with np.errstate(divide="ignore", invalid="ignore"):
        if kind is HTMTKind.HTMT:
            A = np.where(off, np.abs(S), 0.0)
            means = (M.T @ A @ M) / pairs
        else:
            logs = np.where(off, np.log(np.abs(S)), 0.0)
            means = np.exp((M.T @ logs @ M) / pairs)
        means = (means + np.swapaxes(means, 1, 2)) / 2  # symmetric only up to rounding
        mono = np.where(n > 1, np.diagonal(means, axis1=1, axis2=2), 1.0)
        ratio = means / np.sqrt(mono[:, :, None] * mono[:, None, :])
    K = len(n)
    ratio[:, np.arange(K), np.arange(K)] = np.nan
    return ratio


def _per_construct(design: PLSDesign, values: PerConstruct, column: str,
                   arg: str) -> FloatArray:
    """(K,) array from a Series by construct, a table with ``construct`` and ``column``."""
    if isinstance(values, pd.DataFrame):
        values = values.set_index("construct")[column]
    if isinstance(values, pd.Series):
        missing = [c for c in design.names if c not in values.index]
        if missing:
            raise OptionError(f"{arg}= has no value for construct(s) {', '.join(missing)}.")
        return values.loc[list(design.names)].to_numpy(dtype=float)
    out = np.asarray(values, dtype=float)
    if out.shape != (len(design.names),):
        raise OptionError(f"{arg}= must have one value per construct "
                          f"({len(design.names)}), got shape {out.shape}.")
    return out


def fornell_larcker(design: PLSDesign, kernel: PLSKernelResult,
                    ave: PerConstruct) -> pd.DataFrame:
    r"""Fornell-Larcker criterion table: sqrt(AVE) on the diagonal, correlations below.

    Parameters
    ----------
    design : the model's :class:`PLSDesign`.
    kernel : the fit (uses the construct correlations ``C``, K×K).
    ave : AVE per construct: the :func:`reliability` table, a Series indexed by construct
        or a (K,) array in design order.

    Returns
    -------
    DataFrame
        Square (K × K): :math:`\sqrt{\mathrm{AVE}_k}` on the diagonal, construct
        correlations below it, NaN above.

    Raises
    ------
    OptionError
        If ``ave`` lacks a construct or has the wrong length.

    Notes
    -----
    Discriminant validity holds for construct *k* when :math:`\sqrt{\mathrm{AVE}_k}` exceeds
    its correlations with every other construct (Fornell & Larcker 1981, *J. Marketing
    Research* 18, 39-50). Henseler, Ringle & Sarstedt (2015) show that the criterion rarely
    detects a lack of discriminant validity; prefer :func:`htmt`.
    """
    table = np.where(np.tril(np.ones_like(kernel.C, dtype=bool), -1), kernel.C, np.nan)
    np.fill_diagonal(table, np.sqrt(_per_construct(design, ave, "ave", "ave")))
    return pd.DataFrame(table, index=list(design.names), columns=list(design.names))


def _vif(R: FloatArray) -> FloatArray:
    """Diagonal of the inverse correlation matrix: 1 / (1 - R²_j) of each variable."""
    return np.diag(np.linalg.inv(R)) if len(R) > 1 else np.ones(len(R))


def outer_vif(design: PLSDesign, S: FloatArray) -> pd.DataFrame:
    r"""Variance inflation factors of the indicators within each block.

    Parameters
    ----------
    design : the model's :class:`PLSDesign`.
    S : (J, J) indicator correlation matrix.

    Returns
    -------
    DataFrame
        ``construct, indicator, vif`` in indicator order.

    Notes
    -----
    :math:`\mathrm{VIF}_j = 1/(1 - R^2_j) = [S_{bb}^{-1}]_{jj}`, with :math:`R^2_j` from
    regressing indicator *j* on the other indicators of its block; 1 for a single
    indicator. Collinearity matters for Mode B weights, which are regression coefficients
    (Diamantopoulos & Siguaw 2006, *British J. of Management* 17, 263-282; Hair et al. 2022,
    *A Primer on PLS-SEM*, 3rd ed., ch. 5). An exactly collinear block raises
    :class:`numpy.linalg.LinAlgError`.
    """
    vif = np.empty(len(design.indicators))
    for k in range(len(design.names)):
        block = design.block(k)
        vif[block] = _vif(S[np.ix_(block, block)])
    return pd.DataFrame({"construct": [design.names[o] for o in design.owner],
                         "indicator": design.indicators, "vif": vif})


def inner_vif(design: PLSDesign, kernel: PLSKernelResult) -> pd.DataFrame:
    r"""Variance inflation factors of the predictors of each endogenous construct.

    Parameters
    ----------
    design : the model's :class:`PLSDesign`.
    kernel : the fit (uses the construct correlations ``C``).

    Returns
    -------
    DataFrame
        ``source, target, vif``, one row per path.

    Notes
    -----
    :math:`\mathrm{VIF}` is the diagonal of the inverse correlation matrix of the target's
    predictors (Hair et al. 2022, ch. 6). Where the target has a single predictor the VIF is
    1 by definition; it is reported as NaN there, as seminr does, to mark that collinearity
    cannot arise.
    """
    rows = []
    for t in range(len(design.names)):
        pred = design.predecessors(t)
        vif = (_vif(kernel.C[np.ix_(pred, pred)]) if len(pred) > 1
               else np.full(len(pred), np.nan))
        rows += [(design.names[s], design.names[t], float(v))
                 for s, v in zip(pred, vif, strict=True)]
    return pd.DataFrame(rows, columns=["source", "target", "vif"])


def _subdesign(design: PLSDesign, D: BoolArray) -> tuple[PLSDesign, BoolArray, BoolArray]:
    """Design with structure ``D`` minus unconnected constructs; kept constructs, indicators."""
    keep = D.any(axis=0) | D.any(axis=1)
    if keep.all():
        return replace(design, D=D), keep, np.ones(len(design.indicators), dtype=bool)
    rows = design.M[:, keep].any(axis=1)
    position = np.cumsum(keep) - 1
    sub = PLSDesign(
        names=tuple(n for n, k in zip(design.names, keep, strict=True) if k),
        indicators=tuple(i for i, r in zip(design.indicators, rows, strict=True) if r),
        M=design.M[np.ix_(rows, keep)], D=D[np.ix_(keep, keep)],
        mode_b=design.mode_b[keep], reflective=design.reflective[keep],
        owner=position[design.owner[rows]])
    return sub, keep, rows


def f_squared(design: PLSDesign, S: FloatArray, kernel: PLSKernelResult,
              estimator: _KernelEstimator | None = None, *,
              reestimate: bool = True) -> pd.DataFrame:
    r"""Cohen's f² effect size of every path.

    Parameters
    ----------
    design : the model's :class:`PLSDesign`.
    S : (J, J) indicator correlation matrix.
    kernel : the fit.
    estimator : the :class:`~csisem.estimation.PLSEstimator` that produced ``kernel``, so
        that reduced models use the same options (needed when ``reestimate=True``).
    reestimate : ``True`` (default, as seminr): re-estimate the PLS model without the path;
        ``False`` (as SmartPLS): keep the scores, drop the source from the regression.

    Returns
    -------
    DataFrame
        ``source, target, f_squared``, one row per path.

    Raises
    ------
    OptionError
        If ``reestimate=True`` and no ``estimator`` is given.
    EstimationError
        If a reduced model cannot be estimated.

    Notes
    -----
    .. math:: f^2 = \frac{R^2_\text{included} - R^2_\text{excluded}}{1 - R^2_\text{included}}

    (Cohen 1988, *Statistical Power Analysis for the Behavioral Sciences*, 2nd ed., ch. 9;
    0.02, 0.15 and 0.35 are small, medium and large). :math:`R^2_\text{excluded}` is the
    target's R² without the path. With ``reestimate=True`` the weights are estimated again
    (the path takes part in the inner weighting); a target without other predictors has
    :math:`R^2_\text{excluded} = 0`, and a source left without any path is dropped from the
    reduced model (PLS cannot estimate an unconnected construct). With ``reestimate=False``
    the target is regressed on its other predictors' fitted scores.
    """
    if reestimate and estimator is None:
        raise OptionError("f_squared(reestimate=True) needs estimator= (the PLSEstimator that "
                          "fitted the model); pass it, or use reestimate=False.")
    rows = []
    for t, s in zip(*np.nonzero(design.D), strict=True):
        D = design.D.copy()
        D[t, s] = False
        if not D[t].any():
            excluded = 0.0
        elif not reestimate:
            excluded = float(estimate_paths(kernel.C, D)[1][t])
        else:
            sub, keep, ind = _subdesign(design, D)
            assert estimator is not None  # checked above; narrows the type
            reduced = estimator.estimate(sub, S[np.ix_(ind, ind)])
            excluded = float(reduced.r_squared[np.cumsum(keep)[t] - 1])
        included = float(kernel.r_squared[t])
        rows.append((design.names[s], design.names[t],
                     (included - excluded) / (1 - included)))
    return pd.DataFrame(rows, columns=["source", "target", "f_squared"])


def mediated_effects(design: PLSDesign, kernel: PLSKernelResult) -> pd.DataFrame:
    """Every directed path through at least one mediator, with its effect.

    Parameters
    ----------
    design : the model's :class:`PLSDesign`.
    kernel : the fit (uses the path coefficients ``B[target, source]``).

    Returns
    -------
    DataFrame
        ``source, target, path, mediators, effect``: the chain (``"IMAG -> CUEX -> PERQ"``),
        its number of intermediate constructs and the product of its path coefficients;
        ordered by source, target (design order), then number of mediators.

    Notes
    -----
    In a recursive model the indirect effect of *s* on *t* is the sum of the products of
    coefficients along all directed paths from *s* to *t* with at least one mediator
    (Alwin & Hauser 1975, *American Sociological Review* 40, 37-47; Bollen 1987), so the
    ``effect`` summed by (source, target) equals the ``indirect`` column of
    :func:`~csisem.estimation.effects_table`. The number of paths can grow exponentially with
    the model's depth; CSI models are small.
    """
    names = design.names
    successors = [np.flatnonzero(design.D[:, k]) for k in range(len(names))]
    rows = []

    def walk(chain: list[int], effect: float) -> None:
        if len(chain) > 2:
            rows.append((chain[0], chain[-1], " -> ".join(names[c] for c in chain),
                         len(chain) - 2, effect))
        for nxt in successors[chain[-1]]:
            walk([*chain, int(nxt)], effect * float(kernel.B[nxt, chain[-1]]))

    for start in range(len(names)):
        walk([start], 1.0)
    table = pd.DataFrame(rows, columns=["source", "target", "path", "mediators", "effect"])
    table = table.sort_values(["source", "target", "mediators"], kind="stable")
    table["source"] = [names[i] for i in table["source"]]
    table["target"] = [names[i] for i in table["target"]]
    return table.reset_index(drop=True)


def gof(design: PLSDesign, kernel: PLSKernelResult,
        communality: PerConstruct | None = None) -> float:
    r"""Tenenhaus et al.'s (2004) goodness-of-fit index (GoF) -- not a test of model fit.

    Parameters
    ----------
    design : the model's :class:`PLSDesign`.
    kernel : the fit (uses ``r_squared``, and ``L`` if ``communality`` is not given).
    communality : mean squared loading (AVE) per construct: the :func:`reliability` table,
        a Series or a (K,) array; default computed from ``kernel.L``.

    Returns
    -------
    float
        The GoF, or NaN if the model has no reflective block with two or more indicators.

    Raises
    ------
    OptionError
        If ``communality`` lacks a construct or has the wrong length.

    Notes
    -----
    .. math::

        \mathrm{GoF} = \sqrt{\overline{\mathrm{Com}} \times \overline{R^2}}, \qquad
        \overline{\mathrm{Com}} = \frac{\sum_k n_k \mathrm{Com}_k}{\sum_k n_k},

    over the reflective constructs with :math:`n_k \ge 2` indicators (a single indicator's
    communality is 1 by construction), and :math:`\overline{R^2}` the mean R² of the
    endogenous constructs (Tenenhaus, Amato & Esposito Vinzi 2004, *Proceedings of the XLII
    SIS Scientific Meeting*, 739-742; Tenenhaus et al. 2005, *CSDA* 48, 159-205).

    **Caveat.** Despite its name the GoF is not a fit measure: Henseler & Sarstedt (2013,
    *Computational Statistics* 28, 565-580) show that it cannot tell correct from
    misspecified models, and it does not apply to composites. Report it only to compare with
    older CSI studies; judge fit with SRMR or a bootstrap test of exact fit.
    """
    if communality is None:
        lam2 = _own_loadings(design, kernel) ** 2
        com = (design.M.T @ lam2) / _block_sizes(design)
    else:
        com = _per_construct(design, communality, "ave", "communality")
    n = _block_sizes(design)
    use = design.reflective & (n > 1)
    if not use.any():
        return float("nan")
    mean_com = float(n[use] @ com[use] / n[use].sum())
    return float(np.sqrt(mean_com * np.nanmean(kernel.r_squared)))
