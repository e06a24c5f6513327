"""Bundled data and simulation from a population model."""

from __future__ import annotations

import hashlib
from importlib import resources

import numpy as np
import pytest

import csisem
from csisem.datasets import list_datasets, load_dataset, load_mobi, population, simulate
from csisem.errors import DataError, OptionError
from csisem.models import Model


def test_mobi_is_the_documented_file() -> None:
    raw = resources.files("csisem.datasets").joinpath("mobi.csv").read_bytes()
    # sha256 recorded in csisem/datasets/PROVENANCE.md (and ../shared/data/PROVENANCE.md).
    assert hashlib.sha256(raw).hexdigest() == (
        "eeedf61c7a980dda4c13cb39102d31da859e70d39d86f7d67437ad60e2e789ef")
    mobi = load_mobi()
    assert mobi.shape == (250, 24)
    assert mobi.notna().all().all()
    assert mobi.min().min() >= 1
    assert mobi.max().max() <= 10
    assert "PROVENANCE.md" in [f.name for f in resources.files("csisem.datasets").iterdir()]


def test_datasets_by_name() -> None:
    assert list_datasets() == ["mobi"]
    assert load_dataset("MOBI").equals(load_mobi())
    with pytest.raises(DataError, match=r"No bundled data set 'mobbi'. Did you mean 'mobi'\?"):
        load_dataset("mobbi")


def test_population_implies_the_given_paths(ecsi: Model) -> None:
    pop = population(ecsi, paths={"IMAG->CUEX": 0.6, "PERQ->CUSA": 0.3})
    R = pop.construct_correlations
    assert R.loc["CUEX", "IMAG"] == pytest.approx(0.6)  # single predictor: r = beta
    np.testing.assert_allclose(np.diag(pop.sigma), 1.0)
    assert np.linalg.eigvalsh(pop.sigma).min() > 0
    assert pop.r_squared["CUEX"] == pytest.approx(0.36)
    # Reflective: corr(x_i, x_j) within a block = lambda_i * lambda_j.
    assert pop.sigma.loc["IMAG1", "IMAG2"] == pytest.approx(0.8 * 0.8)


def test_simulate_is_reproducible_from_a_seed(ecsi: Model) -> None:
    a = simulate(ecsi, 100, seed=42, on_scale=True)
    b = simulate(ecsi, 100, seed=42, on_scale=True)
    c = simulate(ecsi, 100, seed=43, on_scale=True)
    assert a.equals(b)
    assert not a.equals(c)
    assert list(a.columns) == list(ecsi.indicator_names)
    assert a.min().min() >= 1
    assert a.max().max() <= 10
    assert (a == a.round()).all().all()


def test_exact_sample_has_the_population_correlations(ecsi: Model) -> None:
    pop = population(ecsi)
    data = simulate(ecsi, 60, seed=0, exact=True)
    np.testing.assert_allclose(data.corr(), pop.sigma, atol=1e-12)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"paths": {"CUSA->IMAG": 0.3}}, r"paths= names CUSA->IMAG, which is not a path"),
    ({"paths": {"IMAG CUEX": 0.3}}, r"must look like 'SOURCE->TARGET'"),
    ({"paths": {"IMAG->CUEX": 1.2}}, r"The paths into 'CUEX' explain 1.440 of its variance"),
    ({"loadings": 1.0}, r"Loadings of 'IMAG' must be non-zero and between -1 and 1"),
    ({"loadings": {"NOPE": 0.5}}, r"loadings= names NOPE, not indicators"),
])
def test_invalid_population_values_are_named(ecsi: Model, kwargs: dict[str, object],
                                             message: str) -> None:
    with pytest.raises(OptionError, match=message):
        simulate(ecsi, 100, seed=1, **kwargs)  # type: ignore[arg-type]


def test_simulate_rejects_bad_n(ecsi: Model) -> None:
    with pytest.raises(OptionError, match=r"n=1 must be an integer of at least 2"):
        simulate(ecsi, 1)
    with pytest.raises(OptionError, match=r"exact=True needs more rows than indicators"):
        simulate(ecsi, 10, exact=True)


def test_simulated_survey_data_fit_without_warnings(ecsi: Model) -> None:
    result = csisem.fit(ecsi, simulate(ecsi, 500, seed=5, on_scale=True))
    assert result.converged
