"""lavaan syntax: reading, writing, metadata round trips and every SpecError path."""

from __future__ import annotations

import re
from pathlib import Path as FilePath

import pytest

from csisem.errors import SpecError
from csisem.models import (
    Construct,
    Covariance,
    Indicator,
    Mode,
    Model,
    Path,
    load_lavaan,
    load_spec,
    parse_lavaan,
    parse_spec,
    to_lavaan,
    to_yaml,
)

ROOT = FilePath(__file__).resolve().parents[2]
ECSI_YAML = ROOT / "specs" / "ecsi.yaml"

ECSI_LAVAAN = """
# ECSI (Tenenhaus et al. 2005), written by hand
IMAG  =~ IMAG1 + IMAG2 + IMAG3 + IMAG4 + IMAG5
CUEX  =~ CUEX1 + CUEX2 + CUEX3
PERQ  =~ PERQ1 + PERQ2 + PERQ3 + PERQ4 + PERQ5 + PERQ6 + PERQ7
PERV  =~ PERV1 + PERV2
CUSA  =~ CUSA1 + CUSA2 + CUSA3
CUSCO =~ CUSCO
CUSL  =~ CUSL1 + CUSL2 + CUSL3

CUEX  ~ IMAG
PERQ  ~ CUEX
PERV  ~ CUEX + PERQ
CUSA  ~ IMAG + CUEX + PERQ + PERV
CUSCO ~ CUSA
CUSL  ~ IMAG + CUSA + CUSCO
"""

POLITICAL_DEMOCRACY = (FilePath(__file__).parents[1] / "reference" / "data"
                       / "political_democracy.lav").read_text(encoding="utf-8")


def _error_text(text: str, source: str | None = "model.lav") -> str:
    with pytest.raises(SpecError) as info:
        parse_lavaan(text, source=source)
    return str(info.value)


# ---- reading ------------------------------------------------------------------------------
def test_hand_written_ecsi_has_the_structure_of_the_yaml_spec() -> None:
    from_lavaan = parse_lavaan(ECSI_LAVAAN)
    from_yaml = load_spec(ECSI_YAML)
    assert from_lavaan.name == "model"
    assert from_lavaan.construct_names == from_yaml.construct_names
    for ours, theirs in zip(from_lavaan.constructs, from_yaml.constructs, strict=True):
        assert ours.indicator_names == theirs.indicator_names
        assert ours.mode is theirs.mode is Mode.REFLECTIVE
    assert from_lavaan.paths == from_yaml.paths
    assert from_lavaan.covariances == ()


def test_political_democracy_parameter_table_lists_every_relation_in_order() -> None:
    model = parse_lavaan(POLITICAL_DEMOCRACY)
    table = model.parameter_table()
    assert len(table) == 11 + 3 + 6
    assert table["op"].value_counts().to_dict() == {"=~": 11, "~~": 6, "~": 3}
    rows = list(zip(table["lhs"], table["op"], table["rhs"], strict=True))
    assert rows[:3] == [("ind60", "=~", "x1"), ("ind60", "=~", "x2"), ("ind60", "=~", "x3")]
    assert rows[11:14] == [("dem60", "~", "ind60"), ("dem65", "~", "ind60"),
                           ("dem65", "~", "dem60")]
    assert rows[14:] == [("y1", "~~", "y5"), ("y2", "~~", "y4"), ("y2", "~~", "y6"),
                         ("y3", "~~", "y7"), ("y4", "~~", "y8"), ("y6", "~~", "y8")]
    assert table["fixed"].isna().all()
    assert table["label"].isna().all()
    assert model.topological_order == ("ind60", "dem60", "dem65")


def test_modifiers_fix_label_or_free_parameters() -> None:
    model = parse_lavaan("""
        F =~ 1*x1 + a*x2 + NA*x3 + -1*x4 + 1.5e-1*x5 + .5*x6 + 0.25*b*x7 + c*-2E+1*x8
        G =~ g1 + g2
        G ~ -0.5*F
        x1 ~~ 0*x2 + r*x3
    """)
    f = model.construct("F")
    assert [(i.fixed, i.label) for i in f.indicators] == [
        (1.0, None), (None, "a"), (None, None), (-1.0, None), (0.15, None), (0.5, None),
        (0.25, "b"), (-20.0, "c")]
    assert model.paths == (Path("F", "G", fixed=-0.5),)
    assert model.covariances == (Covariance("x1", "x2", fixed=0.0),
                                 Covariance("x1", "x3", label="r"))


