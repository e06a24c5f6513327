"""Reading CSV survey files: separator sniffing, encoding and header checks.

:func:`csisem.data.read_data` sends other file types to :mod:`csisem.io`.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path as FilePath

import pandas as pd

from .errors import DataError
from .io import existing_file

__all__ = ["read_csv"]

SEPARATORS = (",", ";", "\t", "|")


def read_csv(path: str | FilePath) -> pd.DataFrame:
    """Read a CSV file (.csv, .tsv, .txt or no extension).

    The file must be UTF-8 text (a byte-order mark is allowed) with a header row. The
    separator is the one of comma, semicolon, tab or bar that splits the header into the most
    fields (comma on a tie). Numbers use a decimal point.

    Raises
    ------
    DataError
        If the file does not exist, is a directory, is empty, is not UTF-8 text, is not a
        readable CSV file or has duplicated column names.
    """
    path = FilePath(path)
    shown = repr(str(path))
    existing_file(path, shown)
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
