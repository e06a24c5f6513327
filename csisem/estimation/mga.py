"""Multigroup analysis (MGA) for PLS: do two groups differ in paths, outer estimates, indices?

Two tests are offered, both on the group-specific PLS fits of one model:

- **Permutation test** (Chin & Dibbern 2010). Under H0 the group labels are exchangeable:
  they are shuffled over the pooled rows (group sizes kept), both groups are re-estimated,
  and the two-sided p value of an observed difference ``d = θ1 - θ2`` is
  ``(1 + #{|d*| >= |d|}) / (1 + n)`` over the ``n`` valid permutations (the +1 counts the
  observed labelling itself, so p is never 0; Phipson & Smyth 2010).
- **Henseler's bootstrap MGA** (Henseler 2007; Henseler, Ringle & Sinkovics 2009; Sarstedt,
  Henseler & Ringle 2011). Each group is bootstrapped on its own, B resamples each; with
  ``θ̄g`` the bootstrap mean of group g and ``Θ`` the unit step (``Θ(x) = 1`` for ``x > 0``,
  else 0)::

      p_one_sided = 1 - Σ_j Σ_k Θ(2 θ̄1 - θ1j - 2 θ̄2 + θ2k) / B²

  is the probability that group 1's value is not larger than group 2's (H1: θ1 > θ2; a value
  near 1 says group 2's is larger). This is the published formula, also in seminr's
  ``estimate_pls_mga``. The SmartPLS documentation reads the one-sided p as significant at
  5% "if the p-value is smaller than 0.05 or larger than 0.95"; we report the equivalent
  two-sided p ``p_value = 2 min(p_one_sided, 1 - p_one_sided)``, so ``p_value < 0.10``
  reproduces that rule and ``p_value < 0.05`` is a two-sided test at the 5% level.

How it is vectorised (see :mod:`csisem.estimation.pls_batch`): a permuted or resampled group is
a 0/1 (permutation) or count (bootstrap) vector over the pooled rows, so the moments of both
groups of a whole batch of resamples come from one matrix product
(:func:`~csisem.estimation.pls_batch.moments_from_counts`) and PLS runs on the stacked
correlation matrices at once (group 1 of every resample first, then group 2). Batches have a
fixed size and each draws from its own child of ``SeedSequence(seed)``, so the output for a
seed is identical whatever ``n_jobs`` is (as the bootstrap). The quantities compared are the
bootstrap's :class:`~csisem.estimation.bootstrap.Statistic` maps, so a path or a 0-100 index
means the same thing here as in a single fit.

The data are prepared once on the pooled rows of the two groups (missing values, codes,
survey weights: :func:`csisem.data.prepare_data`); with ``missing="mean"`` cells are imputed
with the pooled means, so the observed statistic and its permutation distribution use the
same data.

Layout: the group selection and the resampling engine live here and are shared with
:mod:`csisem.estimation.micom`, which puts this module somewhat over the ~500-line guideline.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import numpy as np
import pandas as pd

from .._typing import BoolArray, FloatArray
from ..api import resolve_data
from ..data import PreparedData, _as_frame, _closest, _count, prepare_data
from ..errors import DataError, DataWarning, EstimationError, OptionError
from ..models.catalogue import load_model
from ..models.model import Model
from ..options import InnerScheme, MissingPolicy, coerce
from ..results import _plain, _records
from ..summary import Section, Summary, SummaryMixin
from .bootstrap import Statistic, check_client, map_batches
from .design import PLSDesign
from .pls_batch import BatchResult, Moments, moments_from_counts
from .pls_estimator import PLSEstimator, check_pls_structure
from .pls_inference import pls_statistics, reachable_pairs
from .plsc import consistent_batch

__all__ = ["GroupData", "MGAMethod", "MGAResult", "compare_groups", "prepare_groups",
           "run_group_resamples"]

COMPARED = ("paths", "loadings", "weights", "index")  # statistics compared, in table order


class MGAMethod(str, Enum):
    """How group differences are tested."""

    PERMUTATION = "permutation"
    BOOTSTRAP = "bootstrap"


# ---- the two groups ---------------------------------------------------------------------------

@dataclass(frozen=True)
class GroupData:
    """The pooled rows of two groups, prepared once for estimation.

    ``member[i]`` is True when pooled row ``i`` belongs to group 1 (``labels[0]``).
    """

    model: Model
    design: PLSDesign
    prepared: PreparedData
    by: str | None
    labels: tuple[Any, Any]
    member: BoolArray

    @property
    def case_weights(self) -> FloatArray:
        """(N,) survey weights of the pooled rows (ones without weights)."""
        cw = self.prepared.case_weights
        return np.ones(self.member.size) if cw is None else cw

    @property
    def n_obs(self) -> tuple[int, int]:
        """Rows in group 1 and group 2."""
        n1 = int(self.member.sum())
        return n1, int(self.member.size) - n1

    def describe(self) -> str:
        """``by='region': 'north' (400 rows) and 'south' (380 rows)``."""
        what = "by=" if self.by is None else f"by={self.by!r}"
        (g1, g2), (n1, n2) = self.labels, self.n_obs
        return f"{what}: {g1!r} ({n1} rows) and {g2!r} ({n2} rows)"


def _labels(frame: pd.DataFrame, by: Any) -> tuple[pd.Series, str | None]:
    """One label per row (positional index) and the name of the ``by`` column."""
    if isinstance(by, str):
        names = [str(c) for c in frame.columns]
        if names.count(by) != 1:
            found = "appears more than once in" if by in names else "is not a column of"
            raise DataError(f"by={by!r} {found} the data{_closest(by, set(names)) or ''}; "
                            "name the column that holds the group labels.")
        column = frame.iloc[:, names.index(by)]
        return pd.Series(column.to_numpy(), index=pd.RangeIndex(len(frame))), by
    values = by.to_numpy() if isinstance(by, pd.Series) else np.asarray(by, dtype=object)
    if values.ndim != 1 or len(values) != len(frame):
        raise DataError(f"by= has {values.size} labels but the data have {len(frame)} rows; "
                        "give a column name or one group label per row.")
    name = str(by.name) if isinstance(by, pd.Series) and by.name is not None else None
    return pd.Series(values, index=pd.RangeIndex(len(frame))), name


def _choose(labels: pd.Series, groups: Any, what: str) -> tuple[Any, Any]:
    """The two compared labels: ``groups`` checked against the data, or the only two."""
    present = labels[labels.notna()]
    levels = list(pd.unique(present))
    with contextlib.suppress(TypeError):   # mixed label types keep their order of appearance
        levels = sorted(levels)
    sizes = present.value_counts()
    listing = ", ".join(f"{lvl!r} ({_count(int(sizes[lvl]), 'row')})" for lvl in levels)
    if groups is None:
        if len(levels) == 2:
            return levels[0], levels[1]
        if not levels:
            raise DataError(f"{what} has no group labels: every value is missing.")
        raise DataError(f"{what} has {_count(len(levels), 'group')}: {listing}. Groups are "
                        "compared two at a time: pass groups=(a, b) to choose them.")
    if not isinstance(groups, tuple | list) or len(groups) != 2 or groups[0] == groups[1]:
        raise OptionError(f"groups={groups!r} must be two different group labels, e.g. "
                          f"groups=({levels[0]!r}, {levels[-1]!r}).")
    unknown = [g for g in groups if g not in set(levels)]
    if unknown:
        raise DataError(f"groups= names {', '.join(map(repr, unknown))}, not a level of "
                        f"{what}; its levels are {listing}.")
    return groups[0], groups[1]


def prepare_groups(
    model: Model, data: Any, by: str | Sequence[Any] | pd.Series, *,
    groups: tuple[Any, Any] | None = None, columns: Mapping[str, str] | None = None,
    missing: MissingPolicy | str = MissingPolicy.LISTWISE,
    missing_codes: Sequence[float] | Mapping[str, Sequence[float]] | None = None,
    weights: str | Sequence[float] | FloatArray | pd.Series | None = None,
) -> GroupData:
    """Select the two groups' rows and prepare them together (see :func:`compare_groups`).

    Raises
    ------
    DataError
        If ``by`` is not a column (or not one label per row), the groups cannot be chosen,
        a group has fewer rows than a single fit needs or a constant indicator, or the data
        do not fit the model.
    OptionError
        If ``groups`` is not two different labels.
    """
    frame = _as_frame(resolve_data(data))
    labels, by_name = _labels(frame, by)
    what = "by=" if by_name is None else f"by={by_name!r}"
    chosen = _choose(labels, groups, what)
    absent = labels.isna().to_numpy()
    if groups is None and absent.any():
        warnings.warn(f"{_count(int(absent.sum()), 'row')} of {len(frame)} have no label in "
                      f"{what} and are in neither group.", DataWarning, stacklevel=3)
    positions = np.flatnonzero(labels.isin(chosen).to_numpy() & ~absent)
    sub = frame.iloc[positions]
    if not sub.index.is_unique:   # rows are matched back to their labels by index
        sub = sub.set_axis(pd.RangeIndex(len(sub)))
    if weights is not None and not isinstance(weights, str):
        try:
            w = np.asarray(weights.to_numpy() if isinstance(weights, pd.Series) else weights,
                           dtype=float).ravel()
        except (TypeError, ValueError):
            raise DataError("weights= must be numbers, one per row of the data.") from None
        if w.size != len(frame):
            raise DataError(f"weights= has {w.size} values but the data have {len(frame)} "
                            "rows; give one weight per row.")
        weights = w[positions]
    prepared = prepare_data(model, sub, columns=columns, missing=missing,
                            missing_codes=missing_codes, weights=weights)
    kept = pd.Series(labels.to_numpy()[positions], index=sub.index).loc[prepared.index]
    member = (kept.to_numpy() == chosen[0]).astype(bool)
    grouped = GroupData(model=model, design=PLSDesign.from_model(model), prepared=prepared,
                        by=by_name, labels=chosen, member=member)
    most = max((len(model.predecessors(c)) for c in model.construct_names), default=0)
    need = max(3, most + 2)
    for label, rows in zip(chosen, (member, ~member), strict=True):
        n = int(rows.sum())
        if n < need:
            raise DataError(f"Group {label!r} has only {_count(n, 'complete row')} ("
                            f"{grouped.describe()}); model {model.name!r} needs at least "
                            f"{need} rows in each group.")
        constant = [prepared.indicators[j]
                    for j in np.flatnonzero(~(prepared.values[rows].std(axis=0) > 0))]
        if constant:
            raise DataError(f"Indicator(s) {', '.join(constant)} do not vary within group "
                            f"{label!r} of {what}; PLS standardises every indicator within "
                            "each group, so compare other groups or drop the indicator.")
        if not grouped.case_weights[rows].sum() > 0:
            raise DataError(f"The case weights of group {label!r} are all zero.")
    return grouped


# ---- the resampling engine (shared with MICOM) ------------------------------------------------

Draw = Callable[[np.random.Generator, int], FloatArray]   # (rng, size) -> counts (2 size, N)


def check_resampling(n: object, arg: str, seed: object, n_jobs: object) -> None:
    """Raise :class:`OptionError` for a bad number of resamples, seed or ``n_jobs``."""
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise OptionError(f"{arg}={n!r} must be a positive number of resamples.")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int | np.integer)
                             or seed < 0):
        raise OptionError(f"seed={seed!r} must be a non-negative integer or None.")
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs == 0 or n_jobs < -1:
        raise OptionError(f"n_jobs={n_jobs!r} must be a positive number of workers or -1 "
                          "(all cores).")


def evaluate_counts(X: FloatArray, counts: FloatArray,
                    fit_batch: Callable[[FloatArray], BatchResult],
                    statistics: list[Statistic]) -> tuple[list[FloatArray], BoolArray, BoolArray]:
    """Fit both groups of R resamples and evaluate ``statistics``.

    Parameters
    ----------
    X : (N, J) centred pooled data.
    counts : (2R, N) case weights: rows ``0..R-1`` group 1 of each resample, ``R..2R-1``
        group 2.

    Returns
    -------
    values : per statistic, (R, 2, P) values of group 1 and group 2.
    ok : (R,) False where an indicator has no variance in one of the groups.
    valid : (R,) both groups estimated, converged and every value finite.
    """
    moments, ok = moments_from_counts(X, counts)
    S = np.where(ok[:, None, None], moments.S, np.eye(X.shape[1]))
    moments = Moments(S=S, mean=moments.mean, sd=moments.sd)
    batch = fit_batch(S)
    raw = [st.extract(batch, moments) for st in statistics]
    finite = np.all([np.isfinite(v).all(axis=1) for v in raw], axis=0)
    good = batch.valid & ok & finite
    R = counts.shape[0] // 2
    values = [np.stack([v[:R], v[R:]], axis=1) for v in raw]
    return values, ok[:R] & ok[R:], good[:R] & good[R:]


def run_group_resamples(
    X: FloatArray, draw: Draw, fit_batch: Callable[[FloatArray], BatchResult],
    statistics: list[Statistic], *, n_resamples: int, seed: int | None, n_jobs: int,
    client: Any = None,
) -> tuple[dict[str, FloatArray], dict[str, int], int, int]:
    """Draw ``n_resamples`` pairs of groups in seeded batches and evaluate ``statistics``.

    Returns the valid values per statistic ((n_valid, 2, P): group 1, group 2), failure
    counts by reason, the number of valid resamples and the seed used (drawn from the OS when
    ``seed`` is None, and reported so the run can be repeated).

    Raises
    ------
    EstimationError
        If no resample could be estimated.
    """
    used_seed = _fresh_seed() if seed is None else int(seed)

    def work(seed_seq: np.random.SeedSequence, size: int
             ) -> tuple[list[FloatArray], BoolArray, BoolArray]:
        counts = draw(np.random.default_rng(seed_seq), size)
        return evaluate_counts(X, counts, fit_batch, statistics)

    values, ok, valid = map_batches(work, statistics, n_resamples=n_resamples,
                                    seed=used_seed, n_jobs=n_jobs, client=client)
    failures = {}
    if (~ok).any():
        failures["an indicator has zero variance in a group"] = int((~ok).sum())
    other = int((ok & ~valid).sum())
    if other:
        failures["no convergence, a singular matrix or an undefined value"] = other
    if not valid.any():
        raise EstimationError(f"None of the {n_resamples} resamples could be estimated ("
                              + "; ".join(f"{v}: {k}" for k, v in failures.items()) + ").")
    return values, failures, int(valid.sum()), used_seed


def _fresh_seed() -> int:
    """A seed from the OS entropy (reported in the result so the run can be repeated)."""
    entropy = np.random.SeedSequence().entropy
    assert isinstance(entropy, int)
    return entropy


def permutation_draw(groups: GroupData) -> Draw:
    """Shuffled labels: group 1 gets ``n1`` random rows of the pool, group 2 the rest."""
    member = groups.member
    cw = groups.case_weights

    def draw(rng: np.random.Generator, size: int) -> FloatArray:
        perm = rng.permuted(np.tile(member, (size, 1)), axis=1)
        return np.vstack([perm * cw, ~perm * cw]).astype(float)

    return draw


def bootstrap_draw(groups: GroupData) -> Draw:
    """Each group resampled with replacement from its own rows (sizes kept)."""
    rows = (np.flatnonzero(groups.member), np.flatnonzero(~groups.member))
    N = groups.member.size
    cw = groups.case_weights

    def draw(rng: np.random.Generator, size: int) -> FloatArray:
        counts = np.zeros((2 * size, N))
        for g, idx in enumerate(rows):
            counts[g * size:(g + 1) * size, idx] = rng.multinomial(
                idx.size, np.full(idx.size, 1.0 / idx.size), size=size)
        return counts * cw

    return draw


def observed_counts(groups: GroupData) -> FloatArray:
    """(2, N) the two groups' case weights over the pooled rows."""
    return np.vstack([groups.member * groups.case_weights,
                      ~groups.member * groups.case_weights]).astype(float)