def test_composites_use_mode_b_unless_a_metadata_line_says_composite_a() -> None:
    model = parse_lavaan("""
        #@ construct A: {mode: composite_a}
        A <~ a1 + a2
        B <~ b1 + b2
        C =~ c1 + c2
        C ~ A + B
    """)
    assert [c.mode for c in model.constructs] == [Mode.COMPOSITE_A, Mode.COMPOSITE_B,
                                                  Mode.REFLECTIVE]
    assert model.parameter_table()["op"].tolist()[2:4] == ["<~", "<~"]


def test_covariances_between_constructs_indicators_and_variances() -> None:
    model = parse_lavaan("A =~ a1 + a2; B =~ b1 + b2\nA ~~ B\na1 ~~ b1 + a1\nB ~~ B")
    assert model.covariances == (Covariance("A", "B"), Covariance("a1", "b1"),
                                 Covariance("a1", "a1"), Covariance("B", "B"))


def test_comments_separators_continuations_and_repeated_definitions() -> None:
    model = parse_lavaan("""
        ! the structural part comes first: order does not matter
        B ~ A    # A -> B
        A =~ a1 +
             a2 +   # a continued formula may carry comments

             a3
        B =~
            b1; B =~ b2   ! a second line for B is merged
        B =~ b3
           + b4
        C=~c1;C~B;;
    """)
    assert model.construct_names == ("A", "B", "C")  # the order of the first definitions
    assert model.construct("A").indicator_names == ("a1", "a2", "a3")
    assert model.construct("B").indicator_names == ("b1", "b2", "b3", "b4")
    assert model.paths == (Path("A", "B"), Path("B", "C"))


def test_several_names_on_the_left_of_a_regression_or_covariance() -> None:
    model = parse_lavaan("A =~ a; B =~ b; C =~ c; D =~ d\nC + D ~ A + B\nA + B ~~ C")
    assert model.paths == (Path("A", "C"), Path("B", "C"), Path("A", "D"), Path("B", "D"))
    assert model.covariances == (Covariance("A", "C"), Covariance("B", "C"))


def test_metadata_lines_fill_the_fields_lavaan_has_no_place_for() -> None:
    model = parse_lavaan("""
        #@ name: tiny
        #@ title: "A: tiny model"
        #@ scale: [0, 100]
        #@ construct A: {label: Alpha, description: the first}
        #@ indicator a1: {wording: "How much? (0-100)"}
        # an ordinary comment, #@ inside it is not metadata
        A =~ a1 + a2
    """)
    assert model.name == "tiny"
    assert model.title == "A: tiny model"
    assert model.scale == (0, 100)
    a = model.construct("A")
    assert (a.label, a.description) == ("Alpha", "the first")
    assert a.indicators == (Indicator("a1", "How much? (0-100)"), Indicator("a2"))


def test_load_lavaan_names_the_model_after_the_file(tmp_path: FilePath) -> None:
    path = tmp_path / "political_democracy.lav"
    path.write_text(POLITICAL_DEMOCRACY, encoding="utf-8")
    model = load_lavaan(path)
    assert model.name == "political_democracy"
    assert model.source == str(path)


def test_load_lavaan_reports_a_missing_file(tmp_path: FilePath) -> None:
    with pytest.raises(SpecError, match=r"Lavaan file .*missing\.lav' does not exist\."):
        load_lavaan(tmp_path / "missing.lav")


