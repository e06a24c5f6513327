"""Data too large for memory: Parquet files read row group by row group, and Dask DataFrames.

A PLS fit needs only the indicators' means and covariance matrix (:mod:`csisem.moments`),
so the data are scanned once (twice for mean imputation) with bounded memory and never held
whole. Every check of :func:`csisem.data.prepare_data` applies, slice by slice, with the same
messages.

* :class:`ParquetSource` -- a Parquet file, or a directory of them (read in sorted file
  order), through ``pyarrow.parquet.ParquetFile.iter_batches``: at most one slice of
  ``CHUNK_CELLS`` values of the indicator columns is in memory at a time.
* A ``dask.dataframe.DataFrame`` -- each partition is summarised where it lives (a
  :class:`~csisem.data.Scan` per partition, computed by Dask: on a ``dask.distributed``
  cluster when a client is active), and the summaries are merged in partition order.

The rows themselves are read again only if something asks for them (construct scores, the
bootstrap, per-respondent indices): then they must fit in memory.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path as FilePath
from typing import Any

import numpy as np
import pandas as pd

from ._typing import FloatArray
from .data import (
    CHUNK_CELLS,
    Chunk,
    PreparedData,
    Rows,
    checked_frame,
    indicator_positions,
    prepare_data,
)
from .errors import DataError, DataWarning, OptionError
from .io import open_parquet
from .models.model import Model
from .options import MissingPolicy
from .scan import FrameReader, Scan, finish, scan_chunks

__all__ = ["ParquetSource", "is_dask_frame", "is_streamed", "prepare_streamed"]


@dataclass(frozen=True)
class ParquetSource:
    """A Parquet file, or a directory of ``*.parquet`` files, to be read in slices.

    ``csisem.fit(model, "survey.parquet")`` and ``csisem.fit(model, "waves/")`` make one;
    ``ParquetSource(path).to_pandas()`` reads it whole.
    """

    path: FilePath

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", FilePath(self.path))
        if self.path.is_dir() and not self.files:
            raise DataError(f"Directory {str(self.path)!r} holds no .parquet files.")
        self._open(self.files[0])  # the checks of csisem.io (exists, valid, pyarrow, ...)

    @property
    def files(self) -> list[FilePath]:
        """The Parquet files, in the order their rows are read."""
        if self.path.is_dir():
            return sorted(p for p in self.path.rglob("*.parquet") if p.is_file())
        return [self.path]

    def _open(self, path: FilePath) -> Any:
        return open_parquet(path)

    @property
    def columns(self) -> list[str]:
        """Column names (of the first file; every file must have the columns used)."""
        return list(self._open(self.files[0]).schema_arrow.names)

    @property
    def n_rows(self) -> int:
        """Rows in all files (from the files' metadata, nothing is read)."""
        return sum(self._open(f).metadata.num_rows for f in self.files)

    def batches(self, columns: list[str], rows: int) -> Iterator[pd.DataFrame]:
        """DataFrames of at most ``rows`` rows holding ``columns``, file after file."""
        for path in self.files:
            handle = self._open(path)
            missing = [c for c in columns if c not in handle.schema_arrow.names]
            if missing:
                raise DataError(f"Parquet file {str(path)!r} lacks column(s) "
                                f"{', '.join(map(repr, missing))}, which the first file has.")
            for batch in handle.iter_batches(batch_size=rows, columns=columns):
                yield batch.to_pandas()

    def to_pandas(self) -> pd.DataFrame:
        """All rows in one DataFrame (they must fit in memory)."""
        frames = [self._open(p).read().to_pandas() for p in self.files]
        frame = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
        frame.attrs.update(source=str(self.path), format="parquet")
        return frame

    def __repr__(self) -> str:
        return f"ParquetSource({str(self.path)!r})"


def is_dask_frame(data: Any) -> bool:
    """True for a ``dask.dataframe.DataFrame`` (without importing dask)."""
    if "dask" not in sys.modules and "dask.dataframe" not in sys.modules:
        return False
    module = type(data).__module__
    return module.startswith(("dask.dataframe", "dask_expr")) and hasattr(data, "to_delayed")


def is_streamed(data: Any) -> bool:
    """True for data that :func:`prepare_streamed` reads in slices."""
    return isinstance(data, ParquetSource) or is_dask_frame(data)


def prepare_streamed(model: Model, data: Any, *, columns: Mapping[str, str] | None,
                     missing: MissingPolicy,
                     missing_codes: Sequence[float] | Mapping[str, Sequence[float]] | None,
                     weights: Any, min_rows: int | None) -> PreparedData:
    """:func:`csisem.data.prepare_data` for a :class:`ParquetSource` or a Dask DataFrame."""
    if weights is not None and not isinstance(weights, str):
        raise OptionError("For Parquet or Dask data give weights= as the name of the weight "
                          "column (one number per row is only accepted with a DataFrame).")
    if isinstance(data, ParquetSource):
        return _prepare_parquet(model, data, columns, missing, missing_codes, weights, min_rows)
    return _prepare_dask(model, data, columns, missing, missing_codes, weights, min_rows)


def _layout(model: Model, names: list[str], columns: Mapping[str, str] | None,
            weights: str | None) -> tuple[list[str], dict[str, str]]:
    """Data columns to read (indicators, then the weight column) and their renaming."""
    empty = pd.DataFrame(columns=names)
    renamed, renamed_names = checked_frame(model, empty, columns)
    positions = indicator_positions(model, renamed_names, renamed)
    read = [names[p] for p in positions]
    if weights is not None:
        if weights not in renamed.columns:
            raise DataError(f"weights={weights!r} is not a column of the data.")
        if weights in model.indicator_names:
            raise DataError(f"weights={weights!r} is an indicator of model {model.name!r}; "
                            "choose the column that holds the survey weights.")
        read.append(names[list(renamed.columns).index(weights)])
    rename = dict(zip(read, list(model.indicator_names) + ([weights] if weights else []),
                      strict=True))
    return read, rename


def _reader(model: Model, frame: pd.DataFrame, offset: int, codes: Any,
            weights: str | None) -> FrameReader:
    """A checked reader of one part (its columns already renamed to indicators)."""
    J = len(model.indicator_names)
    w = None
    if weights is not None:
        w = _checked_weights(frame[weights], weights, offset)
    return FrameReader(frame, model, list(range(J)), codes, w, offset=offset)


def _checked_weights(column: pd.Series, name: str, offset: int) -> FloatArray:
    from .data import _row_text, _to_numeric

    w = _to_numeric(column, name, offset).to_numpy(dtype=float)
    bad = ~(np.isfinite(w) & (w >= 0))
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        what = "is missing" if np.isnan(w[pos]) else ("is negative" if w[pos] < 0
                                                      else "is infinite")
        raise DataError(f"Weight column {name!r} {what} at "
                        f"{_row_text(column.index, pos, offset)}; case weights must be finite "
                        "and non-negative.")
    return w


def _prepare_parquet(model: Model, source: ParquetSource, columns: Any, policy: MissingPolicy,
                     codes: Any, weights: str | None, min_rows: int | None) -> PreparedData:
    read, rename = _layout(model, source.columns, columns, weights)
    rows = max(1024, CHUNK_CELLS // len(read))
    J = len(model.indicator_names)

    def chunks() -> Iterator[Chunk]:
        offset = 0
        for batch in source.batches(read, rows):
            batch = batch.set_axis([rename[c] for c in batch.columns], axis=1)
            batch.index = pd.RangeIndex(offset, offset + len(batch))
            yield from _reader(model, batch, offset, codes, weights).chunks()
            offset += len(batch)

    def scanner(fill: FloatArray | None, keep: bool) -> Scan:
        return scan_chunks(chunks(), J, policy, fill=fill, keep=keep)

    return finish(model, scanner, policy, weights is not None, min_rows, index=None,
                  keep=False, source=f"Parquet {str(source.path)!r}")


def _scan_partition(part: pd.DataFrame, model: Model, rename: dict[str, str], codes: Any,
                    weights: str | None, policy: MissingPolicy,
                    fill: FloatArray | None) -> Scan:
    """The :class:`Scan` of one Dask partition (runs on a worker; reads the partition's
    columns in place, slice by slice, without copying it)."""
    where = {c: p for p, c in enumerate(part.columns.tolist())}
    data_columns = list(rename)
    positions = [where[c] for c in data_columns[:len(model.indicator_names)]]
    w = None
    if weights is not None:
        w = _checked_weights(part.iloc[:, where[data_columns[-1]]], weights, 0)
    reader = FrameReader(part, model, positions, codes, w)
    return scan_chunks(reader.chunks(), len(model.indicator_names), policy, fill=fill)


def _scan_series(part: pd.DataFrame, *args: Any) -> pd.Series:
    """:func:`_scan_partition` as a one-element Series (what ``map_partitions`` returns)."""
    return pd.Series([_scan_partition(part, *args)], dtype=object)


def _prepare_dask(model: Model, ddf: Any, columns: Any, policy: MissingPolicy, codes: Any,
                  weights: str | None, min_rows: int | None) -> PreparedData:
    read, rename = _layout(model, [str(c) for c in ddf.columns], columns, weights)
    projected = ddf[read]  # column projection (pushed into read_parquet)

    def scanner(fill: FloatArray | None, keep: bool) -> Scan:
        # One task per partition reads it and summarises it (map_partitions fuses the two),
        # so a worker holds one partition at a time and sends back only its Scan.
        scans = projected.map_partitions(
            _scan_series, model, rename, codes, weights, policy, fill,
            meta=pd.Series(dtype=object)).compute()
        total = Scan.empty(len(model.indicator_names))
        for part_scan in scans:
            total.merge(part_scan)
        return total

    def load() -> Rows:
        frame = ddf[read].compute()
        frame = frame.set_axis([rename[c] for c in frame.columns], axis=1)
        with warnings.catch_warnings():  # reported when the moments were computed
            warnings.simplefilter("ignore", DataWarning)
            local = prepare_data(model, frame, missing=policy, missing_codes=codes,
                                 weights=weights, min_rows=min_rows)
        return local.rows

    return finish(model, scanner, policy, weights is not None, min_rows, index=None,
                  keep=False, source="Dask DataFrame", load=load)
