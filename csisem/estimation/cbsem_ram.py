"""RAM kernel: model-implied moments of a CB-SEM model and their derivatives.

Symbols and shapes (per group; p indicators, m constructs, n = p + m variables, K free
parameters; the variables are ordered indicators first, then constructs):

- ``theta`` (K,): free parameters, in the order of :class:`CBSEMSpec` ``free`` indices.
- ``A`` (n × n): directed effects, ``A[i, j]`` is the effect of variable j on variable i
  (loadings ``A[indicator, construct]``, paths ``A[target, source]``).
- ``S`` (n × n): symmetric (co)variances of exogenous variables and residuals.
- ``m`` (n,): intercepts (indicators) and means (constructs).
- ``B = (I - A)^-1`` (n × n); ``P = B[:p]`` (p × n) maps all variables to the indicators.
- ``Sigma_all = B S B'`` (n × n): covariances of every variable; ``Sigma = Sigma_all[:p, :p]``
  (p × p) is the model-implied indicator covariance matrix and ``mu = P m`` (p,) the
  implied indicator means.
- ``dSigma`` (K × p × p) and ``dmu`` (K × p): derivatives of Sigma and mu by each free
  parameter (McArdle & McDonald 1984; equality-constrained slots are summed):

  .. math::

     \\partial\\Sigma/\\partial A_{ij} = P_{\\cdot i} (\\Sigma_{all})_{j,1:p}
        + (\\ldots)^\\top, \\quad
     \\partial\\Sigma/\\partial S_{ij} = P_{\\cdot i} P_{\\cdot j}^\\top + P_{\\cdot j}
        P_{\\cdot i}^\\top \\; (i \\ne j), \\quad
     \\partial\\mu/\\partial A_{ij} = P_{\\cdot i} (B m)_j, \\quad
     \\partial\\mu/\\partial m_i = P_{\\cdot i}.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._typing import FloatArray
from .cbsem_spec import CBSEMSpec

__all__ = ["GroupImplied", "RAMKernel"]

_MATRIX_CODE = {"A": 0, "S": 1, "m": 2}


@dataclass(frozen=True)
class GroupImplied:
    """Implied moments of one group (see the module legend for shapes)."""

    B: FloatArray
    S: FloatArray
    m: FloatArray
    sigma_all: FloatArray
    mean_all: FloatArray
    sigma: FloatArray
    mu: FloatArray


@dataclass(frozen=True, eq=False)
class RAMKernel:
    """Evaluate a :class:`CBSEMSpec`: implied moments and their Jacobian by ``theta``."""

    n_observed: int
    n_variables: int
    n_groups: int
    n_free: int
    A0: FloatArray  # (G, n, n) fixed values
    S0: FloatArray  # (G, n, n)
    m0: FloatArray  # (G, n)
    slot_group: np.ndarray
    slot_matrix: np.ndarray
    slot_row: np.ndarray
    slot_col: np.ndarray
    slot_free: np.ndarray

    @classmethod
    def from_spec(cls, spec: CBSEMSpec) -> RAMKernel:
        """Arrays for ``spec`` (fixed values in the base matrices, free slots listed)."""
        G, n = spec.n_groups, spec.n_variables
        A0 = np.zeros((G, n, n))
        S0 = np.zeros((G, n, n))
        m0 = np.zeros((G, n))
        t = spec.table
        for r in spec.rows():
            if r.free >= 0:
                continue
            g, i, j, v = r.group, r.row, r.col, r.value
            if r.matrix == "A":
                A0[g, i, j] = v
            elif r.matrix == "S":
                S0[g, i, j] = S0[g, j, i] = v
            else:
                m0[g, i] = v
        free = t[t["free"] >= 0]
        return cls(n_observed=spec.n_observed, n_variables=n, n_groups=G, n_free=spec.n_free,
                   A0=A0, S0=S0, m0=m0,
                   slot_group=free["group"].to_numpy(int),
                   slot_matrix=free["matrix"].map(_MATRIX_CODE).to_numpy(int),
                   slot_row=free["row"].to_numpy(int), slot_col=free["col"].to_numpy(int),
                   slot_free=free["free"].to_numpy(int))

    def matrices(self, theta: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        """``A``, ``S`` (G × n × n) and ``m`` (G × n) at ``theta``."""
        A, S, m = self.A0.copy(), self.S0.copy(), self.m0.copy()
        v = theta[self.slot_free]
        g, i, j, code = self.slot_group, self.slot_row, self.slot_col, self.slot_matrix
        a = code == 0
        A[g[a], i[a], j[a]] = v[a]
        s = code == 1
        S[g[s], i[s], j[s]] = v[s]
        S[g[s], j[s], i[s]] = v[s]
        mm = code == 2
        m[g[mm], i[mm]] = v[mm]
        return A, S, m

    def implied(self, theta: FloatArray) -> list[GroupImplied]:
        """Implied moments of every group at ``theta``.

        Raises
        ------
        numpy.linalg.LinAlgError
            If ``I - A`` is singular (a non-recursive model at a degenerate point).
        """
        A, S, m = self.matrices(theta)
        p, n = self.n_observed, self.n_variables
        out = []
        for g in range(self.n_groups):
            B = np.linalg.inv(np.eye(n) - A[g])
            sigma_all = B @ S[g] @ B.T
            mean_all = B @ m[g]
            out.append(GroupImplied(B=B, S=S[g], m=m[g], sigma_all=sigma_all,
                                    mean_all=mean_all, sigma=sigma_all[:p, :p],
                                    mu=mean_all[:p]))
        return out

    def jacobian(self, implied: list[GroupImplied]) -> list[tuple[FloatArray, FloatArray]]:
        """Per group ``(dSigma (K × p × p), dmu (K × p))`` at the point of ``implied``."""
        p, K = self.n_observed, self.n_free
        out = []
        for g, imp in enumerate(implied):
            P = imp.B[:p]
            here = self.slot_group == g
            code, i, j, k = (self.slot_matrix[here], self.slot_row[here], self.slot_col[here],
                             self.slot_free[here])
            n_slots = len(k)
            contrib = np.zeros((n_slots, p, p))
            mean_contrib = np.zeros((n_slots, p))
            a = code == 0
            if a.any():
                X = P[:, i[a]].T  # (nA, p)
                Y = imp.sigma_all[j[a], :p]  # (nA, p)
                c = X[:, :, None] * Y[:, None, :]
                contrib[a] = c + c.transpose(0, 2, 1)
                mean_contrib[a] = X * imp.mean_all[j[a]][:, None]
            s = code == 1
            if s.any():
                X = P[:, i[s]].T
                Y = P[:, j[s]].T
                c = X[:, :, None] * Y[:, None, :]
                off = (i[s] != j[s])[:, None, None]
                contrib[s] = c + np.where(off, c.transpose(0, 2, 1), 0.0)
            mm = code == 2
            if mm.any():
                mean_contrib[mm] = P[:, i[mm]].T
            # sum the slots of each free parameter (equality constraints share one)
            agg = np.zeros((K, n_slots))
            agg[k, np.arange(n_slots)] = 1.0
            dS = (agg @ contrib.reshape(n_slots, p * p)).reshape(K, p, p)
            out.append((dS, agg @ mean_contrib))
        return out