# ---- round trips --------------------------------------------------------------------------
def test_ecsi_round_trips_yaml_to_lavaan_to_yaml_exactly() -> None:
    model = load_spec(ECSI_YAML)
    text = to_lavaan(model)
    assert "IMAG =~ IMAG1 + IMAG2 + IMAG3 + IMAG4 + IMAG5\n" in text
    assert "CUSA ~ IMAG + CUEX + PERQ + PERV\n" in text
    assert text.startswith("# lavaan model syntax written by csisem")
    assert f"#@ name: {model.name}\n" in text
    again = parse_lavaan(text)
    assert again == model
    assert again.construct("IMAG").indicators[0].wording == \
        "It can be trusted in what it says and does."
    assert parse_spec(to_yaml(again)) == model
    assert model.to_lavaan() == text


@pytest.mark.parametrize("spec", sorted((ROOT / "specs").glob("*.yaml")), ids=lambda p: p.stem)
def test_every_catalogue_spec_round_trips_through_lavaan(spec: FilePath) -> None:
    model = load_spec(spec)
    again = parse_lavaan(to_lavaan(model))
    assert again == model
    assert parse_spec(to_yaml(again)) == model


def test_yaml_of_a_parsed_lavaan_model_reads_back_equal() -> None:
    for text in (ECSI_LAVAAN, POLITICAL_DEMOCRACY):
        model = parse_lavaan(text)
        assert parse_spec(to_yaml(model)) == model


def test_every_model_feature_survives_to_lavaan_and_back() -> None:
    model = Model(
        name="yes",  # a YAML boolean word must stay a string
        title="Line one\nline two: \"quoted\" and 'single' # not a comment \u2028 ü",
        citation="", description="Ends with a backslash \\", scale=(1.0, 7.5),
        constructs=(
            Construct("A", (Indicator("a1", "It's #1", fixed=1.0, label="la"),
                            Indicator("a2", "null"))),
            Construct("B", (Indicator("b1", fixed=-0.123456789012345),), Mode.COMPOSITE_A,
                      label="Bee", description="multi\nline"),
            Construct("C", (Indicator("c1", label="lc"), Indicator("c.2")), Mode.COMPOSITE_B),
            Construct("D", (Indicator("D"),), label="123"),
        ),
        # Interleaved targets: Model groups paths by target, so C's two paths share a line.
        paths=(Path("A", "C", fixed=1e-20), Path("A", "B", label="p"), Path("B", "C"),
               Path("C", "D", fixed=2.0, label="q")),
        covariances=(Covariance("a1", "b1", fixed=0.0), Covariance("a1", "a1"),
                     Covariance("c1", "b1", label="r"), Covariance("A", "B")),
    )
    text = to_lavaan(model)
    assert "C ~ 1e-20*A + B\nB ~ p*A\nD ~ 2*q*C\n" in text
    assert "a1 ~~ 0*b1 + a1\nc1 ~~ r*b1\nA ~~ B\n" in text
    assert "B <~ -0.123456789012345*b1\n" in text
    assert parse_lavaan(text) == model


def test_models_lavaan_syntax_cannot_hold_are_refused() -> None:
    a = Construct("A", (Indicator("a1", fixed=float("inf")),))
    with pytest.raises(SpecError, match=r"indicators\[0\]: Fixed value inf must be a finite"):
        Model("m", (a,))
    b = Construct("B", (Indicator("b1", label="two words"),))
    with pytest.raises(SpecError, match=r"Label 'two words' is not valid"):
        Model("m", (b,))


# ---- syntax errors ------------------------------------------------------------------------
def test_syntax_error_shows_line_column_and_a_caret() -> None:
    text = "# ECSI\nCUEX =~ CUEX1\nIMAG =~ + IMAG1\n"
    expected = ("model.lav:3:9: Expected an indicator name after '=~', found '+'.\n"
                "  IMAG =~ + IMAG1\n"
                "          ^")
    assert _error_text(text) == expected


def test_caret_keeps_tabs_so_it_lines_up() -> None:
    message = _error_text("F =~ a\n\tG =~ b + + c", source=None)
    assert message.startswith("<string>:2:11: Expected an indicator name after '+'")
    assert message.endswith("\n  \tG =~ b + + c\n  \t         ^")


