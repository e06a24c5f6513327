"""The ``csisem`` command line, run in-process through ``csisem.cli.main`` (one test runs the
real entry point in a subprocess).

Reference values are csisem's own ECSI/mobi fit (path scheme unless stated), which agrees with
seminr and SmartPLS in tests/reference; rtol=1e-6 is the tolerance of our iterative PLS against
itself (STYLE.md section 11). Fits of twin specs (YAML/lavaan) must give identical numbers.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path as FilePath

import pytest
import yaml

import csisem
import csisem.cli
from csisem.cli import main

RTOL = 1e-6

ECSI_PLAIN_LAVAAN = """\
# ECSI written by hand: plain lavaan, no '#@' metadata
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

TINY_SPEC = """\
name: tiny
constructs:
  A:
    indicators: [a1, a2]
  B:
    indicators: [b1, b2]
paths:
  B: [A]
"""


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    code, out, err = run(capsys, *argv, "--format", "json")
    assert code == 0, err
    return json.loads(out)  # fails unless stdout holds exactly one JSON document


def assert_user_error(code: int, out: str, err: str, pattern: str, *,
                      capital: bool = True) -> str:
    """Exit code 2, nothing on stdout, one ``csisem: error:`` line matching ``pattern``.

    The message ends with a full stop; with ``capital`` it also starts with a capital letter
    (off for messages that start with a file location, a quoted name or ``argument=``).
    """
    assert code == 2
    assert out == ""
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("csisem: error: ")
    message = lines[0].removeprefix("csisem: error: ")
    assert re.search(pattern, message), message
    assert message.endswith("."), message
    if capital:
        assert message[0].isupper(), message
    return message


def estimates(doc: dict) -> dict:
    return {k: doc[k] for k in ("paths", "loadings", "weights")}


def find(records: list[dict], **keys: str) -> float:
    (match,) = [r for r in records if all(r[k] == v for k, v in keys.items())]
    return match["estimate"]


@pytest.fixture(scope="module")
def ecsi_json() -> dict:
    """The API's fit of ECSI to mobi, as the CLI's JSON must print it."""
    return json.loads(csisem.fit("ecsi", "mobi").to_json())


@pytest.fixture
def spec_file(tmp_path: FilePath):
    """Write ``text`` (dedented) to ``tmp_path/name`` and return the path."""

    def write(name: str, text: str) -> FilePath:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write


# ---- models / show / validate -------------------------------------------------------------
def test_models_lists_the_catalogue_in_aligned_columns(capsys):
    code, out, err = run(capsys, "models")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].split() == ["name", "constructs", "indicators", "paths", "title"]
    names = [line.split()[0] for line in lines[1:]]
    assert names == ["acsi", "ccsi", "csi6", "ecsi", "epsi", "ncsb", "scsb", "servqual"]
    ecsi_line = lines[1 + names.index("ecsi")]
    assert ecsi_line.split()[1:4] == ["7", "24", "12"]
    assert "European Customer Satisfaction Index" in ecsi_line
    title_columns = {line.index(line.split(maxsplit=4)[4]) for line in lines}
    assert len(title_columns) == 1  # every title starts in the same column


def test_show_describes_constructs_and_paths(capsys):
    code, out, err = run(capsys, "show", "ecsi")
    assert (code, err) == (0, "")
    assert out.startswith("ECSI: European Customer Satisfaction Index")
    assert "Item scale: 1 to 10" in out
    assert "  IMAG (Image) [reflective]\n    IMAG1: It can be trusted" in out
    assert "Structural paths\n  CUEX <- IMAG\n" in out
    assert "  CUSA <- IMAG, CUEX, PERQ, PERV\n" in out


def test_show_yaml_round_trips_to_the_same_model(capsys, tmp_path):
    code, out, err = run(capsys, "show", "ecsi", "--format", "yaml")
    assert (code, err) == (0, "")
    assert yaml.safe_load(out)["name"] == "ECSI"
    path = tmp_path / "ecsi.yaml"
    path.write_text(out, encoding="utf-8")
    assert csisem.load_model(path) == csisem.load_model("ecsi")