# ---- results ----------------------------------------------------------------------------------

@dataclass(frozen=True, repr=False)
class MGAResult(SummaryMixin):
    """Differences between two groups' PLS estimates, with p values.

    Tables (plain DataFrames; group 1 is ``groups[0]``):

    - ``paths``: source, target, estimate_1, estimate_2, difference, p_value
    - ``loadings`` / ``weights``: construct, indicator, estimate_1, ... p_value
    - ``indices``: construct, estimate_1, ... p_value: 0-100 index scores (None when the
      model has no item ``scale``)

    ``difference`` is group 1 minus group 2; ``p_value`` is two-sided. The bootstrap method
    adds ``p_one_sided``, Henseler's probability that group 1's value is not larger (see
    :mod:`csisem.estimation.mga`). A quantity that cannot differ (the weight of a single
    indicator) has p NaN. ``draws[name]`` holds the valid resamples' values, (n_valid, 2, P).
    """

    model: Model
    method: str
    scheme: str
    consistent: bool
    by: str | None
    groups: tuple[Any, Any]
    n_obs: tuple[int, int]
    n_resamples: int
    n_valid: int
    seed: int
    failures: dict[str, int]
    paths: pd.DataFrame
    loadings: pd.DataFrame
    weights: pd.DataFrame
    indices: pd.DataFrame | None
    draws: dict[str, FloatArray] = field(repr=False)

    @property
    def n_failed(self) -> int:
        """Resamples left out (see ``failures`` for the reasons)."""
        return self.n_resamples - self.n_valid

    def summary(self) -> Summary:
        """Header, then paths, indices, loadings and weights by group with differences."""
        g1, g2 = (str(g) for g in self.groups)
        by = f"by={self.by!r}: " if self.by is not None else ""
        if self.method == MGAMethod.PERMUTATION.value:
            title = "Permutation test (Chin & Dibbern 2010)"
            note = (f"p: two-sided, the share of {self.n_valid} label permutations whose "
                    "|difference| is at least the observed one, (1 + count) / (1 + n).")
        else:
            title = "Henseler's bootstrap MGA (Henseler, Ringle & Sinkovics 2009)"
            note = (f"p_one_sided: Henseler's probability that {g1}'s value is not larger than "
                    f"{g2}'s, from {self.n_valid} bootstrap resamples per group (small: {g1} "
                    f"larger; near 1: {g2} larger). p_value = 2 min(p_one_sided, "
                    "1 - p_one_sided), two-sided.")
        resamples = f"{self.n_valid} of {self.n_resamples} (seed {self.seed})"
        if self.failures:
            resamples += "; left out: " + "; ".join(f"{v} ({k})"
                                                    for k, v in self.failures.items())
        header = {
            "Model": self.model.name,
            "Method": f"{title}, {'PLSc' if self.consistent else 'PLS'}, {self.scheme} "
                      "weighting scheme",
            "Groups": f"{by}1 = {g1} (n = {self.n_obs[0]}), 2 = {g2} (n = {self.n_obs[1]})",
            "Resamples": resamples,
        }

        def shown(table: pd.DataFrame) -> pd.DataFrame:
            return table.rename(columns={"estimate_1": f"1: {g1}", "estimate_2": f"2: {g2}"})

        sections = [Section("Path coefficients", shown(self.paths), note=note)]
        if self.indices is not None:
            sections.append(Section("0-100 indices", shown(self.indices)))
        sections += [Section("Outer loadings", shown(self.loadings)),
                     Section("Outer weights", shown(self.weights))]
        return Summary(title="csisem — multigroup analysis", header=header,
                       sections=tuple(sections),
                       footer="Difference = group 1 - group 2. Compare groups only after "
                              "establishing measurement invariance (csisem micom()).")

    def __repr__(self) -> str:
        return (f"<MGAResult {self.model.name}: {self.method}, {self.groups[0]!r} (n="
                f"{self.n_obs[0]}) vs {self.groups[1]!r} (n={self.n_obs[1]}), "
                f"{self.n_valid} resamples>")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-compatible dict; the keys are a stable interface."""
        return {
            "model": self.model.name,
            "method": self.method,
            "scheme": self.scheme,
            "consistent": self.consistent,
            "by": self.by,
            "groups": [_plain(g) for g in self.groups],
            "n_obs": list(self.n_obs),
            "n_resamples": self.n_resamples,
            "n_valid": self.n_valid,
            "seed": self.seed,
            "failures": dict(self.failures),
            "paths": _records(self.paths),
            "loadings": _records(self.loadings),
            "weights": _records(self.weights),
            "indices": None if self.indices is None else _records(self.indices),
        }


# ---- the test ---------------------------------------------------------------------------------

def henseler_p(draws_1: FloatArray, draws_2: FloatArray) -> FloatArray:
    """Henseler's one-sided p (H1: θ1 > θ2) per quantity from (B, P) bootstrap draws.

    ``Θ(a_j - c_k)`` with ``a = 2 θ̄1 - θ1`` and ``c = 2 θ̄2 - θ2`` counts the pairs with
    ``c_k < a_j``: after sorting ``c`` that is a binary search per ``a_j``, O(B log B) instead
    of the B² pairs.
    """
    a = 2 * draws_1.mean(axis=0) - draws_1
    c = 2 * draws_2.mean(axis=0) - draws_2
    pairs = np.array([np.searchsorted(np.sort(c[:, p]), a[:, p], side="left").sum()
                      for p in range(a.shape[1])], dtype=float)
    return 1.0 - pairs / (len(a) * len(c))


def _difference_table(keys: pd.DataFrame, observed: FloatArray, draws: FloatArray,
                      method: MGAMethod) -> pd.DataFrame:
    """keys + estimate_1, estimate_2, difference, p_value (+ p_one_sided for the bootstrap)."""
    d = observed[0] - observed[1]
    scale = np.maximum(1.0, np.abs(observed).max(axis=0))
    table = keys.reset_index(drop=True).assign(
        estimate_1=observed[0], estimate_2=observed[1], difference=d)
    if method is MGAMethod.PERMUTATION:
        dp = draws[:, 0] - draws[:, 1]
        # Differences fixed at 0 by construction (a single indicator's weight) are not tested.
        fixed = (np.abs(dp).max(axis=0) <= 1e-12 * scale) & (np.abs(d) <= 1e-12 * scale)
        p = (1.0 + (np.abs(dp) >= np.abs(d)).sum(axis=0)) / (1.0 + len(dp))
        return table.assign(p_value=np.where(fixed, np.nan, p))
    fixed = ((draws[:, 0].std(axis=0) <= 1e-12 * scale)
             & (draws[:, 1].std(axis=0) <= 1e-12 * scale))
    one = np.where(fixed, np.nan, henseler_p(draws[:, 0], draws[:, 1]))
    two = np.minimum(1.0, 2 * np.minimum(one, 1 - one))
    return table.assign(p_value=two, p_one_sided=one)


def _negative_weight_constructs(groups: GroupData, weights: FloatArray) -> list[str]:
    """Constructs with a negative outer weight in either group's observed fit."""
    design = groups.design
    bad = (weights < 0).any(axis=0) @ design.M
    return [design.names[k] for k in np.flatnonzero(bad)]


