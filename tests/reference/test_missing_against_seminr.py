"""ECSI on mobi with missing cells: csisem's missing policies against seminr 0.2.1 (PyPI).

Data: tests/reference/data/mobi_missing.csv -- mobi (csisem.datasets.load_mobi()) with 180
of its 6000 cells (3%) emptied MCAR by numpy default_rng(2026); recipe and sha256 in
tests/reference/generate_seminr_missing.py, which also wrote the reference files
seminr_ecsi_missing_{paths,weights,loadings}.csv (seminr estimate_pls, all Mode A
composites, path weighting, max_it=300, stop_criterion=7; see tests/reference/data/README.md).

Policies compared (both libraries act on the raw item values, before standardisation):
  * csisem missing="listwise" vs seminr missing=na_omit: drop every row with a missing item.
  * csisem missing="mean" vs seminr missing=mean_replacement: a missing cell becomes the mean
    of its column's observed values over all 250 rows. Same procedure in both, so no
    documented difference needs to be allowed for.

Tolerance: seminr stops when the summed absolute weight change is below 1e-7, csisem when the
largest weight change is below 1e-7. Re-running seminr with stop 1e-14 moves its estimates by
< 8e-10, and csisem differs from these files by at most 1.3e-9 (mean) and 1.3e-15
(listwise), so ATOL = 1e-7 (as in test_against_smartpls_seminr.py) leaves a margin of ~75x.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import csisem
from csisem.datasets import load_mobi
from csisem.errors import DataWarning

DATA = Path(__file__).parent / "data"
ATOL = 1e-7
POLICIES = ["listwise", "mean"]
KEYS = {"paths": ["source", "target"], "weights": ["construct", "indicator"],
        "loadings": ["construct", "indicator"]}


def _data() -> pd.DataFrame:
    return pd.read_csv(DATA / "mobi_missing.csv")


def _counts(data: pd.DataFrame) -> dict[str, int]:
    """Missing-data counts computed directly from the file."""
    isnan = data.isna().to_numpy()
    return {"n_total": len(data), "n_cells": int(isnan.sum()),
            "n_incomplete": int(isnan.any(axis=1).sum())}


def _expected_warning(policy: str, counts: dict[str, int]) -> str:
    n_total, n_cells, n_incomplete = counts["n_total"], counts["n_cells"], counts["n_incomplete"]
    if policy == "listwise":
        return rf"{n_incomplete} of {n_total} rows .*\({n_cells} cells.*dropped"
    return rf"{n_cells} missing cells in {n_incomplete} of {n_total} rows.*column means"


@pytest.fixture(scope="module", params=POLICIES)
def fitted(request: pytest.FixtureRequest) -> tuple[str, csisem.PLSResult]:
    data = _data()
    with pytest.warns(DataWarning, match=_expected_warning(request.param, _counts(data))):
        result = csisem.fit("ecsi", data, missing=request.param)
    return request.param, result


def test_data_file_is_mobi_with_three_percent_missing() -> None:
    data, mobi = _data(), load_mobi()
    assert list(data.columns) == list(mobi.columns)
    assert data.shape == mobi.shape == (250, 24)
    isnan = data.isna().to_numpy()
    assert int(isnan.sum()) == 180  # 3% of 6000 cells
    assert isnan.any(axis=0).all()  # every indicator loses some cells, none loses all
    assert not isnan.all(axis=0).any()
    np.testing.assert_array_equal(data.to_numpy()[~isnan], mobi.to_numpy(dtype=float)[~isnan])


def test_data_info_counts(fitted: tuple[str, csisem.PLSResult]) -> None:
    policy, result = fitted
    counts = _counts(_data())
    info = result.data_info
    assert str(info.missing) == policy
    assert info.n_total == counts["n_total"] == 250
    assert info.n_missing_cells == counts["n_cells"] == 180
    if policy == "listwise":
        assert info.n_dropped == counts["n_incomplete"] == 126
        assert info.n_obs == counts["n_total"] - counts["n_incomplete"] == 124
        assert info.n_imputed_cells == 0
    else:
        assert info.n_dropped == 0
        assert info.n_obs == counts["n_total"]
        assert info.n_imputed_cells == counts["n_cells"]
    assert result.converged


@pytest.mark.parametrize("table", ["paths", "weights", "loadings"])
def test_estimates_match_seminr(fitted: tuple[str, csisem.PLSResult], table: str) -> None:
    policy, result = fitted
    ref = pd.read_csv(DATA / f"seminr_ecsi_missing_{table}.csv")
    ref = ref[ref["missing"] == policy].drop(columns="missing")
    assert len(ref) == (12 if table == "paths" else 24)
    keys = KEYS[table]
    merged = ref.merge(getattr(result, table), on=keys, how="left", suffixes=("_ref", ""),
                       validate="one_to_one")
    absent = merged["estimate"].isna()
    assert not absent.any(), f"csisem lacks {merged.loc[absent, keys].to_dict('records')}"
    np.testing.assert_allclose(merged["estimate"], merged["estimate_ref"], rtol=0, atol=ATOL)


def test_policies_give_different_estimates(fitted: tuple[str, csisem.PLSResult]) -> None:
    # Guard against a vacuous comparison: the two policies' seminr references differ by far
    # more than ATOL, so matching each one means csisem applied that policy.
    policy, result = fitted
    ref = pd.read_csv(DATA / "seminr_ecsi_missing_paths.csv")
    other = ref[ref["missing"] != policy].drop(columns="missing")
    merged = other.merge(result.paths, on=KEYS["paths"], suffixes=("_other", ""))
    assert np.abs(merged["estimate"] - merged["estimate_other"]).max() > 1e-3

