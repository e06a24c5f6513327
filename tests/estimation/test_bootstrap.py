"""Bootstrap inference: reproducibility, batching, failures, intervals."""

from __future__ import annotations

import contextlib
import pickle
import threading
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import csisem
from csisem.errors import OptionError
from csisem.estimation.bootstrap import (
    SharedContext,
    Statistic,
    SummaryTables,
    map_batches,
    summarise_draws,
    summarise_many,
)
from csisem.estimation.pls_batch import correlations_from_counts, estimate_pls_batch
from csisem.options import InnerScheme


@pytest.fixture(scope="module")
def boot() -> csisem.PLSResult:
    return csisem.fit("ecsi", "mobi", bootstrap=600, seed=11)


@pytest.mark.parametrize("scheme", ["path", "centroid", "factorial"])
def test_batched_kernel_reproduces_the_single_fit(scheme: str) -> None:
    # The batch engine must be the same algorithm: a one-matrix stack gives the single fit.
    result = csisem.fit("ecsi", "mobi", scheme=scheme)
    X = csisem.datasets.load_mobi()[list(result.design.indicators)].to_numpy(float)
    S, ok = correlations_from_counts(X - X.mean(0), np.ones((1, len(X))))
    np.testing.assert_allclose(S[0], result.correlation, atol=1e-14)
    batch = estimate_pls_batch(S, result.design, InnerScheme(scheme))
    assert ok.all()
    assert batch.valid.all()
    np.testing.assert_allclose(batch.W[0], result.kernel.W, atol=1e-13)
    np.testing.assert_allclose(batch.L[0], result.kernel.L, atol=1e-13)
    np.testing.assert_allclose(batch.B[0], result.kernel.B, atol=1e-13)


def test_counts_give_the_correlation_of_the_resampled_rows() -> None:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 5))
    counts = rng.multinomial(40, np.full(40, 1 / 40), size=3).astype(float)
    S, ok = correlations_from_counts(X, counts)
    for r in range(3):
        rows = np.repeat(np.arange(40), counts[r].astype(int))
        np.testing.assert_allclose(S[r], np.corrcoef(X[rows], rowvar=False), atol=1e-12)
    assert ok.all()


def test_same_seed_same_output_whatever_n_jobs() -> None:
    a = csisem.fit("ecsi", "mobi", bootstrap=520, seed=3, n_jobs=1)
    b = csisem.fit("ecsi", "mobi", bootstrap=520, seed=3, n_jobs=2)
    c = csisem.fit("ecsi", "mobi", bootstrap=520, seed=4, n_jobs=1)
    for name in a.bootstrap.tables:
        pd.testing.assert_frame_equal(a.bootstrap.tables[name], b.bootstrap.tables[name])
    assert not a.paths["std_error"].equals(c.paths["std_error"])


def test_tables_gain_inference_columns(boot: csisem.PLSResult) -> None:
    for table in (boot.paths, boot.loadings, boot.weights):
        for column in ("std_error", "t_value", "p_value", "ci_lower", "ci_upper"):
            varying = table if "construct" not in table else table.query("construct != 'CUSCO'")
            assert varying[column].notna().all(), column
    # CUSCO's single indicator has weight and loading 1 in every resample: no t, no p.
    cusco = boot.loadings.query("construct == 'CUSCO'")
    assert cusco["std_error"].iloc[0] < 1e-12
    assert cusco["t_value"].isna().all()
    assert cusco["p_value"].isna().all()
    paths = boot.paths
    np.testing.assert_allclose(paths["t_value"], paths["estimate"] / paths["std_error"])
    assert (paths["ci_lower"] < paths["estimate"]).all()
    assert (paths["estimate"] < paths["ci_upper"]).all()
    assert boot.bootstrap.n_valid == 600
    assert boot.bootstrap.failures == {}
    assert set(boot.bootstrap.tables) == {"paths", "loadings", "weights", "total_effects",
                                          "indirect_effects", "r_squared", "htmt", "index",
                                          "impacts"}


def test_point_estimates_in_bootstrap_tables_match_the_fit(boot: csisem.PLSResult) -> None:
    total = boot.bootstrap.tables["total_effects"].set_index(["source", "target"])["estimate"]
    effects = boot.effects.set_index(["source", "target"])
    np.testing.assert_allclose(total[effects.index], effects["total"], atol=1e-12)
    r2 = boot.bootstrap.tables["r_squared"].set_index("construct")["estimate"]
    np.testing.assert_allclose(r2[boot.r_squared.index], boot.r_squared, atol=1e-12)


def test_zero_variance_resamples_are_counted_not_fatal() -> None:
    # CUSCO constant except in two rows: many resamples miss both, so the indicator has no
    # variance there. Those resamples are left out and reported; the run completes.
    data = csisem.datasets.load_mobi()
    data["CUSCO"] = 7
    data.loc[[3, 100], "CUSCO"] = [2, 10]
    result = csisem.fit("ecsi", data, bootstrap=400, seed=5)
    failed = result.bootstrap.failures["an indicator has zero variance in the resample"]
    assert 0 < failed < 400
    assert result.bootstrap.n_valid == 400 - failed
    assert result.paths["std_error"].notna().all()


