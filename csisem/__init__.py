"""csisem: structural equation modelling for customer-satisfaction-index research.

Fit a catalogue model to bundled data::

    import csisem
    result = csisem.fit("ecsi", "mobi")      # PLS path modelling, path weighting scheme
    print(result)                             # summary; result.paths, result.loadings, ...
    cb = csisem.fit("ecsi", "mobi", method="ml")   # covariance-based SEM (lavaan's numbers)
"""

from . import datasets, errors
from .aggregate import Aggregation, aggregate
from .api import fit
from .estimation import PLSEstimator
from .estimation.mga import MGAResult, compare_groups
from .estimation.micom import MICOMResult, micom
from .groups import GroupFits, fit_groups
from .models import (
    Construct,
    Covariance,
    Indicator,
    Mode,
    Model,
    Path,
    load_spec,
    parse_lavaan,
    parse_spec,
)
from .models.catalogue import list_models, load_model
from .results import PLSResult

__version__ = "0.1.0"

__all__ = [
    "Aggregation",
    "CBSEMEstimator",
    "CBSEMResult",
    "Construct",
    "Covariance",
    "GroupFits",
    "Indicator",
    "MGAResult",
    "MICOMResult",
    "MethodComparison",
    "Mode",
    "Model",
    "PLSEstimator",
    "PLSResult",
    "Path",
    "__version__",
    "aggregate",
    "compare",
    "compare_groups",
    "datasets",
    "errors",
    "fit",
    "fit_groups",
    "list_models",
    "load_model",
    "load_spec",
    "measurement_invariance",
    "micom",
    "parse_lavaan",
    "parse_spec",
]

_LAZY = {  # CB-SEM names, imported on first use (scipy.stats and semopy are slow to import)
    "CBSEMEstimator": ("csisem.estimation.cbsem", "CBSEMEstimator"),
    "CBSEMResult": ("csisem.cbsem_results", "CBSEMResult"),
    "MethodComparison": ("csisem.estimation.cbsem_compare", "MethodComparison"),
    "compare": ("csisem.estimation.cbsem_compare", "compare"),
    "measurement_invariance": ("csisem.estimation.cbsem_invariance", "measurement_invariance"),
}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'csisem' has no attribute {name!r}")
