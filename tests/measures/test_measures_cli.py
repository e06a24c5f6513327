"""``csisem ahp | servqual | kano | nps``: exit codes, text and JSON output, files, errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from csisem.cli import main

HOUSE_CSV = """\
,size,transportation,neighborhood,age,yard,modern,condition,financing
size,1,5,3,7,6,6,1/3,1/4
transportation,,1,1/3,5,3,3,1/5,1/7
neighborhood,,,1,6,3,4,6,1/5
age,,,,1,1/3,1/4,1/7,1/8
yard,,,,,1,1/2,1/5,1/6
modern,,,,,,1,1/5,1/6
condition,,,,,,,1,1/2
financing,,,,,,,,1
"""


def run(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def user_error(code: int, out: str, err: str, pattern: str) -> None:
    """Exit 2, nothing on stdout, one ``csisem: error: ...`` line ending in a full stop."""
    assert code == 2
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    message = lines[0].removeprefix("csisem: error: ")
    assert re.search(pattern, message), message
    assert message.endswith("."), message


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "house.csv").write_text(HOUSE_CSV, encoding="utf-8")
    (tmp_path / "three.csv").write_text(",a,b,c\na,1,2,4\nb,,1,2\nc,,,1\n", encoding="utf-8")
    survey = pd.DataFrame({f"{kind}{k}": [5, 5] for kind in "EP" for k in range(1, 23)})
    survey.loc[0, "P5"] = 3
    survey.to_csv(tmp_path / "servqual.csv", index=False)
    pd.DataFrame({"f1": [1, 1, 2], "d1": [5, 5, 5], "f2": [3, 4, 1],
                  "d2": [3, 3, 2]}).to_csv(tmp_path / "kano.csv", index=False)
    (tmp_path / "pairs.yaml").write_text("speed: [f1, d1]\nstyle: [f2, d2]\n",
                                         encoding="utf-8")
    pd.DataFrame({"rec": [10, 9, 9, 8, 7, 6, 5, 0, 10, 3]}).to_csv(tmp_path / "nps.csv",
                                                                     index=False)
    return tmp_path


def test_ahp_text_and_json(capsys: pytest.CaptureFixture[str], files: Path) -> None:
    code, out, err = run(capsys, "ahp", files / "three.csv")
    assert (code, err) == (0, "")
    assert "CR          0.000 (acceptable: limit 0.1)" in out
    code, out, err = run(capsys, "ahp", files / "three.csv", "--format", "json",
                         "--method", "geometric_mean")
    assert (code, err) == (0, "")
    payload = json.loads(out)
    assert payload["priorities"] == pytest.approx({"a": 4 / 7, "b": 2 / 7, "c": 1 / 7})
    assert payload["method"] == "geometric_mean"


def test_ahp_inconsistent_matrix_is_an_error_naming_the_file(
        capsys: pytest.CaptureFixture[str], files: Path) -> None:
    code, out, err = run(capsys, "ahp", files / "house.csv")
    user_error(code, out, err, r"^AHP matrix 'house\.csv' is too inconsistent: CR = 0\.169 "
                               r"> 0\.1 .*--allow-inconsistent\)\.$")
    code, out, err = run(capsys, "ahp", files / "house.csv", "--allow-inconsistent",
                         "--format", "json")
    assert code == 0
    assert err.startswith("csisem: warning: AHP matrix 'house.csv' is too inconsistent")
    assert json.loads(out)["consistency_ratio"] == pytest.approx(0.169, abs=5e-4)
    assert run(capsys, "ahp", files / "house.csv", "--max-cr", "0.2")[0] == 0


def test_ahp_bad_matrix_and_missing_file(capsys: pytest.CaptureFixture[str],
                                         tmp_path: Path) -> None:
    (tmp_path / "bad.csv").write_text(",a,b\na,1,3\nb,3,1\n", encoding="utf-8")
    user_error(*run(capsys, "ahp", tmp_path / "bad.csv"),
               r"AHP matrix 'bad\.csv' is not reciprocal: cell \(a, b\) = 3 but \(b, a\) = 3")
    user_error(*run(capsys, "ahp", tmp_path / "none.csv"), r"none\.csv' does not exist\.")


def test_servqual_text_json_chart_and_overwrite(capsys: pytest.CaptureFixture[str],
                                                files: Path) -> None:
    # P5 = 3 for respondent 1: item 5 gap -1, reliability -.2, overall -.04.
    data = files / "servqual.csv"
    code, out, err = run(capsys, "servqual", "--data", data, "--format", "json",
                         "--importance", "TAN=1,REL=1,RES=1,ASS=1,EMP=1")
    assert (code, err) == (0, "")
    payload = json.loads(out)
    assert payload["gap"] == pytest.approx(-0.04)
    assert payload["weighted_gap"] == pytest.approx(-0.04)
    chart, target = files / "gaps.svg", files / "gaps.txt"
    code, out, err = run(capsys, "servqual", "--data", data, "--chart", chart, "-o", target)
    assert (code, out, err) == (0, "", "")
    assert chart.read_text(encoding="utf-8").startswith("<?xml")
    assert target.read_text(encoding="utf-8").startswith("SERVQUAL gaps (perception - ")
    # Existing files are refused before any work, unless --force.
    user_error(*run(capsys, "servqual", "--data", data, "--chart", chart),
               r"--chart '.*gaps\.svg' already exists; pass --force to overwrite it\.")
    user_error(*run(capsys, "servqual", "--data", data, "-o", target),
               r"--output '.*gaps\.txt' already exists; pass --force")
    assert run(capsys, "servqual", "--data", data, "-o", target, "--chart", chart,
               "--force")[0] == 0


def test_servqual_missing_items(capsys: pytest.CaptureFixture[str], files: Path) -> None:
    pd.DataFrame({"E1": [5], "P1": [5]}).to_csv(files / "few.csv", index=False)
    user_error(*run(capsys, "servqual", "--data", files / "few.csv"),
               r"The item pairs of spec 'SERVQUAL': column\(s\) 'E2', .* not in the data")


def test_kano_pairs_file_and_inline(capsys: pytest.CaptureFixture[str], files: Path) -> None:
    # speed: (1,5) O, (1,5) O, (2,5) M -> O; style: (3,3) I, (4,3) I, (1,2) A -> I
    code, out, err = run(capsys, "kano", "--data", files / "kano.csv", "--pairs",
                         files / "pairs.yaml", "--format", "json")
    assert (code, err) == (0, "")
    attrs = {a["attribute"]: a for a in json.loads(out)["attributes"]}
    assert (attrs["speed"]["category"], attrs["style"]["category"]) == ("O", "I")
    assert attrs["speed"]["better"] == pytest.approx(2 / 3)
    code, out, err = run(capsys, "kano", "--data", files / "kano.csv", "--pairs",
                         "speed=f1:d1", "--chart", files / "kano.svg")
    assert (code, err) == (0, "")
    assert (files / "kano.svg").read_text(encoding="utf-8").startswith("<?xml")
    assert "one-dimensional" in out


def test_kano_pairs_with_missing_columns(capsys: pytest.CaptureFixture[str],
                                         files: Path) -> None:
    user_error(*run(capsys, "kano", "--data", files / "kano.csv", "--pairs", "speed=f1:d9"),
               r"Kano pairs: column\(s\) 'd9' not in the data")


def test_nps(capsys: pytest.CaptureFixture[str], files: Path) -> None:
    code, out, err = run(capsys, "nps", "--data", files / "nps.csv", "--column", "rec",
                         "--format", "json")
    assert (code, err) == (0, "")
    payload = json.loads(out)
    assert payload["nps"] == pytest.approx(0.0)
    assert payload["ci"] == pytest.approx([-55.437, 55.437], abs=1e-3)
    code, out, err = run(capsys, "nps", "--data", "mobi", "--column", "CUSL1")
    assert (code, err) == (0, "")
    assert out.startswith("Net Promoter Score\n")


def test_nps_out_of_range_is_a_user_error(capsys: pytest.CaptureFixture[str],
                                          files: Path) -> None:
    pd.DataFrame({"rec": [10, 12, 3]}).to_csv(files / "bad_nps.csv", index=False)
    user_error(*run(capsys, "nps", "--data", files / "bad_nps.csv", "--column", "rec"),
               r"^NPS column 'rec': row 1 holds 12, which is outside 0-10")
    code, _, err = run(capsys, "nps", "--data", files / "nps.csv")
    assert code == 2
    assert "--column" in err
