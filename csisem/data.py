"""Checking survey data against a model and turning it into what the estimators use.

Everything that can be wrong with a data set is caught here, with the column (and row) named,
before any numerics run: a missing indicator column, a non-numeric or infinite value, a
constant or all-missing column, duplicated column names (also after ``columns=`` renaming),
too few rows, values outside the spec's item scale (a warning). For files: a missing file, a
directory, an unsupported type, a workbook saved as .csv or a non-UTF-8 file, an empty file.
Nothing is dropped or repaired silently.

The estimators need the indicators' means and covariance matrix, which
:func:`prepare_data` computes in one pass over the data, a slice of rows at a time
(:mod:`csisem.scan`, :class:`~csisem.moments.MomentAccumulator`): a large DataFrame is never
copied whole. The
rows themselves (``PreparedData.values``) are materialised only when something asks for
them (construct scores, the bootstrap, blindfolding, per-respondent indices). Parquet files
and Dask DataFrames go through the same checks in :mod:`csisem.streaming`.
"""

from __future__ import annotations

import difflib
import re
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path as FilePath
from typing import Any

import numpy as np
import pandas as pd

from ._typing import FloatArray
from .errors import DataError, OptionError
from .models.model import Model
from .moments import MomentAccumulator
from .options import MissingPolicy, coerce

__all__ = ["PreparedData", "Rows", "prepare_data", "read_data"]

CHUNK_CELLS = 1 << 21  # values per slice of rows (16 MB of float64) when scanning data

# One slice of rows as read by ``scan.FrameReader``: first row position, values, case weights,
# whether every value is present (no NaN), and how many cells held a missing-value code.
Chunk = tuple[int, FloatArray, "FloatArray | None", bool, int]


@dataclass(frozen=True)
class Rows:
    """The rows used in an estimation: values (N × J), their index, rescaled case weights."""

    values: FloatArray
    index: pd.Index
    case_weights: FloatArray | None = None


@dataclass(frozen=True)
class LoadedRows:
    """A loader of rows already in memory (picklable, unlike a closure)."""

    rows: Rows

    def __call__(self) -> Rows:
        return self.rows


@dataclass(frozen=True, eq=False)
class PreparedData:
    """Indicator data ready for estimation: moments now, rows on demand.

    ``mean`` (J,) and ``cov`` (J × J) are the indicators' (weighted) means and covariance
    matrix, in the model's indicator order, from the rows used (after missing values were
    handled). Survey weights are rescaled to mean 1 (their scale carries no information): the
    weighted mean is ``sum(w x) / N`` and the weighted covariance
    ``sum(w (x - m)(x - m)') / (N - 1)``, so equal weights give exactly the unweighted
    statistics, and integer weights give the correlations (hence every PLS estimate) of the
    data with each row repeated that many times.

    ``values``, ``index`` and ``case_weights`` (the rows themselves) are loaded on first use
    by ``loader``; data streamed from Parquet or Dask are read again at that point.
    """

    indicators: tuple[str, ...]
    n_obs: int
    n_total: int
    n_dropped: int
    n_missing_cells: int
    n_imputed_cells: int
    missing: MissingPolicy
    mean: FloatArray
    cov: FloatArray
    weighted: bool = False
    n_coded_missing: int = 0
    source: str = "DataFrame"
    loader: Callable[[], Rows] | None = field(default=None, repr=False)

    @cached_property
    def rows(self) -> Rows:
        """The rows used (loaded on first use; see the class docstring)."""
        if self.loader is None:
            raise DataError(f"The rows of the data ({self.source}) are not available; only "
                            "their moments were kept.")
        return self.loader()

    def __getstate__(self) -> dict[str, Any]:
        # The loader is a closure over the data source; a pickled copy carries the rows.
        state = dict(self.__dict__)
        if self.loader is not None:
            state["loader"] = LoadedRows(self.rows)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    @property
    def values(self) -> FloatArray:
        """(N × J) float64 indicator values in the model's order, no missing cells."""
        return self.rows.values

    @property
    def index(self) -> pd.Index:
        """Row labels of :attr:`values`."""
        return self.rows.index

    @property
    def case_weights(self) -> FloatArray | None:
        """(N,) survey weights rescaled to mean 1, or None."""
        return self.rows.case_weights if self.weighted else None

    def means(self) -> FloatArray:
        """(J,) indicator means (weighted when there are case weights)."""
        return self.mean

    def centred(self) -> FloatArray:
        """(N × J) indicators minus their (weighted) means."""
        return self.values - self.mean

    def covariance(self) -> FloatArray:
        """(J × J) indicator covariance matrix (N - 1 denominator; weighted as above)."""
        return self.cov

    @cached_property
    def _sd(self) -> FloatArray:
        sd = np.sqrt(np.diag(self.cov))
        sd.setflags(write=False)
        return sd

    def std(self) -> FloatArray:
        """(J,) indicator standard deviations (see :meth:`covariance`)."""
        return self._sd

    def correlation(self) -> FloatArray:
        """(J × J) indicator correlation matrix (weighted when there are case weights)."""
        sd = self._sd
        S = self.cov / sd / sd[:, None]
        S.flat[::S.shape[0] + 1] = 1.0  # exactly, not up to rounding
        return S

    def standardized(self) -> FloatArray:
        """(N × J) indicators with mean 0 and standard deviation 1 (N - 1 denominator)."""
        return (self.values - self.mean) / self._sd


