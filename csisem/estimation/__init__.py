"""Estimators: PLS path modelling (and PLSc) and covariance-based SEM."""

from typing import Any

from .effects import effects_table, total_effects
from .pls import estimate_pls
from .pls_estimator import PLSEstimator


def __getattr__(name: str) -> Any:
    # CB-SEM pulls in scipy.stats/optimize (and semopy on first fit): loaded on first use, so
    # that `import csisem` and the PLS command line stay fast.
    if name == "CBSEMEstimator":
        from .cbsem import CBSEMEstimator

        return CBSEMEstimator
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = ["CBSEMEstimator", "PLSEstimator", "effects_table", "estimate_pls", "total_effects"]
