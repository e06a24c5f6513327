"""fit_groups, the PLS bootstrap and the group comparison on a dask.distributed cluster.

One real LocalCluster (two single-threaded worker processes) serves the whole module: the
tasks, the data and the results really travel between processes, as on a remote cluster.
Every comparison with the local run is exact: same seeds, same arithmetic, one BLAS thread
on both sides.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest

import csisem
from csisem.datasets import simulate_companies
from csisem.errors import ConvergenceWarning, InadmissibleSolutionWarning, OptionError
from csisem.estimation.pls_estimator import PLSEstimator
from csisem.groups import GroupStatus

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None)
    with distributed.Client(cluster) as connected:
        yield connected
    cluster.close()


@pytest.fixture(scope="module")
def survey(mini: csisem.Model) -> pd.DataFrame:
    data, _, _ = simulate_companies(mini, n_companies=6, n_industries=3, n_sectors=2,
                                    n_per_company=80, seed=11)
    return data


def test_fit_groups_on_the_cluster_equals_the_local_run(mini, survey, client):
    local = csisem.fit_groups(mini, survey, "company", bootstrap=300, seed=7)
    remote = csisem.fit_groups(mini, survey, "company", bootstrap=300, seed=7, client=client)
    pd.testing.assert_frame_equal(remote.table, local.table, check_exact=True)
    pd.testing.assert_frame_equal(remote.groups, local.groups, check_exact=True)
    for key, draws in local.draws("CUSA").items():
        np.testing.assert_array_equal(remote.draws("CUSA")[key], draws)
    pd.testing.assert_frame_equal(remote.results["C2"].paths, local.results["C2"].paths,
                                  check_exact=True)


@pytest.mark.parametrize("consistent", [False, True], ids=["pls", "plsc"])
def test_bootstrap_on_the_cluster_equals_the_local_run(ecsi, mobi, client, consistent):
    # 520 resamples: three batches, the last one short. (PLSc on mobi is inadmissible, a
    # warning tested in test_plsc.py.)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InadmissibleSolutionWarning)
        local = PLSEstimator(bootstrap=520, seed=3, consistent=consistent).fit(ecsi, mobi)
        remote = PLSEstimator(bootstrap=520, seed=3, consistent=consistent,
                              client=client).fit(ecsi, mobi)
    assert remote.bootstrap.n_valid == local.bootstrap.n_valid == 520
    assert set(remote.bootstrap.tables) == set(local.bootstrap.tables)
    for name, table in local.bootstrap.tables.items():
        pd.testing.assert_frame_equal(remote.bootstrap.tables[name], table, check_exact=True)
        np.testing.assert_array_equal(remote.bootstrap.draws[name], local.bootstrap.draws[name])
    assert remote.settings["client"] == "dask.distributed"
    assert local.settings["client"] is None


def test_group_comparison_on_the_cluster_equals_the_local_run(mini, survey, client):
    two = survey[survey["company"].isin(["C1", "C2"])]
    local = csisem.compare_groups(mini, two, "company", n_resamples=300, seed=5)
    remote = csisem.compare_groups(mini, two, "company", n_resamples=300, seed=5,
                                   client=client)
    pd.testing.assert_frame_equal(remote.paths, local.paths, check_exact=True)
    pd.testing.assert_frame_equal(remote.weights, local.weights, check_exact=True)


def test_failed_group_on_the_cluster_is_a_row_with_status_failed(mini, survey, client):
    broken = survey.copy()
    broken.loc[broken["company"] == "C4", "LOY2"] = 7.0  # constant within C4 only
    fits = csisem.fit_groups(mini, broken, "company", client=client)
    failed = fits.failures.set_index("company")
    assert failed.loc["C4", "status"] == GroupStatus.FAILED.value
    assert "'LOY2' (always 7)" in failed.loc["C4", "message"]
    assert fits.table[fits.table["company"] == "C4"]["index"].isna().all()
    assert (fits.groups["status"] == GroupStatus.OK.value).sum() == 5


def test_warnings_of_a_group_on_the_cluster_are_reissued_here(mini, survey, client):
    one = survey[survey["company"] == "C1"]
    with pytest.warns(ConvergenceWarning, match=r"In 1 group\(s\) \(company='C1'\): PLS did "
                                                r"not converge in 1 iteration "):
        fits = csisem.fit_groups(mini, one, "company", max_iter=1, client=client)
    assert fits.groups["status"].tolist() == [GroupStatus.NOT_CONVERGED.value]
    assert "did not converge" in fits.groups["message"].iloc[0]


@pytest.mark.parametrize("bad", ["tcp://127.0.0.1:8786", object()])
def test_a_client_that_is_not_a_distributed_client_is_an_option_error(mini, survey, bad):
    with pytest.raises(OptionError, match=r"client=.* is not a dask.distributed Client"):
        csisem.fit_groups(mini, survey, "company", client=bad)
    with pytest.raises(OptionError, match=r"client=.* is not a dask.distributed Client"):
        PLSEstimator(bootstrap=10, client=bad)


def test_client_without_dask_installed_is_an_option_error(mini, survey, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # makes the import fail
    with pytest.raises(OptionError, match=r"needs dask.distributed, which is not installed"):
        csisem.fit_groups(mini, survey, "company", client=object())
