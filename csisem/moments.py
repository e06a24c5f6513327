"""Mergeable one-pass moments of survey data: means, covariances, ranges, chunk by chunk.

PLS path modelling and CB-SEM need only the indicators' means, standard deviations and
covariance matrix. :class:`MomentAccumulator` computes them from the data one chunk at a time,
so a data set never has to be in memory at once (Parquet files row group by row group, Dask
partitions, large DataFrames slice by slice), and partial results from different workers
merge exactly.

Numerics: each chunk is centred on its own mean before its cross-products are formed, and
chunks are combined with the pairwise update of Chan, Golub & LeVeque (1979, "Updating
formulae and a pairwise algorithm for computing sample variances"; the weighted form is in
West 1979, CACM 22(9)): for parts ``a`` and ``b`` with weight sums ``n_a``, ``n_b``, means
``m_a``, ``m_b`` and centred cross-products ``M_a``, ``M_b``,

.. math::

    n = n_a + n_b, \\quad \\delta = m_b - m_a, \\quad m = m_a + \\delta\\, n_b / n, \\quad
    M = M_a + M_b + \\delta \\delta' \\, n_a n_b / n .

There is no ``sum(x^2) - n m^2`` cancellation, so float64 keeps about 15 significant digits
whatever the number of rows or the location of the data (1-10 scales, or incomes).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._typing import FloatArray

__all__ = ["MomentAccumulator"]


@dataclass
class MomentAccumulator:
    """Running weighted means, centred cross-products and column ranges of ``n_cols`` columns.

    ``rows`` counts the rows added, ``weight`` sums their case weights (equal to ``rows``
    when unweighted). Rows must be complete (no NaN): missing values are handled before
    (:mod:`csisem.data`).
    """

    n_cols: int
    rows: int = 0
    weight: float = 0.0
    # zeros and ±inf until rows are added (made on first read: most accumulators get their
    # first part's arrays straight away)
    _mean: FloatArray | None = field(default=None, init=False, repr=False)
    _cross: FloatArray | None = field(default=None, init=False, repr=False)
    _low: FloatArray | None = field(default=None, init=False, repr=False)
    _high: FloatArray | None = field(default=None, init=False, repr=False)

    @property
    def mean(self) -> FloatArray:
        """(n_cols,) weighted means."""
        if self._mean is None:
            self._mean = np.zeros(self.n_cols)
        return self._mean

    @property
    def cross(self) -> FloatArray:
        """(n_cols, n_cols) weighted centred cross-products."""
        if self._cross is None:
            self._cross = np.zeros((self.n_cols, self.n_cols))
        return self._cross

    @property
    def low(self) -> FloatArray:
        """(n_cols,) column minima (+inf before any row)."""
        if self._low is None:
            self._low = np.full(self.n_cols, np.inf)
        return self._low

    @property
    def high(self) -> FloatArray:
        """(n_cols,) column maxima (-inf before any row)."""
        if self._high is None:
            self._high = np.full(self.n_cols, -np.inf)
        return self._high

    def add(self, X: FloatArray, w: FloatArray | None = None) -> MomentAccumulator:
        """Add the rows of ``X`` (rows × n_cols, finite), with case weights ``w`` or none."""
        n = X.shape[0]
        if n == 0:
            return self
        if w is None:
            total = float(n)
            mean = X.sum(axis=0) / total
            Xc = X - mean
            cross = Xc.T @ Xc
        else:
            total = float(w.sum())
            if total <= 0:  # zero-weight rows move no moment, but count as rows with values
                self.rows += n
                self._widen(X.min(axis=0), X.max(axis=0))
                return self
            mean = w @ X / total
            Xc = X - mean
            cross = (Xc * w[:, None]).T @ Xc
        self._combine(n, total, mean, cross, X.min(axis=0), X.max(axis=0))
        return self

    def merge(self, other: MomentAccumulator) -> MomentAccumulator:
        """Add another accumulator's rows (a chunk or partition summarised elsewhere)."""
        if other.n_cols != self.n_cols:
            raise ValueError("cannot merge moments of different numbers of columns")
        if other.rows:
            if other.weight > 0:
                self._combine(other.rows, other.weight, other.mean.copy(), other.cross.copy(),
                              other.low, other.high)
            else:
                self.rows += other.rows
                if other._low is not None:
                    self._widen(other.low, other.high)
        return self

    def _combine(self, rows: int, weight: float, mean: FloatArray, cross: FloatArray,
                 low: FloatArray, high: FloatArray) -> None:
        if self.weight == 0:  # the first part with weight: take its moments (callers pass
            # fresh arrays); earlier zero-weight rows move no moment
            self._mean, self._cross = mean, cross
        else:
            total = self.weight + weight
            delta = mean - self.mean
            self._mean = self.mean + delta * (weight / total)
            self._cross = self.cross + cross + np.outer(delta, delta) * (self.weight * weight
                                                                         / total)
        self.weight += weight
        self.rows += rows
        self._widen(low, high)

    def _widen(self, low: FloatArray, high: FloatArray) -> None:
        """Extend the column ranges by a part's minima and maxima."""
        if self._low is None:  # no ranges yet: this part's (fresh arrays)
            self._low, self._high = low, high
        else:
            self._low = np.minimum(self._low, low)
            self._high = np.maximum(self.high, high)

    def covariance(self) -> FloatArray:
        """Covariance matrix with the ``rows - 1`` denominator.

        With case weights rescaled to mean 1 over the rows (as :mod:`csisem.data` does), the
        weighted covariance is ``cross / weight * rows / (rows - 1)``; unweighted,
        ``weight == rows`` and this is the usual sample covariance.
        """
        if self.rows < 2 or self.weight <= 0:
            return np.full((self.n_cols, self.n_cols), np.nan)
        factor = self.rows / (self.weight * (self.rows - 1))
        cov: FloatArray = (self.cross + self.cross.T) * (0.5 * factor)  # exactly symmetric
        return cov
