"""Classic customer-satisfaction and service-quality measures, beside the structural model.

- :func:`ahp`: priorities and consistency ratio of a pairwise-comparison matrix (Saaty);
- :func:`delphi`: expert weights aggregated over Delphi rounds, spread and convergence;
- :func:`weighted_index`: the hierarchical, expert-weighted 0-100 index (index <- constructs
  <- indicators <- questions), and its weights beside a PLS fit's;
- :func:`servqual`: SERVQUAL gaps (perception - expectation) per item, dimension, overall;
- :func:`kano`: Kano categories and better/worse coefficients;
- :func:`satisfaction_ratio`: c = perceived / expected value, and the difference form;
- :func:`nps`: Net Promoter Score with a confidence interval.

They read the same survey data and spec files as :func:`csisem.fit`; the command line has
``csisem ahp``, ``servqual``, ``kano`` and ``nps``.
"""

from .ahp import AHPResult, ahp, read_ahp_matrix
from .delphi import DelphiResult, delphi
from .hierarchy import Hierarchy, WeightedIndex, weighted_index
from .kano import KanoResult, kano
from .nps import NPSResult, nps
from .ratio import RatioResult, satisfaction_ratio
from .servqual import ServqualResult, servqual

__all__ = [
    "AHPResult",
    "DelphiResult",
    "Hierarchy",
    "KanoResult",
    "NPSResult",
    "RatioResult",
    "ServqualResult",
    "WeightedIndex",
    "ahp",
    "delphi",
    "kano",
    "nps",
    "read_ahp_matrix",
    "satisfaction_ratio",
    "servqual",
    "weighted_index",
]
