"""Property-based tests (hypothesis): round trips, population recovery, invariances, parser fuzz.

Every test runs a bounded, derandomised search (``derandomize=True``, no example database),
so CI sees the same examples on every run; the whole file takes well under a minute.

Tolerances (STYLE.md section 11): spec round trips are exact (model equality); PLS on
exact-moment composite data recovers the population to 1e-6 (the kernel runs at tol=1e-12,
so 1e-6 leaves room for the conditioning of the Mode B regressions); ML to 1e-5 (the
optimiser stops on a gradient criterion, not on the parameters); invariances compare two fits
of the same numbers in a different order or on another affine scale, to 1e-10.
"""

from __future__ import annotations

import contextlib
import dataclasses
import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

import csisem
from csisem.datasets import population, simulate
from csisem.errors import CSIError, OptionError, SpecError
from csisem.models import (
    Construct,
    Covariance,
    Indicator,
    Mode,
    Model,
    Path,
    parse_lavaan,
    parse_spec,
    to_lavaan,
    to_yaml,
)


def bounded(max_examples: int, *, shrink: bool = True) -> settings:
    """Deterministic, bounded hypothesis settings (no database: nothing is written to disk).

    ``shrink=False`` for tests whose examples are model fits: shrinking a failure can take
    minutes there; the failing example is reported as drawn (and is reproducible).
    """
    phases = tuple(Phase) if shrink else (Phase.explicit, Phase.reuse, Phase.generate)
    return settings(max_examples=max_examples, deadline=None, derandomize=True, database=None,
                    phases=phases,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# ---- strategies ---------------------------------------------------------------------------
_FIRST = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_"
NAMES = st.builds(str.__add__, st.sampled_from(_FIRST),  # model.NAME_PATTERN
                  st.text(_FIRST + "0123456789.", max_size=7))
LABELS = NAMES.filter(lambda s: s != "NA")
FIXED = st.floats(allow_nan=False, allow_infinity=False)
TEXT = st.text(max_size=40)  # any Unicode: line breaks, NEL, quotes, '#', ': ', YAML indicators
MODEL_NAMES = TEXT.filter(lambda s: bool(s.strip()))


def optional(strategy: st.SearchStrategy, enabled: bool = True) -> st.SearchStrategy:
    return st.none() | strategy if enabled else st.none()


@st.composite
def dags(draw: st.DrawFn, k: int) -> list[tuple[int, int]]:
    """Edges (source, target) of a random DAG on 0..k-1 in which every node has an edge:
    node t > 0 gets one to three predecessors among 0..t-1."""
    edges = []
    for t in range(1, k):
        sources = draw(st.lists(st.integers(0, t - 1), min_size=1, max_size=min(t, 3),
                                unique=True))
        edges += [(s, t) for s in sources]
    return edges


@st.composite
def models(draw: st.DrawFn, *, max_constructs: int = 6, modes: tuple[Mode, ...] = tuple(Mode),
           min_indicators: int = 1, max_indicators: int = 4, extras: bool = True) -> Model:
    """A random valid recursive model: 2-6 constructs, every construct on a path; with
    ``extras`` also wording, labels, fixed values, covariances and metadata."""
    k = draw(st.integers(2, max_constructs))
    edges = draw(dags(k))
    sizes = draw(st.lists(st.integers(min_indicators, max_indicators), min_size=k, max_size=k))
    names = draw(st.lists(NAMES, min_size=k + sum(sizes), max_size=k + sum(sizes), unique=True))
    construct_names, indicator_names = names[:k], names[k:]
    constructs = []
    start = 0
    for c, size in enumerate(sizes):
        indicators = tuple(
            Indicator(name, draw(optional(TEXT, extras)), draw(optional(FIXED, extras)),
                      draw(optional(LABELS, extras)))
            for name in indicator_names[start:start + size])
        start += size
        constructs.append(Construct(construct_names[c], indicators, draw(st.sampled_from(modes)),
                                    draw(optional(TEXT, extras)), draw(optional(TEXT, extras))))
    paths = [Path(construct_names[s], construct_names[t], draw(optional(FIXED, extras)),
                  draw(optional(LABELS, extras))) for s, t in edges]
    covariances = []
    if extras:
        for _ in range(draw(st.integers(0, 3))):
            pool = construct_names if draw(st.booleans()) else indicator_names
            left, right = draw(st.sampled_from(pool)), draw(st.sampled_from(pool))
            covariances.append(Covariance(left, right, draw(optional(FIXED)),
                                          draw(optional(LABELS))))
    scale = None
    if extras and draw(st.booleans()):
        lo = draw(st.integers(-5, 5) | st.floats(-5, 5))
        scale = (lo, lo + draw(st.integers(1, 100) | st.floats(0.5, 100)))
    return Model(
        name=draw(MODEL_NAMES) if extras else "random",
        constructs=tuple(draw(st.permutations(constructs))),  # spec order need not be causal
        paths=tuple(draw(st.permutations(paths))),
        covariances=tuple(covariances),
        title=draw(optional(TEXT, extras)), citation=draw(optional(TEXT, extras)),
        description=draw(optional(TEXT, extras)), scale=scale)


# ---- spec round trips ---------------------------------------------------------------------
@bounded(60)
@given(models())
def test_random_models_survive_yaml_and_lavaan_round_trips(model: Model) -> None:
    text = to_yaml(model)
    assert parse_spec(text) == model
    assert to_yaml(parse_spec(text)) == text
    syntax = to_lavaan(model)
    back = parse_lavaan(syntax)
    assert back == model
    assert to_lavaan(back) == syntax
    assert parse_spec(to_yaml(back)) == model  # YAML -> lavaan -> YAML


@pytest.mark.parametrize("text", ["Quality\x85 price", "two\nlines\x85", "\x85"])
def test_nel_in_text_survives_yaml(text: str) -> None:
    # Found by the round trip above: PyYAML writes NEL (U+0085) unescaped in plain, quoted and
    # block scalars and reads it back as a space or line break, so to_yaml double-quotes such
    # text. A cp1252 ellipsis decoded as Latin-1 becomes U+0085, so wordings can hold it.
    model = dataclasses.replace(csisem.load_model("ecsi"), description=text)
    assert parse_spec(to_yaml(model)).description == text


# ---- population recovery ------------------------------------------------------------------
NONZERO_PATH = st.floats(0.15, 0.6) | st.floats(-0.6, -0.15)


def _population_or_reject(model: Model, **kwargs: object) -> csisem.datasets.Population:
    try:
        pop = population(model, **kwargs)  # type: ignore[arg-type]
    except OptionError:  # R² >= 1 or a correlation matrix that is not positive definite
        assume(False)
        raise  # pragma: no cover - assume(False) does not return
    R = pop.construct_correlations.to_numpy()
    # Constructs that are nearly the same variable make every estimator ill-conditioned.
    assume(np.abs(R - np.eye(len(R))).max() < 0.9)
    assume(np.linalg.eigvalsh(pop.sigma.to_numpy()).min() > 1e-3)
    return pop


@bounded(25, shrink=False)
@given(models(modes=(Mode.COMPOSITE_B,), max_indicators=3, extras=False), st.data())
def test_pls_recovers_mode_b_composite_populations_exactly(model: Model, data: st.DataObject,
                                                           ) -> None:
    # All-Mode-B composite population (Dijkstra 2017): PLS is consistent, so on a sample whose
    # correlation matrix is exactly the population's it returns the population weights and
    # paths.
    args: dict[str, object] = {
        "paths": {f"{p.source}->{p.target}": data.draw(NONZERO_PATH) for p in model.paths},
        "weights": {i: data.draw(st.floats(0.2, 1.0)) for i in model.indicator_names},
        "indicator_correlation": data.draw(st.floats(0.0, 0.6)),
        "exogenous_correlation": data.draw(st.floats(0.0, 0.5))}
    pop = _population_or_reject(model, **args)
    sample = simulate(model, len(model.indicator_names) + 30, seed=1, exact=True,
                      **args)  # type: ignore[arg-type]
    result = csisem.fit(model, sample, tol=1e-12, max_iter=1000)
    assert isinstance(result, csisem.PLSResult)
    assert result.converged
    estimated = result.paths.set_index(["source", "target"])["estimate"]
    truth = pop.paths.set_index(["source", "target"])["value"]
    assert_allclose(estimated[truth.index], truth, atol=1e-6)
    w = result.weights.set_index("indicator")["estimate"]
    truth_w = pop.outer.set_index("indicator")["weight"]
    assert_allclose(w[truth_w.index], truth_w, atol=1e-6)


@bounded(8, shrink=False)
@given(models(modes=(Mode.REFLECTIVE,), max_constructs=4, min_indicators=2, max_indicators=3,
              extras=False), st.data())
def test_ml_recovers_reflective_populations_exactly(model: Model, data: st.DataObject) -> None:
    # Exact sample moments: the ML fit is the population model (chi-square 0), so the completely
    # standardised solution equals the standardised population.
    args: dict[str, object] = {
        "paths": {f"{p.source}->{p.target}": data.draw(NONZERO_PATH) for p in model.paths},
        "loadings": {i: data.draw(st.floats(0.5, 0.9)) for i in model.indicator_names},
        "exogenous_correlation": data.draw(st.floats(0.0, 0.5))}
    pop = _population_or_reject(model, **args)
    sample = simulate(model, len(model.indicator_names) + 50, seed=2, exact=True,
                      **args)  # type: ignore[arg-type]
    with warnings.catch_warnings():
        # A perfect fit can give chisq == 0 exactly; Hoelter's N then divides by zero
        # (test_hoelter_n_of_a_perfect_fit_is_computed_without_a_runtime_warning).
        warnings.filterwarnings("ignore", "divide by zero", RuntimeWarning)
        result = csisem.fit(model, sample, method="ml")
    assert isinstance(result, csisem.CBSEMResult)
    assert result.converged
    assert result.admissible
    estimated = result.paths.set_index(["source", "target"])["std_all"]
    truth = pop.paths.set_index(["source", "target"])["value"]
    assert_allclose(estimated[truth.index], truth, atol=1e-5)
    loadings = result.loadings.set_index("indicator")["std_all"]
    truth_l = pop.outer.set_index("indicator")["loading"]
    assert_allclose(loadings[truth_l.index], truth_l, atol=1e-5)


def test_hoelter_n_of_a_perfect_fit_is_computed_without_a_runtime_warning() -> None:
    # Found by the property above: exact-moment data from the model itself can give chisq == 0
    # exactly (npar 26, df 29, N 60 was such a case).
    from csisem.estimation.cbsem_fit import other_indices

    out = other_indices(0.0, 29.0, 60, 26)
    assert not out["cn_05"] < 0


def test_hoelter_n_of_a_chisq_rounded_below_zero_is_not_negative() -> None:
    # The same model on another exact sample gave chisq = -2.1e-13 and cn_05 = -1.2e16.
    from csisem.estimation.cbsem_fit import other_indices

    out = other_indices(-2.1e-13, 29.0, 60, 26)
    assert not out["cn_05"] < 0


# ---- invariances of the PLS estimates (ECSI on mobi) ------------------------------------------
ECSI = csisem.load_model("ecsi")
ECSI_MIXED = dataclasses.replace(ECSI, name="ECSI mixed", constructs=tuple(  # Mode A and B
    dataclasses.replace(c, mode=Mode.COMPOSITE_B) if c.name in ("IMAG", "PERV") else c
    for c in ECSI.constructs))
MOBI = csisem.datasets.load_mobi()
SAME = 1e-10


def _estimates(result: object, *, index: bool = False) -> dict[str, pd.Series]:
    assert isinstance(result, csisem.PLSResult)
    out = {"paths": result.paths.set_index(["source", "target"])["estimate"],
           "weights": result.weights.set_index("indicator")["estimate"],
           "loadings": result.loadings.set_index("indicator")["estimate"],
           "r_squared": result.r_squared}
    if index:
        out["index"] = result.index.set_index("construct")["estimate"]
    return out


def assert_same(a: dict[str, pd.Series], b: dict[str, pd.Series]) -> None:
    assert a.keys() == b.keys()
    for key in a:
        pd.testing.assert_index_equal(a[key].index, b[key].index)
        assert_allclose(a[key].to_numpy(), b[key].to_numpy(), rtol=0, atol=SAME, err_msg=key)


_REFERENCE: dict[tuple[str, str], dict[str, pd.Series]] = {}


def reference(model: Model, scheme: str) -> dict[str, pd.Series]:
    """The fit on mobi as shipped (computed once per model and scheme)."""
    key = (model.name, scheme)
    if key not in _REFERENCE:
        _REFERENCE[key] = _estimates(csisem.fit(model, MOBI, scheme=scheme), index=True)
    return _REFERENCE[key]


MODELS = st.sampled_from([ECSI, ECSI_MIXED])
SCHEMES = st.sampled_from(["path", "centroid", "factorial"])


@bounded(10)
@given(MODELS, SCHEMES, st.permutations(range(len(MOBI))), st.permutations(list(MOBI.columns)))
def test_permuting_rows_and_columns_leaves_the_estimates_unchanged(
        model: Model, scheme: str, rows: list[int], columns: list[str]) -> None:
    # Rows and columns are found by name, so the order of the data is irrelevant; so is the
    # index, which depends only on weights and means.
    expected = reference(model, scheme)
    shuffled = MOBI.iloc[list(rows)]
    assert_same(_estimates(csisem.fit(model, shuffled, scheme=scheme), index=True), expected)
    reordered = MOBI[list(columns)]
    assert_same(_estimates(csisem.fit(model, reordered, scheme=scheme), index=True), expected)


@bounded(10)
@given(MODELS, SCHEMES, st.sampled_from(ECSI.indicator_names), st.floats(0.01, 100),
       st.floats(-100, 100))
def test_rescaling_an_indicator_affinely_leaves_the_estimates_unchanged(
        model: Model, scheme: str, indicator: str, a: float, b: float) -> None:
    # PLS works on correlations, which a*x + b (a > 0) does not change. The 0-100 index does
    # change (it uses unstandardised weights and the item scale), so it is not compared, and
    # the model loses its scale so that the rescaled item is not flagged as off the scale.
    unscaled = dataclasses.replace(model, scale=None)
    data = MOBI.astype(float)
    data[indicator] = a * data[indicator] + b
    expected = {k: v for k, v in reference(model, scheme).items() if k != "index"}
    assert_same(_estimates(csisem.fit(unscaled, data, scheme=scheme)), expected)


@bounded(10)
@given(MODELS, st.floats(0.01, 100), st.floats(-100, 100))
def test_rescaling_every_item_and_the_scale_alike_leaves_the_index_unchanged(
        model: Model, a: float, b: float) -> None:
    # The index is 100 (weighted item mean - lowest) / (highest - lowest): invariant when
    # every item and the scale move together.
    lo, hi = model.scale  # type: ignore[misc]
    rescaled = dataclasses.replace(model, scale=(a * lo + b, a * hi + b))
    result = csisem.fit(rescaled, a * MOBI.astype(float) + b)
    assert_same(_estimates(result, index=True), reference(model, "path"))


# ---- the parsers raise nothing but csisem errors ----------------------------------------------
def _parses_or_raises_csi_error(parse: Callable[[str], Model], text: str) -> None:
    with contextlib.suppress(CSIError):
        parse(text)


@bounded(300)
@given(st.text(max_size=300))
def test_parsers_raise_only_csisem_errors_on_arbitrary_text(text: str) -> None:
    _parses_or_raises_csi_error(parse_spec, text)
    _parses_or_raises_csi_error(parse_lavaan, text)


POOL = st.sampled_from(["A", "B", "C", "a1", "a2", "b1", "b2", "c1", "NA", "1x", "", "A B"])
SCALARS = (st.none() | st.booleans() | st.integers(-3, 3) | st.floats() | st.text(max_size=8)
           | POOL | st.sampled_from(["reflective", "composite_a", "composite_b", "formative"]))
KEYS = (POOL | SCALARS.filter(lambda v: v == v)  # NaN keys are legal YAML, but not useful
        | st.sampled_from(["name", "title", "scale", "constructs", "paths", "covariances",
                           "label", "mode", "indicators", "description", "wording", "fixed",
                           "source", "between"]))
ANY = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                   | st.dictionaries(KEYS, inner, max_size=4), max_leaves=12)


