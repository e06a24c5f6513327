"""Helpers shared by the classic measures: data access, column checks, JSON records."""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, OptionError

__all__ = ["as_frame", "check_level", "numeric_column", "plain", "records", "require_columns",
           "z_quantile"]


def as_frame(data: Any) -> pd.DataFrame:
    """A DataFrame from a DataFrame, a bundled data set name (``"mobi"``) or a file path."""
    from ..api import resolve_data

    frame = resolve_data(data)
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"The data= argument must be a pandas DataFrame, a bundled data set "
                        f"name or a data file path, not {type(data).__name__}.")
    return frame


def require_columns(frame: pd.DataFrame, names: Iterable[str], what: str) -> None:
    """Raise a :class:`DataError` naming every column of ``names`` missing from ``frame``."""
    columns = [str(c) for c in frame.columns]
    missing = [n for n in dict.fromkeys(names) if n not in frame.columns]
    if not missing:
        return
    hints = []
    for name in missing[:3]:  # short names (P9, E3) are near many others: no hint
        close = difflib.get_close_matches(name, columns, n=1, cutoff=0.75) \
            if len(name) >= 4 else []
        if close:
            hints.append(f"{close[0]!r} for {name!r}")
    hint = f" (did you mean {', '.join(hints)}?)" if hints else ""
    shown = ", ".join(repr(m) for m in missing[:12])
    more = f" ({len(missing)} in all)" if len(missing) > 12 else ""
    raise DataError(f"{what}: column(s) {shown}{more} not in the data{hint}; "
                    f"{_available(columns)}")


def _available(columns: list[str]) -> str:
    shown = ", ".join(columns[:15]) + (f", ... ({len(columns)} in all)"
                                       if len(columns) > 15 else "")
    return f"available: {shown}." if columns else "the data have no columns."


def numeric_column(frame: pd.DataFrame, name: str) -> pd.Series:
    """Column ``name`` as floats (missing cells NaN); a :class:`DataError` names a bad cell."""
    column = frame[name]
    if pd.api.types.is_bool_dtype(column) or pd.api.types.is_numeric_dtype(column):
        return column.astype(float)
    converted = pd.to_numeric(column, errors="coerce")
    bad = converted.isna().to_numpy() & column.notna().to_numpy()
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        row, value = plain(column.index[pos]), plain(column.iloc[pos])
        raise DataError(f"Column {name!r} is not numeric: row {row!r} holds {value!r} "
                        f"({int(bad.sum())} non-numeric value(s) in all).")
    return converted.astype(float)


def check_level(ci_level: float) -> float:
    """``ci_level`` as a float in (0, 1), or an :class:`OptionError`."""
    try:
        level = float(ci_level)
    except (TypeError, ValueError):
        raise OptionError(f"ci_level={ci_level!r} must be a number between 0 and 1.") from None
    if not 0.0 < level < 1.0:
        raise OptionError(f"ci_level={ci_level!r} must be between 0 and 1 (e.g. 0.95).")
    return level


def z_quantile(ci_level: float) -> float:
    """The two-sided standard normal quantile of ``ci_level`` (1.960 for 0.95)."""
    return NormalDist().inv_cdf(0.5 + check_level(ci_level) / 2.0)


def plain(value: Any) -> Any:
    """A JSON-safe Python scalar (NaN -> None)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is pd.NA:
        return None
    return value


def records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """``table`` as a list of JSON-safe row dicts."""
    return [{str(k): plain(v) for k, v in row.items()}
            for row in table.to_dict(orient="records")]
