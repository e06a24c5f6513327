"""Figures other than the path diagram: bootstrap distributions, heatmaps, index dot plots
and the importance-performance map (drawn by :meth:`csisem.indices.IPMAResult.plot`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Colormap, ListedColormap, Normalize, to_rgba
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from ..errors import OptionError
from ..options import CIMethod, coerce
from ._common import ACCENT, ALERT, WARN, escape, new_figure, stars

__all__ = ["bootstrap_histograms", "heatmap", "htmt_heatmap", "index_plot", "ipma_plot",
           "loadings_heatmap", "row_labels"]

STAT_COLUMNS = frozenset({"estimate", "boot_mean", "std_error", "t_value", "p_value",
                          "ci_lower", "ci_upper", "bca_lower", "bca_upper"})
THRESHOLD_COLOURS = (WARN, ALERT)
THRESHOLD_TINTS = ("#fdd9a0", "#f5a99f")  # cell colours above the thresholds


def row_labels(table: pd.DataFrame) -> list[str]:
    """A name for each row of a bootstrap table: ``"IMAG -> CUEX"`` for paths and effects,
    ``"IMAG -> IMAG1"`` for loadings and weights, ``"IMAG ~ CUEX"`` for HTMT, the construct
    for R² and indices."""
    keys = [c for c in table.columns if c not in STAT_COLUMNS]
    sep = " ~ " if keys == ["construct_1", "construct_2"] else " -> "
    return [sep.join(str(v) for v in row) for row in table[keys].itertuples(index=False)]


def bootstrap_histograms(result: Any, table: str = "paths", which: Sequence[str] | None = None,
                         *, bins: int = 30, ci: CIMethod | str = CIMethod.PERCENTILE,
                         ncols: int = 4) -> Figure:
    """A grid of histograms of bootstrap draws, one per parameter.

    Parameters
    ----------
    result : PLSResult
        A result fitted with ``bootstrap=`` resamples.
    table : str
        Which family: a key of ``result.bootstrap.tables`` (``"paths"``, ``"loadings"``,
        ``"weights"``, ``"total_effects"``, ``"r_squared"``, ``"htmt"``, ``"index"``, ...).
    which : sequence of str, optional
        Parameters to show, named as by :func:`row_labels` (``"IMAG -> CUEX"``); all by
        default.
    bins : int
        Histogram bins.
    ci : {"percentile", "bca"}
        Which interval the dashed lines mark; the solid line is the estimate.
    ncols : int
        Histograms per row.

    Raises
    ------
    OptionError
        If the result was not bootstrapped, ``table`` is not bootstrapped, or a name in
        ``which`` is unknown.
    """
    method = coerce(CIMethod, ci, arg="ci")
    boot = getattr(result, "bootstrap", None)
    if boot is None:
        raise OptionError("The result has no bootstrap draws; fit with bootstrap= (e.g. "
                          "csisem.fit(..., bootstrap=1000)) to plot their distributions.")
    if table not in boot.tables:
        raise OptionError(f"table={table!r} was not bootstrapped; choose one of "
                          f"{', '.join(repr(t) for t in boot.tables)}.")
    summary = boot.tables[table]
    draws = np.asarray(boot.draws[table])
    labels = row_labels(summary)
    if which is None:
        chosen = list(range(len(labels)))
    else:
        if isinstance(which, str):
            which = [which]
        unknown = [w for w in which if w not in labels]
        if unknown:
            raise OptionError(f"which= names unknown {table} parameter(s) "
                              f"{', '.join(repr(u) for u in unknown)}; available: "
                              f"{', '.join(labels)}.")
        chosen = [labels.index(w) for w in which]
    if not chosen:
        raise OptionError("which= is empty; name at least one parameter.")
    lo_col, hi_col = ("ci_lower", "ci_upper") if method is CIMethod.PERCENTILE \
        else ("bca_lower", "bca_upper")
    ncols = max(1, min(ncols, len(chosen)))
    nrows = math.ceil(len(chosen) / ncols)
    fig = Figure(figsize=(2.9 * ncols, 2.2 * nrows + 0.4), layout="constrained")
    for k, j in enumerate(chosen):
        ax = fig.add_subplot(nrows, ncols, k + 1)
        row = summary.iloc[j]
        ax.hist(draws[:, j], bins=bins, color=ACCENT, alpha=0.7)
        ax.axvline(float(row["estimate"]), color="black", linewidth=1.2)
        for col in (lo_col, hi_col):
            ax.axvline(float(row[col]), color=ALERT, linestyle="--", linewidth=1.0)
        mark = stars(float(row["p_value"])) if "p_value" in row else ""
        ax.set_title(escape(f"{labels[j]}  {float(row['estimate']):.3f}{mark}"), fontsize=9)
        ax.tick_params(labelsize=7)
        ax.set_yticks([])
    fig.suptitle(f"Bootstrap distributions: {table} ({boot.n_valid} resamples); solid: "
                 f"estimate, dashed: {boot.ci_level:.0%} {method.value} interval", fontsize=10)
    return fig


def _symmetric(frame: pd.DataFrame) -> bool:
    if frame.shape[0] != frame.shape[1] or list(frame.index) != list(frame.columns):
        return False
    values = frame.to_numpy(dtype=float)
    return bool(np.allclose(values, values.T, equal_nan=True))


def heatmap(frame: pd.DataFrame, *, title: str | None = None, thresholds: Sequence[float] = (),
            decimals: int = 2, cmap: str | Colormap = "Blues", vmin: float | None = None,
            vmax: float | None = None, lower: bool | None = None,
            highlight: pd.DataFrame | None = None, ax: Axes | None = None) -> Figure:
    """A matrix as a heatmap with the value written in every cell.

    Parameters
    ----------
    frame : DataFrame
        Numbers to show (rows x columns); NaN cells stay blank.
    title : str, optional
        Axes title.
    thresholds : sequence of float
        Cells at or above the first threshold are orange and framed, with bold text; at or
        above the second, red (HTMT: ``(0.85, 0.90)``). The colour bar marks them.
    decimals : int
        Decimals written in the cells.
    cmap, vmin, vmax
        Colour map and its range (default: the range of the values).
    lower : bool, optional
        Show only the lower triangle; by default when ``frame`` is a symmetric matrix.
    highlight : DataFrame of bool, optional
        Cells to frame in blue (e.g. each indicator's own construct among cross-loadings).
    ax : matplotlib Axes, optional
        Draw into this axes instead of a new figure.
    """
    values = frame.to_numpy(dtype=float).copy()
    if lower is None:
        lower = _symmetric(frame)
    if lower:
        values[np.triu_indices_from(values)] = np.nan
        values = values[1:, :-1]
        rows, cols = list(frame.index)[1:], list(frame.columns)[:-1]
    else:
        rows, cols = list(frame.index), list(frame.columns)
    n_rows, n_cols = values.shape
    fig, ax = new_figure(ax, (1.2 + 0.62 * n_cols + 1.0, 0.9 + 0.36 * n_rows))
    finite = values[np.isfinite(values)]
    lo = vmin if vmin is not None else (float(finite.min()) if finite.size else 0.0)
    hi = vmax if vmax is not None else (float(finite.max()) if finite.size else 1.0)
    norm = Normalize(vmin=lo, vmax=hi if hi > lo else lo + 1.0)
    cm = colormaps[cmap] if isinstance(cmap, str) else cmap
    levels = sorted(thresholds)
    rgba = cm(norm(np.nan_to_num(values)))
    rgba[~np.isfinite(values)] = (0.0, 0.0, 0.0, 0.0)
    for t, tint in zip(levels, THRESHOLD_TINTS, strict=False):
        rgba[np.isfinite(values) & (values >= t)] = to_rgba(tint)
    ax.imshow(rgba, aspect="auto")
    bar = fig.colorbar(ScalarMappable(norm=norm, cmap=cm), ax=ax, shrink=0.85)
    bar.ax.tick_params(labelsize=7)
    for t, colour in zip(levels, THRESHOLD_COLOURS, strict=False):
        if norm.vmin <= t <= norm.vmax:
            bar.ax.axhline(t, color=colour, linewidth=2)
    for i in range(n_rows):
        for j in range(n_cols):
            v = values[i, j]
            if not np.isfinite(v):
                continue
            passed = [c for t, c in zip(levels, THRESHOLD_COLOURS, strict=False) if v >= t]
            r, g, b, _ = rgba[i, j]
            dark = 0.299 * r + 0.587 * g + 0.114 * b < 0.5
            ax.text(j, i, f"{v:.{decimals}f}", ha="center", va="center", fontsize=7.5,
                    color="white" if dark else "black",
                    fontweight="bold" if passed else "normal")
            frame_colour = passed[-1] if passed else None
            if frame_colour is None and highlight is not None and bool(
                    highlight.loc[rows[i], cols[j]]):
                frame_colour = ACCENT
            if frame_colour is not None:
                ax.add_patch(Rectangle((j - 0.46, i - 0.46), 0.92, 0.92, fill=False,
                                       edgecolor=frame_colour, linewidth=1.8))
    ax.set_xticks(range(n_cols), [escape(c) for c in cols], rotation=45, ha="right",
                  fontsize=8)
    ax.set_yticks(range(n_rows), [escape(r) for r in rows], fontsize=8)
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    if title:
        ax.set_title(escape(title), fontsize=10)
    return fig


def htmt_heatmap(result: Any, *, kind: str = "htmt",
                 thresholds: Sequence[float] = (0.85, 0.90), ax: Axes | None = None) -> Figure:
    """HTMT (``kind="htmt"``) or HTMT2 (``"htmt2"``) of a result, lower triangle, with cells
    above 0.85 framed in orange and above 0.90 in red (Henseler et al. 2015).

    Raises
    ------
    OptionError
        If ``kind`` is neither "htmt" nor "htmt2".
    """
    if kind not in ("htmt", "htmt2"):
        raise OptionError(f"kind={kind!r} is not supported; choose 'htmt' or 'htmt2'.")
    frame = result.htmt if kind == "htmt" else result.htmt2
    marks = " / ".join(f"≥ {t:g} {name}" for t, name in
                       zip(sorted(thresholds), ("orange", "red"), strict=False))
    title = f"{kind.upper()} ({marks})" if marks else kind.upper()
    # Only the lighter half of the blues, so the threshold tints and frames stand out.
    light = ListedColormap(colormaps["Blues"](np.linspace(0.0, 0.55, 256)))
    return heatmap(frame, title=title, thresholds=thresholds, cmap=light, vmin=0.0,
                   vmax=max(1.0, float(np.nanmax(frame.to_numpy(dtype=float)))), ax=ax)


def loadings_heatmap(result: Any, *, ax: Axes | None = None) -> Figure:
    """Loadings and cross-loadings (indicators x constructs), each indicator's own construct
    framed in blue."""
    frame = result.cross_loadings
    own = result.model.construct_of
    mask = pd.DataFrame([[own.get(str(i)) == c for c in frame.columns] for i in frame.index],
                        index=frame.index, columns=frame.columns)
    return heatmap(frame, title="Loadings and cross-loadings (own construct framed)",
                   cmap="RdBu_r", vmin=-1.0, vmax=1.0, lower=False, highlight=mask, ax=ax)


def index_plot(table: pd.DataFrame, group_col: str | None = None, *,
               label_col: str = "construct", title: str | None = None,
               xlabel: str = "Index (0-100)", ax: Axes | None = None) -> Figure:
    """Index estimates as dots with interval bars, one row per construct (or group).

    Parameters
    ----------
    table : DataFrame
        Columns ``estimate`` and, for the bars, ``ci_lower`` and ``ci_upper``, plus
        ``label_col`` (e.g. ``result.index``) and/or ``group_col``.
    group_col : str, optional
        A column of groups (segments, years, ...). With ``label_col`` present too, each
        construct's row shows one dot per group (coloured, with a legend); without it, each
        group is a row.
    label_col : str
        The column naming the rows.
    title, xlabel : str
        Axes title and x label.
    ax : matplotlib Axes, optional
        Draw into this axes instead of a new figure.

    Raises
    ------
    OptionError
        If a needed column is missing.
    """
    needed = ["estimate"] + ([group_col] if group_col else [])
    if group_col is None or label_col in table:
        needed.append(label_col)
    missing = [c for c in needed if c not in table]
    if missing:
        raise OptionError(f"The index table lacks column(s) {', '.join(missing)}; it has "
                          f"{', '.join(map(str, table.columns))}.")
    has_ci = "ci_lower" in table and "ci_upper" in table
    row_col = label_col if label_col in table else str(group_col)
    rows = list(dict.fromkeys(table[row_col]))
    groups: list[Any] = list(dict.fromkeys(table[group_col])) if (
        group_col and row_col != group_col) else [None]
    fig, ax = new_figure(ax, (6.4, 1.0 + 0.42 * len(rows) * max(1.0, len(groups) / 2.5)))
    step = 0.7 / len(groups)
    colours = [ACCENT] if groups == [None] else [f"C{k % 10}" for k in range(len(groups))]
    for k, (group, colour) in enumerate(zip(groups, colours, strict=True)):
        part = table if group is None else table[table[group_col] == group]
        y = np.array([rows.index(v) for v in part[row_col]], dtype=float)
        if len(groups) > 1:
            y += -0.35 + step * (k + 0.5)
        x = part["estimate"].to_numpy(dtype=float)
        if has_ci:
            # Drawn apart from the dot: a percentile interval need not contain the estimate.
            lo = part["ci_lower"].to_numpy(dtype=float)
            hi = part["ci_upper"].to_numpy(dtype=float)
            ax.hlines(y, lo, hi, color=colour, linewidth=1.2, zorder=2)
            ax.plot(np.concatenate([lo, hi]), np.concatenate([y, y]), "|", color=colour,
                    markersize=7, zorder=2)
        ax.plot(x, y, "o", color=colour, markersize=6, zorder=3,
                label="_" if group is None else escape(group))
        if group is None:
            for xi, yi in zip(x, y, strict=True):
                ax.annotate(f"{xi:.1f}", (xi, yi), textcoords="offset points",
                            xytext=(0, 7), ha="center", fontsize=8)
    ax.set_yticks(range(len(rows)), [escape(r) for r in rows])
    ax.set_ylim(len(rows) - 0.5, -0.5)  # first row on top
    ax.set_xlabel(escape(xlabel))
    ax.grid(True, axis="x", alpha=0.3)
    if len(groups) > 1:
        ax.legend(title=escape(group_col), fontsize=8, title_fontsize=8, frameon=False,
                  loc="best")
    if title:
        ax.set_title(escape(title))
    return fig


def ipma_plot(result: Any, target: str, *, level: str = "constructs",
              ax: Axes | None = None) -> Figure:
    """The importance-performance map of ``target``'s drivers (see
    :meth:`csisem.indices.IPMAResult.plot`)."""
    fig: Figure = result.ipma(target).plot(level=level, ax=ax)
    return fig