def test_show_lavaan_prints_model_syntax(capsys):
    code, out, err = run(capsys, "show", "ecsi", "--format", "lavaan")
    assert (code, err) == (0, "")
    assert "IMAG =~ IMAG1 + IMAG2 + IMAG3 + IMAG4 + IMAG5\n" in out
    assert "CUSL ~ IMAG + CUSA + CUSCO\n" in out
    assert "#@ name: ECSI\n" in out


def test_validate_spec_only(capsys):
    code, out, err = run(capsys, "validate", "ecsi")
    assert (code, err) == (0, "")
    assert out == "Spec OK: ECSI: 7 constructs, 24 indicators, 12 paths.\n"


def test_validate_with_data(capsys):
    code, out, err = run(capsys, "validate", "ecsi", "--data", "mobi")
    assert (code, err) == (0, "")
    assert "Data OK: 250 usable rows of 250; all 24 indicators present and numeric." in out


def test_validate_reports_data_warnings_on_stderr(capsys, tmp_path, mobi):
    data = mobi.copy()
    data.loc[0, "CUSA1"] = 99
    path = tmp_path / "coded.csv"
    data.to_csv(path, index=False)
    code, out, err = run(capsys, "validate", "ecsi", "--data", path)
    assert code == 0
    assert "Data OK" in out
    assert err.startswith("csisem: warning: Values outside the spec's item scale [1, 10] in "
                          "CUSA1 (1)")


def test_validate_columns_without_data_is_a_user_error(capsys):
    assert_user_error(*run(capsys, "validate", "ecsi", "--columns", "q1=IMAG1"),
                      r"^The --columns option only applies with --data\.$")


# ---- fit ----------------------------------------------------------------------------------
def test_fit_text_output_has_every_section(capsys):
    code, out, err = run(capsys, "fit", "ecsi", "--data", "mobi")
    assert (code, err) == (0, "")
    for heading in ("csisem — PLS path model", "Model ", "Observations  250",
                    "Converged     yes", "Path coefficients", "R²",
                    "Outer loadings and weights", "Total effects"):
        assert heading in out, heading
    assert re.search(r"IMAG\s+CUEX\s+0\.505\b", out)


def test_fit_json_has_the_documented_keys_and_values(capsys):
    doc = run_json(capsys, "fit", "ecsi", "--data", "mobi")
    assert {"model", "method", "scheme", "n_obs", "converged", "n_iter", "paths", "loadings",
            "weights", "r_squared"} <= doc.keys()
    assert (doc["model"], doc["method"], doc["scheme"]) == ("ECSI", "pls", "path")
    assert (doc["n_obs"], doc["converged"]) == (250, True)
    assert isinstance(doc["n_iter"], int)
    assert doc["n_iter"] > 0
    assert set(doc["paths"][0]) == {"source", "target", "estimate"}
    assert set(doc["loadings"][0]) == {"construct", "indicator", "estimate"}
    assert set(doc["weights"][0]) == {"construct", "indicator", "estimate"}
    assert len(doc["paths"]) == 12
    assert len(doc["loadings"]) == len(doc["weights"]) == 24
    assert find(doc["paths"], source="IMAG", target="CUEX") == pytest.approx(0.50491393,
                                                                             rel=RTOL)
    assert find(doc["loadings"], indicator="IMAG1") == pytest.approx(0.74520807, rel=RTOL)
    assert find(doc["weights"], indicator="IMAG1") == pytest.approx(0.30131215, rel=RTOL)
    assert doc["r_squared"]["CUEX"] == pytest.approx(0.254938, rel=RTOL)


def test_fit_json_equals_the_api_result(capsys, ecsi_json):
    assert run_json(capsys, "fit", "ecsi", "--data", "mobi") == ecsi_json


def test_fit_output_file(capsys, tmp_path, ecsi_json):
    target = tmp_path / "fit.json"
    code, out, err = run(capsys, "fit", "ecsi", "--data", "mobi", "--format", "json",
                         "--output", target)
    assert (code, out, err) == (0, "", "")
    assert json.loads(target.read_text(encoding="utf-8")) == ecsi_json


def test_fit_output_to_missing_folder_is_a_user_error(capsys, tmp_path):
    target = tmp_path / "no" / "such" / "dir" / "fit.txt"
    assert_user_error(*run(capsys, "fit", "ecsi", "--data", "mobi", "-o", target),
                      r"^Cannot write the --output file '.*fit\.txt': No such file or "
                      r"directory\.$")


