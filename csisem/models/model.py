"""The immutable model: constructs, indicators, structural paths and covariances.

A :class:`Model` is what every front end (YAML spec, lavaan syntax, Python) produces and what
every estimator consumes. It is validated when it is built, so an estimator never sees a model
with an unknown construct, a shared indicator or a cycle.

Orientation (as in cSEM): the structural matrix has targets in rows and sources in columns,
``structure[target, source] == 1`` for a path ``source -> target``; the measurement matrix has
constructs in rows and indicators in columns.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property
from typing import Any, TypeVar, cast

import numpy as np
import pandas as pd

from ..errors import SpecError, SpecProblem

_T = TypeVar("_T")

__all__ = [
    "Construct",
    "Covariance",
    "Indicator",
    "Mode",
    "Model",
    "Path",
    "validate_model",
]

NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")


class Mode(str, Enum):
    """How a construct relates to its indicators.

    ``reflective`` is a common factor (PLS Mode A, corrected by PLSc; ``=~`` in lavaan);
    ``composite_a`` a composite with correlation (Mode A) weights; ``composite_b`` a composite
    with regression (Mode B) weights (``<~`` in lavaan).
    """

    REFLECTIVE = "reflective"
    COMPOSITE_A = "composite_a"
    COMPOSITE_B = "composite_b"

    @property
    def pls_mode(self) -> str:
        """``"A"`` or ``"B"``: the outer estimation mode PLS uses for this construct."""
        return "B" if self is Mode.COMPOSITE_B else "A"


@dataclass(frozen=True)
class Indicator:
    """A survey item. ``fixed``/``label`` carry lavaan modifiers (``1*x``, ``a*x``)."""

    name: str
    wording: str | None = None
    fixed: float | None = None
    label: str | None = None


@dataclass(frozen=True)
class Construct:
    """A construct measured by one or more indicators."""

    name: str
    indicators: tuple[Indicator, ...]
    mode: Mode = Mode.REFLECTIVE
    label: str | None = None
    description: str | None = None

    @property
    def indicator_names(self) -> tuple[str, ...]:
        """Names of the indicators, in spec order."""
        return tuple(i.name for i in self.indicators)

    @property
    def display_name(self) -> str:
        """The label if there is one, otherwise the name."""
        return self.label or self.name


@dataclass(frozen=True)
class Path:
    """A structural path ``source -> target``."""

    source: str
    target: str
    fixed: float | None = None
    label: str | None = None


@dataclass(frozen=True)
class Covariance:
    """A free (or fixed) covariance between two constructs or two indicators (``~~``)."""

    left: str
    right: str
    fixed: float | None = None
    label: str | None = None


def single_indicators(constructs: Iterable[Construct]) -> list[str]:
    """The indicators that alone measure a reflective construct, in construct order (an
    indicator named like a construct is left out: that name means the construct)."""
    constructs = tuple(constructs)
    names = {c.name for c in constructs}
    return [c.indicators[0].name for c in constructs
            if c.mode is Mode.REFLECTIVE and len(c.indicators) == 1
            and c.indicators[0].name not in names]


@dataclass(frozen=True)
class Model:
    """A validated CSI model: constructs, structural paths and optional covariances.

    Build one from a spec file with :func:`csisem.load_model`, or directly::

        Model(name="tiny",
              constructs=(Construct("A", (Indicator("a1"), Indicator("a2"))),
                          Construct("B", (Indicator("b1"),))),
              paths=(Path("A", "B"),))

    Raises
    ------
    SpecError
        If the model is invalid (every problem is listed).
    """

    name: str
    constructs: tuple[Construct, ...]
    paths: tuple[Path, ...] = ()
    covariances: tuple[Covariance, ...] = ()
    title: str | None = None
    citation: str | None = None
    description: str | None = None
    scale: tuple[float, float] | None = None
    source: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        # Normalise list inputs to tuples so the object is hashable and truly immutable.
        for attr in ("constructs", "paths", "covariances"):
            value = getattr(self, attr)
            if not isinstance(value, tuple):
                object.__setattr__(self, attr, tuple(value))
        # Paths are kept grouped by target (in the order targets first appear), the layout of
        # a YAML spec, so that models equal in content compare equal whatever the input order.
        targets = list(dict.fromkeys(p.target for p in self.paths))
        grouped = tuple(sorted(self.paths, key=lambda p: targets.index(p.target)))
        if grouped != self.paths:
            object.__setattr__(self, "paths", grouped)
        problems = validate_model(self)
        if problems:
            raise SpecError([SpecProblem(msg, where, self.source) for where, msg in problems])
        # 'x ~~ 0*x' for the only indicator of a reflective construct states what the model
        # means anyway (CB-SEM fixes that error variance at 0, as lavaan's auto.fix.single):
        # it is dropped, so that models equal in meaning compare equal. csisem's lavaan text
        # writes it out for programs that need it (semopy).
        singles = set(single_indicators(self.constructs))
        kept = tuple(cv for cv in self.covariances
                     if not (cv.left == cv.right and cv.left in singles and cv.fixed == 0
                             and cv.label is None))
        if kept != self.covariances:
            object.__setattr__(self, "covariances", kept)

    def derived(self, key: str, factory: Callable[[Model], _T]) -> _T:
        """``factory(self)``, computed once per model object and kept with it.

        A model is immutable, so whatever is computed from it alone (a PLS design, the label
        columns of result tables, structure checks) stays valid: estimators keep such things
        here instead of rebuilding them on every fit. ``key`` names the value.
        """
        cache = self.__dict__.get("_derived")
        if cache is None:
            cache = self.__dict__["_derived"] = {}
        if key not in cache:
            cache[key] = factory(self)
        return cast(_T, cache[key])

    # ---- lookups -------------------------------------------------------------------------
    @cached_property
    def construct_names(self) -> tuple[str, ...]:
        """Construct names in spec order."""
        return tuple(c.name for c in self.constructs)

    @cached_property
    def indicator_names(self) -> tuple[str, ...]:
        """All indicator names, block by block in construct order."""
        return tuple(i for c in self.constructs for i in c.indicator_names)

    def construct(self, name: str) -> Construct:
        """The construct called ``name``.

        Raises
        ------
        KeyError
            If there is no such construct (the message lists the ones that exist).
        """
        for c in self.constructs:
            if c.name == name:
                return c
        raise KeyError(f"No construct {name!r}; constructs: {', '.join(self.construct_names)}.")

    @cached_property
    def construct_of(self) -> dict[str, str]:
        """Map indicator name -> construct name."""
        return {i: c.name for c in self.constructs for i in c.indicator_names}

    def predecessors(self, name: str) -> tuple[str, ...]:
        """Constructs with a path into ``name``, in spec order of the paths."""
        return tuple(p.source for p in self.paths if p.target == name)

    def successors(self, name: str) -> tuple[str, ...]:
        """Constructs that ``name`` has a path into."""
        return tuple(p.target for p in self.paths if p.source == name)

    @cached_property
    def endogenous(self) -> tuple[str, ...]:
        """Constructs with at least one incoming path, in construct order."""
        targets = {p.target for p in self.paths}
        return tuple(c for c in self.construct_names if c in targets)

    @cached_property
    def exogenous(self) -> tuple[str, ...]:
        """Constructs with no incoming path, in construct order."""
        targets = {p.target for p in self.paths}
        return tuple(c for c in self.construct_names if c not in targets)

    @cached_property
    def topological_order(self) -> tuple[str, ...]:
        """Constructs ordered so that every path goes from an earlier to a later one."""
        order = _topological_order(self.construct_names, self.paths)
        assert order is not None  # validated acyclic in __post_init__
        return order

    # ---- matrices ------------------------------------------------------------------------
    def structural_matrix(self) -> pd.DataFrame:
        """0/1 matrix (constructs x constructs): ``[target, source] == 1`` for a path."""
        names = list(self.construct_names)
        m = pd.DataFrame(np.zeros((len(names), len(names)), dtype=int), index=names, columns=names)
        for p in self.paths:
            m.loc[p.target, p.source] = 1
        return m

    def measurement_matrix(self) -> pd.DataFrame:
        """0/1 matrix (constructs x indicators): ``[construct, indicator] == 1`` if it loads."""
        m = pd.DataFrame(
            np.zeros((len(self.constructs), len(self.indicator_names)), dtype=int),
            index=list(self.construct_names),
            columns=list(self.indicator_names),
        )
        for c in self.constructs:
            m.loc[c.name, list(c.indicator_names)] = 1
        return m

    def parameter_table(self) -> pd.DataFrame:
        """One row per model relation, lavaan style.

        Columns: ``lhs``, ``op``, ``rhs``, ``kind`` (loading, weight, path, covariance),
        ``fixed`` (value or NaN) and ``label``.
        """
        rows: list[dict[str, object]] = []
        for c in self.constructs:
            op, kind = ("=~", "loading") if c.mode is Mode.REFLECTIVE else ("<~", "weight")
            for i in c.indicators:
                rows.append(dict(lhs=c.name, op=op, rhs=i.name, kind=kind,
                                 fixed=i.fixed, label=i.label))
        for p in self.paths:
            rows.append(dict(lhs=p.target, op="~", rhs=p.source, kind="path",
                             fixed=p.fixed, label=p.label))
        for cv in self.covariances:
            rows.append(dict(lhs=cv.left, op="~~", rhs=cv.right, kind="covariance",
                             fixed=cv.fixed, label=cv.label))
        table = pd.DataFrame(rows, columns=["lhs", "op", "rhs", "kind", "fixed", "label"])
        table["fixed"] = table["fixed"].astype(float)
        return table

    # ---- conversions ---------------------------------------------------------------------
    def to_lavaan(self) -> str:
        """This model in lavaan model syntax (see :mod:`csisem.models.lavaan`)."""
        from .lavaan import to_lavaan

        return to_lavaan(self)

    def plot(self, *, indicators: bool = False, labels: bool = False,
             title: str | None = None, ax: Any = None) -> Any:
        """Path diagram of the model (a matplotlib Figure; see :mod:`csisem.plotting`)."""
        from ..plotting import path_diagram

        return path_diagram(self, indicators=indicators, labels=labels, title=title, ax=ax)

    def _repr_html_(self) -> str:
        """Jupyter: constructs with their indicators, and the structural paths."""
        import html

        rows = "".join(
            f"<tr><td><b>{html.escape(c.name)}</b></td><td>{html.escape(c.label or '')}</td>"
            f"<td>{c.mode.value}</td><td>{html.escape(', '.join(c.indicator_names))}</td>"
            f"<td>{html.escape(', '.join(self.predecessors(c.name)))}</td></tr>"
            for c in self.constructs)
        title = html.escape(self.name + (f" — {self.title}" if self.title else ""))
        return (f"<div class='csisem-model'><h4>{title}</h4><table><thead><tr><th>construct"
                "</th><th>label</th><th>mode</th><th>indicators</th><th>predecessors</th>"
                f"</tr></thead><tbody>{rows}</tbody></table></div>")

    def to_yaml(self) -> str:
        """This model as a YAML spec (see :mod:`csisem.models.spec`)."""
        from .spec import to_yaml

        return to_yaml(self)

    def __repr__(self) -> str:
        return (f"Model({self.name!r}: {len(self.constructs)} constructs, "
                f"{len(self.indicator_names)} indicators, {len(self.paths)} paths)")


def _topological_order(names: Iterable[str], paths: Iterable[Path]) -> tuple[str, ...] | None:
    """Kahn's algorithm; ``None`` when the paths contain a cycle. Ties keep spec order."""
    names = list(names)
    incoming = dict.fromkeys(names, 0)
    for p in paths:
        if p.target in incoming and p.source in incoming:
            incoming[p.target] += 1
    out: dict[str, list[str]] = {n: [] for n in names}
    for p in paths:
        if p.source in out and p.target in incoming:
            out[p.source].append(p.target)
    order: list[str] = []
    ready = [n for n in names if incoming[n] == 0]
    while ready:
        n = ready.pop(0)
        order.append(n)
        for t in out[n]:
            incoming[t] -= 1
            if incoming[t] == 0:
                ready.append(t)
        ready.sort(key=names.index)
    return tuple(order) if len(order) == len(names) else None