def compare_groups(
    model: str | Model,
    data: Any,
    by: str | Sequence[Any] | pd.Series,
    *,
    groups: tuple[Any, Any] | None = None,
    method: MGAMethod | str = MGAMethod.PERMUTATION,
    n_resamples: int = 1000,
    seed: int | None = None,
    scheme: InnerScheme | str = InnerScheme.PATH,
    consistent: bool = False,
    tol: float = 1e-7,
    max_iter: int = 300,
    n_jobs: int = 1,
    columns: Mapping[str, str] | None = None,
    missing: MissingPolicy | str = MissingPolicy.LISTWISE,
    missing_codes: Sequence[float] | Mapping[str, Sequence[float]] | None = None,
    weights: str | Sequence[float] | FloatArray | pd.Series | None = None,
    client: Any = None,
) -> MGAResult:
    """Test whether two groups differ in their PLS paths, loadings, weights and indices.

    Parameters
    ----------
    model : a catalogue name (``"ecsi"``), a spec file or a :class:`~csisem.models.Model`.
    data : a DataFrame (or bundled data set name / CSV path) with the indicators and ``by``.
    by : the column that holds the group labels, or one label per row.
    groups : the two labels to compare, in this order (group 1, group 2); needed when
        ``by`` has more than two levels. Default: the two levels in sorted order.
    method : ``"permutation"`` (Chin & Dibbern 2010) or ``"bootstrap"`` (Henseler's MGA).
    n_resamples : permutations, or bootstrap resamples per group.
    seed : the same seed gives the same output whatever ``n_jobs``.
    scheme, consistent, tol, max_iter : PLS options, as :class:`PLSEstimator`
        (``consistent=True``: PLSc paths and loadings in every group and resample).
    n_jobs : parallel workers (-1: all cores).
    columns, missing, missing_codes, weights : as :func:`csisem.data.prepare_data`, applied
        to the pooled rows of the two groups.
    client : a ``dask.distributed.Client``: the resamples run on its cluster, with the same
        output as locally (``n_jobs`` is then not used).

    Returns
    -------
    MGAResult

    Raises
    ------
    DataError
        If ``by`` is not a column, does not have exactly two levels (and ``groups`` is not
        given), a chosen label is absent, a group has too few rows or a constant indicator,
        or the data do not fit the model.
    OptionError
        For an invalid option value.
    EstimationError
        If a group's model cannot be estimated.
    """
    method = coerce(MGAMethod, method, arg="method")
    estimator = PLSEstimator(scheme=scheme, tol=tol, max_iter=max_iter, consistent=consistent)
    check_resampling(n_resamples, "n_resamples", seed, n_jobs)
    client = check_client(client)
    model = load_model(model)
    check_pls_structure(model)
    grouped = prepare_groups(model, data, by, groups=groups, columns=columns, missing=missing,
                             missing_codes=missing_codes, weights=weights)
    design = grouped.design
    statistics = group_statistics(grouped, estimator)
    X = grouped.prepared.centred()
    observed, _, valid = evaluate_counts(
        X, observed_counts(grouped), lambda S: estimator.estimate_batch(design, S), statistics)
    if not valid[0]:
        raise EstimationError(
            f"The model cannot be estimated in one of the groups {grouped.describe()}: no "
            f"convergence within max_iter={max_iter}, a singular matrix or an undefined value"
            + (" (PLSc correction)" if consistent else "") + ".")
    names = [st.name for st in statistics]
    obs = {n: v[0] for n, v in zip(names, observed, strict=True)}
    start = _pooled_start(grouped, estimator, X)
    draw = (permutation_draw(grouped) if method is MGAMethod.PERMUTATION
            else bootstrap_draw(grouped))
    draws, failures, n_valid, used_seed = run_group_resamples(
        X, draw, lambda S: estimator.estimate_batch(design, S, start), statistics,
        n_resamples=int(n_resamples), seed=seed, n_jobs=n_jobs, client=client)
    tables = {st.name: _difference_table(st.keys, obs[st.name], draws[st.name], method)
              for st in statistics}
    indices = tables.get("index")
    if indices is not None:
        negative = _negative_weight_constructs(grouped, obs["weights"])
        if negative:
            warnings.warn(
                f"Construct(s) {', '.join(negative)} have a negative outer weight in a group; "
                "their 0-100 index is not a weighted mean of the items, so its difference is "
                "not reported (NaN).", DataWarning, stacklevel=2)
            rows = indices["construct"].isin(negative)
            cols = [c for c in indices.columns if c != "construct"]
            indices = indices.astype(dict.fromkeys(cols, float))
            indices.loc[rows, cols] = np.nan
    return MGAResult(
        model=model, method=method.value, scheme=estimator.scheme.value,
        consistent=estimator.consistent, by=grouped.by, groups=grouped.labels,
        n_obs=grouped.n_obs, n_resamples=int(n_resamples), n_valid=n_valid, seed=used_seed,
        failures=failures, paths=tables["paths"], loadings=tables["loadings"],
        weights=tables["weights"], indices=indices, draws=draws)


