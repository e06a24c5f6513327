"""Data sets shipped with csisem, and simulated data from a population model.

- ``mobi``: the ECSI mobile-phone survey of Tenenhaus et al. (2005), 250 respondents x 24
  indicators on a 1-10 scale. Provenance and licence: ``PROVENANCE.md`` in this folder.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from importlib import resources

import pandas as pd

from ..errors import DataError
from .companies import simulate_companies
from .simulate import Population, population, simulate

__all__ = ["Population", "list_datasets", "load_dataset", "load_mobi", "population",
           "simulate", "simulate_companies"]


def load_mobi() -> pd.DataFrame:
    """The ECSI mobile-phone data (250 x 24, integers 1-10, no missing values).

    Source: Bayol, de la Foye, Tellier & Tenenhaus (2000), as analysed by Tenenhaus,
    Esposito Vinzi, Chatelin & Lauro (2005), Computational Statistics & Data Analysis 48,
    159-205; taken unchanged from the R package seminr (GPL-3). Fit it with the catalogue
    model ``"ecsi"``.
    """
    with resources.files(__name__).joinpath("mobi.csv").open("r", encoding="utf-8") as fh:
        # one float block instead of 24 column blocks: every fit converts it faster
        return pd.read_csv(fh).copy()


_DATASETS: dict[str, Callable[[], pd.DataFrame]] = {"mobi": load_mobi}


def list_datasets() -> list[str]:
    """Names of the bundled data sets."""
    return sorted(_DATASETS)


def load_dataset(name: str) -> pd.DataFrame:
    """A bundled data set by name (see :func:`list_datasets`).

    Raises
    ------
    DataError
        If there is no such data set.
    """
    key = name.lower()
    if key not in _DATASETS:
        close = difflib.get_close_matches(key, list(_DATASETS), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise DataError(f"No bundled data set {name!r}.{hint} Available: "
                        f"{', '.join(list_datasets())}.")
    return _DATASETS[key]()
