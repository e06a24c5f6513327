"""Reading survey data files by extension: CSV, Excel, SPSS, Stata and Parquet.

=====================  ===================  =========================================
extension              format               needs
=====================  ===================  =========================================
.csv .tsv .txt (none)  CSV text             nothing (see :func:`csisem.csvfile.read_csv`)
.xlsx .xlsm            Excel workbook       ``pip install 'csisem[excel]'`` (openpyxl)
.sav .zsav             SPSS                 ``pip install 'csisem[spss]'`` (pyreadstat)
.dta                   Stata                nothing (pandas reads it)
.parquet               Parquet              ``pip install 'csisem[parquet]'`` (pyarrow)
=====================  ===================  =========================================

Whatever the format, values keep their codes: nothing is recoded from labels. What a format
says *about* the data is kept as metadata in ``DataFrame.attrs``:

- ``"source"`` (the path) and ``"format"`` (``"csv"``, ``"excel"``, ``"spss"``, ``"stata"``,
  ``"parquet"``), for every format;
- ``"value_labels"``, ``{column: {code: label}}``, and ``"column_labels"``,
  ``{column: label}`` (variable labels), for SPSS and Stata files;
- for SPSS, ``"missing_ranges"``, ``{column: [(lo, hi), ...]}``, the user-defined missing
  values (a single code ``c`` is ``(c, c)``), and ``"n_user_missing"``, ``{column: count}``,
  how many cells held one of them; ``"sheet"`` for Excel, the sheet read.

SPSS user-defined missing values (e.g. 99 = don't know, declared missing in SPSS) become
missing cells, as SPSS itself treats them; so do SPSS system-missing values, Stata's missing
values (``.``, ``.a`` ... ``.z``), empty Excel cells and Parquet nulls. Codes that are *not*
declared missing in the file (any CSV or Excel code) are made missing with ``missing_codes=``
(CLI ``--missing-codes 98,99``).

Every problem is a :class:`~csisem.errors.DataError` naming the file: a missing file, a
directory, an empty file, a file that is not what its extension says (the reader's own message
is quoted, with a guess at what the file really is), an unsupported extension (the supported
ones are listed), duplicated column names, no data rows. A missing optional package is a
:class:`MissingDependencyError` (a ``DataError`` and an ``ImportError``) naming the extra to
install.
"""

from __future__ import annotations

import importlib
import zipfile
from collections.abc import Callable
from pathlib import Path as FilePath
from typing import Any

import numpy as np
import pandas as pd

from .errors import DataError, OptionError

__all__ = ["FORMATS", "MissingDependencyError", "open_parquet", "read_data"]


class MissingDependencyError(DataError, ImportError):
    """Reading a file type needs an optional package that is not installed."""


#: Extension -> (format name shown in messages, extra that installs its reader or None).
FORMATS: dict[str, tuple[str, str | None]] = {
    ".csv": ("CSV", None),
    ".tsv": ("CSV", None),
    ".txt": ("CSV", None),
    "": ("CSV", None),
    ".xlsx": ("Excel", "excel"),
    ".xlsm": ("Excel", "excel"),
    ".sav": ("SPSS", "spss"),
    ".zsav": ("SPSS", "spss"),
    ".dta": ("Stata", None),
    ".parquet": ("Parquet", "parquet"),
}

_SUPPORTED = ("CSV files (.csv, .tsv or .txt), Excel workbooks (.xlsx, .xlsm), SPSS files "
              "(.sav, .zsav), Stata files (.dta) and Parquet files (.parquet)")
_CSV_SUFFIXES = frozenset(s for s, (kind, _) in FORMATS.items() if kind == "CSV")


