"""Estimators (PLS path modelling; CB-SEM arrives with a later issue)."""

from .effects import effects_table, total_effects
from .pls import estimate_pls
from .pls_estimator import PLSEstimator

__all__ = ["PLSEstimator", "effects_table", "estimate_pls", "total_effects"]
