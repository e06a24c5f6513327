"""Monte Carlo study: bias, RMSE and bootstrap interval coverage of PLS, PLSc and ML (ACSI).

Usage (from the repository root, in csisem's environment)::

    python benchmarks/monte_carlo.py                 # 500 replications of n = 250
    python benchmarks/monte_carlo.py --quick         # 8 replications, a smoke test
                                                     # (writes monte_carlo_quick*)
    python benchmarks/monte_carlo.py --from-results  # rebuild the report from the CSVs

Design
------
Population. The ACSI model (``specs/acsi.yaml``: 6 constructs, 14 indicators, 9 paths),
every construct a common factor, drawn by :func:`csisem.datasets.simulate.simulate`: a
standardised multivariate normal population (every construct and indicator has variance 1),
continuous indicators, the item scale removed (``dataclasses.replace(model, scale=None)``).
Items on the 1-10 scale (rounded and clipped) would change the population covariance matrix,
and then no estimator would target the values below. Path coefficients are stylised after
the national ACSI estimates (Fornell et al. 1996): perceived quality dominates, the direct
effects of expectations are small, complaints have a small negative effect on loyalty.
Loadings mix 0.60-0.90 (price tolerance, LOY2, is the weakest item, as in ACSI data).

The single indicator of COMP. All three estimators equate a one-indicator construct with its
indicator: PLS and PLSc give it weight and loading 1 (PLSc takes its reliability to be 1),
and ML (lavaan's default, which csisem follows) fixes its error variance to 0. The population
therefore measures COMP by COMP1 with loading 0.999 (``population()`` needs a loading below
1). The targets are computed exactly for the model the estimators fit, with COMP1 in place
of COMP (its correlations with the other constructs are 0.999 times COMP's), so they are the
values every consistent estimator converges to; they differ from the nominal population
paths by at most 0.001 (ACSI->COMP: -0.2997 instead of -0.30). COMP1's loading is 1 by
construction for all three methods and is left out.

Estimates compared. PLS and PLSc: the standardised paths and loadings of ``csisem.fit``.
ML: the completely standardised solution (``std_all``, lavaan's ``std.all``) of
``csisem.fit(method="ml")`` (marker-indicator identification). Every target is a standardised
population value, the same for all three methods.

Intervals (95%).

- PLS and PLSc: the bootstrap of ``csisem.fit(..., bootstrap=B)`` (``--boot``, default 1000
  resamples): percentile (``ci_lower``/``ci_upper``) and BCa (``bca_lower``/``bca_upper``,
  acceleration from the leave-one-out jackknife) of ``result.bootstrap.tables``.
- ML: csisem's CB-SEM bootstrap (``csisem.fit(method="ml", bootstrap=B_ml, seed=...)``, each
  resample refitted by Fisher scoring from the full-sample estimates). It bootstraps the raw
  (marker-metric) parameters; each draw is converted to the standardised solution with the
  model-implied variances (as ``std_all``), and the percentile and BCa intervals of those
  draws are taken with csisem's own :func:`~csisem.estimation.bootstrap.summarise_draws` (the
  code PLS uses). A leave-one-out jackknife for the BCa acceleration would cost n = 250 more
  refits per replication, so the acceleration uses the empirical influence values instead
  (the infinitesimal jackknife, Efron 1987): ``I^-1 s_i`` with ``s_i`` the case-wise scores and
  ``I`` the expected information, carried to the standardised parameters by the numerical
  Jacobian (on test data it matches the leave-one-out jackknife's acceleration to ~0.001).
  The CB-SEM bootstrap refits cost ~30 ms each on the 2-core machine of record (more when it
  is shared), so 1000 resamples in each of 500 replications would take 2-4 hours; the ML
  bootstrap uses ``--ml-boot`` resamples (default 200) in ``--ml-boot-reps`` evenly spaced
  replications (default 200 of 500), and the report says so. The Wald interval of
  the standardised estimates (delta method, expected-information covariance matrix, as
  lavaan's ``standardizedSolution()``) is a third column for ML, in every replication.

A replication counts for a method when the fit returns estimates (ML: converged); inadmissible
ML solutions (Heywood cases) are kept, counted and reported. Warnings are counted, not shown.

Seeds. ``SeedSequence(--seed).spawn(--reps)`` gives replication r its own child, which spawns
the seeds of its data, its PLS, PLSc and ML bootstraps; results do not depend on ``--jobs``.
Replications run in ``--jobs`` worker processes (joblib/loky), each with one BLAS thread.

Outputs (``benchmarks/results/``): ``monte_carlo.csv`` (one row per method x parameter:
truth, mean, bias, rel_bias, rmse, coverage...), ``monte_carlo_replications.csv`` (every
estimate and whether each interval covered the target), ``monte_carlo_status.csv`` (per
replication and method: converged, admissible, valid resamples, seconds),
``monte_carlo_run.csv`` (settings, machine, wall time), ``monte_carlo.md`` (the report),
``monte_carlo_bias.png`` and ``monte_carlo_coverage.png``.

Definitions. For a parameter with target ``theta`` and estimates ``t_1..t_R``: bias =
mean(t) - theta; relative bias = bias / theta x 100 (a positive value means the estimate is
on average larger in magnitude than the target, also for negative paths); RMSE =
sqrt(mean((t - theta)^2)); coverage = share of intervals with lower <= theta <= upper; Monte
Carlo standard errors: sd(t)/sqrt(R) for the bias, sqrt(c (1 - c) / R) for a coverage c.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one BLAS thread per worker: the workers are the cores

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import datetime as dt  # noqa: E402
import platform  # noqa: E402
import shlex  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import csisem  # noqa: E402
from csisem.datasets.simulate import population, simulate  # noqa: E402
from csisem.estimation.bootstrap import summarise_draws  # noqa: E402
from csisem.models.catalogue import load_model  # noqa: E402

OUT = ROOT / "benchmarks" / "results"
METHODS = ("pls", "plsc", "ml")
LEVEL = 0.95

# Population (standardised). Paths stylised after Fornell et al. (1996).
PATHS = {
    "CUEX->PERQ": 0.50,
    "CUEX->PERV": 0.15,
    "PERQ->PERV": 0.60,
    "CUEX->ACSI": 0.10,
    "PERQ->ACSI": 0.50,
    "PERV->ACSI": 0.30,
    "ACSI->COMP": -0.30,
    "ACSI->LOY": 0.60,
    "COMP->LOY": -0.15,
}
LOADINGS = {
    "CUEX1": 0.70, "CUEX2": 0.75, "CUEX3": 0.65,
    "PERQ1": 0.85, "PERQ2": 0.80, "PERQ3": 0.75,
    "PERV1": 0.85, "PERV2": 0.75,
    "ACSI1": 0.90, "ACSI2": 0.80, "ACSI3": 0.85,
    "COMP1": 0.999,
    "LOY1": 0.85, "LOY2": 0.60,
}


# ---------------------------------------------------------------------------------------------
# the model and the targets
# ---------------------------------------------------------------------------------------------
def study_model() -> Any:
    """The ACSI model without its item scale (the data are standardised and continuous)."""
    return dataclasses.replace(load_model("acsi"), scale=None)


def targets(model: Any) -> pd.DataFrame:
    """Target value of every path and loading (kind, parameter, source, target, truth, nominal).

    Single-indicator constructs are replaced by their indicator (correlations scaled by its
    loading); each endogenous construct's paths are then the population regression on its
    predictors, which is what all three estimators converge to (see the module docstring).
    """
    pop = population(model, paths=PATHS, loadings=LOADINGS)
    R = pop.construct_correlations.copy()
    loading = dict(zip(pop.outer["indicator"], pop.outer["loading"], strict=True))
    single = {c.name: loading[c.indicator_names[0]] for c in model.constructs
              if len(c.indicator_names) == 1}
    for c, lam in single.items():
        R.loc[c, :] *= lam
        R.loc[:, c] *= lam
        R.loc[c, c] = 1.0
    rows = []
    nominal = {(s, t): float(v) for s, t, v in pop.paths.itertuples(index=False)}
    for t in model.topological_order:
        pred = list(model.predecessors(t))
        if not pred:
            continue
        b = np.linalg.solve(R.loc[pred, pred].to_numpy(), R.loc[pred, t].to_numpy())
        for s, v in zip(pred, b, strict=True):
            rows.append(("path", f"{s}->{t}", s, t, float(v), nominal[(s, t)]))
    order = {f"{p.source}->{p.target}": k for k, p in enumerate(model.paths)}
    rows.sort(key=lambda r: order[r[1]])
    for c in model.constructs:
        if c.name in single:
            continue
        for i in c.indicator_names:
            rows.append(("loading", f"{c.name}=~{i}", c.name, i, loading[i], loading[i]))
    return pd.DataFrame(rows, columns=["kind", "parameter", "source", "target", "truth",
                                       "nominal"])


# ---------------------------------------------------------------------------------------------
# one replication
# ---------------------------------------------------------------------------------------------
def _covers(lo: np.ndarray, hi: np.ndarray, truth: np.ndarray) -> np.ndarray:
    out = np.where((lo <= truth) & (truth <= hi), 1.0, 0.0)
    return np.where(np.isfinite(lo) & np.isfinite(hi), out, np.nan)


def _keyed(table: pd.DataFrame, kind: str) -> pd.DataFrame:
    """A PLS table (paths or loadings) indexed by the study's parameter names."""
    if kind == "path":
        key = table["source"] + "->" + table["target"]
    else:
        key = table["construct"] + "=~" + table["indicator"]
    return table.set_index(key)


