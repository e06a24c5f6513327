"""Analytic hierarchy process: priorities and consistency of a pairwise-comparison matrix.

An expert compares every pair of elements (criteria, constructs, indicators) on Saaty's 1-9
scale: ``a_ij = 3`` says i is moderately more important than j, and ``a_ji = 1/3``. The
priorities are the principal right eigenvector ``w`` of the matrix, normalised to sum to one
(Saaty 1977, 1980)::

    A w = lambda_max w,      CI = (lambda_max - n) / (n - 1),      CR = CI / RI(n)

with Saaty's random index ``RI`` (the mean CI of random reciprocal matrices: n = 3: 0.58,
4: 0.90, 5: 1.12, 6: 1.24, 7: 1.32, 8: 1.41, 9: 1.45, 10: 1.49). Judgements with
``CR > 0.1`` are too inconsistent to use (Saaty 1990): :func:`ahp` raises a
:class:`~csisem.errors.ConsistencyError` naming the matrix and its most inconsistent
judgement, unless told otherwise. ``method="geometric_mean"`` takes the normalised row
geometric means instead (the logarithmic least-squares solution), with ``lambda_max``
estimated as the mean of ``(A w)_i / w_i``.

References: Saaty, T. L. (1980). *The Analytic Hierarchy Process*. McGraw-Hill. Saaty, T. L.
(1990). How to make a decision: The analytic hierarchy process. *European Journal of
Operational Research*, 48, 9-26.
"""

from __future__ import annotations

import json
import math
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path as FilePath
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ConsistencyError, ConsistencyWarning, DataError, OptionError
from ..summary import Section, Summary, SummaryMixin
from ._common import plain

__all__ = ["RANDOM_INDEX", "AHPResult", "PriorityMethod", "ahp", "read_ahp_matrix"]

#: Saaty's random consistency index by matrix order (Saaty 1980; as tabulated in Saaty 1990).
RANDOM_INDEX: dict[int, float] = {1: 0.0, 2: 0.0, 3: 0.58, 4: 0.90, 5: 1.12, 6: 1.24, 7: 1.32,
                                  8: 1.41, 9: 1.45, 10: 1.49}
SCALE = (1.0 / 9.0, 9.0)
# Judgements typed as decimals (0.33 for 1/3, 0.143 for 1/7) are reciprocal to within 2%.
RECIPROCAL_TOL = 0.02
_FRACTION = re.compile(r"\s*([0-9]*\.?[0-9]+)\s*/\s*([0-9]*\.?[0-9]+)\s*")


class PriorityMethod(str, Enum):
    """How priorities are derived from the matrix."""

    EIGENVECTOR = "eigenvector"
    GEOMETRIC_MEAN = "geometric_mean"


@dataclass(frozen=True, repr=False)
class AHPResult(SummaryMixin):
    """Priorities and consistency of one pairwise-comparison matrix.

    ``priorities`` is a Series (label -> weight, summing to one); ``matrix`` the validated
    matrix (empty cells below the diagonal filled with reciprocals).
    """

    name: str
    matrix: pd.DataFrame
    priorities: pd.Series
    lambda_max: float
    consistency_index: float
    random_index: float
    consistency_ratio: float
    method: str
    max_cr: float | None = 0.1

    @property
    def n(self) -> int:
        """Order of the matrix (number of elements compared)."""
        return len(self.priorities)

    @property
    def consistent(self) -> bool:
        """``CR <= max_cr`` (always True when no limit was set)."""
        return self.max_cr is None or self.consistency_ratio <= self.max_cr

    @property
    def table(self) -> pd.DataFrame:
        """label, priority, rank (1 = most important)."""
        ranks = self.priorities.rank(ascending=False, method="min").astype(int)
        return pd.DataFrame({"label": list(self.priorities.index),
                             "priority": self.priorities.to_numpy(),
                             "rank": ranks.to_numpy()})

    @property
    def most_inconsistent(self) -> tuple[str, str, float, float]:
        """The judgement furthest from what the priorities imply.

        ``(row, column, judgement, implied)`` with ``implied = w_row / w_column``; the
        judgement maximising ``|log(a_ij w_j / w_i)|`` (Saaty's hint for revising).
        """
        a = self.matrix.to_numpy()
        w = self.priorities.to_numpy()
        labels = list(self.priorities.index)
        if len(w) < 2:
            return labels[0], labels[0], 1.0, 1.0
        dev = np.abs(np.log(a * w[None, :] / w[:, None]))
        dev[np.tril_indices(len(w))] = -1.0
        i, j = np.unravel_index(int(np.argmax(dev)), dev.shape)
        return labels[i], labels[j], float(a[i, j]), float(w[i] / w[j])

    def as_weights(self) -> dict[str, float]:
        """The priorities as a plain ``{label: weight}`` dict."""
        return {str(k): float(v) for k, v in self.priorities.items()}

    def summary(self) -> Summary:
        """Priorities, the consistency statistics and the matrix."""
        verdict = ("" if self.max_cr is None else
                   f" ({'acceptable' if self.consistent else 'too high'}: limit "
                   f"{self.max_cr:g})")
        row, col, value, implied = self.most_inconsistent
        header = {"Matrix": self.name, "Elements": str(self.n), "Method": self.method,
                  "lambda_max": f"{self.lambda_max:.3f}",
                  "CI": f"{self.consistency_index:.3f}",
                  "RI": f"{self.random_index:.2f}",
                  "CR": f"{self.consistency_ratio:.3f}{verdict}"}
        note = (f"Most inconsistent judgement: ({row}, {col}) = {_fraction(value)}; the "
                f"priorities imply {implied:.3f}." if self.n > 2 else None)
        return Summary(title="AHP priorities", header=header,
                       sections=(Section("Priorities", self.table, note=note),
                                 Section("Pairwise comparisons", self.matrix,
                                         show_index=True)))

    def __repr__(self) -> str:
        return (f"<AHPResult {self.name!r}: n={self.n}, CR={self.consistency_ratio:.3f}, "
                f"method={self.method}>")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-compatible dict."""
        return {"kind": "csisem.ahp", "name": self.name, "method": self.method, "n": self.n,
                "priorities": self.as_weights(), "lambda_max": self.lambda_max,
                "consistency_index": self.consistency_index,
                "random_index": self.random_index,
                "consistency_ratio": self.consistency_ratio, "max_cr": self.max_cr,
                "consistent": self.consistent, "labels": list(self.priorities.index),
                "matrix": [[plain(v) for v in row] for row in self.matrix.to_numpy()]}

    def to_json(self, indent: int | None = 2) -> str:
        """:meth:`to_dict` as a JSON string."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)


