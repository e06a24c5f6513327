"""Satisfaction-index outputs: 0-100 index scores, impacts and importance-performance maps.

These are what national CSI reports publish (ACSI: Fornell et al. 1996; EPSI/ECSI), computed
from a PLS fit.

Index (Fornell et al. 1996, p. 10; ACSI methodology): the standardised outer weights of a
construct are unstandardised (divided by the indicator standard deviation) and normalised to
sum to one; applied to the indicator means on the item scale ``[lo, hi]``::

    w~_i = (w_i / sd_i) / sum_j (w_j / sd_j)
    index = 100 * (sum_i w~_i * mean_i - lo) / (hi - lo)

The same weights applied to a respondent's answers give that respondent's index score.
A negative weight makes the weighted mean leave the scale: the index is then refused (or
computed with a warning when asked), never printed silently.

Impact (Fornell et al. 1996; ACSI): the change in a target index when a driver index rises
by 5 points, holding the rest of the model as estimated: ``impact = 5 * T_ts * b_t / b_s``
where ``T`` is the standardised total effect and ``b_k = 100 / ((hi - lo) * sum_j w_j/sd_j)``
is the standard deviation of construct k's index scores (an index score is an affine function
``a_k + b_k Y_k`` of the unit-variance PLS score ``Y_k``).

IPMA (Ringle & Sarstedt 2016, Industrial Management & Data Systems 116(9), 1865-1886):
importance = the total effect on the target per point of the driver's 0-100 index (the impact
divided by 5); performance = the driver's index. At indicator level: importance = the
normalised unstandardised weight times its construct's importance; performance = the
indicator mean rescaled to 0-100.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._typing import FloatArray
from .errors import DataWarning, EstimationError, OptionError
from .estimation.design import PLSDesign
from .summary import Section, Summary, SummaryMixin

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from .results import PLSResult

__all__ = ["IPMAResult", "impacts_table", "index_scores", "index_table", "ipma",
           "normalised_weights"]

IMPACT_STEP = 5.0  # ACSI reports the effect of a 5-point rise in a driver index


def normalised_weights(design: PLSDesign, w: FloatArray, sd: FloatArray
                       ) -> tuple[FloatArray, FloatArray]:
    """Unstandardised weights normalised within each block, and the block sums.

    Parameters
    ----------
    w : (..., J) standardised outer weights (one per indicator).
    sd : (..., J) indicator standard deviations.

    Returns
    -------
    w_tilde : (..., J) weights that sum to 1 within each block.
    sums : (..., K) ``sum_j w_j / sd_j`` per construct.
    """
    M = design.M.astype(float)
    u = w / sd
    sums = u @ M
    return u / sums[..., design.owner], sums


def index_values(design: PLSDesign, w_tilde: FloatArray, means: FloatArray,
                 scale: tuple[float, float]) -> FloatArray:
    """(..., K) 0-100 indices from normalised weights and indicator means (..., J)."""
    lo, hi = scale
    return 100.0 * ((w_tilde * means) @ design.M.astype(float) - lo) / (hi - lo)


def index_sd(sums: FloatArray, scale: tuple[float, float]) -> FloatArray:
    """(..., K) standard deviation of each construct's respondent index scores."""
    lo, hi = scale
    return 100.0 / ((hi - lo) * sums)


def _scale(result: PLSResult) -> tuple[float, float]:
    if result.model.scale is None:
        raise OptionError(f"Model {result.model.name!r} has no item scale; add "
                          "'scale: [lowest, highest]' to the spec to compute 0-100 indices.")
    lo, hi = result.model.scale
    return float(lo), float(hi)


def _compact(result: PLSResult) -> tuple[FloatArray, FloatArray, FloatArray]:
    design = result.design
    w = result.kernel.W[np.arange(len(design.indicators)), design.owner]
    return w, result.indicator_means.to_numpy(), result.indicator_std.to_numpy()