def test_formula_ending_in_plus_at_the_end_of_the_text() -> None:
    with pytest.raises(SpecError, match=r"model\.lav:1:9: Expected an indicator name after "
                                        r"'\+', found the end of the statement\."):
        parse_lavaan("F =~ a +\n\n# nothing follows\n", source="model.lav")


@pytest.mark.parametrize(("text", "message"), [
    ("F =~ a\nF a1", r":2:3: Expected an operator \(=~, <~, ~ or ~~\) after 'F', found 'a1'\."),
    ("F =~ a\nF", r":2:2: Expected an operator .* found the end of the statement\."),
    ("F =~ a b", r":1:8: Expected '\+' or the end of the statement after 'a', found 'b'\."),
    ("F =~ a ~ b", r":1:8: Expected '\+' or the end of the statement after 'a', found '~'\."),
    ("1 =~ a", r":1:1: Expected a name at the start of the statement, found '1'\."),
    ("F + G =~ a", r":1:5: Put one construct on the left of '=~'; found 2\."),
    ("F =~ 0.5 + a", r":1:6: Expected '\*' and a name after the value '0\.5'"),
    ("F =~ a*b*x", r":1:8: Two labels for one parameter \('a', 'b'\)\."),
    ("F =~ 1*NA*x", r":1:8: Two values for one parameter \('1', 'NA'\)\."),
    ("F =~ 'x1'", r":1:6: Unexpected character \"'\"\."),
    ("F => a", r":1:3: Unknown operator '=>'; csisem reads =~, <~, ~ and ~~\."),
    ("F =~ a\nG <- F", r":2:3: Unknown operator '<-'"),
])
def test_syntax_errors_name_the_problem_and_its_position(text: str, message: str) -> None:
    with pytest.raises(SpecError, match=r"model\.lav" + message):
        parse_lavaan(text, source="model.lav")


@pytest.mark.parametrize(("text", "message"), [
    ("F =~ a + b\nab := a*b", r":2:4: The lavaan operator ':=' \(defined parameters\)"),
    ("F =~ a + b\na == b", r":2:3: The lavaan operator '==' \(equality constraints\)"),
    ("F =~ a + b\na > 0", r":2:3: The lavaan operator '>' \(inequality constraints\)"),
    ("F =~ a + b\na < 1", r":2:3: The lavaan operator '<' \(inequality constraints\)"),
    ("u1 | t1 + t2", r":1:4: The lavaan operator '\|' \(thresholds\)"),
    ("y1 ~*~ y1", r":1:4: The lavaan operator '~\*~' \(scaling factors\)"),
    ("F =~ 0.5?a", r":1:9: The lavaan operator '\?' \(start values\)"),
    ("F =~ c(1, 2)*a", r":1:6: The modifier 'c\(\.\.\.\)' \(multi-group modifiers\)"),
    ("F =~ start(0.5)*a", r":1:6: The modifier 'start\(\.\.\.\)' \(start values\)"),
    ("F =~ a\nG =~ g\nG ~ 1", r":3:5: Intercepts \('~ 1'\) are"),
    ("F =~ a\nG =~ g\nG ~ 1 + F", r":3:5: Intercepts \('~ 1'\)"),
    ("F =~ a\nG =~ g\nG ~ 0*1", r":3:7: Intercepts \('~ 1'\)"),
])
def test_unsupported_lavaan_features_are_refused(text: str, message: str) -> None:
    with pytest.raises(SpecError, match=r"model\.lav" + message + ".*not supported by csisem"):
        parse_lavaan(text, source="model.lav")


def test_every_syntax_error_is_reported_not_only_the_first() -> None:
    with pytest.raises(SpecError, match=r"3 problems") as info:
        parse_lavaan("F =~ a\nG =~ + b\nH ~ 1\nH =~ h\n#@ titel: x", source="m.lav")
    assert [(p.line, p.column) for p in info.value.problems] == [(2, 6), (3, 5), (5, 4)]


# ---- model problems mapped to lines -------------------------------------------------------
def test_path_from_an_unknown_construct_points_at_its_name() -> None:
    text = "IMAG =~ IMAG1\nCUSA =~ CUSA1\nCUSA ~ IMAG + CUEX\n"
    with pytest.raises(SpecError, match=r"model\.lav:3:15: paths\.CUSA\[1\]: .*'CUEX'"
                                        r".*not a construct.*\n"
                                        r"  CUSA ~ IMAG \+ CUEX\n {16}\^"):
        parse_lavaan(text, source="model.lav")