def _pls_rows(model: Any, data: pd.DataFrame, method: str, boot: int, seed: int,
              tg: pd.DataFrame) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    res = csisem.fit(model, data, method=method, bootstrap=boot, seed=seed)
    est, pct_lo, pct_hi, bca_lo, bca_hi = [], [], [], [], []
    for kind, name in (("path", "paths"), ("loading", "loadings")):
        keys = tg.loc[tg["kind"] == kind, "parameter"]
        point = _keyed(getattr(res, name), kind).loc[keys]
        b = _keyed(res.bootstrap.tables[name], kind).loc[keys]
        est.append(point["estimate"].to_numpy(float))
        pct_lo.append(b["ci_lower"].to_numpy(float))
        pct_hi.append(b["ci_upper"].to_numpy(float))
        bca_lo.append(b["bca_lower"].to_numpy(float))
        bca_hi.append(b["bca_upper"].to_numpy(float))
    out = {"estimate": np.concatenate(est), "pct": (np.concatenate(pct_lo),
                                                    np.concatenate(pct_hi)),
           "bca": (np.concatenate(bca_lo), np.concatenate(bca_hi))}
    status = {"converged": bool(res.converged), "admissible": True,
              "boot_valid": int(res.bootstrap.n_valid)}
    return out, status


class _Standardiser:
    """theta (raw ML parameters) -> the standardised paths and loadings of the study."""

    def __init__(self, state: Any, tg: pd.DataFrame) -> None:
        spec = state.spec
        t = spec.table
        t = t[t["group"] == 0]
        self.kernel = state.kernel
        rows = []
        for kind, s, g in zip(tg["kind"], tg["source"], tg["target"], strict=True):
            if kind == "path":
                hit = t[(t["kind"] == "path") & (t["lhs"] == g) & (t["rhs"] == s)]
            else:
                hit = t[(t["kind"] == "loading") & (t["lhs"] == s) & (t["rhs"] == g)]
            if len(hit) != 1:
                raise RuntimeError(f"parameter {s}, {g} not found in the CB-SEM table")
            rows.append(hit.iloc[0])
        self.free = np.array([int(r["free"]) for r in rows])
        self.fixed = np.array([float(r["value"]) if int(r["free"]) < 0 else np.nan
                               for r in rows])
        self.row = np.array([int(r["row"]) for r in rows])
        self.col = np.array([int(r["col"]) for r in rows])

    def __call__(self, theta: np.ndarray) -> np.ndarray:
        imp = self.kernel.implied(theta)[0]
        var = np.diag(imp.sigma_all)
        value = np.where(self.free >= 0, theta[np.clip(self.free, 0, None)], self.fixed)
        return value * np.sqrt(var[self.col] / var[self.row])

    def jacobian(self, theta: np.ndarray) -> np.ndarray:
        """Central differences (P x K)."""
        K = len(theta)
        J = np.zeros((len(self.free), K))
        for k in range(K):
            h = 1e-6 * max(1.0, abs(theta[k]))
            up, down = theta.copy(), theta.copy()
            up[k] += h
            down[k] -= h
            J[:, k] = (self(up) - self(down)) / (2 * h)
        return J


