"""Option enums shared by the estimators, and the one function that checks them.

Every option has exactly one spelling; a wrong value raises :class:`OptionError` listing the
valid ones (cSEM checks its options the same way, against one registry).
"""

from __future__ import annotations

import difflib
from enum import Enum
from typing import TypeVar

from .errors import OptionError

__all__ = ["CIMethod", "InnerScheme", "Method", "MissingPolicy", "coerce"]


class Method(str, Enum):
    """Estimation method."""

    PLS = "pls"
    PLSC = "plsc"


class InnerScheme(str, Enum):
    """PLS inner weighting scheme (Lohmöller 1989; Tenenhaus et al. 2005, section 2.2)."""

    PATH = "path"
    CENTROID = "centroid"
    FACTORIAL = "factorial"


class CIMethod(str, Enum):
    """Bootstrap confidence interval."""

    PERCENTILE = "percentile"
    BCA = "bca"


class MissingPolicy(str, Enum):
    """What to do with missing cells."""

    LISTWISE = "listwise"
    MEAN = "mean"


E = TypeVar("E", bound=Enum)


def coerce(enum_cls: type[E], value: E | str, *, arg: str) -> E:
    """``value`` as a member of ``enum_cls``.

    Raises
    ------
    OptionError
        If ``value`` is not one of the members' values (the message lists them).
    """
    if isinstance(value, enum_cls):
        return value
    try:
        return enum_cls(value)
    except ValueError:
        choices = [str(m.value) for m in enum_cls]
        close = difflib.get_close_matches(str(value), choices, n=1, cutoff=0.5)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise OptionError(f"{arg}={value!r} is not supported.{hint} Choose one of "
                          f"{', '.join(repr(c) for c in choices)}.") from None