def _either(strategy: st.SearchStrategy) -> st.SearchStrategy:
    """Mostly the spec-shaped value, sometimes anything at all."""
    return st.one_of(strategy, strategy, ANY)


INDICATOR_ITEMS = _either(POOL | st.dictionaries(POOL, ANY, min_size=1, max_size=1)
                          | st.fixed_dictionaries({"name": _either(POOL)}, optional={
                              "wording": ANY, "fixed": ANY, "label": ANY, "colour": ANY}))
CONSTRUCT_BODIES = _either(st.none() | st.lists(INDICATOR_ITEMS, max_size=3)
                           | st.fixed_dictionaries({}, optional={
                               "indicators": _either(st.lists(INDICATOR_ITEMS, max_size=3)),
                               "mode": ANY, "label": ANY, "description": ANY, "mdoe": ANY}))
SOURCES = _either(POOL | st.fixed_dictionaries({"source": _either(POOL)},
                                               optional={"fixed": ANY, "label": ANY}))
PAIRS = _either(st.lists(POOL, min_size=2, max_size=2)
                | st.fixed_dictionaries({"between": _either(st.lists(POOL, max_size=3))},
                                        optional={"fixed": ANY, "label": ANY}))
SPEC_DOCUMENTS = _either(st.fixed_dictionaries({}, optional={
    "name": _either(POOL), "title": ANY, "scale": _either(st.lists(SCALARS, max_size=3)),
    "constructs": _either(st.dictionaries(POOL, CONSTRUCT_BODIES, max_size=4)),
    "paths": _either(st.dictionaries(POOL, _either(st.lists(SOURCES, max_size=3)),
                                     max_size=3)),
    "covariances": _either(st.lists(PAIRS, max_size=3)), "extra": ANY}))


