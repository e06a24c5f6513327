"""Checking survey data against a model and turning it into the matrix the estimators use.

Everything that can be wrong with a data set is caught here, with the column (and row) named,
before any numerics run: a missing indicator column, a non-numeric or infinite value, a
constant or all-missing column, duplicated column names (also after ``columns=`` renaming),
too few rows, values outside the spec's item scale (a warning). For files: a missing file, a
directory, an unsupported type, a workbook saved as .csv or a non-UTF-8 file, an empty file.
Nothing is dropped or repaired silently.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path as FilePath
from typing import Any

import numpy as np
import pandas as pd

from ._typing import FloatArray
from .errors import DataError, DataWarning, OptionError, OutOfScaleWarning
from .models.model import Model
from .options import MissingPolicy, coerce

__all__ = ["PreparedData", "prepare_data", "read_data"]


@dataclass(frozen=True)
class PreparedData:
    """Indicator data ready for estimation.

    ``values`` is (N × J) float64 in the model's indicator order, with no missing cells.
    ``case_weights`` (N,) are survey weights, rescaled to mean 1 (the scale of survey weights
    carries no information), or None. The weighted mean is ``sum(w x) / N`` and the weighted
    covariance ``sum(w (x - m)(x - m)') / (N - 1)``: equal weights give exactly the unweighted
    statistics, and integer weights give the correlations (hence every PLS estimate) of the
    data with each row repeated that many times.
    """

    values: FloatArray
    indicators: tuple[str, ...]
    index: pd.Index
    n_total: int
    n_dropped: int
    n_missing_cells: int
    n_imputed_cells: int
    missing: MissingPolicy
    case_weights: FloatArray | None = None
    n_coded_missing: int = 0

    @property
    def n_obs(self) -> int:
        """Rows used in the estimation."""
        return int(self.values.shape[0])

    @cached_property
    def _moments(self) -> tuple[FloatArray, FloatArray]:
        # Means and covariance are computed once per data set: a fit asks for the
        # correlations, standard deviations and standardised scores, all derived from them.
        w = self.case_weights
        mean = self.values.mean(axis=0) if w is None else w @ self.values / w.sum()
        X = self.values - mean
        Xw = X if w is None else X * w[:, None]
        cov = Xw.T @ X / (X.shape[0] - 1)
        for arr in (mean, cov):
            arr.setflags(write=False)
        return mean, cov

    def means(self) -> FloatArray:
        """(J,) indicator means (weighted when there are case weights)."""
        return self._moments[0]

    def centred(self) -> FloatArray:
        """(N × J) indicators minus their (weighted) means."""
        return self.values - self.means()

    def covariance(self) -> FloatArray:
        """(J × J) indicator covariance matrix (N - 1 denominator; weighted as above)."""
        return self._moments[1]

    def std(self) -> FloatArray:
        """(J,) indicator standard deviations (see :meth:`covariance`)."""
        return np.sqrt(np.diag(self.covariance()))

    def correlation(self) -> FloatArray:
        """(J × J) indicator correlation matrix (weighted when there are case weights)."""
        cov = self.covariance()
        sd = np.sqrt(np.diag(cov))
        S = cov / np.outer(sd, sd)
        np.fill_diagonal(S, 1.0)
        return S

    def standardized(self) -> FloatArray:
        """(N × J) indicators with mean 0 and standard deviation 1 (N - 1 denominator)."""
        return (self.values - self.means()) / self.std()


SEPARATORS = (",", ";", "\t", "|")


def read_data(path: str | FilePath, *, sheet: str | int | None = None) -> pd.DataFrame:
    """Read a data file: CSV here, other types by extension through :func:`csisem.io.read_data`.

    Excel (.xlsx, .xlsm), SPSS (.sav, .zsav), Stata (.dta) and Parquet (.parquet) files are
    read by :mod:`csisem.io` (``sheet`` chooses an Excel sheet; see there for the metadata
    kept in ``DataFrame.attrs`` and the optional packages). Any other extension is refused.

    A CSV file (.csv, .tsv, .txt or no extension) must be UTF-8 text (a byte-order mark is
    allowed) with a header row. The separator is the one of comma, semicolon, tab or bar that
    splits the header into the most fields (comma on a tie). Numbers use a decimal point.

    Raises
    ------
    DataError
        If the file does not exist, is a directory, is empty, is not UTF-8 text, is not a
        readable CSV file or has duplicated column names; for other types, see
        :func:`csisem.io.read_data`.
    """
    path = FilePath(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".txt", ".tsv", "") or sheet is not None:
        from .io import read_data as read_file

        return read_file(path, sheet=sheet)
    shown = repr(str(path))
    if not path.exists():
        raise DataError(f"Data file {shown} does not exist.")
    if path.is_dir():
        raise DataError(f"Data file {shown} is a directory, not a file.")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"Cannot read data file {shown}: {exc.strerror or exc}.") from exc
    if raw.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise DataError(f"Data file {shown} is not a CSV file: it looks like a spreadsheet "
                        "workbook (Excel/ODS). Export it as CSV first.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise DataError(
            f"Data file {shown} is not UTF-8 text (byte 0x{raw[exc.start]:02x} on line {line} "
            "cannot be decoded); if it is a CSV file, save it with UTF-8 encoding.") from exc
    if "\x00" in text:
        raise DataError(f"Data file {shown} is not a CSV file: it contains binary data.")
    if not text.strip():
        raise DataError(f"Data file {shown} is empty.")
    sep = _guess_separator(text)
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep)
    except pd.errors.EmptyDataError:
        raise DataError(f"Data file {shown} is empty.") from None
    except (pd.errors.ParserError, ValueError) as exc:
        detail = str(exc).strip().rstrip(".")
        raise DataError(f"Cannot read {shown} as CSV (separator {sep!r}): {detail}.") from exc
    header = next(csv.reader(io.StringIO(text.lstrip("\r\n")), delimiter=sep))
    header = [h.strip() for h in header]
    duplicated = sorted({h for h in header if h and header.count(h) > 1})
    if duplicated:
        where = "; ".join(
            f"{h!r} (columns {', '.join(str(k + 1) for k, x in enumerate(header) if x == h)})"
            for h in duplicated)
        raise DataError(f"Data file {shown} has duplicated column names: {where}. Column names "
                        "must be unique.")
    if frame.shape[0] == 0:
        raise DataError(f"Data file {shown} has a header but no data rows.")
    frame.attrs.update(source=str(path), format="csv")
    return frame


def _guess_separator(text: str) -> str:
    """The separator that splits the header line into the most fields (comma on a tie)."""
    first = text.lstrip("\r\n").splitlines()[0]
    counts = {sep: len(next(csv.reader([first], delimiter=sep))) for sep in SEPARATORS}
    return max(SEPARATORS, key=lambda sep: (counts[sep], -SEPARATORS.index(sep)))


def _as_frame(data: Any) -> pd.DataFrame:
    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, np.ndarray):
        raise DataError(
            f"The data= argument is a NumPy array (shape {data.shape}), which has no column "
            "names; csisem finds indicators by name. Name the columns: "
            "pd.DataFrame(array, columns=[...indicator names...]).")
    if isinstance(data, Mapping):
        try:
            return pd.DataFrame(dict(data))
        except ValueError as exc:
            detail = str(exc).strip().rstrip(".")
            raise DataError(f"The data= mapping could not be made into a table: {detail}.") \
                from exc
    raise DataError(
        f"The data= argument must be a pandas DataFrame, a mapping of column name -> values, "
        f"a bundled data set name or a CSV file path, not {type(data).__name__}.")


def _apply_column_mapping(frame: pd.DataFrame, columns: Any, model: Model) -> pd.DataFrame:
    """Rename data columns to indicator names: ``columns={data_column: indicator}``."""
    if not isinstance(columns, Mapping):
        raise OptionError(f"The columns= argument must be a mapping {{data_column: indicator}}, "
                          f"not {type(columns).__name__}.")
    mapping = {str(k): str(v) for k, v in columns.items()}
    names = [str(c) for c in frame.columns]
    present = set(names)
    indicators = set(model.indicator_names)
    problems = []
    for data_col, indicator in mapping.items():
        if data_col in present:
            if indicator not in indicators:
                problems.append(f"The columns= mapping sends data column {data_col!r} to "
                                f"{indicator!r}, which is not an indicator of model "
                                f"{model.name!r}{_closest(indicator, indicators)}.")
        elif indicator in present and data_col in indicators:
            problems.append(f"The columns= mapping {data_col!r} -> {indicator!r} is the wrong "
                            f"way round: {data_col!r} is an indicator and {indicator!r} a data "
                            f"column; write it as {{{indicator!r}: {data_col!r}}} "
                            "(data column -> indicator).")
        else:
            problems.append(f"The columns= mapping names data column {data_col!r}, which is not "
                            f"in the data{_closest(data_col, present)}.")
    if problems:
        raise DataError(" ".join(problems))
    renamed = [mapping.get(c, c) for c in names]
    clashes = sorted({c for c in renamed if renamed.count(c) > 1})
    if clashes:
        details = "; ".join(
            f"{c!r} <- " + ", ".join(repr(o) for o, n in zip(names, renamed, strict=True) if n == c)
            for c in clashes)
        raise DataError(f"After renaming with columns=, several data columns share one name: "
                        f"{details}. Map exactly one data column to each indicator (drop or "
                        "rename the other column).")
    return frame.set_axis(renamed, axis=1)


def _closest(name: str, options: set[str]) -> str:
    close = difflib.get_close_matches(name, sorted(options), n=3, cutoff=0.6)
    return f" (closest: {', '.join(close)})" if close else ""


def _row_text(index: pd.Index, position: int) -> str:
    return f"row {position + 1} (index {index[position]!r})"


def _count(n: int, noun: str) -> str:
    """``1 row``, ``2 rows``."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _listing(names: list[str], limit: int = 12) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f", ... ({len(names)} in all)" if len(names) > limit else "")


def _to_numeric(column: pd.Series, name: str) -> pd.Series:
    if pd.api.types.is_bool_dtype(column):
        return column.astype(float)
    if pd.api.types.is_numeric_dtype(column):
        return column.astype(float)
    converted = pd.to_numeric(column, errors="coerce")
    bad = converted.isna().to_numpy() & column.notna().to_numpy()
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        value = column.iloc[pos]
        hint = ""
        if isinstance(value, str) and re.fullmatch(r"\s*[-+]?\d*,\d+\s*", value):
            hint = (" It looks like a decimal comma: read the file with "
                    "pandas.read_csv(..., decimal=',') and pass the DataFrame.")
        raise DataError(
            f"Column {name!r} is not numeric: {_row_text(column.index, pos)} holds {value!r} "
            f"({_count(int(bad.sum()), 'non-numeric value')} in all). Recode the column as "
            f"numbers, or make such cells empty (missing).{hint}")
    return converted.astype(float)


def prepare_data(
    model: Model,
    data: Any,
    *,
    columns: Mapping[str, str] | None = None,
    missing: MissingPolicy | str = MissingPolicy.LISTWISE,
    missing_codes: Sequence[float] | Mapping[str, Sequence[float]] | None = None,
    weights: str | Sequence[float] | FloatArray | pd.Series | None = None,
    min_rows: int | None = None,
) -> PreparedData:
    """Check ``data`` against ``model`` and return the indicator matrix.

    Parameters
    ----------
    model : the model whose indicators must be in the data.
    data : DataFrame (or mapping of column -> values) with one column per indicator.
    columns : renames data columns to indicator names, ``{data_column: indicator}``; after
        renaming, column names must still be unique.
    missing : ``"listwise"`` drops incomplete rows; ``"mean"`` replaces a missing cell by its
        column mean. Either way the counts are reported (a :class:`DataWarning` and fields of
        the result).
    missing_codes : values that mean "missing" (e.g. ``[98, 99]`` for don't know / refused),
        for every indicator, or ``{indicator: [codes]}`` per column. They become missing
        cells before ``missing`` applies, and their count is reported.
    weights : survey (case) weights: the name of a data column or one non-negative number
        per row. Rows dropped for missing values drop their weight too.
    min_rows : the fewest complete rows the estimator needs (default: largest number of
        predictors of a construct + 2, at least 3).

    The caller's ``data`` is never modified.

    Raises
    ------
    DataError
        For every problem listed in the module docstring.
    OptionError
        If ``missing`` or ``columns`` is not a valid option value.
    """
    policy = coerce(MissingPolicy, missing, arg="missing")
    if policy is MissingPolicy.FIML:
        raise OptionError("missing='fiml' (full-information maximum likelihood) is a CB-SEM "
                          "method: use it with method='ml' or 'mlr'. For PLS choose "
                          "'listwise' or 'mean'.")
    frame = _as_frame(data)
    names = [str(c) for c in frame.columns]
    duplicated = sorted({c for c in names if names.count(c) > 1})
    if duplicated:
        raise DataError(f"The data have duplicated column names: {', '.join(duplicated)}. "
                        "Column names must be unique.")
    frame = frame.set_axis(names, axis=1)
    if columns is not None:
        frame = _apply_column_mapping(frame, columns, model)
    present = set(frame.columns)
    absent = [i for i in model.indicator_names if i not in present]
    if absent:
        hints = {i: _closest(i, present) for i in absent}
        details = "; ".join(f"{i!r}{hint}" for i, hint in hints.items())
        available = ""
        if not len(frame.columns):
            available = " The data have no columns."
        elif not all(hints.values()):
            available = f" The data columns are: {_listing(list(frame.columns))}."
        raise DataError(
            f"The data lack {_count(len(absent), 'indicator column')} of model "
            f"{model.name!r}: {details}.{available} Rename the columns or map them with "
            "columns={data_column: indicator} (CLI: --columns DATA_COLUMN=INDICATOR,...).")

    table = pd.DataFrame({i: _to_numeric(frame[i], i) for i in model.indicator_names},
                         index=frame.index)
    values = table.to_numpy(dtype=float, copy=True)
    n_total = values.shape[0]
    if n_total == 0:
        raise DataError("The data have no rows.")
    case_weights = None if weights is None else _case_weights(weights, frame, model)
    n_coded = _apply_missing_codes(values, missing_codes, model) if missing_codes else 0
    infinite = np.isinf(values)
    if infinite.any():
        row, col = (int(v[0]) for v in np.nonzero(infinite))
        raise DataError(f"Column {model.indicator_names[col]!r} has an infinite value at "
                        f"{_row_text(table.index, row)}; replace it or mark it missing.")
    isnan = np.isnan(values)
    empty = [model.indicator_names[j] for j in np.flatnonzero(isnan.all(axis=0))]
    if empty:
        raise DataError(f"Indicator column(s) {', '.join(map(repr, empty))} have no "
                        f"observed values (all {n_total} cells are missing). Check the column, "
                        "or drop the indicator from the spec.")

    n_missing = int(isnan.sum())
    n_dropped = n_imputed = 0
    index = table.index
    if n_missing:
        incomplete = isnan.any(axis=1)
        worst = [model.indicator_names[j] for j in np.argsort(-isnan.sum(axis=0))[:3]
                 if isnan[:, j].any()]
        if policy is MissingPolicy.LISTWISE:
            n_dropped = int(incomplete.sum())
            values = values[~incomplete]
            index = index[~incomplete]
            if case_weights is not None:
                case_weights = case_weights[~incomplete]
            warnings.warn(
                f"{n_dropped} of {_count(n_total, 'row')} have missing indicator values "
                f"({_count(n_missing, 'cell')}; most in {', '.join(worst)}) and were dropped "
                "(missing='listwise').", DataWarning, stacklevel=3)
        else:
            if case_weights is None:
                means = np.nanmean(values, axis=0)
            else:
                observed = np.where(isnan, 0.0, case_weights[:, None])
                means = np.nansum(values * observed, axis=0) / observed.sum(axis=0)
            values = np.where(isnan, means, values)
            n_imputed = n_missing
            warnings.warn(
                f"{_count(n_missing, 'missing cell')} in {int(incomplete.sum())} of "
                f"{_count(n_total, 'row')} (most in {', '.join(worst)}) were replaced by "
                "their column means (missing='mean').", DataWarning, stacklevel=3)

    n_obs = values.shape[0]
    if min_rows is None:
        most_predictors = max((len(model.predecessors(c)) for c in model.construct_names),
                              default=0)
        min_rows = max(3, most_predictors + 2)
    if n_obs < min_rows:
        dropped = (f" ({n_dropped} of {n_total} dropped for missing values)"
                   if n_dropped else "")
        raise DataError(f"Only {_count(n_obs, 'complete row')} of data{dropped}; model "
                        f"{model.name!r} needs at least {min_rows}.")
    sd = values.std(axis=0)
    constant = [model.indicator_names[j] for j in np.flatnonzero(~(sd > 0))]
    if constant:
        shown = ", ".join(f"{c!r} (always {values[0, model.indicator_names.index(c)]:g})"
                          for c in constant)
        raise DataError(f"Indicator(s) {shown} do not vary; a constant indicator carries no "
                        "information and cannot be standardised. Drop it from the spec, or "
                        "check that the right column was read.")
    if model.scale is not None:
        _check_scale(model, values, index)
    if case_weights is not None:
        if not case_weights.sum() > 0:
            raise DataError("The case weights of the rows left after removing missing values "
                            "are all zero.")
        case_weights = case_weights * (len(case_weights) / case_weights.sum())
    return PreparedData(values=values, indicators=model.indicator_names, index=index,
                        n_total=n_total, n_dropped=n_dropped, n_missing_cells=n_missing,
                        n_imputed_cells=n_imputed, missing=policy,
                        case_weights=case_weights, n_coded_missing=n_coded)


def _case_weights(weights: Any, frame: pd.DataFrame, model: Model) -> FloatArray:
    """Validated survey weights: a column name or one number per row."""
    if isinstance(weights, str):
        if weights not in frame.columns:
            raise DataError(f"weights={weights!r} is not a column of the data"
                            f"{_closest(weights, set(frame.columns)) or '.'}")
        if weights in model.indicator_names:
            raise DataError(f"weights={weights!r} is an indicator of model {model.name!r}; "
                            "choose the column that holds the survey weights.")
        column = _to_numeric(frame[weights], weights)
        what = f"Weight column {weights!r}"
    else:
        column = pd.Series(np.asarray(weights, dtype=float).ravel()
                           if not isinstance(weights, pd.Series) else weights.to_numpy(float),
                           index=frame.index if len(frame.index) == np.size(weights) else None)
        if len(column) != len(frame):
            raise DataError(f"weights= has {len(column)} values but the data have "
                            f"{len(frame)} rows; give one weight per row.")
        what = "weights="
    w = column.to_numpy(dtype=float)
    for bad, text in ((np.isnan(w), "is missing"), (~np.isfinite(w) & ~np.isnan(w),
                      "is infinite"), (w < 0, "is negative")):
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            raise DataError(f"{what} {text} at {_row_text(frame.index, pos)} "
                            f"({_count(int(bad.sum()), 'row')}); case weights must be finite "
                            "and non-negative.")
    if not w.sum() > 0:
        raise DataError(f"{what} are all zero.")
    return w


def _apply_missing_codes(values: FloatArray, codes: Any, model: Model) -> int:
    """Set cells holding a missing-value code to NaN (in place); returns how many."""
    if isinstance(codes, Mapping):
        unknown = [c for c in codes if c not in model.indicator_names]
        if unknown:
            raise OptionError(f"missing_codes= names {', '.join(map(repr, unknown))}, which "
                              f"are not indicators of model {model.name!r}.")
        per_column = {model.indicator_names.index(c): v for c, v in codes.items()}
    else:
        per_column = dict.fromkeys(range(values.shape[1]), codes)
    n = 0
    for j, column_codes in per_column.items():
        try:
            code_values = np.atleast_1d(np.asarray(column_codes, dtype=float))
        except (TypeError, ValueError):
            raise OptionError(f"missing_codes= must be numbers, e.g. [98, 99]; got "
                              f"{column_codes!r}.") from None
        hit = np.isin(values[:, j], code_values)
        n += int(hit.sum())
        values[hit, j] = np.nan
    return n


def _check_scale(model: Model, values: FloatArray, index: pd.Index) -> None:
    assert model.scale is not None
    lo, hi = model.scale
    outside = (values < lo) | (values > hi)
    if not outside.any():
        return
    cols = np.flatnonzero(outside.any(axis=0))
    first = cols[0]
    row = int(np.flatnonzero(outside[:, first])[0])
    listing = ", ".join(f"{model.indicator_names[j]} ({int(outside[:, j].sum())})" for j in cols)
    warnings.warn(
        f"Values outside the spec's item scale [{lo:g}, {hi:g}] in {listing}; e.g. "
        f"{values[row, first]:g} in {model.indicator_names[first]!r} at "
        f"{_row_text(index, row)}. Are these missing-value codes? Index scores assume the "
        "scale.", OutOfScaleWarning, stacklevel=3)