def read_data(path: str | FilePath, *, sheet: str | int | None = None) -> pd.DataFrame:
    """Read a data file by its extension: CSV (:func:`csisem.csvfile.read_csv`), Excel, SPSS,
    Stata or Parquet (:func:`csisem.io.read_data`, which also describes the metadata kept and
    the optional packages).

    Raises
    ------
    DataError
        If the file does not exist or cannot be read as the type its extension says.
    """
    from .io import read_data as read_file

    return read_file(path, sheet=sheet)


def _as_frame(data: Any) -> pd.DataFrame:
    if isinstance(data, pd.DataFrame):
        return data
    from .streaming import ParquetSource, is_dask_frame

    if isinstance(data, ParquetSource):  # rows are needed here: read them whole
        return data.to_pandas()
    if is_dask_frame(data):
        raise DataError("A Dask DataFrame is accepted by PLS fits (csisem.fit with method="
                        "'pls' or 'plsc'), whose moments Dask computes; this analysis needs "
                        "the rows in memory: pass data.compute() (a pandas DataFrame).")
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


def _row_text(index: pd.Index, position: int, offset: int = 0) -> str:
    """``row 3 (index 'r3')``: 1-based row number in the whole data, and the row's label."""
    return f"row {offset + position + 1} (index {index[position]!r})"


def _count(n: int, noun: str) -> str:
    """``1 row``, ``2 rows``."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _listing(names: list[str], limit: int = 12) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f", ... ({len(names)} in all)" if len(names) > limit else "")


def _to_numeric(column: pd.Series, name: str, offset: int = 0) -> pd.Series:
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
            f"Column {name!r} is not numeric: {_row_text(column.index, pos, offset)} holds "
            f"{value!r} "
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
    """Check ``data`` against ``model``; compute the moments the estimators need.

    Parameters
    ----------
    model : the model whose indicators must be in the data.
    data : DataFrame (or mapping of column -> values) with one column per indicator; a Dask
        DataFrame, or a :class:`csisem.streaming.ParquetSource`, is scanned by
        :mod:`csisem.streaming`.
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
    if not isinstance(data, pd.DataFrame):
        from .streaming import is_streamed, prepare_streamed

        if is_streamed(data):
            return prepare_streamed(model, data, columns=columns, missing=policy,
                                    missing_codes=missing_codes, weights=weights,
                                    min_rows=min_rows)

    frame, names = checked_frame(model, _as_frame(data), columns)
    positions = indicator_positions(model, names, frame)
    if len(frame) == 0:
        raise DataError("The data have no rows.")
    case_weights = None if weights is None else _case_weights(weights, frame, model)
    reader = _scan.FrameReader(frame, model, positions, missing_codes, case_weights)
    if reader.n_rows <= reader.chunk_rows:
        X, complete, n_coded = reader.read(0, reader.n_rows)
        if complete:  # the common case, one slice with nothing missing: no scan bookkeeping
            w = None if case_weights is None else _scan.rescaled(case_weights)
            acc = MomentAccumulator(len(positions)).add(X, case_weights)
            return _scan.summarise(model, acc, policy=policy, weighted=w is not None,
                                   min_rows=min_rows, n_total=len(X), n_dropped=0,
                                   n_missing=0, n_imputed=0, n_coded=n_coded,
                                   source="DataFrame",
                                   loader=LoadedRows(Rows(X, frame.index, w)), in_memory=True)
    else:
        # Rows are loaded on demand: later changes to the caller's DataFrame must not reach
        # them (copy-on-write makes this shallow copy independent of the original).
        reader.frame = frame.copy(deep=False)
    J = len(positions)

    def scanner(fill: FloatArray | None, keep: bool) -> _scan.Scan:
        return _scan.scan_chunks(reader.chunks(), J, policy, fill=fill, keep=keep)

    return _scan.finish(model, scanner, policy, case_weights is not None, min_rows,
                        index=frame.index, keep=reader.n_rows <= reader.chunk_rows,
                        source="DataFrame")