@bounded(200)
@given(SPEC_DOCUMENTS, st.sampled_from([{}, {"default_flow_style": True}]))
def test_spec_parser_raises_only_csisem_errors_on_spec_shaped_garbage(
        document: object, style: dict[str, bool]) -> None:
    _parses_or_raises_csi_error(parse_spec, yaml.safe_dump(document, **style))


@bounded(300)
@given(st.lists(st.sampled_from(["A", "B", "a1", "a2", "b1", "NA", "1", "-0.5", "1e3", "=~",
                                 "<~", "~", "~~", "+", "*", ";", "\n", "\t", "#", "!", "#@",
                                 "#@ name:", "#@ construct A:", "#@ indicator a1:",
                                 "{wording: x}", "{mode: composite_a}", ":", "[", "]", "(", ")",
                                 ",", ":=", "==", "<", "|", "~*~", "?", "start(1)", "c(1,2)",
                                 "label(", "efa(", "'", '"', "-", "&", "*a", "\r", "\u2028"]),
                max_size=25), st.sampled_from([" ", "", "\n"]))
def test_lavaan_parser_raises_only_csisem_errors_on_token_soup(tokens: list[str], sep: str,
                                                               ) -> None:
    _parses_or_raises_csi_error(parse_lavaan, sep.join(tokens))


