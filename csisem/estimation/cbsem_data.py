"""Data for CB-SEM: groups, sample moments, missing-data patterns, and the checks on them.

Rows are checked by :func:`csisem.data.prepare_data` (columns, numbers, constants, missing
codes). For FIML the missing cells are kept: each group is split into missing-data patterns
(:class:`~csisem.estimation.cbsem_objective.Block`), and the saturated model (the h1 model
of the chi-square test; what EM estimates, Little & Rubin 2002, ch. 11) is fitted by ML.

Before anything is estimated the (EM) covariance matrix of each group must be positive
definite; otherwise :class:`~csisem.errors.DataError` says why (fewer rows than
indicators, perfectly correlated or linearly dependent indicators). semopy would replace such
a matrix by a nearby one and report success.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from .._typing import FloatArray
from ..data import PreparedData, _as_frame, prepare_data
from ..errors import DataError, DataWarning
from ..models.model import Model
from ..options import MissingPolicy
from ..scan import read_values
from .cbsem_objective import LOG_2PI, Block

__all__ = ["SampleData", "check_positive_definite", "em_saturated", "sample_data"]


@dataclass(frozen=True)
class SampleData:
    """Everything the CB-SEM estimator needs from the data.

    ``means``/``covs`` (p,)/(p × p) per group are the sample moments (denominator n) or, for
    FIML, the EM estimates of the saturated model. ``values`` are the rows used, per group
    (NaN for missing cells under FIML); for a single group of complete data they are loaded
    only when something needs them (robust statistics, WLS, the bootstrap): ML, GLS and ULS
    use the moments ``prepare_data`` computed in its one pass. ``h1_logl`` is the
    log-likelihood of the saturated model. ``blocks`` are the objective's data (one per
    group, or per pattern for FIML).
    """

    indicators: tuple[str, ...]
    groups: tuple[str, ...]
    n_obs: tuple[int, ...]
    means: tuple[FloatArray, ...]
    covs: tuple[FloatArray, ...]
    rows: tuple[FloatArray, ...] | Callable[[], tuple[FloatArray, ...]] = field(repr=False)
    blocks: tuple[Block, ...]
    fiml: bool
    h1_logl: float
    n_total_rows: int
    n_dropped: int
    n_missing_cells: int
    missing: str
    n_coded_missing: int = 0

    @property
    def values(self) -> tuple[FloatArray, ...]:
        """The rows used, per group (loaded on first use, see the class docstring)."""
        if callable(self.rows):
            object.__setattr__(self, "rows", self.rows())
        assert not callable(self.rows)
        return self.rows

    @property
    def n_total(self) -> int:
        """Rows used, all groups."""
        return int(sum(self.n_obs))


def sample_data(model: Model, data: Any, *, group: str | None = None,
                columns: Mapping[str, str] | None = None,
                missing: MissingPolicy = MissingPolicy.LISTWISE,
                missing_codes: Sequence[float] | Mapping[str, Sequence[float]] | None = None,
                ) -> SampleData:
    """Validate ``data`` and compute the moments (see the module docstring).

    Raises
    ------
    DataError
        For bad data (see :func:`csisem.data.prepare_data`), a bad ``group`` column, too few
        rows in a group, or a covariance matrix that is not positive definite.
    """
    frame = _as_frame(data)
    if group is not None:
        frame = _check_group_column(frame, group)
    if not frame.index.is_unique:
        frame = frame.reset_index(drop=True)
    fiml = missing is MissingPolicy.FIML
    if fiml:
        with warnings.catch_warnings():
            # prepare_data validates the rows; its mean imputation is only a placeholder
            # (the cells are set back to missing below), so its note would mislead.
            warnings.filterwarnings("ignore", message=r".*\(missing='mean'\)",
                                    category=DataWarning)
            prepared = prepare_data(model, frame, columns=columns, missing=MissingPolicy.MEAN,
                                    missing_codes=missing_codes, min_rows=2)
        # The same rows with their missing cells (and missing-value codes) as NaN.
        values = read_values(model, frame, columns=columns, missing_codes=missing_codes)
        mask = np.isnan(values)
        keep = ~mask.all(axis=1)
        n_missing = int(mask[keep].sum())
        if n_missing:
            warnings.warn(
                f"{n_missing} missing cell(s) in {int(mask[keep].any(axis=1).sum())} of "
                f"{int(keep.sum())} rows are handled by full-information maximum likelihood "
                "(missing='fiml'); this assumes they are missing at random."
                + (f" {int((~keep).sum())} row(s) with no observed indicator were dropped."
                   if (~keep).any() else ""), DataWarning, stacklevel=4)
        values, index = values[keep], prepared.index[np.flatnonzero(keep)]
        n_dropped = int((~keep).sum())
    else:
        prepared = prepare_data(model, frame, columns=columns, missing=missing,
                                missing_codes=missing_codes, min_rows=2)
        n_missing, n_dropped = prepared.n_missing_cells, prepared.n_dropped
        if group is None:
            return _from_moments(model, prepared, missing, n_missing, n_dropped)
        values, index = prepared.values, prepared.index
    labels = (frame.loc[index, group].astype(str).to_numpy() if group is not None
              else np.full(len(index), "", dtype=object))
    names = tuple(dict.fromkeys(labels))
    p = len(model.indicator_names)
    means, covs, per_group, blocks = [], [], [], []
    h1 = 0.0
    for g, name in enumerate(names):
        X = values[labels == name]
        where = f" in group {name!r} ({group}={name})" if group is not None else ""
        if X.shape[0] < 2:
            raise DataError(f"Only {X.shape[0]} row(s){where}; CB-SEM needs at least 2 rows "
                            "per group (and more rows than indicators).")
        if fiml:
            mean, cov, logl = em_saturated(X)
            blocks += _pattern_blocks(g, X)
        else:
            mean = X.mean(axis=0)
            cov = (X - mean).T @ (X - mean) / X.shape[0]
            logl = -0.5 * X.shape[0] * (p * LOG_2PI + np.linalg.slogdet(cov)[1] + p)
        check_positive_definite(cov, model.indicator_names, X.shape[0], where, fiml=fiml)
        if not fiml:
            blocks.append(Block(group=g, n=X.shape[0], observed=np.arange(p), mean=mean,
                                cov=cov, constant=-np.linalg.slogdet(cov)[1] - p, rows=X))
        means.append(mean)
        covs.append(cov)
        per_group.append(X)
        h1 += float(logl)
    return SampleData(indicators=model.indicator_names, groups=names,
                      n_obs=tuple(int(x.shape[0]) for x in per_group), means=tuple(means),
                      covs=tuple(covs), rows=tuple(per_group), blocks=tuple(blocks),
                      fiml=fiml, h1_logl=h1, n_total_rows=int(prepared.n_total),
                      n_dropped=n_dropped, n_missing_cells=n_missing, missing=missing.value,
                      n_coded_missing=prepared.n_coded_missing)


def _from_moments(model: Model, prepared: PreparedData, missing: MissingPolicy,
                  n_missing: int, n_dropped: int) -> SampleData:
    """One group of complete data: the moments of ``prepared`` (one pass over the data), the
    rows loaded only if asked for."""
    n, p = prepared.n_obs, len(model.indicator_names)
    mean = np.array(prepared.mean)
    cov = prepared.cov * ((n - 1) / n)  # denominator n, as the ML discrepancy wants
    logdet = np.linalg.slogdet(cov)[1]
    check_positive_definite(cov, model.indicator_names, n, "", fiml=False)
    rows = partial(_rows_of, prepared)
    block = Block(group=0, n=n, observed=np.arange(p), mean=mean, cov=cov,
                  constant=-logdet - p, load=partial(_first, rows))
    return SampleData(indicators=model.indicator_names, groups=("",), n_obs=(n,),
                      means=(mean,), covs=(cov,), rows=rows, blocks=(block,), fiml=False,
                      h1_logl=float(-0.5 * n * (p * LOG_2PI + logdet + p)),
                      n_total_rows=int(prepared.n_total), n_dropped=n_dropped,
                      n_missing_cells=n_missing, missing=missing.value,
                      n_coded_missing=prepared.n_coded_missing)


def _rows_of(prepared: PreparedData) -> tuple[FloatArray, ...]:
    return (prepared.values,)


def _first(rows: Callable[[], tuple[FloatArray, ...]]) -> FloatArray:
    return rows()[0]


def _check_group_column(frame: pd.DataFrame, group: str) -> pd.DataFrame:
    if group not in frame.columns:
        import difflib

        close = difflib.get_close_matches(group, [str(c) for c in frame.columns], n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise DataError(f"group={group!r} is not a column of the data.{hint}")
    column = frame[group]
    if column.isna().any():
        pos = int(np.flatnonzero(column.isna().to_numpy())[0])
        raise DataError(f"The group column {group!r} is missing at row {pos + 1} "
                        f"({int(column.isna().sum())} row(s) in all); every row needs a group.")
    if column.nunique() < 2:
        raise DataError(f"The group column {group!r} has a single value "
                        f"({column.iloc[0]!r}); a multi-group fit needs at least two groups.")
    return frame


def _pattern_blocks(g: int, X: FloatArray) -> list[Block]:
    """One block per missing-data pattern of group ``g`` (rows in data order)."""
    observed = ~np.isnan(X)
    patterns, inverse = np.unique(observed, axis=0, return_inverse=True)
    out = []
    for k, pattern in enumerate(patterns):
        rows = X[inverse.ravel() == k][:, pattern]
        o = np.flatnonzero(pattern)
        mean = rows.mean(axis=0)
        cov = (rows - mean).T @ (rows - mean) / rows.shape[0]
        out.append(Block(group=g, n=rows.shape[0], observed=o, mean=mean, cov=cov,
                         constant=len(o) * LOG_2PI, rows=rows))
    return out


def em_saturated(X: FloatArray, *, tol: float = 1e-14,
                 max_iter: int = 500) -> tuple[FloatArray, FloatArray, float]:
    """ML mean (p,), covariance (p × p) and log-likelihood of an unrestricted normal model
    for rows ``X`` (n × p) with missing cells (NaN).

    The estimates EM would converge to (Little & Rubin 2002, ch. 11), found instead by
    Fisher scoring on the saturated model's FIML likelihood (fewer, batched iterations),
    started from the available-case means and variances.

    Raises
    ------
    DataError
        If the estimate does not converge, e.g. because two indicators are never observed
        together.
    """
    from .cbsem_objective import MLObjective, minimize
    from .cbsem_ram import RAMKernel
    from .cbsem_spec import build_saturated_spec

    n, p = X.shape
    spec = build_saturated_spec([f"x{j}" for j in range(p)])
    objective = MLObjective(RAMKernel.from_spec(spec), _pattern_blocks(0, X), use_means=True,
                            n_total=n)
    theta = np.zeros(spec.n_free)
    rows = spec.free_rows()
    is_mean = (rows["matrix"] == "m").to_numpy()
    r, c = rows["row"].to_numpy(int), rows["col"].to_numpy(int)
    theta[is_mean] = np.nanmean(X, axis=0)[r[is_mean]]
    diagonal = ~is_mean & (r == c)
    theta[diagonal] = np.nanvar(X, axis=0)[r[diagonal]]
    opt = minimize(objective, theta, n_obs=n, tol=tol, max_iter=max_iter)
    together = (~np.isnan(X)).astype(float)
    never = np.argwhere((together.T @ together) == 0)
    if not opt.converged or len(never):
        pair = (f" (indicators {never[0][0] + 1} and {never[0][1] + 1} are never observed "
                "in the same row)" if len(never) else "")
        raise DataError("The saturated model needed for FIML could not be estimated"
                        f"{pair}: {opt.message}. Check the missing-data pattern.")
    mean = np.zeros(p)
    cov = np.zeros((p, p))
    mean[r[is_mean]] = opt.theta[is_mean]
    cov[r[~is_mean], c[~is_mean]] = opt.theta[~is_mean]
    cov[c[~is_mean], r[~is_mean]] = opt.theta[~is_mean]
    return mean, cov, -n * opt.value


def check_positive_definite(cov: FloatArray, names: Sequence[str], n: int, where: str = "",
                            *, fiml: bool = False) -> None:
    """Raise :class:`DataError` explaining why ``cov`` (p × p) is not positive definite.

    Raises
    ------
    DataError
        With the reason: fewer rows than indicators, two perfectly correlated indicators,
        or a set of linearly dependent indicators (named).
    """
    p = cov.shape[0]
    sd = np.sqrt(np.clip(np.diag(cov), 0, None))
    if np.all(sd > 0):
        R = cov / np.outer(sd, sd)
        eig, vec = np.linalg.eigh(R)
        if eig[0] > 1e-10:
            return
    else:
        eig, vec = np.linalg.eigh(cov)
        R = cov
    what = "EM (FIML) covariance matrix" if fiml else "covariance matrix"
    head = (f"The indicator {what}{where} is not positive definite (smallest eigenvalue of the "
            f"correlation matrix {eig[0]:.2g}), so the model cannot be fitted by "
            "maximum likelihood: ")
    if not fiml and n <= p:
        raise DataError(head + f"there are {n} rows but {p} indicators; CB-SEM needs more "
                               "rows than indicators.")
    iu = np.triu_indices(p, 1)
    perfect = [(names[int(i)], names[int(j)], R[i, j]) for i, j in zip(*iu, strict=True)
               if abs(R[i, j]) > 1 - 1e-8]
    if perfect:
        a, b, r = perfect[0]
        more = f" (and {len(perfect) - 1} more pair(s))" if len(perfect) > 1 else ""
        raise DataError(head + f"indicators {a!r} and {b!r} are perfectly correlated "
                               f"(r = {r:+.6f}){more}. Drop one of them from the spec, or "
                               "check that the same column was not read twice.")
    v = vec[:, 0]
    involved = [names[int(k)] for k in np.argsort(-np.abs(v))
                if abs(v[k]) > 0.1 * np.abs(v).max()]
    raise DataError(head + f"indicators {', '.join(map(repr, involved))} are linearly dependent "
                           "(one is a weighted sum of the others, e.g. a total score next to "
                           "its items). Drop one of them from the spec.")
