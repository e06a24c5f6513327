"""YAML specs: every validation problem is reported with file, line and key path."""

from __future__ import annotations

from pathlib import Path

import pytest

from csisem.errors import SpecError
from csisem.models import Construct, Indicator, Mode, Model, load_spec, parse_spec
from csisem.models import Path as PathSpec

SPECS = Path(__file__).parents[2] / "specs"

VALID = """\
name: tiny
scale: [1, 10]
constructs:
  A:
    indicators: [a1, a2]
  B:
    mode: composite_b
    indicators:
      - b1: How good is it?
      - {name: b2, wording: "How cheap is it?", fixed: 1.0, label: lb2}
paths:
  B: [A]
covariances:
  - [a1, a2]
"""

NO_COV = VALID.split("covariances:")[0]


def _problems(text: str) -> list[str]:
    with pytest.raises(SpecError) as info:
        parse_spec(text, source="spec.yaml")
    return [str(p) for p in info.value.problems]


def test_valid_spec_builds_the_model() -> None:
    m = parse_spec(VALID)
    assert m.construct_names == ("A", "B")
    assert m.construct("B").mode is Mode.COMPOSITE_B
    assert m.construct("B").indicators[0] == Indicator("b1", "How good is it?")
    assert m.construct("B").indicators[1] == Indicator("b2", "How cheap is it?", 1.0, "lb2")
    assert m.paths == (PathSpec("A", "B"),)
    assert m.scale == (1, 10)
    assert len(m.covariances) == 1


def test_yaml_round_trip_is_exact() -> None:
    m = parse_spec(VALID)
    assert parse_spec(m.to_yaml()) == m
    ecsi = load_spec(SPECS / "ecsi.yaml")
    assert parse_spec(ecsi.to_yaml()) == ecsi


def test_yaml_syntax_error_gives_line_and_column() -> None:
    problems = _problems("name: x\nconstructs:\n  A: [a1, a2\n")
    assert len(problems) == 1
    assert problems[0].startswith("spec.yaml:4:1: YAML syntax error")


def test_unknown_key_with_did_you_mean() -> None:
    text = VALID.replace("    mode: composite_b", "    mdoe: composite_b")
    (problem,) = _problems(text)
    assert problem.startswith("spec.yaml:7:5: constructs.B.mdoe: Unknown key 'mdoe'. "
                              "Did you mean 'mode'?")


def test_unknown_top_level_key() -> None:
    (problem,) = _problems(VALID.replace("scale:", "scales:"))
    assert problem.split(" Allowed keys")[0] == \
        "spec.yaml:2:1: scales: Unknown key 'scales'. Did you mean 'scale'?"


def test_path_naming_an_unknown_construct() -> None:
    (problem,) = _problems(VALID.replace("B: [A]", "B: [AA]"))
    assert problem == ("spec.yaml:12:7: paths.B[0]: Path source 'AA' (-> B) is not a "
                       "construct. Did you mean 'A'?")


def test_path_target_unknown() -> None:
    (problem,) = _problems(VALID.replace("B: [A]", "C: [A]"))
    assert problem.startswith("spec.yaml:12:3: paths.C: Path target 'C' is not a construct")


def test_indicator_in_two_constructs() -> None:
    (problem,) = _problems(VALID.replace("- b1: How", "- a2: How"))
    assert problem == ("spec.yaml:9:9: constructs.B.indicators[0]: Indicator 'a2' is used by "
                       "constructs 'A' and 'B'; an indicator can measure only one construct.")


def test_construct_without_indicators() -> None:
    (problem,) = _problems(NO_COV.replace("indicators: [a1, a2]", "indicators: []"))
    assert problem.startswith("spec.yaml:5:5: constructs.A.indicators: Construct 'A' has no "
                              "indicators")


def test_cyclic_structural_model() -> None:
    (problem,) = _problems(VALID.replace("  B: [A]", "  B: [A]\n  A: [B]"))
    assert "spec.yaml:11:1: paths: The structural model is cyclic (A -> B -> A)" in problem


def test_duplicate_construct_names() -> None:
    text = NO_COV.replace("paths:", "  A:\n    indicators: [a3]\npaths:")
    (problem,) = _problems(text)
    assert problem.startswith("spec.yaml:11:3: constructs.A: Key 'A' appears twice")


