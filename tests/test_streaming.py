"""Fits from a DataFrame read in slices, a Parquet file or directory, and a Dask DataFrame.

The moments (and so every estimate) must agree with the in-memory fit to 1e-10 (issue 7);
the slices, row groups and partitions are made small here so that every path merges many
parts.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import csisem
import csisem.cli
import csisem.data
import csisem.scan
import csisem.streaming
from csisem.errors import DataError, DataWarning, OptionError, OutOfScaleWarning
from csisem.streaming import ParquetSource

pytest.importorskip("pyarrow")
dd = pytest.importorskip("dask.dataframe")

N = 3000


@pytest.fixture(scope="module")
def ecsi() -> csisem.Model:
    return csisem.load_model("ecsi")


@pytest.fixture(scope="module")
def survey(ecsi: csisem.Model) -> pd.DataFrame:
    frame = csisem.datasets.simulate(ecsi, N, seed=11, on_scale=True)
    rng = np.random.default_rng(12)
    frame["weight"] = rng.uniform(0.2, 3.0, N)
    frame["region"] = rng.choice(["north", "south"], N)  # a text column that is not used
    return frame


@pytest.fixture
def small_slices(monkeypatch: pytest.MonkeyPatch) -> None:
    """Slices of 1024 rows (the floor) instead of ~87,000: several per data set."""
    for module in (csisem.data, csisem.scan, csisem.streaming):
        monkeypatch.setattr(module, "CHUNK_CELLS", 1024)


def _write_parts(frame: pd.DataFrame, folder: Path, parts: int = 3) -> Path:
    folder.mkdir()
    for i, rows in enumerate(np.array_split(np.arange(len(frame)), parts)):
        frame.iloc[rows].to_parquet(folder / f"part-{i:02d}.parquet", row_group_size=700)
    return folder


def _assert_same_fit(a: csisem.PLSResult, b: csisem.PLSResult, tol: float = 1e-10) -> None:
    for name in ("W", "L", "C", "B"):
        np.testing.assert_allclose(getattr(b.kernel, name), getattr(a.kernel, name), rtol=0,
                                   atol=tol, err_msg=name)
    np.testing.assert_allclose(b.data.mean, a.data.mean, rtol=tol)
    np.testing.assert_allclose(b.data.cov, a.data.cov, rtol=tol)
    assert (b.n_obs, b.data_info) == (a.n_obs, a.data_info)


def test_parquet_directory_and_dask_agree_with_pandas(
        ecsi: csisem.Model, survey: pd.DataFrame, tmp_path: Path, small_slices: None) -> None:
    reference = csisem.fit(ecsi, survey)
    folder = _write_parts(survey, tmp_path / "waves")
    from_dir = csisem.fit(ecsi, folder)
    from_file = csisem.fit(ecsi, folder / "part-01.parquet")
    from_dask = csisem.fit(ecsi, dd.from_pandas(survey, npartitions=7))
    assert from_dir.data.source.startswith("Parquet")
    assert from_dask.data.source == "Dask DataFrame"
    _assert_same_fit(reference, from_dir)
    _assert_same_fit(reference, from_dask)
    assert from_file.n_obs == 1000
    # the in-memory DataFrame itself was read in slices of 1024 rows, and agrees with a
    # single-slice reading to the same precision
    assert len(list(csisem.scan.FrameReader(survey, ecsi, list(range(24))).chunks())) == 3


def test_weights_missing_values_and_codes_stream_the_same(
        ecsi: csisem.Model, survey: pd.DataFrame, tmp_path: Path, small_slices: None) -> None:
    frame = survey.copy()
    rng = np.random.default_rng(13)
    holes = rng.random(frame.shape) < 0.01
    holes[:, -2:] = False  # not in the weight and region columns
    frame = frame.mask(holes)
    frame.loc[5, "CUSL1"] = 99.0  # a "don't know" code
    folder = _write_parts(frame, tmp_path / "holes")
    for missing in ("listwise", "mean"):
        options = dict(weights="weight", missing=missing, missing_codes=[99])
        with pytest.warns(DataWarning):
            reference = csisem.fit(ecsi, frame, **options)
        with pytest.warns(DataWarning):
            streamed = csisem.fit(ecsi, folder, **options)
        with pytest.warns(DataWarning):
            from_dask = csisem.fit(ecsi, dd.from_pandas(frame, npartitions=5), **options)
        _assert_same_fit(reference, streamed)
        _assert_same_fit(reference, from_dask)
        assert streamed.data_info.n_coded_missing == 1
        assert from_dask.data_info.n_coded_missing == 1


def test_rows_are_read_again_only_when_asked(
        ecsi: csisem.Model, survey: pd.DataFrame, tmp_path: Path) -> None:
    folder = _write_parts(survey, tmp_path / "rows")
    result = csisem.fit(ecsi, folder)
    assert "rows" not in vars(result.data)  # a fit keeps the moments only
    reference = csisem.fit(ecsi, survey)
    np.testing.assert_allclose(result.scores.to_numpy(), reference.scores.to_numpy(),
                               atol=1e-10)
    np.testing.assert_array_equal(result.scores.index, np.arange(N))
    boot = csisem.fit(ecsi, folder, bootstrap=50, seed=3)
    boot_ref = csisem.fit(ecsi, survey, bootstrap=50, seed=3)
    np.testing.assert_allclose(boot.paths["std_error"], boot_ref.paths["std_error"],
                               atol=1e-10)


def test_a_large_dataframe_is_not_copied_for_the_fit(
        ecsi: csisem.Model, survey: pd.DataFrame, small_slices: None) -> None:
    result = csisem.fit(ecsi, survey)
    assert "rows" not in vars(result.data)  # rows of a many-slice frame load on demand
    before = result.scores.copy()
    changed = survey.copy()
    result = csisem.fit(ecsi, changed)
    changed.loc[:, "IMAG1"] = 1.0  # a later change to the caller's data ...
    pd.testing.assert_frame_equal(result.scores, before)  # ... does not reach the result


def test_parquet_errors_name_the_file_column_and_row(
        ecsi: csisem.Model, survey: pd.DataFrame, tmp_path: Path, small_slices: None) -> None:
    with pytest.raises(DataError, match="does not exist"):
        csisem.fit(ecsi, tmp_path / "nowhere.parquet")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match=r"holds no \.parquet files"):
        csisem.fit(ecsi, ParquetSource(tmp_path / "empty"))
    with pytest.raises(DataError, match=r"is a directory, not a file"):
        csisem.fit(ecsi, tmp_path / "empty")
    survey.drop(columns="CUSL2").to_parquet(tmp_path / "lacking.parquet")
    with pytest.raises(DataError, match=r"lack 1 indicator column.*'CUSL2'"):
        csisem.fit(ecsi, tmp_path / "lacking.parquet")
    bad = survey.astype({"PERQ3": str})  # numbers stored as text, one of them not a number
    bad.loc[2500, "PERQ3"] = "n/a"
    bad.to_parquet(tmp_path / "text.parquet", row_group_size=1000)
    with pytest.raises(DataError, match=r"'PERQ3' is not numeric: row 2501 \(index 2500\) "
                                        r"holds 'n/a'"):
        csisem.fit(ecsi, tmp_path / "text.parquet")
    inf = survey.copy()
    inf.loc[1500, "CUEX2"] = np.inf
    inf.to_parquet(tmp_path / "inf.parquet", row_group_size=1000)
    with pytest.raises(DataError, match=r"'CUEX2' has an infinite value at row 1501"):
        csisem.fit(ecsi, tmp_path / "inf.parquet")
    negative = survey.copy()
    negative.loc[2999, "weight"] = -1.0
    negative.to_parquet(tmp_path / "negative.parquet", row_group_size=1000)
    with pytest.raises(DataError, match=r"'weight' is negative at row 3000"):
        csisem.fit(ecsi, tmp_path / "negative.parquet", weights="weight")
    with pytest.raises(OptionError, match="name of the weight column"):
        csisem.fit(ecsi, tmp_path / "negative.parquet", weights=np.ones(N))
    (tmp_path / "broken.parquet").write_text("not parquet")
    with pytest.raises(DataError, match=r"broken\.parquet' is not a valid Parquet file"):
        csisem.fit(ecsi, tmp_path / "broken.parquet")


def test_out_of_scale_values_are_reported_from_the_column_ranges(
        ecsi: csisem.Model, survey: pd.DataFrame, tmp_path: Path) -> None:
    coded = survey.copy()
    coded.loc[10, "CUSA1"] = 99.0
    coded.to_parquet(tmp_path / "coded.parquet")
    with pytest.warns(OutOfScaleWarning, match=r"CUSA1 \(range .* to 99\)"):
        csisem.fit(ecsi, tmp_path / "coded.parquet")
    with warnings.catch_warnings():
        warnings.simplefilter("error", OutOfScaleWarning)
        with pytest.warns(DataWarning, match="1 of 3000 rows"):  # the code became missing
            csisem.fit(ecsi, tmp_path / "coded.parquet", missing_codes=[99])


def test_dask_frames_outside_pls_get_a_clear_error(ecsi: csisem.Model,
                                                   survey: pd.DataFrame) -> None:
    ddf = dd.from_pandas(survey, npartitions=2)
    with pytest.raises(DataError, match=r"Dask DataFrame is accepted by PLS fits.*compute\(\)"):
        csisem.fit("acsi", ddf, method="ml")
    with pytest.raises(DataError, match=r"Dask DataFrame is accepted by PLS fits"):
        csisem.fit_groups(ecsi, ddf, by="region")


def test_parquet_source_reads_whole_where_rows_are_needed(
        survey: pd.DataFrame, tmp_path: Path) -> None:
    folder = _write_parts(survey, tmp_path / "groups")
    source = ParquetSource(folder)
    assert source.n_rows == N
    assert "region" in source.columns
    assert repr(source).startswith("ParquetSource(")
    groups = csisem.fit_groups("ecsi", source, by="region")
    assert set(groups.table["region"]) == {"north", "south"}


def test_cli_fits_a_parquet_directory(survey: pd.DataFrame, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    folder = _write_parts(survey, tmp_path / "cli")
    assert csisem.cli.main(["fit", "ecsi", "--data", str(folder), "--format", "json"]) == 0
    out = capsys.readouterr().out
    assert '"n_obs": 3000' in out


def test_dask_on_a_local_cluster_agrees(ecsi: csisem.Model, survey: pd.DataFrame,
                                        tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    folder = _write_parts(survey, tmp_path / "cluster")
    reference = csisem.fit(ecsi, survey)
    local_boot = csisem.fit(ecsi, survey, bootstrap=60, seed=5)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        ddf = dd.read_parquet(folder)
        on_cluster = csisem.fit(ecsi, ddf)
        boot = csisem.fit(ecsi, survey, bootstrap=60, seed=5, client=client)
    _assert_same_fit(reference, on_cluster)
    pd.testing.assert_frame_equal(boot.paths, local_boot.paths, rtol=0, atol=1e-12)
    with pytest.raises(OptionError, match=r"client=.* do not apply to method='ml'"):
        csisem.fit("acsi", survey, method="ml", client=object())


def test_results_pickle_with_their_rows(ecsi: csisem.Model, survey: pd.DataFrame,
                                        tmp_path: Path, small_slices: None) -> None:
    import pickle

    for data in (survey, _write_parts(survey, tmp_path / "pickle")):
        result = csisem.fit(ecsi, data)
        again = pickle.loads(pickle.dumps(result))
        pd.testing.assert_frame_equal(again.scores, result.scores)
        pd.testing.assert_frame_equal(again.paths, result.paths)
