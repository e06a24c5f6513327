"""Weighted least squares on the sample (co)variances: WLS (ADF) and DWLS, as lavaan.

Symbols and shapes (per group; p indicators, q = p(p+1)/2 non-duplicated (co)variances, K
free parameters, n_g rows):

- ``s`` (q,): the sample (co)variances, the lower triangle of S (denominator n_g) row by
  row (:func:`vech_indices`); ``sigma(theta)`` (q,) the same elements of the implied
  covariance matrix and ``e = s - sigma`` the residuals.
- ``Gamma`` (q × q): the asymptotic covariance matrix of ``sqrt(n) s`` without normality
  (Browne 1984), estimated from the rows ``x_i`` as the covariance (denominator n) of
  ``z_i = vech((x_i - xbar)(x_i - xbar)')`` (lavaan's ``lav_samplestats_Gamma``).
- ``W`` (q × q): the weight, ``Gamma^-1`` for WLS (asymptotically distribution free;
  Browne 1984) or ``diag(Gamma)^-1`` for DWLS (diagonally weighted).
- ``Delta`` (K × q): derivatives of ``sigma`` by ``theta``.

.. math::

    f(\\theta) = \\tfrac12 \\sum_g w_g\\, e_g^\\top W_g e_g, \\qquad
    I(\\theta) = \\sum_g w_g\\, \\Delta_g W_g \\Delta_g^\\top

with ``w_g = n_g / N``; lavaan's ``fmin`` is ``f`` and its test statistic ``2 N f``; its
"standard" standard errors are ``sqrt(diag(I^-1) / N)``. For WLS these are the ADF
standard errors; for DWLS they are lavaan's plain ``se = "standard"`` (the robust ones of
WLSMV need the full ``Gamma`` in a sandwich and are not computed here).
"""

from __future__ import annotations

import copy

import numpy as np

from .._typing import FloatArray
from ..errors import DataError
from .cbsem_objective import Block
from .cbsem_ram import RAMKernel

__all__ = ["WLSObjective", "adf_gamma", "vech_indices"]


def vech_indices(p: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices (q,) of the lower triangle of a p × p matrix, diagonal
    included, row by row."""
    r, c = np.tril_indices(p)
    return r, c


def adf_gamma(X: FloatArray) -> FloatArray:
    """``Gamma`` (q × q) of rows ``X`` (n × p): the covariance matrix (denominator n) of the
    cross-products ``vech((x_i - xbar)(x_i - xbar)')`` (see the module docstring)."""
    r, c = vech_indices(X.shape[1])
    Xc = X - X.mean(axis=0)
    Z = Xc[:, r] * Xc[:, c]
    Zc = Z - Z.mean(axis=0)
    return np.asarray(Zc.T @ Zc / X.shape[0], dtype=float)


class WLSObjective:
    """WLS (``diagonal=False``) or DWLS (``diagonal=True``) on complete data, one block per
    group with its raw rows (see the module docstring).

    Raises
    ------
    DataError
        For WLS, if ``Gamma`` is singular (no more rows than (co)variances).
    """

    def __init__(self, kernel: RAMKernel, blocks: list[Block], *, diagonal: bool,
                 n_total: int) -> None:
        self.kernel = kernel
        self.blocks = blocks
        self.n_total = n_total
        self.diagonal = diagonal
        self.index = vech_indices(kernel.n_observed)
        r, c = self.index
        self.s = [b.cov[r, c] for b in blocks]
        self.W: list[FloatArray] = []
        for b in blocks:
            rows = b.data()
            if rows is None:
                raise ValueError("WLS needs the raw rows of every block")
            gamma = adf_gamma(rows)
            if diagonal:
                self.W.append(np.diag(1.0 / np.diag(gamma)))
                continue
            q = len(self.index[0])
            eig = np.linalg.eigvalsh(gamma)
            if b.n <= q or eig[0] <= 1e-12 * eig[-1]:
                raise DataError(
                    f"method='wls' needs the asymptotic covariance matrix of the {q} sample "
                    f"(co)variances to be invertible, but it is singular with {b.n} rows "
                    f"(WLS needs clearly more rows than (co)variances, p(p+1)/2 = {q} for "
                    f"p = {kernel.n_observed} indicators). Use method='dwls', 'mlr' or 'ml'.")
            self.W.append(np.asarray(np.linalg.inv(gamma), dtype=float))

    def with_kernel(self, kernel: RAMKernel) -> WLSObjective:
        """The same data and weights for another model of the same indicators (the
        baseline model of the fit measures)."""
        other = copy.copy(self)
        other.kernel = kernel
        return other

    def residuals(self, theta: FloatArray) -> list[FloatArray] | None:
        """``e_g = s_g - sigma_g`` (q,) per block, None where ``I - A`` is singular."""
        try:
            implied = self.kernel.implied(theta)
        except np.linalg.LinAlgError:
            return None
        r, c = self.index
        return [s - implied[b.group].sigma[r, c] for s, b in zip(self.s, self.blocks,
                                                                  strict=True)]

    def value(self, theta: FloatArray) -> float:
        """``f`` at ``theta``."""
        res = self.residuals(theta)
        if res is None:
            return float("inf")
        return float(sum(b.n / self.n_total * 0.5 * e @ W @ e
                         for b, e, W in zip(self.blocks, res, self.W, strict=True)))

    def _deltas(self, theta: FloatArray) -> list[FloatArray]:
        implied = self.kernel.implied(theta)
        r, c = self.index
        return [dS[:, r, c] for dS, _ in self.kernel.jacobian(implied)]

    def value_grad(self, theta: FloatArray) -> tuple[float, FloatArray]:
        """``f`` and its gradient (K,)."""
        res = self.residuals(theta)
        if res is None:
            return float("inf"), np.full(self.kernel.n_free, np.nan)
        deltas = self._deltas(theta)
        f = 0.0
        grad = np.zeros(self.kernel.n_free)
        for b, e, W in zip(self.blocks, res, self.W, strict=True):
            w = b.n / self.n_total
            f += w * 0.5 * float(e @ W @ e)
            grad -= w * (deltas[b.group] @ (W @ e))
        return f, grad

    def gradient(self, theta: FloatArray) -> FloatArray:
        """The gradient (K,) of ``f``."""
        return self.value_grad(theta)[1]

    def expected_information(self, theta: FloatArray) -> FloatArray:
        """``sum_g w_g Delta_g W_g Delta_g'`` (K × K)."""
        deltas = self._deltas(theta)
        info = np.zeros((self.kernel.n_free, self.kernel.n_free))
        for b, W in zip(self.blocks, self.W, strict=True):
            D = deltas[b.group]
            info += b.n / self.n_total * (D @ W @ D.T)
        return info
