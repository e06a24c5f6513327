"""The CB-SEM parameter table: every free and fixed parameter of a model, lavaan style.

:func:`build_spec` turns a :class:`~csisem.models.Model` into a :class:`CBSEMSpec`: one row per
parameter and group with lavaan's ``lhs``/``op``/``rhs``, csisem's ``kind`` and the position of
the parameter in the RAM matrices (McArdle & McDonald 1984) that
:mod:`csisem.estimation.cbsem_ram` evaluates.

Defaults are those of lavaan's ``sem()`` (``auto.fix.first``, ``auto.fix.single``,
``auto.var``, ``auto.cov.lv.x``, ``auto.cov.y``):

- the first loading of each construct is fixed to 1, unless the spec fixes a loading of that
  construct or its variance itself;
- a single indicator's error variance is fixed to 0 (the construct is the indicator);
- every other error variance, construct variance (exogenous) or residual variance
  (endogenous) is free;
- covariances among exogenous constructs, and among endogenous constructs that predict
  nothing, are free;
- with a mean structure (FIML, several groups) indicator intercepts are free and construct
  means fixed to 0 (free in groups after the first when intercepts are held equal).

Kinds: ``loading``, ``path``, ``variance`` / ``covariance`` (exogenous constructs),
``residual_variance`` / ``residual_covariance`` (endogenous constructs),
``error_variance`` / ``error_covariance`` (indicators), ``intercept`` (indicators) and
``mean`` (constructs). The kind tells ``CUSCO ~~ CUSCO`` (the construct) from the error
variance of its indicator of the same name.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd

from .._typing import FloatArray
from ..models.model import Model
from ..options import GroupEqual
from .cbsem_syntax import check_cbsem_structure, pure_endogenous_constructs

__all__ = ["CBSEMSpec", "ParameterRow", "build_independence_spec", "build_saturated_spec",
           "build_spec", "start_values"]

# kind -> the group_equal option that holds it equal across groups
EQUAL_CATEGORY = {
    "loading": GroupEqual.LOADINGS,
    "path": GroupEqual.REGRESSIONS,
    "intercept": GroupEqual.INTERCEPTS,
    "mean": GroupEqual.MEANS,
    "error_variance": GroupEqual.RESIDUALS,
    "error_covariance": GroupEqual.RESIDUAL_COVARIANCES,
    "variance": GroupEqual.LV_VARIANCES,
    "residual_variance": GroupEqual.LV_VARIANCES,
    "covariance": GroupEqual.LV_COVARIANCES,
    "residual_covariance": GroupEqual.LV_COVARIANCES,
}

COLUMNS = ["group", "lhs", "op", "rhs", "kind", "label", "free", "value", "matrix", "row",
           "col"]


@dataclass(frozen=True)
class ParameterRow:
    """One row of a :class:`CBSEMSpec` table, typed (see there for the fields)."""

    group: int
    lhs: str
    op: str
    rhs: str
    kind: str
    label: str
    free: int
    value: float
    matrix: str
    row: int
    col: int


def parameter_rows(table: pd.DataFrame) -> list[ParameterRow]:
    """The rows of a parameter table as :class:`ParameterRow` s."""
    columns = [table[c].to_numpy() for c in COLUMNS]
    return [ParameterRow(int(g), str(lhs), str(op), str(rhs), str(kind), str(label), int(free),
                         float(value), str(matrix), int(row), int(col))
            for g, lhs, op, rhs, kind, label, free, value, matrix, row, col in zip(
                *columns, strict=True)]


@dataclass(frozen=True)
class CBSEMSpec:
    """The parameter table of a CB-SEM model and what the kernel needs to evaluate it.

    ``table`` has one row per parameter and group: group (0-based), lhs, op, rhs, kind,
    label, free (index into the free-parameter vector, -1 when fixed), value (the fixed value,
    NaN when free), matrix (``A`` directed effects, ``S`` (co)variances, ``m`` means) with
    row/col in the RAM ordering: indicators 0..p-1, then constructs p..p+m-1.
    """

    observed: tuple[str, ...]
    latent: tuple[str, ...]
    groups: tuple[str, ...]
    meanstructure: bool
    table: pd.DataFrame
    n_free: int

    @property
    def n_observed(self) -> int:
        """p, the number of indicators."""
        return len(self.observed)

    @property
    def n_variables(self) -> int:
        """p + m, indicators and constructs."""
        return len(self.observed) + len(self.latent)

    @property
    def n_groups(self) -> int:
        """Number of groups."""
        return len(self.groups)

    def free_rows(self) -> pd.DataFrame:
        """The first row of each free parameter, in free-vector order."""
        free = self.table[self.table["free"] >= 0]
        return free.drop_duplicates("free").sort_values("free")

    def free_parameters(self) -> list[ParameterRow]:
        """:meth:`free_rows` as typed rows."""
        return parameter_rows(self.free_rows())

    def rows(self) -> list[ParameterRow]:
        """Every row of the table, typed."""
        return parameter_rows(self.table)

    def n_moments(self) -> int:
        """Sample moments: p(p+1)/2 covariances (+ p means) per group."""
        p = self.n_observed
        per_group = p * (p + 1) // 2 + (p if self.meanstructure else 0)
        return per_group * self.n_groups


class _Builder:
    def __init__(self, group_equal: frozenset[GroupEqual]) -> None:
        self.rows: list[dict[str, object]] = []
        self.keys: dict[tuple[object, ...], int] = {}
        self.group_equal = group_equal

    def add(self, g: int, lhs: str, op: str, rhs: str, kind: str, matrix: str, row: int,
            col: int, fixed: float | None, label: str | None = None) -> None:
        free = -1
        if fixed is None:
            if label:
                key: tuple[object, ...] = ("label", label)
            elif EQUAL_CATEGORY.get(kind) in self.group_equal:
                key = ("equal", lhs, op, rhs, kind)
            else:
                key = (g, lhs, op, rhs, kind)
            free = self.keys.setdefault(key, len(self.keys))
        self.rows.append(dict(group=g, lhs=lhs, op=op, rhs=rhs, kind=kind, label=label or "",
                              free=free, value=np.nan if fixed is None else float(fixed),
                              matrix=matrix, row=row, col=col))


def build_spec(model: Model, *, groups: Iterable[str] = ("",), meanstructure: bool = False,
               group_equal: Iterable[GroupEqual] = ()) -> CBSEMSpec:
    """The parameter table of ``model`` (lavaan ``sem()`` defaults; see the module docstring).

    Parameters
    ----------
    groups : group labels; one group (``("",)``) for a single-group fit.
    meanstructure : add indicator intercepts and construct means.
    group_equal : parameter kinds held equal across groups.

    Raises
    ------
    SpecError
        If a construct is a composite.
    """
    check_cbsem_structure(model)
    groups = tuple(groups)
    equal = frozenset(group_equal)
    observed = model.indicator_names
    latent = model.construct_names
    p = len(observed)
    ov = {name: j for j, name in enumerate(observed)}
    lv = {name: p + k for k, name in enumerate(latent)}
    endogenous = set(model.endogenous)
    b = _Builder(equal)

    user: dict[frozenset[str], tuple[float | None, str | None]] = {}
    for cv in model.covariances:
        user[frozenset((cv.left, cv.right))] = (cv.fixed, cv.label)

    for g in range(len(groups)):
        for c in model.constructs:
            auto_marker = (not any(i.fixed is not None for i in c.indicators)
                           and user.get(frozenset((c.name,)), (None, None))[0] is None)
            for k, ind in enumerate(c.indicators):
                fixed = ind.fixed
                if fixed is None and k == 0 and auto_marker:
                    fixed = 1.0
                b.add(g, c.name, "=~", ind.name, "loading", "A", ov[ind.name], lv[c.name],
                      fixed, ind.label if fixed is None or ind.fixed is not None else None)
        for path in model.paths:
            b.add(g, path.target, "~", path.source, "path", "A", lv[path.target],
                  lv[path.source], path.fixed, path.label)
        # user (co)variances: construct names take precedence (CUSCO means the construct)
        for cv in model.covariances:
            in_lv = cv.left in lv and cv.right in lv
            index = lv if in_lv else ov
            i, j = index[cv.left], index[cv.right]
            if in_lv:
                both_endo = cv.left in endogenous and cv.right in endogenous
                var_kind = "residual_variance" if cv.left in endogenous else "variance"
                cov_kind = "residual_covariance" if both_endo else "covariance"
            else:
                var_kind, cov_kind = "error_variance", "error_covariance"
            kind = var_kind if cv.left == cv.right else cov_kind
            b.add(g, cv.left, "~~", cv.right, kind, "S", i, j, cv.fixed, cv.label)
        # error variances (0 for a single indicator)
        user_lv = {name for key in user for name in key if len(key) == 1 and name in lv}
        user_ov = {name for key in user for name in key if len(key) == 1 and name not in lv}
        for c in model.constructs:
            for ind in c.indicators:
                if ind.name in user_ov:
                    continue
                fixed = 0.0 if len(c.indicators) == 1 else None
                b.add(g, ind.name, "~~", ind.name, "error_variance", "S", ov[ind.name],
                      ov[ind.name], fixed)
        for name in latent:
            if name not in user_lv:
                kind = "residual_variance" if name in endogenous else "variance"
                b.add(g, name, "~~", name, kind, "S", lv[name], lv[name], None)
        for block, kind in ((model.exogenous, "covariance"),
                            (pure_endogenous_constructs(model), "residual_covariance")):
            for x, y in combinations(block, 2):
                if frozenset((x, y)) not in user:
                    b.add(g, x, "~~", y, kind, "S", lv[x], lv[y], None)
        if meanstructure:
            for name in observed:
                b.add(g, name, "~1", "", "intercept", "m", ov[name], 0, None)
            free_means = g > 0 and GroupEqual.INTERCEPTS in equal
            for name in latent:
                b.add(g, name, "~1", "", "mean", "m", lv[name], 0, None if free_means else 0.0)
    table = pd.DataFrame(b.rows, columns=COLUMNS)
    return CBSEMSpec(observed=observed, latent=latent, groups=groups,
                     meanstructure=meanstructure, table=table, n_free=len(b.keys))


def build_independence_spec(observed: Iterable[str], *, groups: Iterable[str] = ("",),
                            meanstructure: bool = False) -> CBSEMSpec:
    """The baseline (independence) model: free variances (and means), no covariances."""
    observed = tuple(observed)
    groups = tuple(groups)
    b = _Builder(frozenset())
    for g in range(len(groups)):
        for j, name in enumerate(observed):
            b.add(g, name, "~~", name, "error_variance", "S", j, j, None)
        if meanstructure:
            for j, name in enumerate(observed):
                b.add(g, name, "~1", "", "intercept", "m", j, 0, None)
    table = pd.DataFrame(b.rows, columns=COLUMNS)
    return CBSEMSpec(observed=observed, latent=(), groups=groups, meanstructure=meanstructure,
                     table=table, n_free=len(b.keys))


def build_saturated_spec(observed: Iterable[str], *,
                         groups: Iterable[str] = ("",)) -> CBSEMSpec:
    """The saturated (h1) model with a mean structure: every variance, covariance and mean
    free."""
    observed = tuple(observed)
    groups = tuple(groups)
    b = _Builder(frozenset())
    for g in range(len(groups)):
        for j, name in enumerate(observed):
            for i in range(j + 1):
                kind = "error_variance" if i == j else "error_covariance"
                b.add(g, observed[i], "~~", name, kind, "S", j, i, None)
        for j, name in enumerate(observed):
            b.add(g, name, "~1", "", "intercept", "m", j, 0, None)
    table = pd.DataFrame(b.rows, columns=COLUMNS)
    return CBSEMSpec(observed=observed, latent=(), groups=groups, meanstructure=True,
                     table=table, n_free=len(b.keys))


def start_values(spec: CBSEMSpec, covariances: list[FloatArray],
                 means: list[FloatArray]) -> FloatArray:
    """Simple start values: loadings 1 and paths 0, half the indicator variance as error
    variance, 0.05 for construct variances, 0 for covariances, sample means as intercepts."""
    theta = np.zeros(spec.n_free)
    for row in spec.free_parameters():
        g = row.group
        if row.kind == "loading":
            value = 1.0
        elif row.kind == "error_variance":
            value = 0.5 * covariances[g][row.row, row.row]
        elif row.kind in ("variance", "residual_variance"):
            value = 0.05
        elif row.kind == "intercept":
            value = means[g][row.row]
        else:
            value = 0.0
        theta[row.free] = value
    return theta
