"""The batched PLS kernel and the moments behind it: agreement with the single fit and with
direct computation, on every inner scheme and with a Mode B block.

Tolerances: 1e-13 between the batched and the single kernel (same algorithm, different order
of operations), 1e-12 for moments computed two ways.
"""

from __future__ import annotations

import numpy as np
import pytest

import csisem
from csisem.estimation.bootstrap import _counts
from csisem.estimation.pls_batch import (
    _solve_spd,
    estimate_paths_batch,
    estimate_pls_batch,
    moments_from_counts,
    moments_leaving_out,
)
from csisem.options import InnerScheme

MODE_B_MINI = """\
name: mini_b
scale: [1, 10]
constructs:
  QUAL:
    indicators: [QUAL1, QUAL2, QUAL3]
    mode: composite_b
  CUSA:
    indicators: [CUSA1, CUSA2, CUSA3]
  LOY:
    indicators: [LOY1, LOY2]
paths:
  CUSA: [QUAL]
  LOY: [CUSA, QUAL]
"""


def _stack(model: csisem.Model, data, n: int, seed: int) -> tuple[csisem.PLSResult, np.ndarray]:
    """The single fit of ``model`` and ``n`` bootstrap correlation matrices of its data."""
    fit = csisem.fit(model, data)
    X = data[list(fit.design.indicators)].to_numpy(float)
    X = X - X.mean(axis=0)
    counts = _counts(np.random.SeedSequence(seed), n, len(X))
    moments, ok = moments_from_counts(X, counts)
    assert ok.all()
    return fit, moments.S


@pytest.mark.parametrize("scheme", ["path", "centroid", "factorial"])
def test_a_mode_b_block_in_the_batch_reproduces_the_single_fit(mini_spec, scheme):
    model = csisem.parse_spec(MODE_B_MINI)
    data, _, _ = csisem.datasets.simulate_companies(csisem.parse_spec(mini_spec),
                                                    n_companies=6, n_per_company=60, seed=3)
    data = data.drop(columns="company")
    fit = csisem.fit(model, data, scheme=scheme)
    batch = estimate_pls_batch(fit.correlation[None], fit.design, InnerScheme(scheme))
    assert batch.valid.all()
    np.testing.assert_allclose(batch.W[0], fit.kernel.W, atol=1e-13)
    np.testing.assert_allclose(batch.L[0], fit.kernel.L, atol=1e-13)
    np.testing.assert_allclose(batch.B[0], fit.kernel.B, atol=1e-13)
    np.testing.assert_allclose(batch.r_squared[0], fit.kernel.r_squared, atol=1e-13)


def test_each_resample_depends_only_on_its_own_matrix(ecsi, mobi):
    # Resamples leave the stack as they converge, so a stack's composition changes during
    # the iterations; a resample's numbers must not (beyond the last digit: BLAS products
    # folded across the stack may round differently).
    fit, S = _stack(ecsi, mobi, 40, seed=8)
    start = fit.kernel.W[np.arange(len(fit.design.indicators)), fit.design.owner]
    whole = estimate_pls_batch(S, fit.design, InnerScheme.PATH, start=start)
    for r in (0, 17, 39):
        alone = estimate_pls_batch(S[r:r + 1], fit.design, InnerScheme.PATH, start=start)
        for name in ("W", "L", "C", "B", "r_squared"):
            np.testing.assert_allclose(getattr(alone, name)[0], getattr(whole, name)[r],
                                       rtol=0, atol=1e-13)


def test_warm_start_reaches_the_fixed_point_of_the_cold_start(ecsi, mobi):
    fit, S = _stack(ecsi, mobi, 30, seed=2)
    start = fit.kernel.W[np.arange(len(fit.design.indicators)), fit.design.owner]
    warm = estimate_pls_batch(S, fit.design, InnerScheme.PATH, start=start)
    cold = estimate_pls_batch(S, fit.design, InnerScheme.PATH)
    assert warm.valid.all()
    assert cold.valid.all()
    np.testing.assert_allclose(warm.B, cold.B, atol=1e-6)  # both within tol=1e-7 of it


def test_stacked_solver_matches_lapack_on_padded_systems_of_mixed_sizes():
    rng = np.random.default_rng(4)
    sizes = [4, 3, 1, 1]   # decreasing: the solver stops touching a system after its size
    n, p = 50, 4
    A = np.tile(np.eye(p)[:, :, None, None], (1, 1, len(sizes), n))
    b = np.zeros((p, len(sizes), n))
    expected = []
    for e, size in enumerate(sizes):
        G = rng.standard_normal((n, size, size + 2))
        spd = G @ G.transpose(0, 2, 1) / (size + 2) + 0.1 * np.eye(size)
        rhs = rng.standard_normal((n, size))
        A[:size, :size, e, :] = spd.transpose(1, 2, 0)
        b[:size, e, :] = rhs.T
        expected.append(np.linalg.solve(spd, rhs[..., None])[..., 0])
    active = [sum(s > i for s in sizes) * n for i in range(p)]
    x = _solve_spd(A.reshape(p, p, -1), b.reshape(p, -1), active).reshape(p, len(sizes), n)
    for e, size in enumerate(sizes):
        np.testing.assert_allclose(x[:size, e, :].T, expected[e], rtol=1e-10, atol=1e-12)
        assert (x[size:, e, :] == 0).all()  # padding stays zero


def test_collinear_predictors_give_non_finite_paths_not_an_error():
    D = np.zeros((3, 3), dtype=bool)
    D[2, [0, 1]] = True
    C = np.tile(np.eye(3), (2, 1, 1))
    C[:, 0, 2] = C[:, 2, 0] = 0.5
    C[:, 1, 2] = C[:, 2, 1] = 0.3
    C[1, 0, 1] = C[1, 1, 0] = 1.0          # resample 1: the two predictors are identical
    B, r2 = estimate_paths_batch(C, D)
    np.testing.assert_allclose(B[0, 2, :2], np.linalg.solve(C[0, :2, :2], C[0, :2, 2]))
    assert np.isfinite(r2[0, 2])
    assert not np.isfinite(B[1]).all()


@pytest.mark.parametrize("N", [40, 3000])
def test_leaving_groups_out_equals_zero_counts(N):
    # The jackknife's moments by subtraction equal those of the 0/1 count vectors.
    rng = np.random.default_rng(N)
    X = rng.standard_normal((N, 6)) @ rng.standard_normal((6, 6))
    X -= X.mean(axis=0)
    w = rng.uniform(0.5, 2.0, N)
    groups, G = ((np.arange(N), N) if N <= 1000 else (rng.permutation(N) % 1000, 1000))
    counts = (groups[None, :] != np.arange(G)[:, None]) * w
    direct, ok_direct = moments_from_counts(X, counts)
    by_subtraction, ok = moments_leaving_out(X, w, groups, G, chunk=700)
    np.testing.assert_array_equal(ok, ok_direct)
    for name in ("S", "mean", "sd"):
        np.testing.assert_allclose(getattr(by_subtraction, name), getattr(direct, name),
                                   rtol=1e-12, atol=1e-12)


def test_resampled_correlation_matrices_are_exactly_symmetric(ecsi, mobi):
    _, S = _stack(ecsi, mobi, 20, seed=1)
    np.testing.assert_array_equal(S, S.transpose(0, 2, 1))
    np.testing.assert_array_equal(np.diagonal(S, axis1=1, axis2=2), 1.0)