def _ml_rows(model: Any, data: pd.DataFrame, boot: int, seed: int,
             tg: pd.DataFrame) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    res = csisem.fit(model, data, method="ml", bootstrap=boot, seed=seed)
    state = res.state
    std = _Standardiser(state, tg)
    theta = state.theta
    est = std(theta)
    # check against csisem's own std_all
    own = pd.concat([_keyed(res.paths, "path"), _keyed(res.loadings, "loading")])
    if not np.allclose(own.loc[tg["parameter"], "std_all"].to_numpy(float), est, atol=1e-8):
        raise RuntimeError("standardised ML estimates disagree with std_all")
    J = std.jacobian(theta)
    # Wald (delta method) with the expected-information covariance matrix of the fit
    V = res.vcov.to_numpy()
    se = np.sqrt(np.clip(np.einsum("pk,kl,pl->p", J, V, J), 0, None))
    z = 1.959963984540054
    wald = (est - z * se, est + z * se)
    # bootstrap draws -> standardised draws; percentile and BCa as csisem computes them
    if res.bootstrap is None:
        nan = np.full(len(est), np.nan)
        return ({"estimate": est, "pct": (nan, nan), "bca": (nan, nan), "wald": wald},
                {"converged": bool(res.converged), "admissible": bool(res.admissible),
                 "boot_valid": 0})
    draws = res.bootstrap.draws
    D = np.array([std(th) for th in draws]) if len(draws) else np.empty((0, len(est)))
    # BCa acceleration from the empirical influence values (infinitesimal jackknife):
    # pseudo leave-one-out values est - IF_i / (n - 1), IF_i = J I^-1 s_i
    scores = state.objective.casewise_scores(theta)
    info = state.objective.expected_information(theta)
    influence = scores @ np.linalg.inv(info) @ J.T
    n = scores.shape[0]
    jack = est[None, :] - influence / (n - 1)
    keys = pd.DataFrame({"parameter": tg["parameter"].to_numpy()})
    table = summarise_draws(keys, est, D, jack, ci_level=LEVEL, n_obs=n)
    out = {"estimate": est,
           "pct": (table["ci_lower"].to_numpy(float), table["ci_upper"].to_numpy(float)),
           "bca": (table["bca_lower"].to_numpy(float), table["bca_upper"].to_numpy(float)),
           "wald": wald}
    status = {"converged": bool(res.converged), "admissible": bool(res.admissible),
              "boot_valid": int(res.bootstrap.n_valid)}
    return out, status


def ml_boot_in(r: int, reps: int, ml_boot_reps: int) -> bool:
    """Whether replication ``r`` runs the ML bootstrap: ``ml_boot_reps`` of the ``reps``
    replications, evenly spaced (2 in every 5 for 200 of 500)."""
    return (r * ml_boot_reps) // reps != ((r + 1) * ml_boot_reps) // reps


