"""Simulated multi-company survey data, with the revenue and GDP weights of an ACSI-style
national index (for :func:`csisem.fit_groups` and :func:`csisem.aggregate`).

Every company's respondents come from the same population model (:func:`simulate`); what
differs between companies is the *location* of the answers: each standardised indicator is
mapped to the item scale ``[lo, hi]`` as ``lo + (0.7 + shift) * (hi - lo) + x * (hi - lo) / 6``
(rounded and clipped, as :func:`simulate` with ``on_scale=True`` does with ``shift = 0``).
``shift`` is an industry effect plus a company effect, so companies, and industries, have
different index levels while the structural model is the same everywhere.

Layout: industry ``i`` belongs to sector ``i mod n_sectors`` and company ``c`` to industry
``c mod n_industries``, so every sector has an industry and every industry a company.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import OptionError
from ..models.model import Model
from .simulate import simulate

__all__ = ["simulate_companies"]


def _count(value: object, arg: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        raise OptionError(f"{arg}={value!r} must be an integer of at least {low}.")
    return int(value)


def _names(prefix: str, n: int) -> list[str]:
    width = len(str(n))
    return [f"{prefix}{k + 1:0{width}d}" for k in range(n)]


def simulate_companies(
    model: Model | str,
    n_companies: int = 40,
    n_industries: int = 6,
    n_sectors: int = 3,
    n_per_company: int = 250,
    *,
    seed: int | None = 0,
    industry_sd: float = 0.04,
    company_sd: float = 0.04,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Survey data of several companies, their revenues and the sectors' GDP shares.

    Parameters
    ----------
    model : a :class:`~csisem.models.Model` with a ``scale`` or a catalogue name.
    n_companies, n_industries, n_sectors : how many of each (``n_companies >= n_industries
        >= n_sectors >= 1``).
    n_per_company : respondents per company.
    seed : the same seed gives the same three tables.
    industry_sd, company_sd : standard deviations of the location shifts, as a share of the
        item range (0.04 on a 1-10 scale is about 4 index points).

    Returns
    -------
    data : ``company`` plus one column per indicator (on the item scale),
        ``n_companies * n_per_company`` rows.
    weights : one row per company: company, industry, sector, revenue (lognormal, median
        1000).
    gdp_shares : one row per sector: sector, gdp_share (positive, summing to 1).

    Raises
    ------
    OptionError
        For counts out of range or a model without ``scale``.
    """
    from ..models.catalogue import load_model

    model = load_model(model)
    if model.scale is None:
        raise OptionError(f"Model {model.name!r} has no 'scale:'; simulated survey data need "
                          "an item scale.")
    n_sectors = _count(n_sectors, "n_sectors", 1)
    n_industries = _count(n_industries, "n_industries", n_sectors)
    n_companies = _count(n_companies, "n_companies", n_industries)
    n_per_company = _count(n_per_company, "n_per_company", 2)
    for arg, value in (("industry_sd", industry_sd), ("company_sd", company_sd)):
        if isinstance(value, bool) or not (isinstance(value, int | float) and value >= 0):
            raise OptionError(f"{arg}={value!r} must be a non-negative number.")
    rng = np.random.default_rng(seed)
    companies = _names("C", n_companies)
    industries = _names("I", n_industries)
    sectors = _names("S", n_sectors)
    industry_of = [industries[c % n_industries] for c in range(n_companies)]
    sector_of = {industries[i]: sectors[i % n_sectors] for i in range(n_industries)}

    industry_shift = dict(zip(industries, rng.normal(0.0, industry_sd, n_industries),
                              strict=True))
    company_shift = rng.normal(0.0, company_sd, n_companies)
    revenue = np.round(rng.lognormal(np.log(1000.0), 1.0, n_companies), 1)
    gdp = rng.dirichlet(np.full(n_sectors, 5.0))

    lo, hi = (float(v) for v in model.scale)
    frames = []
    for c, name in enumerate(companies):
        # Keep the mean answer well inside the scale, so that clipping stays mild.
        shift = float(np.clip(industry_shift[industry_of[c]] + company_shift[c], -0.2, 0.15))
        x = simulate(model, n_per_company, seed=rng).to_numpy()
        items = np.clip(np.rint(lo + (0.7 + shift) * (hi - lo) + x * (hi - lo) / 6), lo, hi)
        frame = pd.DataFrame(items, columns=list(model.indicator_names))
        frame.insert(0, "company", name)
        frames.append(frame)
    data = pd.concat(frames, ignore_index=True)
    weights = pd.DataFrame({"company": companies, "industry": industry_of,
                            "sector": [sector_of[i] for i in industry_of],
                            "revenue": revenue})
    gdp_shares = pd.DataFrame({"sector": sectors, "gdp_share": gdp})
    return data, weights, gdp_shares