def _find_cycle(names: list[str], paths: Iterable[Path]) -> list[str]:
    """One cycle as a list of construct names (first == last), found by depth-first search."""
    out: dict[str, list[str]] = {n: [] for n in names}
    for p in paths:
        if p.source in out and p.target in out:
            out[p.source].append(p.target)
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(n: str) -> list[str] | None:
        state[n] = 1
        stack.append(n)
        for t in out[n]:
            if state.get(t) == 1:
                return [*stack[stack.index(t):], t]
            if t not in state:
                found = visit(t)
                if found:
                    return found
        stack.pop()
        state[n] = 2
        return None

    for n in names:
        if n not in state:
            found = visit(n)
            if found:
                return found
    return []


def _check_name(kind: str, name: object, where: str,
                add: Callable[[str, str], None]) -> bool:
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        add(where, f"{kind} name {name!r} is not valid: use letters, digits, '_' or '.', "
                   "starting with a letter or '_'.")
        return False
    return True


def validate_model(model: Model) -> list[tuple[str, str]]:
    """Every problem in ``model`` as ``(key_path, message)`` pairs; empty when valid.

    Key paths follow the YAML spec layout (``constructs.IMAG.indicators[2]``,
    ``paths.CUSA[1]``, ``covariances[0]``) so front ends can map them to file lines.
    """
    problems: list[tuple[str, str]] = []

    def add(where: str, message: str) -> None:
        problems.append((where, message))

    def check_modifiers(where: str, fixed: float | None, label: str | None) -> None:
        if fixed is not None and not (isinstance(fixed, int | float) and np.isfinite(fixed)):
            add(where, f"Fixed value {fixed!r} must be a finite number.")
        if label is not None and (not isinstance(label, str) or not NAME_PATTERN.match(label)
                                  or label == "NA"):
            add(where, f"Label {label!r} is not valid: use letters, digits, '_' or '.', "
                       "starting with a letter or '_' (and not 'NA').")

    if not isinstance(model.name, str) or not model.name.strip():
        add("name", "The model needs a non-empty name.")
    if model.scale is not None:
        lo_hi = model.scale
        if (len(lo_hi) != 2 or not all(isinstance(v, int | float) for v in lo_hi)
                or not lo_hi[0] < lo_hi[1]):
            add("scale", f"scale must be [lowest, highest] with lowest < highest; got {lo_hi!r}.")
    if not model.constructs:
        add("constructs", "The model has no constructs; add at least one under 'constructs:'.")

    construct_names: set[str] = set()
    indicator_owner: dict[str, str] = {}
    for c in model.constructs:
        where = f"constructs.{c.name}"
        _check_name("Construct", c.name, where, add)
        if c.name in construct_names:
            add(where, f"Construct {c.name!r} is defined twice; construct names must be unique.")
        construct_names.add(c.name)
        if not isinstance(c.mode, Mode):
            add(f"{where}.mode", f"Unknown mode {c.mode!r}; choose one of "
                                 f"{', '.join(repr(m.value) for m in Mode)}.")
        if not c.indicators:
            add(f"{where}.indicators", f"Construct {c.name!r} has no indicators; every construct "
                                       "needs at least one indicator.")
        seen_here: set[str] = set()
        for k, ind in enumerate(c.indicators):
            iw = f"{where}.indicators[{k}]"
            if not _check_name("Indicator", ind.name, iw, add):
                continue
            check_modifiers(iw, ind.fixed, ind.label)
            if ind.name in seen_here:
                add(iw, f"Indicator {ind.name!r} is listed twice in construct {c.name!r}.")
                continue
            seen_here.add(ind.name)
            if ind.name in indicator_owner:
                add(iw, f"Indicator {ind.name!r} is used by constructs "
                        f"{indicator_owner[ind.name]!r} and {c.name!r}; an indicator can "
                        "measure only one construct.")
            else:
                indicator_owner[ind.name] = c.name

    for c in model.constructs:
        # A single-indicator construct may share its indicator's name (CUSCO in ECSI).
        if c.name in indicator_owner and indicator_owner[c.name] != c.name:
            add(f"constructs.{c.name}",
                f"Name {c.name!r} is used both for a construct and for an indicator of "
                f"{indicator_owner[c.name]!r}; names must be unique.")

    seen_paths: set[tuple[str, str]] = set()
    position: dict[str, int] = {}
    for p in model.paths:
        k = position.get(p.target, 0)
        position[p.target] = k + 1
        where = f"paths.{p.target}[{k}]"
        check_modifiers(where, p.fixed, p.label)
        bad = False
        if p.target not in construct_names:
            add(f"paths.{p.target}", f"Path target {p.target!r} is not a construct."
                                     f"{_suggest(p.target, construct_names)}")
            bad = True
        if p.source not in construct_names:
            add(where, f"Path source {p.source!r} (-> {p.target}) is not a construct."
                       f"{_suggest(p.source, construct_names)}")
            bad = True
        if bad:
            continue
        if p.source == p.target:
            add(where, f"Path {p.source} -> {p.target} points a construct at itself.")
        elif (p.source, p.target) in seen_paths:
            add(where, f"Path {p.source} -> {p.target} is listed twice.")
        seen_paths.add((p.source, p.target))

    valid_paths = [p for p in model.paths
                   if p.source in construct_names and p.target in construct_names
                   and p.source != p.target]
    names = [c.name for c in model.constructs]
    if _topological_order(names, valid_paths) is None:
        cycle = _find_cycle(names, valid_paths)
        add("paths", "The structural model is cyclic (" + " -> ".join(cycle) + "); "
                     "csisem estimates recursive models only: remove one of these paths.")

    known = construct_names | set(indicator_owner)
    for k, cv in enumerate(model.covariances):
        where = f"covariances[{k}]"
        check_modifiers(where, cv.fixed, cv.label)
        for name in (cv.left, cv.right):
            if name not in known:
                add(where, f"Covariance names {name!r}, which is neither a construct nor an "
                           f"indicator.{_suggest(name, known)}")
        if (cv.left in construct_names) != (cv.right in construct_names) and \
                cv.left in known and cv.right in known:
            add(where, f"Covariance {cv.left} ~~ {cv.right} links a construct with an "
                       "indicator; covariances are between two constructs or two indicators.")
    return problems


def _suggest(name: str, options: Iterable[str]) -> str:
    """``" Did you mean 'X'?"`` when a close match exists, else ``""``."""
    import difflib

    close = difflib.get_close_matches(str(name), sorted(options), n=1, cutoff=0.6)
    return f" Did you mean {close[0]!r}?" if close else ""
