"""Data drawn from a population model with known path coefficients, loadings and weights.

The population is standardised: every construct and indicator has variance 1. Reflective
constructs follow the common-factor model ``x = lambda * eta + e``; composites (Mode A or B)
follow the composite model of Dijkstra (2017): ``eta = w' x_b`` with a given within-block
correlation matrix and ``w' S_bb w = 1``. Blocks are linked only through their constructs, so
``cov(x_i, x_j) = a_i * cor(eta_b, eta_c) * a_j`` with ``a`` the loading (reflective) or
``S_bb w`` (composite). The structural model is recursive; each endogenous construct's error
variance is whatever makes its variance 1.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._typing import FloatArray
from ..errors import OptionError
from ..models.model import Mode, Model

__all__ = ["Population", "population", "simulate"]

PathValues = Mapping[str, float] | Mapping[tuple[str, str], float]


@dataclass(frozen=True)
class Population:
    """The population a simulation draws from.

    ``paths``: source, target, value; ``outer``: construct, indicator, loading, weight
    (weight is NaN for reflective constructs); ``construct_correlations`` (K × K);
    ``sigma``: indicator correlation matrix (J × J); ``r_squared`` per endogenous construct.
    """

    model: Model
    paths: pd.DataFrame
    outer: pd.DataFrame
    construct_correlations: pd.DataFrame
    sigma: pd.DataFrame
    r_squared: pd.Series


def _path_values(model: Model, paths: PathValues | None) -> dict[tuple[str, str], float]:
    values: dict[tuple[str, str], float] = {}
    for p in model.paths:
        values[(p.source, p.target)] = 0.5 / np.sqrt(len(model.predecessors(p.target)))
    for key, v in (paths or {}).items():
        if isinstance(key, str):
            parts = [s.strip() for s in key.split("->")]
            if len(parts) != 2:
                raise OptionError(f"paths= key {key!r} must look like 'SOURCE->TARGET'.")
            pair = (parts[0], parts[1])
        else:
            pair = (key[0], key[1])
        if pair not in values:
            raise OptionError(f"paths= names {pair[0]}->{pair[1]}, which is not a path of "
                              f"model {model.name!r}.")
        values[pair] = float(v)
    return values


def _per_indicator(model: Model, given: float | Mapping[str, float] | None, default: float,
                   arg: str) -> dict[str, float]:
    if given is None or isinstance(given, int | float):
        value = default if given is None else float(given)
        return dict.fromkeys(model.indicator_names, value)
    unknown = [k for k in given if k not in model.indicator_names]
    if unknown:
        raise OptionError(f"{arg}= names {', '.join(unknown)}, not indicators of model "
                          f"{model.name!r}.")
    out = dict.fromkeys(model.indicator_names, default)
    out.update({k: float(v) for k, v in given.items()})
    return out


def population(
    model: Model,
    *,
    paths: PathValues | None = None,
    loadings: float | Mapping[str, float] | None = None,
    weights: Mapping[str, float] | None = None,
    indicator_correlation: float = 0.5,
    exogenous_correlation: float = 0.3,
) -> Population:
    """Build the population correlation structure of ``model``.

    Parameters
    ----------
    paths : ``{"SOURCE->TARGET": value}``; default ``0.5 / sqrt(number of predictors)``.
    loadings : reflective loadings, one number for all or ``{indicator: value}``; default 0.8.
    weights : composite weights ``{indicator: value}`` (rescaled to unit composite variance);
        default equal weights.
    indicator_correlation : correlation between indicators of the same composite.
    exogenous_correlation : correlation between exogenous constructs.

    Raises
    ------
    OptionError
        If a value is out of range, the paths explain more than all of a construct's
        variance, or the implied correlation matrix is not positive definite.
    """
    names = model.construct_names
    K = len(names)
    pos = {c: k for k, c in enumerate(names)}
    beta = _path_values(model, paths)
    lam = _per_indicator(model, loadings, 0.8, "loadings")
    w_given = _per_indicator(model, weights, 1.0, "weights")

    R = np.eye(K)
    exo = [pos[c] for c in model.exogenous]
    for a in exo:
        for b in exo:
            if a != b:
                R[a, b] = exogenous_correlation
    r2: dict[str, float] = {}
    for c in model.topological_order:
        pred = model.predecessors(c)
        if not pred:
            continue
        k, idx = pos[c], [pos[p] for p in pred]
        b = np.array([beta[(p, c)] for p in pred])
        explained = float(b @ R[np.ix_(idx, idx)] @ b)
        if not explained < 1:
            raise OptionError(f"The paths into {c!r} explain {explained:.3f} of its variance "
                              "(must be below 1); use smaller path coefficients.")
        r2[c] = explained
        done = [pos[x] for x in model.topological_order[: model.topological_order.index(c)]]
        for m in done:
            R[k, m] = R[m, k] = float(b @ R[idx, m])

    J = len(model.indicator_names)
    ind_pos = {i: j for j, i in enumerate(model.indicator_names)}
    sigma = np.zeros((J, J))
    a = np.zeros(J)
    rows = []
    for c in model.constructs:
        block = [ind_pos[i] for i in c.indicator_names]
        if c.mode is Mode.REFLECTIVE:
            lv = np.array([lam[i] for i in c.indicator_names])
            if np.any(np.abs(lv) >= 1) or np.any(lv == 0):
                raise OptionError(f"Loadings of {c.name!r} must be non-zero and between -1 "
                                  "and 1.")
            sigma[np.ix_(block, block)] = np.outer(lv, lv)
            a[block] = lv
            wv = np.full(len(block), np.nan)
        else:
            Sbb = np.full((len(block), len(block)), indicator_correlation)
            np.fill_diagonal(Sbb, 1.0)
            wv = np.array([w_given[i] for i in c.indicator_names])
            wv = wv / np.sqrt(wv @ Sbb @ wv)
            sigma[np.ix_(block, block)] = Sbb
            a[block] = Sbb @ wv
        rows += [(c.name, i, a[j], wv[t]) for t, (i, j) in
                 enumerate(zip(c.indicator_names, block, strict=True))]
    owner = np.array([pos[model.construct_of[i]] for i in model.indicator_names])
    between = np.outer(a, a) * R[np.ix_(owner, owner)]
    same = owner[:, None] == owner[None, :]
    sigma = np.where(same, sigma, between)
    np.fill_diagonal(sigma, 1.0)
    if np.linalg.eigvalsh(sigma).min() <= 1e-10:
        raise OptionError("The population indicator correlation matrix is not positive "
                          "definite; lower the path coefficients, loadings or correlations.")
    return Population(
        model=model,
        paths=pd.DataFrame([(p.source, p.target, beta[(p.source, p.target)])
                            for p in model.paths], columns=["source", "target", "value"]),
        outer=pd.DataFrame(rows, columns=["construct", "indicator", "loading", "weight"]),
        construct_correlations=pd.DataFrame(R, index=list(names), columns=list(names)),
        sigma=pd.DataFrame(sigma, index=list(model.indicator_names),
                           columns=list(model.indicator_names)),
        r_squared=pd.Series(r2, name="r_squared"),
    )


def _exact(z: FloatArray) -> FloatArray:
    """Rows whose sample mean is 0 and sample covariance (N - 1) is the identity."""
    z = z - z.mean(axis=0)
    chol = np.linalg.cholesky(np.cov(z, rowvar=False))
    return np.linalg.solve(chol, z.T).T


def simulate(
    model: Model,
    n: int,
    *,
    seed: int | np.random.Generator | None = None,
    exact: bool = False,
    on_scale: bool = False,
    **population_args: object,
) -> pd.DataFrame:
    """Draw ``n`` respondents from :func:`population` ``(model, **population_args)``.

    Parameters
    ----------
    n : number of rows.
    seed : seed or generator; the same seed gives the same data.
    exact : make the sample correlation matrix equal the population's exactly (for
        recovery tests of consistent estimators).
    on_scale : map each standardised indicator to the spec's item scale (mean at 70% of the
        range, SD a sixth of it, rounded to integers and clipped) as survey data look.

    Raises
    ------
    OptionError
        For an invalid ``n``, a model without ``scale`` when ``on_scale=True``, or invalid
        population values.
    """
    if not isinstance(n, int | np.integer) or isinstance(n, bool) or n < 2:
        raise OptionError(f"n={n!r} must be an integer of at least 2.")
    pop = population(model, **population_args)  # type: ignore[arg-type]
    J = len(model.indicator_names)
    if exact and n <= J:
        raise OptionError(f"exact=True needs more rows than indicators (n > {J}).")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    z = rng.standard_normal((int(n), J))
    if exact:
        z = _exact(z)
    x = z @ np.linalg.cholesky(pop.sigma.to_numpy()).T
    if on_scale:
        if model.scale is None:
            raise OptionError(f"on_scale=True needs a 'scale:' in model {model.name!r}.")
        lo, hi = model.scale
        x = np.clip(np.rint(lo + 0.7 * (hi - lo) + x * (hi - lo) / 6), lo, hi)
    return pd.DataFrame(x, columns=list(model.indicator_names))