def check_negative_weights(result: PLSResult, policy: str) -> None:
    """Refuse (``"error"``) or warn (``"warn"``) when an outer weight is negative."""
    w, _, _ = _compact(result)
    bad = np.flatnonzero(w < 0)
    if not len(bad):
        return
    design = result.design
    listing = ", ".join(f"{design.indicators[j]} of {design.names[design.owner[j]]} "
                        f"({w[j]:.3f})" for j in bad)
    text = (f"Negative outer weight(s): {listing}. A 0-100 index is a weighted mean of the "
            "items and is meaningless with a negative weight: recode a reversed item, drop "
            "the indicator, or pass negative_weights='warn' to compute it anyway.")
    if policy == "error":
        raise EstimationError(text)
    warnings.warn(text, DataWarning, stacklevel=3)


def index_table(result: PLSResult) -> pd.DataFrame:
    """construct, estimate, (bootstrap: std_error, ci_lower, ci_upper, ci_width, wide_ci)."""
    scale = _scale(result)
    check_negative_weights(result, result.negative_weights)
    w, means, sd = _compact(result)
    w_tilde, _ = normalised_weights(result.design, w, sd)
    values = index_values(result.design, w_tilde, means, scale)
    table = pd.DataFrame({"construct": list(result.design.names), "estimate": values})
    boot = result.bootstrap
    if boot is not None and "index" in boot.tables:
        ci = boot.tables["index"][["construct", "std_error", "ci_lower", "ci_upper"]]
        table = table.merge(ci, on="construct", how="left", validate="one_to_one")
        table["ci_width"] = table["ci_upper"] - table["ci_lower"]
        table["wide_ci"] = table["ci_width"] > result.max_ci_width
    return table


def index_scores(result: PLSResult) -> pd.DataFrame:
    """Each respondent's 0-100 index score per construct (rows of the data x constructs)."""
    scale = _scale(result)
    check_negative_weights(result, result.negative_weights)
    if result.data is None:
        raise OptionError("This result holds no data, so respondent index scores cannot be "
                          "computed.")
    w, _, sd = _compact(result)
    w_tilde, _ = normalised_weights(result.design, w, sd)
    values = index_values(result.design, w_tilde[None, :], result.data.values, scale)
    # A respondent at the top (bottom) of the scale scores 100 (0) exactly, not 100 + 3e-14:
    # the normalised weights sum to 1 only up to rounding.
    for bound in (0.0, 100.0):
        values[np.abs(values - bound) < 1e-9] = bound
    return pd.DataFrame(values, index=result.data.index, columns=list(result.design.names))


def impact_values(T: FloatArray, b: FloatArray, pairs: tuple[FloatArray, FloatArray]
                  ) -> FloatArray:
    """(..., P) impacts ``5 * T[t, s] * b_t / b_s`` for (source, target) index arrays."""
    src, tgt = pairs
    return IMPACT_STEP * T[..., tgt, src] * b[..., tgt] / b[..., src]


def impacts_table(result: PLSResult) -> pd.DataFrame:
    """source, target, total_effect (standardised), impact (+ bootstrap columns)."""
    scale = _scale(result)
    check_negative_weights(result, result.negative_weights)
    design = result.design
    w, _, sd = _compact(result)
    _, sums = normalised_weights(design, w, sd)
    b = index_sd(sums, scale)
    effects = result.effects
    pos = {n: k for k, n in enumerate(design.names)}
    src = effects["source"].map(pos).to_numpy()
    tgt = effects["target"].map(pos).to_numpy()
    eye = np.eye(len(design.names))
    T = np.linalg.inv(eye - result.kernel.B) - eye
    table = effects[["source", "target"]].assign(
        total_effect=effects["total"].to_numpy(), impact=impact_values(T, b, (src, tgt)))
    boot = result.bootstrap
    if boot is not None and "impacts" in boot.tables:
        ci = boot.tables["impacts"][["source", "target", "std_error", "ci_lower", "ci_upper"]]
        table = table.merge(ci, on=["source", "target"], how="left", validate="one_to_one")
    return table