def test_path_into_an_unknown_construct_points_at_the_target() -> None:
    with pytest.raises(SpecError, match=r":2:3: paths\.CUSSA: .*'CUSSA' is not a "
                                        r"construct.*'CUSA'"):
        parse_lavaan("CUSA =~ c1; IMAG =~ i1\n  CUSSA ~ IMAG", source="m.lav")


def test_indicator_in_two_constructs_points_at_the_second_use() -> None:
    text = "A =~ a1 + a2\n\nB =~ b1\nB =~ b2 + a2\n"
    with pytest.raises(SpecError, match=r"model\.lav:4:11: constructs\.B\.indicators\[2\]: "
                                        r".*'a2'.*'A' and 'B'"):
        parse_lavaan(text, source="model.lav")


def test_cycle_points_at_the_path_that_closes_it() -> None:
    text = "A =~ a\nB =~ b\nC =~ c\nB ~ A\nC ~ B\nA ~ C\n"
    with pytest.raises(SpecError, match=r"model\.lav:6:5: paths: .*"
                                        r"cyclic \(A -> B -> C -> A\)"):
        parse_lavaan(text, source="model.lav")


def test_bad_covariance_and_several_model_problems_are_all_listed() -> None:
    text = "A =~ a1 + a2\nA ~~ a1\nA ~ A\nA =~ a1\n"
    with pytest.raises(SpecError, match=r"3 problems") as info:
        parse_lavaan(text, source="model.lav")
    found = [(p.line, p.column, p.where) for p in info.value.problems]
    assert found == [(2, 6, "covariances[0]"), (3, 5, "paths.A[0]"),
                     (4, 6, "constructs.A.indicators[2]")]


def test_text_without_constructs_says_how_to_define_one() -> None:
    with pytest.raises(SpecError, match=r"The model defines no constructs; add a line such "
                                        r"as 'F =~ x1 \+ x2'\."):
        parse_lavaan("# only a comment\n")


def test_construct_defined_with_two_operators() -> None:
    with pytest.raises(SpecError, match=r":2:1: Construct 'A' is defined with both '=~' and "
                                        r"'<~'; use one operator\."):
        parse_lavaan("A =~ a1\nA <~ a2", source="m.lav")