def replicate(r: int, seq: np.random.SeedSequence, n: int, boot: int, ml_boot: int,
              tg: pd.DataFrame) -> tuple[list[tuple[Any, ...]], list[dict[str, Any]]]:
    """Draw replication ``r``'s data and fit the three methods; rows for the long CSV.
    ``ml_boot`` 0: ML point estimates and Wald intervals only."""
    model = study_model()
    data_seed, pls_seed, plsc_seed, ml_seed = (int(c.generate_state(1)[0])
                                               for c in seq.spawn(4))
    data = simulate(model, n, seed=data_seed, paths=PATHS, loadings=LOADINGS)
    truth = tg["truth"].to_numpy()
    rows: list[tuple[Any, ...]] = []
    status: list[dict[str, Any]] = []
    for method, seed in zip(METHODS, (pls_seed, plsc_seed, ml_seed), strict=True):
        t0 = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                if method == "ml":
                    out, st = _ml_rows(model, data, ml_boot, seed, tg)
                else:
                    out, st = _pls_rows(model, data, method, boot, seed, tg)
                ok = bool(st["converged"])
                error = ""
            except Exception as exc:  # a failed fit is a result of the study, not a crash
                out, st, ok, error = None, {}, False, f"{type(exc).__name__}: {exc}"[:200]
        status.append({"rep": r, "method": method, "ok": ok,
                       "converged": st.get("converged", False),
                       "admissible": st.get("admissible", False),
                       "boot_valid": st.get("boot_valid", 0),
                       "n_warnings": len(caught), "seconds": time.perf_counter() - t0,
                       "error": error,
                       "first_warning": (f"{caught[0].category.__name__}: {caught[0].message}"
                                         [:240] if caught else "")})
        if not ok or out is None:
            continue
        cover = {k: _covers(*out[k], truth) for k in ("pct", "bca", "wald") if k in out}
        width = {k: out[k][1] - out[k][0] for k in cover}
        nan = np.full(len(truth), np.nan)
        for p, param in enumerate(tg["parameter"]):
            rows.append((r, method, param, out["estimate"][p],
                         *(cover.get(k, nan)[p] for k in ("pct", "bca", "wald")),
                         *(width.get(k, nan)[p] for k in ("pct", "bca", "wald"))))
    return rows, status


REP_COLUMNS = ["rep", "method", "parameter", "estimate", "cover_percentile", "cover_bca",
               "cover_wald", "width_percentile", "width_bca", "width_wald"]


# ---------------------------------------------------------------------------------------------
# summaries
# ---------------------------------------------------------------------------------------------
def summarise(reps: pd.DataFrame, tg: pd.DataFrame) -> pd.DataFrame:
    """One row per method x parameter (the columns of monte_carlo.csv)."""
    out = []
    for method in METHODS:
        sub = reps[reps["method"] == method]
        for row in tg.itertuples():
            s = sub[sub["parameter"] == row.parameter]
            e = s["estimate"].to_numpy(float)
            R = len(e)
            mean = e.mean() if R else np.nan
            bias = mean - row.truth
            sd = e.std(ddof=1) if R > 1 else np.nan
            rec = {"method": method, "kind": row.kind, "parameter": row.parameter,
                   "truth": row.truth, "mean": mean, "bias": bias,
                   "rel_bias": 100 * bias / row.truth,
                   "mcse_rel_bias": 100 * sd / np.sqrt(R) / abs(row.truth) if R else np.nan,
                   "sd": sd, "rmse": np.sqrt(np.mean((e - row.truth) ** 2)) if R else np.nan}
            for k in ("percentile", "bca", "wald"):
                c = s[f"cover_{k}"].dropna()
                rec[f"coverage_{k}"] = c.mean() if len(c) else np.nan
                w = s[f"width_{k}"].dropna()
                rec[f"width_{k}"] = w.mean() if len(w) else np.nan
            rec["n_valid"] = R
            rec["n_boot_coverage"] = int(s["cover_percentile"].notna().sum())
            out.append(rec)
    cols = ["method", "kind", "parameter", "truth", "mean", "bias", "rel_bias",
            "mcse_rel_bias", "sd", "rmse", "coverage_percentile", "coverage_bca",
            "coverage_wald", "width_percentile", "width_bca", "width_wald", "n_valid",
            "n_boot_coverage"]
    return pd.DataFrame(out)[cols]


def headline(table: pd.DataFrame) -> pd.DataFrame:
    """Per method: average |relative bias| (paths, loadings, all), average RMSE, coverage."""
    rows = []
    for method in METHODS:
        t = table[table["method"] == method]
        rec: dict[str, Any] = {"method": method}
        for label, sel in (("paths", t["kind"] == "path"), ("loadings", t["kind"] == "loading"),
                           ("all", slice(None))):
            rec[f"mean_abs_rel_bias_{label}"] = t.loc[sel, "rel_bias"].abs().mean()
        rec["mean_rel_bias_all"] = t["rel_bias"].mean()
        rec["max_abs_rel_bias"] = t["rel_bias"].abs().max()
        rec["max_abs_rel_bias_parameter"] = t.loc[t["rel_bias"].abs().idxmax(), "parameter"]
        rec["mean_rmse_paths"] = t.loc[t["kind"] == "path", "rmse"].mean()
        rec["mean_rmse_loadings"] = t.loc[t["kind"] == "loading", "rmse"].mean()
        for k in ("percentile", "bca", "wald"):
            c = t[f"coverage_{k}"]
            rec[f"coverage_{k}_mean"] = c.mean()
            rec[f"coverage_{k}_min"] = c.min()
            rec[f"coverage_{k}_max"] = c.max()
        rows.append(rec)
    return pd.DataFrame(rows)


def _pct(x: float, d: int = 1) -> str:
    return "–" if not np.isfinite(x) else f"{100 * x:.{d}f}%"