def read_data(path: str | FilePath, *, sheet: str | int | None = None) -> pd.DataFrame:
    """Read a data file, choosing the reader by the file's extension.

    Parameters
    ----------
    path : the file; its extension (case-insensitive) chooses the format, see the module
        docstring.
    sheet : for Excel workbooks, the sheet to read: its name, or its 0-based position
        (default: the first sheet).

    Returns
    -------
    pandas.DataFrame
        One column per variable, values as stored (codes, not labels), with the metadata
        described in the module docstring in ``attrs``.

    Raises
    ------
    DataError
        If the file does not exist, is a directory, is empty, is not a valid file of the type
        its extension says, has an unsupported extension, duplicated column names or no data
        rows; :class:`MissingDependencyError` (a ``DataError``) if the optional package that
        reads its type is not installed.
    OptionError
        If ``sheet`` is given for a file that is not an Excel workbook.
    """
    path = FilePath(path)
    shown = repr(str(path))
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise DataError(
            f"Cannot read {shown}: unsupported file type {suffix!r}; csisem reads {_SUPPORTED}. "
            "Export it as CSV (or one of these), or read it with pandas and pass the DataFrame.")
    kind, _ = FORMATS[suffix]
    if sheet is not None and kind != "Excel":
        raise OptionError(f"sheet={sheet!r} applies only to Excel workbooks (.xlsx, .xlsm), "
                          f"and {shown} is a {kind} file.")
    if suffix in _CSV_SUFFIXES:
        from .csvfile import read_csv

        return read_csv(path)
    nonempty_file(path, shown)
    frame = _READERS[kind](path, shown, sheet)
    if frame.shape[1] == 0:
        raise DataError(f"Data file {shown} has no columns.")
    if frame.shape[0] == 0:
        raise DataError(f"Data file {shown} has a header but no data rows."
                        if kind == "Excel" else f"Data file {shown} has no data rows.")
    frame.attrs["source"] = str(path)
    return frame


# ---- helpers ------------------------------------------------------------------------------
def _require(module: str, kind: str, extra: str, shown: str) -> Any:
    """Import an optional reader package, or say which extra installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(
            f"Reading {kind} files such as {shown} needs the optional package {module!r}, "
            f"which is not installed: pip install 'csisem[{extra}]' (or pip install "
            f"{module}).") from exc


def _invalid(path: FilePath, shown: str, kind: str, exc: BaseException) -> DataError:
    """'x.xlsx' is not a valid Excel file: <reader's message>; <what it looks like>."""
    detail = " ".join(str(exc).split()).strip().strip("\"'").rstrip(".") or type(exc).__name__
    actual = _sniff(path)
    hint = ""
    if actual is not None and actual != kind:
        hint = f" It looks like {_LOOKS_LIKE[actual]}."
    return DataError(f"Data file {shown} is not a valid {kind} file: {detail}.{hint}")


_LOOKS_LIKE = {
    "CSV": "a text (CSV) file: give it the .csv extension",
    "Excel": "an Excel workbook: give it the .xlsx extension",
    "SPSS": "an SPSS file: give it the .sav extension",
    "Stata": "a Stata file: give it the .dta extension",
    "Parquet": "a Parquet file: give it the .parquet extension",
    "ZIP": "a ZIP archive, but not an Excel workbook",
    "XLS": "an old-style Excel workbook (.xls), which csisem does not read: save it as .xlsx",
}


