"""CB-SEM sample data: one group of complete data is fitted from the one-pass moments, its
rows loaded only when a method needs them (issue 7: moment-based estimation)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import csisem
from csisem.datasets import simulate
from csisem.estimation.cbsem_data import sample_data


@pytest.fixture(scope="module")
def acsi_data():
    model = csisem.load_model("acsi")
    return model, simulate(model, 3000, seed=11, on_scale=True)


def test_single_group_moments_equal_the_rows_and_rows_load_on_demand(acsi_data):
    model, data = acsi_data
    sample = sample_data(model, data)
    assert callable(sample.rows)  # nothing has asked for the rows yet
    X = data[list(model.indicator_names)].to_numpy(float)
    mean = X.mean(axis=0)
    cov = (X - mean).T @ (X - mean) / len(X)  # denominator n, as the ML discrepancy
    np.testing.assert_allclose(sample.means[0], mean, rtol=0, atol=1e-12)
    np.testing.assert_allclose(sample.covs[0], cov, rtol=1e-12, atol=1e-12)
    block = sample.blocks[0]
    assert block.rows is None
    np.testing.assert_array_equal(block.data(), X)
    np.testing.assert_array_equal(sample.values[0], X)
    assert not callable(sample.rows)


def test_ml_does_not_read_the_rows_but_mlr_does(acsi_data, monkeypatch):
    model, data = acsi_data
    loads = []
    import csisem.estimation.cbsem_data as cbsem_data

    original = cbsem_data._rows_of
    monkeypatch.setattr(cbsem_data, "_rows_of",
                        lambda prepared: loads.append(1) or original(prepared))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ml = csisem.fit(model, data, method="ml")
        assert loads == []
        mlr = csisem.fit(model, data, method="mlr")
    assert loads  # the robust statistics need casewise scores
    # Same point estimates (MLR differs from ML only in standard errors and test statistic).
    np.testing.assert_allclose(ml.parameters.estimate, mlr.parameters.estimate, atol=1e-6)


def test_a_cbsem_result_pickles_without_its_semopy_backend(acsi_data):
    import pickle

    model, data = acsi_data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = csisem.fit(model, data, method="mlr")
    assert result.backend is not None
    again = pickle.loads(pickle.dumps(result))
    assert again.backend is None
    np.testing.assert_array_equal(again.parameters.estimate, result.parameters.estimate)
    np.testing.assert_array_equal(again.parameters.std_error, result.parameters.std_error)
    assert str(again.summary()) == str(result.summary())
