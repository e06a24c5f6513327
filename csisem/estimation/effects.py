"""Direct, indirect and total effects in a recursive structural model."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._typing import BoolArray, FloatArray

__all__ = ["effects_table", "total_effects"]


def total_effects(B: FloatArray) -> FloatArray:
    """Total effects (K×K), ``T[target, source]``, from path coefficients ``B[target, source]``.

    Notes
    -----
    For a recursive model ``eta = B eta + zeta`` the total effect matrix is
    ``(I - B)^{-1} - I = B + B^2 + ...`` (Bollen 1987); the series is finite because ``B`` is
    nilpotent, so the inverse always exists.
    """
    K = B.shape[0]
    return np.linalg.solve(np.eye(K) - B, np.eye(K)) - np.eye(K)


def effects_table(B: FloatArray, D: BoolArray, names: tuple[str, ...]) -> pd.DataFrame:
    """Every source -> target pair connected by at least one directed path in ``D``.

    Columns ``source, target, direct, indirect, total``; rows in construct order of the
    source, then of the target.
    """
    T = total_effects(B)
    reach = np.linalg.matrix_power(np.eye(len(names)) + D, len(names)) > 0
    rows = []
    for s, source in enumerate(names):
        for t, target in enumerate(names):
            if s != t and reach[t, s]:
                rows.append((source, target, B[t, s], T[t, s] - B[t, s], T[t, s]))
    return pd.DataFrame(rows, columns=["source", "target", "direct", "indirect", "total"])
