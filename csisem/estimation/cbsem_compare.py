"""One model, several estimators: standardised path coefficients and R² side by side.

PLS path coefficients are standardised (constructs are standardised composites); for a
comparison the CB-SEM paths are taken from the completely standardised solution
(``std_all``, lavaan's ``std.all``), so every column is on the same scale. PLS estimates
composites, PLSc and CB-SEM common factors; differences between the columns show how much
the choice of estimator matters for a model and data set (Dijkstra & Henseler 2015).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..errors import OptionError
from ..options import Method, MissingPolicy, coerce
from ..results import _records
from ..summary import Section, Summary, SummaryMixin

if TYPE_CHECKING:
    from ..cbsem_results import CBSEMResult
    from ..models.model import Model
    from ..results import PLSResult

__all__ = ["MethodComparison", "compare"]


@dataclass(frozen=True, repr=False)
class MethodComparison(SummaryMixin):
    """Estimates of one model by several methods.

    - ``paths``: source, target and one column per method (standardised path coefficients;
      ``std_all`` for the CB-SEM methods);
    - ``r_squared``: construct and one column per method;
    - ``n_obs``: rows used by each method;
    - ``results``: the fits themselves, by method.
    """

    model: str
    methods: tuple[str, ...]
    paths: pd.DataFrame
    r_squared: pd.DataFrame
    n_obs: dict[str, int]
    warnings: tuple[str, ...] = ()
    results: dict[str, Any] = field(default_factory=dict, compare=False)

    def summary(self) -> Summary:
        """Header (model, methods, rows) and the two tables."""
        header = {"Model": self.model, "Methods": ", ".join(self.methods),
                  "Observations": ", ".join(f"{m}: {self.n_obs[m]}" for m in self.methods)}
        return Summary(
            title="csisem — method comparison", header=header,
            sections=(Section("Standardised path coefficients", self.paths,
                              note="PLS/PLSc: standardised estimates; CB-SEM: std_all."),
                      Section("R²", self.r_squared)),
            footer="\n".join(f"WARNING: {w}" for w in self.warnings) or None)

    def __repr__(self) -> str:
        return f"<MethodComparison {self.model}: {', '.join(self.methods)}>"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-compatible dict: model, methods, n_obs, paths, r_squared, warnings."""
        return {"model": self.model, "methods": list(self.methods), "n_obs": dict(self.n_obs),
                "paths": _records(self.paths), "r_squared": _records(self.r_squared),
                "warnings": list(self.warnings)}

    def to_json(self, indent: int | None = 2) -> str:
        """:meth:`to_dict` as a JSON string."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)


def compare(model: str | Path | Model, data: Any, *,
            methods: Sequence[Method | str] = ("pls", "plsc", "ml"),
            columns: Mapping[str, str] | None = None,
            missing: MissingPolicy | str = MissingPolicy.LISTWISE,
            missing_codes: Sequence[float] | Mapping[str, Sequence[float]] | None = None,
            ) -> MethodComparison:
    """Fit ``model`` to ``data`` by each of ``methods`` and tabulate the standardised paths
    and R² (see the module docstring).

    Parameters
    ----------
    model : a catalogue name, a spec path or a :class:`~csisem.models.Model`.
    data : a DataFrame, a bundled data set name or a file path.
    methods : estimation methods (default ``("pls", "plsc", "ml")``), each at most once.
    columns, missing, missing_codes : as in :func:`csisem.fit` (applied to every method).

    Returns
    -------
    MethodComparison

    Raises
    ------
    OptionError
        For an unknown, repeated or empty list of methods.
    SpecError, DataError, EstimationError
        As :func:`csisem.fit` (e.g. a composite construct with a CB-SEM method).
    """
    import warnings

    from ..api import fit, resolve_data
    from ..models.catalogue import load_model

    if isinstance(methods, str | Method):
        methods = [methods]
    chosen = [coerce(Method, m, arg="methods") for m in methods]
    if not chosen:
        raise OptionError("methods= is empty; give at least one method, e.g. "
                          "methods=('pls', 'ml').")
    repeated = sorted({m.value for m in chosen if chosen.count(m) > 1})
    if repeated:
        raise OptionError(f"methods= names {', '.join(map(repr, repeated))} more than once.")
    spec = load_model(model)
    frame = resolve_data(data)
    results: dict[str, PLSResult | CBSEMResult] = {}
    notes: list[str] = []
    for method in chosen:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            results[method.value] = fit(spec, frame, method=method, columns=columns,
                                        missing=missing, missing_codes=missing_codes)
        for w in caught:
            # re-raised with the method in front: the same warning can come from several
            text = f"{method.value}: {w.message}"
            if text not in notes:
                notes.append(text)
                warnings.warn(text, w.category, stacklevel=2)
    names = [m.value for m in chosen]
    paths = pd.DataFrame({"source": [p.source for p in spec.paths],
                          "target": [p.target for p in spec.paths]})
    r2 = pd.DataFrame({"construct": list(spec.endogenous)})
    for name, result in results.items():
        column = "std_all" if Method(name).is_cbsem else "estimate"
        table = result.paths.set_index(["source", "target"])[column]
        paths[name] = [float(table.get((s, t), float("nan")))
                       for s, t in zip(paths["source"], paths["target"], strict=True)]
        r2[name] = [float(result.r_squared.get(c, float("nan"))) for c in r2["construct"]]
    return MethodComparison(model=spec.name, methods=tuple(names), paths=paths, r_squared=r2,
                            n_obs={n: int(r.n_obs) for n, r in results.items()},
                            warnings=tuple(notes), results=results)