def test_bca_matches_the_textbook_formula_on_a_known_case() -> None:
    # Efron & Tibshirani (1993, ch. 14): with no bias (z0 = 0) and no acceleration (a = 0)
    # BCa equals the percentile interval.
    rng = np.random.default_rng(1)
    draws = rng.standard_normal((4001, 1))
    estimate = np.array([np.median(draws)])
    jack = np.linspace(-1, 1, 51)[:, None]  # symmetric: zero skewness, a = 0
    table = summarise_draws(pd.DataFrame({"q": ["x"]}), estimate, draws, jack, ci_level=0.9,
                            n_obs=100)
    assert table["bca_lower"][0] == pytest.approx(table["ci_lower"][0], abs=1e-3)
    assert table["bca_upper"][0] == pytest.approx(table["ci_upper"][0], abs=1e-3)
    assert table["ci_lower"][0] == pytest.approx(stats.norm.ppf(0.05), abs=0.06)
    assert table["p_value"][0] == pytest.approx(
        2 * stats.t.sf(abs(estimate[0] / draws.std(ddof=1)), df=99))


def test_bca_option_fills_the_main_tables() -> None:
    result = csisem.fit("ecsi", "mobi", bootstrap=300, seed=2, ci_method="bca")
    bca = result.bootstrap.tables["paths"]
    np.testing.assert_array_equal(result.paths["ci_lower"], bca["bca_lower"])


def test_ci_level_changes_the_width() -> None:
    wide = csisem.fit("ecsi", "mobi", bootstrap=300, seed=2, ci_level=0.99).paths
    narrow = csisem.fit("ecsi", "mobi", bootstrap=300, seed=2, ci_level=0.80).paths
    assert ((wide.ci_upper - wide.ci_lower) > (narrow.ci_upper - narrow.ci_lower)).all()


def test_seed_none_records_the_seed_used() -> None:
    first = csisem.fit("ecsi", "mobi", bootstrap=250)
    again = csisem.fit("ecsi", "mobi", bootstrap=250, seed=first.bootstrap.seed)
    pd.testing.assert_frame_equal(first.paths, again.paths)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"bootstrap": -5}, r"bootstrap=-5 must be a non-negative integer"),
    ({"bootstrap": 10, "n_jobs": 0}, r"n_jobs=0 must be a positive number of workers or -1"),
    ({"bootstrap": 10, "ci_level": 95}, r"ci_level=95 must be between 0 and 1"),
    ({"bootstrap": 10, "ci_method": "bc"}, r"ci_method='bc' is not supported"),
    ({"bootstrap": 10, "seed": -1}, r"seed=-1 must be a non-negative integer"),
])
def test_bad_bootstrap_options_are_named(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(OptionError, match=message):
        csisem.fit("ecsi", "mobi", **kwargs)  # type: ignore[arg-type]


def test_summarising_statistics_together_equals_one_at_a_time() -> None:
    rng = np.random.default_rng(7)
    parts = []
    for width in (3, 1, 5):
        draws = rng.standard_normal((400, width)) * rng.uniform(0.5, 2, width)
        parts.append((pd.DataFrame({"q": [f"x{i}" for i in range(width)]}),
                      draws.mean(axis=0) + 0.1, draws, rng.standard_normal((60, width))))
    together = summarise_many(parts, ci_level=0.9, n_obs=60)
    for part, table in zip(parts, together, strict=True):
        alone = summarise_draws(*part, ci_level=0.9, n_obs=60)
        pd.testing.assert_frame_equal(table, alone, check_exact=True)


def test_bootstrap_tables_are_a_mapping_built_on_access_and_picklable(
        boot: csisem.PLSResult) -> None:
    tables = boot.bootstrap.tables
    assert isinstance(tables, SummaryTables)
    assert len(tables) == 9
    assert "paths" in tables
    assert "nonsense" not in tables
    assert tables["paths"] is tables["paths"]  # built once
    again = pickle.loads(pickle.dumps(tables))
    for name, table in tables.items():
        pd.testing.assert_frame_equal(again[name], table, check_exact=True)


def test_shared_context_is_entered_once_by_many_threads() -> None:
    events: list[str] = []

    @contextlib.contextmanager
    def record() -> Iterator[None]:
        events.append("enter")
        yield
        events.append("exit")

    shared = SharedContext(record)
    inside = threading.Barrier(3)

    def task() -> None:
        with shared:
            inside.wait()  # all three threads are inside together

    with shared:
        threads = [threading.Thread(target=task) for _ in range(2)]
        for thread in threads:
            thread.start()
        inside.wait()
        for thread in threads:
            thread.join()
        assert events == ["enter"]
    assert events == ["enter", "exit"]


def test_batches_report_progress_as_they_finish() -> None:
    done: list[int] = []

    def work(seed_seq: np.random.SeedSequence, size: int):  # type: ignore[no-untyped-def]
        return [np.zeros((size, 1))], np.ones(size, bool), np.ones(size, bool)

    stat = Statistic("x", pd.DataFrame({"q": ["x"]}), lambda b, m: np.zeros((1, 1)))
    values, ok, valid = map_batches(work, [stat], n_resamples=600, seed=1, n_jobs=2,
                                    on_done=done.append)
    assert sorted(done) == [100, 250, 250]
    assert values["x"].shape == (600, 1)
    assert ok.all()
    assert valid.all()
