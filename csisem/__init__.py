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
    "ahp",
    "compare",
    "compare_groups",
    "datasets",
    "delphi",
    "errors",
    "fit",
    "fit_groups",
    "kano",
    "list_models",
    "load_model",
    "load_spec",
    "measurement_invariance",
    "measures",
    "micom",
    "nps",
    "parse_lavaan",
    "parse_spec",
    "satisfaction_ratio",
    "servqual",
    "weighted_index",
]

_LAZY: dict[str, tuple[str, str | None]] = {  # imported on first use (scipy.stats and
    # semopy are slow to import); None: the module itself
    "CBSEMEstimator": ("csisem.estimation.cbsem", "CBSEMEstimator"),
    "CBSEMResult": ("csisem.cbsem_results", "CBSEMResult"),
    "MethodComparison": ("csisem.estimation.cbsem_compare", "MethodComparison"),
    "compare": ("csisem.estimation.cbsem_compare", "compare"),
    "measurement_invariance": ("csisem.estimation.cbsem_invariance", "measurement_invariance"),
    # classic measures beside the SEM (AHP, Delphi, SERVQUAL, Kano, NPS): csisem.measures
    "measures": ("csisem.measures", None),
    "ahp": ("csisem.measures", "ahp"),
    "delphi": ("csisem.measures", "delphi"),
    "kano": ("csisem.measures", "kano"),
    "nps": ("csisem.measures", "nps"),
    "satisfaction_ratio": ("csisem.measures", "satisfaction_ratio"),
    "servqual": ("csisem.measures", "servqual"),
    "weighted_index": ("csisem.measures", "weighted_index"),
}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        loaded = importlib.import_module(module)
        return loaded if attr is None else getattr(loaded, attr)
    raise AttributeError(f"module 'csisem' has no attribute {name!r}")
