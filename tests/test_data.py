"""Bad data through ``csisem.fit``: every DataError/DataWarning names the column, row or file.

Each case goes through the public API (``csisem.fit("ecsi", data)``) so that the message a user
sees is the one tested. Estimates compared between two fits of the same numbers use
rtol=1e-10: the computation is identical, only the route to the data differs.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import csisem
from csisem.data import prepare_data, read_data
from csisem.errors import DataError, DataWarning, OptionError

RTOL_SAME = 1e-10


def assert_same_estimates(a: csisem.PLSResult, b: csisem.PLSResult) -> None:
    for table in ("paths", "loadings", "weights"):
        left, right = getattr(a, table), getattr(b, table)
        pd.testing.assert_frame_equal(left.drop(columns="estimate"),
                                      right.drop(columns="estimate"))
        assert_allclose(left["estimate"], right["estimate"], rtol=RTOL_SAME)


def message_is_a_sentence(exc_info: pytest.ExceptionInfo) -> None:
    text = str(exc_info.value)
    assert text[0].isupper(), text
    assert text.rstrip().endswith("."), text


@pytest.fixture
def mobi_float(mobi: pd.DataFrame) -> pd.DataFrame:
    return mobi.astype(float)


# ---- columns ------------------------------------------------------------------------------
def test_missing_indicator_column_is_named_with_closest_columns(mobi):
    data = mobi.rename(columns={"CUSL2": "CUSL_2"})
    with pytest.raises(DataError, match=r"lack 1 indicator column of model 'ECSI': 'CUSL2' "
                                        r"\(closest: CUSL_2, ") as exc_info:
        csisem.fit("ecsi", data)
    assert "columns={data_column: indicator}" in str(exc_info.value)
    message_is_a_sentence(exc_info)


def test_missing_columns_without_a_close_match_list_the_data_columns(mobi):
    data = mobi.rename(columns={c: f"q{k}" for k, c in enumerate(mobi.columns)})
    with pytest.raises(DataError, match=r"lack 24 indicator columns .*The data columns are: "
                                        r"q0, q1, .*\(24 in all\)") as exc_info:
        csisem.fit("ecsi", data)
    message_is_a_sentence(exc_info)


def test_duplicated_column_names_are_named(mobi):
    data = pd.concat([mobi, mobi[["IMAG1"]]], axis=1)
    with pytest.raises(DataError, match=r"duplicated column names: IMAG1\. Column names must "
                                        r"be unique\."):
        csisem.fit("ecsi", data)


def test_duplicated_header_in_csv_file_names_column_positions(tmp_path, mobi):
    path = tmp_path / "dup.csv"
    mobi.to_csv(path, index=False)
    lines = path.read_text().splitlines()
    lines[0] = lines[0].replace("CUEX2", "CUEX1")
    path.write_text("\n".join(lines) + "\n")
    # pandas would silently rename the second one to 'CUEX1.1'
    with pytest.raises(DataError, match=r"dup\.csv' has duplicated column names: 'CUEX1' "
                                        r"\(columns 1, 2\)\."):
        csisem.fit("ecsi", path)


# ---- values -------------------------------------------------------------------------------
def test_non_numeric_column_names_first_bad_value_and_row(mobi):
    data = mobi.astype(object)
    data.loc[5, "PERQ3"] = "n/a"
    data.loc[9, "PERQ3"] = "?"
    with pytest.raises(DataError, match=r"Column 'PERQ3' is not numeric: row 6 \(index 5\) "
                                        r"holds 'n/a' \(2 non-numeric values in all\)\.") \
            as exc_info:
        csisem.fit("ecsi", data)
    message_is_a_sentence(exc_info)


def test_non_numeric_row_uses_the_callers_index(mobi):
    data = mobi.set_axis([f"r{k}" for k in range(len(mobi))], axis=0).astype(object)
    data.loc["r42", "CUSA1"] = "high"
    with pytest.raises(DataError, match=r"'CUSA1' is not numeric: row 43 \(index 'r42'\) "
                                        r"holds 'high'"):
        csisem.fit("ecsi", data)


def test_decimal_comma_gets_a_hint(tmp_path, mobi):
    path = tmp_path / "eu.csv"
    data = mobi.astype(object)
    data.loc[0, "IMAG1"] = "7,5"
    data.to_csv(path, index=False, sep=";")
    with pytest.raises(DataError, match=r"holds '7,5'.*decimal comma.*decimal=','"):
        csisem.fit("ecsi", path)


def test_numbers_stored_as_text_are_accepted(mobi):
    data = mobi.astype(str)
    assert_same_estimates(csisem.fit("ecsi", data), csisem.fit("ecsi", mobi))


def test_a_wide_survey_file_reads_only_the_indicator_columns(mobi):
    # A survey export holds far more columns than the model: text, dates, other items.
    extra = pd.DataFrame({f"Q{k}": ["free text"] * len(mobi) for k in range(60)},
                         index=mobi.index).assign(date=pd.Timestamp("2026-01-01"))
    wide = pd.concat([extra, mobi.iloc[:, ::-1]], axis=1)
    assert_same_estimates(csisem.fit("ecsi", wide), csisem.fit("ecsi", mobi))
    bad = wide.assign(CUEX1=wide["CUEX1"].astype(object))
    bad.loc[bad.index[4], "CUEX1"] = "n/a"
    with pytest.raises(DataError, match=r"Column 'CUEX1' is not numeric: row 5 .*'n/a'"):
        csisem.fit("ecsi", bad)


def test_mixed_integer_and_float_columns_are_numbers(mobi):
    mixed = mobi.astype({"CUEX1": float, "CUEX2": "int32", "CUEX3": "uint8"})
    assert_same_estimates(csisem.fit("ecsi", mixed), csisem.fit("ecsi", mobi))


def test_constant_column_is_named_with_its_value(mobi):
    data = mobi.assign(PERQ3=5)
    with pytest.raises(DataError, match=r"'PERQ3' \(always 5\) do not vary") as exc_info:
        csisem.fit("ecsi", data)
    message_is_a_sentence(exc_info)


def test_all_missing_column_is_named(mobi_float):
    data = mobi_float.assign(CUEX2=np.nan)
    with pytest.raises(DataError, match=r"'CUEX2' have no observed values \(all 250 cells are "
                                        r"missing\)") as exc_info:
        csisem.fit("ecsi", data)
    message_is_a_sentence(exc_info)


def test_infinite_value_names_column_and_row(mobi_float):
    mobi_float.loc[7, "PERQ3"] = -np.inf
    with pytest.raises(DataError, match=r"Column 'PERQ3' has an infinite value at row 8 "
                                        r"\(index 7\)") as exc_info:
        csisem.fit("ecsi", mobi_float)
    message_is_a_sentence(exc_info)


def test_fewer_rows_than_needed(mobi):
    # CUSA has 4 predictors, so the fewest rows are 4 + 2 = 6
    with pytest.raises(DataError, match=r"Only 5 complete rows of data; model 'ECSI' needs at "
                                        r"least 6\."):
        csisem.fit("ecsi", mobi.head(5))


def test_too_few_rows_after_listwise_deletion_says_how_many_were_dropped(mobi_float):
    data = mobi_float.head(8)
    data.loc[[0, 1, 2], "IMAG2"] = np.nan
    with pytest.warns(DataWarning, match="3 of 8 rows"), \
            pytest.raises(DataError, match=r"Only 5 complete rows of data \(3 of 8 dropped for "
                                           r"missing values\)"):
        csisem.fit("ecsi", data)


def test_empty_data_frame(mobi):
    with pytest.raises(DataError, match=r"The data have no rows\."):
        csisem.fit("ecsi", mobi.iloc[:0])


def test_values_outside_item_scale_warn_with_column_and_row(mobi):
    data = mobi.copy()
    data.loc[3, "CUSA2"] = 99
    data.loc[[10, 11], "PERV1"] = 0
    with pytest.warns(DataWarning, match=r"outside the spec's item scale \[1, 10\] in PERV1 "
                                         r"\(2\), CUSA2 \(1\); e\.g\. 0 in 'PERV1' at row 11 "
                                         r"\(index 10\)\. Are these missing-value codes\?"):
        result = csisem.fit("ecsi", data)
    assert result.n_obs == 250  # warned, not dropped


@pytest.mark.parametrize("with_gap", [False, True], ids=["complete", "with a missing cell"])
def test_the_out_of_scale_warning_points_at_the_callers_line(mobi_float, with_gap):
    # Complete small data take a shortcut past the scan; both routes warn at csisem.fit's
    # caller level (api.py calls the estimator), not inside csisem's data modules.
    data = mobi_float.copy()
    data.loc[3, "CUSA2"] = 99
    if with_gap:
        data.loc[5, "IMAG1"] = np.nan
    with pytest.warns(DataWarning) as caught:
        csisem.fit("ecsi", data)
    scale = [w for w in caught if "item scale" in str(w.message)]
    assert len(scale) == 1
    assert scale[0].filename.endswith("api.py"), scale[0].filename


def test_weights_left_all_zero_after_listwise_deletion_are_a_data_error(mobi_float):
    data = mobi_float.copy()
    data.loc[:4, "CUSA1"] = np.nan
    w = np.where(np.arange(len(data)) < 5, 1.0, 0.0)  # weight only on the dropped rows
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no division by zero on the way
        warnings.simplefilter("ignore", DataWarning)
        with pytest.raises(DataError, match=r"case weights of the rows left .* all zero"):
            prepare_data(csisem.load_model("ecsi"), data, weights=w)


def test_text_indicator_in_a_wide_frame_is_validated_like_any_other(mobi):
    data = mobi.copy()
    text = data["CUSA1"].astype(str).to_numpy(object)
    text[0] = "nan"
    data["CUSA1"] = text
    wide = pd.concat([data, pd.DataFrame({f"z{k}": range(len(data)) for k in range(30)})],
                     axis=1).assign(txt="abc")
    for frame in (data, wide):
        with pytest.raises(DataError, match=r"Column 'CUSA1' is not numeric: row 1 "
                                            r"\(index 0\) holds 'nan'"):
            csisem.fit("ecsi", frame)


# ---- files --------------------------------------------------------------------------------
def test_csv_file_fits_like_the_data_frame(tmp_path, mobi):
    path = tmp_path / "mobi.csv"
    mobi.to_csv(path, index=False)
    assert_same_estimates(csisem.fit("ecsi", path), csisem.fit("ecsi", mobi))


@pytest.mark.parametrize(("sep", "name"), [(";", "semi.csv"), ("\t", "tabs.tsv")])
def test_semicolon_and_tab_separated_files_are_read(tmp_path, mobi, sep, name):
    path = tmp_path / name
    mobi.to_csv(path, index=False, sep=sep)
    assert_same_estimates(csisem.fit("ecsi", str(path)), csisem.fit("ecsi", mobi))


def test_single_column_csv_is_not_split_on_a_letter(tmp_path):
    # csv.Sniffer used to pick 'M' as the separator of the header 'IMAG1'
    path = tmp_path / "one.csv"
    path.write_text("IMAG1\n1\n2\n")
    frame = read_data(path)
    assert list(frame.columns) == ["IMAG1"]
    assert frame["IMAG1"].tolist() == [1, 2]


def test_empty_csv_file(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(DataError, match=r"Data file '.*empty\.csv' is empty\."):
        csisem.fit("ecsi", path)


def test_csv_file_with_header_only(tmp_path):
    path = tmp_path / "header.csv"
    path.write_text("IMAG1,IMAG2\n")
    with pytest.raises(DataError, match=r"header\.csv' has a header but no data rows\."):
        csisem.fit("ecsi", path)


def test_wrong_extension_says_what_is_read(tmp_path):
    path = tmp_path / "survey.ods"
    path.write_bytes(b"PK\x03\x04 not really a workbook")
    with pytest.raises(DataError, match=r"unsupported file type '\.ods'.*[Ee]xport it as "
                                        r"CSV") as exc_info:
        csisem.fit("ecsi", path)
    message_is_a_sentence(exc_info)


def test_workbook_saved_with_csv_extension(tmp_path):
    path = tmp_path / "survey.csv"
    path.write_bytes(b"PK\x03\x04\x14\x00\x06\x00binary")
    with pytest.raises(DataError, match=r"survey\.csv' is not a CSV file: it looks like a "
                                        r"spreadsheet workbook"):
        csisem.fit("ecsi", path)


def test_non_utf8_file(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("IMAG1,IMAG2\n1,2\nn\xe9,3\n".encode("latin-1"))
    with pytest.raises(DataError, match=r"latin1\.csv' is not UTF-8 text \(byte 0xe9 on line 3 "
                                        r"cannot be decoded\)") as exc_info:
        csisem.fit("ecsi", path)
    message_is_a_sentence(exc_info)


def test_nonexistent_file(tmp_path):
    path = tmp_path / "nope.csv"
    with pytest.raises(DataError, match=rf"Data file {re.escape(repr(str(path)))} does not "
                                        r"exist\."):
        csisem.fit("ecsi", path)


def test_directory_is_not_a_data_file(tmp_path):
    with pytest.raises(DataError, match=r"is a directory, not a file\."):
        csisem.fit("ecsi", tmp_path)


def test_unknown_bundled_dataset_suggests_the_closest(mobi):
    with pytest.raises(DataError, match=r"No bundled data set 'mobbi'\. Did you mean 'mobi'\? "
                                        r"Available: mobi\."):
        csisem.fit("ecsi", "mobbi")


def test_bundled_dataset_by_name(mobi):
    assert_same_estimates(csisem.fit("ecsi", "mobi"), csisem.fit("ecsi", mobi))


# ---- columns= -----------------------------------------------------------------------------
def test_columns_mapping_renames_data_columns(mobi):
    data = mobi.rename(columns={"IMAG1": "q1", "CUSL3": "loyal3"})
    result = csisem.fit("ecsi", data, columns={"q1": "IMAG1", "loyal3": "CUSL3"})
    assert_same_estimates(result, csisem.fit("ecsi", mobi))


def test_columns_mapping_may_swap_two_columns(mobi):
    data = mobi.rename(columns={"IMAG1": "IMAG2", "IMAG2": "IMAG1"})
    result = csisem.fit("ecsi", data, columns={"IMAG1": "IMAG2", "IMAG2": "IMAG1"})
    assert_same_estimates(result, csisem.fit("ecsi", mobi))


def test_columns_mapping_the_wrong_way_round_gives_the_fix(mobi):
    data = mobi.rename(columns={"IMAG1": "q1"})
    with pytest.raises(DataError, match=r"mapping 'IMAG1' -> 'q1' is the wrong way round.*"
                                        r"write it as \{'q1': 'IMAG1'\} \(data column -> "
                                        r"indicator\)\.") as exc_info:
        csisem.fit("ecsi", data, columns={"IMAG1": "q1"})
    message_is_a_sentence(exc_info)


def test_columns_mapping_unknown_data_column_suggests_closest(mobi):
    data = mobi.rename(columns={"IMAG1": "image_1"})
    with pytest.raises(DataError, match=r"names data column 'image1', which is not in the "
                                        r"data \(closest: image_1"):
        csisem.fit("ecsi", data, columns={"image1": "IMAG1"})


def test_columns_mapping_to_unknown_indicator(mobi):
    data = mobi.rename(columns={"IMAG1": "q1"})
    with pytest.raises(DataError, match=r"sends data column 'q1' to 'IMAGE1', which is not an "
                                        r"indicator of model 'ECSI' \(closest: IMAG1"):
        csisem.fit("ecsi", data, columns={"q1": "IMAGE1"})


def test_columns_mapping_onto_an_existing_column_is_a_clash(mobi):
    data = mobi.assign(q1=mobi["IMAG1"])
    with pytest.raises(DataError, match=r"several data columns share one name: 'IMAG1' <- "
                                        r"'IMAG1', 'q1'\."):
        csisem.fit("ecsi", data, columns={"q1": "IMAG1"})


def test_columns_mapping_two_columns_to_one_indicator(mobi):
    data = mobi.rename(columns={"IMAG1": "a", "IMAG2": "b"})
    with pytest.raises(DataError, match=r"share one name: 'IMAG1' <- 'a', 'b'"):
        csisem.fit("ecsi", data, columns={"a": "IMAG1", "b": "IMAG1"})


def test_columns_must_be_a_mapping(mobi):
    with pytest.raises(OptionError, match=r"The columns= argument must be a mapping "
                                          r"\{data_column: indicator\}, not list\."):
        csisem.fit("ecsi", mobi, columns=[("q1", "IMAG1")])


# ---- missing values -----------------------------------------------------------------------
@pytest.fixture
def with_holes(mobi_float: pd.DataFrame) -> pd.DataFrame:
    data = mobi_float.copy()
    data.loc[[1, 2, 3], "PERQ3"] = np.nan
    data.loc[3, "IMAG1"] = np.nan
    data.loc[200, "CUSL2"] = np.nan
    return data


def test_listwise_deletion_is_counted_and_warned(with_holes):
    with pytest.warns(DataWarning, match=r"4 of 250 rows have missing indicator values \(5 "
                                         r"cells; most in PERQ3, .*\) and were dropped "
                                         r"\(missing='listwise'\)\."):
        result = csisem.fit("ecsi", with_holes)
    info = result.data_info
    assert (info.n_total, info.n_obs, info.n_dropped) == (250, 246, 4)
    assert (info.n_missing_cells, info.n_imputed_cells, info.missing) == (5, 0, "listwise")
    assert result.n_obs == 246
    assert_same_estimates(result, csisem.fit("ecsi", with_holes.dropna()))


def test_mean_imputation_is_counted_and_equals_manual_imputation(with_holes):
    with pytest.warns(DataWarning, match=r"5 missing cells in 4 of 250 rows \(most in PERQ3, "
                                         r".*\) were replaced by their column means "
                                         r"\(missing='mean'\)\."):
        result = csisem.fit("ecsi", with_holes, missing="mean")
    info = result.data_info
    assert (info.n_total, info.n_obs, info.n_dropped) == (250, 250, 0)
    assert (info.n_missing_cells, info.n_imputed_cells, info.missing) == (5, 5, "mean")
    by_hand = with_holes.fillna(with_holes.mean())
    assert not by_hand.isna().any().any()
    assert_same_estimates(result, csisem.fit("ecsi", by_hand))


def test_unknown_missing_policy_is_an_option_error(mobi):
    with pytest.raises(OptionError, match=r"missing='pairwise' is not supported\. Did you mean "
                                          r"'listwise'\?"):
        csisem.fit("ecsi", mobi, missing="pairwise")


def test_pandas_nullable_integers_with_na_are_missing_values(mobi):
    data = mobi.astype("Int64")
    data.loc[4, "CUEX3"] = pd.NA
    with pytest.warns(DataWarning, match=r"1 of 250 rows .*\(1 cell; most in CUEX3\)"):
        result = csisem.fit("ecsi", data)
    assert result.data_info.n_dropped == 1


# ---- kinds of data= -----------------------------------------------------------------------
def test_data_as_dict_of_columns(mobi):
    as_dict = {c: mobi[c].tolist() for c in mobi.columns}
    assert_same_estimates(csisem.fit("ecsi", as_dict), csisem.fit("ecsi", mobi))


def test_ragged_dict_is_a_data_error():
    with pytest.raises(DataError, match=r"The data= mapping could not be made into a table: "
                                        r".*same length\."):
        csisem.fit("ecsi", {"IMAG1": [1, 2, 3], "IMAG2": [1, 2]})


def test_numpy_array_gets_a_clear_error(mobi):
    with pytest.raises(DataError, match=r"The data= argument is a NumPy array \(shape "
                                        r"\(250, 24\)\), which has no column names.*"
                                        r"pd\.DataFrame\(array, columns=") as exc_info:
        csisem.fit("ecsi", mobi.to_numpy())
    message_is_a_sentence(exc_info)


@pytest.mark.parametrize("data", [None, [[1, 2], [3, 4]], 3.5])
def test_other_data_types_are_a_data_error(data):
    with pytest.raises(DataError, match=r"The data= argument must be a pandas DataFrame, .* "
                                        rf"not {type(data).__name__}\."):
        csisem.fit("ecsi", data)


def test_fit_does_not_modify_the_callers_data_frame(with_holes):
    data = with_holes.rename(columns={"IMAG1": "q1"})
    before = data.copy(deep=True)
    with pytest.warns(DataWarning, match="replaced by their column means"):
        csisem.fit("ecsi", data, columns={"q1": "IMAG1"}, missing="mean")
    with pytest.warns(DataWarning, match="were dropped"):
        csisem.fit("ecsi", data, columns={"q1": "IMAG1"})
    pd.testing.assert_frame_equal(data, before)


def test_prepare_data_reports_counts_and_indicator_order(ecsi, mobi):
    shuffled = mobi[list(reversed(mobi.columns))]
    prepared = prepare_data(ecsi, shuffled)
    assert prepared.indicators == ecsi.indicator_names
    assert_allclose(prepared.values, mobi[list(ecsi.indicator_names)].to_numpy(float))
    assert (prepared.n_obs, prepared.n_total, prepared.n_dropped) == (250, 250, 0)
