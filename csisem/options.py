"""Option enums shared by the estimators, and the one function that checks them.

Every option has exactly one spelling; a wrong value raises :class:`OptionError` listing the
valid ones (cSEM checks its options the same way, against one registry).
"""

from __future__ import annotations

import difflib
from enum import Enum
from typing import TypeVar

from .errors import OptionError

__all__ = ["CBSEM_METHODS", "CIMethod", "GroupEqual", "InnerScheme", "Method", "MissingPolicy",
           "coerce"]


class Method(str, Enum):
    """Estimation method.

    ``pls`` and ``plsc`` estimate composites (PLS path modelling, consistent PLS); the others
    are covariance-based SEM (common factors, lavaan's estimators): ``ml`` maximum likelihood
    with standard errors from the expected information; ``mlr`` the same estimates with
    Huber-White standard errors (observed information) and the Yuan-Bentler scaled chi-square;
    ``gls`` generalised and ``uls`` unweighted least squares; ``wls`` weighted least squares
    with the asymptotic covariance matrix of the sample (co)variances as weight
    (asymptotically distribution free, Browne 1984) and ``dwls`` with its diagonal; ``fiml``
    is ``ml`` with ``missing="fiml"`` (full-information ML, lavaan's ``missing = "ml"``).
    """

    PLS = "pls"
    PLSC = "plsc"
    ML = "ml"
    MLR = "mlr"
    GLS = "gls"
    ULS = "uls"
    WLS = "wls"
    DWLS = "dwls"
    FIML = "fiml"

    @property
    def is_cbsem(self) -> bool:
        """True for the covariance-based methods."""
        return self in CBSEM_METHODS


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
    """What to do with missing cells.

    ``fiml`` (full-information maximum likelihood: every observed cell counts) applies to the
    CB-SEM methods ``ml`` and ``mlr`` only.
    """

    LISTWISE = "listwise"
    MEAN = "mean"
    FIML = "fiml"


class GroupEqual(str, Enum):
    """Parameters held equal across groups in a multi-group CB-SEM fit (lavaan's
    ``group.equal``, with ``_`` for ``.``)."""

    LOADINGS = "loadings"
    INTERCEPTS = "intercepts"
    MEANS = "means"
    RESIDUALS = "residuals"
    RESIDUAL_COVARIANCES = "residual_covariances"
    LV_VARIANCES = "lv_variances"
    LV_COVARIANCES = "lv_covariances"
    REGRESSIONS = "regressions"


CBSEM_METHODS = frozenset({Method.ML, Method.MLR, Method.GLS, Method.ULS, Method.WLS,
                           Method.DWLS, Method.FIML})

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
