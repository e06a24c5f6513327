"""One-pass mergeable moments (csisem.moments) against NumPy's two-pass formulas."""

from __future__ import annotations

import numpy as np
import pytest

from csisem.moments import MomentAccumulator


def _accumulate(X: np.ndarray, w: np.ndarray | None, cuts: list[int]) -> MomentAccumulator:
    acc = MomentAccumulator(X.shape[1])
    for a, b in zip([0, *cuts], [*cuts, len(X)], strict=True):
        acc.add(X[a:b], None if w is None else w[a:b])
    return acc


@pytest.mark.parametrize("cuts", [[], [1], [7, 8, 300], list(range(50, 1000, 50))])
def test_chunked_moments_equal_two_pass_numpy(cuts: list[int]) -> None:
    X = np.random.default_rng(1).normal(size=(1000, 5)) @ np.diag([1, 2, 3, 4, 5])
    acc = _accumulate(X, None, cuts)
    np.testing.assert_allclose(acc.mean, X.mean(axis=0), rtol=0, atol=1e-13)
    np.testing.assert_allclose(acc.covariance(), np.cov(X, rowvar=False), rtol=1e-12)
    np.testing.assert_array_equal(acc.low, X.min(axis=0))
    np.testing.assert_array_equal(acc.high, X.max(axis=0))
    assert acc.rows == 1000


def test_weighted_moments_with_mean_one_weights_convention() -> None:
    rng = np.random.default_rng(2)
    X = rng.normal(size=(400, 3))
    w = rng.uniform(0, 3, size=400)
    acc = _accumulate(X, w, [100, 250])
    mean = w @ X / w.sum()
    # csisem's convention (csisem.data): weights rescaled to mean 1, N - 1 denominator.
    v = w * len(w) / w.sum()
    cov = ((X - mean) * v[:, None]).T @ (X - mean) / (len(w) - 1)
    np.testing.assert_allclose(acc.mean, mean, atol=1e-14)
    np.testing.assert_allclose(acc.covariance(), cov, rtol=1e-12)


def test_integer_weights_equal_repeated_rows() -> None:
    rng = np.random.default_rng(3)
    X = rng.normal(size=(50, 4))
    w = rng.integers(1, 4, size=50).astype(float)
    weighted = _accumulate(X, w, [20])
    repeated = _accumulate(np.repeat(X, w.astype(int), axis=0), None, [])
    np.testing.assert_allclose(weighted.mean, repeated.mean, atol=1e-14)
    # Same centred cross-products; the denominators differ by design (rows vs weight sum).
    np.testing.assert_allclose(weighted.cross, repeated.cross, rtol=1e-12)


def test_merge_is_the_same_as_adding_in_order() -> None:
    rng = np.random.default_rng(4)
    X = rng.normal(size=(300, 3))
    left, right = MomentAccumulator(3).add(X[:120]), MomentAccumulator(3).add(X[120:])
    whole = MomentAccumulator(3).add(X)
    merged = left.merge(right)
    np.testing.assert_allclose(merged.mean, whole.mean, atol=1e-15)
    np.testing.assert_allclose(merged.cross, whole.cross, rtol=1e-13)
    assert merged.rows == 300
    # merging copies: changing the merged accumulator leaves the part alone
    merged.add(X[:5])
    np.testing.assert_allclose(right.mean, X[120:].mean(axis=0), atol=1e-15)


def test_far_from_zero_data_keep_their_variance() -> None:
    # The textbook sum-of-squares formula loses every digit here (1e9**2 ~ 1e18 vs a
    # variance of ~1); the pairwise update keeps about 7 digits at this location.
    rng = np.random.default_rng(5)
    X = 1e9 + rng.normal(size=(100_000, 2))
    acc = _accumulate(X, None, list(range(1000, 100_000, 7919)))
    np.testing.assert_allclose(acc.covariance(), np.cov(X, rowvar=False), rtol=0, atol=1e-6)
    m = X.mean(axis=0)
    naive = (X.T @ X - len(X) * np.outer(m, m)) / (len(X) - 1)
    assert np.abs(naive - np.cov(X, rowvar=False)).max() > 1e-3  # what this guards against


def test_degenerate_cases() -> None:
    acc = MomentAccumulator(2)
    assert np.isnan(acc.covariance()).all()
    acc.add(np.empty((0, 2)))
    assert acc.rows == 0
    acc.add(np.ones((3, 2)), np.zeros(3))  # zero weights: rows counted, moments untouched
    assert acc.rows == 3
    assert acc.weight == 0
    with pytest.raises(ValueError, match="different numbers of columns"):
        acc.merge(MomentAccumulator(3))
