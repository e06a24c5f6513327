"""Estimators: PLS path modelling (and PLSc) and covariance-based SEM."""

from .cbsem import CBSEMEstimator
from .effects import effects_table, total_effects
from .pls import estimate_pls
from .pls_estimator import PLSEstimator

__all__ = ["CBSEMEstimator", "PLSEstimator", "effects_table", "estimate_pls", "total_effects"]