@dataclass(frozen=True, repr=False)
class IPMAResult(SummaryMixin):
    """Importance-performance map of the drivers of ``target``.

    ``constructs``: construct, importance, performance; ``indicators``: construct,
    indicator, importance, performance. Importance is per index point (0-100 scale).
    """

    target: str
    constructs: pd.DataFrame
    indicators: pd.DataFrame

    def summary(self) -> Summary:
        """Both tables."""
        return Summary(title=f"Importance-performance map: target {self.target}",
                       header={"Importance": "total effect per index point of the driver",
                               "Performance": "0-100 index (indicator: rescaled mean)"},
                       sections=(Section("Constructs", self.constructs),
                                 Section("Indicators", self.indicators)))

    def __repr__(self) -> str:
        return f"<IPMAResult target={self.target}: {len(self.constructs)} drivers>"

    def plot(self, level: str = "constructs", ax: Any = None) -> Figure:
        """The map as a matplotlib figure (importance on x, performance on y).

        Dashed lines mark the mean importance and performance, splitting the map into the
        usual four quadrants (drivers in the lower right are the priorities).
        """
        from matplotlib.figure import Figure

        if level not in ("constructs", "indicators"):
            raise OptionError(f"level={level!r} is not supported; choose 'constructs' or "
                              "'indicators'.")
        table = self.constructs if level == "constructs" else self.indicators
        label = "construct" if level == "constructs" else "indicator"
        if ax is None:
            fig = Figure(figsize=(6.4, 4.8), layout="constrained")
            ax = fig.add_subplot()
        else:
            fig = ax.figure
        ax.scatter(table["importance"], table["performance"], color="#1f5a96", zorder=3)
        for row in table.itertuples():
            ax.annotate(str(getattr(row, label)), (row.importance, row.performance),
                        textcoords="offset points", xytext=(5, 4), fontsize=9)
        ax.axvline(table["importance"].mean(), color="grey", linestyle="--", linewidth=0.8)
        ax.axhline(table["performance"].mean(), color="grey", linestyle="--", linewidth=0.8)
        ax.set_xlabel(f"Importance (total effect on {self.target} per index point)")
        ax.set_ylabel("Performance (0-100)")
        ax.set_title(f"Importance-performance map: {self.target}")
        ax.grid(True, alpha=0.3)
        return fig


def ipma(result: PLSResult, target: str) -> IPMAResult:
    """Importance-performance map analysis of every construct that affects ``target``.

    Raises
    ------
    OptionError
        If ``target`` is not a construct or has no drivers.
    """
    design = result.design
    if target not in design.names:
        raise OptionError(f"target={target!r} is not a construct; constructs: "
                          f"{', '.join(design.names)}.")
    impacts = impacts_table(result)
    drivers = impacts[impacts["target"] == target]
    if drivers.empty:
        raise OptionError(f"target={target!r} has no drivers (no path leads into it).")
    index = index_table(result).set_index("construct")["estimate"]
    constructs = pd.DataFrame({
        "construct": drivers["source"].to_numpy(),
        "importance": drivers["impact"].to_numpy() / IMPACT_STEP,
        "performance": index[drivers["source"]].to_numpy()})
    lo, hi = _scale(result)
    w, means, sd = _compact(result)
    w_tilde, _ = normalised_weights(design, w, sd)
    importance = dict(zip(constructs["construct"], constructs["importance"], strict=True))
    rows = [(design.names[design.owner[j]], design.indicators[j],
             w_tilde[j] * importance[design.names[design.owner[j]]],
             100.0 * (means[j] - lo) / (hi - lo))
            for j in range(len(design.indicators))
            if design.names[design.owner[j]] in importance]
    indicators = pd.DataFrame(rows, columns=["construct", "indicator", "importance",
                                             "performance"])
    return IPMAResult(target=target, constructs=constructs, indicators=indicators)
