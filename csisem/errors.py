"""Exceptions and warnings raised by csisem.

Every user-facing problem is one of these types, so callers (and the CLI) can tell a bad spec
from bad data, a bad option or a failed estimation without parsing messages.

Messages say what is wrong, where (file, line, key path, column, construct) and what to do.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "CSIError",
    "CSIWarning",
    "ConsistencyError",
    "ConsistencyWarning",
    "ConvergenceWarning",
    "DataError",
    "DataWarning",
    "EstimationError",
    "InadmissibleSolutionWarning",
    "OptionError",
    "OutOfScaleWarning",
    "SpecError",
    "SpecProblem",
]


class CSIError(Exception):
    """Base class of every error csisem raises on purpose."""


@dataclass(frozen=True)
class SpecProblem:
    """One problem found in a model specification.

    ``where`` is a key path such as ``constructs.IMAG.indicators[2]``; ``source`` the file (or
    ``None`` for a model built in Python); ``line``/``column`` are 1-based when known.
    """

    message: str
    where: str = ""
    source: str | None = None
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        location = ""
        if self.source is not None:
            location = self.source
            if self.line is not None:
                location += f":{self.line}"
                if self.column is not None:
                    location += f":{self.column}"
        elif self.line is not None:
            location = f"line {self.line}" + (
                f", column {self.column}" if self.column is not None else "")
        parts = [p for p in (location, self.where) if p]
        prefix = ": ".join(parts)
        return f"{prefix}: {self.message}" if prefix else self.message


class SpecError(CSIError, ValueError):
    """A model specification (YAML or lavaan syntax) is invalid.

    Holds every problem found, not only the first, in :attr:`problems`.
    """

    def __init__(self, problems: list[SpecProblem] | str) -> None:
        if isinstance(problems, str):
            problems = [SpecProblem(problems)]
        self.problems: tuple[SpecProblem, ...] = tuple(problems)
        if len(self.problems) == 1:
            text = str(self.problems[0])
        else:
            text = f"{len(self.problems)} problems in the model specification:\n" + "\n".join(
                f"  - {p}" for p in self.problems
            )
        super().__init__(text)


class DataError(CSIError, ValueError):
    """The data do not fit the model (missing column, non-numeric values, ...)."""


class ConsistencyError(DataError):
    """Expert judgements are too inconsistent to use (AHP consistency ratio above the limit)."""


class OptionError(CSIError, ValueError):
    """An argument has a value csisem does not support."""


class EstimationError(CSIError, RuntimeError):
    """Estimation failed (singular matrix, no admissible solution, ...)."""


class CSIWarning(UserWarning):
    """Base class of csisem's warnings."""


class ConvergenceWarning(CSIWarning):
    """An iterative algorithm stopped at its iteration limit without converging."""


class InadmissibleSolutionWarning(CSIWarning):
    """The solution is outside the admissible region (Heywood case, |correlation| > 1, ...)."""


class DataWarning(CSIWarning):
    """Something in the data deserves attention but does not stop the analysis."""


class ConsistencyWarning(DataWarning):
    """Expert judgements are inconsistent, and their use was asked for anyway."""


class OutOfScaleWarning(DataWarning):
    """Values lie outside the spec's item scale (often undeclared missing-value codes).

    ``csisem.fit(..., out_of_scale="error")`` (CLI ``--out-of-scale error``) makes it a
    :class:`DataError` instead.
    """
