"""Every result table in one Excel workbook, a sheet per table (as SmartPLS and cSEM export).

The first sheet, README, holds the model, the settings and what each sheet contains. Square
tables (HTMT, cross-loadings, ...) keep their row labels in the first column; the others are
the tidy tables of :class:`~csisem.PLSResult` as they are.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from pathlib import Path as FilePath
from typing import Any

import pandas as pd

from ..errors import CSIError, OptionError
from ..io import MissingDependencyError
from ..results import PLSResult
from .document import default_target, header_items, indicator_summary

__all__ = ["Sheet", "require_openpyxl", "result_sheets", "sheet_name", "write_excel"]

SHEET_NAME_MAX = 31                       # Excel's limit
_UNSAFE = re.compile(r"[\[\]:*?/\\']")    # characters Excel refuses in a sheet name


@dataclass(frozen=True)
class Sheet:
    """One sheet: its name, the table, whether the row labels are written, a description."""

    name: str
    table: pd.DataFrame
    index: bool
    description: str


def sheet_name(name: str, used: set[str]) -> str:
    """``name`` made acceptable to Excel (no ``[]:*?/\\'``, at most 31 characters) and unique
    among ``used`` (compared case-insensitively, as Excel does); adds it to ``used``."""
    base = _UNSAFE.sub("_", name).strip() or "sheet"
    candidate, k = base[:SHEET_NAME_MAX], 1
    while candidate.lower() in used:
        k += 1
        suffix = f"_{k}"
        candidate = base[:SHEET_NAME_MAX - len(suffix)] + suffix
    used.add(candidate.lower())
    return candidate


def result_sheets(result: PLSResult, *, target: str | None = None
                  ) -> tuple[list[Sheet], dict[str, str]]:
    """The sheets of :func:`write_excel` (README excluded) and the README's items.

    Tables that cannot be computed (indices refused for a negative weight, Q² when 7 divides
    the sample size, ...) are left out and the reason goes into the README items.
    """
    if not isinstance(result, PLSResult):
        raise OptionError(f"The Excel export needs a PLS result (method='pls' or 'plsc'); got "
                          f"{type(result).__name__}.")
    m = result.model
    readme = header_items(result)
    readme["GoF (Tenenhaus et al. 2004; not a test of fit)"] = f"{result.gof:.6f}"
    sheets: list[tuple[str, pd.DataFrame, bool, str]] = [
        ("constructs", pd.DataFrame(
            [(c.name, c.label, c.mode.value, len(c.indicators), c.description)
             for c in m.constructs],
            columns=["construct", "label", "mode", "indicators", "description"]), False,
         "constructs of the model"),
        ("data_summary", indicator_summary(result), False,
         "indicator mean, sd, min and max of the rows used"),
        ("paths", result.paths, False, "path coefficients"),
        ("r_squared", pd.DataFrame({"construct": result.r_squared.index,
                                    "r_squared": result.r_squared.to_numpy(),
                                    "adj_r_squared": result.adj_r_squared.to_numpy()}), False,
         "R² and adjusted R² of the endogenous constructs"),
        ("effects", result.effects, False, "direct, indirect and total effects"),
        ("mediated_effects", result.mediated_effects, False, "specific indirect effects"),
        ("f_squared", result.f_squared, False, "Cohen's f² per path"),
        ("inner_vif", result.inner_vif, False, "collinearity of each construct's predictors"),
        ("loadings", result.loadings, False, "outer loadings"),
        ("weights", result.weights, False, "outer weights"),
        ("indicator_reliability", result.indicator_reliability, False, "squared loadings"),
        ("cross_loadings", result.cross_loadings, True, "indicator x construct correlations"),
        ("outer_vif", result.outer_vif, False, "collinearity of indicators within each block"),
        ("quality", result.quality, False, "alpha, rho_a, rho_c, AVE per construct"),
        ("htmt", result.htmt, True, "heterotrait-monotrait ratios"),
        ("htmt2", result.htmt2, True, "HTMT with geometric means"),
        ("fornell_larcker", result.fornell_larcker, True, "Fornell-Larcker criterion"),
        ("construct_correlations", result.construct_correlations, True,
         "construct correlations"),
        ("fit", result.fit, True, "SRMR, d_ULS, d_G of the saturated and estimated model"),
    ]
    try:
        sheets.append(("q_squared", result.q_squared(7), False,
                       "Stone-Geisser Q² (blindfolding, omission distance 7)"))
    except CSIError as exc:
        readme["Q²"] = f"not computed: {exc}"
    if m.scale is not None:
        try:
            sheets += [("index", result.index, False, "0-100 index per construct"),
                       ("impacts", result.impacts, False,
                        "index change for a 5-point rise in each driver")]
            ipma_target = target or default_target(result)
            ipma = result.ipma(ipma_target)
            readme["IPMA target"] = ipma_target
            sheets += [("ipma_constructs", ipma.constructs, False,
                        f"importance-performance map of {ipma_target}: constructs"),
                       ("ipma_indicators", ipma.indicators, False,
                        f"importance-performance map of {ipma_target}: indicators")]
            if result.data is not None:
                sheets.append(("index_scores", result.index_scores, True,
                               "each respondent's 0-100 index per construct"))
        except CSIError as exc:
            readme["Indices"] = f"not computed: {exc}"
    sheets.append(("construct_scores", result.scores, True,
                   "standardised construct scores per respondent"))
    if result.bootstrap is not None:
        sheets += [(f"boot_{name}", frame, False, f"bootstrap summary: {name}")
                   for name, frame in result.bootstrap.tables.items()]
    used = {"readme"}
    out = [Sheet(sheet_name(n, used), t, i, d) for n, t, i, d in sheets]
    return out, readme


def require_openpyxl() -> None:
    """Raise :class:`MissingDependencyError` naming the ``excel`` extra if openpyxl is
    missing (the CLI checks this before a long bootstrap)."""
    try:
        importlib.import_module("openpyxl")
    except ImportError as exc:
        raise MissingDependencyError(
            "Writing Excel workbooks needs the optional package 'openpyxl', which is not "
            "installed: pip install 'csisem[excel]' (or pip install openpyxl).") from exc


def write_excel(result: PLSResult, path: str | FilePath, *, target: str | None = None
                ) -> FilePath:
    """Write every result table to its own sheet of the workbook ``path`` (.xlsx).

    Parameters
    ----------
    result : PLSResult
        A PLS or PLSc fit.
    path : str or Path
        The workbook to write (replaced if it exists).
    target : str, optional
        The construct of the importance-performance map (default: as :func:`html_report`).

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    MissingDependencyError
        If openpyxl (the ``excel`` extra) is not installed.
    OptionError
        If ``result`` is not a PLS result, ``target`` is invalid, or the file cannot be
        written.
    """
    require_openpyxl()
    path = FilePath(path)
    if target is not None and target not in result.model.construct_names:
        raise OptionError(f"target={target!r} is not a construct; constructs: "
                          f"{', '.join(result.model.construct_names)}.")
    sheets, readme = result_sheets(result, target=target)
    contents = pd.DataFrame(
        [*readme.items(), ("", ""), ("Sheet", "Contents"),
         *((s.name, s.description) for s in sheets)], columns=["item", "value"])
    try:
        with pd.ExcelWriter(path, engine="openpyxl") as writer:
            contents.to_excel(writer, sheet_name="README", index=False)
            for sheet in sheets:
                sheet.table.to_excel(writer, sheet_name=sheet.name, index=sheet.index)
            _finish(writer.book)
    except OSError as exc:
        raise OptionError(f"Cannot write the workbook {str(path)!r}: "
                          f"{exc.strerror or exc}.") from exc
    return path


def _finish(book: Any) -> None:
    """Keep text as text, freeze the header row and widen the columns to their contents.

    openpyxl stores a string starting with ``=`` as a formula; a label or wording such as
    ``=HYPERLINK(...)`` must stay the literal text the user wrote.
    """
    for ws in book.worksheets:
        widths: dict[str, int] = {}
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    cell.data_type = "s"
                if cell.value is not None:
                    text = f"{cell.value:.4f}" if isinstance(cell.value, float) else str(
                        cell.value)
                    widths[cell.column_letter] = max(widths.get(cell.column_letter, 0),
                                                     len(text))
        for letter, width in widths.items():
            ws.column_dimensions[letter].width = min(max(width + 2, 8), 60)
        ws.freeze_panes = "A2"