def _num(x: float, d: int = 3) -> str:
    return "–" if not np.isfinite(x) else f"{x:.{d}f}"


def _md_table(df: pd.DataFrame) -> str:
    lines = ["| " + " | ".join(df.columns) + " |",
             "|" + "|".join("---" if k == 0 else "---:" for k in range(len(df.columns))) + "|"]
    for row in df.itertuples(index=False):
        lines.append("| " + " | ".join(str(v) for v in row) + " |")
    return "\n".join(lines)


def plots(table: pd.DataFrame, tg: pd.DataFrame, meta: dict[str, str], stem: str) -> None:
    """``{stem}_bias.png`` (relative bias by method) and ``{stem}_coverage.png``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colours = {"pls": "#d95f02", "plsc": "#1b9e77", "ml": "#7570b3"}
    labels = {"pls": "PLS", "plsc": "PLSc", "ml": "ML"}
    params = list(tg["parameter"])
    y = np.arange(len(params))
    setting = (f"ACSI, n = {meta['n']}, {meta['reps']} replications (seed {meta['seed']})")

    def rows(m: str) -> pd.DataFrame:
        return table[table["method"] == m].set_index("parameter").loc[params]

    # relative bias: all three methods, then PLSc and ML on a finer scale
    fig, axes = plt.subplots(1, 2, figsize=(12, 9), sharey=True, constrained_layout=True,
                             gridspec_kw={"width_ratios": [1, 1]})
    for ax, methods in zip(axes, (METHODS, ("plsc", "ml")), strict=True):
        h = 0.8 / len(methods)
        for k, m in enumerate(methods):
            t = rows(m)
            ax.barh(y + (k - (len(methods) - 1) / 2) * h, t["rel_bias"], height=h,
                    color=colours[m], label=labels[m], xerr=2 * t["mcse_rel_bias"],
                    error_kw={"elinewidth": 0.7, "ecolor": "0.3", "capsize": 0})
        ax.axvline(0, color="black", lw=0.8)
        for v in (-2, 2):
            ax.axvline(v, color="0.4", lw=0.8, ls="--")
        ax.set_xlabel("relative bias, % of the population value")
        ax.grid(axis="x", color="0.9")
        ax.legend(loc="lower right")
    axes[0].set_title("PLS, PLSc and ML", fontsize=10)
    axes[1].set_title("PLSc and ML (finer scale)", fontsize=10)
    axes[0].set_yticks(y, [f"{p}  ({v:+.3f})" for p, v in
                           zip(params, tg["truth"], strict=True)], fontsize=8)
    axes[0].invert_yaxis()
    fig.suptitle("Relative bias of the estimates: (mean estimate − target) / target\n"
                 f"{setting}; whiskers ±2 Monte Carlo SE; dashed lines ±2%", fontsize=10)
    fig.savefig(OUT / f"{stem}_bias.png", dpi=120)
    plt.close(fig)

    # coverage; values far below the band (PLS) are drawn at the left edge with their value
    kinds = [("coverage_percentile", "percentile"), ("coverage_bca", "BCa"),
             ("coverage_wald", "Wald, delta method (ML only)")]
    consistent = table[table["method"] != "pls"][[c for c, _ in kinds]]
    left = float(min(80.0, np.floor(100 * np.nanmin(consistent.to_numpy()) / 5) * 5 - 5))
    fig, axes = plt.subplots(1, 3, figsize=(12, 8.5), sharey=True, constrained_layout=True)
    for ax, (col, name) in zip(axes, kinds, strict=True):
        ax.axvspan(92, 97, color="0.88", zorder=0)
        ax.axvline(95, color="black", lw=0.8)
        for k, m in enumerate(METHODS):
            v = 100 * rows(m)[col].to_numpy(float)
            if not np.isfinite(v).any():
                continue
            yy = y + (k - 1) * 0.22
            inside = v >= left
            ax.plot(v[inside], yy[inside], "o", ms=4.5, color=colours[m], label=labels[m])
            for vv, yv in zip(v[~inside & np.isfinite(v)], yy[~inside & np.isfinite(v)],
                              strict=True):
                ax.plot(left + 0.3, yv, "<", ms=5, color=colours[m])
                ax.annotate(f"{vv:.0f}", (left + 0.9, yv), fontsize=6.5, va="center",
                            color=colours[m])
        ax.set_xlim(left, 100.5)
        ax.set_title(f"{name} interval", fontsize=10)
        ax.set_xlabel("coverage of the 95% interval, %")
        ax.grid(axis="x", color="0.92")
    axes[0].set_yticks(y, params, fontsize=8)
    axes[0].invert_yaxis()
    axes[0].legend(loc="lower right", fontsize=8)
    fig.suptitle("Coverage of 95% intervals (grey band 92-97%; ◀ n: coverage n% off the "
                 f"scale)\n{setting}; bootstrap: PLS and PLSc {meta['boot']} resamples in "
                 f"every replication, ML {meta['ml_boot']} resamples in "
                 f"{meta['ml_boot_reps']} replications", fontsize=10)
    fig.savefig(OUT / f"{stem}_coverage.png", dpi=120)
    plt.close(fig)


def _blank(col: pd.Series) -> pd.Series:
    """Text column with missing values as ''."""
    return col.astype(object).where(col.notna(), "").astype(str)


def report(table: pd.DataFrame, status: pd.DataFrame, tg: pd.DataFrame,
           meta: dict[str, str], reps_table: pd.DataFrame) -> str:
    head = headline(table)
    reps = int(meta["reps"])
    mc_cov = np.sqrt(0.95 * 0.05 / reps)
    lines = [
        "# Monte Carlo study: PLS, PLSc and ML on the ACSI model",
        "",
        "Generated by `benchmarks/monte_carlo.py`; do not edit by hand — re-run it instead "
        "(the design is described in the script's docstring).",
        "",
        f"- Command: `{meta['command']}` (from the repository root, csisem's virtualenv)",
        f"- Date: {meta['date']}; wall time {float(meta['wall_seconds']) / 60:.1f} min with "
        f"{meta['jobs']} worker processes",
        f"- Machine: {meta['machine']}",
        f"- Software: {meta['software']}",
        f"- Replications: {reps} of n = {meta['n']} (seed {meta['seed']}); 95% intervals; "
        f"bootstrap resamples per replication: **PLS and PLSc {meta['boot']} (all {reps} "
        f"replications); ML {meta['ml_boot']}, in {meta['ml_boot_reps']} of the {reps} "
        "replications**; ML Wald intervals in all",
        "",
    ]
    ml_boot, ml_reps = int(meta["ml_boot"]), int(meta["ml_boot_reps"])
    if ml_boot < int(meta["boot"]) or ml_reps < reps:
        ms = float(meta["ml_ms_per_resample"])
        hours = ms * int(meta["boot"]) * reps / 3.6e6 / int(meta["jobs"])
        lines += [
            f"**The ML bootstrap is smaller: {ml_boot} resamples in {ml_reps} replications "
            f"(evenly spaced), not {meta['boot']} in {reps}.** csisem's CB-SEM bootstrap "
            f"refits every resample by Fisher scoring; in this run it cost {ms:.0f} ms per "
            "resample (median over replications, on a shared machine), so "
            f"{meta['boot']} resamples in each of {reps} replications would take about "
            f"{hours:.1f} hours on {meta['jobs']} cores, against a budget of half an hour. "
            f"ML bootstrap coverage is therefore estimated from {ml_reps} replications (Monte "
            f"Carlo SE of a 95% coverage: {_pct(np.sqrt(0.95 * 0.05 / ml_reps))}), and with "
            f"{ml_boot} resamples each interval end is noisier (the 2.5% quantile rests on "
            f"~{0.025 * ml_boot:.0f} draws), which by itself tends to lower coverage a "
            "little. Point estimates (bias, RMSE) and the ML Wald interval (delta method, "
            f"as lavaan's `standardizedSolution()`) use all {reps} replications.",
            "",
        ]
    lines += [
        "## Population",
        "",
        "Standardised multivariate normal data (continuous indicators, no 1-10 rounding) from "
        "`csisem.datasets.simulate(model, n, paths=..., loadings=...)`, the ACSI spec with "
        "`scale=None`; every construct a common factor. COMP's single indicator COMP1 has "
        "loading 0.999, and all three estimators treat COMP as equal to COMP1; the targets "
        "are the population values of that model (they differ from the nominal paths by at "
        "most 0.001). COMP1's loading is 1 by construction and is not scored. ML estimates "
        "are the completely standardised solution (`std_all`).",
        "",
        _md_table(pd.DataFrame({
            "parameter": tg["parameter"],
            "nominal": [_num(v) for v in tg["nominal"]],
            "target": [_num(v, 4) for v in tg["truth"]]})),
        "",
        "## Headline",
        "",
        "Average |relative bias| is the mean over parameters of |mean estimate − target| / "
        "|target|. Coverage: mean [min, max] over the parameters of the share of "
        "replications whose 95% interval contains the target (Monte Carlo SE of a coverage "
        f"of 95% with {reps} replications: {_pct(mc_cov)}).",
        "",
    ]
    hl = pd.DataFrame({
        "method": [m.upper() if m != "plsc" else "PLSc" for m in head["method"]],
        "avg abs rel. bias (all)": [_pct(v / 100, 2) for v in head["mean_abs_rel_bias_all"]],
        "paths": [_pct(v / 100, 2) for v in head["mean_abs_rel_bias_paths"]],
        "loadings": [_pct(v / 100, 2) for v in head["mean_abs_rel_bias_loadings"]],
        "max abs rel. bias": [f"{_pct(v / 100, 1)} ({p})" for v, p in
                              zip(head["max_abs_rel_bias"], head["max_abs_rel_bias_parameter"],
                                  strict=True)],
        "avg RMSE paths": [_num(v) for v in head["mean_rmse_paths"]],
        "avg RMSE loadings": [_num(v) for v in head["mean_rmse_loadings"]],
    })
    lines += [_md_table(hl), ""]
    cov = pd.DataFrame({
        "method": hl["method"],
        **{f"{name} coverage": [f"{_pct(a)} [{_pct(b)}, {_pct(c)}]" if np.isfinite(a) else "–"
                                for a, b, c in zip(head[f"coverage_{k}_mean"],
                                                   head[f"coverage_{k}_min"],
                                                   head[f"coverage_{k}_max"], strict=True)]
           for k, name in (("percentile", "percentile"), ("bca", "BCa"),
                           ("wald", "Wald"))},
    })
    lines += [_md_table(cov), ""]
    ml = reps_table[(reps_table["method"] == "ml") & reps_table["cover_percentile"].notna()]
    if len(ml) and ml["rep"].nunique() < reps:
        by = ml.groupby("parameter")[["cover_percentile", "cover_bca", "cover_wald"]].mean()
        same = "; ".join(f"{name} {_pct(by[c].mean())} [{_pct(by[c].min())}, "
                         f"{_pct(by[c].max())}]" for c, name in
                         (("cover_percentile", "percentile"), ("cover_bca", "BCa"),
                          ("cover_wald", "Wald")))
        lines += [f"ML intervals in the same {ml['rep'].nunique()} replications (those with "
                  f"an ML bootstrap), like for like: {same}.", ""]
    # diagnostics
    st = status.groupby("method").agg(ok=("ok", "sum"), converged=("converged", "sum"),
                                      admissible=("admissible", "sum"),
                                      warnings=("n_warnings", "sum"),
                                      seconds=("seconds", "median")).reindex(list(METHODS))
    booted = status[status["boot_valid"] > 0].groupby("method")["boot_valid"].agg(
        ["count", "mean"]).reindex(list(METHODS))
    errors = status.assign(error=_blank(status["error"]))
    errors = errors.loc[errors["error"] != "", ["rep", "method", "error"]]
    lines += [
        "## Diagnostics",
        "",
        _md_table(pd.DataFrame({
            "method": hl["method"].to_numpy(),
            "replications used": [int(v) for v in st["ok"]],
            "converged": [int(v) for v in st["converged"]],
            "admissible (ML)": [int(v) if m == "ml" else "–" for m, v in
                                zip(METHODS, st["admissible"], strict=True)],
            "replications with a bootstrap": [int(v) for v in booted["count"].fillna(0)],
            "valid resamples (mean)": [_num(v, 1) for v in booted["mean"]],
            "warnings": [int(v) for v in st["warnings"]],
            "seconds per replication (median)": [_num(v, 2) for v in st["seconds"]],
        })),
        "",
    ]
    lines += ["Replications with an inadmissible solution (a Heywood case: a negative error "
              "variance in ML, a corrected loading above 1 in PLSc) are kept in every figure "
              "above.", ""]
    if "first_warning" in status:
        warned = status.assign(w=_blank(status["first_warning"]))
        warned = warned[warned["w"] != ""]
        if len(warned):
            lines += ["Warnings (the first of each replication):", ""]
            lines += [f"- replication {r.rep}, {r.method}: {r.w}" for r in
                      warned.head(12).itertuples()]
            lines += [""]
    if len(errors):
        lines += ["Failed fits (first 10):", ""]
        lines += [f"- replication {r.rep}, {r.method}: {r.error}"
                  for r in errors.head(10).itertuples()]
        lines += [""]
    lines += [
        "## Per parameter",
        "",
        "rel. bias ± its Monte Carlo SE; coverage of the 95% intervals; width: mean interval "
        "width.",
        "",
    ]
    for m in METHODS:
        t = table[table["method"] == m]
        name = {"pls": "PLS", "plsc": "PLSc", "ml": "ML"}[m]
        df = pd.DataFrame({
            "parameter": t["parameter"],
            "target": [_num(v, 4) for v in t["truth"]],
            "mean": [_num(v, 4) for v in t["mean"]],
            "bias": [_num(v, 4) for v in t["bias"]],
            "rel. bias": [f"{v:+.2f}% ± {s:.2f}" for v, s in
                          zip(t["rel_bias"], t["mcse_rel_bias"], strict=True)],
            "RMSE": [_num(v, 4) for v in t["rmse"]],
            "cov. pct": [_pct(v) for v in t["coverage_percentile"]],
            "cov. BCa": [_pct(v) for v in t["coverage_bca"]],
            "width pct": [_num(v) for v in t["width_percentile"]],
        })
        if m == "ml":
            df["cov. Wald"] = [_pct(v) for v in t["coverage_wald"]]
        df["n"] = t["n_valid"].to_numpy()
        df["n boot"] = t["n_boot_coverage"].to_numpy()
        lines += [f"### {name}", "", _md_table(df), ""]
    lines += [
        "## Files",
        "",
        "- `monte_carlo.csv`: the per-parameter table (method, kind, parameter, truth, mean, "
        "bias, rel_bias (%), mcse_rel_bias, sd, rmse, coverage_percentile, coverage_bca, "
        "coverage_wald, mean interval widths, n_valid, n_boot_coverage: the replications "
        "with a bootstrap)",
        "- `monte_carlo_replications.csv`: every estimate and whether each interval covered "
        "the target; `monte_carlo_status.csv`: per replication and method, convergence, "
        "admissibility, valid resamples, seconds; `monte_carlo_run.csv`: settings and machine",
        "- `monte_carlo_bias.png`, `monte_carlo_coverage.png`",
        "",
    ]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# run
# ---------------------------------------------------------------------------------------------
def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        load = " / ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        load = "n/a"
    return (f"{cpu}, {os.cpu_count()} logical cores, {platform.system()} "
            f"{platform.release()}; load average at start (1/5/15 min) {load} (shared machine)")


def _software() -> str:
    import joblib
    import scipy

    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "csisem"], cwd=ROOT,
                               capture_output=True, text=True, check=True).stdout.strip()
        rev = f"git {rev}" + (" + uncommitted changes in csisem/" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        rev = "git n/a"
    return (f"csisem {csisem.__version__} ({rev}), Python {platform.python_version()}, "
            f"numpy {np.__version__}, scipy {scipy.__version__}, pandas {pd.__version__}, "
            f"joblib {joblib.__version__}")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=500, help="replications (default 500)")
    ap.add_argument("--n", type=int, default=250, help="sample size (default 250)")
    ap.add_argument("--boot", type=int, default=1000,
                    help="PLS/PLSc bootstrap resamples per replication (default 1000)")
    ap.add_argument("--ml-boot", type=int, default=200,
                    help="ML (CB-SEM) bootstrap resamples per replication (default 200; see "
                         "the docstring for why fewer than --boot)")
    ap.add_argument("--ml-boot-reps", type=int, default=200,
                    help="replications (evenly spaced) that run the ML bootstrap (default "
                         "200); the others get ML estimates and Wald intervals only")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    ap.add_argument("--quick", action="store_true",
                    help="smoke test: 8 replications, 200 PLS and 50 ML resamples, written "
                         "to monte_carlo_quick*")
    ap.add_argument("--from-results", action="store_true",
                    help="rebuild monte_carlo.csv/.md/.png from the saved replications")
    args = ap.parse_args(argv)
    if args.quick:
        args.reps, args.boot, args.ml_boot, args.ml_boot_reps = 8, 200, 50, 4
    args.ml_boot_reps = min(args.ml_boot_reps, args.reps)
    stem = "monte_carlo_quick" if args.quick else "monte_carlo"
    OUT.mkdir(parents=True, exist_ok=True)
    tg = targets(study_model())
    files = {k: OUT / f"{stem}{suffix}" for k, suffix in
             (("reps", "_replications.csv"), ("status", "_status.csv"), ("run", "_run.csv"),
              ("table", ".csv"), ("md", ".md"))}

    if args.from_results:
        reps = pd.read_csv(files["reps"])
        status = pd.read_csv(files["status"])
        meta = pd.read_csv(files["run"], dtype=str).set_index("key")["value"].to_dict()
    else:
        argv_used = sys.argv[1:] if argv is None else argv
        meta = {"command": shlex.join(["python", "benchmarks/monte_carlo.py", *argv_used]),
                "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
                "machine": _machine(), "software": _software(), "reps": str(args.reps),
                "n": str(args.n), "boot": str(args.boot), "ml_boot": str(args.ml_boot),
                "ml_boot_reps": str(args.ml_boot_reps), "seed": str(args.seed),
                "jobs": str(args.jobs)}
        from joblib import Parallel, delayed

        seqs = np.random.SeedSequence(args.seed).spawn(args.reps)
        t0 = time.perf_counter()
        all_rows: list[tuple[Any, ...]] = []
        all_status: list[dict[str, Any]] = []
        tasks = (delayed(replicate)(r, seqs[r], args.n, args.boot,
                                    args.ml_boot if ml_boot_in(r, args.reps, args.ml_boot_reps)
                                    else 0, tg)
                 for r in range(args.reps))
        results = Parallel(n_jobs=args.jobs, backend="loky", return_as="generator_unordered",
                           batch_size=1)(tasks)
        for done, (rows, st) in enumerate(results, start=1):
            all_rows += rows
            all_status += st
            if done % 50 == 0:  # a partial record, in case the run is stopped
                pd.DataFrame(all_rows, columns=REP_COLUMNS).to_csv(
                    files["reps"], index=False, float_format="%.6g")
                pd.DataFrame(all_status).to_csv(files["status"], index=False,
                                                float_format="%.4g")
            if done % 10 == 0 or done == args.reps:
                el = time.perf_counter() - t0
                print(f"[{dt.datetime.now():%H:%M:%S}] {done}/{args.reps} replications, "
                      f"{el / 60:.1f} min, ETA {el / done * (args.reps - done) / 60:.1f} min",
                      flush=True)
        wall = time.perf_counter() - t0
        reps = pd.DataFrame(all_rows, columns=REP_COLUMNS).sort_values(
            ["rep", "method"], kind="stable").reset_index(drop=True)
        status = pd.DataFrame(all_status).sort_values(["rep", "method"]).reset_index(drop=True)
        ml = status[(status["method"] == "ml") & status["ok"]]
        meta["wall_seconds"] = f"{wall:.1f}"
        # ML bootstrap cost per resample: median ML time with the bootstrap minus without it
        with_boot = ml.loc[ml["boot_valid"] > 0, "seconds"].median()
        without = ml.loc[ml["boot_valid"] == 0, "seconds"].median()
        extra = with_boot - (without if np.isfinite(without) else 0.0)
        meta["ml_ms_per_resample"] = f"{1000 * extra / args.ml_boot:.1f}"
        reps.to_csv(files["reps"], index=False, float_format="%.6g")
        status.to_csv(files["status"], index=False, float_format="%.4g")
        pd.DataFrame({"key": list(meta), "value": list(meta.values())}).to_csv(
            files["run"], index=False)

    table = summarise(reps, tg)
    table.to_csv(files["table"], index=False, float_format="%.6g")
    files["md"].write_text(report(table, status, tg, meta, reps), encoding="utf-8")
    plots(table, tg, meta, stem)
    head = headline(table)
    with pd.option_context("display.width", 200, "display.max_columns", 30):
        print(head.T.to_string())
    print(f"Wrote {', '.join(str(f.relative_to(ROOT)) for f in files.values())}"
          + f" and {stem}_bias.png, {stem}_coverage.png")


if __name__ == "__main__":
    main()
