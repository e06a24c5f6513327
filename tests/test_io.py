"""Data files by extension (csisem.io): CSV, Excel, SPSS, Stata and Parquet give one result.

The same mobi data, with three "don't know" codes (99) in CUSL2, are written to each format with
the format's own library. SPSS declares 99 user-missing, so it needs no ``missing_codes``; the
other formats carry the code as a value and are read with ``missing_codes=[99]``. Every fit
drops the same three rows, and the estimates agree to 1e-12 (the numbers reach the estimator
unchanged, only the route differs).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import csisem
import csisem.data
from csisem.cli import main
from csisem.errors import DataError, DataWarning, OptionError
from csisem.io import MissingDependencyError, read_data

ATOL = 1e-12
CODED_ROWS = [0, 1, 2]
DROPPED = r"3 of 250 rows have missing indicator values"
LABELS = {1: "not at all", 10: "certainly", 99: "don't know"}


@pytest.fixture
def coded(mobi: pd.DataFrame) -> pd.DataFrame:
    data = mobi.copy()
    data.loc[CODED_ROWS, "CUSL2"] = 99
    return data


@pytest.fixture
def expected(mobi: pd.DataFrame) -> csisem.PLSResult:
    return csisem.fit("ecsi", mobi.drop(index=CODED_ROWS))


def assert_same_estimates(result: csisem.PLSResult, expected: csisem.PLSResult) -> None:
    assert result.n_obs == expected.n_obs == 247
    for table in ("paths", "weights", "loadings"):
        ours, ref = getattr(result, table), getattr(expected, table)
        pd.testing.assert_frame_equal(ours.drop(columns="estimate"),
                                      ref.drop(columns="estimate"))
        assert_allclose(ours["estimate"], ref["estimate"], rtol=0, atol=ATOL)


# ---- writers: each format written with its own library ----------------------------------
def write_csv(data: pd.DataFrame, path: Path) -> None:
    data.to_csv(path, index=False)


def write_tsv(data: pd.DataFrame, path: Path) -> None:
    data.to_csv(path, index=False, sep="\t")


def write_excel(data: pd.DataFrame, path: Path) -> None:
    pytest.importorskip("openpyxl")
    data.to_excel(path, index=False)


def write_spss(data: pd.DataFrame, path: Path) -> None:
    pyreadstat = pytest.importorskip("pyreadstat")
    pyreadstat.write_sav(data, str(path), compress=path.suffix == ".zsav",
                         missing_ranges={"CUSL2": [99]},
                         variable_value_labels={"CUSL2": LABELS},
                         column_labels={"CUSL2": "Would recommend the operator"})


def write_stata(data: pd.DataFrame, path: Path) -> None:
    data.to_stata(path, write_index=False, value_labels={"CUSL2": LABELS},
                  variable_labels={"CUSL2": "Would recommend the operator"})


def write_parquet(data: pd.DataFrame, path: Path) -> None:
    pytest.importorskip("pyarrow")
    data.to_parquet(path)


FORMATS: list[tuple[str, Callable[[pd.DataFrame, Path], None], bool]] = [
    # (file name, writer, does the file itself declare 99 missing?)
    ("survey.csv", write_csv, False),
    ("survey.tsv", write_tsv, False),
    ("survey.xlsx", write_excel, False),
    ("survey.xlsm", write_excel, False),
    ("survey.sav", write_spss, True),
    ("survey.zsav", write_spss, True),
    ("SURVEY.SAV", write_spss, True),
    ("survey.dta", write_stata, False),
    ("survey.parquet", write_parquet, False),
]


@pytest.mark.parametrize(("name", "write", "declared"), FORMATS,
                         ids=[name for name, _, _ in FORMATS])
def test_every_format_gives_the_same_estimates(tmp_path, coded, expected, name, write,
                                               declared):
    path = tmp_path / name
    write(coded, path)
    codes = None if declared else [99]
    with pytest.warns(DataWarning, match=DROPPED):
        result = csisem.fit("ecsi", path, missing_codes=codes)
    assert_same_estimates(result, expected)
    assert result.data_info.n_missing_cells == 3
    assert result.data_info.n_coded_missing == (0 if declared else 3)


@pytest.mark.parametrize(("name", "write", "declared"), FORMATS,
                         ids=[name for name, _, _ in FORMATS])
def test_every_format_reads_the_same_table(tmp_path, coded, name, write, declared):
    path = tmp_path / name
    write(coded, path)
    frame = read_data(str(path))
    assert list(frame.columns) == list(coded.columns)
    want = coded.astype(float)
    if declared:
        want.loc[CODED_ROWS, "CUSL2"] = np.nan
    assert_allclose(frame.to_numpy(dtype=float), want.to_numpy(), rtol=0, atol=0)
    assert frame.attrs["source"] == str(path)
    # the public name used by csisem.fit reads it too
    pd.testing.assert_frame_equal(csisem.data.read_data(path), frame)


def test_spss_keeps_labels_and_user_missing_as_metadata(tmp_path, coded):
    pyreadstat = pytest.importorskip("pyreadstat")
    path = tmp_path / "survey.sav"
    write_spss(coded, path)
    frame = read_data(path)
    attrs = frame.attrs
    assert attrs["format"] == "spss"
    assert attrs["value_labels"] == {"CUSL2": {1.0: "not at all", 10.0: "certainly",
                                               99.0: "don't know"}}
    assert attrs["column_labels"] == {"CUSL2": "Would recommend the operator"}
    assert attrs["missing_ranges"] == {"CUSL2": [(99.0, 99.0)]}
    assert attrs["n_user_missing"] == {"CUSL2": 3}
    json.dumps({k: {c: {str(code): v for code, v in labels.items()}
                    for c, labels in attrs["value_labels"].items()} if k == "value_labels"
                else v for k, v in attrs.items()})  # plain Python values
    # the same cells as pyreadstat's own conversion (user_missing=False: codes become NaN)
    theirs, _ = pyreadstat.read_sav(str(path))
    pd.testing.assert_frame_equal(frame, theirs, check_like=False, check_flags=False)
    assert frame["CUSL2"].isna().sum() == 3


def test_spss_missing_ranges_and_several_codes(tmp_path, mobi):
    pyreadstat = pytest.importorskip("pyreadstat")
    data = mobi.copy()
    data.loc[[0, 1], "PERQ1"] = 97
    data.loc[2, "PERQ1"] = 95
    data.loc[[3, 4], "PERV2"] = 98
    data.loc[5, "PERV2"] = 99
    path = tmp_path / "ranges.sav"
    pyreadstat.write_sav(data, str(path),
                         missing_ranges={"PERQ1": [{"lo": 90, "hi": 100}], "PERV2": [98, 99]})
    frame = read_data(path)
    assert frame.attrs["n_user_missing"] == {"PERQ1": 3, "PERV2": 3}
    assert frame.attrs["missing_ranges"] == {"PERQ1": [(90.0, 100.0)],
                                             "PERV2": [(98.0, 98.0), (99.0, 99.0)]}
    theirs, _ = pyreadstat.read_sav(str(path))
    pd.testing.assert_frame_equal(frame, theirs)
    with pytest.warns(DataWarning, match=r"6 of 250 rows"):
        result = csisem.fit("ecsi", path)
    assert_allclose(result.paths["estimate"],
                    csisem.fit("ecsi", mobi.drop(index=range(6))).paths["estimate"],
                    rtol=0, atol=ATOL)


def test_spss_system_missing_is_missing(tmp_path, mobi):
    pytest.importorskip("pyreadstat")
    data = mobi.astype(float)
    data.loc[[4, 7], "IMAG3"] = np.nan
    path = tmp_path / "sysmis.sav"
    write_spss(data, path)
    frame = read_data(path)
    assert frame["IMAG3"].isna().sum() == 2
    assert frame.attrs["n_user_missing"] == {}


def test_stata_keeps_labels_as_metadata(tmp_path, coded):
    path = tmp_path / "survey.dta"
    write_stata(coded, path)
    frame = read_data(path)
    assert frame.attrs["format"] == "stata"
    assert frame.attrs["value_labels"] == {"CUSL2": LABELS}
    assert frame.attrs["column_labels"] == {"CUSL2": "Would recommend the operator"}
    assert frame["CUSL2"].tolist()[:4] == [99, 99, 99, 4]  # codes, not labels


def test_stata_value_labels_follow_the_label_set_each_variable_uses(tmp_path, mobi):
    # pyreadstat names the label sets 'CUSL20', 'CUSL31', not after the variables
    pyreadstat = pytest.importorskip("pyreadstat")
    path = tmp_path / "sets.dta"
    pyreadstat.write_dta(mobi, str(path),
                         variable_value_labels={"CUSL2": {1: "low"}, "CUSL3": {10: "high"}})
    assert read_data(path).attrs["value_labels"] == {"CUSL2": {1: "low"},
                                                     "CUSL3": {10: "high"}}


def test_stata_missing_values_are_missing(tmp_path, mobi):
    data = mobi.astype(float)
    data.loc[[4, 7], "IMAG3"] = np.nan
    path = tmp_path / "missing.dta"
    data.to_stata(path, write_index=False)
    assert read_data(path)["IMAG3"].isna().sum() == 2


def test_parquet_nulls_are_missing(tmp_path, mobi, expected):
    pytest.importorskip("pyarrow")
    data = mobi.astype("Int64")
    data.loc[CODED_ROWS, "CUSL2"] = pd.NA
    path = tmp_path / "nulls.parquet"
    data.to_parquet(path)
    with pytest.warns(DataWarning, match=DROPPED):
        assert_same_estimates(csisem.fit("ecsi", path), expected)


# ---- Excel sheets -------------------------------------------------------------------------
@pytest.fixture
def workbook(tmp_path, coded, mobi) -> Path:
    pytest.importorskip("openpyxl")
    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame({"note": ["cover sheet"]}).to_excel(writer, sheet_name="About",
                                                         index=False)
        coded.to_excel(writer, sheet_name="Coded", index=False)
        mobi.to_excel(writer, sheet_name="Clean", index=False)
    return path


def test_excel_first_sheet_by_default(workbook):
    frame = read_data(workbook)
    assert list(frame.columns) == ["note"]
    assert frame.attrs["sheet"] == "About"


@pytest.mark.parametrize("sheet", ["Clean", 2, -1])
def test_excel_sheet_by_name_or_position(workbook, mobi, sheet):
    frame = read_data(workbook, sheet=sheet)
    assert frame.attrs["sheet"] == "Clean"
    pd.testing.assert_frame_equal(frame, mobi, check_flags=False)
    assert (frame.dtypes == np.int64).all()
    assert_allclose(csisem.fit("ecsi", frame).paths["estimate"],
                    csisem.fit("ecsi", mobi).paths["estimate"], rtol=0, atol=ATOL)


def test_excel_unknown_sheet_lists_the_sheets(workbook):
    with pytest.raises(DataError, match=r"book\.xlsx' has no sheet named 'Data'; its sheets "
                                        r"are 'About', 'Coded', 'Clean'\."):
        read_data(workbook, sheet="Data")
    with pytest.raises(DataError, match=r"has no sheet at position 3 \(0-based\); it has 3 "
                                        r"sheet\(s\): 'About', 'Coded', 'Clean'\."):
        read_data(workbook, sheet=3)


def test_excel_blank_cells_and_leading_blank_rows(tmp_path, mobi, expected):
    pytest.importorskip("openpyxl")
    data = mobi.astype(float)
    data.loc[CODED_ROWS, "CUSL2"] = np.nan
    path = tmp_path / "blanks.xlsx"
    data.to_excel(path, index=False, startrow=2, startcol=1)  # the table starts at B3
    frame = read_data(path)
    assert list(frame.columns) == list(mobi.columns)
    assert frame["CUSL2"].isna().sum() == 3
    with pytest.warns(DataWarning, match=DROPPED):
        assert_same_estimates(csisem.fit("ecsi", path), expected)


def test_excel_duplicated_header_names_the_columns_by_letter(tmp_path, mobi):
    pytest.importorskip("openpyxl")
    path = tmp_path / "dup.xlsx"
    mobi.rename(columns={"CUEX2": "CUEX1"}).to_excel(path, index=False)
    # pandas alone would rename the second one to 'CUEX1.1' silently
    with pytest.raises(DataError, match=r"dup\.xlsx' has duplicated column names: 'CUEX1' "
                                        r"\(columns A, B\)\. Column names must be unique\."):
        csisem.fit("ecsi", path)


def test_excel_empty_sheet_and_header_only(tmp_path, mobi):
    openpyxl = pytest.importorskip("openpyxl")
    path = tmp_path / "empty.xlsx"
    openpyxl.Workbook().save(path)
    with pytest.raises(DataError, match=r"The sheet 'Sheet' of data file '.*empty\.xlsx' is "
                                        r"empty\."):
        csisem.fit("ecsi", path)
    path = tmp_path / "header.xlsx"
    mobi.head(0).to_excel(path, index=False)
    with pytest.raises(DataError, match=r"header\.xlsx' has a header but no data rows\."):
        csisem.fit("ecsi", path)


def test_sheet_option_only_for_excel(tmp_path, mobi):
    path = tmp_path / "m.csv"
    mobi.to_csv(path, index=False)
    with pytest.raises(OptionError, match=r"sheet='Data' applies only to Excel workbooks "
                                          r"\(\.xlsx, \.xlsm\), and '.*m\.csv' is a CSV file\."):
        read_data(path, sheet="Data")
    with pytest.raises(OptionError, match=r"applies only to Excel"):
        csisem.data.read_data(path, sheet=0)


# ---- errors -------------------------------------------------------------------------------
def message_is_a_sentence(exc_info: pytest.ExceptionInfo) -> None:
    text = str(exc_info.value)
    assert text[0].isupper(), text
    assert text.rstrip().endswith("."), text


@pytest.mark.parametrize("name", ["nope.xlsx", "nope.sav", "nope.dta", "nope.parquet"])
def test_missing_file(tmp_path, name):
    path = tmp_path / name
    with pytest.raises(DataError, match=rf"^Data file {re.escape(repr(str(path)))} does not "
                                        r"exist\.$"):
        csisem.fit("ecsi", path)


@pytest.mark.parametrize("name", ["folder.xlsx", "folder.sav", "folder.parquet"])
def test_directory(tmp_path, name):
    (tmp_path / name).mkdir()
    with pytest.raises(DataError, match=rf"{name}' is a directory, not a file\.$"):
        csisem.fit("ecsi", tmp_path / name)


@pytest.mark.parametrize("name", ["empty.xlsx", "empty.sav", "empty.dta", "empty.parquet"])
def test_empty_file(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"")
    with pytest.raises(DataError, match=rf"^Data file '.*{name}' is empty\.$"):
        csisem.fit("ecsi", path)


@pytest.mark.parametrize(("name", "kind"), [
    ("survey.xlsx", "Excel"), ("survey.xlsm", "Excel"), ("survey.sav", "SPSS"),
    ("survey.zsav", "SPSS"), ("survey.dta", "Stata"), ("survey.parquet", "Parquet"),
])
def test_csv_under_another_extension(tmp_path, mobi, name, kind):
    pytest.importorskip({"Excel": "openpyxl", "SPSS": "pyreadstat", "Stata": "pandas",
                         "Parquet": "pyarrow"}[kind])
    path = tmp_path / name
    mobi.to_csv(path, index=False)
    with pytest.raises(DataError, match=rf"^Data file '.*{re.escape(name)}' is not a valid "
                                        rf"{kind} file: .+\. It looks like a text \(CSV\) file: "
                                        r"give it the \.csv extension\.$") as exc_info:
        csisem.fit("ecsi", path)
    message_is_a_sentence(exc_info)


def test_one_binary_format_under_another_extension(tmp_path, coded):
    pytest.importorskip("pyreadstat")
    pytest.importorskip("openpyxl")
    write_spss(coded, tmp_path / "real.sav")
    (tmp_path / "real.sav").rename(tmp_path / "spss.xlsx")
    with pytest.raises(DataError, match=r"spss\.xlsx' is not a valid Excel file: .*It looks "
                                        r"like an SPSS file: give it the \.sav extension\.$"):
        read_data(tmp_path / "spss.xlsx")
    write_excel(coded, tmp_path / "real.xlsx")
    (tmp_path / "real.xlsx").rename(tmp_path / "excel.sav")
    with pytest.raises(DataError, match=r"excel\.sav' is not a valid SPSS file: .*It looks "
                                        r"like an Excel workbook: give it the \.xlsx "
                                        r"extension\.$"):
        read_data(tmp_path / "excel.sav")


def test_zip_that_is_not_a_workbook(tmp_path):
    pytest.importorskip("openpyxl")
    import zipfile

    path = tmp_path / "archive.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(DataError, match=r"archive\.xlsx' is not a valid Excel file: .*It looks "
                                        r"like a ZIP archive, but not an Excel workbook\.$"):
        read_data(path)


def test_garbage_binary_file(tmp_path):
    pytest.importorskip("pyarrow")
    path = tmp_path / "noise.parquet"
    path.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(DataError, match=r"noise\.parquet' is not a valid Parquet file: "
                                        r"[^\n]+\.$"):
        read_data(path)


@pytest.mark.parametrize("suffix", [".ods", ".xls", ".sas7bdat", ".json", ".rds"])
def test_unsupported_extension_lists_the_supported_ones(tmp_path, suffix):
    path = tmp_path / f"survey{suffix}"
    path.write_bytes(b"anything")
    with pytest.raises(DataError, match=rf"unsupported file type '{re.escape(suffix)}'; csisem "
                                        r"reads CSV files \(\.csv, \.tsv or \.txt\), Excel "
                                        r"workbooks \(\.xlsx, \.xlsm\), SPSS files \(\.sav, "
                                        r"\.zsav\), Stata files \(\.dta\) and Parquet files "
                                        r"\(\.parquet\)\. Export it as CSV") as exc_info:
        csisem.fit("ecsi", path)
    message_is_a_sentence(exc_info)


def test_file_without_rows(tmp_path, mobi):
    pyreadstat = pytest.importorskip("pyreadstat")
    path = tmp_path / "zero.sav"
    pyreadstat.write_sav(mobi.head(0).astype(float), str(path))
    with pytest.raises(DataError, match=r"zero\.sav' has no data rows\.$"):
        csisem.fit("ecsi", path)
    path = tmp_path / "zero.dta"
    mobi.head(0).to_stata(path, write_index=False)
    with pytest.raises(DataError, match=r"zero\.dta' has no data rows\.$"):
        csisem.fit("ecsi", path)


def test_file_without_columns(tmp_path):
    pytest.importorskip("pyarrow")
    path = tmp_path / "nothing.parquet"
    pd.DataFrame(index=range(3)).to_parquet(path)
    with pytest.raises(DataError, match=r"nothing\.parquet' has no columns\.$"):
        read_data(path)


@pytest.mark.parametrize(("module", "name", "extra"), [
    ("openpyxl", "survey.xlsx", "excel"), ("pyreadstat", "survey.sav", "spss"),
    ("pyarrow", "survey.parquet", "parquet"),
])
def test_missing_optional_package_names_the_extra(tmp_path, monkeypatch, module, name, extra):
    path = tmp_path / name
    path.write_bytes(b"not read: the reader is missing")
    monkeypatch.setitem(sys.modules, module, None)  # import fails as if not installed
    with pytest.raises(MissingDependencyError,
                       match=rf"{re.escape(name)}' needs the optional package '{module}', which "
                             rf"is not installed: pip install 'csisem\[{extra}\]'") as exc_info:
        csisem.fit("ecsi", path)
    assert isinstance(exc_info.value, DataError)
    assert isinstance(exc_info.value, ImportError)
    message_is_a_sentence(exc_info)


def test_csv_and_stata_need_no_optional_package(tmp_path, monkeypatch, mobi):
    for module in ("openpyxl", "pyreadstat", "pyarrow"):
        monkeypatch.setitem(sys.modules, module, None)
    mobi.to_csv(tmp_path / "m.csv", index=False)
    mobi.to_stata(tmp_path / "m.dta", write_index=False)
    for name in ("m.csv", "m.dta"):
        assert read_data(tmp_path / name).shape == (250, 24)


# ---- command line -------------------------------------------------------------------------
def run_json(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[dict, str]:
    code = main([str(a) for a in argv] + ["--format", "json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out), captured.err


def estimates(doc: dict) -> dict[str, list[float]]:
    return {table: [row["estimate"] for row in doc[table]]
            for table in ("paths", "weights", "loadings")}


def test_cli_reads_every_format(tmp_path, capsys, coded):
    pytest.importorskip("pyreadstat")
    write_csv(coded, tmp_path / "survey.csv")
    write_spss(coded, tmp_path / "survey.sav")
    from_csv, err = run_json(capsys, "fit", "ecsi", "--data", tmp_path / "survey.csv",
                             "--missing-codes", "98,99")
    assert "3 of 250 rows" in err
    from_sav, err = run_json(capsys, "fit", "ecsi", "--data", tmp_path / "survey.sav")
    assert "3 of 250 rows" in err
    assert from_sav["data"]["n_dropped"] == from_csv["data"]["n_dropped"] == 3
    ours, ref = estimates(from_sav), estimates(from_csv)
    for table in ours:
        assert_allclose(ours[table], ref[table], rtol=0, atol=ATOL)


def test_cli_text_summary_from_an_spss_file(tmp_path, capsys, coded):
    pytest.importorskip("pyreadstat")
    write_spss(coded, tmp_path / "survey.sav")
    assert main(["fit", "ecsi", "--data", str(tmp_path / "survey.sav")]) == 0
    out = capsys.readouterr().out
    assert "CUSL" in out


def test_cli_error_names_the_file(tmp_path, capsys, mobi):
    pytest.importorskip("openpyxl")
    path = tmp_path / "renamed.xlsx"
    mobi.to_csv(path, index=False)
    assert main(["fit", "ecsi", "--data", str(path)]) == 2
    err = capsys.readouterr().err
    assert re.search(r"csisem: error: Data file '.*renamed\.xlsx' is not a valid Excel file",
                     err), err