def test_duplicate_indicator_within_a_construct() -> None:
    (problem,) = _problems(VALID.replace("[a1, a2]", "[a1, a1]"))
    assert "constructs.A.indicators[1]: Indicator 'a1' is listed twice" in problem


def test_construct_and_indicator_with_the_same_name() -> None:
    (problem,) = _problems(NO_COV.replace("[a1, a2]", "[a1, B]"))
    assert "Name 'B' is used both for a construct and for an indicator of 'A'" in problem


def test_unknown_mode_explains_formative() -> None:
    (problem,) = _problems(VALID.replace("composite_b", "formative"))
    assert "Unknown mode 'formative'. A formative (Mode B) construct is 'composite_b'." in problem


def test_every_problem_is_reported_in_file_order() -> None:
    text = VALID.replace("mode: composite_b", "mdoe: composite_b").replace("B: [A]", "B: [Z]")
    problems = _problems(text)
    assert len(problems) == 2
    assert problems[0].startswith("spec.yaml:7:5")
    assert problems[1].startswith("spec.yaml:12:7")


def test_self_loop_and_repeated_path() -> None:
    problems = _problems(VALID.replace("B: [A]", "B: [A, A, B]"))
    assert any("paths.B[1]: Path A -> B is listed twice" in p for p in problems)
    assert any("paths.B[2]: Path B -> B points a construct at itself" in p for p in problems)


def test_covariance_with_unknown_name() -> None:
    (problem,) = _problems(VALID.replace("[a1, a2]\n", "[a1, a2]\n", 1).replace(
        "- [a1, a2]", "- [a1, zz]"))
    assert "covariances[0]: Covariance names 'zz'" in problem


def test_bad_scale_and_missing_name() -> None:
    problems = _problems(VALID.replace("name: tiny\n", "").replace("[1, 10]", "[10, 1]"))
    assert any("Missing required key 'name'" in p for p in problems)
    assert any("scale must be [lowest, highest]" in p for p in problems)


def test_empty_file_and_non_mapping() -> None:
    assert "found an empty file" in _problems("")[0]
    assert "found a list" in _problems("- a\n- b\n")[0]


def test_load_spec_missing_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"Spec file '.*nope\.yaml' does not exist\."):
        load_spec(tmp_path / "nope.yaml")


def test_load_spec_reports_the_file_path(tmp_path: Path) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text(VALID.replace("B: [A]", "B: [Q]"), encoding="utf-8")
    with pytest.raises(SpecError, match=r"bad\.yaml:12:7: paths\.B\[0\]: Path source 'Q'"):
        load_spec(f)


def test_model_built_in_python_is_validated_too() -> None:
    with pytest.raises(SpecError, match=r"paths\.B\[0\]: Path source 'X' \(-> B\) is not a"):
        Model(name="m", constructs=(Construct("A", (Indicator("a"),)),
                                    Construct("B", (Indicator("b"),))),
              paths=(PathSpec("X", "B"),))


def test_model_is_immutable_and_hashable() -> None:
    m = parse_spec(VALID)
    with pytest.raises(AttributeError):
        m.name = "other"  # type: ignore[misc]
    assert hash(m) == hash(parse_spec(VALID))


def test_huge_spec_fails_fast_with_a_size_error() -> None:
    with pytest.raises(SpecError, match=r"The spec is 1,000,0\d\d characters long"):
        parse_spec("name: x\n" + "#" * 1_000_000)


def test_yaml_alias_bomb_and_deep_nesting_are_refused() -> None:
    bomb = 'a: &a ["x","x","x","x","x","x","x","x","x"]\n' + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 9) + "]\n"
        for i in range(8))
    with pytest.raises(SpecError, match=r"more than 100,000 values \(YAML aliases expand it\)"):
        parse_spec(bomb)
    with pytest.raises(SpecError, match=r"nested more than 20 levels deep"):
        parse_spec("a: " + "[" * 50 + "]" * 50)


def test_specs_are_never_executed() -> None:
    # The safe loader refuses Python object tags instead of constructing them.
    with pytest.raises(SpecError, match=r"line 1, column 7: name: YAML tag "
                                        r"'tag:yaml.org,2002:python/object/apply:os.system' is "
                                        r"not allowed"):
        parse_spec("name: !!python/object/apply:os.system ['echo pwned']\nconstructs: {}\n")