def default_min_rows(model: Model) -> int:
    """The fewest rows a fit needs: the most predictors of a construct + 2, at least 3."""
    return model.derived("min_rows", _min_rows)


def _min_rows(model: Model) -> int:
    most = max((len(model.predecessors(c)) for c in model.construct_names), default=0)
    return max(3, most + 2)


def checked_frame(model: Model, frame: pd.DataFrame,
                  columns: Any) -> tuple[pd.DataFrame, list[str]]:
    """``frame`` with unique string column names, renamed by ``columns=`` if given, and the
    names."""
    names, as_is = _column_names(frame.columns)
    if not as_is:
        frame = frame.set_axis(names, axis=1)
    if columns is not None:
        frame = _apply_column_mapping(frame, columns, model)
        names = frame.columns.tolist()
    return frame, names


_NAMES: dict[int, tuple[Any, list[str], bool]] = {}


def _column_names(columns: pd.Index) -> tuple[list[str], bool]:
    """Column names as strings, checked unique, and whether they were all strings already.

    Remembered per Index object (pandas indexes are immutable; a weak reference tells a
    live one from a new object at the same address): refitting the same DataFrame, as a
    simulation or a benchmark does, does not list its columns again.
    """
    hit = _NAMES.get(id(columns))
    if hit is not None and hit[0]() is columns:
        return list(hit[1]), hit[2]
    raw = columns.tolist()
    names = [c if isinstance(c, str) else str(c) for c in raw]
    if len(set(names)) != len(names):
        duplicated = sorted({c for c in names if names.count(c) > 1})
        raise DataError(f"The data have duplicated column names: {', '.join(duplicated)}. "
                        "Column names must be unique.")
    as_is = names == raw
    try:
        ref = weakref.ref(columns)
    except TypeError:  # an Index type without weak references: not remembered
        return names, as_is
    if len(_NAMES) >= 64:
        _NAMES.clear()
    _NAMES[id(columns)] = (ref, names, as_is)
    return list(names), as_is


def indicator_positions(model: Model, names: list[str], frame: pd.DataFrame) -> list[int]:
    """Column positions of the model's indicators among ``names`` (the columns of
    ``frame``); :class:`DataError` naming absent ones."""
    where = {c: p for p, c in enumerate(names)}
    absent = [i for i in model.indicator_names if i not in where]
    if absent:
        present = set(where)
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
    return [where[i] for i in model.indicator_names]


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


def _codes_by_column(codes: Any, model: Model) -> dict[int, FloatArray]:
    """Missing-value codes per indicator position, validated."""
    if isinstance(codes, Mapping):
        unknown = [c for c in codes if c not in model.indicator_names]
        if unknown:
            raise OptionError(f"missing_codes= names {', '.join(map(repr, unknown))}, which "
                              f"are not indicators of model {model.name!r}.")
        per_column = {model.indicator_names.index(c): v for c, v in codes.items()}
    else:
        per_column = dict.fromkeys(range(len(model.indicator_names)), codes)
    out = {}
    for j, column_codes in per_column.items():
        try:
            out[j] = np.atleast_1d(np.asarray(column_codes, dtype=float))
        except (TypeError, ValueError):
            raise OptionError(f"missing_codes= must be numbers, e.g. [98, 99]; got "
                              f"{column_codes!r}.") from None
    return out


# The slice-by-slice reading and checking (it uses the helpers above, hence imported last).
from . import scan as _scan  # noqa: E402
