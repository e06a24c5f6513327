"""The one-call entry point: ``csisem.fit(spec, data)``."""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path as FilePath
from typing import TYPE_CHECKING, Any

from .data import read_data
from .datasets import list_datasets, load_dataset
from .errors import DataError, OptionError, OutOfScaleWarning
from .estimation.pls_estimator import PLSEstimator
from .models.catalogue import load_model
from .models.model import Model
from .options import CIMethod, GroupEqual, InnerScheme, Method, MissingPolicy, coerce
from .results import PLSResult

if TYPE_CHECKING:
    from .cbsem_results import CBSEMResult

__all__ = ["fit", "resolve_data"]


def resolve_data(data: Any, *, stream: bool = False) -> Any:
    """A DataFrame from a DataFrame, a bundled data set name (``"mobi"``) or a file path.

    With ``stream=True`` (estimators that need only the data's moments: PLS), a Parquet file
    or a directory of Parquet files becomes a :class:`~csisem.streaming.ParquetSource`, read
    row group by row group; anything else is returned as above (a Dask DataFrame as is).

    Raises
    ------
    DataError
        If a name is neither a bundled data set nor a readable file.
    """
    if isinstance(data, str | FilePath):
        path = FilePath(data)
        if stream and ((path.suffix.lower() == ".parquet" and path.is_file())
                       or (path.is_dir() and any(path.rglob("*.parquet")))):
            from .streaming import ParquetSource

            return ParquetSource(path)
        if not path.exists() and str(data).lower() in list_datasets():
            return load_dataset(str(data))
        if not path.exists() and path.suffix == "" and "/" not in str(data):
            return load_dataset(str(data))  # raises DataError listing the data sets
        return read_data(path)
    if not stream:
        from .data import _as_frame
        from .streaming import ParquetSource, is_dask_frame

        if isinstance(data, ParquetSource) or is_dask_frame(data):
            return _as_frame(data)  # rows are needed: read whole, or a clear error for Dask
    return data


def _scale_policy(policy: str) -> AbstractContextManager[None]:
    """Turn :class:`OutOfScaleWarning` into a :class:`DataError` when ``policy`` is "error"."""
    if policy not in ("warn", "error"):
        raise OptionError(f"out_of_scale={policy!r} is not supported; choose 'warn' or "
                          "'error'.")
    return nullcontext() if policy == "warn" else _scale_errors()


@contextmanager
def _scale_errors() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("error", OutOfScaleWarning)
        try:
            yield
        except OutOfScaleWarning as exc:
            raise DataError(f"{exc} (out_of_scale='error'; declare the codes with "
                            "missing_codes= or fix the data).") from None