def test_fit_centroid_scheme(capsys):
    doc = run_json(capsys, "fit", "ecsi", "--data", "mobi", "--scheme", "centroid")
    assert doc["scheme"] == "centroid"
    assert find(doc["paths"], source="IMAG", target="CUEX") == pytest.approx(0.50470564,
                                                                             rel=RTOL)


def test_fit_csv_path(capsys, tmp_path, mobi, ecsi_json):
    path = tmp_path / "mobi.csv"
    mobi.to_csv(path, index=False)
    assert estimates(run_json(capsys, "fit", "ecsi", "--data", path)) == estimates(ecsi_json)


def test_fit_columns_renaming(capsys, tmp_path, mobi, ecsi_json):
    path = tmp_path / "renamed.csv"
    mobi.rename(columns={"IMAG1": "q1", "CUSL2": "switch_price"}).to_csv(path, index=False)
    doc = run_json(capsys, "fit", "ecsi", "--data", path,
                   "--columns", "q1=IMAG1, switch_price=CUSL2")
    assert estimates(doc) == estimates(ecsi_json)


def test_fit_columns_mapping_file(capsys, tmp_path, mobi, ecsi_json):
    path = tmp_path / "renamed.csv"
    mobi.rename(columns={"IMAG1": "q1"}).to_csv(path, index=False)
    mapping = tmp_path / "columns.yaml"
    mapping.write_text("q1: IMAG1\n", encoding="utf-8")
    doc = run_json(capsys, "fit", "ecsi", "--data", path, "--columns", mapping)
    assert estimates(doc) == estimates(ecsi_json)


def test_fit_missing_values_warn_on_stderr_and_keep_stdout_json(capsys, tmp_path, mobi):
    data = mobi.astype(float)
    data.loc[[3, 4], "PERQ2"] = float("nan")
    path = tmp_path / "holes.csv"
    data.to_csv(path, index=False)
    code, out, err = run(capsys, "fit", "ecsi", "--data", path, "--format", "json")
    assert code == 0
    assert json.loads(out)["data"]["n_dropped"] == 2
    assert err == ("csisem: warning: 2 of 250 rows have missing indicator values (2 cells; "
                   "most in PERQ2) and were dropped (missing='listwise').\n")


# ---- lavaan twins -------------------------------------------------------------------------
def test_lavaan_export_fits_exactly_like_the_yaml_twin(capsys, tmp_path):
    _, lavaan_text, _ = run(capsys, "show", "ecsi", "--format", "lavaan")
    _, yaml_text, _ = run(capsys, "show", "ecsi", "--format", "yaml")
    (tmp_path / "ecsi.lav").write_text(lavaan_text, encoding="utf-8")
    (tmp_path / "ecsi.yaml").write_text(yaml_text, encoding="utf-8")
    from_lavaan = run_json(capsys, "fit", tmp_path / "ecsi.lav", "--data", "mobi")
    from_yaml = run_json(capsys, "fit", tmp_path / "ecsi.yaml", "--data", "mobi")
    assert from_lavaan["model"] == from_yaml["model"] == "ECSI"
    assert estimates(from_lavaan) == estimates(from_yaml)


def test_plain_lavaan_fits_exactly_like_the_catalogue_model(capsys, tmp_path, ecsi_json):
    path = tmp_path / "ecsi_plain.lav"
    path.write_text(ECSI_PLAIN_LAVAAN, encoding="utf-8")
    doc = run_json(capsys, "fit", path, "--data", "mobi")
    assert doc["model"] == "ecsi_plain"  # named after the file without '#@ name:'
    assert estimates(doc) == estimates(ecsi_json)


# ---- user errors: exit code 2, one line, no traceback ---------------------------------------
def test_unknown_catalogue_name_suggests_the_closest(capsys):
    assert_user_error(*run(capsys, "fit", "ecsy", "--data", "mobi"),
                      r"^'ecsy' is neither a catalogue model nor a spec file\. Did you mean "
                      r"'ecsi'\?", capital=False)


