"""csisem: structural equation modelling for customer-satisfaction-index research.

Fit a catalogue model to bundled data::

    import csisem
    result = csisem.fit("ecsi", "mobi")      # PLS path modelling, path weighting scheme
    print(result)                             # summary; result.paths, result.loadings, ...
"""

from . import datasets, errors
from .api import fit
from .estimation import PLSEstimator
from .estimation.mga import MGAResult, compare_groups
from .estimation.micom import MICOMResult, micom
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
    "Construct",
    "Covariance",
    "Indicator",
    "MGAResult",
    "MICOMResult",
    "Mode",
    "Model",
    "PLSEstimator",
    "PLSResult",
    "Path",
    "__version__",
    "compare_groups",
    "datasets",
    "errors",
    "fit",
    "list_models",
    "load_model",
    "load_spec",
    "micom",
    "parse_lavaan",
    "parse_spec",
]