def _fraction(value: float) -> str:
    """3 -> '3', 0.333... -> '1/3', other values with three significant digits."""
    if value >= 1 and math.isclose(value, round(value), rel_tol=1e-6):
        return str(round(value))
    for k in range(2, 10):
        if math.isclose(value, 1.0 / k, rel_tol=1e-6):
            return f"1/{k}"
    return f"{value:.3g}"


def _cell(value: Any, name: str, row: str, col: str) -> float:
    """One matrix cell as a float: a number, a fraction such as ``1/3``, or NaN if empty."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return math.nan
    if isinstance(value, bool):
        raise DataError(f"AHP matrix {name!r}: cell ({row}, {col}) holds {value!r}, not a "
                        "judgement on Saaty's 1-9 scale.")
    if isinstance(value, int | float | np.integer | np.floating):
        return float(value)
    text = str(value).strip()
    if not text:
        return math.nan
    match = _FRACTION.fullmatch(text)
    try:
        if match:
            return float(match.group(1)) / float(match.group(2))
        return float(text)
    except (ValueError, ZeroDivisionError):
        raise DataError(f"AHP matrix {name!r}: cell ({row}, {col}) holds {value!r}, which is "
                        "not a number or a fraction such as 1/3.") from None


def _as_labelled(matrix: Any, labels: Sequence[str] | None, name: str) -> pd.DataFrame:
    """The matrix as a DataFrame of objects with matching row and column labels."""
    if isinstance(matrix, pd.DataFrame):
        frame = matrix.copy()
        if labels is not None:
            if len(labels) != frame.shape[0] or len(labels) != frame.shape[1]:
                raise OptionError(f"labels= has {len(labels)} names for AHP matrix {name!r} "
                                  f"of shape {frame.shape[0]} x {frame.shape[1]}.")
            frame.index = frame.columns = [str(x) for x in labels]
    else:
        array = np.asarray(matrix, dtype=object)
        if array.ndim != 2:
            raise DataError(f"AHP matrix {name!r} must be a square table of judgements, not an "
                            f"array with {array.ndim} dimension(s).")
        if labels is None:
            labels = [f"C{k + 1}" for k in range(max(array.shape))]
        labels = [str(x) for x in labels]
        if len(labels) != array.shape[0] or len(labels) != array.shape[1]:
            if array.shape[0] != array.shape[1]:
                raise DataError(f"AHP matrix {name!r} is not square: {array.shape[0]} rows, "
                                f"{array.shape[1]} columns.")
            raise OptionError(f"labels= has {len(labels)} names for AHP matrix {name!r} of "
                              f"order {array.shape[0]}.")
        frame = pd.DataFrame(array, index=labels, columns=labels)
    if frame.shape[0] != frame.shape[1]:
        raise DataError(f"AHP matrix {name!r} is not square: {frame.shape[0]} rows, "
                        f"{frame.shape[1]} columns.")
    if frame.shape[0] == 0:
        raise DataError(f"AHP matrix {name!r} is empty.")
    rows = [str(x).strip() for x in frame.index]
    cols = [str(x).strip() for x in frame.columns]
    for kind, names in (("row", rows), ("column", cols)):
        dup = sorted({x for x in names if names.count(x) > 1})
        if dup:
            raise DataError(f"AHP matrix {name!r} has duplicated {kind} label(s): "
                            f"{', '.join(dup)}.")
    if set(rows) != set(cols):
        only_rows = [x for x in rows if x not in cols]
        only_cols = [x for x in cols if x not in rows]
        raise DataError(f"AHP matrix {name!r}: the row and column labels differ (rows only: "
                        f"{', '.join(only_rows) or '-'}; columns only: "
                        f"{', '.join(only_cols) or '-'}). Label both with the same elements.")
    frame.index, frame.columns = rows, cols
    return frame[rows]


def validate_matrix(matrix: Any, labels: Sequence[str] | None = None, *,
                    name: str = "matrix") -> pd.DataFrame:
    """The matrix as floats, checked: square, positive, on the 1/9..9 scale, reciprocal.

    Empty cells are filled from their mirror (``a_ji = 1/a_ij``), so only the upper triangle
    needs to be given; an empty diagonal cell is 1.

    Raises
    ------
    DataError
        Naming the matrix and the offending cell when a check fails.
    """
    frame = _as_labelled(matrix, labels, name)
    names = list(frame.index)
    n = len(names)
    a = np.array([[_cell(frame.iat[i, j], name, names[i], names[j]) for j in range(n)]
                  for i in range(n)], dtype=float)
    for i in range(n):
        if math.isnan(a[i, i]):
            a[i, i] = 1.0
        for j in range(i + 1, n):
            if math.isnan(a[i, j]) and math.isnan(a[j, i]):
                raise DataError(f"AHP matrix {name!r}: cells ({names[i]}, {names[j]}) and "
                                f"({names[j]}, {names[i]}) are both empty; give at least one "
                                "of them.")
            if math.isnan(a[j, i]) and a[i, j] > 0:
                a[j, i] = 1.0 / a[i, j]
            elif math.isnan(a[i, j]) and a[j, i] > 0:
                a[i, j] = 1.0 / a[j, i]
    bad = [(i, j) for i in range(n) for j in range(n)
           if not (math.isfinite(a[i, j]) and a[i, j] > 0)]
    if bad:  # a given bad cell before the empty mirror it left unfilled
        i, j = sorted(bad, key=lambda ij: math.isnan(a[ij]))[0]
        raise DataError(f"AHP matrix {name!r}: cell ({names[i]}, {names[j]}) = {a[i, j]:g}; "
                        "judgements must be positive numbers (1 to 9 or their reciprocals "
                        "1/2 to 1/9).")
    lo, hi = SCALE
    for i in range(n):
        for j in range(n):
            v, cell = a[i, j], f"({names[i]}, {names[j]})"
            if i == j and not math.isclose(v, 1.0, rel_tol=1e-9):
                raise DataError(f"AHP matrix {name!r}: diagonal cell {cell} = {v:g}; an "
                                "element compared with itself is 1.")
            if v < lo * (1 - RECIPROCAL_TOL) or v > hi * (1 + RECIPROCAL_TOL):
                raise DataError(f"AHP matrix {name!r}: cell {cell} = {_fraction(v)} is outside "
                                "Saaty's 1/9..9 scale.")
    for i in range(n):
        for j in range(i + 1, n):
            if abs(a[i, j] * a[j, i] - 1.0) > RECIPROCAL_TOL:
                raise DataError(
                    f"AHP matrix {name!r} is not reciprocal: cell ({names[i]}, {names[j]}) = "
                    f"{_fraction(a[i, j])} but ({names[j]}, {names[i]}) = {_fraction(a[j, i])}; "
                    f"it must be 1/{_fraction(a[i, j])} = {1.0 / a[i, j]:.3f}.")
    return pd.DataFrame(a, index=names, columns=names)


def _priorities(a: np.ndarray, method: PriorityMethod) -> tuple[np.ndarray, float]:
    """(n,) priorities summing to one and lambda_max."""
    n = a.shape[0]
    if n == 1:
        return np.ones(1), 1.0
    if method is PriorityMethod.GEOMETRIC_MEAN:
        w = np.exp(np.log(a).mean(axis=1))
        w = w / w.sum()
        return w, float(np.mean((a @ w) / w))
    values, vectors = np.linalg.eig(a)
    k = int(np.argmax(values.real))
    # The Perron vector of a positive matrix has one sign; abs() removes eig's arbitrary one.
    w = np.abs(vectors[:, k].real)
    return w / w.sum(), float(values[k].real)


def ahp(matrix: Any, labels: Sequence[str] | None = None, *, name: str | None = None,
        method: PriorityMethod | str = "eigenvector", max_cr: float | None = 0.1,
        inconsistent: str = "error", random_index: float | None = None) -> AHPResult:
    """Priorities and consistency ratio of a pairwise-comparison matrix.

    Parameters
    ----------
    matrix : (n, n) judgements: a DataFrame labelled by element (rows = columns), a nested
        list or array (with ``labels``), or the path of a CSV file (see
        :func:`read_ahp_matrix`). Cells are numbers or fractions such as ``"1/3"``; empty
        cells below (or above) the diagonal are filled with reciprocals.
    labels : element names for an unlabelled matrix (default C1, C2, ...).
    name : shown in messages and output (default: the file name, or "matrix").
    method : ``"eigenvector"`` (Saaty's principal eigenvector, default) or
        ``"geometric_mean"``.
    max_cr : the largest acceptable consistency ratio (Saaty: 0.1); None disables the check.
    inconsistent : ``"error"`` (default) raises when ``CR > max_cr``; ``"warn"`` warns and
        returns the result.
    random_index : RI to use instead of Saaty's table (needed for n > 10).

    Raises
    ------
    DataError
        If the matrix is not square, has a non-numeric, non-positive or off-scale cell, or is
        not reciprocal (naming the matrix and the cell).
    ConsistencyError
        If ``CR > max_cr`` and ``inconsistent="error"``.
    OptionError
        For an unknown ``method`` or ``inconsistent``, or n > 10 without ``random_index``.
    """
    try:
        how = PriorityMethod(method)
    except ValueError:
        choices = ", ".join(repr(m.value) for m in PriorityMethod)
        raise OptionError(f"method={method!r} is not supported; choose one of {choices}.") \
            from None
    if inconsistent not in ("error", "warn"):
        raise OptionError(f"inconsistent={inconsistent!r} is not supported; choose 'error' or "
                          "'warn'.")
    if isinstance(matrix, str | FilePath):
        shown = name or FilePath(matrix).name
        frame = validate_matrix(read_ahp_matrix(matrix), name=shown)
    else:
        shown = name or "matrix"
        frame = validate_matrix(matrix, labels, name=shown)
    n = frame.shape[0]
    if random_index is None:
        if n not in RANDOM_INDEX:
            raise OptionError(
                f"AHP matrix {shown!r} compares {n} elements; Saaty's random index is "
                "tabulated up to 10 (and Saaty advises at most 9 per matrix): split the "
                "elements into clusters, or pass random_index=.")
        ri = RANDOM_INDEX[n]
    else:
        ri = float(random_index)
    w, lam = _priorities(frame.to_numpy(), how)
    # lambda_max >= n for a positive reciprocal matrix; clip round-off below it.
    ci = max((lam - n) / (n - 1), 0.0) if n > 1 else 0.0
    cr = ci / ri if ri > 0 else 0.0
    result = AHPResult(name=shown, matrix=frame, priorities=pd.Series(w, index=frame.index),
                       lambda_max=lam, consistency_index=ci, random_index=ri,
                       consistency_ratio=cr, method=how.value, max_cr=max_cr)
    if not result.consistent:
        row, col, value, implied = result.most_inconsistent
        text = (f"AHP matrix {shown!r} is too inconsistent: CR = {cr:.3f} > {max_cr:g} "
                f"(lambda_max = {lam:.3f}, CI = {ci:.3f}, RI = {ri:.2f} for n = {n}). The "
                f"judgement furthest from the priorities is ({row}, {col}) = "
                f"{_fraction(value)} (they imply {implied:.2f}).")
        if inconsistent == "error":
            raise ConsistencyError(text + " Revise the judgements, or accept them with "
                                   "inconsistent='warn' (CLI: --allow-inconsistent).")
        warnings.warn(text, ConsistencyWarning, stacklevel=2)
    return result


def read_ahp_matrix(path: str | FilePath) -> pd.DataFrame:
    """A pairwise-comparison matrix from a CSV file with row and column labels.

    The first row holds the element names (its first cell may be empty), the first column
    the same names; cells are numbers or fractions (``1/3``), and cells on one side of the
    diagonal may be left empty. Read with csisem's data reader (so .xlsx etc. work too).

    Raises
    ------
    DataError
        If the file cannot be read or has no label column.
    """
    from ..data import read_data

    frame = read_data(path)
    if frame.shape[1] < 2:
        raise DataError(f"AHP matrix file {str(path)!r} needs a first column of element names "
                        "and one column per element.")
    labels = frame.iloc[:, 0].astype(str).str.strip()
    body = frame.iloc[:, 1:].copy()
    body.index = pd.Index(labels)
    body.columns = [str(c).strip() for c in body.columns]
    return body