def group_statistics(grouped: GroupData, estimator: PLSEstimator) -> list[Statistic]:
    """The compared quantities: the PLS bootstrap's statistics named in ``COMPARED``.

    The 0-100 index is included when the model has an item scale (it needs the indicators'
    raw means, which the centred pooled data carry as ``prepared.means()`` plus each group's
    shift).
    """
    model = grouped.model
    design = grouped.design
    paths = [(p.source, p.target) for p in model.paths]
    reachable = reachable_pairs(design)
    transform = ((lambda b, s: consistent_batch(design, s, b)) if estimator.consistent
                 else None)
    scale = None if model.scale is None else (float(model.scale[0]), float(model.scale[1]))
    every = pls_statistics(design, paths, reachable, transform, scale=scale,
                           means=grouped.prepared.means())
    by_name = {st.name: st for st in every}
    return [by_name[n] for n in COMPARED if n in by_name]


def _pooled_start(grouped: GroupData, estimator: PLSEstimator, X: FloatArray) -> FloatArray | None:
    """Weights of the pooled fit: the warm start of every resample (same fixed points, fewer
    iterations; under H0 both groups are near the pooled solution)."""
    moments, ok = moments_from_counts(X, grouped.case_weights[None, :].astype(float))
    batch = estimator.estimate_batch(grouped.design, moments.S)
    if not (ok[0] and batch.valid[0]):
        return None
    design = grouped.design
    start: FloatArray = batch.W[0, np.arange(len(design.indicators)), design.owner]
    return start