def test_missing_spec_file(capsys, tmp_path):
    assert_user_error(*run(capsys, "fit", tmp_path / "nope.yaml", "--data", "mobi"),
                      r"^Spec file '.*nope\.yaml' does not exist\.$")


@pytest.mark.parametrize(
    ("name", "edit", "pattern"),
    [
        ("unknown_key", lambda s: s.replace("name: tiny\n", "name: tiny\ncolour: red\n"),
         r"unknown_key\.yaml:2(:\d+)?: colour: Unknown key 'colour'\. Allowed keys: name, "),
        ("unknown_path", lambda s: s.replace("B: [A]", "B: [A, C]"),
         r"unknown_path\.yaml:8(:\d+)?: paths\.B\[1\]: Path source 'C' .*is not a "
         r"construct"),
        ("indicator_twice", lambda s: s.replace("[b1, b2]", "[b1, a2]"),
         r"indicator_twice\.yaml:6(:\d+)?: constructs\.B\.indicators\[1\]: Indicator 'a2' is "
         r"used by constructs 'A' and 'B'"),
        ("no_indicators", lambda s: s.replace("[b1, b2]", "[]"),
         r"no_indicators\.yaml:6(:\d+)?: constructs\.B\.indicators: Construct 'B' has no "
         r"indicators"),
        ("cycle", lambda s: s + "  A: [B]\n",
         r"cycle\.yaml:\d+(:\d+)?: paths.*: The structural model is cyclic \(A -> B -> A\)"),
        ("duplicate_construct", lambda s: s.replace("paths:", "  A:\n    indicators: [c1]\n"
                                                              "paths:"),
         r"duplicate_construct\.yaml:7(:\d+)?: constructs\.A: Key 'A' appears twice"),
    ],
)
def test_invalid_yaml_spec_names_file_line_and_key(capsys, tmp_path, name, edit, pattern):
    path = tmp_path / f"{name}.yaml"
    path.write_text(edit(TINY_SPEC), encoding="utf-8")
    message = assert_user_error(*run(capsys, "validate", path), pattern, capital=False)
    assert message.startswith(str(path))


def test_yaml_syntax_error_names_the_line(capsys, spec_file):
    path = spec_file("broken.yaml", "name: [unclosed\n")
    assert_user_error(*run(capsys, "validate", path),
                      r"broken\.yaml:2(:\d+)?: YAML syntax error", capital=False)


def test_spec_file_of_unknown_format(capsys, spec_file):
    path = spec_file("model.json", "{}")
    assert_user_error(*run(capsys, "show", path),
                      r"Cannot tell the format of spec file .*model\.json")


def test_data_file_lacking_a_column(capsys, tmp_path, mobi):
    path = tmp_path / "short.csv"
    mobi.drop(columns="CUSL2").to_csv(path, index=False)
    assert_user_error(*run(capsys, "fit", "ecsi", "--data", path),
                      r"^The data lack 1 indicator column of model 'ECSI': 'CUSL2' \(closest: ")


def test_unknown_dataset_name(capsys):
    assert_user_error(*run(capsys, "fit", "ecsi", "--data", "mobbi"),
                      r"^No bundled data set 'mobbi'\. Did you mean 'mobi'\?")


def test_missing_data_file(capsys, tmp_path):
    assert_user_error(*run(capsys, "fit", "ecsi", "--data", tmp_path / "gone.csv"),
                      r"^Data file '.*gone\.csv' does not exist\.$")


@pytest.mark.parametrize(("columns", "pattern"), [
    ("q1", r"The --columns entry 'q1' is not of the form DATA_COLUMN=INDICATOR"),
    ("q1=IMAG1,=IMAG2", r"The --columns entry '=IMAG2' is not of the form"),
    ("q1=IMAG1,q1=IMAG2", r"The --columns option maps data column 'q1' twice\."),
    (" ", r"The --columns option is empty"),
])
def test_bad_columns_syntax(capsys, columns, pattern):
    assert_user_error(*run(capsys, "fit", "ecsi", "--data", "mobi", "--columns", columns),
                      pattern)


def test_columns_mapping_file_that_is_not_a_mapping(capsys, spec_file):
    path = spec_file("cols.yaml", "- q1\n- IMAG1\n")
    assert_user_error(*run(capsys, "fit", "ecsi", "--data", "mobi", "--columns", path),
                      r"must hold a mapping data_column: indicator\.")


