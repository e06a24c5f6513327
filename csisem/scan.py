"""One pass over survey data, a slice of rows at a time: checks, missing values, moments.

:func:`csisem.data.prepare_data` (DataFrames) and :mod:`csisem.streaming` (Parquet, Dask)
read the data through :class:`FrameReader` (slices as float64 arrays, checked), summarise each
pass with :func:`scan_chunks` (a :class:`Scan`: moments of the rows used and missing-value
counts; scans of separate parts merge) and turn the scans into a
:class:`~csisem.data.PreparedData` with :func:`finish`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ._typing import FloatArray
from .data import (
    CHUNK_CELLS,
    Chunk,
    LoadedRows,
    PreparedData,
    Rows,
    _codes_by_column,
    _count,
    _row_text,
    _to_numeric,
    default_min_rows,
)
from .errors import DataError, DataWarning, OutOfScaleWarning
from .models.model import Model
from .moments import MomentAccumulator
from .options import MissingPolicy

__all__ = ["FrameReader", "Scan", "finish", "read_values", "rescaled", "scan_chunks",
           "summarise"]

# Rows kept by a scan: values, their row positions (None: all ``n`` rows from ``start``),
# case weights, start, n.
Kept = tuple[FloatArray, Any, "FloatArray | None", int, int]


class FrameReader:
    """Slices of a DataFrame's indicator columns as float64 arrays, checked as they are read.

    A slice has the model's indicator order, missing-value codes already turned into NaN, and
    no infinite value (:class:`DataError` naming the cell). Non-numeric columns are converted
    (or refused, naming the row) once, up front.
    """

    def __init__(self, frame: pd.DataFrame, model: Model, positions: list[int],
                 missing_codes: Any = None, weights: FloatArray | None = None,
                 offset: int = 0) -> None:
        self.frame = frame
        self.offset = offset  # position of the frame's first row in the whole data
        self.model = model
        self.positions = positions
        self.weights = weights
        self.n_rows = len(frame)
        self.codes = _codes_by_column(missing_codes, model) if missing_codes else {}
        self.chunk_rows = max(1024, CHUNK_CELLS // max(len(positions), 1))
        self.converted: dict[int, FloatArray] = {}
        self._whole: FloatArray | None = None
        self._fast = False
        if self.n_rows <= self.chunk_rows:
            # Small data: the whole frame as float64 in one call (the common case of numeric
            # columns; anything pandas cannot convert goes through the column checks below).
            whole = _numeric_columns(frame, positions)
            if whole is not None:
                self._fast = True
                self._whole = whole
                return
        dtypes = list(frame.dtypes)
        plain = [isinstance(dt, np.dtype) and dt.kind in "biuf" for dt in dtypes]
        for j, p in enumerate(positions):
            if not plain[p]:
                column = frame.iloc[:, p]
                self.converted[j] = _to_numeric(column, model.indicator_names[j],
                                                offset).to_numpy(dtype=float)
        self._all_plain = all(plain)
        whole_frame = self._all_plain and positions == list(range(len(dtypes)))
        self._take = None if whole_frame else positions  # columns to pick, all numeric

    def chunks(self) -> Iterator[Chunk]:
        """Consecutive slices of rows, checked (see :data:`csisem.data.Chunk`)."""
        for start in range(0, self.n_rows, self.chunk_rows):
            stop = min(start + self.chunk_rows, self.n_rows)
            X, complete, n_coded = self.read(start, stop)
            yield (self.offset + start, X,
                   None if self.weights is None else self.weights[start:stop], complete,
                   n_coded)

    def read(self, start: int, stop: int) -> tuple[FloatArray, bool, int]:
        """Rows ``start:stop`` as a fresh (rows × J) float64 array, checked; whether no cell is
        missing; how many cells held a missing-value code (now NaN)."""
        whole = start == 0 and stop == self.n_rows
        if self._fast:  # one slice: the whole frame, converted up front
            X = self._whole
            self._whole = None  # handed out once: a second pass converts again
            if X is None:
                X = _numeric_columns(self.frame, self.positions)
        elif not self.converted and self._all_plain:
            block = self.frame if whole else self.frame.iloc[start:stop]
            X = block.to_numpy(dtype=float, copy=True)
            if self._take is not None:
                X = X[:, self._take]
        else:
            X = np.empty((stop - start, len(self.positions)))
            for j, p in enumerate(self.positions):
                if j in self.converted:
                    X[:, j] = self.converted[j][start:stop]
                else:
                    X[:, j] = self.frame.iloc[start:stop, p].to_numpy(dtype=float)
        n_coded = 0
        for j, codes in self.codes.items():
            hit = np.isin(X[:, j], codes)
            n_coded += int(np.count_nonzero(hit))
            X[hit, j] = np.nan
        complete = bool(np.isfinite(X).all())
        if not complete:
            infinite = np.isinf(X)
            if infinite.any():
                row, col = (int(v[0]) for v in np.nonzero(infinite))
                where = _row_text(self.frame.index, start + row, self.offset)
                raise DataError(f"Column {self.model.indicator_names[col]!r} has an infinite "
                                f"value at {where}; replace it or mark it missing.")
        return X, complete, n_coded


def _numeric_columns(frame: pd.DataFrame, positions: list[int]) -> FloatArray | None:
    """Columns ``positions`` of ``frame`` as a fresh float64 array, if pandas can convert them
    all in one call (None otherwise: the columns are then checked one by one)."""
    if frame.shape[1] > 2 * len(positions):  # a wide file: convert the indicators only
        frame, positions = frame.iloc[:, positions], list(range(len(positions)))
    try:
        raw = frame.to_numpy()  # no copy when the frame is one block of one dtype
    except (TypeError, ValueError):
        return None
    if raw.dtype.kind not in "biuf":  # text, mixed or extension dtypes: the column checks
        return None                   # (numbers stored as text are validated there)
    if positions != list(range(raw.shape[1])):
        # A copy (pandas blocks are column-major: whole columns are taken at once).
        raw = raw.T.take(np.asarray(positions, dtype=np.intp), axis=0).T
        return raw if raw.dtype == np.float64 else raw.astype(np.float64)
    return raw.astype(np.float64)  # always a copy: cells are set to NaN for missing codes


@dataclass
class Scan:
    """What one pass over the data found: moments of the rows used and missing-value counts."""

    moments: MomentAccumulator
    n_total: int = 0
    missing_per_column: Any = None   # (J,) missing cells
    observed_sum: Any = None         # (J,) (weighted) sums of the observed cells
    observed_weight: Any = None      # (J,) their weights
    n_incomplete: int = 0
    n_coded: int = 0                 # cells that held a missing-value code
    n_missing: int = 0               # missing cells (after codes became missing)
    kept: list[Kept] | None = None

    @classmethod
    def empty(cls, n_cols: int, keep: bool = False) -> Scan:
        """A scan of no rows yet."""
        return cls(MomentAccumulator(n_cols), missing_per_column=np.zeros(n_cols, np.int64),
                   observed_sum=np.zeros(n_cols), observed_weight=np.zeros(n_cols),
                   kept=[] if keep else None)

    def merge(self, other: Scan) -> Scan:
        """Add the counts and moments of another part of the data (kept rows are not merged)."""
        self.moments.merge(other.moments)
        self.n_total += other.n_total
        self.missing_per_column = self.missing_per_column + other.missing_per_column
        self.observed_sum = self.observed_sum + other.observed_sum
        self.observed_weight = self.observed_weight + other.observed_weight
        self.n_incomplete += other.n_incomplete
        self.n_coded += other.n_coded
        self.n_missing += other.n_missing
        return self


def scan_chunks(chunks: Iterable[Chunk], n_cols: int, policy: MissingPolicy,
                fill: FloatArray | None = None, keep: bool = False) -> Scan:
    """One pass: count missing cells, drop (listwise) or fill them, accumulate the moments.

    ``chunks`` are (first row position, values, case weights or None). With
    ``policy=MEAN`` and no ``fill`` yet, incomplete rows are left out of the moments (the
    caller runs a second pass with the column means as ``fill``). ``keep`` keeps the rows
    used, with their positions, to materialise them without reading the data again.
    """
    scan = Scan.empty(n_cols, keep)
    for start, X, w, complete, n_coded in chunks:
        n = X.shape[0]
        scan.n_total += n
        scan.n_coded += n_coded
        used, rows = X, None
        if complete:
            if policy is MissingPolicy.MEAN:  # sums for the fill of later slices' gaps
                scan.observed_sum += X.sum(axis=0) if w is None else w @ X
                scan.observed_weight += n if w is None else w.sum()
        else:
            nan = np.isnan(X)
            per_column = nan.sum(axis=0)
            scan.missing_per_column += per_column
            scan.n_missing += int(per_column.sum())
            incomplete = nan.any(axis=1)
            scan.n_incomplete += int(incomplete.sum())
            observed = ~nan if w is None else np.where(nan, 0.0, w[:, None])
            scan.observed_sum += np.where(nan, 0.0, X * (1.0 if w is None else w[:, None])
                                          ).sum(axis=0)
            scan.observed_weight += observed.sum(axis=0)
            if policy is MissingPolicy.MEAN and fill is not None:
                used = np.where(nan, fill, X)
            else:
                rows = np.flatnonzero(~incomplete)
                used = X[rows]
                w = None if w is None else w[rows]
        scan.moments.add(used, w)
        if scan.kept is not None:  # row positions, None for all n rows from start
            scan.kept.append((used, None if rows is None else start + rows, w, start, n))
    return scan


def finish(model: Model, scanner: Callable[[FloatArray | None, bool], Scan],
           policy: MissingPolicy, weighted: bool, min_rows: int | None, *,
           index: pd.Index | None, keep: bool, source: str,
           load: Callable[[], Rows] | None = None) -> PreparedData:
    """Scan the data (twice for mean imputation with missing cells), check and summarise.

    ``scanner(fill, keep)`` makes one pass over the data (:func:`scan_chunks`, or partitions
    merged); ``index`` labels row positions (None: positions); ``keep`` keeps the rows of the
    scan in memory (small data); ``load`` loads the rows on demand otherwise (default:
    another pass).
    """
    names = model.indicator_names
    scan = scanner(None, keep)
    if scan.n_total == 0:
        raise DataError("The data have no rows.")
    n_total = scan.n_total
    n_missing = scan.n_missing
    empty = ([names[j] for j in np.flatnonzero(scan.missing_per_column == n_total)]
             if n_missing else [])
    if empty:
        raise DataError(f"Indicator column(s) {', '.join(map(repr, empty))} have no "
                        f"observed values (all {n_total} cells are missing). Check the column, "
                        "or drop the indicator from the spec.")
    fill = None
    if n_missing:
        worst = [names[j] for j in np.argsort(-scan.missing_per_column, kind="stable")[:3]
                 if scan.missing_per_column[j]]
        if policy is MissingPolicy.LISTWISE:
            warnings.warn(
                f"{scan.n_incomplete} of {_count(n_total, 'row')} have missing indicator "
                f"values ({_count(n_missing, 'cell')}; most in {', '.join(worst)}) and were "
                "dropped (missing='listwise').", DataWarning, stacklevel=4)
        else:
            fill = scan.observed_sum / scan.observed_weight
            scan = scanner(fill, keep)
            warnings.warn(
                f"{_count(n_missing, 'missing cell')} in {scan.n_incomplete} of "
                f"{_count(n_total, 'row')} (most in {', '.join(worst)}) were replaced by "
                "their column means (missing='mean').", DataWarning, stacklevel=4)
    n_dropped = scan.n_incomplete if policy is MissingPolicy.LISTWISE else 0

    def rows_from_scan(parts: list[Kept]) -> Rows:
        values = parts[0][0] if len(parts) == 1 else np.concatenate([p[0] for p in parts])
        if all(p[1] is None for p in parts):
            positions = None
        else:
            positions = np.concatenate([np.arange(p[3], p[3] + p[4]) if p[1] is None else p[1]
                                        for p in parts])
        if positions is None or positions.size == n_total:  # every row used
            labels = pd.RangeIndex(n_total) if index is None else index
        else:
            labels = pd.RangeIndex(n_total)[positions] if index is None else index[positions]
        w = rescaled(np.concatenate([p[2] for p in parts])) if weighted else None
        return Rows(values=values, index=labels, case_weights=w)

    def load_again() -> Rows:
        again = scanner(fill, True)
        assert again.kept is not None
        return rows_from_scan(again.kept)

    in_memory = scan.kept is not None
    loader = LoadedRows(rows_from_scan(scan.kept)) if scan.kept is not None else (
        load or load_again)
    return summarise(model, scan.moments, policy=policy, weighted=weighted,
                     min_rows=min_rows, n_total=n_total, n_dropped=n_dropped,
                     n_missing=n_missing, n_imputed=n_missing if fill is not None else 0,
                     n_coded=scan.n_coded, source=source, loader=loader, in_memory=in_memory,
                     stacklevel=6)


def rescaled(w: FloatArray) -> FloatArray:
    """Case weights rescaled to mean 1 (their scale carries no information); weights that
    sum to zero are returned as they are (:func:`summarise` refuses them)."""
    total = w.sum()
    return w * (len(w) / total) if total > 0 else w


def summarise(model: Model, acc: MomentAccumulator, *, policy: MissingPolicy, weighted: bool,
              min_rows: int | None, n_total: int, n_dropped: int, n_missing: int,
              n_imputed: int, n_coded: int, source: str, loader: Callable[[], Rows],
              in_memory: bool, stacklevel: int = 5) -> PreparedData:
    """Check the moments of the rows used (enough rows, no constant indicator, values on the
    item scale) and wrap them as :class:`~csisem.data.PreparedData`. ``in_memory``: the
    rows are in ``loader`` already (the out-of-scale warning then names a cell);
    ``stacklevel``: that of the warning, counted from :func:`_warn_scale` (5 when
    ``csisem.fit`` calls ``prepare_data`` which calls this)."""
    names = model.indicator_names
    n_obs = acc.rows
    if min_rows is None:
        min_rows = default_min_rows(model)
    if n_obs < min_rows:
        dropped = (f" ({n_dropped} of {n_total} dropped for missing values)"
                   if n_dropped else "")
        raise DataError(f"Only {_count(n_obs, 'complete row')} of data{dropped}; model "
                        f"{model.name!r} needs at least {min_rows}.")
    if weighted and not acc.weight > 0:
        raise DataError("The case weights of the rows left after removing missing values "
                        "are all zero.")
    varies = acc.high > acc.low
    if not varies.all():
        constant = np.flatnonzero(~varies)
        shown = ", ".join(f"{names[j]!r} (always {acc.low[j]:g})" for j in constant)
        raise DataError(f"Indicator(s) {shown} do not vary; a constant indicator carries no "
                        "information and cannot be standardised. Drop it from the spec, or "
                        "check that the right column was read.")
    if model.scale is not None and (acc.low.min() < model.scale[0]
                                    or acc.high.max() > model.scale[1]):
        _warn_scale(model, loader() if in_memory else None, acc, stacklevel)
    mean, cov = acc.mean, acc.covariance()
    mean.setflags(write=False)
    cov.setflags(write=False)
    return PreparedData(indicators=names, n_obs=n_obs, n_total=n_total, n_dropped=n_dropped,
                        n_missing_cells=n_missing, n_imputed_cells=n_imputed, missing=policy,
                        mean=mean, cov=cov, weighted=weighted, n_coded_missing=n_coded,
                        source=source, loader=loader)


def _warn_scale(model: Model, rows: Rows | None, acc: MomentAccumulator,
                stacklevel: int) -> None:
    """Warn about values outside the spec's item scale, naming columns, counts and a cell
    (from the rows when they are in memory, else from the column ranges)."""
    assert model.scale is not None
    lo, hi = model.scale
    names = model.indicator_names
    head = f"Values outside the spec's item scale [{lo:g}, {hi:g}] in "
    tail = " Are these missing-value codes? Index scores assume the scale."
    if rows is None:
        cols = np.flatnonzero((acc.low < lo) | (acc.high > hi))
        listing = ", ".join(f"{names[j]} (range {acc.low[j]:g} to {acc.high[j]:g})"
                            for j in cols)
        warnings.warn(head + listing + "." + tail, OutOfScaleWarning, stacklevel=stacklevel)
        return
    values, index = rows.values, rows.index
    outside = (values < lo) | (values > hi)
    cols = np.flatnonzero(outside.any(axis=0))
    first = cols[0]
    row = int(np.flatnonzero(outside[:, first])[0])
    listing = ", ".join(f"{names[j]} ({int(outside[:, j].sum())})" for j in cols)
    warnings.warn(
        f"{head}{listing}; e.g. {values[row, first]:g} in {names[first]!r} at "
        f"{_row_text(index, row)}.{tail}", OutOfScaleWarning, stacklevel=stacklevel)


def read_values(model: Model, data: pd.DataFrame, *, columns: Any = None,
                missing_codes: Any = None) -> FloatArray:
    """The model's indicator columns of ``data`` as one (rows × J) float64 array, every row
    kept, missing cells and missing-value codes as NaN (checked as
    :func:`csisem.data.prepare_data` checks them; FIML needs the cells where they are)."""
    from .data import checked_frame, indicator_positions

    frame, names = checked_frame(model, data, columns)
    reader = FrameReader(frame, model, indicator_positions(model, names, frame), missing_codes)
    parts = [chunk[1] for chunk in reader.chunks()]
    return parts[0] if len(parts) == 1 else np.concatenate(parts)