def _sniff(path: FilePath) -> str | None:
    """What a file looks like from its first bytes (None: cannot tell)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(4096)
    except OSError:
        return None
    if head.startswith(b"PK\x03\x04"):
        return "Excel" if b"xl/" in head or b"[Content_Types].xml" in head else "ZIP"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "XLS"
    if head.startswith((b"$FL2", b"$FL3")):
        return "SPSS"
    if head.startswith(b"PAR1"):
        return "Parquet"
    if head.startswith(b"<stata_dta>") or (len(head) > 1 and 102 <= head[0] <= 115
                                            and head[1] in (1, 2)):
        return "Stata"
    if b"\x00" not in head:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start < len(head) - 4:  # not just a character cut at the 4096th byte
                return None
        return "CSV"
    return None


def _plain(value: Any) -> Any:
    """A NumPy scalar as the Python number or string it holds (metadata stays JSON-able)."""
    return value.item() if isinstance(value, np.generic) else value


def _check_header(names: list[Any], shown: str, where: Callable[[int], str]) -> list[str]:
    """Column names as strings; duplicated ones are an error naming their positions."""
    text = [f"Unnamed: {k}" if pd.isna(n) else str(n).strip() for k, n in enumerate(names)]
    duplicated = sorted({n for n in text if text.count(n) > 1})
    if duplicated:
        details = "; ".join(
            f"{n!r} (columns {', '.join(where(k) for k, x in enumerate(text) if x == n)})"
            for n in duplicated)
        raise DataError(f"Data file {shown} has duplicated column names: {details}. Column "
                        "names must be unique.")
    return text


# ---- readers ------------------------------------------------------------------------------
def _read_excel(path: FilePath, shown: str, sheet: str | int | None) -> pd.DataFrame:
    _require("openpyxl", "Excel", "excel", shown)
    from openpyxl.utils import get_column_letter
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        with pd.ExcelFile(path, engine="openpyxl") as book:
            names = list(book.sheet_names)
            if sheet is None:
                sheet = 0
            if isinstance(sheet, bool) or not isinstance(sheet, str | int):
                raise OptionError(f"sheet= must be a sheet name or a 0-based position, not "
                                  f"{type(sheet).__name__}.")
            listing = ", ".join(repr(n) for n in names)
            if isinstance(sheet, str) and sheet not in names:
                raise DataError(f"Data file {shown} has no sheet named {sheet!r}; its sheets "
                                f"are {listing}.")
            if isinstance(sheet, int) and not -len(names) <= sheet < len(names):
                raise DataError(f"Data file {shown} has no sheet at position {sheet} (0-based); "
                                f"it has {len(names)} sheet(s): {listing}.")
            name = sheet if isinstance(sheet, str) else names[sheet]
            # header=None: pandas would rename a repeated column 'CUEX1' to 'CUEX1.1' silently
            raw = pd.read_excel(book, sheet_name=name, header=None)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError,
            EOFError) as exc:
        if isinstance(exc, DataError | OptionError):
            raise
        raise _invalid(path, shown, "Excel", exc) from exc
    where = f"sheet {name!r} of data file {shown}"
    raw = raw.dropna(how="all").dropna(axis=1, how="all")
    if raw.empty:
        raise DataError(f"The {where} is empty." if len(names) == 1 else
                        f"The {where} is empty (the workbook's sheets are {listing}; choose "
                        "one with sheet=).")
    columns = _check_header(raw.iloc[0].tolist(), shown,
                            lambda k: get_column_letter(int(raw.columns[k]) + 1))
    frame = raw.iloc[1:].set_axis(columns, axis=1).reset_index(drop=True).infer_objects()
    frame.attrs.update(format="excel", sheet=name)
    return frame


def _read_spss(path: FilePath, shown: str, sheet: object) -> pd.DataFrame:
    pyreadstat = _require("pyreadstat", "SPSS", "spss", shown)
    try:
        # user_missing=True keeps the codes *and* reports the ranges (with False, pyreadstat
        # makes them NaN but leaves meta.missing_ranges empty); they are made missing below
        frame, meta = pyreadstat.read_sav(str(path), user_missing=True)
    except (pyreadstat.ReadstatError, pyreadstat.PyreadstatError, OSError, ValueError) as exc:
        raise _invalid(path, shown, "SPSS", exc) from exc
    ranges: dict[str, list[tuple[Any, Any]]] = {}
    counts: dict[str, int] = {}
    for column, spec in (meta.missing_ranges or {}).items():
        if column not in frame.columns or not spec:
            continue
        pairs = [(_plain(r["lo"]), _plain(r["hi"])) for r in spec]
        ranges[column] = pairs
        values = frame[column]
        hit = np.zeros(len(values), dtype=bool)
        for lo, hi in pairs:
            if pd.api.types.is_numeric_dtype(values):
                hit |= ((values >= lo) & (values <= hi)).to_numpy()
            else:  # string variables declare single values
                hit |= (values == lo).to_numpy()
        if hit.any():
            counts[column] = int(hit.sum())
            frame[column] = values.mask(hit)
    frame.attrs.update(
        format="spss",
        value_labels={col: {_plain(k): v for k, v in labels.items()}
                      for col, labels in (meta.variable_value_labels or {}).items()},
        column_labels={col: label for col, label in (meta.column_names_to_labels or {}).items()
                       if label},
        missing_ranges=ranges, n_user_missing=counts)
    return frame


def _read_stata(path: FilePath, shown: str, sheet: object) -> pd.DataFrame:
    try:
        with pd.io.stata.StataReader(path) as reader:
            # codes, not categoricals of labels; Stata's missing values (. .a-.z) become NaN
            frame = reader.read(convert_categoricals=False, convert_missing=False)
            label_sets = reader.value_labels()
            variable_labels = reader.variable_labels()
            # which label set each variable uses (pandas has no public accessor for it)
            used = list(getattr(reader, "_lbllist", None) or [])
    except (ValueError, OSError, EOFError, KeyError, IndexError) as exc:
        raise _invalid(path, shown, "Stata", exc) from exc
    if len(used) != frame.shape[1]:  # unknown layout: label sets named as their variable
        used = list(frame.columns)
    value_labels = {
        str(col): {_plain(k): v for k, v in label_sets[name].items()}
        for col, name in zip(frame.columns, used, strict=True) if name in label_sets}
    frame.attrs.update(format="stata", value_labels=value_labels,
                       column_labels={c: lab for c, lab in variable_labels.items() if lab})
    return frame


def _read_parquet(path: FilePath, shown: str, sheet: object) -> pd.DataFrame:
    _require("pyarrow", "Parquet", "parquet", shown)
    import pyarrow

    try:
        frame = pd.read_parquet(path, engine="pyarrow")
    except (pyarrow.ArrowException, ValueError, OSError) as exc:
        raise _invalid(path, shown, "Parquet", exc) from exc
    frame.attrs.update(format="parquet")
    return frame


def existing_file(path: FilePath, shown: str) -> None:
    """Raise :class:`DataError` unless ``path`` (named ``shown`` in messages) is an
    existing file, not a directory."""
    if not path.exists():
        raise DataError(f"Data file {shown} does not exist.")
    if path.is_dir():
        raise DataError(f"Data file {shown} is a directory, not a file.")


def nonempty_file(path: FilePath, shown: str) -> None:
    """:func:`existing_file`, and not empty (:class:`DataError` otherwise)."""
    existing_file(path, shown)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise DataError(f"Cannot read data file {shown}: {exc.strerror or exc}.") from exc
    if size == 0:
        raise DataError(f"Data file {shown} is empty.")


def open_parquet(path: str | FilePath) -> Any:
    """A ``pyarrow.parquet.ParquetFile`` for reading ``path`` in row groups, after the checks
    of :func:`read_data` (exists, is a file, not empty, pyarrow installed, valid Parquet)."""
    path = FilePath(path)
    shown = repr(str(path))
    nonempty_file(path, shown)
    _require("pyarrow", "Parquet", "parquet", shown)
    import pyarrow
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(path)
    except (pyarrow.ArrowException, ValueError, OSError) as exc:
        raise _invalid(path, shown, "Parquet", exc) from exc


_READERS: dict[str, Callable[[FilePath, str, Any], pd.DataFrame]] = {
    "Excel": _read_excel, "SPSS": _read_spss, "Stata": _read_stata, "Parquet": _read_parquet,
}