def test_columns_naming_an_unknown_data_column(capsys):
    assert_user_error(*run(capsys, "fit", "ecsi", "--data", "mobi", "--columns", "zz=IMAG1"),
                      r"names data column 'zz', which is not in the data")


def test_bad_option_value_from_the_api(capsys):
    assert_user_error(*run(capsys, "fit", "ecsi", "--data", "mobi", "--tol", "5"),
                      r"^tol=5\.0 must be a number between 0 and 1", capital=False)


@pytest.mark.parametrize(("argv", "pattern"), [
    ([], r"The following arguments are required: COMMAND"),
    (["fitt"], r"invalid choice: 'fitt'"),
    (["fit", "ecsi"], r"The following arguments are required: --data"),
    (["fit", "ecsi", "--data", "mobi", "--scheme", "cent"], r"invalid choice: 'cent'"),
    (["fit", "ecsi", "--data", "mobi", "--max-iter", "many"], r"invalid int value: 'many'"),
])
def test_argument_errors_exit_2_with_a_csisem_error_line(capsys, argv, pattern):
    code, out, err = run(capsys, *argv)
    assert (code, out) == (2, "")
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if line.startswith("csisem: error: ")]
    assert len(errors) == 1, err
    assert re.search(pattern, errors[0])
    assert errors[0].endswith("--help').")
    assert err.startswith("usage: csisem")