# ---- metadata problems --------------------------------------------------------------------
@pytest.mark.parametrize(("text", "message"), [
    ('#@ title: "unclosed\nA =~ a', r"m\.lav:1:\d+: Cannot read the '#@' line as YAML: "
                                    r"found unexpected end of stream\."),
    ("A =~ a\n  #@ title: a: b", r"m\.lav:2:14: Cannot read the '#@' line as YAML: mapping "
                                 r"values are not allowed here\."),
    ("#@ just a note\nA =~ a", r"m\.lav:1:4: A '#@' line holds one 'key: value' entry"),
    ("#@ titel: x\nA =~ a", r"m\.lav:1:4: Unknown '#@' key 'titel'\. Did you mean 'title'\?"),
    ("#@ name: a\n#@ name: b\nA =~ a", r"m\.lav:2:4: '#@ name' appears twice"),
    ("#@ scale: [10, 1]\nA =~ a", r"m\.lav:1:4: scale: .*"
                                  r"10, 1"),
    ("#@ scale: 10\nA =~ a", r"m\.lav:1:4: scale must be a list \[lowest, highest\]"),
    ("#@ name: ''\nA =~ a", r"m\.lav:1:4: name: .*name"),
    ("#@ title: [a]\nA =~ a", r"m\.lav:1:4: Expected text for title, found \['a'\]\."),
    ("#@ construct B: {label: b}\nA =~ a", r"'#@ construct B' describes a construct that no"),
    ("#@ indicator b: {wording: b}\nA =~ a", r"'#@ indicator b' describes an indicator that"),
    ("#@ construct A: Alpha\nA =~ a", r"'#@ construct A' needs a mapping such as \{label"),
    ("#@ construct A: {lable: x}\nA =~ a", r"Unknown key 'lable' in '#@ construct A'"),
    ("#@ construct A: {mode: formative}\nA =~ a", r"Unknown mode 'formative'"),
    ("#@ construct A: {mode: composite_a}\nA =~ a", r"m\.lav:1:4: Construct 'A' has mode "
                                                    r"'composite_a' but is defined with '=~'"),
])
def test_metadata_problems_point_at_their_line(text: str, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        parse_lavaan(text, source="m.lav")


def test_yaml_error_in_metadata_has_a_caret_under_the_column() -> None:
    message = _error_text("A =~ a\n#@ title: a: b")
    line, caret = message.splitlines()[-2:]
    assert line == "  #@ title: a: b"
    assert caret.index("^") == line.index(": b")
    assert re.match(r"model\.lav:2:12: ", message)


def test_a_single_indicator_gets_its_zero_error_variance_written_out() -> None:
    # lavaan's sem() fixes it itself (auto.fix.single); semopy does not, so the exported text
    # says it, and reading it back gives the same model (it is csisem's assumption too).
    model = load_spec(ROOT / "specs" / "acsi.yaml")
    text = to_lavaan(model)
    assert text.rstrip().endswith("COMP1 ~~ 0*COMP1")
    assert text.count("~~ 0*") == 1
    assert parse_lavaan(text) == model
    # A written covariance of the indicator with itself is kept as the user wrote it.
    labelled = parse_lavaan(text.replace("COMP1 ~~ 0*COMP1", "COMP1 ~~ v*COMP1"))
    assert [(c.left, c.right, c.label) for c in labelled.covariances] == [
        ("COMP1", "COMP1", "v")]
    assert "COMP1 ~~ 0*COMP1" not in to_lavaan(labelled)


def test_semopy_fits_the_exported_syntax_as_csisem_does() -> None:
    import warnings

    import numpy as np
    import semopy

    import csisem
    from csisem.datasets import simulate

    model = load_spec(ROOT / "specs" / "acsi.yaml")
    data = simulate(model, 2000, seed=3, on_scale=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = csisem.fit(model, data, method="ml")
        sm = semopy.Model(to_lavaan(model))
        sm.fit(data)
    theirs = sm.inspect()
    for path in model.paths:
        row = theirs[(theirs.lval == path.target) & (theirs.op == "~")
                     & (theirs.rval == path.source)]
        mine = ours.paths[(ours.paths.source == path.source)
                          & (ours.paths.target == path.target)].estimate.iloc[0]
        # semopy's SLSQP stops earlier than csisem's Fisher scoring (benchmarks: within 4e-4)
        assert float(row.Estimate.iloc[0]) == pytest.approx(mine, abs=2e-3), path
    assert np.isfinite(theirs.Estimate.astype(float)).all()


def test_zero_variance_of_an_indicator_named_like_its_construct_is_kept() -> None:
    # 'B ~~ 0*B' with B both a construct and its indicator means the construct (names of
    # constructs take precedence): a real constraint, written and read back as it is.
    model = Model(name="t", constructs=(
        Construct("A", (Indicator("a1"), Indicator("a2"), Indicator("a3"))),
        Construct("B", (Indicator("B"),))), paths=(Path("A", "B"),),
        covariances=(Covariance("B", "B", 0.0),))
    assert model.covariances == (Covariance("B", "B", 0.0),)
    text = to_lavaan(model)
    assert "a single indicator" not in text
    assert parse_lavaan(text) == model


def test_a_redundant_zero_error_variance_does_not_change_the_model() -> None:
    plain = load_spec(ROOT / "specs" / "acsi.yaml")
    stated = Model(name=plain.name, constructs=plain.constructs, paths=plain.paths,
                   covariances=(Covariance("COMP1", "COMP1", 0.0),), title=plain.title,
                   citation=plain.citation, description=plain.description, scale=plain.scale)
    assert stated.covariances == ()
    assert parse_lavaan(to_lavaan(stated)) == stated