ECSI_YAML = to_yaml(ECSI)
ECSI_LAVAAN = to_lavaan(ECSI)
YAML_PIECES = ["? ", "[", "]", "{", "}", ": ", "- ", ", ", "&a ", "*a", "<<: ", "!!set ",
               "!foo ", "!!python/tuple ", "!!binary ", "!!str ", "'", '"', "|", ">-", "#", "\n",
               "\t", "  ", "%YAML 1.1\n", "---\n", "...\n", "\\", "\x00", "\ufeff", "\x85",
               "~", "null", "1e400", ".nan", "-.inf", "2001-01-01", "yes", "composite_b", "IMAG",
               "CUEX1", "indicators", "mode", "paths", "source", "fixed", "between"]


@st.composite
def mutated(draw: st.DrawFn, texts: list[str], pieces: list[str]) -> str:
    """A valid spec with a few pieces inserted, or ranges deleted, at random places."""
    text = draw(st.sampled_from(texts))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        if draw(st.booleans()):
            text = text[:at] + draw(st.sampled_from(pieces)) + text[at:]
        else:
            text = text[:at] + text[at + draw(st.integers(1, 40)):]
    return text


@bounded(300)
@given(mutated([ECSI_YAML, to_yaml(ECSI_MIXED)], YAML_PIECES))
def test_spec_parser_raises_only_csisem_errors_on_mutated_specs(text: str) -> None:
    _parses_or_raises_csi_error(parse_spec, text)