def test_help_and_version_exit_0(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0
    assert "examples:" in out
    assert "csisem fit ecsi --data mobi" in out
    code, out, _ = run(capsys, "--version")
    assert (code, out) == (0, f"csisem {csisem.__version__}\n")


# ---- internal errors: exit code 1, short message; --debug shows the traceback -------------
def test_internal_error_exits_1_with_a_short_message(capsys, monkeypatch):
    def broken(*args, **kwargs):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(csisem.cli, "fit", broken)
    code, out, err = run(capsys, "fit", "ecsi", "--data", "mobi")
    assert (code, out) == (1, "")
    assert err == ("csisem: internal error (ZeroDivisionError: boom). Please report it; rerun "
                   "with --debug for the traceback.\n")
    with pytest.raises(ZeroDivisionError, match="boom"):
        main(["--debug", "fit", "ecsi", "--data", "mobi"])
    with pytest.raises(ZeroDivisionError, match="boom"):
        main(["fit", "ecsi", "--data", "mobi", "--debug"])


# ---- the real entry points ----------------------------------------------------------------
def test_python_m_csisem_cli_runs_in_a_subprocess(ecsi_json):
    proc = subprocess.run([sys.executable, "-m", "csisem.cli", "fit", "ecsi", "--data", "mobi",
                           "--format", "json"], capture_output=True, text=True, timeout=60,
                          check=False)
    assert (proc.returncode, proc.stderr) == (0, "")
    assert json.loads(proc.stdout) == ecsi_json


def test_console_script_reports_user_errors_with_exit_code_2():
    script = shutil.which("csisem", path=str(FilePath(sys.executable).parent))
    if script is None:
        pytest.skip("the csisem console script is not installed next to this Python")
    proc = subprocess.run([script, "fit", "ecsy", "--data", "mobi"], capture_output=True,
                          text=True, timeout=60, check=False)
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr.startswith("csisem: error: 'ecsy' is neither a catalogue model")
    assert "Traceback" not in proc.stderr


# ---- inference, weights, missing codes (PLS issue) ------------------------------------------
def test_bootstrap_options_reach_the_json(capsys):
    d = run_json(capsys, "fit", "ecsi", "--data", "mobi", "--bootstrap", "300", "--seed", "4",
                 "--jobs", "2", "--ci-level", "0.9", "--quiet")
    api = csisem.fit("ecsi", "mobi", bootstrap=300, seed=4, ci_level=0.9)
    first = d["paths"][0]
    assert first["std_error"] == pytest.approx(api.paths["std_error"][0], abs=1e-15)
    assert first["ci_lower"] == pytest.approx(api.paths["ci_lower"][0], abs=1e-15)
    assert {"quality", "htmt", "f_squared", "q_squared", "fit"} <= set(d)


def test_plsc_weights_and_missing_codes_from_the_cli(capsys, tmp_path):
    data = csisem.datasets.load_mobi()
    data["wgt"] = 1.0 + (data["CUSA1"] > 7)
    data.loc[[0, 1], "CUSL2"] = 99
    path = tmp_path / "survey.csv"
    data.to_csv(path, index=False)
    code, out, err = run(capsys, "fit", "ecsi", "--data", str(path), "--weights", "wgt",
                         "--missing-codes", "98,99", "--method", "plsc", "--format", "json")
    assert code == 0, err
    d = json.loads(out)
    assert d["method"] == "plsc"
    assert d["data"]["n_coded_missing"] == 2
    assert d["data"]["weighted"] is True
    assert "2 of 250 rows have missing indicator values" in err
    assert "csisem: warning: Consistent PLS gives an inadmissible solution" in err


@pytest.mark.parametrize(("args", "message"), [
    (["--bootstrap", "-1"], "bootstrap=-1 must be a non-negative integer"),
    (["--missing-codes", "9x"], "--missing-codes: '9x' must be numbers separated by commas"),
    (["--weights", "nope"], "weights='nope' is not a column of the data"),
    (["--ci-level", "95", "--bootstrap", "10"], "ci_level=95.0 must be between 0 and 1"),
])
def test_bad_inference_options_exit_2(capsys, args, message):
    code, _out, err = run(capsys, "fit", "ecsi", "--data", "mobi", *args)
    assert code == 2
    assert message in err
    assert "Traceback" not in err


# ---- satisfaction-index outputs -------------------------------------------------------------
def test_fit_prints_the_index_table_and_json_has_index_and_impacts(capsys):
    code, out, err = run(capsys, "fit", "ecsi", "--data", "mobi")
    assert code == 0, err
    assert "Index scores (0-100)" in out
    assert "Impacts (index change for a 5-point rise in the driver)" in out
    d = run_json(capsys, "fit", "ecsi", "--data", "mobi", "--bootstrap", "200", "--seed", "1")
    assert d["index"]["CUSA"]["estimate"] == pytest.approx(
        csisem.fit("ecsi", "mobi").index.set_index("construct").loc["CUSA", "estimate"])
    assert d["index"]["CUSA"]["ci_lower"] < d["index"]["CUSA"]["estimate"]
    assert {"source", "target", "impact", "ci_lower"} <= set(d["impacts"][0])


def test_ipma_command_writes_the_map(capsys, tmp_path):
    target = tmp_path / "map.png"
    code, out, err = run(capsys, "ipma", "ecsi", "--data", "mobi", "--target", "CUSL",
                         "-o", target)
    assert code == 0, err
    assert target.stat().st_size > 10_000
    assert "Importance-performance map: target CUSL" in out
    code, out, err = run(capsys, "ipma", "ecsi", "--data", "mobi", "--target", "NOPE")
    assert_user_error(code, out, err, r"target='NOPE' is not a construct", capital=False)


def test_output_files_are_not_overwritten_without_force(capsys, tmp_path):
    target = tmp_path / "fit.json"
    target.write_text("keep me", encoding="utf-8")
    code, out, err = run(capsys, "fit", "ecsi", "--data", "mobi", "-o", target)
    assert_user_error(code, out, err, r"--output '.*fit\.json' already exists; pass --force",
                      capital=False)
    assert target.read_text(encoding="utf-8") == "keep me"
    code, _, err = run(capsys, "fit", "ecsi", "--data", "mobi", "-o", target, "--force")
    assert code == 0, err
    assert target.read_text(encoding="utf-8").startswith("csisem")


# ---- fit --by and aggregate (csisem.fit_groups, csisem.aggregate) --------------------------
@pytest.fixture
def company_files(tmp_path, mini_spec):
    """Spec, survey, weights and GDP shares of 12 simulated companies (120 respondents each)."""
    spec = tmp_path / "mini.yaml"
    spec.write_text(mini_spec, encoding="utf-8")
    data, weights, gdp = csisem.datasets.simulate_companies(
        csisem.load_model(spec), n_companies=12, n_industries=4, n_sectors=2,
        n_per_company=120, seed=4)
    files = {"spec": spec, "data": tmp_path / "survey.csv", "weights": tmp_path / "weights.csv",
             "gdp": tmp_path / "gdp.csv"}
    data.to_csv(files["data"], index=False)
    weights.to_csv(files["weights"], index=False)
    gdp.to_csv(files["gdp"], index=False)
    return files


def test_fit_by_company_then_aggregate_from_one_line_each(capsys, tmp_path, company_files):
    import io

    import numpy as np
    import pandas as pd

    f = company_files
    fits = tmp_path / "fits.json"
    code, out, err = run(capsys, "fit", f["spec"], "--data", f["data"], "--by", "company",
                         "--bootstrap", "200", "--seed", "1", "--jobs", "2", "--format", "json",
                         "-o", fits)
    assert code == 0, err
    assert out == ""
    payload = json.loads(fits.read_text(encoding="utf-8"))
    assert len(payload["groups"]) == 12
    assert len(payload["groups"][0]["draws"]["CUSA"]) == 200
    code, out, err = run(capsys, "aggregate", "--indices", fits, "--weights", f["weights"],
                         "--gdp", f["gdp"], "--format", "csv")
    assert code == 0, err
    table = pd.read_csv(io.StringIO(out))
    # Independent check: revenue-weighted means of the company indices in the JSON.
    companies = pd.DataFrame({"company": [g["key"]["company"] for g in payload["groups"]],
                              "index": [g["index"]["CUSA"]["index"] for g in payload["groups"]]})
    frame = companies.merge(pd.read_csv(f["weights"]), on="company")
    frame["weighted"] = frame["index"] * frame["revenue"]
    sums = frame.groupby("sector")[["weighted", "revenue"]].sum()
    sector = sums["weighted"] / sums["revenue"]
    shares = pd.read_csv(f["gdp"]).set_index("sector")["gdp_share"]
    got = table.set_index(["level", "name"])["index"]
    np.testing.assert_allclose(got.loc["sector"].loc[sector.index], sector, rtol=1e-12)
    assert got.loc[("national", "national")] == pytest.approx(
        (sector * shares).sum() / shares.sum(), rel=1e-12)
    assert (table["std_error"].notna()).all()
    code, out, err = run(capsys, "aggregate", "--indices", fits, "--weights", f["weights"])
    assert code == 0, err
    assert "bootstrap draws propagated (200 per company)" in out


def test_fit_by_writes_a_csv_table_that_aggregate_reads(capsys, tmp_path, company_files):
    import pandas as pd

    f = company_files
    table = tmp_path / "groups.csv"
    code, out, err = run(capsys, "fit", f["spec"], "--data", f["data"], "--by", "company",
                         "--min-n", "121", "--format", "csv", "-o", table)
    assert code == 0, err
    frame = pd.read_csv(table)
    assert (frame["status"] == "too_small").all()
    code, out, err = run(capsys, "aggregate", "--indices", table, "--weights", f["weights"])
    assert_user_error(code, out, err, r"The fit of company 'C01' \(too_small\), .* did not "
                                      r"succeed")
    code, out, err = run(capsys, "fit", f["spec"], "--data", f["data"], "--by", "company")
    assert code == 0, err
    assert "Index (0-100) by group" in out


@pytest.mark.parametrize(("argv", "pattern", "capital"), [
    (["fit", "{spec}", "--data", "{data}", "--by", "compnay"],
     r"by='compnay' is not a column of the data\. Did you mean 'company'\?", False),
    (["fit", "{spec}", "--data", "{data}", "--format", "csv"],
     r"--format csv writes the per-group table; it needs --by COLUMN", False),
    (["aggregate", "--indices", "{data}", "--weights", "{weights}"],
     r"The indices table needs an 'index' column", True),
    (["aggregate", "--indices", "{weights}", "--weights", "{gdp}"],
     r"The indices table needs an 'index' column", True),
    (["aggregate", "--indices", "{spec}.json", "--weights", "{weights}"],
     r"--indices: cannot read '.*mini\.yaml\.json'", False),
])
def test_fit_by_and_aggregate_user_errors(capsys, company_files, argv, pattern, capital):
    args = [a.format(**company_files) for a in argv]
    code, out, err = run(capsys, *args)
    assert_user_error(code, out, err, pattern, capital=capital)
