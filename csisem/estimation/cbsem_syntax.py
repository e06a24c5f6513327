"""A :class:`~csisem.models.Model` as semopy model syntax (pure functions, tested on strings).

CB-SEM estimates common factors, so every construct must be reflective. A single-indicator
construct is written in latent-single-indicator form: loading fixed to 1 and the indicator's
error variance fixed to 0, so the construct *is* its indicator. When the construct and its
indicator share a name (ECSI's ``CUSCO``), the construct is renamed in the syntax
(:func:`latent_names`), because semopy (like lavaan) needs distinct names.

The syntax spells out what csisem's parameter table (:mod:`csisem.estimation.cbsem_spec`)
frees by default, so semopy estimates the same model that csisem polishes: the first loading
of each construct fixed to 1 (unless the spec fixes a loading itself), error variances of
single indicators fixed to 0, and covariances among exogenous constructs and among purely
endogenous constructs (as lavaan's ``sem()``).
"""

from __future__ import annotations

from itertools import combinations

from ..errors import SpecError
from ..models.model import Mode, Model

__all__ = ["check_cbsem_structure", "latent_names", "to_semopy_syntax"]

LATENT_SUFFIX = "__lv"


def check_cbsem_structure(model: Model) -> None:
    """Raise :class:`SpecError` if ``model`` cannot be estimated by CB-SEM.

    Raises
    ------
    SpecError
        If a construct is a composite (CB-SEM estimates common factors only).
    """
    composites = [c for c in model.constructs if c.mode is not Mode.REFLECTIVE]
    if composites:
        listing = ", ".join(f"{c.name} ({c.mode.value})" for c in composites)
        raise SpecError(
            f"CB-SEM needs reflective (common-factor) constructs, but model {model.name!r} has "
            f"composite construct(s) {listing}. Declare them 'mode: reflective' (lavaan: =~), "
            "or fit the model by PLS (method='pls' or 'plsc').")


def latent_names(model: Model) -> dict[str, str]:
    """Construct name -> the name of its latent variable in semopy syntax.

    A construct keeps its name unless an indicator has the same name (a single-indicator
    construct named after its item, as ECSI's ``CUSCO``); then ``__lv`` is appended (and
    underscores until the name is unused).
    """
    taken = set(model.indicator_names) | set(model.construct_names)
    out: dict[str, str] = {}
    for name in model.construct_names:
        if name in model.indicator_names:
            new = name + LATENT_SUFFIX
            while new in taken:
                new += "_"
            taken.add(new)
            out[name] = new
        else:
            out[name] = name
    return out


def _number(value: float) -> str:
    return repr(float(value)) if value != int(value) else str(int(value))


def _term(name: str, fixed: float | None) -> str:
    return name if fixed is None else f"{_number(fixed)}*{name}"


def to_semopy_syntax(model: Model) -> str:
    """``model`` in semopy's (lavaan-like) model syntax, one statement per line.

    Raises
    ------
    SpecError
        If a construct is a composite (see :func:`check_cbsem_structure`).
    """
    check_cbsem_structure(model)
    lv = latent_names(model)
    lines = ["# measurement model"]
    for c in model.constructs:
        has_fixed = any(i.fixed is not None for i in c.indicators)
        terms = []
        for k, ind in enumerate(c.indicators):
            fixed = ind.fixed
            if fixed is None and k == 0 and not has_fixed and not _variance_fixed(model, c.name):
                fixed = 1.0
            terms.append(_term(ind.name, fixed))
        lines.append(f"{lv[c.name]} =~ " + " + ".join(terms))
    if model.paths:
        lines.append("# structural model")
        for target in model.endogenous:
            rhs = [_term(lv[p.source], p.fixed) for p in model.paths if p.target == target]
            lines.append(f"{lv[target]} ~ " + " + ".join(rhs))
    covs = []
    for cv in model.covariances:
        left = lv.get(cv.left, cv.left)
        right = lv.get(cv.right, cv.right)
        covs.append(f"{left} ~~ {_term(right, cv.fixed)}")
    user = {frozenset((cv.left, cv.right)) for cv in model.covariances}
    for c in model.constructs:
        if len(c.indicators) == 1:
            # A covariance naming CUSCO means the construct, so an indicator that shares the
            # construct's name always keeps error variance 0.
            name = c.indicators[0].name
            if name == c.name or frozenset((name,)) not in user:
                covs.append(f"{name} ~~ 0*{name}")
    for group in (exogenous_constructs(model), pure_endogenous_constructs(model)):
        for a, b in combinations(group, 2):
            if frozenset((a, b)) not in user:
                covs.append(f"{lv[a]} ~~ {lv[b]}")
    if covs:
        lines.append("# variances and covariances")
        lines += covs
    return "\n".join(lines) + "\n"


def _variance_fixed(model: Model, construct: str) -> bool:
    """True if the spec fixes the variance of ``construct`` (then no marker loading)."""
    return any(cv.left == cv.right == construct and cv.fixed is not None
               for cv in model.covariances)


def exogenous_constructs(model: Model) -> tuple[str, ...]:
    """Constructs without incoming paths (their covariances are free by default)."""
    return model.exogenous


def pure_endogenous_constructs(model: Model) -> tuple[str, ...]:
    """Endogenous constructs that predict nothing (lavaan's ``lv.y``): their residual
    covariances are free by default."""
    sources = {p.source for p in model.paths}
    return tuple(c for c in model.endogenous if c not in sources)