@bounded(150)
@given(mutated([ECSI_LAVAAN, to_lavaan(ECSI_MIXED)],
               ["=~", "<~", "~", "~~", "+", "*", ";", "\n", "#", "#@ ", "#@ {[1]: 2}", "NA*",
                "1*", "a*", "(", ")", ":=", "start(0.5)*", "c(1, 2)*", "'", "{", "IMAG", "\r",
                "\x85", "\u2028"]))
def test_lavaan_parser_raises_only_csisem_errors_on_mutated_syntax(text: str) -> None:
    _parses_or_raises_csi_error(parse_lavaan, text)


@pytest.mark.parametrize("text", [
    "? [a, b]\n: 1\n",                          # a list as a key
    "name: x\nconstructs: {A: {? [x]: 1}}\n",   # ... deeper down
    "{? {a: 1} : 2}",                            # a mapping as a key
    "? !!set {a}\n: 1\n",                        # a set as a key
    "base: &b {indicators: [a1]}\n<<: *b\n",     # the YAML merge key
    "? !foo x\n: 1\n",                           # an unknown tag on a key
])
def test_spec_keys_that_are_not_plain_names_are_spec_errors(text: str) -> None:
    with pytest.raises(SpecError, match=r"line \d+"):
        parse_spec(text)


@pytest.mark.parametrize("source", ["null", "[A]", "1"])
def test_path_source_that_is_not_a_name_is_a_spec_error(source: str) -> None:
    # Found while fuzzing: the path is silently left out and the model is built without it.
    text = f"name: x\nconstructs: {{A: [a], B: [b]}}\npaths: {{B: [{{source: {source}}}]}}\n"
    with pytest.raises(SpecError, match=r"paths\.B\[0\]"):
        parse_spec(text)