def fit(
    model: str | FilePath | Model,
    data: Any,
    *,
    method: Method | str = Method.PLS,
    scheme: InnerScheme | str | None = None,
    columns: Mapping[str, str] | None = None,
    missing: MissingPolicy | str = MissingPolicy.LISTWISE,
    missing_codes: Sequence[float] | Mapping[str, Sequence[float]] | None = None,
    weights: Any = None,
    tol: float | None = None,
    max_iter: int | None = None,
    bootstrap: int = 0,
    seed: int | None = None,
    n_jobs: int = 1,
    ci_level: float = 0.95,
    ci_method: CIMethod | str | None = None,
    progress: bool | None = None,
    negative_weights: str | None = None,
    max_ci_width: float | None = None,
    group: str | None = None,
    group_equal: Sequence[GroupEqual | str] | GroupEqual | str | None = None,
    out_of_scale: str = "warn",
    client: Any = None,
) -> PLSResult | CBSEMResult:
    """Fit a model to data.

    Parameters
    ----------
    model : a catalogue name (``"ecsi"``), the path of a YAML or lavaan-syntax spec, or a
        :class:`~csisem.models.Model`.
    data : a DataFrame, a bundled data set name (``"mobi"``) or the path of a CSV file.
    method : ``"pls"`` (PLS path modelling), ``"plsc"`` (consistent PLS: reflective
        constructs corrected for measurement error, Dijkstra & Henseler 2015), or a
        covariance-based SEM estimator (common factors, lavaan's numbers): ``"ml"``,
        ``"mlr"`` (robust), ``"gls"``, ``"uls"``, ``"wls"`` (asymptotically distribution
        free), ``"dwls"``, ``"fiml"`` (``"ml"`` with ``missing="fiml"``); see
        :class:`~csisem.CBSEMEstimator`.
    scheme : PLS inner weighting scheme: ``"path"`` (default), ``"centroid"`` or
        ``"factorial"``.
    columns : renames data columns to indicator names, ``{data_column: indicator}``.
    missing : ``"listwise"`` (default), ``"mean"`` (PLS) or ``"fiml"`` (CB-SEM ``ml``/``mlr``);
        counts are reported.
    missing_codes : values meaning "missing" (e.g. ``[98, 99]``), or ``{indicator: codes}``.
    weights : survey (case) weights (PLS): a column name or one non-negative number per row.
    tol, max_iter : convergence tolerance and iteration limit (PLS: 1e-7 and 300; CB-SEM:
        1e-12 and 500, see :class:`~csisem.CBSEMEstimator`).
    bootstrap : number of bootstrap resamples (0: none); with ``seed`` (and for PLS
        ``n_jobs``, ``ci_method`` and ``progress``) as in
        :class:`~csisem.estimation.PLSEstimator` and :class:`~csisem.CBSEMEstimator`.
    ci_level : confidence level (bootstrap intervals for PLS, Wald intervals for CB-SEM).
    negative_weights : PLS: ``"error"`` (default) refuses 0-100 indices when an outer weight
        is negative, ``"warn"`` computes them with a warning.
    max_ci_width : PLS: flag indices whose bootstrap interval is wider (points; default 4, as
        EPSI).
    group : CB-SEM: the data column that defines groups (one model per group).
    group_equal : CB-SEM with ``group``: parameter kinds held equal across groups
        (``"loadings"``, ``"intercepts"``, ...).
    out_of_scale : values outside the spec's item scale: ``"warn"`` (default) or ``"error"``.
    client : PLS: a ``dask.distributed.Client``; the bootstrap batches run on its cluster
        (same numbers as locally for the same seed). A Dask DataFrame's moments are computed
        by the active client anyway.

    Options that do not apply to the chosen method raise :class:`OptionError`.

    Returns
    -------
    PLSResult or CBSEMResult

    Raises
    ------
    SpecError, DataError, OptionError, EstimationError
        See :mod:`csisem.errors`.

    Examples
    --------
    >>> import csisem
    >>> result = csisem.fit("ecsi", "mobi")
    >>> round(result.paths.estimate.iloc[0], 4)
    0.5049
    """
    with _scale_policy(out_of_scale):
        method = coerce(Method, method, arg="method")
        if method.is_cbsem:
            given = {"scheme": scheme is not None, "weights": weights is not None,
                     "n_jobs": n_jobs != 1,
                     "ci_method": ci_method is not None, "progress": progress is True,
                     "negative_weights": negative_weights is not None,
                     "max_ci_width": max_ci_width is not None, "client": client is not None}
            _reject(given, method, "they are PLS options; use method='pls' or 'plsc'")
            from .estimation.cbsem import CBSEMEstimator

            cbsem = CBSEMEstimator(method=method, tol=1e-12 if tol is None else tol,
                                   max_iter=500 if max_iter is None else max_iter,
                                   ci_level=ci_level, group_equal=group_equal or (),
                                   bootstrap=bootstrap, seed=seed)
            return cbsem.fit(load_model(model), resolve_data(data), columns=columns,
                                 missing=missing, missing_codes=missing_codes, group=group)
        given = {"group": group is not None, "group_equal": bool(group_equal),
                 "missing='fiml'": coerce(MissingPolicy, missing, arg="missing")
                 is MissingPolicy.FIML}
        _reject(given, method, "they are covariance-based SEM options; use method='ml' or 'mlr' "
                               "(PLS multi-group analysis: csisem.compare_groups)")
        estimator = PLSEstimator(scheme=InnerScheme.PATH if scheme is None else scheme,
                                 tol=1e-7 if tol is None else tol,
                                 max_iter=300 if max_iter is None else max_iter,
                                 bootstrap=bootstrap, seed=seed, n_jobs=n_jobs, ci_level=ci_level,
                                 ci_method=CIMethod.PERCENTILE if ci_method is None else ci_method,
                                 progress=progress, consistent=method is Method.PLSC,
                                 negative_weights=("error" if negative_weights is None
                                                   else negative_weights),
                                 max_ci_width=4.0 if max_ci_width is None else max_ci_width,
                                 client=client)
        return estimator.fit(load_model(model), resolve_data(data, stream=True), columns=columns,
                             missing=missing, missing_codes=missing_codes, weights=weights)


def _reject(given: dict[str, bool], method: Method, why: str) -> None:
    """Raise :class:`OptionError` naming the options in ``given`` that were set."""
    wrong = [name if "=" in name else f"{name}=" for name, flag in given.items() if flag]
    if wrong:
        raise OptionError(f"Option(s) {', '.join(wrong)} do not apply to "
                          f"method={method.value!r}: {why}.")
