"""The one-call entry point: ``csisem.fit(spec, data)``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path as FilePath
from typing import Any

import pandas as pd

from .data import read_data
from .datasets import list_datasets, load_dataset
from .estimation.pls_estimator import PLSEstimator
from .models.catalogue import load_model
from .models.model import Model
from .options import CIMethod, InnerScheme, Method, MissingPolicy, coerce
from .results import PLSResult

__all__ = ["fit", "resolve_data"]


def resolve_data(data: Any) -> pd.DataFrame:
    """A DataFrame from a DataFrame, a bundled data set name (``"mobi"``) or a file path.

    Raises
    ------
    DataError
        If a name is neither a bundled data set nor a readable file.
    """
    if isinstance(data, str | FilePath):
        path = FilePath(data)
        if not path.exists() and str(data).lower() in list_datasets():
            return load_dataset(str(data))
        if not path.exists() and path.suffix == "" and "/" not in str(data):
            return load_dataset(str(data))  # raises DataError listing the data sets
        return read_data(path)
    return data


def fit(
    model: str | FilePath | Model,
    data: Any,
    *,
    method: Method | str = Method.PLS,
    scheme: InnerScheme | str = InnerScheme.PATH,
    columns: Mapping[str, str] | None = None,
    missing: MissingPolicy | str = MissingPolicy.LISTWISE,
    missing_codes: Sequence[float] | Mapping[str, Sequence[float]] | None = None,
    weights: Any = None,
    tol: float = 1e-7,
    max_iter: int = 300,
    bootstrap: int = 0,
    seed: int | None = None,
    n_jobs: int = 1,
    ci_level: float = 0.95,
    ci_method: CIMethod | str = CIMethod.PERCENTILE,
    progress: bool | None = None,
    negative_weights: str = "error",
    max_ci_width: float = 4.0,
) -> PLSResult:
    """Fit a model to data.

    Parameters
    ----------
    model : a catalogue name (``"ecsi"``), the path of a YAML or lavaan-syntax spec, or a
        :class:`~csisem.models.Model`.
    data : a DataFrame, a bundled data set name (``"mobi"``) or the path of a CSV file.
    method : ``"pls"`` (PLS path modelling) or ``"plsc"`` (consistent PLS: reflective
        constructs corrected for measurement error, Dijkstra & Henseler 2015).
    scheme : PLS inner weighting scheme: ``"path"``, ``"centroid"`` or ``"factorial"``.
    columns : renames data columns to indicator names, ``{data_column: indicator}``.
    missing : ``"listwise"`` (default) or ``"mean"``; counts are reported.
    missing_codes : values meaning "missing" (e.g. ``[98, 99]``), or ``{indicator: codes}``.
    weights : survey (case) weights: a column name or one non-negative number per row.
    tol, max_iter : convergence tolerance and iteration limit.
    bootstrap : number of bootstrap resamples (0: none); with ``seed``, ``n_jobs``,
        ``ci_level``, ``ci_method`` and ``progress`` as in
        :class:`~csisem.estimation.PLSEstimator`.
    negative_weights : ``"error"`` (default) refuses 0-100 indices when an outer weight is
        negative, ``"warn"`` computes them with a warning.
    max_ci_width : flag indices whose bootstrap interval is wider (points; EPSI uses 4).

    Returns
    -------
    PLSResult

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
    method = coerce(Method, method, arg="method")
    estimator = PLSEstimator(scheme=scheme, tol=tol, max_iter=max_iter, bootstrap=bootstrap,
                             seed=seed, n_jobs=n_jobs, ci_level=ci_level, ci_method=ci_method,
                             progress=progress, consistent=method is Method.PLSC,
                             negative_weights=negative_weights, max_ci_width=max_ci_width)
    return estimator.fit(load_model(model), resolve_data(data), columns=columns,
                         missing=missing, missing_codes=missing_codes, weights=weights)
